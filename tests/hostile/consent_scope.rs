//! Guarantee 3, user scope (R4, 11.1): a repository's `scope = "user"` cannot by itself make
//! aiwg write into the home folder, install a global hook, or delete another deploy there.

use super::{assert_names, Hostile, Output};

const USER_SCOPE: &str = "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\nscope = \"user\"\n";

fn hostile() -> super::Hostile {
    let c = Hostile::new();
    c.pwn_behavior(".aiwg")
        .agent(".aiwg")
        .write("aiwg.toml", USER_SCOPE)
        .clone();
    c.write_home(".claude/settings.json", "{\n  \"theme\": \"dark\"\n}\n");
    c
}

#[test]
fn a_plain_apply_stops_before_the_home_folder_naming_the_line() {
    let c = hostile();
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(
        &err,
        &[
            "aiwg.toml:3",
            "scope = \"user\"",
            "hint:",
            "aiwg trust",
            "--allow-user-scope",
        ],
    );
    c.assert_contained(&before);
}

#[test]
fn every_command_that_would_touch_the_home_folder_stops_too() {
    let c = hostile();
    let before = c.outside();
    for args in [
        &["uninstall"][..],
        &["remove", ".aiwg"],
        &["rollback"],
        &["check"],
        &["status"],
        &["diff"],
        &["plan"],
        &["apply", "--dry-run"],
    ] {
        let Output {
            code, stderr: err, ..
        } = c.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_names(&err, &["aiwg.toml:3", "hint:"]);
    }
    c.assert_contained(&before);
}

#[test]
fn allowing_the_scope_alone_still_holds_back_the_hook() {
    let c = hostile();
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply", "--allow-user-scope"]);
    assert_eq!(code, 2, "{err}");
    assert_names(
        &err,
        &[
            "hook `fmt`",
            "scripts/fmt.sh",
            "PreToolUse",
            "--allow-hooks",
        ],
    );
    c.assert_contained(&before);
}

#[test]
fn one_trust_flag_deploys_for_this_run_and_records_nothing() {
    let c = hostile();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply", "--trust"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["hook: installs `fmt` from `.aiwg`"]);
    let settings = std::fs::read_to_string(c.home().join(".claude/settings.json")).unwrap();
    assert!(
        settings.contains("fmt.sh") && settings.contains("theme"),
        "{settings}"
    );
    // Nothing was recorded: the next run asks again.
    let Output {
        code, stderr: err, ..
    } = c.run(&["check"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn explicit_scope_on_the_command_line_is_consent_for_the_scope() {
    let c = hostile();
    let before = c.outside();
    // `--scope user` given by the user agrees with the clone's `scope = "user"`: it widens;
    // the hook still needs its own consent.
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply", "--scope", "user"]);
    assert_eq!(code, 2, "{err}");
    assert_names(&err, &["hook `fmt`"]);
    // `--scope project` keeps it in the clone, where only the hook is asked about.
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply", "--scope", "project", "--allow-hooks"]);
    assert_eq!(code, 0, "{err}");
    assert!(c.victim().join(".claude/settings.json").exists());
    c.assert_contained(&before);
}

/// R11's hostile form: a repository with `scope = "user"` and no sources would make its
/// apply delete every file another project deployed into the home folder.
#[test]
fn a_repository_cannot_wipe_the_users_global_deploy() {
    let c = Hostile::new();
    c.write(
        "aiwg.toml",
        "sources = []\nplatforms = [\"claude-code\"]\nscope = \"user\"\n",
    )
    .clone();
    c.user_deploy_of_another_project("mine");
    let before = c.outside();
    for args in [&["apply"][..], &["uninstall"]] {
        let Output {
            code, stderr: err, ..
        } = c.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_names(&err, &["aiwg.toml:3"]);
    }
    c.assert_contained(&before);
}

/// `aiwg use` and `aiwg remove` edit `aiwg.toml` in place: a committed `aiwg.toml` that is a
/// link out of the clone would get one of the victim's own files rewritten (or read as the
/// project's config). Found by a hostile review; the same rule as for `aiwg.local.toml`.
#[test]
fn a_committed_config_linking_out_of_the_clone_is_neither_read_nor_rewritten() {
    let c = Hostile::new();
    c.agent(".aiwg")
        .symlink("aiwg.toml", "../../.config/tool/settings.toml")
        .clone();
    let mine = "sources = [\".aiwg\"]\nplatforms = [\"codex\"]\n";
    c.write_home(".config/tool/settings.toml", mine);
    let before = c.outside();
    for args in [
        &["use", "sdlc"][..],
        &["apply"],
        &["remove", "--platform", "codex"],
    ] {
        let Output { code, stderr, .. } = c.run(args);
        assert_eq!(
            std::fs::read_to_string(c.home().join(".config/tool/settings.toml")).unwrap(),
            mine,
            "{args:?}"
        );
        assert_ne!(code, 0, "{args:?}: {stderr}");
        assert_names(&stderr, &["aiwg.toml", "symlink", "hint:"]);
    }
    for path in [".codex", ".agents", "AGENTS.md", "aiwg.lock"] {
        assert!(!c.victim().join(path).exists(), "{path} was written");
    }
    c.assert_contained(&before);
}
