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
    /// unasked (named in it): a folder of only files aiwg wrote and no longer wants is not a
    /// conflict ([`Plan::folders_in_the_way`]). When it holds only files, `--force` deletes
    /// them after a backup ([`Plan::forced_in_the_way`]).
    FolderInTheWay(Box<InTheWay>),
    /// A path apply would change below a symlink (the link's path given) that `--force`
    /// replaces by a file: the change would go through the link, into the folder it leads to,
    /// which is never aiwg's to change. Refused with or without `--force`.
    BelowForcedLink(String),
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
        match self {
            ConflictKind::FolderInTheWay(what) => what.forceable,
            _ => matches!(
                self,
                ConflictKind::Edited
                    | ConflictKind::Unmanaged
                    | ConflictKind::EditedStale
                    | ConflictKind::Symlink(_)
            ),
        }
    }

    /// A short reason, for listings; the paths in it are relative to the root (escaped).
    pub fn reason(&self) -> String {
        self.reason_shown(&|path| aiwg_core::escape::escape(path).into_owned())
    }

    /// [`ConflictKind::reason`], with each path it names (relative to the root) as `show`
    /// gives it: as the user would write it (`~/.claude/...` in user scope), escaped.
    pub fn reason_shown(&self, show: &dyn Fn(&str) -> String) -> String {
        match self {
            ConflictKind::Edited => "edited since aiwg wrote it".into(),
            ConflictKind::Unmanaged => "not written by aiwg".into(),
            ConflictKind::EditedStale => "no longer wanted, but edited since aiwg wrote it".into(),
            ConflictKind::NotAFile => "a folder is in the way".into(),
            ConflictKind::NotAFolder(file) => {
                format!("the file `{}` is where its folder goes", show(file))
            }
            ConflictKind::FolderInTheWay(what) => {
                format!("a folder is in the way, holding {}", what.shown(show))
            }
            ConflictKind::BelowForcedLink(link) => format!(
                "reached through the symlink `{}`, which `--force` replaces: change it by hand if it is aiwg's",
                show(link)
            ),
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
            ConflictKind::FolderInTheWay(what) if what.forceable => "`--force` deletes the files in the folder after a backup and writes the file in its place",
            _ => "fix it by hand",
        }
    }
}

/// What keeps a folder where aiwg wants a file ([`ConflictKind::FolderInTheWay`]): the first
/// entry in the way, why, and whether `--force` may delete what is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InTheWay {
    /// The entry, relative to the root (not always a [`RelPath`]: a name no path may hold is
    /// named too). When unforceable, the first entry that makes it so.
    pub path: String,
    /// Why it keeps the folder.
    pub why: Blocker,
    /// Whether more entries keep it.
    pub more: bool,
    /// Whether `--force` may delete the folder's entries after a backup: only files, each
    /// readable as one, none named as git's or aiwg's folder, within the caps. Symlinks,
    /// special files and empty folders (which a rollback cannot bring back) are moved by hand.
    pub forceable: bool,
}

/// Why an entry keeps a folder where aiwg wants a file ([`InTheWay`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// The entry, for the reason given (`which aiwg did not write`).
    Entry(String),
    /// An empty folder.
    EmptyFolder,
    /// The folder holds more entries than the number given.
    TooMany(usize),
    /// Its files hold more bytes than the number of MiB given (what `--force` would back up).
    TooLarge(u64),
}

impl InTheWay {
    /// The text after "a folder is in the way, holding ", with the path as `show` gives it.
    fn shown(&self, show: &dyn Fn(&str) -> String) -> String {
        let path = show(&self.path);
        let what = match &self.why {
            Blocker::Entry(why) => format!("`{path}`, {why}"),
            Blocker::EmptyFolder => format!("the empty folder `{path}/`"),
            Blocker::TooMany(n) => format!("more than {n} entries in `{path}/`"),
            Blocker::TooLarge(mib) => format!("more than {mib} MiB of files in `{path}/`"),
        };
        if self.more {
            format!("{what}, and more")
        } else {
            what
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
            origin: self.origin.clone(),
            keys: row.keys.clone(),
        }
    }
}

