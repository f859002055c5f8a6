//! `rollback`: restores the paths (and lock) a generation changed to what they held before,
//! through the same write path as apply, recording the rollback as a generation of its own.

use std::collections::BTreeMap;

use aiwg_core::RelPath;

use crate::decision::ConflictKind;
use crate::engine::Engine;
use crate::error::DeployError;
use crate::hash::sha256_hex;
use crate::history::{
    list_heads, mark_done, read_backup, read_whole, Generation, HistoryEntry, Listing, Record,
    LOCK_BLOB,
};
use crate::lock::{Lock, LOCK_FILE};
use crate::system::FileData;

/// How to roll back.
#[derive(Debug, Clone, Default)]
pub struct RollbackOptions {
    /// Undo every generation from this one to the newest (default: the newest only).
    pub to: Option<u64>,
    /// Restore even paths changed since the generation (their bytes go into the new one).
    pub force: bool,
    /// Generations to keep.
    pub keep: usize,
}

/// What a rollback did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollbackReport {
    /// The generations undone.
    pub undone: Vec<u64>,
    /// The paths restored.
    pub restored: Vec<RelPath>,
    /// The generation recording this rollback (rolling it back redoes).
    pub generation: Option<u64>,
}

fn file_sha(data: &Option<FileData>) -> Option<(String, bool)> {
    data.as_ref().map(|d| (sha256_hex(&d.bytes), d.executable))
}

