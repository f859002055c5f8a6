//! The `Engine`: a target System, a state System and where aiwg keeps its own files
//! ([`Layout`]); it reads the lock, refuses reserved targets and plans. Writing is in
//! [`crate::apply`], rolling back in [`crate::rollback`].

use std::collections::BTreeSet;
use std::time::Duration;

use aiwg_core::target::TargetState;
use aiwg_core::RelPath;

use crate::error::DeployError;
use crate::layout::Layout;
use crate::lock::Lock;
use crate::mark::KeySource;
use crate::plan::{plan, Plan};
use crate::proclock::{self, ProcessLock};
use crate::system::debris::{self, Debris};
use crate::system::System;

/// The deploy engine over a target System (where platforms' files go) and a state System
/// (where the lock and history go); for project scope both are the same.
pub struct Engine<'a> {
    /// Where the platforms' files go.
    pub target: &'a dyn System,
    /// Where the lock, history and process lock go.
    pub state: &'a dyn System,
    /// The paths of aiwg's own files in `state`.
    pub layout: Layout,
    /// Whether `target` and `state` share one root (then targets may not touch the state).
    shared_root: bool,
    /// The key that marks history as this machine's ([`KeySource::Process`] unless given).
    pub keys: KeySource<'a>,
}

impl<'a> Engine<'a> {
    /// Targets and state in one root (project scope).
    pub fn shared(system: &'a dyn System, layout: Layout) -> Self {
        Engine {
            target: system,
            state: system,
            layout,
            shared_root: true,
            keys: KeySource::Process,
        }
    }

    /// Targets and state in one root through two Systems (project scope on disk): `target`
    /// refuses aiwg's own state and git's directories, `state` may write aiwg's state.
    pub fn same_root(target: &'a dyn System, state: &'a dyn System, layout: Layout) -> Self {
        Engine {
            target,
            state,
            layout,
            shared_root: true,
            keys: KeySource::Process,
        }
    }

    /// Targets in one root, state in another (user scope: `$HOME` and `$AIWG_HOME`).
    pub fn split(target: &'a dyn System, state: &'a dyn System, layout: Layout) -> Self {
        Engine {
            target,
            state,
            layout,
            shared_root: false,
            keys: KeySource::Process,
        }
    }

    /// The same engine, marking and verifying history with `keys` (the CLI's: the key file in
    /// `$AIWG_HOME`, so history written by one run verifies in the next).
    pub fn with_keys(mut self, keys: KeySource<'a>) -> Self {
        self.keys = keys;
        self
    }

    /// Reads `aiwg.lock` (an empty lock when there is none).
    pub fn read_lock(&self) -> Result<Lock, DeployError> {
        match self.state.read(&self.layout.lock)? {
            None => Ok(Lock::new()),
            Some(data) => {
                let text = String::from_utf8_lossy(&data.bytes);
                Ok(Lock::parse(self.layout.lock.as_str(), &text)?)
            }
        }
    }

    /// Refuses target paths that would write into a git folder or over aiwg's own state
    /// ([`crate::lock::reserved`], in any spelling).
    pub fn check_target(&self, target: &TargetState) -> Result<(), DeployError> {
        for entry in target.entries() {
            let path = &entry.path;
            let in_git = crate::lock::reserved(path).is_some();
            let in_state = self.shared_root
                && (path == &self.layout.lock
                    || path.starts_with(&self.layout.history)
                    || path == &self.layout.process_lock
                    || path == &self.layout.check_cache);
            if in_git || in_state {
                return Err(DeployError::Reserved { path: path.clone() });
            }
        }
        Ok(())
    }

    /// Reads the lock and plans `target` against the disk.
    pub fn plan(&self, target: &TargetState) -> Result<(Plan, Lock), DeployError> {
        self.check_target(target)?;
        let lock = self.read_lock()?;
        let mut plan = plan(target, self.target, &lock)?;
        plan.debris = self.debris(plan.items.iter().map(|i| &i.path));
        Ok((plan, lock))
    }

    /// Plans `target` against `lock` instead of the lock on disk (the overlay's pass, which
    /// first hands the team's paths back).
    pub fn plan_with_lock(
        &self,
        target: &TargetState,
        lock: Lock,
    ) -> Result<(Plan, Lock), DeployError> {
        self.check_target(target)?;
        let mut plan = plan(target, self.target, &lock)?;
        plan.debris = self.debris(plan.items.iter().map(|i| &i.path));
        Ok((plan, lock))
    }

    /// [`Engine::plan`], taking `target`: the plan takes over the bytes of every whole file
    /// instead of copying them (what `apply` uses, where the target state is not needed again).
    pub fn plan_owned(&self, target: TargetState) -> Result<(Plan, Lock), DeployError> {
        self.check_target(&target)?;
        let lock = self.read_lock()?;
        let mut plan = crate::plan::plan_owned(target, self.target, &lock)?;
        plan.debris = self.debris(plan.items.iter().map(|i| &i.path));
        Ok((plan, lock))
    }

    /// Temp files of dead writers in the folders of `paths` and the root (target), and in
    /// the folders of the lock, history and caches (state).
    pub fn debris<'p>(&self, paths: impl Iterator<Item = &'p RelPath>) -> Debris {
        let (target_folders, state_folders) = self.debris_folders(paths);
        Debris {
            target: debris::find(self.target, &target_folders),
            state: debris::find(self.state, &state_folders),
        }
    }

    /// The folders [`Engine::debris`] lists for `paths` (`None`: the root): in the target
    /// System, then in the state System. The check cache records them, so that a temp file
    /// appearing in one after a clean check is not hidden by it.
    #[allow(clippy::type_complexity)]
    pub fn debris_folders<'p>(
        &self,
        paths: impl Iterator<Item = &'p RelPath>,
    ) -> (BTreeSet<Option<RelPath>>, BTreeSet<Option<RelPath>>) {
        let mut target_folders: BTreeSet<Option<RelPath>> = BTreeSet::new();
        // Sorted paths: a sibling's folder was just added (one folder made per folder, not
        // per file).
        let mut last: Option<&str> = None;
        for path in paths {
            let dir = path.parent_str();
            if dir.is_some() && dir == last {
                continue;
            }
            last = dir;
            target_folders.insert(path.parent());
        }
        target_folders.insert(None);
        let layout = &self.layout;
        let mut state_folders: BTreeSet<Option<RelPath>> = [
            layout.lock.parent(),
            Some(layout.history.clone()),
            layout.check_cache.parent(),
            layout.process_lock.parent(),
        ]
        .into_iter()
        .collect();
        // Only the newest generation of this machine's can have been cut off while its files
        // were written (verified, not the highest number: a committed folder would hide it).
        state_folders.extend(crate::history::debris_folders(self).into_iter().map(Some));
        if self.shared_root {
            state_folders.retain(|f| !target_folders.contains(f));
        }
        (target_folders, state_folders)
    }

    /// Removes what [`Engine::debris`] found.
    pub fn remove_debris(&self, debris: &Debris) -> Result<(), DeployError> {
        for path in &debris.target {
            self.target.remove_file(path)?;
        }
        for path in &debris.state {
            self.state.remove_file(path)?;
        }
        Ok(())
    }

    /// Waits (up to `wait`, polling every `poll`) for the process lock; a lock left by a dead
    /// process is taken over. Released when the returned guard drops.
    pub fn lock_process(
        &self,
        wait: Duration,
        poll: Duration,
    ) -> Result<ProcessLock<'a>, DeployError> {
        proclock::acquire(self.state, &self.layout.process_lock, wait, poll)
    }
}