/// The plan for one path. Most paths of a streamed render are one whole file with nothing
/// in the way (created, or found exactly as wanted): such an item holds only what it differs
/// in (hash, size, executable bit, origin), and its part, bytes and conflict are made when
/// asked for ([`PlanItem::parts`], [`PlanItem::old`], ...). Every other item holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem {
    /// The path, relative to the target root.
    pub path: RelPath,
    /// `file` when a whole file is wanted (or, with nothing wanted, locked), else the one
    /// shared mode.
    pub mode: Mode,
    /// The combined action of its parts.
    pub action: Action,
    /// A [`Form::Whole`] item's executable bit (here, not in the form, so the item stays
    /// within 80 bytes).
    executable: bool,
    form: Form,
}

/// What a [`PlanItem`] holds beyond its path, mode and action.
#[derive(Debug, Clone, PartialEq)]
enum Form {
    /// One whole file wanted by its digest, no conflict, no bytes held: [`Action::Create`]
    /// (nothing on disk; apply writes the bytes of `sha256` from the second render), or
    /// [`Action::Unchanged`] (on disk exactly as wanted, only hashed as it was read).
    Whole(Whole),
    /// Any other item (a second level, so the two take one tag value of `Whole`'s niche).
    Rest(Rest),
}

/// [`Form::Rest`].
#[derive(Debug, Clone, PartialEq)]
enum Rest {
    /// One whole file created where nothing was, its bytes held (an unstreamed render): the
    /// bytes, and (boxed, to stay within the item) the origin and the hash the lock keeps.
    Held(Held),
    /// Any other item.
    Full(Box<Full>),
}

/// [`Form::Whole`]: a whole file of a streamed render (about 100 bytes, where the full form
/// with its one part was 360: a first apply to every platform plans 50,000 of them).
#[derive(Debug, Clone, PartialEq)]
struct Whole {
    /// What aiwg wants (and, unchanged, what is on disk).
    sha256: Sha256,
    /// Its size.
    size: u64,
    /// Who wants it.
    origin: Origin,
}

/// [`Rest::Held`].
#[derive(Debug, Clone, PartialEq)]
struct Held {
    /// What apply writes.
    new: FileData,
    /// Who wants it, and the hash of `new`'s bytes (boxed: inline, the item would grow).
    rest: Box<(Origin, Sha256)>,
}

/// [`Rest::Full`].
#[derive(Debug, Clone, PartialEq)]
struct Full {
    conflict: Option<ConflictKind>,
    old: Option<FileData>,
    new: Option<FileData>,
    streamed: Option<Sha256>,
    parts: Box<[PartPlan]>,
    old_digest: Option<Box<crate::system::FileDigest>>,
    /// [`PlanItem::writes`], decided once: apply asks on each of its passes, and the answer
    /// compares the old and new bytes.
    writes: bool,
}

impl Full {
    /// Every field of `item`, in the one box of [`Rest::Full`].
    fn boxed(item: ItemParts) -> Box<Full> {
        Box::new(Full {
            writes: item.streamed.is_some() || item.old != item.new,
            conflict: item.conflict,
            old: item.old,
            new: item.new,
            streamed: item.streamed,
            parts: item.parts.into_boxed_slice(),
            old_digest: item.old_digest,
        })
    }
}

/// The empty file data of [`Form::Whole`] (its bytes are in no item).
static NO_BYTES: [FileData; 2] = [
    FileData {
        bytes: Vec::new(),
        executable: false,
    },
    FileData {
        bytes: Vec::new(),
        executable: true,
    },
];

/// The part of every [`Form::Whole`] item.
static WHOLE: Part = Part::Whole;

/// An item's parts ([`PlanItem::parts`]): its own, or the one of a compact whole-file item, made
/// when asked for. Read as a slice.
#[derive(Debug)]
pub enum Parts<'a> {
    /// The one part of a whole file, made from the item.
    One(PartPlan),
    /// The parts the item holds.
    Held(&'a [PartPlan]),
}

