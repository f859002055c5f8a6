//! `plan()`: from the target state, the disk and the lock, what apply would do at every path.
//!
//! One plan feeds `diff`, `check`, `status`, `plan`, `apply --dry-run` and `apply`, so what
//! they show and what apply does cannot disagree. The decision table (DESIGN.md):
//!
//! | desired | on disk                         | lock says | action                         |
//! |---------|---------------------------------|-----------|--------------------------------|
//! | yes     | absent                          | any       | create                         |
//! | yes     | equal to desired                | any       | unchanged (adopt into lock)    |
//! | yes     | differs, equal to locked hash   | ours      | update                         |
//! | yes     | differs from lock and desired   | ours      | conflict: edited since deploy  |
//! | yes     | differs                         | not ours  | conflict: unmanaged file       |
//! | no      | equal to locked hash            | ours      | delete (stale)                 |
//! | no      | edited                          | ours      | conflict: keep, report         |
//! | no      | absent                          | ours      | drop from lock                 |
//!
//! The same table applies to each section of a shared Markdown file ([`crate::section`]) and
//! to each key of a shared config file ([`crate::merge`]); their results are combined into one
//! new content for the path.

use std::collections::BTreeSet;
use std::fmt;

use aiwg_core::target::{Desired, Origin, TargetEntry, TargetState};
use aiwg_core::RelPath;

use crate::hash::sha256_hex;
use crate::lock::{Lock, LockEntry, Mode};
use crate::system::{FileData, System, SystemError};

/// What apply does at a path (or to one part of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Not on disk yet; apply writes it.
    Create,
    /// On disk but not as aiwg wants it, and safe to change; apply rewrites it.
    Update,
    /// No longer wanted and unedited since aiwg wrote it; apply removes it.
    Delete,
    /// Already as aiwg wants it; apply at most records it in the lock.
    Unchanged,
    /// Apply stops here unless the options resolve it (see [`ConflictKind`]).
    Conflict,
    /// Nothing on disk to do; the lock forgets the entry.
    Drop,
}

impl Action {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
            Action::Conflict => "conflict",
            Action::Drop => "drop",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why apply stops at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictKind {
    /// aiwg wrote it, someone changed it since, and aiwg wants to change it.
    Edited,
    /// A file (or section, or key) aiwg never wrote is where aiwg wants to write.
    Unmanaged,
    /// aiwg wrote it and no longer wants it, but someone changed it since: it is kept.
    EditedStale,
    /// A folder or special file is where aiwg wants a file.
    NotAFile,
    /// The path goes through a symlink that leads outside the root.
    SymlinkOutside,
    /// The file cannot be changed safely (broken section markers, a config that does not
    /// parse, a format aiwg cannot merge into); the text says why.
    Unsafe(String),
}

impl ConflictKind {
    /// Whether `--force` may resolve it (after a backup). Unsafe and unreachable paths must be
    /// fixed by hand.
    pub fn forceable(&self) -> bool {
        matches!(
            self,
            ConflictKind::Edited | ConflictKind::Unmanaged | ConflictKind::EditedStale
        )
    }

    /// A short reason, for listings.
    pub fn reason(&self) -> String {
        match self {
            ConflictKind::Edited => "edited since aiwg wrote it".into(),
            ConflictKind::Unmanaged => "not written by aiwg".into(),
            ConflictKind::EditedStale => "no longer wanted, but edited since aiwg wrote it".into(),
            ConflictKind::NotAFile => "a folder is in the way".into(),
            ConflictKind::SymlinkOutside => "a symlink leads outside the root".into(),
            ConflictKind::Unsafe(why) => why.clone(),
        }
    }

    /// What `--force` does about it.
    pub fn force_effect(&self) -> &'static str {
        match self {
            ConflictKind::Edited | ConflictKind::Unmanaged => {
                "`--force` overwrites it after a backup"
            }
            ConflictKind::EditedStale => "`--force` keeps it and stops managing it",
            _ => "fix it by hand",
        }
    }
}

/// The state of a managed path (or part), as `status` and `check` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// On disk as aiwg wants it.
    Ok,
    /// The source changed; apply will update it.
    Outdated,
    /// Wanted, not on disk; apply will create it.
    Missing,
    /// No longer wanted; apply will delete it.
    Stale,
    /// Changed on disk since aiwg wrote it.
    Edited,
    /// Something aiwg did not write (or cannot safely change) is in the way.
    Conflict,
    /// In the lock only; nothing on disk, nothing wanted. Not drift.
    Gone,
}

