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

use std::borrow::Cow;
use std::collections::BTreeSet;

use aiwg_core::target::{Desired, Part, Sha256, TargetEntry, TargetState};
use aiwg_core::RelPath;

use crate::decision::{all_parts_in_conflict, lock_entry_for, matches_lock, ItemParts, NextLock};
pub use crate::decision::{
    Action, Blocker, ConflictKind, ForcedInTheWay, InTheWay, PartPlan, Parts, Plan, PlanItem,
    State, Summary,
};
use crate::lock::{Lock, LockEntry, Mode};
use crate::system::{FileData, FileDigest, System, SystemError};

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

/// The file on disk, or the conflict that makes it untouchable.
fn old_of(
    read: Result<Option<FileData>, SystemError>,
) -> Result<Result<Option<FileData>, ConflictKind>, PlanError> {
    match read {
        Ok(data) => Ok(Ok(data)),
        Err(SystemError::NotAFile { .. }) => Ok(Err(ConflictKind::NotAFile)),
        Err(SystemError::NotAFolder { path }) => Ok(Err(ConflictKind::NotAFolder(path))),
        Err(SystemError::SymlinkOutside { .. }) => Ok(Err(ConflictKind::SymlinkOutside)),
        Err(SystemError::Symlink { target, .. }) => Ok(Err(ConflictKind::Symlink(target))),
        Err(SystemError::Protected {
            path,
            resolved,
            owner,
        }) => Ok(Err(ConflictKind::Protected(
            crate::system::protected_reason(&path, &resolved, owner),
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Plans every path of `target` and of `lock` against what `sys` holds.
pub fn plan(target: &TargetState, sys: &dyn System, lock: &Lock) -> Result<Plan, PlanError> {
    let reads = plan_reads(target, sys, lock);
    plan_wanted(reads, target.entries().map(Cow::Borrowed), sys, lock)
}

/// [`plan`], taking the target state: each whole file's bytes move into the plan instead of
/// being copied, so a deploy holds what it writes once, not twice. The entries are taken one
/// path at a time as the plan is made, so the target state's memory goes as the plan's comes.
pub fn plan_owned(target: TargetState, sys: &dyn System, lock: &Lock) -> Result<Plan, PlanError> {
    let reads = plan_reads(&target, sys, lock);
    plan_wanted(reads, target.into_entries().map(Cow::Owned), sys, lock)
}

/// Every path of the target and of the lock, sorted, each with what is on disk there: read
/// whole before planning, or as a digest while planning ([`plan_wanted`] says which).
struct Reads {
    paths: Vec<RelPath>,
    by_digest: Vec<bool>,
    reads: std::vec::IntoIter<Result<Option<FileData>, crate::system::SystemError>>,
}

/// How many digests are read at a time: a multiple of the real system's batch of folders,
/// so the reads (and their system calls) are the ones a single call makes. Read all at once,
/// the digests of a first apply to every platform were megabytes beside the whole target.
const DIGEST_CHUNK: usize = 4096;

/// The digests of `paths`, read [`DIGEST_CHUNK`] at a time as they are asked for, in order.
struct Digests<'p> {
    sys: &'p dyn System,
    paths: Vec<&'p RelPath>,
    next: usize,
    read: std::vec::IntoIter<Result<Option<FileDigest>, SystemError>>,
}

impl Digests<'_> {
    fn next(&mut self) -> Option<Result<Option<FileDigest>, SystemError>> {
        if let Some(d) = self.read.next() {
            return Some(d);
        }
        if self.next >= self.paths.len() {
            return None;
        }
        // A short last chunk joins the one before: a small call reads another way.
        let mut end = (self.next + DIGEST_CHUNK).min(self.paths.len());
        if self.paths.len() - end < DIGEST_CHUNK {
            end = self.paths.len();
        }
        let chunk = &self.paths[self.next..end];
        self.next = end;
        self.read = self.sys.read_digest_many(chunk).into_iter();
        self.read.next()
    }
}

/// Reads what is on disk at every path of `target` and `lock` that is read whole (before the
/// target is taken), and says which are read as digests.
fn plan_reads(target: &TargetState, sys: &dyn System, lock: &Lock) -> Reads {
    let wanted = || target.entries();
    let mut paths: BTreeSet<RelPath> = wanted().map(|e| e.path.clone()).collect();
    paths.extend(lock.entries().map(|e| e.path.clone()));
    let paths: Vec<RelPath> = paths.into_iter().collect();
    // A path wanted as one whole file known by its digest (a streamed render), and locked at
    // most whole, is planned from the digest of what is on disk, hashed as it is read: a file
    // that is already what aiwg wants is never held. Any other is read whole.
    let mut by_digest = vec![false; paths.len()];
    let mut next = wanted().peekable();
    for (flag, path) in by_digest.iter_mut().zip(&paths) {
        let mut wants = 0;
        let mut digest = false;
        while let Some(entry) = next.next_if(|e| &e.path == path) {
            wants += 1;
            digest = matches!(entry.desired, Desired::Digest { .. });
        }
        *flag = wants == 1 && digest && lock.entries_of(path).all(|l| l.part.is_whole());
    }
    let whole: Vec<&RelPath> = (paths.iter().zip(&by_digest))
        .filter(|(_, d)| !**d)
        .map(|(p, _)| p)
        .collect();
    let reads = sys.read_many(&whole).into_iter();
    Reads {
        paths,
        by_digest,
        reads,
    }
}

/// `wanted`: the target state's entries, sorted by path (those [`plan_reads`] read for).
fn plan_wanted<'t>(
    reads: Reads,
    wanted: impl Iterator<Item = Cow<'t, TargetEntry>>,
    sys: &dyn System,
    lock: &Lock,
) -> Result<Plan, PlanError> {
    let Reads {
        paths,
        by_digest,
        mut reads,
    } = reads;
    let mut digests = Digests {
        sys,
        paths: (paths.iter().zip(&by_digest))
            .filter(|(_, d)| **d)
            .map(|(p, _)| p)
            .collect(),
        next: 0,
        read: Vec::new().into_iter(),
    };
    let mut wanted = wanted.peekable();
    // Grown as it is filled, not reserved whole: the target state it comes from is then
    // still whole, and gives its memory back only as the items come.
    let mut items = Vec::new();
    // Files wanted where a folder is: planned again once the paths below them are.
    let mut in_the_way = Vec::new();
    for (path, digest) in paths.iter().zip(by_digest) {
        let mut wants = Vec::new();
        while let Some(entry) = wanted.next_if(|e| &e.path == path) {
            wants.push(entry);
        }
        let locked: Vec<&LockEntry> = lock.entries_of(path).collect();
        let read = if digest {
            match digests.next().expect("one digest per path") {
                Ok(Some(d)) => match unchanged_by_digest(path, &wants, &locked, d) {
                    Ok(item) => {
                        items.push(item);
                        continue;
                    }
                    // Not what aiwg wants: planned (and kept for the history) as before.
                    Err(()) => sys.read(path),
                },
                other => other.map(|_| None),
            }
        } else {
            reads.next().expect("one read per path")
        };
        let mut old = old_of(read)?;
        match &old {
            // A file aiwg deletes in this plan (a skill asset `ref` that became `ref/x.md`)
            // is gone when the writes come: apply deletes before it writes.
            Err(ConflictKind::NotAFolder(file)) if deleted_by(&items, file) => old = Ok(None),
            // A file of the lock no longer wanted, with a folder where it was (that apply,
            // killed before it wrote the lock, or the user, made it): nothing of aiwg's is
            // left there to delete, and the lock forgets it, as when the file is gone.
            Err(ConflictKind::NotAFile) if wants.is_empty() => old = Ok(None),
            Err(ConflictKind::NotAFile) => in_the_way.push(InTheWayItem {
                at: items.len(),
                wants: wants.clone(),
                locked: locked.clone(),
            }),
            _ => {}
        }
        items.push(plan_path(path, wants, &locked, old)?);
    }
    let (folders_in_the_way, forced_in_the_way) =
        replan_folders_in_the_way(&mut items, in_the_way, sys)?;
    refuse_changes_below_forced_links(&mut items, lock)?;
    // What grew past the paths' count goes back (a quarter of the list, on average).
    items.shrink_to_fit();
    Ok(Plan {
        items,
        folders_in_the_way,
        forced_in_the_way,
        ..Plan::default()
    })
}

/// A file wanted where a folder is, as [`plan_wanted`] first planned it (a conflict).
struct InTheWayItem<'t, 'l> {
    /// Its item.
    at: usize,
    wants: Vec<Cow<'t, TargetEntry>>,
    locked: Vec<&'l LockEntry>,
}

/// How many entries a folder in the way may hold (all its folders together) for apply to
/// remove it: past that it is the user's.
const MAX_IN_THE_WAY: usize = 10_000;

/// How many bytes of files in a folder in the way `--force` backs up and deletes at most (it
/// holds them all in memory, then in the generation, before it deletes one).
pub(crate) const MAX_IN_THE_WAY_BYTES: u64 = 64 << 20;

/// Plans again each file of `in_the_way` (a skill asset `ref/` that became the file `ref`):
/// when its folder holds only files `items` deletes and folders of such, the file is created
/// (apply deletes, removes the emptied folders, then writes); otherwise it stays a conflict
/// naming what is in the way, which `--force` resolves when the folder holds only files.
/// Returns the folders apply removes, and what `--force` also deletes.
fn replan_folders_in_the_way(
    items: &mut [PlanItem],
    in_the_way: Vec<InTheWayItem<'_, '_>>,
    sys: &dyn System,
) -> Result<(Vec<RelPath>, ForcedInTheWay), PlanError> {
    let mut removed = Vec::new();
    let mut forced = ForcedInTheWay::default();
    for InTheWayItem { at, wants, locked } in in_the_way {
        let path = items[at].path.clone();
        let Some(walk) = folder_of_deletes(sys, &path, items)? else {
            // Not a folder (a socket, a device): never aiwg's to remove.
            continue;
        };
        let old = match walk.blocker {
            None => {
                removed.extend(walk.folders);
                Ok(None)
            }
            Some(what) => {
                if what.forceable {
                    forced.files.extend(walk.files);
                    forced.folders.extend(walk.folders);
                }
                Err(ConflictKind::FolderInTheWay(Box::new(what)))
            }
        };
        items[at] = plan_path(&path, wants, &locked, old)?;
    }
    removed.sort();
    forced.files.sort();
    forced.folders.sort();
    Ok((removed, forced))
}

/// The files `apply --force` deletes from folders in the way ([`Plan::forced_in_the_way`]),
/// each with its bytes, read now, before anything is deleted: the generation's backup. Each
/// folder must still be a folder and each file a file, not a symlink, as the plan found them
/// (a file that became a link, or a folder swapped for one, stops the apply here, with
/// nothing deleted), and together they stay within [`MAX_IN_THE_WAY_BYTES`].
pub(crate) fn read_forced_in_the_way(
    sys: &dyn System,
    plan: &Plan,
) -> Result<Vec<(RelPath, FileData)>, crate::error::DeployError> {
    use crate::system::EntryKind;
    let forced = &plan.forced_in_the_way;
    let changed = |path: &RelPath, what: &str| crate::error::DeployError::Conflicts {
        paths: vec![(
            path.clone(),
            format!("{what} since aiwg looked at it: run `aiwg diff`, then apply again"),
        )],
    };
    for folder in &forced.folders {
        if !matches!(sys.metadata(folder)?, Some((EntryKind::Dir, _))) {
            return Err(changed(folder, "is no longer a folder"));
        }
    }
    let mut read = Vec::with_capacity(forced.files.len());
    let mut bytes = 0u64;
    for path in &forced.files {
        let Some((EntryKind::File, size)) = sys.metadata(path)? else {
            return Err(changed(path, "is no longer a file"));
        };
        // Its size now, before a read allocates it: a file grown past the cap since the plan
        // is never read whole.
        if bytes.saturating_add(size) > MAX_IN_THE_WAY_BYTES {
            return Err(changed(path, "has grown"));
        }
        let Some(data) = sys.read(path)? else {
            return Err(changed(path, "is gone"));
        };
        bytes = bytes.saturating_add(data.bytes.len() as u64);
        if bytes > MAX_IN_THE_WAY_BYTES {
            return Err(changed(path, "has grown"));
        }
        read.push((path.clone(), data));
    }
    Ok(read)
}

/// What [`folder_of_deletes`] found in a folder where a file is wanted.
struct Walk {
    /// The folder and every folder below it.
    folders: Vec<RelPath>,
    /// The files in them that the plan does not delete (complete only when forceable).
    files: Vec<RelPath>,
    /// The first entry that keeps the folder (`None`: only files the plan deletes).
    blocker: Option<InTheWay>,
}

/// What the folder `dir` holds, against `items` (sorted): `None` when it is not a folder.
/// Files the plan deletes without a conflict do not keep it; the user's files and aiwg's
/// edited ones keep it, forceably; anything else (a symlink, a special file, an empty folder,
/// a name no path may hold or that names git's or aiwg's folder, a file the plan changes
/// otherwise, past the caps) keeps it for good, and the walk stops there.
fn folder_of_deletes(
    sys: &dyn System,
    dir: &RelPath,
    items: &[PlanItem],
) -> Result<Option<Walk>, PlanError> {
    use crate::system::EntryKind;
    use aiwg_core::rel_path::{names_aiwg_folder, names_git_folder};
    if !matches!(sys.metadata(dir)?, Some((EntryKind::Dir, _))) {
        return Ok(None);
    }
    let mut walk = Walk {
        folders: vec![dir.clone()],
        files: Vec::new(),
        blocker: None,
    };
    // The first forceable blocker, then (when one is found) the first one that is not.
    let mut first: Option<(String, Blocker)> = None;
    let mut blockers = 0usize;
    let mut hard: Option<(String, Blocker)> = None;
    let mut seen = 0usize;
    let mut bytes = 0u64;
    let mut next = 0;
    'walk: while next < walk.folders.len() {
        let folder = walk.folders[next].clone();
        next += 1;
        let names = sys.list(Some(&folder))?;
        if names.is_empty() {
            hard = Some((folder.to_string(), Blocker::EmptyFolder));
            break;
        }
        for name in names {
            seen += 1;
            if seen > MAX_IN_THE_WAY {
                hard = Some((dir.to_string(), Blocker::TooMany(MAX_IN_THE_WAY)));
                break 'walk;
            }
            let entry = |why: &str| Blocker::Entry(why.to_string());
            // A name the join refuses, or does not keep as it is (`a\b` is read as `a/b`,
            // another path), is never looked up as this entry.
            let joined = folder
                .join(&name)
                .ok()
                .filter(|c| c.file_name() == name && c.parent().as_ref() == Some(&folder));
            let child = match joined {
                Some(child) if !names_git_folder(&name) && !names_aiwg_folder(&name) => child,
                Some(child) => {
                    let why = "which names git's or aiwg's own folder";
                    hard = Some((child.to_string(), entry(why)));
                    break 'walk;
                }
                None => {
                    let why = "which aiwg did not write (a name aiwg does not back up)";
                    hard = Some((format!("{folder}/{name}"), entry(why)));
                    break 'walk;
                }
            };
            match sys.metadata(&child)? {
                Some((EntryKind::Dir, _)) => walk.folders.push(child),
                Some((EntryKind::File, size)) => {
                    let item = items
                        .binary_search_by(|i| i.path.cmp(&child))
                        .ok()
                        .map(|i| &items[i]);
                    let why = match item.map(|i| (i.action, i.conflict())) {
                        Some((Action::Delete, _)) => continue,
                        // Aiwg's, edited: `--force` backs it up, as it does the user's.
                        Some((_, Some(c @ ConflictKind::EditedStale))) => c.reason(),
                        Some((_, Some(c))) => {
                            hard = Some((child.to_string(), Blocker::Entry(c.reason())));
                            break 'walk;
                        }
                        Some(_) => {
                            let why = "which aiwg changes in this apply";
                            hard = Some((child.to_string(), entry(why)));
                            break 'walk;
                        }
                        None => "which aiwg did not write".to_string(),
                    };
                    bytes = bytes.saturating_add(size);
                    if bytes > MAX_IN_THE_WAY_BYTES {
                        let mib = MAX_IN_THE_WAY_BYTES >> 20;
                        hard = Some((dir.to_string(), Blocker::TooLarge(mib)));
                        break 'walk;
                    }
                    blockers += 1;
                    if first.is_none() {
                        first = Some((child.to_string(), Blocker::Entry(why)));
                    }
                    walk.files.push(child);
                }
                Some((EntryKind::Other, _)) => {
                    let why = "which is not a file (a symlink?)";
                    hard = Some((child.to_string(), entry(why)));
                    break 'walk;
                }
                // Gone since it was listed.
                None => {}
            }
        }
    }
    walk.blocker = match (hard, first) {
        (Some((path, why)), first) => Some(InTheWay {
            path,
            why,
            more: first.is_some(),
            forceable: false,
        }),
        (None, Some((path, why))) => Some(InTheWay {
            path,
            why,
            more: blockers > 1,
            forceable: true,
        }),
        (None, None) => None,
    };
    Ok(Some(walk))
}

/// Makes every item that writes below a symlink that `--force` would replace by a file a
/// conflict no option resolves ([`ConflictKind::BelowForcedLink`]): a delete or a section
/// removal runs before the link is replaced, through it, into the folder it leads to (a
/// user's folder holding files of the bytes aiwg wrote). In the plan, so `check` and `status`
/// name them as `apply --force` refuses them; without `--force` the link's own conflict stops
/// apply anyway.
fn refuse_changes_below_forced_links(items: &mut [PlanItem], lock: &Lock) -> Result<(), PlanError> {
    let links: Vec<usize> = (0..items.len())
        .filter(|&i| {
            matches!(items[i].conflict(), Some(ConflictKind::Symlink(_)))
                && items[i].new_data().is_some()
        })
        .collect();
    for at in links {
        let link = items[at].path.clone();
        let below = format!("{link}/");
        // Sorted by path: the paths below the link follow each other.
        let from = items.partition_point(|i| i.path.as_str() < below.as_str());
        let to = from + items[from..].partition_point(|i| i.path.as_str().starts_with(&below));
        for item in &mut items[from..to] {
            if !item.writes() {
                continue;
            }
            let path = item.path.clone();
            let locked: Vec<&LockEntry> = lock.entries_of(&path).collect();
            let kind = ConflictKind::BelowForcedLink(link.to_string());
            *item = plan_path(&path, Vec::new(), &locked, Err(kind))?;
        }
    }
    Ok(())
}

/// Whether `items` (sorted by path) delete the file at `path` without a conflict.
fn deleted_by(items: &[PlanItem], path: &str) -> bool {
    items
        .binary_search_by(|i| i.path.as_str().cmp(path))
        .is_ok_and(|i| items[i].action == Action::Delete)
}

fn plan_path(
    path: &RelPath,
    owned: Vec<Cow<'_, TargetEntry>>,
    locked: &[&LockEntry],
    old: Result<Option<FileData>, ConflictKind>,
) -> Result<PlanItem, PlanError> {
    let modes: BTreeSet<Mode> = if owned.is_empty() {
        locked.iter().map(|l| l.mode).collect()
    } else {
        owned.iter().map(|w| Mode::of(&w.desired)).collect()
    };
    let mode = if modes.contains(&Mode::File) {
        Mode::File
    } else if modes.len() == 1 {
        *modes.iter().next().expect("one mode")
    } else {
        return Err(PlanError::MixedModes { path: path.clone() });
    };
    let (new, parts, streamed) = match &old {
        Err(link @ (ConflictKind::Symlink(_) | ConflictKind::FolderInTheWay(_)))
            if link.forceable() =>
        {
            // Planned as if nothing were there (what `--force` writes in place of the link,
            // or of the folder); every part that would write waits on it. A stale part is
            // forgotten: the link is not aiwg's to delete.
            let (new, mut parts, streamed) = plan_present(path, owned, locked, None, mode);
            for part in parts.iter_mut().filter(|p| p.action != Action::Drop) {
                part.action = Action::Conflict;
                part.conflict = Some(link.clone());
                part.state = State::Conflict;
            }
            (new, parts, streamed)
        }
        Err(conflict) => {
            let wants: Vec<&TargetEntry> = owned.iter().map(|w| w.as_ref()).collect();
            (None, all_parts_in_conflict(&wants, locked, conflict), None)
        }
        Ok(old) => plan_present(path, owned, locked, old.as_ref(), mode),
    };
    let old = old.unwrap_or(None);
    let conflict = parts.iter().find_map(|p| p.conflict.clone());
    let action = if conflict.is_some() {
        Action::Conflict
    } else {
        match (&old, &new) {
            (None, Some(_)) => Action::Create,
            (Some(_), None) => Action::Delete,
            (Some(a), Some(b)) if a != b || streamed.is_some() => Action::Update,
            _ if !parts.is_empty() && parts.iter().all(|p| p.action == Action::Drop) => {
                Action::Drop
            }
            _ => Action::Unchanged,
        }
    };
    // An unforceable conflict leaves the path as it is, whatever else was planned for it.
    let mut parts = parts;
    let (new, streamed) = if conflict.as_ref().is_some_and(|c| !c.forceable()) {
        // The whole file's lock row took its hash from `streamed`, which goes.
        if let Some(sha256) = streamed {
            for part in &mut parts {
                if let NextLock::Write(row) = &mut part.next_lock {
                    if part.mode == Mode::File && row.sha256.is_empty() {
                        row.sha256 = sha256.to_string();
                    }
                }
            }
        }
        (old.clone(), None)
    } else {
        (new, streamed)
    };
    Ok(PlanItem::of(
        path.clone(),
        mode,
        action,
        ItemParts {
            conflict,
            old,
            new,
            streamed,
            parts,
            old_digest: None,
        },
    ))
}

/// The item of a file wanted by its digest (`wants`: that one entry) that is on disk as
/// `disk` says and is already what aiwg wants: unchanged, as [`plan_digest`] plans it, with
/// no bytes held. `Err` when it is not unchanged (it is then planned from its bytes).
fn unchanged_by_digest(
    path: &RelPath,
    wants: &[Cow<'_, TargetEntry>],
    locked: &[&LockEntry],
    disk: FileDigest,
) -> Result<PlanItem, ()> {
    let [want] = wants else {
        return Err(());
    };
    let Desired::Digest {
        sha256,
        size,
        executable,
    } = &want.desired
    else {
        return Err(());
    };
    // What git made of the file on checkout (CRLF line endings) is the file aiwg wrote.
    let hex = sha256.hex();
    if disk.executable != *executable || !disk.matches(&hex, *size) {
        return Err(());
    }
    let size = *size;
    // The lock holds at most the whole file here ([`plan_wanted`] asks): nothing to drop.
    debug_assert!(locked.iter().all(|l| l.part.is_whole()));
    // The lock keeps what aiwg wants. When the disk holds exactly that, the item is the
    // compact one of a whole file, its hash the digest's; a CRLF checkout keeps what is on
    // disk (its size is what a later check expects).
    if disk.size == size && disk.sha256 == *hex {
        return Ok(PlanItem::unchanged_whole(
            path.clone(),
            *sha256,
            size,
            *executable,
            want.origin.clone(),
        ));
    }
    let parts = vec![PartPlan {
        part: Part::Whole,
        mode: Mode::File,
        action: Action::Unchanged,
        conflict: None,
        state: State::Ok,
        origin: want.origin.clone(),
        next_lock: NextLock::Write(lock_entry_for(want, hex.to_string(), size)),
    }];
    let held = FileData::new(Vec::new(), disk.executable);
    Ok(PlanItem::of(
        path.clone(),
        Mode::File,
        Action::Unchanged,
        ItemParts {
            conflict: None,
            old: Some(held.clone()),
            new: Some(held),
            streamed: None,
            parts,
            old_digest: Some(Box::new(disk)),
        },
    ))
}

/// What a path holds after apply, its parts' plans, and (a streamed whole file) the SHA-256
/// of the bytes apply writes without the plan holding them.
type Planned = (Option<FileData>, Vec<PartPlan>, Option<Sha256>);

/// The plan of a path whose current content is `old` (`None`: nothing there), by its mode.
fn plan_present(
    path: &RelPath,
    owned: Vec<Cow<'_, TargetEntry>>,
    locked: &[&LockEntry],
    old: Option<&FileData>,
    mode: Mode,
) -> Planned {
    if mode == Mode::File {
        // A whole file is never wanted beside a part of it (the target state refuses it).
        return plan_file(owned.into_iter().next(), locked, old);
    }
    let wants: Vec<&TargetEntry> = owned.iter().map(|w| w.as_ref()).collect();
    let wants = wants.as_slice();
    // The path was aiwg's whole file and is now shared: when the file is still what
    // aiwg wrote, the old content goes (it was aiwg's); otherwise it is kept as the
    // user's text around the new parts.
    let whole = locked.iter().find(|l| l.mode == Mode::File);
    let base = match (whole, old) {
        (Some(l), Some(data)) if matches_lock(l, &data.bytes) => None,
        _ => old,
    };
    let (new, mut parts) = if mode == Mode::Section {
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
    (new, parts, None)
}

/// A whole file: the decision table applied to the file's bytes and executable bit.
fn plan_file(
    want: Option<Cow<'_, TargetEntry>>,
    locked: &[&LockEntry],
    old: Option<&FileData>,
) -> Planned {
    let lock = locked.iter().find(|l| l.part.is_whole()).copied();
    // Exactly as many as it gets: a first push would reserve four parts (over a kilobyte),
    // for each of tens of thousands of files.
    let mut parts = Vec::with_capacity(1 + locked.iter().filter(|l| !l.part.is_whole()).count());
    // Lock entries for parts of a path that is now wanted whole: forget them (a whole file
    // replaces sections or keys; their content is judged by the whole-file row below).
    for l in locked.iter().filter(|l| !l.part.is_whole()) {
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
            return (old.cloned(), parts, None);
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
            part: Part::Whole,
            mode: Mode::File,
            action,
            conflict,
            state,
            origin: lock.origin(),
            next_lock: next,
        });
        return (new, parts, None);
    };
    if matches!(want.desired, Desired::Digest { .. }) {
        return plan_digest(want, lock, old, parts);
    }
    let mut want = want;
    // Taken from an owned entry (its bytes are not needed again), copied from a borrowed one.
    let desired = match &mut want {
        Cow::Owned(TargetEntry {
            desired: Desired::File { bytes, executable },
            ..
        }) => FileData::new(std::mem::take(bytes), *executable),
        Cow::Borrowed(TargetEntry {
            desired: Desired::File { bytes, executable },
            ..
        }) => FileData::new(bytes.clone(), *executable),
        _ => unreachable!("plan_file is only called for whole files (digests are planned above)"),
    };
    // What git made of the file on checkout (CRLF line endings) is the file aiwg wrote: it is
    // left as it is, and the lock keeps the hash of what aiwg wants.
    // Only asked of a file that differs (its CRLF form is longer than what aiwg wants).
    let converted = old.filter(|data| {
        data.executable == desired.executable
            && data.bytes.len() > desired.bytes.len()
            && crate::eol::lf_form(&data.bytes).is_some_and(|lf| lf == desired.bytes)
    });
    let (action, conflict, state) = match old {
        None => (Action::Create, None, State::Missing),
        Some(data) if *data == desired => (Action::Unchanged, None, State::Ok),
        Some(_) if converted.is_some() => (Action::Unchanged, None, State::Ok),
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
        part: Part::Whole,
        mode: Mode::File,
        action,
        conflict,
        state,
        origin: want.origin.clone(),
        next_lock: NextLock::Write(lock_entry_for(
            &want,
            crate::hash::sha256_hex(&desired.bytes),
            desired.bytes.len() as u64,
        )),
    });
    (Some(converted.cloned().unwrap_or(desired)), parts, None)
}

