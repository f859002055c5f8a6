//! Apply, history and rollback on `MemSystem`.

use super::*;
use crate::history;
use crate::rollback::{self, RollbackOptions};
use crate::system::{MemSystem, System};
use crate::{ApplyOptions, DeployError, Engine, Layout};

/// Plans and applies `t` with `options`; returns the report or the error.
pub fn run(
    sys: &MemSystem,
    t: &TargetState,
    options: &ApplyOptions,
) -> Result<crate::ApplyReport, DeployError> {
    let engine = Engine::shared(sys, Layout::project());
    let (p, lock) = engine.plan(t)?;
    engine.apply(&p, &lock, options)
}

pub fn force() -> ApplyOptions {
    ApplyOptions {
        force: true,
        ..ApplyOptions::default()
    }
}

/// The files outside aiwg's history and process lock: what a user sees.
pub fn visible(sys: &MemSystem) -> std::collections::BTreeMap<String, crate::system::FileData> {
    let mut files = sys.files();
    files.retain(|k, _| !k.starts_with(".aiwg/"));
    files
}

fn rollback(
    sys: &MemSystem,
    to: Option<u64>,
    force: bool,
) -> Result<crate::RollbackReport, DeployError> {
    let engine = Engine::shared(sys, Layout::project());
    rollback::rollback(
        &engine,
        &RollbackOptions {
            to,
            force,
            keep: 10,
        },
    )
}

#[test]
fn apply_writes_files_and_lock_then_a_second_apply_changes_nothing() {
    let sys = MemSystem::with_files(&[("README.md", "mine")]);
    let t = target(vec![file(".claude/agents/a.md", "A"), file("b.md", "B")]);
    let report = run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(
        report.summary.to_string(),
        "2 created, 0 updated, 0 deleted, 0 unchanged"
    );
    assert_eq!(report.generation, Some(1));
    assert!(report.lock_written);
    assert_eq!(sys.text(".claude/agents/a.md").unwrap(), "A");
    let lock_text = sys.text("aiwg.lock").unwrap();
    assert!(
        lock_text.contains("path = \".claude/agents/a.md\""),
        "{lock_text}"
    );
    // .git does not exist, so the history is ignored through .gitignore.
    assert_eq!(
        sys.text(".gitignore").unwrap(),
        "# aiwg: apply backups (aiwg rollback)\n/.aiwg/history/\n# aiwg: check cache (safe to delete)\n/.aiwg/check-cache\n"
    );

    let before = sys.mutations();
    let report = run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(
        report.summary.to_string(),
        "0 created, 0 updated, 0 deleted, 2 unchanged"
    );
    assert_eq!((report.generation, report.lock_written), (None, false));
    assert_eq!(sys.mutations(), before, "a no-change apply writes nothing");
}

#[test]
fn conflicts_stop_apply_before_any_write() {
    let sys = MemSystem::with_files(&[("b.md", "theirs")]);
    let t = target(vec![file("a.md", "A"), file("b.md", "B")]);
    let err = run(&sys, &t, &ApplyOptions::default()).unwrap_err();
    match err {
        DeployError::Conflicts { paths } => {
            assert_eq!(
                paths,
                vec![(rel("b.md"), "not written by aiwg".to_string())]
            )
        }
        other => panic!("{other}"),
    }
    assert_eq!(sys.mutations(), 0);
}

#[test]
fn force_backs_up_then_rollback_restores_and_rollback_of_rollback_redoes() {
    let sys = MemSystem::with_files(&[("b.md", "theirs")]);
    let t = target(vec![file("a.md", "A"), file("b.md", "B")]);
    let start = visible(&sys);
    sys.watch_syncs("b.md");
    let report = run(&sys, &t, &force()).unwrap();
    assert_eq!(report.overwritten, vec![rel("b.md")]);
    // The backup of the user's bytes is flushed before they are replaced, then the files
    // before the lock (ARCHITECTURE.md, "Durability").
    assert_eq!(
        sys.synced(),
        vec![Some(b"theirs".to_vec()), Some(b"B".to_vec())]
    );
    let applied = visible(&sys);
    assert_eq!(sys.text("b.md").unwrap(), "B");
    assert_eq!(sys.text(".aiwg/history/1/blobs/1").unwrap(), "theirs");

    let back = rollback(&sys, None, false).unwrap();
    assert_eq!(back.undone, vec![1]);
    let mut expect = start.clone();
    expect.insert(".gitignore".into(), applied[".gitignore"].clone());
    assert_eq!(
        visible(&sys),
        expect,
        "rollback restores bytes and removes the lock"
    );
    assert!(sys.text("aiwg.lock").is_none());

    rollback(&sys, None, false).unwrap();
    assert_eq!(
        visible(&sys),
        applied,
        "rolling back the rollback redoes the apply"
    );
}

