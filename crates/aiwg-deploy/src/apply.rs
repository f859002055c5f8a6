//! `Engine::apply`: makes the disk match a plan, recording a history generation first; the
//! write path that rollback shares.
//!
//! Apply order, chosen so that a crash at any single step converges on the next run:
//! 1. refuse when a conflict is not resolved by the options (nothing written);
//! 2. write the history generation (the bytes about to be replaced or deleted, and the lock),
//!    manifest last, so a rollback can always restore what this apply touched;
//! 3. delete stale files, then remove the folders that leaves empty;
//! 4. write new and changed files atomically;
//! 5. write the lock last. Until then the next plan sees written files as "unchanged, adopt"
//!    and deleted ones as "drop from lock", so it converges to the same disk and lock.

use std::collections::BTreeSet;

use aiwg_core::RelPath;

use crate::engine::Engine;
use crate::error::DeployError;
use crate::history;
use crate::lock::Lock;
use crate::plan::{ConflictKind, Plan, PlanItem, Summary};
use crate::system::{EntryKind, FileData, System, SystemError};

/// How apply treats conflicts, and how much history it keeps.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Overwrite forceable conflicts (after a backup in the generation); keep edited stale
    /// files and stop managing them.
    pub force: bool,
    /// Keep edited stale files and stop managing them, without forcing anything else
    /// (`remove`, `uninstall`).
    pub release_edited: bool,
    /// Generations to keep.
    pub keep: usize,
    /// The command recorded in the generation (`apply`, `remove sdlc`).
    pub command: String,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            force: false,
            release_edited: false,
            keep: 10,
            command: "apply".into(),
        }
    }
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    /// Counts per action; resolved conflicts count as what they did.
    pub summary: Summary,
    /// The history generation written (`None` when no file changed).
    pub generation: Option<u64>,
    /// Whether `aiwg.lock` was written (or deleted).
    pub lock_written: bool,
    /// Conflicting files overwritten by `--force` (their old bytes are in the generation).
    pub overwritten: Vec<RelPath>,
    /// Edited files aiwg no longer wants, kept on disk and no longer managed.
    pub released: Vec<RelPath>,
    /// Files in a folder where a file goes, the user's or edited, deleted by `--force` (their
    /// bytes are in the generation) with the folder ([`Plan::forced_in_the_way`]).
    pub removed: Vec<RelPath>,
    /// History folders that are not this machine's and are ignored (never replayed), as the
    /// prune after a written generation found them: the CLI warns of each without listing the
    /// history a second time.
    pub ignored_history: Vec<history::Ignored>,
}

impl ApplyReport {
    /// Counts the files `--force` deletes from folders in the way (`forced_out`, sorted): an
    /// edited file of aiwg's among them is deleted, not kept and released.
    fn note_forced_out(&mut self, forced_out: &[(RelPath, FileData)]) {
        let before = self.released.len();
        self.released
            .retain(|p| forced_out.binary_search_by(|(f, _)| f.cmp(p)).is_err());
        self.summary.unchanged -= before - self.released.len();
        self.summary.deleted += forced_out.len();
        self.removed = forced_out.iter().map(|(p, _)| p.clone()).collect();
    }
}

/// What [`Engine::write_with_lock_bytes`] did.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// The history generation written (`None` when no file changed).
    pub generation: Option<u64>,
    /// Whether the lock was written (or deleted).
    pub lock_written: bool,
    /// The ignored history folders the prune found (empty when no generation was written).
    pub ignored_history: Vec<history::Ignored>,
}

/// One path apply changes: the bytes before and after (`None`: absent), borrowed from the plan.
#[derive(Clone, Copy)]
pub(crate) struct Change<'a> {
    pub path: &'a RelPath,
    pub before: Option<&'a FileData>,
    pub after: Option<&'a FileData>,
    /// The SHA-256 of the bytes written when `after` does not hold them
    /// ([`crate::PlanItem::streamed`]): they come from the [`Restream`].
    pub streamed: Option<&'a aiwg_core::target::Sha256>,
}