/// [`plan_file`] for a file known by its digest: the same decision table, on the hash of
/// what is on disk (and of its LF form). Unless the file is left as it is, the new content is
/// an empty placeholder and the hash says what apply writes in its place.
fn plan_digest(
    want: Cow<'_, TargetEntry>,
    lock: Option<&LockEntry>,
    old: Option<&FileData>,
    mut parts: Vec<PartPlan>,
) -> Planned {
    let (sha256, size, executable) = match &want.desired {
        Desired::Digest {
            sha256,
            size,
            executable,
        } => (*sha256, *size, *executable),
        _ => unreachable!("plan_digest is only called for digests"),
    };
    let hex = sha256.hex();
    // The file on disk is hashed once (with its LF form, a CRLF checkout): every arm below
    // asks of the same digest, what aiwg wants and what the lock says aiwg wrote.
    let disk = old.map(|data| FileDigest::of(&data.bytes, data.executable));
    let (action, conflict, state) = match &disk {
        None => (Action::Create, None, State::Missing),
        Some(d) if d.executable == executable && d.matches(&hex, size) => {
            (Action::Unchanged, None, State::Ok)
        }
        Some(d)
            if (d.size == size && d.sha256 == *hex)
                || lock.is_some_and(|l| d.matches(&l.sha256, l.size)) =>
        {
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
        part: Part::Whole,
        mode: Mode::File,
        action,
        conflict,
        state,
        origin: want.origin.clone(),
        next_lock: NextLock::Write(lock_entry_for(&want, String::new(), size)),
    });
    if action == Action::Unchanged {
        // The lock keeps what aiwg wants (a CRLF checkout on disk is that file).
        if let Some(NextLock::Write(row)) = parts.last_mut().map(|p| &mut p.next_lock) {
            row.sha256 = hex.to_string();
        }
        return (old.cloned(), parts, None);
    }
    // Otherwise the lock entry's hash is the item's `streamed` one (one copy per file).
    (
        Some(FileData::new(Vec::new(), executable)),
        parts,
        Some(sha256),
    )
}
