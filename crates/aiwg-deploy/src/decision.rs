//! What a plan decided: per path and part, the action, the conflict, the state `status`
//! shows and the lock entry apply writes; and the helpers the per-mode planners
//! ([`crate::plan()`], [`crate::section`], [`crate::merge`]) share, so none of them imports another.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use aiwg_core::target::{Desired, Origin, Part, Sha256, TargetEntry};
use aiwg_core::RelPath;

use crate::hash::sha256_hex;
use crate::lock::{Lock, LockEntry, Mode};
use crate::system::FileData;

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
    /// A file (the path given) is where aiwg wants one of the file's parent folders.
    NotAFolder(String),
    /// A folder is where aiwg wants a file, and it holds something apply must not delete
    /// (the text names it): a folder of only files aiwg wrote and no longer wants is not a
    /// conflict ([`Plan::folders_in_the_way`]).
    FolderInTheWay(String),
    /// The path goes through a symlink that leads outside the root.
    SymlinkOutside,
    /// The path itself is a symlink (to the text given): `--force` replaces the link, never
    /// the file it points to.
    Symlink(String),
    /// The path resolves into a git directory or aiwg's own state (the text says where);
    /// nothing, not even `--force`, writes there.
    Protected(String),
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
            ConflictKind::Edited
                | ConflictKind::Unmanaged
                | ConflictKind::EditedStale
                | ConflictKind::Symlink(_)
        )
    }

    /// A short reason, for listings.
    pub fn reason(&self) -> String {
        match self {
            ConflictKind::Edited => "edited since aiwg wrote it".into(),
            ConflictKind::Unmanaged => "not written by aiwg".into(),
            ConflictKind::EditedStale => "no longer wanted, but edited since aiwg wrote it".into(),
            ConflictKind::NotAFile => "a folder is in the way".into(),
            ConflictKind::NotAFolder(file) => format!("the file `{file}` is where its folder goes"),
            ConflictKind::FolderInTheWay(what) => {
                format!("a folder is in the way, holding {what}")
            }
            ConflictKind::SymlinkOutside => "a symlink leads outside the root".into(),
            ConflictKind::Symlink(target) => format!("is a symlink (to `{target}`)"),
            ConflictKind::Protected(why) => why.clone(),
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
            ConflictKind::Symlink(_) => {
                "`--force` replaces the link with the file (what it points to is untouched)"
            }
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
    /// An entry of what the part holds after apply; its path, part, mode and origin are the
    /// [`PartPlan`]'s own (one copy per part, not two).
    Write(LockRow),
}

/// What a lock entry says beyond where it is and who wants it: the part's [`PartPlan`] and
/// its path give the rest ([`PartPlan::lock_entry`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LockRow {
    /// [`LockEntry::sha256`]; for a whole file, empty when it is the item's `streamed` hash (or
    /// its `old_digest`'s, or the hash of its new bytes), filled in when the lock is written.
    pub sha256: String,
    /// [`LockEntry::size`].
    pub size: u64,
    /// [`LockEntry::executable`].
    pub executable: bool,
    /// [`LockEntry::keys`].
    pub keys: Vec<crate::lock::LockedKey>,
}

/// The plan for one part of a path: the whole file, a section, or a set of merged keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PartPlan {
    /// The whole file, a section or merged keys.
    pub part: Part,
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

impl PartPlan {
    /// The lock entry this part writes at `path` from `row` (its [`NextLock::Write`]).
    pub(crate) fn lock_entry(&self, path: &RelPath, row: &LockRow) -> LockEntry {
        LockEntry {
            path: path.clone(),
            part: self.part.clone(),
            mode: self.mode,
            sha256: row.sha256.clone(),
            size: row.size,
            executable: row.executable,
            source: self.origin.source.clone(),
            artifact: self.origin.artifact.clone(),
            platforms: self.origin.platforms.clone(),
            keys: row.keys.clone(),
        }
    }
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
    /// Set when the plan was made from a streamed render ([`Desired::Digest`]) and apply
    /// writes `new`: the SHA-256 of the bytes to write, which `new` does not hold (its bytes
    /// are empty). Apply takes them from a second render, file by file
    /// ([`crate::Engine::apply_streamed`]), and checks each against this hash.
    pub streamed: Option<Sha256>,
    /// The plan of each part: whole file, sections or merged keys.
    pub parts: Box<[PartPlan]>,
    /// Set when the plan was made from a streamed render and the file on disk, already what
    /// aiwg wants, was only hashed as it was read, never held: `old` and `new` then carry its
    /// executable bit and no bytes, and this says what is on disk (its size, its hashes).
    /// Boxed: most items of other plans have none, and each item is in one large `Vec`.
    pub old_digest: Option<Box<crate::system::FileDigest>>,
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