impl<'a> Change<'a> {
    /// A change whose bytes are all held (rollback, and plans of unstreamed renders).
    pub fn held(
        path: &'a RelPath,
        before: Option<&'a FileData>,
        after: Option<&'a FileData>,
    ) -> Self {
        Change {
            path,
            before,
            after,
            streamed: None,
        }
    }

    /// The SHA-256 of what is there after the change (`None`: absent).
    pub fn after_sha256(&self) -> Option<String> {
        match (self.streamed, self.after) {
            (Some(sha), _) => Some(sha.to_string()),
            (None, after) => after.map(|d| crate::hash::sha256_hex(&d.bytes)),
        }
    }
}

/// The paths apply changes, in order: a plan's items read in place (no list of them made), or
/// a list (rollback's; an apply whose `--force` also deletes files from folders in the way).
/// Each has a slot: an item's index in the plan, or the change's in the list; a slot of an
/// item that does not write holds no change.
#[derive(Clone, Copy)]
pub(crate) enum Changes<'a> {
    /// The items of a plan that write ([`PlanItem::writes`]).
    Plan(&'a [PlanItem]),
    /// Every change of the list.
    Listed(&'a [Change<'a>]),
}

impl<'a> Changes<'a> {
    /// How many slots there are.
    pub fn slots(&self) -> usize {
        match self {
            Changes::Plan(items) => items.len(),
            Changes::Listed(list) => list.len(),
        }
    }

    /// The change in `slot` (`None`: an item that does not write).
    pub fn at(&self, slot: usize) -> Option<Change<'a>> {
        match *self {
            Changes::Plan(items) => {
                let item = &items[slot];
                item.writes().then(|| Change {
                    path: &item.path,
                    before: item.old(),
                    after: item.new_data(),
                    streamed: item.streamed(),
                })
            }
            Changes::Listed(list) => Some(list[slot]),
        }
    }

    /// The path of `slot` (changed or not).
    pub(crate) fn path_at(&self, slot: usize) -> &'a RelPath {
        match *self {
            Changes::Plan(items) => &items[slot].path,
            Changes::Listed(list) => list[slot].path,
        }
    }

    /// Every change, in order.
    pub fn iter(self) -> impl Iterator<Item = Change<'a>> + 'a {
        (0..self.slots()).filter_map(move |slot| self.at(slot))
    }

    /// How many changes there are.
    pub fn len(self) -> usize {
        self.iter().count()
    }

    /// True when nothing changes.
    pub fn is_empty(self) -> bool {
        self.iter().next().is_none()
    }

    /// The slot whose path is `path`: searched by halves when the slots are sorted by path
    /// (a plan's are), from the start otherwise.
    pub(crate) fn find(&self, path: &RelPath, sorted: bool) -> Option<usize> {
        if sorted {
            let (mut lo, mut hi) = (0, self.slots());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                match self.path_at(mid).cmp(path) {
                    std::cmp::Ordering::Less => lo = mid + 1,
                    std::cmp::Ordering::Greater => hi = mid,
                    std::cmp::Ordering::Equal => return Some(mid),
                }
            }
            None
        } else {
            (0..self.slots()).position(|slot| self.path_at(slot) == path)
        }
    }

    /// True when the slots' paths are sorted and unique.
    pub(crate) fn sorted(&self) -> bool {
        (1..self.slots()).all(|slot| self.path_at(slot - 1) < self.path_at(slot))
    }
}

