//! Properties over random trees: apply converges (the next plan is empty); rollback of an
//! apply is the identity on disk and rolling that back is the apply again; a failure at any
//! single step of apply or rollback leaves every file old or new, and running again converges
//! to the uninterrupted result.

use std::collections::{BTreeMap, BTreeSet};

use super::apply::{force, run, visible};
use super::random::{disk_of, target_of, Rng};
use super::*;
use crate::rollback::{self, RollbackOptions};
use crate::system::{FileData, MemSystem};
use crate::{Engine, Layout};

const SEEDS: u64 = 200;
const CRASH_SEEDS: u64 = 16;

fn user_view(sys: &MemSystem) -> BTreeMap<String, FileData> {
    let mut files = visible(sys);
    files.remove(".gitignore");
    files
}

fn plan_is_empty(sys: &MemSystem, t: &TargetState) -> bool {
    let engine = Engine::shared(sys, Layout::project());
    let (p, _) = engine.plan(t).unwrap();
    p.is_empty()
        && p.items
            .iter()
            .all(|i| i.parts().iter().all(|part| part.state == crate::State::Ok))
}

fn rollback(sys: &MemSystem) -> Result<crate::RollbackReport, crate::DeployError> {
    let engine = Engine::shared(sys, Layout::project());
    rollback::rollback(
        &engine,
        &RollbackOptions {
            to: None,
            force: false,
            keep: 10,
        },
    )
}

#[test]
fn apply_converges_and_rollback_is_the_identity() {
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let sys = MemSystem::new();
        disk_of(&mut rng, &sys);
        let first = target_of(&mut rng);
        run(&sys, &first, &force()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(plan_is_empty(&sys, &first), "seed {seed}: not converged");
        let before = user_view(&sys);
        let second = target_of(&mut rng);
        let report = run(&sys, &second, &force()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(plan_is_empty(&sys, &second), "seed {seed}: not converged");
        let after = user_view(&sys);
        if report.generation.is_none() {
            continue;
        }
        rollback(&sys).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(
            user_view(&sys),
            before,
            "seed {seed}: rollback is not the identity"
        );
        rollback(&sys).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(
            user_view(&sys),
            after,
            "seed {seed}: rollback of rollback is not a redo"
        );
    }
}

/// A project where a first apply happened and the user then edited things, and the next target.
fn scenario(seed: u64) -> (MemSystem, TargetState) {
    let mut rng = Rng::new(seed);
    let sys = MemSystem::new();
    disk_of(&mut rng, &sys);
    run(&sys, &target_of(&mut rng), &force()).unwrap();
    // A user edit to one managed file, if any.
    if let Some(path) = sys
        .files()
        .keys()
        .find(|p| p.ends_with(".md") && !p.starts_with(".aiwg"))
        .cloned()
    {
        sys.put(&path, b"edited by a person\n", false);
    }
    let next = target_of(&mut rng);
    (sys, next)
}

/// Every path of `now` holds what it held in `old` or in `new`, never anything else.
fn old_or_new(
    seed: u64,
    n: usize,
    old: &BTreeMap<String, FileData>,
    new: &BTreeMap<String, FileData>,
    now: &BTreeMap<String, FileData>,
) {
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).chain(now.keys()).collect();
    for path in paths {
        let v = now.get(path);
        assert!(
            v == old.get(path) || v == new.get(path),
            "seed {seed}, failing step {n}: `{path}` is neither old nor new: {v:?}"
        );
    }
}

#[test]
fn a_failure_at_any_step_of_apply_converges_on_the_next_run() {
    let mut steps = 0;
    for seed in 0..CRASH_SEEDS {
        let (sys, next) = scenario(seed);
        let start = sys.mutations();
        run(&sys, &next, &force()).unwrap();
        let total = sys.mutations() - start;
        let expect = user_view(&sys);
        for n in 1..=total {
            let (sys, next) = scenario(seed);
            let initial = user_view(&sys);
            sys.fail_on(Some(n));
            let err = run(&sys, &next, &force());
            assert!(
                err.is_err(),
                "seed {seed}: step {n} of {total} did not fail"
            );
            old_or_new(seed, n, &initial, &expect, &user_view(&sys));
            sys.fail_on(None);
            run(&sys, &next, &force()).unwrap_or_else(|e| panic!("seed {seed}, step {n}: {e}"));
            assert_eq!(
                user_view(&sys),
                expect,
                "seed {seed}: step {n} did not converge"
            );
            assert!(plan_is_empty(&sys, &next), "seed {seed}, step {n}");
            // The interrupted apply and the one that finished it roll back as one.
            rollback(&sys).unwrap_or_else(|e| panic!("seed {seed}, step {n}: {e}"));
            assert_eq!(user_view(&sys), initial, "seed {seed}: step {n}: rollback");
            steps += 1;
        }
    }
    assert!(steps > 50, "the scenarios exercise {steps} failure points");
}