impl std::ops::Deref for Parts<'_> {
    type Target = [PartPlan];
    fn deref(&self) -> &[PartPlan] {
        match self {
            Parts::One(part) => std::slice::from_ref(part),
            Parts::Held(parts) => parts,
        }
    }
}

impl<'b> IntoIterator for &'b Parts<'_> {
    type Item = &'b PartPlan;
    type IntoIter = std::slice::Iter<'b, PartPlan>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// What [`PlanItem::new`] is made from.
pub(crate) struct ItemParts {
    pub conflict: Option<ConflictKind>,
    pub old: Option<FileData>,
    pub new: Option<FileData>,
    pub streamed: Option<Sha256>,
    pub parts: Vec<PartPlan>,
    pub old_digest: Option<Box<crate::system::FileDigest>>,
}

impl PlanItem {
    /// The item at `path`, in its compact form when it has one.
    pub(crate) fn of(path: RelPath, mode: Mode, action: Action, item: ItemParts) -> PlanItem {
        let mut executable = item.new.as_ref().is_some_and(|f| f.executable);
        let form = if let Some(whole) = Self::whole_of(mode, action, &item) {
            Form::Whole(whole)
        } else if let Some(sha256) = Self::held_of(mode, action, &item) {
            Form::Rest(Rest::Held(Held {
                rest: Box::new((item.parts[0].origin.clone(), sha256)),
                new: item.new.expect("asked by held_of"),
            }))
        } else {
            Form::Rest(Rest::Full(Full::boxed(item)))
        };
        if matches!(form, Form::Rest(Rest::Full(_))) {
            executable = false;
        }
        PlanItem {
            path,
            mode,
            action,
            executable,
            form,
        }
    }

    /// The compact form of `item`, when what it holds is exactly what [`Form::Whole`] makes
    /// again: a streamed file created where nothing was.
    fn whole_of(mode: Mode, action: Action, item: &ItemParts) -> Option<Whole> {
        let [part] = item.parts.as_slice() else {
            return None;
        };
        let NextLock::Write(row) = &part.next_lock else {
            return None;
        };
        let created = mode == Mode::File
            && action == Action::Create
            && item.conflict.is_none()
            && item.old.is_none()
            && item.old_digest.is_none()
            && item
                .new
                .as_ref()
                .is_some_and(|f| f.bytes.is_empty() && f.executable == row.executable)
            && part.part.is_whole()
            && part.mode == Mode::File
            && part.action == Action::Create
            && part.conflict.is_none()
            && part.state == State::Missing
            && row.sha256.is_empty()
            && row.keys.is_empty();
        Some(Whole {
            sha256: item.streamed.filter(|_| created)?,
            size: row.size,
            origin: part.origin.clone(),
        })
    }

    /// The hash of the bytes of `item` when it is a whole file created where nothing was, with
    /// its bytes held, that [`Rest::Held`] makes again.
    fn held_of(mode: Mode, action: Action, item: &ItemParts) -> Option<Sha256> {
        let [part] = item.parts.as_slice() else {
            return None;
        };
        let NextLock::Write(row) = &part.next_lock else {
            return None;
        };
        let new = item.new.as_ref()?;
        let created = mode == Mode::File
            && action == Action::Create
            && item.conflict.is_none()
            && item.old.is_none()
            && item.old_digest.is_none()
            && item.streamed.is_none()
            && new.executable == row.executable
            && new.bytes.len() as u64 == row.size
            && part.part.is_whole()
            && part.mode == Mode::File
            && part.action == Action::Create
            && part.conflict.is_none()
            && part.state == State::Missing
            && row.keys.is_empty();
        created.then(|| sha256_of_hex(&row.sha256)).flatten()
    }

    /// The item of a whole file wanted by its digest (`sha256`, `size`, `executable`) and on
    /// disk exactly so, only hashed as it was read: unchanged, its lock entry that digest.
    pub(crate) fn unchanged_whole(
        path: RelPath,
        sha256: Sha256,
        size: u64,
        executable: bool,
        origin: Origin,
    ) -> PlanItem {
        PlanItem {
            path,
            mode: Mode::File,
            action: Action::Unchanged,
            executable,
            form: Form::Whole(Whole {
                sha256,
                size,
                origin,
            }),
        }
    }

