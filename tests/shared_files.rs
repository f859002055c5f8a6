//! Shared files through the binary: the user's `.claude/settings.json` and `AGENTS.md` are
//! byte-identical after `apply` then `uninstall`, whatever their layout.

use crate::support::Test;

/// A project with one behavior (a hook merged into `.claude/settings.json`) for Claude Code.
fn project() -> Test {
    let t = Test::new();
    let (code, _, err) = t.run(&["new", "behavior", "guard"]);
    assert_eq!(code, 0, "{err}");
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
    t
}

#[test]
fn a_users_settings_json_is_restored_byte_for_byte_by_uninstall() {
    for user in [
        "{\"permissions\": {\"allow\": [\"Bash(ls:*)\"]}}",
        "{\n    \"model\": \"opus\"\n}\n",
        "{\r\n\t\"model\": \"opus\", // mine\r\n\t\"hooks\": {\"Stop\": []},\r\n}\r\n",
    ] {
        let t = project();
        t.write(".claude/settings.json", user);
        let (code, _, err) = t.run(&["apply"]);
        assert_eq!(code, 0, "{user:?}: {err}");
        let merged = t.read(".claude/settings.json");
        assert!(merged.contains("guard"), "{merged}");
        let (code, _, err) = t.run(&["uninstall"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(t.read(".claude/settings.json"), user);
    }
}

#[test]
fn a_users_agents_md_without_final_newline_is_restored_by_uninstall() {
    for user in ["# Mine\n\nno final newline", "# Mine\r\n", "", "\n\n"] {
        let t = Test::new();
        let (code, _, err) = t.run(&["new", "rule", "helper"]);
        assert_eq!(code, 0, "{err}");
        t.write(
            "aiwg.toml",
            "sources = [\".aiwg\"]\nplatforms = [\"agents-md\"]\n",
        );
        t.write("AGENTS.md", user);
        let (code, _, err) = t.run(&["apply"]);
        assert_eq!(code, 0, "{user:?}: {err}");
        let with = t.read("AGENTS.md");
        assert!(
            with.contains("<!-- aiwg:begin")
                && with.ends_with(if user.contains('\r') {
                    "-->\r\n"
                } else {
                    "-->\n"
                }),
            "{with:?}"
        );
        let (code, _, err) = t.run(&["uninstall"]);
        assert_eq!(code, 0, "{err}");
        if user.is_empty() {
            // An empty file cannot be told from one aiwg created: it goes (ARCHITECTURE.md).
            assert!(!t.exists("AGENTS.md"));
        } else {
            assert_eq!(t.read("AGENTS.md"), user);
        }
    }
}