#[test]
fn a_failure_at_any_step_of_rollback_converges_on_the_next_rollback() {
    for seed in 0..CRASH_SEEDS {
        let (sys, next) = scenario(seed);
        let initial = user_view(&sys);
        if run(&sys, &next, &force()).unwrap().generation.is_none() {
            continue;
        }
        let applied = user_view(&sys);
        let start = sys.mutations();
        rollback(&sys).unwrap();
        let total = sys.mutations() - start;
        assert_eq!(user_view(&sys), initial, "seed {seed}");
        for n in 1..=total {
            let (sys, next) = scenario(seed);
            run(&sys, &next, &force()).unwrap();
            sys.fail_on(Some(n));
            assert!(
                rollback(&sys).is_err(),
                "seed {seed}: step {n} did not fail"
            );
            old_or_new(seed, n, &applied, &initial, &user_view(&sys));
            sys.fail_on(None);
            rollback(&sys).unwrap_or_else(|e| panic!("seed {seed}, step {n}: {e}"));
            assert_eq!(
                user_view(&sys),
                initial,
                "seed {seed}: step {n} did not converge"
            );
            // And the finished rollback can itself be rolled back (a redo).
            rollback(&sys).unwrap_or_else(|e| panic!("seed {seed}, step {n}: {e}"));
            assert_eq!(user_view(&sys), applied, "seed {seed}: step {n}: no redo");
        }
    }
}

#[test]
fn planning_an_owned_target_state_gives_the_same_plan() {
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let sys = MemSystem::new();
        disk_of(&mut rng, &sys);
        // A lock too, so that updates, deletes and conflicts are planned, not only creates.
        let first = target_of(&mut rng);
        run(&sys, &first, &force()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let second = target_of(&mut rng);
        let engine = Engine::shared(&sys, Layout::project());
        let borrowed = engine.plan(&second).map_err(|e| e.to_string());
        let owned = engine.plan_owned(second.clone()).map_err(|e| e.to_string());
        assert_eq!(owned, borrowed, "seed {seed}");
    }
}

#[test]
fn the_lock_apply_writes_piece_by_piece_is_the_lock_after_the_plan() {
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let sys = MemSystem::new();
        disk_of(&mut rng, &sys);
        let first = target_of(&mut rng);
        run(&sys, &first, &force()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let second = target_of(&mut rng);
        let engine = Engine::shared(&sys, Layout::project());
        let (plan, lock) = engine.plan(&second).unwrap();
        // Some folders aiwg made, one that holds no entry (it is not recorded).
        let made: BTreeSet<aiwg_core::RelPath> = plan
            .items
            .iter()
            .filter_map(|i| i.path.parent())
            .chain([aiwg_core::RelPath::new("nothing/here").unwrap()])
            .collect();
        let mut built = plan.lock_after(&lock);
        built.keep_dirs(&made);
        let described = crate::apply::lock_text_after(&plan, &lock, &made);
        assert_eq!(
            described,
            (!built.is_empty()).then(|| built.to_toml()),
            "seed {seed}"
        );
        // The same narrowed to half the paths (`--platforms`): the lock keeps the others.
        let mut narrowed = plan.clone();
        narrowed.items.retain(|i| i.path.as_str().len() % 2 == 0);
        let mut built = narrowed.lock_after(&lock);
        built.keep_dirs(&made);
        let described = crate::apply::lock_text_after(&narrowed, &lock, &made);
        assert_eq!(
            described,
            (!built.is_empty()).then(|| built.to_toml()),
            "seed {seed}, narrowed"
        );
    }
}
