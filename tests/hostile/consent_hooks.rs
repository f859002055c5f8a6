//! Guarantee 3, hooks (R4, 11.5): a hook from any non-bundled source is installed or changed
//! only with consent, for exactly its bytes; every apply names the hooks it touches.

use super::{assert_names, Hostile, Output};

const CLAUDE: &str = "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n";

#[test]
fn a_clones_hook_is_held_back_with_exit_2_and_nothing_written() {
    let c = Hostile::new();
    c.pwn_behavior(".aiwg")
        .agent(".aiwg")
        .write("aiwg.toml", CLAUDE)
        .clone();
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(
        &err,
        &[
            ".aiwg/behaviors/fmt/BEHAVIOR.md",
            "hook `fmt`",
            "scripts/fmt.sh",
            "hint:",
            "aiwg trust",
            "--allow-hooks",
            "nothing was changed",
        ],
    );
    for path in [
        ".claude/settings.json",
        ".claude/hooks",
        ".claude/agents/a1.md",
        "aiwg.lock",
    ] {
        assert!(!c.victim().join(path).exists(), "{path} was written");
    }
    c.assert_contained(&before);
}

#[test]
fn consent_is_for_exactly_these_bytes_and_asked_again_when_they_change() {
    let c = Hostile::new();
    c.pwn_behavior(".aiwg").write("aiwg.toml", CLAUDE).clone();
    let Output {
        code, stderr: err, ..
    } = c.run(&["trust"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["[new] .aiwg/behaviors/fmt/BEHAVIOR.md: hook `fmt`"]);
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_names(
        &err,
        &["hook: installs `fmt` from `.aiwg`", ".claude/settings.json"],
    );
    // A pull that changes one byte of the script.
    let script = c.victim().join(".aiwg/behaviors/fmt/scripts/fmt.sh");
    std::fs::write(&script, format!("{}# changed\n", c.payload())).unwrap();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(
        &err,
        &[
            "changed what it asks for since you trusted it",
            "hook `fmt`",
        ],
    );
    // A change of the matcher alone (settings only) is asked about too.
    std::fs::write(&script, c.payload()).unwrap();
    let md = c.victim().join(".aiwg/behaviors/fmt/BEHAVIOR.md");
    let text = std::fs::read_to_string(&md)
        .unwrap()
        .replace("Write|Edit", "Bash");
    std::fs::write(&md, text).unwrap();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    // --revoke takes everything back.
    let Output {
        code, stderr: err, ..
    } = c.run(&["trust", "--revoke"]);
    assert_eq!(code, 0, "{err}");
    let Output {
        code, stderr: err, ..
    } = c.run(&["trust", "--show"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["[new]"]);
    // `-q` holds for `trust` as for every command: its report goes through the printer.
    let Output {
        code, stderr: err, ..
    } = c.run(&["-q", "trust", "--show"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "-q trust --show said something");
}

/// A folder source named like a bundled framework does not pass for it.
#[test]
fn a_folder_named_like_a_bundled_framework_is_not_bundled() {
    let c = Hostile::new();
    c.pwn_behavior(".evil")
        .write(
            "aiwg.toml",
            "sources = [\"sdlc@.evil\"]\nplatforms = [\"claude-code\"]\n",
        )
        .clone();
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(
        &err,
        &[".evil/behaviors/fmt/BEHAVIOR.md", "hook `fmt` from `sdlc`"],
    );
    c.assert_contained(&before);
}

/// mise's lesson: a project file cannot vouch for itself.
#[test]
fn the_repository_cannot_trust_itself() {
    for config in [
        format!("{CLAUDE}trust = true\n"),
        format!("{CLAUDE}allow_hooks = true\n"),
        format!("{CLAUDE}[trust]\nhooks = true\n"),
    ] {
        let c = Hostile::new();
        c.pwn_behavior(".aiwg").write("aiwg.toml", &config).clone();
        let before = c.outside();
        let Output {
            code, stderr: err, ..
        } = c.run(&["apply"]);
        assert_eq!(code, 2, "{config}: {err}");
        assert_names(&err, &["aiwg.toml:3"]);
        c.assert_contained(&before);
    }
}

#[test]
fn bundled_hooks_need_no_consent_but_are_announced() {
    let c = Hostile::new();
    c.clone();
    let Output {
        code, stderr: err, ..
    } = c.run(&["use", "sdlc", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    assert_names(
        &err,
        &[
            "hook: installs `secret-guard` from `sdlc`",
            "PreToolUse",
            ".claude/settings.json",
        ],
    );
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("hook:"),
        "an unchanged hook is not announced: {err}"
    );
    let Output {
        code, stderr: err, ..
    } = c.run(&["remove", "sdlc"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["hook: removes `secret-guard` from `sdlc`"]);
}

/// `aiwg new behavior` scaffolds bytes aiwg wrote: deploying them needs no question; the
/// user's first edit of the script does.
#[test]
fn a_scaffolded_behavior_deploys_and_its_edit_asks() {
    let c = Hostile::new();
    c.write("aiwg.toml", CLAUDE).clone();
    let Output {
        code, stderr: err, ..
    } = c.run(&["new", "behavior", "guard"]);
    assert_eq!(code, 0, "{err}");
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let script = c.victim().join(".aiwg/behaviors/guard/scripts/guard.sh");
    let mut text = std::fs::read_to_string(&script).unwrap();
    text.push_str("echo edited\n");
    std::fs::write(&script, text).unwrap();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply", "--allow-hooks"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["hook: changes `guard`"]);
}

/// A committed deploy (lock, settings and script in the tree) that apply leaves as it is
/// installs nothing: git put it there, and aiwg says nothing about hooks.
#[test]
fn a_hook_already_committed_and_unchanged_is_not_asked_about() {
    let c = Hostile::new();
    c.pwn_behavior(".aiwg").write("aiwg.toml", CLAUDE).clone();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply", "--allow-hooks"]);
    assert_eq!(code, 0, "{err}");
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("hook:"), "{err}");
}

/// On a terminal aiwg asks; a yes is recorded like `aiwg trust`, a no changes nothing.
#[test]
fn on_a_terminal_it_asks_and_a_yes_is_recorded() {
    let c = Hostile::new();
    c.pwn_behavior(".aiwg").write("aiwg.toml", CLAUDE).clone();
    let before = c.outside();
    let Some((code, shown)) = c.run_on_terminal(&["apply"], "n\n") else {
        eprintln!("skipped: no `script` to run aiwg on a terminal");
        return;
    };
    assert_eq!(code, 2, "{shown}");
    assert_names(&shown, &["hook `fmt`", "[y/N]", "hint:"]);
    assert!(!c.victim().join(".claude").exists());
    let (code, shown) = c.run_on_terminal(&["apply"], "y\n").unwrap();
    assert_eq!(code, 0, "{shown}");
    assert_names(&shown, &["hook: installs `fmt`"]);
    // Recorded: a plain, non-interactive run needs nothing more.
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    c.assert_contained(&before);
}

/// The `hook:` lines say `installs` only once the write succeeded: an apply that stops on a
/// hand-edited `.claude/settings.json` says `would install` and writes nothing, `--json`
/// says it was not applied, and the apply after the fix says `installs`.
#[test]
fn an_apply_stopped_by_a_conflict_does_not_claim_it_installed_a_hook() {
    let t = crate::support::Test::new();
    t.write(
        "aiwg.toml",
        "sources = [\"sdlc\"]\nplatforms = [\"claude-code\"]\n",
    )
    .write(".claude/settings.json", "{ \"hooks\": broken\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("hook: installs"), "{err}");
    assert_names(
        &err,
        &[
            "hook: would install `secret-guard` from `sdlc`",
            "conflict: `.claude/settings.json`",
            "error: apply stopped before writing anything",
        ],
    );
    assert_eq!(t.read(".claude/settings.json"), "{ \"hooks\": broken\n");
    for path in [".claude/hooks", ".claude/agents", "aiwg.lock"] {
        assert!(!t.exists(path), "{path} was written");
    }

    let (code, out, err) = t.run(&["apply", "--json"]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("hook: installs"), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["applied"], false, "{out}");
    assert!(!t.exists("aiwg.lock"));

    std::fs::remove_file(t.root().join(".claude/settings.json")).unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["hook: installs `secret-guard` from `sdlc`"]);
    assert!(!err.contains("would install"), "{err}");
    assert!(t.exists(".claude/hooks/secret-guard/scripts/secret-guard.sh"));
}

#[test]
fn a_shared_hooks_folder_does_not_apply_a_fresh_clone() {
    // The victim's own project keeps its generated files out of git and installs aiwg's deploy
    // hooks; their hooks folder is shared (`core.hooksPath` in the global config), so every
    // repository they clone runs them, this stranger's one included.
    let c = Hostile::new();
    c.project().write("README.md", "hello\n");
    let hooks = c.home().join("hooks");
    let config = format!("[core]\n\thooksPath = {}\n", hooks.display());
    c.write_home(".gitconfig", &config);
    std::fs::write(c.origin().join("../gitconfig"), &config).unwrap();
    let mine = c.home().join("src/mine");
    std::fs::create_dir_all(mine.join(".aiwg/agents")).unwrap();
    std::fs::write(
        mine.join("aiwg.toml"),
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\ngenerated = \"ignore\"\n",
    )
    .unwrap();
    std::fs::write(
        mine.join(".aiwg/agents/mine.md"),
        "---\nname: mine\ndescription: Mine\n---\nMine.\n",
    )
    .unwrap();
    c.git(&mine, &["init", "-q", "-b", "main"]);
    let Output { code, stderr, .. } = c.run_in(&mine, &["hook", "install"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(hooks.join("post-checkout").exists(), "{stderr}");
    // Only the deploy hooks: the check hook would stop the stranger's own commit below.
    std::fs::remove_file(hooks.join("pre-commit")).unwrap();
    c.clone();
    for path in [".claude", "aiwg.lock", ".aiwg/history"] {
        assert!(
            !c.victim().join(path).exists(),
            "{path}: the clone was applied by the shared hook"
        );
    }
    // A branch checkout in a project the user applies still deploys.
    c.git(&mine, &["add", "-A"]);
    c.git(&mine, &["commit", "-q", "-m", "mine", "--no-verify"]);
    std::fs::remove_dir_all(mine.join(".claude")).ok();
    c.git(&mine, &["checkout", "-q", "-b", "other"]);
    assert!(mine.join(".claude/agents/mine.md").exists());
}