    /// True when apply writes this file's bytes or deletes it (a conflict only with `--force`).
    pub fn writes(&self) -> bool {
        self.streamed.is_some() || self.old != self.new
    }

    /// True when apply would write or delete this path (or stop on it).
    pub fn is_change(&self) -> bool {
        matches!(
            self.action,
            Action::Create | Action::Update | Action::Delete | Action::Conflict
        )
    }

    /// The lock entry `part` (one of this item's) writes from `row`.
    pub(crate) fn lock_entry(&self, part: &PartPlan, row: &LockRow) -> LockEntry {
        let mut entry = part.lock_entry(&self.path, row);
        // A whole file planned with its hash (what aiwg wants, kept in the file's own line
        // endings on disk) keeps it; a streamed one has it once, in `streamed`, and one found
        // on disk exactly as aiwg wants it once, in `old_digest`.
        if entry.mode == Mode::File && entry.sha256.is_empty() {
            if let Some(sha256) = &self.streamed {
                entry.sha256 = sha256.to_string();
            } else if let Some(disk) = &self.old_digest {
                entry.sha256 = disk.sha256.clone();
            } else {
                let bytes = self.new.as_ref().map_or(&[][..], |f| &f.bytes);
                entry.sha256 = sha256_hex(bytes);
                entry.size = bytes.len() as u64;
            }
        }
        entry
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
            let s = if self.conflicts == 1 { "" } else { "s" };
            write!(f, ", {} conflict{s}", self.conflicts)?;
        }
        Ok(())
    }
}

/// Everything apply would do, per path, sorted by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Every path of the target state and of the lock, sorted by path.
    pub items: Vec<PlanItem>,
    /// Temp files left by killed runs in the folders involved (filled by `Engine::plan`):
    /// `check` reports them, apply removes them.
    pub debris: crate::system::debris::Debris,
    /// Folders where this plan creates a file, each holding only files it deletes (aiwg's,
    /// unedited) and folders of such, listed with those folders: apply removes them once its
    /// deletes have emptied them, before it writes.
    pub folders_in_the_way: Vec<RelPath>,
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
                    NextLock::Write(row) => lock.insert(item.lock_entry(part, row)),
                }
            }
        }
        lock
    }
}

impl Plan {
    /// The entries of [`Plan::lock_after`]`(before)`, sorted by path and part, made one path at
    /// a time instead of as a second lock: an entry the plan keeps is borrowed from `before`,
    /// one it writes is made as it is reached. `None` for a plan whose items are not sorted by
    /// unique path (every plan [`crate::plan()`] makes is), which needs [`Plan::lock_after`].
    pub(crate) fn lock_entries_after<'a>(
        &'a self,
        before: &'a Lock,
    ) -> Option<impl Iterator<Item = Cow<'a, LockEntry>> + 'a> {
        if !self.items.windows(2).all(|w| w[0].path < w[1].path) {
            return None;
        }
        let mut before = before.entries().peekable();
        let mut items = self.items.iter().peekable();
        let mut here: std::vec::IntoIter<Cow<'a, LockEntry>> = Vec::new().into_iter();
        Some(std::iter::from_fn(move || loop {
            if let Some(entry) = here.next() {
                return Some(entry);
            }
            let item = match (before.peek(), items.peek()) {
                (None, None) => return None,
                // A path of the lock the plan does not name (narrowed by `--platforms`).
                (Some(e), next) if next.is_none_or(|i| e.path < i.path) => {
                    return before.next().map(Cow::Borrowed);
                }
                _ => items.next().expect("peeked"),
            };
            // By part, as the lock keys them (a shared file may have thousands of parts).
            let mut at: BTreeMap<&'a Part, Cow<'a, LockEntry>> = BTreeMap::new();
            while let Some(e) = before.next_if(|e| e.path == item.path) {
                at.insert(&e.part, Cow::Borrowed(e));
            }
            for part in &item.parts {
                match &part.next_lock {
                    NextLock::Keep => {}
                    NextLock::Remove => {
                        at.remove(&part.part);
                    }
                    NextLock::Write(row) => {
                        at.insert(&part.part, Cow::Owned(item.lock_entry(part, row)));
                    }
                }
            }
            here = at.into_values().collect::<Vec<_>>().into_iter();
        }))
    }
}