    /// The first conflict among its parts.
    pub fn conflict(&self) -> Option<&ConflictKind> {
        match &self.form {
            Form::Whole(_) | Form::Rest(Rest::Held(_)) => None,
            Form::Rest(Rest::Full(full)) => full.conflict.as_ref(),
        }
    }

    /// The file on disk now (a file planned from its digest: its executable bit, no bytes).
    pub fn old(&self) -> Option<&FileData> {
        match &self.form {
            Form::Whole(_) if self.action == Action::Unchanged => {
                Some(&NO_BYTES[usize::from(self.executable)])
            }
            Form::Whole(_) | Form::Rest(Rest::Held(_)) => None,
            Form::Rest(Rest::Full(full)) => full.old.as_ref(),
        }
    }

    /// The file after apply; for a forceable conflict, what `--force` writes. A streamed
    /// file's holds no bytes ([`PlanItem::streamed`]).
    pub fn new_data(&self) -> Option<&FileData> {
        match &self.form {
            Form::Whole(_) => Some(&NO_BYTES[usize::from(self.executable)]),
            Form::Rest(Rest::Held(held)) => Some(&held.new),
            Form::Rest(Rest::Full(full)) => full.new.as_ref(),
        }
    }

    /// Set when the plan was made from a streamed render ([`Desired::Digest`]) and apply
    /// writes the file: the SHA-256 of the bytes to write, which [`PlanItem::new_data`] does
    /// not hold (its bytes are empty). Apply takes them from a second render, file by file
    /// ([`crate::Engine::apply_streamed`]), and checks each against this hash.
    pub fn streamed(&self) -> Option<&Sha256> {
        match &self.form {
            Form::Whole(w) if self.action == Action::Create => Some(&w.sha256),
            Form::Whole(_) | Form::Rest(Rest::Held(_)) => None,
            Form::Rest(Rest::Full(full)) => full.streamed.as_ref(),
        }
    }

