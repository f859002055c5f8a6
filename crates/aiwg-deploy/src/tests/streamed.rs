//! A streamed apply (a plan of digests, the bytes from a second render) against the apply
//! that holds every byte: the same report, files and lock on random trees, at every failure
//! point too; and a second render that gives other bytes, or none, stops before the lock.
//! The lock they write, one table at a time, is the text of the whole TOML document.

use aiwg_core::target::{Desired, TargetEntry, TargetState};

use super::apply::{force, run, visible};
use super::random::{disk_of, target_of, Rng};
use super::*;
use crate::system::MemSystem;
use crate::{ApplyOptions, ApplyReport, DeployError, Engine, Layout};

const SEEDS: u64 = 200;

/// `t` with every whole file's bytes replaced by their digest.
fn digests(t: &TargetState) -> TargetState {
    let mut out = TargetState::new();
    for e in t.entries() {
        out.insert(TargetEntry {
            desired: e.desired.clone().digested(),
            ..e.clone()
        })
        .unwrap();
    }
    out
}

/// What the second render makes of each file's bytes (`None`: it does not make the file).
type Rerender = dyn Fn(&RelPath, Vec<u8>) -> Option<Vec<u8>>;

/// Plans the digests of `t` and applies them, the bytes coming from `t` through `each`
/// (which may change them: a render that is not deterministic).
fn run_streamed_with(
    sys: &MemSystem,
    t: &TargetState,
    options: &ApplyOptions,
    each: &Rerender,
) -> Result<ApplyReport, DeployError> {
    let engine = Engine::shared(sys, Layout::project());
    let (plan, lock) = engine.plan(&digests(t))?;
    assert!(
        plan.items
            .iter()
            .all(|i| i.streamed().is_none() || i.new_data().is_some_and(|n| n.bytes.is_empty())),
        "a streamed plan holds no bytes of what it writes"
    );
    assert_holds_no_unchanged_bytes(&plan);
    let mut restream = |sink: crate::apply::FileSink<'_>| {
        for e in t.entries() {
            if let Desired::File { bytes, executable } = &e.desired {
                if let Some(bytes) = each(&e.path, bytes.clone()) {
                    sink(&e.path, &bytes, *executable, None);
                }
            }
        }
        Ok(())
    };
    engine.apply_streamed(&plan, &lock, options, &mut restream)
}

fn run_streamed(
    sys: &MemSystem,
    t: &TargetState,
    options: &ApplyOptions,
) -> Result<ApplyReport, DeployError> {
    run_streamed_with(sys, t, options, &|_, bytes| Some(bytes))
}

/// The same scenario twice: a first apply, a user's edit, and the next target.
fn scenario(seed: u64) -> (MemSystem, TargetState) {
    let mut rng = Rng::new(seed);
    let sys = MemSystem::new();
    disk_of(&mut rng, &sys);
    run(&sys, &target_of(&mut rng), &force()).unwrap();
    if let Some(path) = sys
        .files()
        .keys()
        .find(|p| p.ends_with(".md") && !p.starts_with(".aiwg"))
        .cloned()
    {
        sys.put(&path, b"edited by a person\n", false);
    }
    (sys, target_of(&mut rng))
}

#[test]
fn a_streamed_apply_writes_what_the_held_apply_writes() {
    let mut streamed_writes = 0;
    for seed in 0..SEEDS {
        for options in [ApplyOptions::default(), force()] {
            let (held_sys, next) = scenario(seed);
            let (streamed_sys, _) = scenario(seed);
            let held = run(&held_sys, &next, &options).map_err(|e| e.to_string());
            let streamed = run_streamed(&streamed_sys, &next, &options).map_err(|e| e.to_string());
            assert_eq!(streamed, held, "seed {seed}, force {}", options.force);
            assert_eq!(
                visible(&streamed_sys),
                visible(&held_sys),
                "seed {seed}, force {}: files or lock differ",
                options.force
            );
            // The lock written table by table is the whole document's text.
            if let Some(lock) = streamed_sys.files().get("aiwg.lock") {
                let text = String::from_utf8(lock.bytes.clone()).unwrap();
                let parsed = crate::Lock::parse("aiwg.lock", &text).unwrap();
                assert_eq!(parsed.to_toml_whole(), text, "seed {seed}");
            }
            if held.is_ok_and(|r| r.summary.created + r.summary.updated > 0) {
                streamed_writes += 1;
            }
        }
    }
    assert!(
        streamed_writes > 100,
        "{streamed_writes} scenarios wrote files"
    );
}