/// Renders the target state again and hands the sink each whole file the render makes: its
/// path, its bytes and the executable bit (a path several platforms want may come again, with
/// the same bytes; the first is written). What the CLI gives [`Engine::apply_streamed`]: the
/// same render that made the plan's digests, so apply holds one file's bytes at a time. An
/// `Err` is the render's own error, as text.
pub type Restream<'r> = &'r mut dyn FnMut(FileSink<'_>) -> Result<(), String>;

/// What a [`Restream`] hands each file to: path, bytes, executable bit, and the bytes'
/// SHA-256 when the caller has it already from these very bytes (a file held from the
/// render that made the plan, the CLI's `Bodies::Hold`): compared with the plan's hash instead
/// of hashing the bytes again. `None` (a second render): the bytes are hashed.
pub type FileSink<'s> = &'s mut dyn FnMut(&RelPath, &[u8], bool, Option<aiwg_core::target::Sha256>);

impl Engine<'_> {
    /// Replaces the check cache with `bytes` (atomically), after making git ignore it as it
    /// ignores the history (project scope). The bytes are the caller's: the engine only knows
    /// where the file lives.
    pub fn write_check_cache(&self, bytes: &[u8]) -> Result<(), DeployError> {
        if self.layout.ignore_history_in_git {
            history::ensure_git_ignores(self.state, &self.layout)?;
        }
        self.state
            .write_atomic(&self.layout.check_cache, bytes, false)?;
        Ok(())
    }

    /// Makes the disk and the lock match `plan` (made from `lock_before`). A plan of a
    /// streamed render needs [`Engine::apply_streamed`].
    pub fn apply(
        &self,
        plan: &Plan,
        lock_before: &Lock,
        options: &ApplyOptions,
    ) -> Result<ApplyReport, DeployError> {
        self.apply_with(plan, lock_before, options, None)
    }

    /// [`Engine::apply`] for a plan made from a streamed render ([`aiwg_core::target::Desired::Digest`]):
    /// the bytes of each file it writes come from `restream`, one file at a time, and are
    /// checked against the plan's hash before they are written. Everything else — conflicts
    /// refused before any write, the history generation first, deletions, the one `syncfs`,
    /// the lock last — is as in [`Engine::apply`].
    pub fn apply_streamed(
        &self,
        plan: &Plan,
        lock_before: &Lock,
        options: &ApplyOptions,
        restream: Restream<'_>,
    ) -> Result<ApplyReport, DeployError> {
        self.apply_with(plan, lock_before, options, Some(restream))
    }

    fn apply_with(
        &self,
        plan: &Plan,
        lock_before: &Lock,
        options: &ApplyOptions,
        restream: Option<Restream<'_>>,
    ) -> Result<ApplyReport, DeployError> {
        let mut report = ApplyReport {
            summary: plan.summary(),
            ..ApplyReport::default()
        };
        let mut blocked = Vec::new();
        for item in plan.conflicts() {
            for part in item.parts().iter().filter_map(|p| p.conflict.as_ref()) {
                let resolved = match part {
                    ConflictKind::EditedStale => options.force || options.release_edited,
                    kind => kind.forceable() && options.force,
                };
                if !resolved {
                    blocked.push((item.path.clone(), part.reason()));
                }
            }
            // A resolved conflict counts as what it does.
            report.summary.conflicts -= 1;
            match (item.old(), item.new_data()) {
                (a, b) if a == b && item.streamed().is_none() => {
                    report.released.push(item.path.clone());
                    report.summary.unchanged += 1;
                }
                (None, _) => report.summary.created += 1,
                (_, None) => report.summary.deleted += 1,
                _ => {
                    report.overwritten.push(item.path.clone());
                    report.summary.updated += 1;
                }
            }
        }
        if !blocked.is_empty() {
            return Err(DeployError::Conflicts { paths: blocked });
        }
        // The files `--force` deletes from a folder where a file goes, read before anything
        // is deleted: their backup in the generation.
        let forced_out = match options.force {
            true => crate::plan::read_forced_in_the_way(self.target, plan)?,
            false => Vec::new(),
        };
        report.note_forced_out(&forced_out);
        self.remove_debris(&plan.debris)?;
        // The plan's items are read in place: no list of changes beside them (32 bytes per
        // file written). Only the files `--force` deletes from folders in the way, which are
        // no item's, make one, borrowed, counted first so it is the size it needs.
        let listed: Vec<Change<'_>> = match forced_out.is_empty() {
            true => Vec::new(),
            false => {
                let in_plan = Changes::Plan(&plan.items);
                let mut list = Vec::with_capacity(in_plan.len() + forced_out.len());
                list.extend(in_plan.iter());
                list.extend(
                    forced_out
                        .iter()
                        .map(|(p, d)| Change::held(p, Some(d), None)),
                );
                list.sort_unstable_by(|a, b| a.path.cmp(b.path));
                list
            }
        };
        let changes = match forced_out.is_empty() {
            true => Changes::Plan(&plan.items),
            false => Changes::Listed(&listed),
        };
        // Every folder list below is of sorted texts borrowed from the plan's (and the lock's)
        // paths: no path made again per folder, no set of them.
        let mut made = self.dirs_to_make(changes)?;
        let interrupted = history::interrupted_dirs(self)?;
        let resumes = interrupted.is_some();
        if let Some(dirs) = &interrupted {
            made.extend(dirs.iter().map(RelPath::as_str));
            made.sort_unstable();
            made.dedup();
        }
        let after = LockAfter::new(plan, lock_before, &made);
        let mut removable: Vec<&str> = made.clone();
        removable.extend(lock_before.dirs().iter().map(RelPath::as_str));
        // A folder where a file goes, holding only files deleted here: removed between the
        // deletes and the writes, as a folder aiwg made is when its deletes empty it.
        removable.extend(plan.folders_in_the_way.iter().map(RelPath::as_str));
        if !forced_out.is_empty() {
            removable.extend(plan.forced_in_the_way.folders.iter().map(RelPath::as_str));
        }
        removable.sort_unstable();
        removable.dedup();
        let forced: Vec<RelPath> = report
            .overwritten
            .iter()
            .chain(&report.removed)
            .cloned()
            .collect();
        let info = history::Record {
            command: &options.command,
            undoes: &[],
            forced: &forced,
            dirs: &made,
        };
        let text = |out: &mut dyn FnMut(&[u8]) -> bool| after.write(out);
        let written = self.write_with_lock_bytes(
            changes,
            Some((!after.is_empty()).then_some(&text as LockText<'_>)),
            &removable,
            resumes,
            info,
            options.keep,
            restream,
        )?;
        report.generation = written.generation;
        report.lock_written = written.lock_written;
        report.ignored_history = written.ignored_history;
        Ok(report)
    }

    /// The folders that writing `changes` will make: the missing parents of each new file,
    /// sorted, their texts borrowed from the changes' paths.
    fn dirs_to_make<'c>(&self, changes: Changes<'c>) -> Result<Vec<&'c str>, DeployError> {
        let mut made: BTreeSet<&'c str> = BTreeSet::new();
        let mut present: BTreeSet<&'c str> = BTreeSet::new();
        for Change {
            path,
            before,
            after,
            ..
        } in changes.iter()
        {
            if before.is_some() || after.is_none() {
                continue;
            }
            // A sibling's parent was asked about already (most files): nothing made to ask.
            if path
                .parent_str()
                .is_some_and(|dir| made.contains(dir) || present.contains(dir))
            {
                continue;
            }
            let mut parent = path.parent_str();
            while let Some(dir) = parent {
                if made.contains(dir) || present.contains(dir) {
                    break;
                }
                let folder = RelPath::new(dir).expect("a path's parent is a path");
                match self.target.metadata(&folder) {
                    // Absent; or a file there, or on the way, that this apply deletes first
                    // (the plan refuses every other): the folder is made, and recorded as
                    // aiwg's.
                    Ok(None | Some((EntryKind::File, _))) | Err(SystemError::NotAFolder { .. }) => {
                    }
                    // A folder, or a symlink the user made to one: not aiwg's to remove.
                    Ok(Some(_)) => {
                        present.insert(dir);
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
                parent = parent_of(dir);
                made.insert(dir);
            }
        }
        Ok(made.into_iter().collect())
    }

    /// Records a generation (when files change), then deletes, writes and (when `new_lock`
    /// is given: `Some(None)` for no lock file) replaces the lock with the text it hands out.
    /// Returns the generation, whether the lock was written and the ignored history folders
    /// the prune found. Only folders in `removable` (the ones aiwg made, sorted) are
    /// removed when they become empty.
    /// `resumes`: this run finishes an interrupted one, whose deletions may have emptied
    /// folders of `removable` that no change here names. Streamed changes are written from
    /// `restream` after the others.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_with_lock_bytes(
        &self,
        changes: Changes<'_>,
        new_lock: Option<Option<LockText<'_>>>,
        removable: &[&str],
        resumes: bool,
        info: history::Record<'_>,
        keep: usize,
        restream: Option<Restream<'_>>,
    ) -> Result<Written, DeployError> {
        let old_lock = self.state.read(&self.layout.lock)?.map(|f| f.bytes);
        // A CRLF checkout of the lock aiwg wrote is that lock ([`crate::eol`]).
        let same_lock = |new: &Option<LockText<'_>>| match (new, &old_lock) {
            (Some(new), Some(old)) => {
                same_text(*new, old)
                    || crate::eol::lf_form(old).is_some_and(|lf| same_text(*new, &lf))
            }
            (None, None) => true,
            _ => false,
        };
        let lock_changes = new_lock.as_ref().is_some_and(|new| !same_lock(new));
        if changes.is_empty() && !lock_changes {
            return Ok(Written::default());
        }
        let generation = if changes.is_empty() {
            None
        } else {
            let forced = !info.forced.is_empty();
            let recorded = history::record(self, info, changes, old_lock.as_deref())?;
            if self.layout.ignore_history_in_git {
                history::ensure_git_ignores(self.state, &self.layout)?;
            }
            if forced {
                // The backup of a file `--force` overwrites holds the user's only copy of
                // their edit: on disk before the file is replaced, so a power cut cannot keep
                // the new file and lose the backup (ARCHITECTURE.md, "Durability").
                self.state.sync()?;
            }
            Some(recorded)
        };
        let mut emptied: BTreeSet<&str> = BTreeSet::new();
        for change in changes.iter() {
            if change.after.is_none() {
                let path = change.path;
                self.target.remove_file(path)?;
                let mut parent = path.parent_str();
                while let Some(p) = parent {
                    parent = parent_of(p);
                    if let Ok(i) = removable.binary_search(&p) {
                        emptied.insert(removable[i]);
                    }
                }
            }
        }
        if resumes {
            // A run killed after deleting files left emptied folders that no change of this
            // run names (R16): every folder aiwg made that no file written here needs may go.
            // Only then, so an ordinary apply tries no folder it did not empty.
            let needed: BTreeSet<&str> = changes
                .iter()
                .filter(|c| c.after.is_some())
                .flat_map(|c| std::iter::successors(c.path.parent_str(), |p| parent_of(p)))
                .collect();
            emptied.extend(removable.iter().filter(|d| !needed.contains(*d)));
        }
        remove_empty_dirs(self.target, emptied)?;
        // Every file in one batch of writes (on two threads where the System can): the held
        // ones, then those the second render makes.
        let mut restream = restream;
        let mut streamed = Ok(());
        let wrote = self.target.write_many(&mut |put| {
            let mut any_streamed = false;
            for change in changes.iter() {
                match (change.after, change.streamed) {
                    (Some(_), Some(_)) => any_streamed = true,
                    (Some(new), None) => {
                        if !put(change.path, &new.bytes, new.executable) {
                            return;
                        }
                    }
                    (None, _) => {}
                }
            }
            if any_streamed {
                streamed = self.write_streamed(changes, restream.take(), put);
            }
        });
        wrote?;
        streamed?;
        if !changes.is_empty() {
            // Durability: every byte written above is on disk before the lock names it
            // (ARCHITECTURE.md, "Durability").
            self.target.sync()?;
        }
        if lock_changes {
            match new_lock.flatten() {
                Some(text) => {
                    self.state
                        .write_atomic_fill(&self.layout.lock, false, &mut |sink| text(sink))?
                }
                None => self.state.remove_file(&self.layout.lock)?,
            }
        }
        let mut ignored_history = Vec::new();
        let generation = match generation {
            Some((n, history)) => {
                history::mark_done(self, n)?;
                ignored_history = history::prune(self, keep, history)?;
                Some(n)
            }
            None => None,
        };
        Ok(Written {
            generation,
            lock_written: lock_changes,
            ignored_history,
        })
    }
}