    /// The plan of each part: whole file, sections or merged keys.
    pub fn parts(&self) -> Parts<'_> {
        match &self.form {
            Form::Whole(w) => Parts::One(PartPlan {
                part: Part::Whole,
                mode: Mode::File,
                action: self.action,
                conflict: None,
                state: if self.action == Action::Create {
                    State::Missing
                } else {
                    State::Ok
                },
                origin: w.origin.clone(),
                next_lock: NextLock::Write(LockRow {
                    sha256: String::new(),
                    size: w.size,
                    executable: self.executable,
                    keys: Vec::new(),
                }),
            }),
            Form::Rest(Rest::Held(held)) => Parts::One(PartPlan {
                part: Part::Whole,
                mode: Mode::File,
                action: Action::Create,
                conflict: None,
                state: State::Missing,
                origin: held.rest.0.clone(),
                // The hash is the item's, put in the entry when the lock is written.
                next_lock: NextLock::Write(LockRow {
                    sha256: String::new(),
                    size: held.new.bytes.len() as u64,
                    executable: held.new.executable,
                    keys: Vec::new(),
                }),
            }),
            Form::Rest(Rest::Full(full)) => Parts::Held(&full.parts),
        }
    }

    /// The size of the file on disk when the plan read it (`None`: nothing there). A file
    /// planned from its digest, already what aiwg wants, was only hashed, never held.
    pub fn size_on_disk(&self) -> Option<u64> {
        match &self.form {
            Form::Whole(w) if self.action == Action::Unchanged => Some(w.size),
            Form::Whole(_) | Form::Rest(Rest::Held(_)) => None,
            Form::Rest(Rest::Full(full)) => match (&full.old_digest, &full.old) {
                (Some(digest), _) => Some(digest.size),
                (None, old) => old.as_ref().map(|d| d.bytes.len() as u64),
            },
        }
    }

    /// True when the plan knows the file on disk only by its digest (already what aiwg
    /// wants): `old` and `new` then carry its executable bit and no bytes.
    pub fn planned_by_digest(&self) -> bool {
        match &self.form {
            Form::Whole(_) => self.action == Action::Unchanged,
            Form::Rest(Rest::Held(_)) => false,
            Form::Rest(Rest::Full(full)) => full.old_digest.is_some(),
        }
    }

    /// The most severe state of its parts (`check` and `status` show one per path).
    pub fn state(&self) -> State {
        self.parts()
            .iter()
            .map(|p| p.state)
            .max_by_key(|s| s.severity())
            .unwrap_or(State::Ok)
    }

    /// True when apply writes this file's bytes or deletes it (a conflict only with `--force`).
    pub fn writes(&self) -> bool {
        match &self.form {
            Form::Whole(_) => self.action == Action::Create,
            Form::Rest(Rest::Held(_)) => true,
            Form::Rest(Rest::Full(full)) => full.writes,
        }
    }

    /// True when apply would write or delete this path (or stop on it).
    pub fn is_change(&self) -> bool {
        matches!(
            self.action,
            Action::Create | Action::Update | Action::Delete | Action::Conflict
        )
    }

    /// The lock entries this item writes (each with its part) and the parts whose entry it
    /// removes, in part order, handed to `each`: the part's key borrowed from the item.
    fn next_locks<'a>(&'a self, mut each: impl FnMut(&'a Part, Option<LockEntry>)) {
        match &self.form {
            Form::Whole(w) => each(
                &WHOLE,
                Some(LockEntry {
                    path: self.path.clone(),
                    part: Part::Whole,
                    mode: Mode::File,
                    sha256: w.sha256.to_string(),
                    size: w.size,
                    executable: self.executable,
                    origin: w.origin.clone(),
                    keys: Vec::new(),
                }),
            ),
            Form::Rest(Rest::Held(held)) => each(
                &WHOLE,
                Some(LockEntry {
                    path: self.path.clone(),
                    part: Part::Whole,
                    mode: Mode::File,
                    sha256: held.rest.1.to_string(),
                    size: held.new.bytes.len() as u64,
                    executable: held.new.executable,
                    origin: held.rest.0.clone(),
                    keys: Vec::new(),
                }),
            ),
            Form::Rest(Rest::Full(full)) => {
                for part in full.parts.iter() {
                    match &part.next_lock {
                        NextLock::Keep => {}
                        NextLock::Remove => each(&part.part, None),
                        NextLock::Write(row) => {
                            each(&part.part, Some(self.lock_entry(full, part, row)))
                        }
                    }
                }
            }
        }
    }

    /// The lock entry `part` (one of `full`'s) writes from `row`.
    fn lock_entry(&self, full: &Full, part: &PartPlan, row: &LockRow) -> LockEntry {
        let mut entry = part.lock_entry(&self.path, row);
        // A whole file planned with its hash (what aiwg wants, kept in the file's own line
        // endings on disk) keeps it; a streamed one has it once, in `streamed`, and one found
        // on disk exactly as aiwg wants it once, in `old_digest`.
        if entry.mode == Mode::File && entry.sha256.is_empty() {
            if let Some(sha256) = &full.streamed {
                entry.sha256 = sha256.to_string();
            } else if let Some(disk) = &full.old_digest {
                entry.sha256 = disk.sha256.clone();
            } else {
                let bytes = full.new.as_ref().map_or(&[][..], |f| &f.bytes);
                entry.sha256 = sha256_hex(bytes);
                entry.size = bytes.len() as u64;
            }
        }
        entry
    }

    /// Who wants (or wanted) each part, in part order, borrowed from the item.
    pub fn origins(&self) -> impl Iterator<Item = &Origin> {
        let (whole, held) = match &self.form {
            Form::Whole(w) => (Some(&w.origin), &[][..]),
            Form::Rest(Rest::Held(h)) => (Some(&h.rest.0), &[][..]),
            Form::Rest(Rest::Full(full)) => (None, &full.parts[..]),
        };
        whole.into_iter().chain(held.iter().map(|p| &p.origin))
    }

    /// Who wants this path (the first part's origin).
    pub fn origin(&self) -> Option<&Origin> {
        match &self.form {
            Form::Whole(w) => Some(&w.origin),
            Form::Rest(Rest::Held(h)) => Some(&h.rest.0),
            Form::Rest(Rest::Full(full)) => full.parts.first().map(|p| &p.origin),
        }
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
    /// What `apply --force` also deletes for the folders in the way holding files that are
    /// not aiwg's to delete unasked (a forceable [`ConflictKind::FolderInTheWay`]).
    pub forced_in_the_way: ForcedInTheWay,
}

