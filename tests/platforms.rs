//! `aiwg platforms`: the table and its JSON form.

use crate::support::Test;

#[test]
fn lists_every_platform_with_aliases_and_kinds() {
    let t = Test::new();
    let out = t
        .aiwg(&["platforms"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("claude-code (alias claude) — Claude Code"),
        "{text}"
    );
    assert!(
        text.contains("windsurf (alias devin, devin-desktop)"),
        "{text}"
    );
    assert!(
        text.contains("  command   skill .agents/skills/{name}/"),
        "{text}"
    );
    assert!(
        text.contains("  packages  section of <package>/AGENTS.md"),
        "{text}"
    );
    assert!(
        text.contains("  packages  rule files scoped to <package>/**"),
        "{text}"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn json_has_support_and_paths_per_kind_and_scope() {
    let t = Test::new();
    let out = t
        .aiwg(&["platforms", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let platforms = v["platforms"].as_array().unwrap();
    assert!(platforms.len() >= 12);
    let codex = platforms.iter().find(|p| p["id"] == "codex").unwrap();
    assert_eq!(codex["aliases"], serde_json::json!(["openai"]));
    assert_eq!(
        codex["packages"],
        serde_json::json!({"as": "nested", "file": "AGENTS.md", "reads_nested": ["AGENTS.md"]})
    );
    let claude = platforms.iter().find(|p| p["id"] == "claude-code").unwrap();
    assert_eq!(
        claude["packages"],
        serde_json::json!({"as": "scoped", "reads_nested": ["CLAUDE.md"]})
    );
    let kinds = codex["kinds"].as_array().unwrap();
    assert_eq!(kinds.len(), 7);
    let mcp = kinds.iter().find(|k| k["kind"] == "mcp").unwrap();
    assert_eq!(
        mcp["user"],
        serde_json::json!({"support": "native", "path": ".codex/config.toml",
            "reads": [".codex/config.toml"]})
    );
    let command = kinds.iter().find(|k| k["kind"] == "command").unwrap();
    assert_eq!(
        command["project"],
        serde_json::json!({"support": "fallback", "as": "skill", "path": ".agents/skills/{name}/",
            "reads": [".agents/skills"], "also_sees": ["AGENTS.md"]})
    );
    let agent = kinds.iter().find(|k| k["kind"] == "agent").unwrap();
    assert_eq!(agent["user"]["path"], ".codex/agents/{name}.toml");
    let behavior = kinds.iter().find(|k| k["kind"] == "behavior").unwrap();
    assert_eq!(
        behavior["project"],
        serde_json::json!({"support": "native", "path": ".codex/hooks.json", "reads": [".codex/hooks.json"]})
    );
    let cursor = platforms.iter().find(|p| p["id"] == "cursor").unwrap();
    assert_eq!(
        cursor["kinds"][4]["project"],
        serde_json::json!({"support": "unsupported", "why": "Cursor has no hooks aiwg can write", "reads": []})
    );
    // The reader set of every kind is in the JSON: Copilot reads Claude Code's skills folder.
    let copilot = platforms.iter().find(|p| p["id"] == "copilot").unwrap();
    let skill = copilot["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "skill")
        .unwrap();
    assert_eq!(
        skill["project"]["reads"],
        serde_json::json!([".github/skills", ".claude/skills", ".agents/skills"])
    );
}

/// Where the reader-set planner moves output (Copilot reads Claude Code's agents and rules, so
/// adding Claude Code moves Copilot's copies there), `aiwg apply` deletes the stale copies and
/// keeps the ones the user edited.
#[test]
fn apply_moves_output_that_a_reader_set_now_serves_elsewhere() {
    let t = Test::new();
    t.write(
        ".aiwg/agents/a.md",
        "---\nname: a\ndescription: d\n---\nA.\n",
    )
    .write(".aiwg/rules/r.md", "---\ndescription: r\n---\nR.\n")
    .write(".aiwg/rules/s.md", "---\ndescription: s\n---\nS.\n")
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"copilot\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists(".github/agents/a.agent.md"));
    assert!(t.exists(".github/instructions/r.instructions.md"));
    t.write(".github/instructions/s.instructions.md", "my own edit\n");

    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"copilot\"]\n",
    );
    // The edited stale copy is a conflict: nothing is written until the user decides.
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`.github/instructions/s.instructions.md`: no longer wanted, but edited"),
        "{err}"
    );
    assert!(!t.exists(".claude/agents/a.md"));
    let (code, _, err) = t.run(&["apply", "--force", "-v"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.read(".claude/agents/a.md").contains("A."));
    assert!(t.read(".claude/rules/r.md").contains("R."));
    assert!(!t.exists(".github/agents/a.agent.md"), "stale copy deleted");
    assert!(!t.exists(".github/instructions/r.instructions.md"));
    assert_eq!(
        t.read(".github/instructions/s.instructions.md"),
        "my own edit\n"
    );
    assert!(
        err.contains("kept `.github/instructions/s.instructions.md`"),
        "{err}"
    );
    assert!(
        err.contains("GitHub Copilot reads the copies in `.claude/agents/{name}.md`"),
        "{err}"
    );
    let (code, out, _) = t.run(&["check"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

/// User scope honours a client's own home variable (`CODEX_HOME`) below the home folder, and
/// refuses one outside it rather than writing where the client does not look.
#[test]
fn user_scope_writes_where_the_clients_home_variable_points() {
    let t = Test::new();
    t.write(
        ".aiwg/agents/a.md",
        "---\nname: a\ndescription: d\n---\nA.\n",
    )
    .write(".aiwg/rules/r.md", "---\nalways: true\n---\nR.\n")
    .user_config(&["codex"]);
    let codex_home = t.home().join("elsewhere/codex");
    let out = t
        .aiwg(&["apply", "--scope", "user", "--platforms", "codex"])
        .env("CODEX_HOME", &codex_home)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(codex_home.join("agents/a.toml").is_file(), "{err}");
    assert!(std::fs::read_to_string(codex_home.join("AGENTS.md"))
        .unwrap()
        .contains("R."));
    assert!(!t.home().join(".codex").exists());
    // check agrees, and a changed variable is drift, never a cached "clean".
    let check = |codex_home: &std::path::Path| {
        t.aiwg(&["check", "--scope", "user", "--platforms", "codex"])
            .env("CODEX_HOME", codex_home)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(check(&codex_home), Some(0));
    assert_eq!(check(&t.home().join("other")), Some(1));

    let outside = t.root().join("codex-home");
    let out = t
        .aiwg(&["apply", "--scope", "user", "--platforms", "codex"])
        .env("CODEX_HOME", &outside)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`CODEX_HOME` is"), "{err}");
    assert!(err.contains("outside the home folder"), "{err}");
}

/// `aiwg platforms ID...` shows only those platforms (an alias names its platform), in the
/// table and in the JSON; an unknown one is an error with a suggestion and prints nothing.
#[test]
fn platforms_shows_only_the_ones_named() {
    let t = Test::new();
    let (code, out, err) = t.run(&["platforms", "claude"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("claude-code (alias claude) — "), "{out}");
    assert_eq!(
        out.lines().filter(|l| !l.starts_with(' ')).count(),
        1,
        "{out}"
    );
    let (code, out, err) = t.run(&["platforms", "codex", "cursor", "--json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = doc["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["codex", "cursor"]);
    let (code, out, err) = t.run(&["platforms", "claud"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("(did you mean `claude`?)"), "{err}");
}