impl Engine<'_> {
    /// Hands `put` (a [`System::write_many`] sink) each streamed change of `changes` (a hash
    /// and no bytes) as `restream` renders it, after checking that the render gave the planned
    /// bytes: the lock written after this names only bytes that are on disk. The render's
    /// files are looked up in `changes` (sorted by path, as a plan is), so nothing but a flag
    /// per change is added to what the plan holds. Once `put` answers that a write failed,
    /// nothing more is handed to it and `Ok` is returned: the write's error is the one to
    /// report.
    fn write_streamed(
        &self,
        changes: Changes<'_>,
        restream: Option<Restream<'_>>,
        put: &mut dyn FnMut(&RelPath, &[u8], bool) -> bool,
    ) -> Result<(), DeployError> {
        let differs = |path: &RelPath| {
            DeployError::Restream {
            path: path.clone(),
            message: "the second render did not give the planned bytes (rendering is meant to be deterministic)".into(),
        }
        };
        let wanted = |slot: usize| {
            changes
                .at(slot)
                .filter(|c| c.after.is_some() && c.streamed.is_some())
        };
        let first_left = |done: &[bool]| {
            (0..changes.slots())
                .find(|&slot| !done[slot] && wanted(slot).is_some())
                .map(|slot| changes.path_at(slot).clone())
        };
        let Some(restream) = restream else {
            let path = first_left(&vec![false; changes.slots()]).expect("a streamed change");
            return Err(DeployError::Restream {
                path,
                message: "the plan holds only the hash of this file and apply was given no render to take its bytes from".into(),
            });
        };
        // A plan's items are sorted by path; a list that is not is searched from the start.
        let sorted = changes.sorted();
        let mut done = vec![false; changes.slots()];
        let mut failed: Option<DeployError> = None;
        let mut stopped = false;
        let mut sink = |path: &RelPath,
                        bytes: &[u8],
                        executable: bool,
                        known: Option<aiwg_core::target::Sha256>| {
            if failed.is_some() || stopped {
                return;
            }
            // Files the plan does not write (unchanged, or refused), and a path handed out
            // again, are dropped unread and unhashed.
            let Some((slot, change)) = changes
                .find(path, sorted)
                .filter(|&slot| !done[slot])
                .and_then(|slot| Some((slot, wanted(slot)?)))
            else {
                return;
            };
            done[slot] = true;
            let want_exec = change.after.is_some_and(|a| a.executable);
            let planned = match known {
                Some(sha256) => change.streamed == Some(&sha256),
                None => change.streamed == Some(&aiwg_core::target::Sha256::of(bytes)),
            };
            if want_exec != executable || !planned {
                failed = Some(differs(path));
                return;
            }
            stopped = !put(path, bytes, executable);
        };
        let rendered = restream(&mut sink);
        if stopped {
            return Ok(());
        }
        if let Err(message) = rendered {
            return Err(DeployError::Restream {
                path: first_left(&done).unwrap_or_else(|| self.layout.lock.clone()),
                message,
            });
        }
        if let Some(e) = failed {
            return Err(e);
        }
        match first_left(&done) {
            Some(path) => Err(differs(&path)),
            None => Ok(()),
        }
    }
}