/// The files (the user's, and aiwg's edited ones) that `apply --force` backs up in its
/// generation and deletes, and the folders it then removes, so a file can be written where a
/// folder was ([`Plan::forced_in_the_way`]). Both sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForcedInTheWay {
    /// The files, none of them deleted by the plan itself.
    pub files: Vec<RelPath>,
    /// The folders, each listed with the folders below it.
    pub folders: Vec<RelPath>,
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
            item.next_locks(|part, entry| match entry {
                None => {
                    lock.remove(&item.path, part);
                }
                Some(entry) => lock.insert(entry),
            });
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
            item.next_locks(|part, entry| match entry {
                None => {
                    at.remove(part);
                }
                Some(entry) => {
                    at.insert(part, Cow::Owned(entry));
                }
            });
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

/// The hash whose 64 lowercase hex digits are `hex` (`None` for any other text).
fn sha256_of_hex(hex: &str) -> Option<Sha256> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(Sha256(out))
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
        origin: entry.origin.clone(),
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
mod form_tests {
    use super::*;

    fn part(action: Action, state: State, sha256: &str, size: u64, exec: bool) -> PartPlan {
        PartPlan {
            part: Part::Whole,
            mode: Mode::File,
            action,
            conflict: None,
            state,
            origin: Origin::new("src", "agent:a", vec!["claude".into()]),
            next_lock: NextLock::Write(LockRow {
                sha256: sha256.into(),
                size,
                executable: exec,
                keys: Vec::new(),
            }),
        }
    }

    /// What an item answers, and the lock entries it writes.
    #[allow(clippy::type_complexity)]
    fn answers(
        item: &PlanItem,
    ) -> (
        Option<FileData>,
        Option<FileData>,
        Option<Sha256>,
        Option<ConflictKind>,
        Vec<(Part, Mode, Action, State, Origin)>,
        Option<u64>,
        bool,
        bool,
        Vec<(Part, Option<LockEntry>)>,
    ) {
        let mut locks = Vec::new();
        item.next_locks(|p, e| locks.push((p.clone(), e)));
        (
            item.old().cloned(),
            item.new_data().cloned(),
            item.streamed().copied(),
            item.conflict().cloned(),
            item.parts()
                .iter()
                .map(|p| (p.part.clone(), p.mode, p.action, p.state, p.origin.clone()))
                .collect(),
            item.size_on_disk(),
            item.planned_by_digest(),
            item.writes(),
            locks,
        )
    }

    fn full(path: &RelPath, action: Action, item: ItemParts, exec: bool) -> PlanItem {
        PlanItem {
            path: path.clone(),
            mode: Mode::File,
            action,
            executable: exec,
            form: Form::Rest(Rest::Full(Full::boxed(item))),
        }
    }