#[test]
fn a_failure_at_any_step_of_a_streamed_apply_converges_on_the_next_run() {
    let mut steps = 0;
    for seed in 0..16 {
        let (sys, next) = scenario(seed);
        let start = sys.mutations();
        run_streamed(&sys, &next, &force()).unwrap();
        let total = sys.mutations() - start;
        let expect = visible(&sys);
        for n in 1..=total {
            let (sys, next) = scenario(seed);
            sys.fail_on(Some(n));
            assert!(
                run_streamed(&sys, &next, &force()).is_err(),
                "seed {seed}: step {n}"
            );
            sys.fail_on(None);
            run_streamed(&sys, &next, &force())
                .unwrap_or_else(|e| panic!("seed {seed}, step {n}: {e}"));
            assert_eq!(
                visible(&sys),
                expect,
                "seed {seed}: step {n} did not converge"
            );
            steps += 1;
        }
    }
    assert!(steps > 50, "the scenarios exercise {steps} failure points");
}

#[test]
fn a_second_render_with_other_bytes_or_missing_files_stops_before_the_lock() {
    let t = target(vec![file("a.md", "A"), file("b.md", "B")]);
    // Other bytes for `b.md`.
    let sys = MemSystem::new();
    let err = run_streamed_with(&sys, &t, &ApplyOptions::default(), &|path, bytes| {
        Some(if path.as_str() == "b.md" {
            b"X".to_vec()
        } else {
            bytes
        })
    })
    .unwrap_err();
    assert!(
        matches!(&err, DeployError::Restream { path, .. } if path.as_str() == "b.md"),
        "{err}"
    );
    let files = sys.files();
    assert!(
        !files.contains_key("aiwg.lock"),
        "the lock names no unwritten bytes"
    );
    assert!(
        !files.contains_key("b.md"),
        "the other bytes are not written"
    );
    // `b.md` not rendered at all.
    let sys = MemSystem::new();
    let err = run_streamed_with(&sys, &t, &ApplyOptions::default(), &|path, bytes| {
        (path.as_str() != "b.md").then_some(bytes)
    })
    .unwrap_err();
    assert!(err.to_string().contains("`b.md`"), "{err}");
    assert!(!sys.files().contains_key("aiwg.lock"));
    // The next apply converges.
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(sys.files()["b.md"].bytes, b"B");
}

#[test]
fn a_streamed_plan_applied_without_a_render_is_an_error_and_writes_no_lock() {
    let sys = MemSystem::new();
    let t = target(vec![file("a.md", "A")]);
    let engine = Engine::shared(&sys, Layout::project());
    let (plan, lock) = engine.plan(&digests(&t)).unwrap();
    let err = engine
        .apply(&plan, &lock, &ApplyOptions::default())
        .unwrap_err();
    assert!(matches!(err, DeployError::Restream { .. }), "{err}");
    assert!(!sys.files().contains_key("aiwg.lock"));
    assert!(!sys.files().contains_key("a.md"));
}

/// Every whole file of `plan` that is already what aiwg wants was planned from the digest of
/// what is on disk, and the plan holds none of its bytes.
fn assert_holds_no_unchanged_bytes(plan: &crate::Plan) {
    for item in &plan.items {
        let whole_only = item.parts().len() == 1 && item.parts()[0].part.is_whole();
        if item.action == crate::Action::Unchanged && whole_only {
            assert!(item.planned_by_digest(), "`{}` was read whole", item.path);
            for data in [item.old(), item.new_data()].into_iter().flatten() {
                assert!(data.bytes.is_empty(), "`{}` holds its bytes", item.path);
            }
        }
    }
}