impl State {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Outdated => "outdated",
            State::Missing => "missing",
            State::Stale => "stale",
            State::Edited => "edited",
            State::Conflict => "conflict",
            State::Gone => "gone",
        }
    }

    /// How much it matters, for picking the one state to show for several parts: `conflict`
    /// highest, then `edited`, `stale`, `missing`, `outdated`, `ok`, and `gone` lowest.
    pub fn severity(self) -> u8 {
        match self {
            State::Conflict => 6,
            State::Edited => 5,
            State::Stale => 4,
            State::Missing => 3,
            State::Outdated => 2,
            State::Ok => 1,
            State::Gone => 0,
        }
    }

    /// Whether `check` reports it: anything but `ok` and `gone`.
    pub fn is_drift(self) -> bool {
        !matches!(self, State::Ok | State::Gone)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the lock holds for a part after apply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NextLock {
    /// The entry as it is now (or none).
    Keep,
    /// No entry.
    Remove,
    /// This entry. For whole files `sha256` is filled in from the new bytes at apply time.
    Write(LockEntry),
}

/// The plan for one part of a path: the whole file, a section, or a set of merged keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PartPlan {
    /// `""`, `section:<id>` or `merge:<keys>`.
    pub part: String,
    /// How much of the path this part owns.
    pub mode: Mode,
    /// What apply does to this part.
    pub action: Action,
    /// Set when `action` is [`Action::Conflict`].
    pub conflict: Option<ConflictKind>,
    /// The part's state for `status` and `check`.
    pub state: State,
    /// Who wants it (or, for stale parts, who wanted it).
    pub origin: Origin,
    pub(crate) next_lock: NextLock,
}

/// The plan for one path.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem {
    /// The path, relative to the target root.
    pub path: RelPath,
    /// `file` when a whole file is wanted (or, with nothing wanted, locked), else the one
    /// shared mode.
    pub mode: Mode,
    /// The combined action of its parts.
    pub action: Action,
    /// The first conflict among its parts.
    pub conflict: Option<ConflictKind>,
    /// The file on disk now.
    pub old: Option<FileData>,
    /// The file after apply; for a forceable conflict, what `--force` writes.
    pub new: Option<FileData>,
    /// The plan of each part: whole file, sections or merged keys.
    pub parts: Vec<PartPlan>,
}

impl PlanItem {
    /// The most severe state of its parts (`check` and `status` show one per path).
    pub fn state(&self) -> State {
        self.parts
            .iter()
            .map(|p| p.state)
            .max_by_key(|s| s.severity())
            .unwrap_or(State::Ok)
    }

    /// True when apply would write or delete this path (or stop on it).
    pub fn is_change(&self) -> bool {
        matches!(
            self.action,
            Action::Create | Action::Update | Action::Delete | Action::Conflict
        )
    }

    /// Who wants this path (the first part's origin).
    pub fn origin(&self) -> Option<&Origin> {
        self.parts.first().map(|p| &p.origin)
    }
}

/// Counts of a plan's actions, per path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Paths apply creates.
    pub created: usize,
    /// Paths apply rewrites.
    pub updated: usize,
    /// Paths apply deletes.
    pub deleted: usize,
    /// Paths left as they are.
    pub unchanged: usize,
    /// Paths apply stops on.
    pub conflicts: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} deleted, {} unchanged",
            self.created, self.updated, self.deleted, self.unchanged
        )?;
        if self.conflicts > 0 {
            write!(f, ", {} conflicts", self.conflicts)?;
        }
        Ok(())
    }
}

/// Everything apply would do, per path, sorted by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Every path of the target state and of the lock, sorted by path.
    pub items: Vec<PlanItem>,
}

impl Plan {
    /// The items that would write, delete or stop apply.
    pub fn changes(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| i.is_change())
    }

    /// The items apply stops on.
    pub fn conflicts(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| i.action == Action::Conflict)
    }

    /// True when apply would stop.
    pub fn has_conflicts(&self) -> bool {
        self.conflicts().next().is_some()
    }

    /// True when apply would change no file (the lock may still learn or forget entries).
    pub fn is_empty(&self) -> bool {
        self.changes().next().is_none()
    }

    /// Counts per action.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for item in &self.items {
            match item.action {
                Action::Create => s.created += 1,
                Action::Update => s.updated += 1,
                Action::Delete => s.deleted += 1,
                Action::Unchanged => s.unchanged += 1,
                Action::Conflict => s.conflicts += 1,
                Action::Drop => {}
            }
        }
        s
    }

    /// The lock after applying this plan (with `--force` semantics for forceable conflicts).
    pub fn lock_after(&self, before: &Lock) -> Lock {
        let mut lock = before.clone();
        for item in &self.items {
            for part in &item.parts {
                match &part.next_lock {
                    NextLock::Keep => {}
                    NextLock::Remove => {
                        lock.remove(&item.path, &part.part);
                    }
                    NextLock::Write(entry) => {
                        let mut entry = entry.clone();
                        if entry.mode == Mode::File {
                            let bytes = item.new.as_ref().map_or(&[][..], |f| &f.bytes);
                            entry.sha256 = sha256_hex(bytes);
                            entry.size = bytes.len() as u64;
                        }
                        lock.insert(entry);
                    }
                }
            }
        }
        lock
    }
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Reading the disk failed.
    #[error(transparent)]
    System(#[from] SystemError),
    /// One path is wanted (or locked) as both sections and merged keys, which cannot be combined.
    #[error("`{path}` is wanted both as a section and as merged keys")]
    MixedModes {
        /// The path.
        path: RelPath,
    },
}

