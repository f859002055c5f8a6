//! The personal overlay in a clone (issue 14): a teammate's clone never sees the author's
//! `aiwg.local.toml` or what it deployed, and one committed by a stranger asks for the same
//! consent as `aiwg.toml` (guarantee 3) and cannot get a team file deleted (guarantee 1).

use super::{assert_names, Hostile, Output};

#[test]
fn a_teammates_clone_sees_nothing_of_the_authors_overlay_and_its_check_passes() {
    let c = Hostile::new();
    c.project();
    let mine = c.origin().join("../mine/agents");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("mine.md"),
        "---\ndescription: The author's own helper.\n---\nHelp.\n",
    )
    .unwrap();
    // The author deploys the team's config, then their own overlay, then commits as usual.
    assert_eq!(c.attacker(&["apply"]).code, 0);
    let out = c.attacker(&["use", "--local", "../mine", "--platforms", "codex"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(c.origin().join(".codex/agents/mine.toml").exists());
    c.clone_as_teammate(&[]);
    for path in [
        "aiwg.local.toml",
        ".aiwg/local",
        ".codex",
        ".claude/agents/mine.md",
    ] {
        assert!(!c.victim().join(path).exists(), "{path} reached the clone");
    }
    assert!(c.victim().join(".claude/agents/docs.md").exists());
    let before = c.outside();
    let Output {
        code,
        stdout,
        stderr,
    } = c.run(&["check"]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    let Output { stdout, .. } = c.run(&["status"]);
    assert!(
        !stdout.contains("mine") && !stdout.contains("local"),
        "{stdout}"
    );
    c.assert_contained(&before);
}

#[test]
fn a_committed_overlay_asking_for_user_scope_is_refused() {
    let c = Hostile::new();
    c.project()
        .write(
            "aiwg.local.toml",
            "scope = \"user\"\nplatforms = [\"codex\"]\n",
        )
        .clone();
    let before = c.outside();
    for args in [&["apply"][..], &["check"], &["diff"]] {
        let Output {
            code, stderr: err, ..
        } = c.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_names(&err, &["aiwg.local.toml:1:", "`scope`", "hint:"]);
    }
    for path in [".claude", ".codex", "aiwg.lock", ".aiwg/local"] {
        assert!(!c.victim().join(path).exists(), "{path} was written");
    }
    c.assert_contained(&before);
}

#[test]
fn a_committed_overlays_hook_needs_consent_like_any_other() {
    let c = Hostile::new();
    c.project()
        .pwn_behavior("tools")
        .write("aiwg.local.toml", "sources = [\"tools\"]\n")
        .clone();
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(
        &err,
        &[
            "hook `fmt`",
            "tools/behaviors/fmt/BEHAVIOR.md",
            "aiwg trust",
            "--allow-hooks",
        ],
    );
    // Nothing of either pass was written: consent comes before any write.
    for path in [
        ".claude/settings.json",
        ".claude/hooks",
        ".claude/agents/docs.md",
        "aiwg.lock",
        ".aiwg/local",
    ] {
        assert!(!c.victim().join(path).exists(), "{path} was written");
    }
    c.assert_contained(&before);
    // `aiwg trust` shows the overlay's hook, and what it allows is what apply needed.
    let Output {
        code, stderr: err, ..
    } = c.run(&["trust"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["[new] tools/behaviors/fmt/BEHAVIOR.md: hook `fmt`"]);
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["hook: installs `fmt` from `tools`"]);
    assert!(c.victim().join(".claude/settings.json").exists());
}

#[test]
fn a_committed_overlay_naming_a_source_outside_the_clone_reads_nothing_there() {
    let c = Hostile::new();
    c.project()
        .write("aiwg.local.toml", "sources = [\"x@../../.claude\"]\n")
        .clone();
    c.write_home(
        ".claude/agents/private.md",
        "---\ndescription: internal\n---\nINTERNAL db.corp.internal\n",
    );
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(
        &err,
        &[
            "source `x@../../.claude` is outside the project",
            "aiwg trust",
        ],
    );
    assert!(!c.victim().join(".claude/agents/private.md").exists());
    c.assert_contained(&before);
}

#[test]
fn a_committed_overlay_lock_claiming_the_teams_files_deletes_none() {
    let c = Hostile::new();
    c.project();
    assert_eq!(c.attacker(&["apply"]).code, 0);
    // The overlay's lock copied from the team's: every entry's hash matches a team file, so
    // an overlay that planned from it alone would delete them as stale.
    let team_lock = std::fs::read_to_string(c.origin().join("aiwg.lock")).unwrap();
    c.write(".aiwg/local/aiwg.lock", &team_lock)
        .write("aiwg.local.toml", "sources = []\n")
        .clone();
    let docs = c.victim().join(".claude/agents/docs.md");
    let text = std::fs::read_to_string(&docs).unwrap();
    for args in [&["apply"][..], &["uninstall", "--local"]] {
        let Output {
            code, stderr: err, ..
        } = c.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(
            std::fs::read_to_string(&docs).unwrap(),
            text,
            "{args:?}: {err}"
        );
    }
    let Output { code, stdout, .. } = c.run(&["check"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn an_exclude_file_that_is_a_symlink_is_refused_not_written_through() {
    // A repository delivered with its git directory (an archive, a copied checkout) can make
    // `.git/info/exclude`, or `.git/info`, a symlink to any file of the victim's.
    let c = Hostile::new();
    let mine = c.origin().join("mine/agents");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("mine.md"),
        "---\ndescription: A helper.\n---\nHelp.\n",
    )
    .unwrap();
    c.project()
        .write(
            "aiwg.local.toml",
            "sources = [\"mine\"]\nplatforms = [\"codex\"]\n",
        )
        .clone();
    c.write_home(".profile", "precious\n");
    let profile = c.home().join(".profile");
    let info = c.victim().join(".git/info");
    let links: [(&std::path::Path, std::path::PathBuf); 2] =
        [(&info.join("exclude"), profile.clone()), (&info, c.home())];
    for (link, target) in links {
        std::fs::remove_file(info.join("exclude")).ok();
        if link == info.as_path() {
            std::fs::remove_dir_all(&info).unwrap();
            std::fs::write(c.home().join("exclude"), "precious\n").unwrap();
        }
        std::os::unix::fs::symlink(&target, link).unwrap();
        let before = c.outside();
        let Output { code, stderr, .. } = c.run(&["apply"]);
        assert_ne!(code, 0, "{stderr}");
        assert_eq!(std::fs::read_to_string(&profile).unwrap(), "precious\n");
        assert_names(&stderr, &["info", "symlink", "hint:"]);
        for path in [".codex", ".aiwg/local"] {
            assert!(!c.victim().join(path).exists(), "{path} was written");
        }
        let after = c.outside();
        assert_eq!(before, after, "{link:?}");
    }
}

#[test]
fn a_committed_overlay_linking_out_of_the_clone_is_neither_read_nor_rewritten() {
    // `aiwg use --local` rewrites `aiwg.local.toml` in place: through a committed link, that
    // would be one of the victim's own files.
    let c = Hostile::new();
    c.project()
        .symlink("aiwg.local.toml", "../../.config/tool/settings.toml")
        .clone();
    c.write_home(".config/tool/settings.toml", "# my settings\n");
    let mine = c.home().join("src/mine/agents");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("mine.md"),
        "---\ndescription: Mine.\n---\nMine.\n",
    )
    .unwrap();
    let before = c.outside();
    for args in [
        &["use", "--local", "../mine", "--platforms", "codex"][..],
        &["apply"],
        &["remove", "--local", "../mine"],
    ] {
        let Output { code, stderr, .. } = c.run(args);
        assert_eq!(
            std::fs::read_to_string(c.home().join(".config/tool/settings.toml")).unwrap(),
            "# my settings\n",
            "{args:?}"
        );
        assert_ne!(code, 0, "{args:?}: {stderr}");
        assert_names(&stderr, &["aiwg.local.toml", "symlink", "hint:"]);
    }
    for path in [".codex", ".aiwg/local"] {
        assert!(!c.victim().join(path).exists(), "{path} was written");
    }
    c.assert_contained(&before);
}

#[test]
fn a_committed_config_linking_into_git_is_neither_read_nor_rewritten() {
    // `.git/info/exclude` as git makes it is all comments, a valid (empty) TOML file: through
    // a committed link, `aiwg use` rewrote git's own file (guarantee 1; review19).
    for name in ["aiwg.toml", "aiwg.local.toml"] {
        let c = Hostile::new();
        c.project();
        if name == "aiwg.toml" {
            std::fs::remove_file(c.origin().join("aiwg.toml")).unwrap();
        }
        c.symlink(name, ".git/info/exclude").clone();
        let exclude = c.victim().join(".git/info/exclude");
        let before_exclude = std::fs::read(&exclude).unwrap();
        let before = c.outside();
        let args: &[&str] = if name == "aiwg.toml" {
            &["use", "sdlc", "--platforms", "claude-code"]
        } else {
            &["use", "--local", "sdlc", "--platforms", "codex"]
        };
        let Output { code, stderr, .. } = c.run(args);
        assert_eq!(std::fs::read(&exclude).unwrap(), before_exclude, "{name}");
        assert_ne!(code, 0, "{name}: {stderr}");
        assert_names(&stderr, &[name, "git", "hint:"]);
        c.assert_contained(&before);
    }
}