#[test]
fn a_streamed_plan_of_files_already_deployed_holds_none_of_their_bytes() {
    for seed in 0..SEEDS {
        let (sys, next) = scenario(seed);
        let engine = Engine::shared(&sys, Layout::project());
        let held = engine.plan(&next).unwrap().0;
        let (streamed, _) = engine.plan(&digests(&next)).unwrap();
        assert_holds_no_unchanged_bytes(&streamed);
        // The same decisions, and the same bytes kept of every file that changes (the
        // history's copy of what is replaced comes from them).
        assert_eq!(streamed.items.len(), held.items.len(), "seed {seed}");
        for (s, h) in streamed.items.iter().zip(&held.items) {
            assert_eq!(
                (&s.path, s.action, s.state()),
                (&h.path, h.action, h.state())
            );
            if !s.planned_by_digest() {
                assert_eq!(s.old(), h.old(), "seed {seed}: `{}`", s.path);
            } else {
                // Known by its digest: its size, and its hash in the lock it keeps.
                let old = h.old().expect("on disk");
                assert_eq!(
                    s.size_on_disk(),
                    Some(old.bytes.len() as u64),
                    "seed {seed}"
                );
                assert_eq!(s.old().map(|o| o.executable), Some(old.executable));
            }
        }
        // Applied, then planned again: nothing changes, and no file's bytes are held.
        run_streamed(&sys, &next, &force()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let (again, _) = engine.plan(&digests(&next)).unwrap();
        assert!(again.is_empty(), "seed {seed}: not converged");
        assert!(
            again.items.iter().all(|i| [i.old(), i.new_data()]
                .into_iter()
                .flatten()
                .all(|d| d.bytes.is_empty())
                || i.mode != crate::Mode::File),
            "seed {seed}: a no-change streamed plan holds a file's bytes"
        );
    }
}

#[test]
fn a_streamed_file_is_planned_with_one_copy_of_its_hash_and_no_second_lock_entry() {
    use crate::decision::NextLock;
    for seed in 0..SEEDS {
        let (sys, next) = scenario(seed);
        let engine = Engine::shared(&sys, Layout::project());
        let (plan, _) = engine.plan(&digests(&next)).unwrap();
        for item in plan.items.iter().filter(|i| i.streamed().is_some()) {
            for part in item.parts().iter().filter(|p| p.part.is_whole()) {
                // The lock row is the hash, size and bit only (its path and origin are the
                // item's and the part's), and the hash is the item's `streamed` one.
                if let NextLock::Write(row) = &part.next_lock {
                    assert!(row.sha256.is_empty(), "seed {seed}: `{}`", item.path);
                }
            }
        }
    }
    // One item and one part per file, in two large `Vec`s: what they hold inline is paid
    // ×40,000 in a large deploy (a file's bytes, or a lock entry, never go inline).
    assert!(std::mem::size_of::<crate::PlanItem>() <= 80);
    assert!(std::mem::size_of::<crate::plan::PartPlan>() <= 152);
}

/// Memory per file: the plan of a streamed render holds each path and origin the target
/// state held, shared (a count more), never a copy per item or part; and the item of a
/// new file holds no bytes.
#[test]
fn a_streamed_plan_shares_paths_and_origins_with_its_target() {
    let t = digests(&target(vec![
        file("a/one.md", "1\n"),
        file("a/two.md", "2\n"),
        file("b/three.md", "3\n"),
    ]));
    let sys = MemSystem::new();
    let plan = crate::plan(&t, &sys, &Lock::new()).unwrap();
    assert_eq!(plan.items.len(), 3);
    for (item, want) in plan.items.iter().zip(t.entries()) {
        assert_eq!(item.path.as_str().as_ptr(), want.path.as_str().as_ptr());
        let origin = item.origin().expect("a part");
        assert!(std::sync::Arc::ptr_eq(
            &origin.artifact,
            &want.origin.artifact
        ));
        assert!(std::sync::Arc::ptr_eq(
            &origin.platforms,
            &want.origin.platforms
        ));
        assert_eq!(item.action, crate::Action::Create);
        assert!(item.new_data().is_some_and(|f| f.bytes.is_empty()));
        assert!(item.streamed().is_some());
    }
}

/// Apply reads a plan's items in place (`apply::Changes::Plan`): its changes are exactly the
/// items that write, in order, each with the item's bytes and hash, and each path is found in
/// its own slot whether the slots are searched by halves or from the start; a list
/// (`Changes::Listed`) answers the same.
#[test]
fn the_changes_read_in_place_are_the_items_that_write() {
    use crate::apply::{Change, Changes};
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let sys = MemSystem::new();
        disk_of(&mut rng, &sys);
        let t = target_of(&mut rng);
        let engine = Engine::shared(&sys, Layout::project());
        let (plan, _) = engine.plan(&digests(&t)).unwrap();
        let in_place = Changes::Plan(&plan.items);
        let listed: Vec<Change<'_>> = (plan.items.iter())
            .filter(|i| i.writes())
            .map(|i| Change {
                path: &i.path,
                before: i.old(),
                after: i.new_data(),
                streamed: i.streamed(),
            })
            .collect();
        let same = |a: Change<'_>, b: Change<'_>| {
            a.path == b.path
                && a.before == b.before
                && a.after == b.after
                && a.streamed == b.streamed
        };
        assert_eq!(in_place.len(), listed.len(), "seed {seed}");
        assert!(
            in_place
                .iter()
                .zip(listed.iter().copied())
                .all(|(a, b)| same(a, b)),
            "seed {seed}"
        );
        assert!(in_place.sorted(), "seed {seed}: a plan's items are sorted");
        for (slot, item) in plan.items.iter().enumerate() {
            assert_eq!(in_place.find(&item.path, true), Some(slot), "seed {seed}");
            assert_eq!(in_place.find(&item.path, false), Some(slot), "seed {seed}");
            assert_eq!(in_place.at(slot).is_some(), item.writes(), "seed {seed}");
        }
        let list = Changes::Listed(&listed);
        for (slot, change) in listed.iter().enumerate() {
            assert_eq!(list.find(change.path, true), Some(slot), "seed {seed}");
            assert!(same(list.at(slot).unwrap(), *change), "seed {seed}");
        }
        let absent = RelPath::new("not/planned.md").unwrap();
        assert_eq!(in_place.find(&absent, true), None);
        assert_eq!(in_place.find(&absent, false), None);
    }
}
