//! History: each apply (or rollback, or remove) that changes files writes a generation under
//! the history folder — the bytes it replaced or deleted, the hash of what it wrote, and the
//! lock before it — so `rollback` can put them back byte for byte.
//!
//! ```text
//! .aiwg/history/7/manifest.toml     version, generation, command, time, [[path]] entries
//! .aiwg/history/7/blobs/0 ...       the bytes each path held before (absent paths have none)
//! .aiwg/history/7/aiwg.lock         the lock before (absent when there was none)
//! ```
//!
//! The manifest is written last: a folder without one is what a crash left and is removed by
//! the next prune. Rolling back writes a generation too, so rolling back a rollback is a redo.

use aiwg_core::RelPath;

use crate::engine::Engine;
use crate::error::DeployError;
use crate::hash::sha256_hex;
use crate::layout::Layout;
use crate::system::{EntryKind, FileData, System};

const MANIFEST: &str = "manifest.toml";
const DONE: &str = "done";
pub(crate) const LOCK_BLOB: &str = "aiwg.lock";
const IGNORE_LINE_COMMENT: &str = "# aiwg: apply backups (aiwg rollback)";
const CACHE_IGNORE_COMMENT: &str = "# aiwg: check cache (safe to delete)";

/// One path of a generation: what it held before, and what the generation left there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// The path, relative to the target System's root.
    pub path: RelPath,
    /// The blob (relative to the generation folder) holding the bytes before; `None`: the
    /// path did not exist. A `RelPath`, so a hand-edited manifest cannot point outside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<RelPath>,
    /// Whether the path was executable before; false when it did not exist.
    #[serde(default)]
    pub before_executable: bool,
    /// SHA-256 of what the generation wrote; `None`: it deleted the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_sha256: Option<String>,
    /// Whether what the generation wrote is executable; false when it deleted the path.
    #[serde(default)]
    pub after_executable: bool,
}

/// A recorded generation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// The manifest format version, 1 today.
    pub version: u32,
    /// The generation number, which is also its folder name.
    pub generation: u64,
    /// The command that made it (`apply`, `rollback`, `remove sdlc`).
    pub command: String,
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// Whether a lock existed before (its bytes are in the `aiwg.lock` blob).
    pub lock_before: bool,
    /// The interrupted generation this one finishes (it was the newest, and never marked
    /// done): rolling this one back rolls that one back too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<u64>,
    /// For a rollback: the generations it undoes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undoes: Vec<u64>,
    /// Every path the generation changed.
    #[serde(default, rename = "path")]
    pub paths: Vec<HistoryEntry>,
    /// Whether the command finished (a `done` marker beside the manifest). An interrupted
    /// rollback is resumed by the next `rollback` instead of being undone.
    #[serde(skip)]
    pub complete: bool,
}

pub(crate) fn folder(engine: &Engine<'_>, n: u64) -> RelPath {
    engine
        .layout
        .history
        .join(&n.to_string())
        .expect("a number is a valid path component")
}

/// `dir/name`, for a `name` that is a fixed name or already a `RelPath`.
pub(crate) fn child(dir: &RelPath, name: &str) -> RelPath {
    dir.join(name)
        .expect("a fixed name or a RelPath joins to a valid path")
}

/// The numbered folders of the history, complete or not, in order.
fn numbers(engine: &Engine<'_>) -> Result<Vec<u64>, DeployError> {
    let mut ns: Vec<u64> = engine
        .state
        .list(Some(&engine.layout.history))?
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    ns.sort_unstable();
    Ok(ns)
}

/// Writes a generation for `changes` (path, before, after) and the lock bytes before.
pub(crate) fn record(
    engine: &Engine<'_>,
    command: &str,
    undoes: &[u64],
    changes: &[(RelPath, Option<FileData>, Option<FileData>)],
    lock_before: Option<&[u8]>,
) -> Result<u64, DeployError> {
    let n = numbers(engine)?.last().map_or(1, |last| last + 1);
    let resumes = list(engine)?
        .last()
        .filter(|g| !g.complete)
        .map(|g| g.generation);
    let dir = folder(engine, n);
    let mut paths = Vec::with_capacity(changes.len());
    for (i, (path, before, after)) in changes.iter().enumerate() {
        let blob = match before {
            Some(data) => {
                let name = RelPath::new(&format!("blobs/{i}")).expect("a fixed name is valid");
                engine
                    .state
                    .write_atomic(&child(&dir, name.as_str()), &data.bytes, false)?;
                Some(name)
            }
            None => None,
        };
        paths.push(HistoryEntry {
            path: path.clone(),
            before: blob,
            before_executable: before.as_ref().is_some_and(|d| d.executable),
            after_sha256: after.as_ref().map(|d| sha256_hex(&d.bytes)),
            after_executable: after.as_ref().is_some_and(|d| d.executable),
        });
    }
    if let Some(bytes) = lock_before {
        engine
            .state
            .write_atomic(&child(&dir, LOCK_BLOB), bytes, false)?;
    }
    let manifest = Generation {
        version: 1,
        generation: n,
        command: command.to_string(),
        time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        lock_before: lock_before.is_some(),
        resumes,
        undoes: undoes.to_vec(),
        paths,
        complete: false,
    };
    let text = toml::to_string(&manifest).expect("a manifest always serialises");
    engine
        .state
        .write_atomic(&child(&dir, MANIFEST), text.as_bytes(), false)?;
    Ok(n)
}

