//! Every row of the plan table (DESIGN.md), for whole files, on `MemSystem`.

use super::*;
use crate::plan::{plan, Action, ConflictKind, State};
use crate::system::MemSystem;

/// One row: what is desired, on disk and in the lock at `f.md`, and what the plan says.
fn check(
    desired: Option<&str>,
    disk: Option<&str>,
    locked: Option<&str>,
    expect: (Action, State, Option<ConflictKind>),
) {
    let sys = MemSystem::new();
    if let Some(text) = disk {
        sys.put("f.md", text.as_bytes(), false);
    }
    let t = target(desired.map(|d| file("f.md", d)).into_iter().collect());
    let lock = lock_files(&locked.map(|l| ("f.md", l)).into_iter().collect::<Vec<_>>());
    let p = plan(&t, &sys, &lock).unwrap();
    let row = format!("desired {desired:?}, disk {disk:?}, lock {locked:?}");
    assert_eq!(p.items.len(), 1, "{row}");
    let item = &p.items[0];
    assert_eq!(
        (item.action, item.state(), item.conflict().cloned()),
        expect,
        "{row}"
    );
    // What apply would leave on disk and in the lock.
    let after = p.lock_after(&lock);
    match item.action {
        Action::Create | Action::Update | Action::Unchanged => {
            assert_eq!(item.new_data().unwrap().bytes, desired.unwrap().as_bytes());
            let entry = after
                .get(&rel("f.md"), &crate::Part::Whole)
                .expect("locked after");
            assert_eq!(
                entry.sha256,
                sha256_hex(desired.unwrap().as_bytes()),
                "{row}"
            );
        }
        Action::Delete | Action::Drop => {
            assert_eq!(item.new_data(), None, "{row}");
            assert!(after.is_empty(), "{row}");
        }
        Action::Conflict => {
            // Forced: the wanted bytes are written, or an edited stale file is kept.
            let kept = disk.unwrap().as_bytes();
            let forced = desired.map_or(kept, str::as_bytes);
            assert_eq!(item.new_data().unwrap().bytes, forced, "{row}");
        }
    }
}

#[test]
fn every_row_of_the_plan_table() {
    use Action::*;
    // desired yes, absent: create, whatever the lock says.
    check(Some("new"), None, None, (Create, State::Missing, None));
    check(
        Some("new"),
        None,
        Some("old"),
        (Create, State::Missing, None),
    );
    // desired yes, equal on disk: unchanged (and adopted into the lock), whatever the lock says.
    check(
        Some("same"),
        Some("same"),
        None,
        (Unchanged, State::Ok, None),
    );
    check(
        Some("same"),
        Some("same"),
        Some("older"),
        (Unchanged, State::Ok, None),
    );
    check(
        Some("same"),
        Some("same"),
        Some("same"),
        (Unchanged, State::Ok, None),
    );
    // desired yes, differs, disk is what aiwg wrote: update.
    check(
        Some("new"),
        Some("old"),
        Some("old"),
        (Update, State::Outdated, None),
    );
    // desired yes, differs from lock and desired, ours: conflict, edited.
    check(
        Some("new"),
        Some("edited"),
        Some("old"),
        (Conflict, State::Edited, Some(ConflictKind::Edited)),
    );
    // desired yes, differs, not ours: conflict, unmanaged.
    check(
        Some("new"),
        Some("theirs"),
        None,
        (Conflict, State::Conflict, Some(ConflictKind::Unmanaged)),
    );
    // desired no, equal to locked: delete.
    check(None, Some("old"), Some("old"), (Delete, State::Stale, None));
    // desired no, edited: conflict, kept.
    check(
        None,
        Some("edited"),
        Some("old"),
        (Conflict, State::Edited, Some(ConflictKind::EditedStale)),
    );
    // desired no, absent, ours: drop from the lock.
    check(None, None, Some("old"), (Drop, State::Gone, None));
}

#[test]
fn a_file_aiwg_never_wrote_and_does_not_want_is_not_in_the_plan() {
    let sys = MemSystem::with_files(&[("mine.md", "user")]);
    let p = plan(&TargetState::new(), &sys, &Lock::new()).unwrap();
    assert!(p.items.is_empty());
}

