//! Guarantee 3, user scope (R4, 11.1): a repository's `scope = "user"` cannot by itself make
//! aiwg write into the home folder, install a global hook, or delete another deploy there.

use super::{assert_names, Repo};

const USER_SCOPE: &str = "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\nscope = \"user\"\n";

fn hostile() -> super::Clone {
    let c = Repo::new()
        .pwn_behavior(".aiwg")
        .agent(".aiwg")
        .text("aiwg.toml", USER_SCOPE)
        .clone_it();
    c.write_home(".claude/settings.json", "{\n  \"theme\": \"dark\"\n}\n");
    c
}

#[test]
fn a_plain_apply_stops_before_the_home_folder_naming_the_line() {
    let c = hostile();
    let before = c.snapshot();
    let (code, _, err) = c.run(&["apply"]);
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
    c.assert_untouched(&before);
}

#[test]
fn every_command_that_would_touch_the_home_folder_stops_too() {
    let c = hostile();
    let before = c.snapshot();
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
        let (code, _, err) = c.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_names(&err, &["aiwg.toml:3", "hint:"]);
    }
    c.assert_untouched(&before);
}

#[test]
fn allowing_the_scope_alone_still_holds_back_the_hook() {
    let c = hostile();
    let before = c.snapshot();
    let (code, _, err) = c.run(&["apply", "--allow-user-scope"]);
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
    c.assert_untouched(&before);
}

#[test]
fn one_trust_flag_deploys_for_this_run_and_records_nothing() {
    let c = hostile();
    let (code, _, err) = c.run(&["apply", "--trust"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["hook: installs `fmt` from `.aiwg`"]);
    let settings = std::fs::read_to_string(c.home().join(".claude/settings.json")).unwrap();
    assert!(
        settings.contains("fmt.sh") && settings.contains("theme"),
        "{settings}"
    );
    // Nothing was recorded: the next run asks again.
    let (code, _, err) = c.run(&["check"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn explicit_scope_on_the_command_line_is_consent_for_the_scope() {
    let c = hostile();
    let before = c.snapshot();
    // `--scope user` given by the user agrees with the clone's `scope = "user"`: it widens;
    // the hook still needs its own consent.
    let (code, _, err) = c.run(&["apply", "--scope", "user"]);
    assert_eq!(code, 2, "{err}");
    assert_names(&err, &["hook `fmt`"]);
    // `--scope project` keeps it in the clone, where only the hook is asked about.
    let (code, _, err) = c.run(&["apply", "--scope", "project", "--allow-hooks"]);
    assert_eq!(code, 0, "{err}");
    assert!(c.victim().join(".claude/settings.json").exists());
    c.assert_untouched_but(&before, &[".git/info/exclude"]);
}

/// R11's hostile form: a repository with `scope = "user"` and no sources would make its
/// apply delete every file another project deployed into the home folder.
#[test]
fn a_repository_cannot_wipe_the_users_global_deploy() {
    let c = Repo::new()
        .text(
            "aiwg.toml",
            "sources = []\nplatforms = [\"claude-code\"]\nscope = \"user\"\n",
        )
        .clone_it();
    c.user_deploy_of_another_project("mine");
    let before = c.snapshot();
    for args in [&["apply"][..], &["uninstall"]] {
        let (code, _, err) = c.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_names(&err, &["aiwg.toml:3"]);
    }
    c.assert_untouched(&before);
}