/// The lock entry for `entry` as written now (sha256 and size filled by the caller).
pub(crate) fn lock_entry_for(entry: &TargetEntry, sha256: String, size: u64) -> LockEntry {
    let executable = matches!(
        entry.desired,
        Desired::File {
            executable: true,
            ..
        }
    );
    LockEntry {
        path: entry.path.clone(),
        part: entry.desired.part(),
        mode: Mode::of(&entry.desired),
        sha256,
        size,
        executable,
        source: entry.origin.source.clone(),
        artifact: entry.origin.artifact.clone(),
        platforms: entry.origin.platforms.clone(),
        keys: Vec::new(),
    }
}

/// True when `bytes` are what `locked` says aiwg wrote (the size is compared first).
pub(crate) fn matches_lock(locked: &LockEntry, bytes: &[u8]) -> bool {
    locked.size == bytes.len() as u64 && locked.sha256 == sha256_hex(bytes)
}

/// The file on disk, or the conflict that makes it untouchable.
fn old_of(
    read: Result<Option<FileData>, SystemError>,
) -> Result<Result<Option<FileData>, ConflictKind>, PlanError> {
    match read {
        Ok(data) => Ok(Ok(data)),
        Err(SystemError::NotAFile { .. }) => Ok(Err(ConflictKind::NotAFile)),
        Err(SystemError::SymlinkOutside { .. }) => Ok(Err(ConflictKind::SymlinkOutside)),
        Err(e) => Err(e.into()),
    }
}

/// Plans every path of `target` and of `lock` against what `sys` holds.
pub fn plan(target: &TargetState, sys: &dyn System, lock: &Lock) -> Result<Plan, PlanError> {
    let mut paths: BTreeSet<&RelPath> = target.entries().map(|e| &e.path).collect();
    paths.extend(lock.entries().map(|e| &e.path));
    let paths: Vec<&RelPath> = paths.into_iter().collect();
    let reads = sys.read_many(&paths);
    let mut wanted = target.entries().peekable();
    let mut items = Vec::with_capacity(paths.len());
    for (path, read) in paths.into_iter().zip(reads) {
        let mut wants: Vec<&TargetEntry> = Vec::new();
        while let Some(entry) = wanted.next_if(|e| &e.path == path) {
            wants.push(entry);
        }
        let locked: Vec<&LockEntry> = lock.entries_of(path).collect();
        items.push(plan_path(path, &wants, &locked, old_of(read)?)?);
    }
    Ok(Plan { items })
}

fn plan_path(
    path: &RelPath,
    wants: &[&TargetEntry],
    locked: &[&LockEntry],
    old: Result<Option<FileData>, ConflictKind>,
) -> Result<PlanItem, PlanError> {
    let modes: BTreeSet<Mode> = if wants.is_empty() {
        locked.iter().map(|l| l.mode).collect()
    } else {
        wants.iter().map(|w| Mode::of(&w.desired)).collect()
    };
    let mode = if modes.contains(&Mode::File) {
        Mode::File
    } else if modes.len() == 1 {
        *modes.iter().next().expect("one mode")
    } else {
        return Err(PlanError::MixedModes { path: path.clone() });
    };
    let (new, parts) = match (&old, mode) {
        (Err(conflict), _) => (None, all_parts_in_conflict(wants, locked, conflict)),
        (Ok(old), Mode::File) => plan_file(wants.first().copied(), locked, old.as_ref()),
        (Ok(old), shared) => {
            // The path was aiwg's whole file and is now shared: when the file is still what
            // aiwg wrote, the old content goes (it was aiwg's); otherwise it is kept as the
            // user's text around the new parts.
            let whole = locked.iter().find(|l| l.mode == Mode::File);
            let base = match (whole, old) {
                (Some(l), Some(data)) if matches_lock(l, &data.bytes) => None,
                _ => old.as_ref(),
            };
            let (new, mut parts) = if shared == Mode::Section {
                crate::section::plan(path, wants, locked, base)
            } else {
                crate::merge::plan(path, wants, locked, base)
            };
            if let Some(l) = whole {
                parts.push(PartPlan {
                    part: l.part.clone(),
                    mode: Mode::File,
                    action: Action::Drop,
                    conflict: None,
                    state: State::Gone,
                    origin: l.origin(),
                    next_lock: NextLock::Remove,
                });
            }
            (new, parts)
        }
    };
    let old = old.unwrap_or(None);
    let conflict = parts.iter().find_map(|p| p.conflict.clone());
    let action = if conflict.is_some() {
        Action::Conflict
    } else {
        match (&old, &new) {
            (None, Some(_)) => Action::Create,
            (Some(_), None) => Action::Delete,
            (Some(a), Some(b)) if a != b => Action::Update,
            _ if !parts.is_empty() && parts.iter().all(|p| p.action == Action::Drop) => {
                Action::Drop
            }
            _ => Action::Unchanged,
        }
    };
    // An unforceable conflict leaves the path as it is, whatever else was planned for it.
    let new = if conflict.as_ref().is_some_and(|c| !c.forceable()) {
        old.clone()
    } else {
        new
    };
    Ok(PlanItem {
        path: path.clone(),
        mode,
        action,
        conflict,
        old,
        new,
        parts,
    })
}