    /// Each compact form answers every question as the full form of the same item does, and
    /// writes the same lock entry.
    #[test]
    fn the_compact_forms_answer_as_the_full_form_would() {
        let path = RelPath::new(".claude/agents/a.md").unwrap();
        let bytes = b"hello\n".to_vec();
        let sha = Sha256::of(&bytes);
        for exec in [false, true] {
            // Streamed, created.
            let streamed = || ItemParts {
                conflict: None,
                old: None,
                new: Some(FileData::new(Vec::new(), exec)),
                streamed: Some(sha),
                parts: vec![part(Action::Create, State::Missing, "", 6, exec)],
                old_digest: None,
            };
            let compact = PlanItem::of(path.clone(), Mode::File, Action::Create, streamed());
            assert!(matches!(compact.form, Form::Whole(_)));
            let whole = full(&path, Action::Create, streamed(), exec);
            assert_eq!(answers(&compact), answers(&whole));
            // Held, created.
            let held = || ItemParts {
                conflict: None,
                old: None,
                new: Some(FileData::new(bytes.clone(), exec)),
                streamed: None,
                parts: vec![part(
                    Action::Create,
                    State::Missing,
                    &sha.to_string(),
                    6,
                    exec,
                )],
                old_digest: None,
            };
            let compact = PlanItem::of(path.clone(), Mode::File, Action::Create, held());
            assert!(matches!(compact.form, Form::Rest(Rest::Held(_))));
            assert_eq!(
                answers(&compact),
                answers(&full(&path, Action::Create, held(), exec))
            );
            // Found on disk as wanted, by its digest.
            let disk = crate::system::FileDigest::of(&bytes, exec);
            let unchanged = || ItemParts {
                conflict: None,
                old: Some(FileData::new(Vec::new(), exec)),
                new: Some(FileData::new(Vec::new(), exec)),
                streamed: None,
                parts: vec![part(Action::Unchanged, State::Ok, "", 6, exec)],
                old_digest: Some(Box::new(disk.clone())),
            };
            let compact = PlanItem::unchanged_whole(
                path.clone(),
                sha,
                6,
                exec,
                Origin::new("src", "agent:a", vec!["claude".into()]),
            );
            assert_eq!(
                answers(&compact),
                answers(&full(&path, Action::Unchanged, unchanged(), exec))
            );
        }
        // Anything else keeps the full form: a conflict, bytes on disk, a hash that is not one.
        let mut conflicted = ItemParts {
            conflict: Some(ConflictKind::Unmanaged),
            old: None,
            new: Some(FileData::new(bytes.clone(), false)),
            streamed: None,
            parts: vec![part(
                Action::Create,
                State::Missing,
                &sha.to_string(),
                6,
                false,
            )],
            old_digest: None,
        };
        let item = PlanItem::of(path.clone(), Mode::File, Action::Create, conflicted);
        assert!(matches!(item.form, Form::Rest(Rest::Full(_))));
        conflicted = ItemParts {
            conflict: None,
            old: None,
            new: Some(FileData::new(bytes.clone(), false)),
            streamed: None,
            parts: vec![part(Action::Create, State::Missing, "not a hash", 6, false)],
            old_digest: None,
        };
        let item = PlanItem::of(path.clone(), Mode::File, Action::Create, conflicted);
        assert!(matches!(item.form, Form::Rest(Rest::Full(_))));
        assert_eq!(sha256_of_hex(&sha.to_string()), Some(sha));
        assert_eq!(sha256_of_hex(&sha.to_string().to_uppercase()), None);
    }
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
        assert_eq!(size_of::<Origin>(), 16);
        // A hash is its 32 bytes, inline: a streamed file's item and its target entry hold no
        // 64-byte hex text on the heap (2-4 MB at x10 to every platform).
        assert_eq!(size_of::<aiwg_core::target::Sha256>(), 32);
        assert!(size_of::<Option<aiwg_core::target::Sha256>>() <= 33);
        assert!(size_of::<Desired>() <= 56, "{}", size_of::<Desired>());
        // A created (or unchanged) whole file of a streamed render is its item alone, with
        // nothing boxed beside it: at most 80 bytes per file, path included (112 with the
        // origin's three `Arc`s inline, 176 for the item and 184 for its boxed part before).
        assert!(size_of::<PlanItem>() <= 80, "{}", size_of::<PlanItem>());
        assert!(size_of::<PartPlan>() <= 152, "{}", size_of::<PartPlan>());
        assert!(size_of::<LockEntry>() <= 128, "{}", size_of::<LockEntry>());
        assert!(
            size_of::<TargetEntry>() <= 88,
            "{}",
            size_of::<TargetEntry>()
        );
    }
}