/// Every complete generation, oldest first.
pub fn list(engine: &Engine<'_>) -> Result<Vec<Generation>, DeployError> {
    let mut out = Vec::new();
    for n in numbers(engine)? {
        let path = child(&folder(engine, n), MANIFEST);
        let Some(data) = engine.state.read(&path)? else {
            continue;
        };
        let text = String::from_utf8_lossy(&data.bytes);
        let mut generation: Generation =
            toml::from_str(&text).map_err(|e| DeployError::History {
                path: path.clone(),
                message: e.message().trim().to_string(),
            })?;
        generation.complete = engine
            .state
            .metadata(&child(&folder(engine, n), DONE))?
            .is_some();
        out.push(generation);
    }
    Ok(out)
}

/// Marks generation `n` as finished.
pub(crate) fn mark_done(engine: &Engine<'_>, n: u64) -> Result<(), DeployError> {
    engine
        .state
        .write_atomic(&child(&folder(engine, n), DONE), b"", false)?;
    Ok(())
}

/// Deletes a folder of the state System and everything in it.
fn remove_tree(sys: &dyn System, dir: &RelPath) -> Result<(), DeployError> {
    for name in sys.list(Some(dir))? {
        let path = child(dir, &name);
        match sys.metadata(&path)? {
            Some((EntryKind::Dir, _)) => remove_tree(sys, &path)?,
            Some(_) => sys.remove_file(&path)?,
            None => {}
        }
    }
    sys.remove_dir_if_empty(dir)?;
    Ok(())
}

/// Keeps the newest `keep` complete generations; removes older ones and crash leftovers.
pub(crate) fn prune(engine: &Engine<'_>, keep: usize) -> Result<(), DeployError> {
    let keep = keep.max(1);
    let mut complete = Vec::new();
    for n in numbers(engine)? {
        let dir = folder(engine, n);
        if engine.state.read(&child(&dir, MANIFEST))?.is_some() {
            complete.push(dir);
        } else {
            remove_tree(engine.state, &dir)?;
        }
    }
    let excess = complete.len().saturating_sub(keep);
    for dir in &complete[..excess] {
        remove_tree(engine.state, dir)?;
    }
    Ok(())
}

/// Makes git ignore aiwg's local state: the history folder and the check cache, each with a
/// line in `.git/info/exclude` when `.git` is a folder, else in `.gitignore`. A line already
/// covering one (its path, or `.aiwg`) is enough; the missing lines are added in one write, so
/// the first apply ignores both and a later `check` has nothing to add.
pub(crate) fn ensure_git_ignores(sys: &dyn System, layout: &Layout) -> Result<(), DeployError> {
    let git_dir = RelPath::new(".git").expect("valid");
    let file = match sys.metadata(&git_dir)? {
        Some((EntryKind::Dir, _)) => RelPath::new(".git/info/exclude").expect("valid"),
        _ => RelPath::new(".gitignore").expect("valid"),
    };
    let current = sys.read(&file)?;
    let text = current
        .as_ref()
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .unwrap_or_default();
    let covered = |path: &RelPath| {
        text.lines().any(|l| {
            let l = l.trim().trim_end_matches('/').trim_start_matches('/');
            let path = path.as_str();
            !l.is_empty()
                && (l == path
                    || path
                        .strip_prefix(l)
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    };
    let wanted = [
        (
            &layout.history,
            format!("/{}/", layout.history),
            IGNORE_LINE_COMMENT,
        ),
        (
            &layout.check_cache,
            format!("/{}", layout.check_cache),
            CACHE_IGNORE_COMMENT,
        ),
    ];
    let mut new = text.clone();
    for (path, pattern, comment) in wanted {
        if covered(path) {
            continue;
        }
        if !new.is_empty() && !new.ends_with('\n') {
            new.push('\n');
        }
        new.push_str(&format!("{comment}\n{pattern}\n"));
    }
    if new == text {
        return Ok(());
    }
    let executable = current.is_some_and(|f| f.executable);
    sys.write_atomic(&file, new.as_bytes(), executable)?;
    Ok(())
}