/// Every part of a path, wanted or locked, becomes `conflict`: the path cannot be read or
/// written, or (for sections) the file cannot be edited safely.
pub(crate) fn all_parts_in_conflict(
    wants: &[&TargetEntry],
    locked: &[&LockEntry],
    conflict: &ConflictKind,
) -> Vec<PartPlan> {
    let mut parts: Vec<PartPlan> = wants
        .iter()
        .map(|w| PartPlan {
            part: w.desired.part(),
            mode: Mode::of(&w.desired),
            action: Action::Conflict,
            conflict: Some(conflict.clone()),
            state: State::Conflict,
            origin: w.origin.clone(),
            next_lock: NextLock::Keep,
        })
        .collect();
    for l in locked {
        if !parts.iter().any(|p| p.part == l.part) {
            parts.push(PartPlan {
                part: l.part.clone(),
                mode: l.mode,
                action: Action::Conflict,
                conflict: Some(conflict.clone()),
                state: State::Conflict,
                origin: l.origin(),
                next_lock: NextLock::Keep,
            });
        }
    }
    parts
}

/// A whole file: the decision table applied to the file's bytes and executable bit.
fn plan_file(
    want: Option<&TargetEntry>,
    locked: &[&LockEntry],
    old: Option<&FileData>,
) -> (Option<FileData>, Vec<PartPlan>) {
    let lock = locked.iter().find(|l| l.part.is_empty()).copied();
    let mut parts = Vec::new();
    // Lock entries for parts of a path that is now wanted whole: forget them (a whole file
    // replaces sections or keys; their content is judged by the whole-file row below).
    for l in locked.iter().filter(|l| !l.part.is_empty()) {
        parts.push(PartPlan {
            part: l.part.clone(),
            mode: l.mode,
            action: Action::Drop,
            conflict: None,
            state: State::Gone,
            origin: l.origin(),
            next_lock: NextLock::Remove,
        });
    }
    let ours = |data: &FileData| lock.is_some_and(|l| matches_lock(l, &data.bytes));
    let Some(want) = want else {
        let Some(lock) = lock else {
            return (old.cloned(), parts);
        };
        let (action, conflict, state, new, next) = match old {
            None => (Action::Drop, None, State::Gone, None, NextLock::Remove),
            Some(data) if ours(data) => {
                (Action::Delete, None, State::Stale, None, NextLock::Remove)
            }
            Some(data) => (
                Action::Conflict,
                Some(ConflictKind::EditedStale),
                State::Edited,
                Some(data.clone()),
                NextLock::Remove,
            ),
        };
        parts.push(PartPlan {
            part: String::new(),
            mode: Mode::File,
            action,
            conflict,
            state,
            origin: lock.origin(),
            next_lock: next,
        });
        return (new, parts);
    };
    let Desired::File { bytes, executable } = &want.desired else {
        unreachable!("plan_file is only called for whole files")
    };
    let desired = FileData::new(bytes.clone(), *executable);
    let (action, conflict, state) = match old {
        None => (Action::Create, None, State::Missing),
        Some(data) if *data == desired => (Action::Unchanged, None, State::Ok),
        Some(data) if data.bytes == desired.bytes || ours(data) => {
            (Action::Update, None, State::Outdated)
        }
        Some(_) if lock.is_some() => (Action::Conflict, Some(ConflictKind::Edited), State::Edited),
        Some(_) => (
            Action::Conflict,
            Some(ConflictKind::Unmanaged),
            State::Conflict,
        ),
    };
    parts.push(PartPlan {
        part: String::new(),
        mode: Mode::File,
        action,
        conflict,
        state,
        origin: want.origin.clone(),
        next_lock: NextLock::Write(lock_entry_for(want, String::new(), 0)),
    });
    (Some(desired), parts)
}
