//! R2, R15, R17: history is local. A generation this machine did not write (committed to the
//! repository, copied from another machine, or changed by hand) is never replayed by
//! `rollback`, never marked `resumes`, never pruned, and never blocks `apply`.

use super::repo::Hostile;

/// A manifest restoring `blobs/0` to `path`, executable, as the note's R2 reproduction writes.
fn manifest(generation: u64, path: &str) -> String {
    format!(
        "version = 1\ngeneration = {generation}\ncommand = \"apply\"\ntime = 1700000000\nlock_before = false\n\n[[path]]\npath = \"{path}\"\nbefore = \"blobs/0\"\nbefore_executable = true\n"
    )
}

/// The victim's own generations, as `rollback --list` prints them (GEN column).
fn listed(h: &Hostile) -> String {
    let out = h.run(&["rollback", "--list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    format!("{}{}", out.stdout, out.stderr)
}

#[test]
fn a_committed_generation_is_never_replayed_nor_resumed() {
    for done in [false, true] {
        let h = Hostile::new();
        h.project()
            .write(".aiwg/history/1/blobs/0", h.payload())
            .write(
                ".aiwg/history/1/manifest.toml",
                manifest(1, ".git/hooks/pre-commit"),
            );
        if done {
            h.write(".aiwg/history/1/done", "");
        }
        h.clone();
        let before = h.outside();
        let out = h.run(&["apply"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stderr.contains(".aiwg/history/1") && out.stderr.contains("ignored"),
            "apply says it ignores the foreign generation: {}",
            out.stderr
        );
        let list = listed(&h);
        assert!(list.contains("not written"), "{list}");
        for args in [
            &["rollback"][..],
            &["rollback", "--to", "1"],
            &["rollback", "--force"],
        ] {
            let out = h.run(args);
            assert!(
                !out.stderr.contains("rolled back generation 1"),
                "{args:?}: {}",
                out.stderr
            );
        }
        h.assert_contained(&before);
        assert!(!h.victim().join(".git/hooks/pre-commit").exists());
        // The victim's own apply never claims to finish the committed generation.
        for entry in std::fs::read_dir(h.victim().join(".aiwg/history")).unwrap() {
            let dir = entry.unwrap().path();
            if dir.ends_with("1") {
                continue;
            }
            let text = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
            assert!(!text.contains("resumes"), "{text}");
        }
    }
}

#[test]
fn the_attackers_own_real_history_is_foreign_to_the_victim() {
    // A generation aiwg really wrote, on the attacker's machine, restoring a file into `.git/`
    // after the attacker swapped in their payload as the backup.
    let h = Hostile::new();
    h.project();
    assert_eq!(h.attacker(&["apply"]).code, 0);
    let manifest_path = h.origin().join(".aiwg/history/1/manifest.toml");
    let real = std::fs::read_to_string(&manifest_path).unwrap();
    assert!(real.contains(".claude/agents/docs.md"), "{real}");
    h.write(".aiwg/history/1/blobs/0", h.payload());
    h.write(
        ".aiwg/history/1/manifest.toml",
        real.replace(".claude/agents/docs.md", ".git/hooks/post-checkout")
            .replace("before_executable = false", "before_executable = true")
            .replacen("\n[[path]]\n", "\n[[path]]\nbefore = \"blobs/0\"\n", 1),
    );
    h.clone();
    let before = h.outside();
    let out = h.run(&["rollback"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("nothing to roll back"),
        "{}",
        out.stderr
    );
    h.assert_contained(&before);
    // Even the untouched real generation of the attacker is not the victim's.
    let h = Hostile::new();
    h.project();
    assert_eq!(h.attacker(&["apply"]).code, 0);
    h.clone();
    let out = h.run(&["rollback"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(h.read(".claude/agents/docs.md").is_some());
}

#[test]
fn a_symlinked_generation_folder_is_never_followed_by_pruning() {
    // A committed `.aiwg/history/7 -> ../../.git` looks like a crash leftover (no manifest):
    // pruning must not empty the git folder through it.
    let h = Hostile::new();
    h.project().symlink(".aiwg/history/7", "../../.git");
    h.clone();
    let before = h.outside();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    h.assert_contained(&before);
    assert!(h.victim().join(".git/HEAD").is_file());
}

#[test]
fn a_huge_generation_number_does_not_overflow() {
    let h = Hostile::new();
    h.project().write(
        ".aiwg/history/18446744073709551615/manifest.toml",
        manifest(u64::MAX, "x.md"),
    );
    h.clone();
    let before = h.outside();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = h.run(&["rollback"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        h.read(".claude/agents/docs.md").is_none(),
        "the victim's apply was undone"
    );
    h.assert_contained(&before);
}

#[test]
fn a_corrupt_old_generation_never_blocks_apply_and_list_shows_it() {
    // R15, the note's reproduction, in a clone.
    let h = Hostile::new();
    h.project();
    h.clone();
    let agent = ".aiwg/agents/docs.md";
    let edit = |text: &str| {
        let path = h.victim().join(agent);
        let mut body = std::fs::read_to_string(&path).unwrap();
        body.push_str(text);
        std::fs::write(path, body).unwrap();
    };
    assert_eq!(h.run(&["apply"]).code, 0);
    edit("v2\n");
    assert_eq!(h.run(&["apply"]).code, 0);
    let manifest = h.victim().join(".aiwg/history/1/manifest.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("garbage = [\n");
    std::fs::write(&manifest, text).unwrap();
    edit("v3\n");
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains(".aiwg/history/1"), "{}", out.stderr);
    let list = listed(&h);
    assert!(list.contains("3 ") && list.contains("2 "), "{list}");
    assert!(list.contains("ignored"), "{list}");
    // The newest generation rolls back; the broken one is only refused when asked for.
    let out = h.run(&["rollback"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = h.run(&["rollback", "--to", "1"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("generation 1"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("rollback --list") || listed(&h).contains("ignored"),
        "the hint is not circular: {}",
        out.stderr
    );
}