/// `rollback --force` replaces a file the user edited since the apply, as `apply --force`
/// does: the backup of their edit (in the rollback's own generation) is flushed before the
/// file is replaced (review19: only `apply --force` synced first).
#[test]
fn rollback_force_flushes_the_backup_of_an_edit_before_replacing_it() {
    let sys = MemSystem::new();
    let t = target(vec![file("a.md", "A"), file("b.md", "B")]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    sys.put("b.md", b"mine", false);
    sys.watch_syncs("b.md");
    let back = rollback(&sys, None, true).unwrap();
    assert_eq!(back.undone, vec![1]);
    assert!(sys.text("b.md").is_none());
    assert_eq!(sys.synced(), vec![Some(b"mine".to_vec()), None]);
    // Listed as `--force`'s, so the prune keeps it.
    let engine = Engine::shared(&sys, Layout::project());
    let listing = history::list(&engine).unwrap();
    let newest = listing.generations.last().unwrap();
    assert_eq!(
        (newest.generation, newest.forced.clone()),
        (2, vec![rel("b.md")])
    );
}

#[test]
fn stale_files_are_deleted_with_the_folders_they_empty_but_not_others() {
    let sys = MemSystem::new();
    let t = target(vec![
        file("x/only/a.md", "A"),
        file("y/b.md", "B"),
        file("keep.md", "K"),
    ]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    sys.put("y/user.md", b"user", false);
    let report = run(
        &sys,
        &target(vec![file("keep.md", "K")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(report.summary.deleted, 2);
    assert!(!sys.dirs().contains("x/only") && !sys.dirs().contains("x"));
    assert!(sys.dirs().contains("y"));
    assert_eq!(sys.text("y/user.md").unwrap(), "user");
    let lock = sys.text("aiwg.lock").unwrap();
    assert!(!lock.contains("y/b.md"), "{lock}");
}

#[test]
fn only_folders_aiwg_made_are_removed_when_they_empty() {
    // R16: `.claude` and `.claude/agents` were the user's (empty); `.claude/agents/deep` is
    // aiwg's. Removing its files takes only the folder it made.
    let sys = MemSystem::new();
    sys.create_dir_all(&rel(".claude/agents")).unwrap();
    let t = target(vec![
        file(".claude/agents/a.md", "A"),
        file(".claude/agents/deep/b.md", "B"),
        file("new/c.md", "C"),
    ]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    let lock = sys.text("aiwg.lock").unwrap();
    assert!(
        lock.contains("dirs = [\".claude/agents/deep\", \"new\"]"),
        "{lock}"
    );
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    let dirs = sys.dirs();
    assert!(dirs.contains(".claude/agents"), "{dirs:?}");
    assert!(
        !dirs.contains(".claude/agents/deep") && !dirs.contains("new"),
        "{dirs:?}"
    );
    // Rolling the removal back and forth keeps to the same folders.
    rollback(&sys, None, false).unwrap();
    assert!(sys.text(".claude/agents/deep/b.md").is_some());
    rollback(&sys, None, false).unwrap();
    let dirs = sys.dirs();
    assert!(dirs.contains(".claude/agents"), "{dirs:?}");
    assert!(!dirs.contains(".claude/agents/deep"), "{dirs:?}");
}

#[test]
fn a_lock_naming_a_git_folder_as_aiwgs_is_an_error() {
    let text = "version = 2\ndirs = [\".git/hooks\"]\n";
    let err = crate::lock::Lock::parse("aiwg.lock", text).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("aiwg.lock:2: entry `.git/hooks`"),
        "{err}"
    );
}

#[test]
fn an_edited_stale_file_is_kept_and_released_by_force() {
    let sys = MemSystem::new();
    run(
        &sys,
        &target(vec![file("a.md", "A")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    sys.put("a.md", b"A edited", false);
    let empty = TargetState::new();
    assert!(matches!(
        run(&sys, &empty, &ApplyOptions::default()),
        Err(DeployError::Conflicts { .. })
    ));
    let report = run(&sys, &empty, &force()).unwrap();
    assert_eq!(report.released, vec![rel("a.md")]);
    assert_eq!(sys.text("a.md").unwrap(), "A edited");
    assert!(
        sys.text("aiwg.lock").is_none(),
        "nothing is managed any more"
    );
}

#[test]
fn history_keeps_the_newest_generations_and_rollback_to_undoes_several() {
    let sys = MemSystem::new();
    let keep3 = ApplyOptions {
        keep: 3,
        ..ApplyOptions::default()
    };
    for i in 0..5 {
        run(&sys, &target(vec![file("a.md", &format!("v{i}"))]), &keep3).unwrap();
    }
    let engine = Engine::shared(&sys, Layout::project());
    let numbers: Vec<u64> = history::list(&engine)
        .unwrap()
        .generations
        .iter()
        .map(|g| g.generation)
        .collect();
    assert_eq!(numbers, vec![3, 4, 5]);
    let err = rollback(&sys, Some(1), false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "generation 1 does not exist (there are: 3, 4, 5)"
    );
    let report = rollback(&sys, Some(4), false).unwrap();
    assert_eq!(report.undone, vec![4, 5]);
    assert_eq!(sys.text("a.md").unwrap(), "v2");
    let lock = engine.read_lock().unwrap();
    assert_eq!(
        lock.get(&rel("a.md"), &crate::Part::Whole).unwrap().sha256,
        sha256_hex(b"v2"),
        "the lock is restored with the files"
    );
}

/// A folder name that Rust's integer parser reads as the number of one of this machine's
/// generations (`+3`, `03`) is not that generation again: counted twice, it made the prune
/// after an apply drop generations the `keep` setting keeps (a committed `.aiwg/history/+3`
/// emptied the user's undo history).
#[test]
fn a_folder_spelling_a_generations_number_otherwise_is_not_that_generation() {
    let sys = MemSystem::new();
    let keep3 = ApplyOptions {
        keep: 3,
        ..ApplyOptions::default()
    };
    for i in 0..3 {
        run(&sys, &target(vec![file("a.md", &format!("v{i}"))]), &keep3).unwrap();
    }
    for alias in ["+3", "03", "003", "+03", "+2", "02"] {
        sys.put(&format!(".aiwg/history/{alias}/manifest.toml"), b"x", false);
    }
    let engine = Engine::shared(&sys, Layout::project());
    let numbers = |engine: &Engine<'_>| -> Vec<u64> {
        history::list(engine)
            .unwrap()
            .generations
            .iter()
            .map(|g| g.generation)
            .collect()
    };
    assert_eq!(numbers(&engine), vec![1, 2, 3]);
    run(&sys, &target(vec![file("a.md", "v3")]), &keep3).unwrap();
    assert_eq!(numbers(&engine), vec![2, 3, 4], "keep = 3 keeps three");
    let report = rollback(&sys, Some(3), false).unwrap();
    assert_eq!(report.undone, vec![3, 4]);
    assert_eq!(sys.text("a.md").unwrap(), "v1");
}

#[test]
fn an_apply_reads_each_older_manifest_once_and_never_its_own() {
    let sys = MemSystem::new();
    let keep3 = ApplyOptions {
        keep: 3,
        ..ApplyOptions::default()
    };
    for i in 0..3 {
        run(&sys, &target(vec![file("a.md", &format!("v{i}"))]), &keep3).unwrap();
    }
    let manifest = |n: u64| format!(".aiwg/history/{n}/manifest.toml");
    let before: Vec<usize> = (1..=4).map(|n| sys.reads_of(&manifest(n))).collect();
    run(&sys, &target(vec![file("a.md", "v3")]), &keep3).unwrap();
    let reads: Vec<usize> = (1..=4)
        .map(|n| sys.reads_of(&manifest(n)) - before[n as usize - 1])
        .collect();
    // The newest (3) is read for what it may have left interrupted and by the listing the
    // generation is numbered from; the others by that listing only; the new one (4) never,
    // though the prune after it drops generation 1.
    assert_eq!(reads, [1, 1, 2, 0]);
    let engine = Engine::shared(&sys, Layout::project());
    let numbers: Vec<u64> = history::list(&engine)
        .unwrap()
        .generations
        .iter()
        .map(|g| g.generation)
        .collect();
    assert_eq!(numbers, vec![2, 3, 4]);
}

#[test]
fn rollback_refuses_a_file_changed_since_unless_forced() {
    let sys = MemSystem::new();
    run(
        &sys,
        &target(vec![file("a.md", "A")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    sys.put("a.md", b"later edit", false);
    let err = rollback(&sys, None, false).unwrap_err();
    assert!(matches!(err, DeployError::Conflicts { .. }), "{err}");
    assert_eq!(sys.text("a.md").unwrap(), "later edit");
    let report = rollback(&sys, None, true).unwrap();
    assert_eq!(report.restored, vec![rel("a.md")]);
    assert!(sys.text("a.md").is_none());
    // The edit is not lost: rolling back the rollback brings it back.
    rollback(&sys, None, false).unwrap();
    assert_eq!(sys.text("a.md").unwrap(), "later edit");
}

#[test]
fn a_marked_manifest_naming_a_git_path_is_ignored_by_every_listing_with_its_line() {
    let sys = MemSystem::new();
    run(
        &sys,
        &target(vec![file("a.md", "A"), file("b.md", "B")]),
        &force(),
    )
    .unwrap();
    let manifest = ".aiwg/history/1/manifest.toml";
    let text = sys.text(manifest).unwrap();
    let body = &text[..text.rfind("# mark: ").unwrap()];
    let body = body.replace("path = \"b.md\"", "path = \".git/config\"");
    let engine = Engine::shared(&sys, Layout::project());
    let mark = engine.keys.for_writing().unwrap().mac(body.as_bytes());
    sys.put(
        manifest,
        format!("{body}# mark: {mark}\n").as_bytes(),
        false,
    );
    let full = history::list(&engine).unwrap();
    let heads = history::list_heads(&engine).unwrap();
    assert_eq!(full.ignored.len(), 1, "{:?}", full.ignored);
    assert!(
        full.ignored[0].reason.contains("names `.git/config`"),
        "{:?}",
        full.ignored
    );
    assert!(
        full.ignored[0].reason.starts_with("line "),
        "{:?}",
        full.ignored
    );
    assert_eq!(
        heads.ignored, full.ignored,
        "the same folder, the same line"
    );
    assert!(heads.generations.is_empty() && full.generations.is_empty());
}

#[test]
fn a_hand_edited_manifest_is_ignored_not_replayed() {
    let sys = MemSystem::with_files(&[("b.md", "theirs")]);
    run(&sys, &target(vec![file("b.md", "B")]), &force()).unwrap();
    let manifest = ".aiwg/history/1/manifest.toml";
    let text = sys.text(manifest).unwrap();
    assert!(text.contains("before = \"blobs/0\""), "{text}");
    let edited = text.replace("before = \"blobs/0\"", "before = \"../../../b.md\"");
    sys.put(manifest, edited.as_bytes(), false);
    let err = rollback(&sys, None, false).unwrap_err().to_string();
    assert_eq!(
        err,
        "there is nothing to roll back: `.aiwg/history` holds no generation"
    );
    let engine = Engine::shared(&sys, Layout::project());
    let listing = history::list(&engine).unwrap();
    assert_eq!(listing.ignored.len(), 1);
    assert!(
        listing.ignored[0]
            .reason
            .contains("not written by aiwg on this machine"),
        "{:?}",
        listing.ignored
    );
    assert_eq!(sys.text("b.md").unwrap(), "B", "nothing was rolled back");
    // Asked for by number, it names why.
    let err = rollback(&sys, Some(1), false).unwrap_err().to_string();
    assert!(err.contains("generation 1 is ignored"), "{err}");
}

#[test]
fn history_marked_with_another_key_is_foreign() {
    let sys = MemSystem::new();
    let theirs = crate::mark::HistoryKey::generate();
    let engine =
        Engine::shared(&sys, Layout::project()).with_keys(crate::mark::KeySource::Fixed(theirs));
    let (p, lock) = engine.plan(&target(vec![file("a.md", "A")])).unwrap();
    engine.apply(&p, &lock, &ApplyOptions::default()).unwrap();
    // This process's key verifies nothing the other key marked.
    let err = rollback(&sys, None, false).unwrap_err();
    assert!(matches!(err, DeployError::NoHistory { .. }), "{err}");
    // Our next apply is generation 2, resumes nothing, and rolls back alone.
    let report = run(
        &sys,
        &target(vec![file("a.md", "A2")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(report.generation, Some(2));
    assert!(!sys
        .text(".aiwg/history/2/manifest.toml")
        .unwrap()
        .contains("resumes"));
    rollback(&sys, None, false).unwrap();
    assert_eq!(sys.text("a.md").unwrap(), "A");
    assert!(
        sys.text(".aiwg/history/1/manifest.toml").is_some(),
        "never pruned"
    );
}

#[test]
fn a_changed_backup_is_refused() {
    let sys = MemSystem::with_files(&[("b.md", "theirs")]);
    run(&sys, &target(vec![file("b.md", "B")]), &force()).unwrap();
    sys.put(".aiwg/history/1/blobs/0", b"#!/bin/sh\nevil\n", true);
    let err = rollback(&sys, None, false).unwrap_err().to_string();
    assert!(
        err.contains("this backup was changed since aiwg wrote it"),
        "{err}"
    );
    assert_eq!(sys.text("b.md").unwrap(), "B");
}

#[test]
fn a_force_backup_outlives_pruning_and_only_foreign_folders_stay() {
    // R17: the generation holding the bytes `--force` overwrote is never pruned.
    let sys = MemSystem::with_files(&[("a.md", "PRECIOUS")]);
    let keep2 = ApplyOptions {
        keep: 2,
        ..ApplyOptions::default()
    };
    run(
        &sys,
        &target(vec![file("a.md", "v0")]),
        &ApplyOptions {
            force: true,
            ..keep2.clone()
        },
    )
    .unwrap();
    sys.put(".aiwg/history/77/blobs/0", b"foreign", false);
    for i in 1..6 {
        run(&sys, &target(vec![file("a.md", &format!("v{i}"))]), &keep2).unwrap();
    }
    let engine = Engine::shared(&sys, Layout::project());
    let listing = history::list(&engine).unwrap();
    let numbers: Vec<u64> = listing.generations.iter().map(|g| g.generation).collect();
    assert_eq!(
        numbers,
        vec![1, 5, 6],
        "the foreign folder 77 takes no part"
    );
    assert_eq!(listing.generations[0].forced, vec![rel("a.md")]);
    assert_eq!(sys.text(".aiwg/history/1/blobs/0").unwrap(), "PRECIOUS");
    assert_eq!(sys.text(".aiwg/history/77/blobs/0").unwrap(), "foreign");
    assert_eq!(listing.ignored.len(), 1);
    // Apply's own listing is the same without the paths.
    let heads = history::list_heads(&engine).unwrap();
    let without_paths: Vec<history::Generation> = listing
        .generations
        .iter()
        .map(|g| history::Generation {
            paths: vec![],
            ..g.clone()
        })
        .collect();
    assert!(listing.generations.iter().all(|g| !g.paths.is_empty()));
    assert_eq!(heads.generations, without_paths);
    assert_eq!(heads.ignored, listing.ignored);
    // `rollback --list` prints the count of paths, which the heads keep.
    for (head, full) in heads.generations.iter().zip(&listing.generations) {
        assert_eq!(head.path_count, full.paths.len());
    }
}

#[test]
fn foreign_folders_cost_a_look_not_a_read() {
    // A folder this machine did not begin: its (large) manifest is never read, nor a mark
    // larger than a mark; a mark that is a folder is simply not a mark.
    let sys = MemSystem::new();
    run(
        &sys,
        &target(vec![file("a.md", "1")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    let big = format!(
        "version = 2\ngeneration = 9\n{}",
        "[[path]]\npath = \"x.md\"\n".repeat(100_000)
    );
    sys.put(".aiwg/history/9/manifest.toml", big.as_bytes(), false);
    sys.put(".aiwg/history/9/mark", &[b'0'; 4096], false);
    sys.put(".aiwg/history/8/mark/inside", b"x", false);
    sys.put(".aiwg/history/8/manifest.toml", b"version = 2\n", false);
    sys.put(".aiwg/history/7/mark", &[b'0'; 4096], false);
    let engine = Engine::shared(&sys, Layout::project());
    for heads in [false, true] {
        let listing = match heads {
            false => history::list(&engine).unwrap(),
            true => history::list_heads(&engine).unwrap(),
        };
        let numbers: Vec<u64> = listing.generations.iter().map(|g| g.generation).collect();
        assert_eq!(numbers, vec![1]);
        let ignored: Vec<u64> = listing.ignored.iter().map(|i| i.generation).collect();
        assert_eq!(ignored, vec![7, 8, 9]);
    }
    assert_eq!(sys.reads_of(".aiwg/history/9/manifest.toml"), 0);
    assert_eq!(sys.reads_of(".aiwg/history/9/mark"), 0);
    assert_eq!(sys.reads_of(".aiwg/history/7/mark"), 0);
    run(
        &sys,
        &target(vec![file("a.md", "2")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(sys.reads_of(".aiwg/history/9/manifest.toml"), 0);
}

#[test]
fn no_history_is_a_clear_error() {
    let sys = MemSystem::new();
    assert_eq!(
        rollback(&sys, None, false).unwrap_err().to_string(),
        "there is nothing to roll back: `.aiwg/history` holds no generation"
    );
}

#[test]
fn history_is_ignored_through_git_exclude_once() {
    let sys = MemSystem::with_files(&[(".git/info/exclude", "# git ls-files --others\n")]);
    run(
        &sys,
        &target(vec![file("a.md", "1")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    run(
        &sys,
        &target(vec![file("a.md", "2")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(
        sys.text(".git/info/exclude").unwrap(),
        "# git ls-files --others\n# aiwg: apply backups (aiwg rollback)\n/.aiwg/history/\n# aiwg: check cache (safe to delete)\n/.aiwg/check-cache\n"
    );
    assert!(sys.text(".gitignore").is_none());
}

#[test]
fn the_check_cache_is_ignored_like_the_history() {
    let check = |ignore_file: &str, before: &str, expect: &str| {
        let sys = MemSystem::with_files(&[(ignore_file, before)]);
        let engine = Engine::shared(&sys, Layout::project());
        engine.write_check_cache(b"cache").unwrap();
        assert_eq!(sys.text(".aiwg/check-cache").unwrap(), "cache");
        let ignore_file = if ignore_file.starts_with(".git/") {
            ignore_file
        } else {
            ".gitignore"
        };
        assert_eq!(sys.text(ignore_file).unwrap(), expect, "{before:?}");
    };
    let history = "# aiwg: apply backups (aiwg rollback)\n/.aiwg/history/\n";
    let cache = "# aiwg: check cache (safe to delete)\n/.aiwg/check-cache\n";
    // Nothing yet: both lines, in one write.
    check(".git/info/exclude", "", &format!("{history}{cache}"));
    check("notes.txt", "", &format!("{history}{cache}"));
    // A project ignored by an older aiwg gets the cache line only.
    check(".gitignore", history, &format!("{history}{cache}"));
    // `.aiwg/` ignored as a whole covers both; nothing is added.
    check(".gitignore", "target\n.aiwg/\n", "target\n.aiwg/\n");
    check(".gitignore", "/.aiwg", "/.aiwg");
}

#[test]
fn targets_may_not_touch_git_or_aiwg_state() {
    let sys = MemSystem::new();
    for path in [
        ".git/hooks/pre-commit",
        "aiwg.lock",
        ".aiwg/history/1/x",
        ".aiwg/check-cache",
    ] {
        let err = run(
            &sys,
            &target(vec![file(path, "x")]),
            &ApplyOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, DeployError::Reserved { .. }), "{path}: {err}");
    }
    assert_eq!(sys.mutations(), 0);
}

#[test]
fn a_corrupt_or_newer_lock_stops_everything() {
    for (text, expect) in [
        ("version = 7\n", "format version 7"),
        ("not toml at all [", "aiwg.lock:1: not a valid lock file"),
    ] {
        let sys = MemSystem::with_files(&[("aiwg.lock", text)]);
        let err = run(
            &sys,
            &target(vec![file("a.md", "A")]),
            &ApplyOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains(expect), "{err}");
        assert_eq!(sys.text("aiwg.lock").unwrap(), text, "never silently reset");
        let _ = sys.read(&rel("a.md"));
        assert!(sys.text("a.md").is_none());
    }
}

#[test]
fn a_crlf_checkout_of_what_aiwg_wrote_is_unchanged_and_still_aiwgs() {
    // R7: git with core.autocrlf=true checks aiwg's LF files out with CRLF.
    let sys = MemSystem::new();
    let t = target(vec![file("a.md", "one\ntwo\n"), file("b.md", "gone\n")]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    let lock = sys.text("aiwg.lock").unwrap();
    sys.put("a.md", b"one\r\ntwo\r\n", false);
    sys.put("b.md", b"gone\r\n", false);
    let engine = Engine::shared(&sys, Layout::project());
    let (p, _) = engine.plan(&t).unwrap();
    assert!(p.is_empty(), "{:?}", p.items);
    assert!(p.items.iter().all(|i| i.state() == crate::State::Ok));
    let before = sys.mutations();
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(sys.mutations(), before, "nothing rewritten");
    assert_eq!(
        sys.text("aiwg.lock").unwrap(),
        lock,
        "the lock keeps the LF hashes"
    );
    // Still aiwg's: an update replaces it, a stale one is deleted, without --force.
    let next = target(vec![file("a.md", "one\nthree\n")]);
    run(&sys, &next, &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("a.md").unwrap(), "one\nthree\n");
    assert!(sys.text("b.md").is_none());
    // A lone CR, or real edits, are not line-ending conversions.
    sys.put("a.md", b"one\r\nthree\r", false);
    let (p, _) = engine.plan(&next).unwrap();
    assert_eq!(p.items[0].state(), crate::State::Edited);
}

#[test]
fn force_clears_a_folder_of_the_user_s_files_after_a_backup_and_rollback_restores_it() {
    let sys = MemSystem::new();
    run(
        &sys,
        &target(vec![file("f/a.md", "A"), file("f/d/b.md", "B")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    sys.put("f/mine.md", b"the user's", true);
    sys.put("f/d/b.md", b"edited", false);
    let t = target(vec![file("f", "one file")]);
    let before = visible(&sys);
    // Unforced: refused, nothing touched.
    assert!(matches!(
        run(&sys, &t, &ApplyOptions::default()),
        Err(DeployError::Conflicts { .. })
    ));
    assert_eq!(visible(&sys), before);
    // A file `--force` backs up gone between the plan and the apply: it stops before any
    // delete, aiwg's own included.
    let engine = Engine::shared(&sys, Layout::project());
    let (p, lock) = engine.plan(&t).unwrap();
    assert_eq!(
        p.forced_in_the_way.files.len(),
        2,
        "{:?}",
        p.forced_in_the_way
    );
    sys.delete("f/mine.md");
    let err = engine.apply(&p, &lock, &force()).unwrap_err().to_string();
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(sys.text("f/a.md").as_deref(), Some("A"));
    assert_eq!(sys.text("f/d/b.md").as_deref(), Some("edited"));
    sys.put("f/mine.md", b"the user's", true);
    // Forced: both files backed up in the generation (kept from pruning), deleted, the
    // folders removed, the file written; counted as deletes, the edited one not released.
    let report = run(&sys, &t, &force()).unwrap();
    assert_eq!(
        report.removed,
        [
            RelPath::new("f/d/b.md").unwrap(),
            RelPath::new("f/mine.md").unwrap()
        ]
    );
    assert!(report.released.is_empty(), "{:?}", report.released);
    assert_eq!(
        report.summary.to_string(),
        "1 created, 0 updated, 3 deleted, 0 unchanged"
    );
    let files: Vec<String> = visible(&sys).into_keys().collect();
    assert_eq!(files, [".gitignore", "aiwg.lock", "f"]);
    let g = history::list(&Engine::shared(&sys, Layout::project())).unwrap();
    let newest = g.generations.last().unwrap();
    assert_eq!(newest.forced.len(), 2, "{newest:?}");
    // Rollback brings the folder back byte for byte, the executable bit included.
    rollback(&sys, None, false).unwrap();
    assert_eq!(visible(&sys), before);
    assert!(sys.files()["f/mine.md"].executable);
}