/// Restores the paths (and lock) of the newest generation, or of every generation from
/// `options.to` on, to what they held before. A path changed since is a conflict unless forced.
pub fn rollback(
    engine: &Engine<'_>,
    options: &RollbackOptions,
) -> Result<RollbackReport, DeployError> {
    // Heads first; only the generations undone are read again with their paths.
    let listing = list_heads(engine)?;
    let generations = &listing.generations;
    let Some(newest) = generations.last() else {
        if let Some(to) = options.to {
            return Err(unknown(to, &listing));
        }
        return Err(DeployError::NoHistory {
            path: engine.layout.history.clone(),
        });
    };
    // An interrupted rollback is finished, not undone.
    let resume = (!newest.complete && !newest.undoes.is_empty() && options.to.is_none())
        .then_some(newest.generation);
    let wanted: Vec<u64> = match (resume, options.to) {
        (Some(_), _) => newest.undoes.clone(),
        (None, Some(to)) => {
            if !generations.iter().any(|g| g.generation == to) {
                return Err(unknown(to, &listing));
            }
            generations
                .iter()
                .map(|g| g.generation)
                .filter(|n| *n >= to)
                .collect()
        }
        (None, None) => {
            // The newest generation, and the interrupted ones it finished.
            let mut chain = vec![newest.generation];
            let mut at = newest.resumes;
            while let Some(n) = at {
                let Some(g) = generations.iter().find(|g| g.generation == n) else {
                    break;
                };
                chain.push(n);
                at = g.resumes;
            }
            chain
        }
    };
    if let Some(missing) = wanted
        .iter()
        .find(|n| !generations.iter().any(|g| g.generation == **n))
    {
        return Err(unknown(*missing, &listing));
    }
    let selected: Vec<Generation> = generations
        .iter()
        .filter(|g| wanted.contains(&g.generation))
        .map(|g| read_whole(engine, g.generation))
        .collect::<Result<_, _>>()?;
    // Per path: the state before the earliest selected generation, the state after the latest.
    let mut before: BTreeMap<RelPath, (u64, &HistoryEntry)> = BTreeMap::new();
    let mut after: BTreeMap<RelPath, &HistoryEntry> = BTreeMap::new();
    for g in &selected {
        for entry in &g.paths {
            before
                .entry(entry.path.clone())
                .or_insert((g.generation, entry));
            after.insert(entry.path.clone(), entry);
        }
    }
    let first = &selected[0];
    let lock_bytes = if first.lock_before {
        let blob = RelPath::new(LOCK_BLOB).expect("a fixed name is valid");
        Some(read_backup(
            engine,
            first.generation,
            &blob,
            first.lock_sha256.as_deref(),
        )?)
    } else {
        None
    };
    // Folders the current lock or the restored one says aiwg made may go once empty.
    let mut removable = engine
        .read_lock()
        .map(|l| l.dirs().clone())
        .unwrap_or_default();
    if let Some(restored) = lock_bytes
        .as_deref()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| Lock::parse(LOCK_FILE, t).ok())
    {
        removable.extend(restored.dirs().iter().cloned());
    }
    let mut changes = Vec::new();
    let mut conflicts = Vec::new();
    // Files to restore where a folder now is: fine when this rollback empties and removes it.
    let mut in_the_way = Vec::new();
    // Paths `--force` replaces though they changed since that apply.
    let mut forced = Vec::new();
    for (path, (n, entry)) in &before {
        let wanted = match &entry.before {
            None => None,
            Some(blob) => {
                let bytes = read_backup(engine, *n, blob, entry.before_sha256.as_deref())?;
                Some(FileData::new(bytes, entry.before_executable))
            }
        };
        let current = match engine.target.read(path) {
            Ok(c) => c,
            Err(crate::system::SystemError::NotAFile { .. }) => {
                in_the_way.push((path.clone(), wanted));
                continue;
            }
            // A file this rollback deletes (the file `ref` an apply made where its folder
            // `ref/` was): gone when the writes come, as the deletes go first.
            Err(crate::system::SystemError::NotAFolder { path: file })
                if changes
                    .iter()
                    .any(|(p, _, new): &(RelPath, _, Option<FileData>)| {
                        new.is_none() && p.as_str() == file
                    }) =>
            {
                None
            }
            Err(crate::system::SystemError::NotAFolder { path: file }) => {
                conflicts.push((path.clone(), ConflictKind::NotAFolder(file).reason()));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if current == wanted {
            continue;
        }
        let last = after[path];
        let expected = last
            .after_sha256
            .as_ref()
            .map(|sha| (sha.clone(), last.after_executable));
        if file_sha(&current) != expected {
            if !options.force {
                conflicts.push((path.clone(), "changed since that apply".to_string()));
                continue;
            }
            // The backup of the user's edit is its only copy, as after `apply --force`: on
            // disk before the file is replaced, and kept by the prune.
            if current.is_some() {
                forced.push(path.clone());
            }
        }
        changes.push((path.clone(), current, wanted));
    }
    for (path, wanted) in in_the_way {
        if emptied_by(engine.target, &path, &changes, &removable)? {
            // Nothing was there before (`wanted` is `None`): the folder goes once emptied,
            // and there is no file to delete.
            if wanted.is_some() {
                changes.push((path, None, wanted));
            }
        } else {
            conflicts.push((path, ConflictKind::NotAFile.reason()));
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    if !conflicts.is_empty() {
        return Err(DeployError::Conflicts { paths: conflicts });
    }
    let restored: Vec<RelPath> = changes.iter().map(|(p, _, _)| p.clone()).collect();
    let command = format!(
        "rollback {}",
        selected
            .iter()
            .map(|g| g.generation.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let undone: Vec<u64> = selected.iter().map(|g| g.generation).collect();
    let info = Record {
        command: &command,
        undoes: &undone,
        forced: &forced,
        dirs: &[],
    };
    engine.remove_debris(&engine.debris(before.keys()))?;
    let borrowed: Vec<crate::apply::Change<'_>> = changes
        .iter()
        .map(|(path, old, new)| crate::apply::Change::held(path, old.as_ref(), new.as_ref()))
        .collect();
    let lock_text = lock_bytes.as_deref().map(|bytes| {
        move |out: &mut dyn FnMut(&[u8]) -> bool| {
            out(bytes);
        }
    });
    let generation = engine
        .write_with_lock_bytes(
            crate::apply::Changes::Listed(&borrowed),
            Some(lock_text.as_ref().map(|t| t as crate::apply::LockText<'_>)),
            &removable.iter().map(RelPath::as_str).collect::<Vec<_>>(),
            resume.is_some(),
            info,
            options.keep.max(1),
            None,
        )?
        .generation;
    if let Some(interrupted) = resume {
        mark_done(engine, interrupted)?;
    }
    Ok(RollbackReport {
        undone,
        restored,
        generation,
    })
}

/// Whether folder `dir` holds nothing but files `changes` delete and folders aiwg made
/// (`removable`) that hold the same: the rollback then leaves no folder where it restores a
/// file. A folder of more than a few thousand entries is not looked through. `changes` is
/// sorted by path.
fn emptied_by(
    sys: &dyn crate::system::System,
    dir: &RelPath,
    changes: &[(RelPath, Option<FileData>, Option<FileData>)],
    removable: &std::collections::BTreeSet<RelPath>,
) -> Result<bool, DeployError> {
    use crate::system::EntryKind;
    // `changes` is sorted by path (made from a BTreeMap).
    let deleted = |p: &RelPath| {
        changes
            .binary_search_by(|(path, _, _)| path.cmp(p))
            .is_ok_and(|i| changes[i].2.is_none())
    };
    let mut folders = vec![dir.clone()];
    let mut looked = 0usize;
    while let Some(folder) = folders.pop() {
        if !removable.contains(&folder) {
            return Ok(false);
        }
        for name in sys.list(Some(&folder))? {
            looked += 1;
            if looked > 4096 {
                return Ok(false);
            }
            let Ok(child) = folder.join(&name) else {
                return Ok(false);
            };
            match sys.metadata(&child)? {
                Some((EntryKind::Dir, _)) => folders.push(child),
                Some((EntryKind::File, _)) if deleted(&child) => {}
                _ => return Ok(false),
            }
        }
    }
    Ok(true)
}

fn unknown(generation: u64, listing: &Listing) -> DeployError {
    if let Some(ignored) = listing.ignored.iter().find(|i| i.generation == generation) {
        return DeployError::History {
            path: ignored.folder.clone(),
            message: format!("generation {generation} is ignored: {}", ignored.reason),
        };
    }
    DeployError::UnknownGeneration {
        generation,
        available: listing
            .generations
            .iter()
            .map(|g| g.generation.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}