#[test]
fn a_folder_of_the_user_s_files_in_the_way_is_a_conflict_force_clears() {
    use crate::plan::{Blocker, InTheWay};
    let sys = MemSystem::with_files(&[("f.md/inner", "x"), ("f.md/a/b", "y")]);
    let lock = lock_files(&[("f.md/a/b", "y")]);
    let p = plan(&target(vec![file("f.md", "x")]), &sys, &lock).unwrap();
    let item = &p.items[0];
    assert_eq!(
        item.conflict(),
        Some(&ConflictKind::FolderInTheWay(Box::new(InTheWay {
            path: "f.md/inner".into(),
            why: Blocker::Entry("which aiwg did not write".into()),
            more: false,
            forceable: true,
        })))
    );
    assert_eq!(
        item.conflict().unwrap().reason(),
        "a folder is in the way, holding `f.md/inner`, which aiwg did not write"
    );
    // `--force` writes the file, after deleting the user's file with the plan's own delete.
    assert!(item.new_data().is_some() && item.writes());
    assert!(p.folders_in_the_way.is_empty());
    let files: Vec<&str> = p
        .forced_in_the_way
        .files
        .iter()
        .map(|f| f.as_str())
        .collect();
    let folders: Vec<&str> = p
        .forced_in_the_way
        .folders
        .iter()
        .map(|f| f.as_str())
        .collect();
    assert_eq!(
        (files, folders),
        (vec!["f.md/inner"], vec!["f.md", "f.md/a"])
    );
    // An edited file of aiwg's is backed up and deleted too.
    sys.put("f.md/a/b", b"edited", false);
    let p = plan(&target(vec![file("f.md", "x")]), &sys, &lock).unwrap();
    assert!(p.items[0].conflict().unwrap().forceable());
    let files: Vec<&str> = p
        .forced_in_the_way
        .files
        .iter()
        .map(|f| f.as_str())
        .collect();
    assert_eq!(files, ["f.md/a/b", "f.md/inner"]);
}

#[test]
fn a_folder_in_the_way_holding_what_force_must_not_delete_is_an_unforceable_conflict() {
    // A name of git's folder (any spelling): never backed up and deleted, not even by
    // `--force` (a name the path join reads as another path is tested on a real disk).
    for (name, shown) in [
        (
            "f.md/sub/.GIT/config",
            "`f.md/sub/.GIT`, which names git's or aiwg's own folder",
        ),
        (
            "f.md/git~1",
            "`f.md/git~1`, which names git's or aiwg's own folder",
        ),
    ] {
        let sys = MemSystem::with_files(&[("f.md/inner", "x")]);
        sys.put(name, b"y", false);
        let p = plan(&target(vec![file("f.md", "x")]), &sys, &Lock::new()).unwrap();
        let item = &p.items[0];
        let c = item.conflict().unwrap();
        assert!(!c.forceable(), "{name}");
        assert!(c.reason().contains(shown), "{name}: {}", c.reason());
        assert_eq!(item.new_data(), item.old());
        assert!(p.forced_in_the_way.files.is_empty() && p.folders_in_the_way.is_empty());
    }
}

#[test]
fn a_folder_of_only_files_aiwg_deletes_is_no_conflict_for_the_file_in_its_place() {
    let sys = MemSystem::with_files(&[("f.md/inner", "x"), ("f.md/a/b", "y")]);
    let lock = lock_files(&[("f.md/inner", "x"), ("f.md/a/b", "y")]);
    let p = plan(&target(vec![file("f.md", "x")]), &sys, &lock).unwrap();
    let actions: Vec<(&str, Action)> = p
        .items
        .iter()
        .map(|i| (i.path.as_str(), i.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("f.md", Action::Create),
            ("f.md/a/b", Action::Delete),
            ("f.md/inner", Action::Delete)
        ]
    );
    let folders: Vec<&str> = p.folders_in_the_way.iter().map(|f| f.as_str()).collect();
    assert_eq!(folders, ["f.md", "f.md/a"]);
    // An edit in one of them keeps the folder, naming it.
    sys.put("f.md/a/b", b"edited", false);
    let p = plan(&target(vec![file("f.md", "x")]), &sys, &lock).unwrap();
    let why = p.items[0]
        .conflict()
        .map(|c| c.reason())
        .unwrap_or_default();
    assert!(
        why.contains("`f.md/a/b`, no longer wanted, but edited"),
        "{why}"
    );
    assert!(p.folders_in_the_way.is_empty());
}

#[test]
fn an_executable_bit_alone_is_an_update() {
    let sys = MemSystem::new();
    sys.put("run.sh", b"x", false);
    let mut entry = file("run.sh", "x");
    entry.desired = Desired::File {
        bytes: b"x".to_vec(),
        executable: true,
    };
    let p = plan(&target(vec![entry]), &sys, &Lock::new()).unwrap();
    assert_eq!(p.items[0].action, Action::Update);
    assert!(p.items[0].new_data().unwrap().executable);
    let after = p.lock_after(&Lock::new());
    assert!(
        after
            .get(&rel("run.sh"), &crate::Part::Whole)
            .unwrap()
            .executable
    );
}

#[test]
fn summary_counts_paths() {
    let sys = MemSystem::with_files(&[("a", "a"), ("b", "old"), ("d", "d")]);
    let lock = lock_files(&[("b", "old"), ("d", "d")]);
    let t = target(vec![file("a", "a"), file("b", "new"), file("c", "c")]);
    let p = plan(&t, &sys, &lock).unwrap();
    assert_eq!(
        p.summary().to_string(),
        "1 created, 1 updated, 1 deleted, 1 unchanged"
    );
    assert!(!p.has_conflicts());
    assert!(!p.is_empty());
}