/// The lock row for `entry` as written now (sha256 and size given by the caller).
pub(crate) fn lock_entry_for(entry: &TargetEntry, sha256: String, size: u64) -> LockRow {
    let executable = matches!(
        entry.desired,
        Desired::File {
            executable: true,
            ..
        } | Desired::Digest {
            executable: true,
            ..
        }
    );
    LockRow {
        sha256,
        size,
        executable,
        keys: Vec::new(),
    }
}

/// The whole lock entry for `entry` (what a test puts in a lock it makes by hand).
#[cfg(test)]
pub(crate) fn lock_entry_full(entry: &TargetEntry, sha256: String, size: u64) -> LockEntry {
    let row = lock_entry_for(entry, sha256, size);
    LockEntry {
        path: entry.path.clone(),
        part: entry.desired.part(),
        mode: Mode::of(&entry.desired),
        sha256: row.sha256,
        size: row.size,
        executable: row.executable,
        source: entry.origin.source.clone(),
        artifact: entry.origin.artifact.clone(),
        platforms: entry.origin.platforms.clone(),
        keys: row.keys,
    }
}

/// True when `bytes` are what `locked` says aiwg wrote (the size is compared first), as
/// written or as git checks it out with CRLF line endings ([`crate::eol`]).
pub(crate) fn matches_lock(locked: &LockEntry, bytes: &[u8]) -> bool {
    let same = |b: &[u8]| locked.size == b.len() as u64 && locked.sha256 == sha256_hex(b);
    same(bytes)
        || (locked.size < bytes.len() as u64
            && crate::eol::lf_form(bytes).is_some_and(|lf| same(&lf)))
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

#[cfg(test)]
mod size_tests {
    use super::*;
    use std::mem::size_of;

    /// Memory per file: a plan of x10 to every platform holds some 50,000 items, each with a
    /// part, and the lock as many entries, so a byte more per item is 50 KB more per apply.
    /// These are the sizes now (64-bit); a field that grows them (an owned `String` where a
    /// shared `Arc<str>` is, a hash as text beside the one there is) must be a choice, made
    /// here, with the README's Performance numbers measured again.
    #[test]
    fn a_plan_item_its_part_and_a_lock_entry_stay_small() {
        if size_of::<usize>() != 8 {
            return;
        }
        // A path and an origin are counted references: a clone allocates nothing.
        assert_eq!(size_of::<RelPath>(), 16);
        assert_eq!(size_of::<Origin>(), 48);
        // A hash is its 32 bytes, inline: a streamed file's item and its target entry hold no
        // 64-byte hex text on the heap (2-4 MB at x10 to every platform).
        assert_eq!(size_of::<aiwg_core::target::Sha256>(), 32);
        assert!(size_of::<Option<aiwg_core::target::Sha256>>() <= 33);
        assert!(size_of::<Desired>() <= 56, "{}", size_of::<Desired>());
        assert!(size_of::<PlanItem>() <= 176, "{}", size_of::<PlanItem>());
        assert!(size_of::<PartPlan>() <= 184, "{}", size_of::<PartPlan>());
        assert!(size_of::<LockEntry>() <= 160, "{}", size_of::<LockEntry>());
    }
}
