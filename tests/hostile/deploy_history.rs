//! R2, R15, R17: history is local. A generation this machine did not write (committed to the
//! repository, copied from another machine, or changed by hand) is never replayed by
//! `rollback`, never marked `resumes`, never pruned, and never blocks `apply`.

use super::repo::Hostile;
use crate::support::dead_pid;

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

#[test]
fn a_committed_higher_generation_never_hides_the_real_newest_ones_temp_files() {
    // With a mark or without one, the committed folder is numbered above the victim's own.
    for marked in [true, false] {
        let h = Hostile::new();
        h.project()
            .write(
                ".aiwg/history/999999/manifest.toml",
                manifest(999999, "x.md"),
            )
            .write(".aiwg/history/999999/blobs/0", "x");
        if marked {
            h.write(".aiwg/history/999999/mark", "0".repeat(64));
        }
        h.clone();
        assert_eq!(h.run(&["apply"]).code, 0);
        // What an apply killed while writing generation 1's files leaves there.
        let dead = dead_pid();
        let debris = [
            format!(".aiwg/history/1/.manifest.toml.aiwg-tmp.{dead}.1"),
            format!(".aiwg/history/1/blobs/.0.aiwg-tmp.{dead}.2"),
        ];
        for path in &debris {
            let path = h.victim().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "half").unwrap();
        }
        let out = h.run(&["check"]);
        assert_eq!(out.code, 1, "marked {marked}: {}{}", out.stdout, out.stderr);
        for path in &debris {
            assert!(
                out.stdout.contains(&format!("stray\t{path}")),
                "marked {marked}: {path}: {}",
                out.stdout
            );
        }
        // A folder of this machine's cut off while its mark was written has only that temp.
        let cut = format!(".aiwg/history/2/.mark.aiwg-tmp.{dead}.3");
        std::fs::create_dir(h.victim().join(".aiwg/history/2")).unwrap();
        std::fs::write(h.victim().join(&cut), "half").unwrap();
        let out = h.run(&["check"]);
        assert!(
            out.stdout.contains(&format!("stray\t{cut}")),
            "marked {marked}: {}",
            out.stdout
        );
        let out = h.run(&["apply"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        for path in debris.iter().chain([&cut]) {
            assert!(!h.victim().join(path).exists(), "{path} was left");
        }
        assert!(h.victim().join(".aiwg/history/999999/blobs/0").is_file());
    }
}

#[test]
fn a_committed_mark_that_is_a_link_or_a_folder_never_blocks_anything() {
    for shape in ["link", "folder"] {
        let h = Hostile::new();
        h.project();
        match shape {
            "link" => {
                h.symlink(".aiwg/history/5/mark", "/etc/passwd");
            }
            _ => {
                h.write(".aiwg/history/5/mark/x", "x");
            }
        }
        h.clone();
        // The first apply makes the key, the second reads marks with it.
        for _ in 0..2 {
            let out = h.run(&["apply"]);
            assert_eq!(out.code, 0, "{shape}: {}", out.stderr);
            assert!(
                out.stderr.contains(".aiwg/history/5"),
                "{shape}: {}",
                out.stderr
            );
            let path = h.victim().join(".aiwg/agents/docs.md");
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str("more\n");
            std::fs::write(path, text).unwrap();
        }
        let out = h.run(&["rollback", "--list"]);
        assert_eq!(out.code, 0, "{shape}: {}", out.stderr);
        assert!(out.stdout.contains("GEN"), "{shape}: {}", out.stdout);
        let out = h.run(&["check"]);
        assert_ne!(out.code, 2, "{shape}: {}", out.stderr);
    }
}

#[test]
fn a_huge_committed_manifest_is_never_parsed_whole() {
    // 14 MB of `[[path]]` tables that git ships in a few hundred KB: parsed as TOML (a 50 MB
    // one took 2 GB and 20 s on every apply), this needs more than the limit.
    let h = Hostile::new();
    let mut text = manifest(3, ".claude/agents/docs.md");
    for i in 0..400_000 {
        text.push_str(&format!("[[path]]\npath = \"a/b/c/{i}.md\"\n"));
    }
    text.push_str("[[path]]\npath = \".git/hooks/pre-push\"\n# mark: 00\n");
    h.project().write(".aiwg/history/3/manifest.toml", text);
    h.clone();
    for args in [&["apply"][..], &["rollback", "--list"]] {
        let out = h.run_limited(600, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(".aiwg/history/3") && out.stderr.contains("ignored"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // A small one is still read, and the path it would restore named.
    let h = Hostile::new();
    let text = format!("{}# mark: 00\n", manifest(3, ".git/hooks/pre-push"));
    h.project().write(".aiwg/history/3/manifest.toml", text);
    h.clone();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("names `.git/hooks/pre-push`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_committed_symlinked_history_folder_never_receives_backups() {
    // `.aiwg/history -> ../docs`: backups written through it would be copies of the victim's
    // files (a merged `.mcp.json` holding a token, say) in a folder git does not ignore and
    // that keeps its mode, one `git add -A` from being pushed.
    let h = Hostile::new();
    h.project()
        .write("docs/README.md", "docs\n")
        .symlink(".aiwg/history", "../docs");
    h.clone();
    let before = h.outside();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`.aiwg/history` resolves to `docs` through a symlink")
            && out.stderr.contains("hint: remove that symlink"),
        "{}",
        out.stderr
    );
    let docs: Vec<_> = std::fs::read_dir(h.victim().join("docs"))
        .unwrap()
        .collect();
    assert_eq!(docs.len(), 1, "nothing was written into docs/");
    assert!(
        h.read(".claude/agents/docs.md").is_none(),
        "nothing deployed before the history"
    );
    h.assert_contained(&before);
    std::fs::remove_file(h.victim().join(".aiwg/history")).unwrap();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(h.victim().join(".aiwg/history/1/manifest.toml").is_file());
}

#[test]
fn a_committed_file_where_a_folder_goes_is_named_as_a_file_with_a_hint() {
    // `.aiwg/history` as a plain file: the history cannot be made, and the message says that
    // a file is in the way (not "a folder or a special file"), before anything is written.
    let h = Hostile::new();
    h.project().write(".aiwg/history", "not a folder\n");
    h.clone();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`.aiwg/history` is a file where aiwg needs a folder")
            && out.stderr.contains("hint: move that file away"),
        "{}",
        out.stderr
    );
    assert!(
        h.read(".claude/agents/docs.md").is_none(),
        "nothing deployed before the history"
    );
    // A file where a platform folder goes is a conflict naming that file, never forced.
    let h = Hostile::new();
    h.project().write(".claude/agents", "a file\n");
    h.clone();
    for args in [&["apply"][..], &["apply", "--force"]] {
        let out = h.run(args);
        assert_ne!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("the file `.claude/agents` is where its folder goes"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(h.read(".claude/agents").as_deref(), Some(&b"a file\n"[..]));
    }
}