/// The text of a lock, handed to a sink piece by piece as often as it is asked for (the sink
/// answers `false` to stop it): compared with the lock on disk, then written, never held whole.
pub(crate) type LockText<'t> = &'t dyn Fn(&mut dyn FnMut(&[u8]) -> bool);

/// Whether `text` hands out exactly `old`.
fn same_text(text: LockText<'_>, old: &[u8]) -> bool {
    let mut rest = old;
    let mut same = true;
    text(&mut |piece| {
        match rest.strip_prefix(piece) {
            Some(r) => rest = r,
            None => same = false,
        }
        same
    });
    same && rest.is_empty()
}

/// The lock after a plan ([`Plan::lock_after`] with the folders aiwg made), described instead
/// of built: its entries are made again each time its text is asked for
/// ([`Plan::lock_entries_after`]), so an apply holds no second copy of every entry.
enum LockAfter<'a> {
    /// A plan that is not sorted by path (made by hand, not by [`crate::plan()`]).
    Built(Lock),
    /// Every other plan.
    Described {
        plan: &'a Plan,
        before: &'a Lock,
        /// The folders recorded, sorted.
        dirs: Vec<&'a str>,
        version: u32,
        empty: bool,
    },
}

impl<'a> LockAfter<'a> {
    /// The lock after `plan` (made from `before`) that also records the folders of `made`
    /// (sorted; kept, like those recorded before, only while they hold an entry).
    fn new(plan: &'a Plan, before: &'a Lock, made: &[&'a str]) -> Self {
        let Some(entries) = plan.lock_entries_after(before) else {
            let mut lock = plan.lock_after(before);
            let made: BTreeSet<RelPath> = (made.iter())
                .map(|d| RelPath::new(d).expect("a folder's path is a path"))
                .collect();
            lock.keep_dirs(&made);
            return LockAfter::Built(lock);
        };
        // The folders that may be recorded, each marked once an entry is found in it.
        let mut dirs: Vec<&'a str> = before.dirs().iter().map(RelPath::as_str).collect();
        dirs.extend(made);
        dirs.sort_unstable();
        dirs.dedup();
        let mut holding = vec![false; dirs.len()];
        let mut positions = false;
        let mut any = false;
        // Sorted entries: a sibling's folder was just looked at.
        let mut last = String::new();
        for entry in entries {
            any = true;
            positions |= entry.has_positions();
            let Some(parent) = entry.path.parent_str() else {
                continue;
            };
            if parent == last {
                continue;
            }
            last.clear();
            last.push_str(parent);
            let mut dir = Some(parent);
            while let Some(d) = dir {
                if let Ok(i) = dirs.binary_search(&d) {
                    // Its own folders were marked with it.
                    if std::mem::replace(&mut holding[i], true) {
                        break;
                    }
                }
                dir = parent_of(d);
            }
        }
        let mut kept = holding.iter();
        dirs.retain(|_| *kept.next().expect("one mark per folder"));
        let pins = before.pins().count();
        LockAfter::Described {
            plan,
            before,
            version: crate::lock::version_of(positions, !dirs.is_empty(), pins),
            dirs,
            empty: !any && pins == 0,
        }
    }

    /// True when the lock holds nothing (apply then deletes the lock file).
    fn is_empty(&self) -> bool {
        match self {
            LockAfter::Built(lock) => lock.is_empty(),
            LockAfter::Described { empty, .. } => *empty,
        }
    }

    /// Hands `out` the lock's text ([`Lock::to_toml`]) piece by piece.
    fn write(&self, out: &mut dyn FnMut(&[u8]) -> bool) {
        let mut out = |piece: &str| out(piece.as_bytes());
        match self {
            LockAfter::Built(lock) => {
                out(&lock.to_toml());
            }
            LockAfter::Described {
                plan,
                before,
                dirs,
                version,
                ..
            } => {
                let entries = plan.lock_entries_after(before).expect("checked when made");
                crate::lock::write_text(
                    *version,
                    dirs.iter().copied(),
                    before.pins(),
                    entries,
                    &mut out,
                );
            }
        }
    }
}

/// The text apply writes as the lock after `plan` (`None`: it deletes the lock file).
#[cfg(test)]
pub(crate) fn lock_text_after(
    plan: &Plan,
    before: &Lock,
    made: &BTreeSet<RelPath>,
) -> Option<String> {
    let made: Vec<&str> = made.iter().map(RelPath::as_str).collect();
    let after = LockAfter::new(plan, before, &made);
    assert!(
        matches!(after, LockAfter::Described { .. }),
        "a plan's items are sorted"
    );
    if after.is_empty() {
        return None;
    }
    let mut text = Vec::new();
    after.write(&mut |piece| {
        text.extend_from_slice(piece);
        true
    });
    Some(String::from_utf8(text).expect("the lock is text"))
}

/// Removes each folder of `dirs` that is empty, deepest first, so emptied parents go too.
pub(crate) fn remove_empty_dirs(sys: &dyn System, dirs: BTreeSet<&str>) -> Result<(), SystemError> {
    let mut dirs: Vec<&str> = dirs.into_iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.split('/').count()));
    for dir in dirs {
        sys.remove_dir_if_empty(&RelPath::new(dir).expect("a folder's path is a path"))?;
    }
    Ok(())
}

/// The folder `dir` is in (`None`: the root), borrowed ([`RelPath::parent_str`] of a text).
fn parent_of(dir: &str) -> Option<&str> {
    dir.rsplit_once('/').map(|(p, _)| p)
}
