//! History: each apply (or rollback, or remove) that changes files writes a generation under
//! the history folder — the bytes it replaced or deleted, the hash of what it wrote, and the
//! lock before it — so `rollback` can put them back byte for byte.
//!
//! ```text
//! .aiwg/history/7/mark              written first: a MAC of "folder 7" (this machine began it)
//! .aiwg/history/7/blobs/0 ...       the bytes each path held before (absent paths have none)
//! .aiwg/history/7/aiwg.lock         the lock before (absent when there was none)
//! .aiwg/history/7/manifest.toml     version, generation, command, time, [[path]] entries,
//!                                   and a last line `# mark: <MAC of the lines before>`
//! .aiwg/history/7/done              a MAC of "done 7": the command finished
//! ```
//!
//! History is local. The MACs are made with a key kept in `$AIWG_HOME` ([`crate::mark`]), never
//! in the project, so a generation that git tracks, that was copied from another machine or
//! that was changed by hand does not verify: it is listed as ignored, and is never replayed,
//! resumed, numbered over or pruned. Every backup's hash is in the signed manifest, so a
//! replaced blob is refused too.
//!
//! The manifest is written last: a folder with a valid mark and no manifest is what a crash
//! left and is removed by the next prune. Rolling back writes a generation too, so rolling back
//! a rollback is a redo. A generation holding bytes that `--force` overwrote (someone's own,
//! not aiwg's) is kept until the user deletes its folder: pruning never drops it.

use std::collections::BTreeSet;

use aiwg_core::RelPath;

use crate::engine::Engine;
use crate::error::DeployError;
use crate::hash::sha256_hex;
use crate::layout::Layout;
use crate::mark::HistoryKey;
use crate::system::{EntryKind, System};

const MANIFEST: &str = "manifest.toml";
const DONE: &str = "done";
const MARK: &str = "mark";
const BLOBS: &str = "blobs";
pub(crate) const LOCK_BLOB: &str = "aiwg.lock";
const MARK_LINE: &str = "# mark: ";
const IGNORE_LINE_COMMENT: &str = "# aiwg: apply backups (aiwg rollback)";
const CACHE_IGNORE_COMMENT: &str = "# aiwg: check cache (safe to delete)";
/// The manifest format this aiwg writes and replays.
pub const MANIFEST_VERSION: u32 = 2;
/// A manifest larger than this is not read (aiwg writes a few hundred bytes per path).
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

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
    /// SHA-256 of the blob, checked before it is restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_sha256: Option<String>,
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

impl crate::toml_text::Table for HistoryEntry {
    fn write_table(&self, name: &str, out: &mut String) {
        use crate::toml_text::{bool_line, str_line};
        out.push_str("[[");
        out.push_str(name);
        out.push_str("]]\n");
        str_line(out, "path", self.path.as_str());
        if let Some(before) = &self.before {
            str_line(out, "before", before.as_str());
        }
        if let Some(sha) = &self.before_sha256 {
            str_line(out, "before_sha256", sha);
        }
        bool_line(out, "before_executable", self.before_executable);
        if let Some(sha) = &self.after_sha256 {
            str_line(out, "after_sha256", sha);
        }
        bool_line(out, "after_executable", self.after_executable);
    }
}

/// A recorded generation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generation {
    /// The manifest format version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// The generation number, which is also its folder name.
    pub generation: u64,
    /// The command that made it (`apply`, `rollback`, `remove sdlc`).
    pub command: String,
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// Whether a lock existed before (its bytes are in the `aiwg.lock` blob).
    pub lock_before: bool,
    /// SHA-256 of the lock blob, checked before it is restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_sha256: Option<String>,
    /// The interrupted generation this one finishes (it was the newest, and never marked
    /// done): rolling this one back rolls that one back too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<u64>,
    /// For a rollback: the generations it undoes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undoes: Vec<u64>,
    /// Paths whose bytes before were someone's own (not what aiwg wrote) and were overwritten
    /// by `--force`: the generation is their only copy, so pruning keeps it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forced: Vec<RelPath>,
    /// Folders the generation made for new files (recorded before it made them, so a run
    /// that finishes an interrupted one knows them: R16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dirs: Vec<RelPath>,
    /// Every path the generation changed.
    #[serde(default, rename = "path", skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<HistoryEntry>,
    /// Whether the command finished (a valid `done` marker beside the manifest). An
    /// interrupted rollback is resumed by the next `rollback` instead of being undone.
    #[serde(skip)]
    pub complete: bool,
    /// How many paths the generation changed, also when [`list_heads`] did not keep them.
    #[serde(skip)]
    pub path_count: usize,
}

/// A numbered folder of the history that is not a generation of this machine's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The folder's number.
    pub generation: u64,
    /// The folder, relative to the state root.
    pub folder: RelPath,
    /// Why it is not replayed, on one line.
    pub reason: String,
}

/// The history folder as read: this machine's generations and the folders it ignores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// This machine's generations with a manifest, oldest first.
    pub generations: Vec<Generation>,
    /// Numbered folders that did not verify (committed, copied, changed by hand), oldest first.
    pub ignored: Vec<Ignored>,
    /// Folders this machine began and a crash left without a manifest (pruned next).
    leftovers: Vec<u64>,
    /// Every name in the history folder (numbers are never reused while a folder has one).
    names: BTreeSet<String>,
}

/// The folder of generation `n`, relative to the state root.
pub fn folder(engine: &Engine<'_>, n: u64) -> RelPath {
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

fn folder_mark(key: &HistoryKey, n: u64) -> String {
    key.mac(format!("aiwg history folder {n}").as_bytes())
}

fn done_mark(key: &HistoryKey, n: u64) -> String {
    key.mac(format!("aiwg history done {n}").as_bytes())
}

/// The largest mark file read: a MAC is 64 hex digits (aiwg writes no more than a newline
/// beside it).
const MAX_MARK_BYTES: u64 = 256;

/// True when the file at `path` holds `mark` (and nothing else but a newline). Anything else
/// there — nothing, a symlink, a folder, a file larger than a mark — is simply not the mark:
/// a committed `history/7/mark -> /etc/passwd` (or a 4 GB one) must not stop every apply nor
/// be read whole.
fn holds_mark(sys: &dyn System, path: &RelPath, mark: &str) -> Result<bool, DeployError> {
    match sys.metadata(path)? {
        Some((EntryKind::File, size)) if size <= MAX_MARK_BYTES => {}
        _ => return Ok(false),
    }
    Ok(match sys.read(path) {
        Ok(file) => file.is_some_and(|f| f.bytes.trim_ascii() == mark.as_bytes()),
        // Replaced by a link or a folder since the look (only someone on this machine can).
        Err(
            crate::system::SystemError::Symlink { .. }
            | crate::system::SystemError::NotAFile { .. }
            | crate::system::SystemError::NotAFolder { .. },
        ) => false,
        Err(e) => return Err(e.into()),
    })
}

/// The manifest body and its mark line, when the text ends with one.
fn split_mark(text: &str) -> Option<(&str, &str)> {
    let body_end = text.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
    let mark = text[body_end..].trim_end().strip_prefix(MARK_LINE)?;
    Some((&text[..body_end], mark))
}

/// The generation a folder name is: only the number as aiwg spells it ([`folder`]), so `+7`
/// or `07` (which `parse` takes for 7) is not generation 7 counted again.
fn number_of(name: &str) -> Option<u64> {
    let n: u64 = name.parse().ok()?;
    (n.to_string() == name).then_some(n)
}

/// Reads the history folder: which numbered folders are this machine's generations, which
/// are crash leftovers, and which are ignored (and why). Never writes.
pub fn list(engine: &Engine<'_>) -> Result<Listing, DeployError> {
    list_with(engine, true)
}

/// [`list`] whose generations hold no `paths` (each manifest is still verified, and its paths
/// checked and counted, but not kept): what apply's own bookkeeping and `rollback --list`
/// need, without every path of every kept generation in memory (a history of generations
/// `--force` made is never pruned, so it has no bound).
pub fn list_heads(engine: &Engine<'_>) -> Result<Listing, DeployError> {
    list_with(engine, false)
}

fn list_with(engine: &Engine<'_>, paths: bool) -> Result<Listing, DeployError> {
    let key = engine.keys.for_reading()?;
    let mut listing = Listing::default();
    let names = engine.state.list(Some(&engine.layout.history))?;
    let mut numbers: Vec<u64> = names.iter().filter_map(|n| number_of(n)).collect();
    numbers.sort_unstable();
    listing.names = names.into_iter().collect();
    for n in numbers {
        let dir = folder(engine, n);
        match read_generation(engine, key.as_ref(), n, &dir, paths)? {
            Read::Local(g) => listing.generations.push(g),
            Read::Leftover => listing.leftovers.push(n),
            Read::Ignored(reason) => listing.ignored.push(Ignored {
                generation: n,
                folder: dir,
                reason,
            }),
        }
    }
    Ok(listing)
}

/// Generation `n` of this machine, with its paths (one [`list_heads`] named; the process
/// lock keeps any other aiwg from changing it since).
pub(crate) fn read_whole(engine: &Engine<'_>, n: u64) -> Result<Generation, DeployError> {
    let key = engine.keys.for_reading()?;
    let dir = folder(engine, n);
    match read_generation(engine, key.as_ref(), n, &dir, true)? {
        Read::Local(g) => Ok(g),
        Read::Leftover | Read::Ignored(_) => Err(DeployError::History {
            path: dir,
            message: "this generation changed while it was read: run the command again".into(),
        }),
    }
}

enum Read {
    Local(Generation),
    Leftover,
    Ignored(String),
}

const FOREIGN: &str = "not written by aiwg on this machine (committed to the repository, copied from elsewhere, or changed by hand)";

fn read_generation(
    engine: &Engine<'_>,
    key: Option<&HistoryKey>,
    n: u64,
    dir: &RelPath,
    paths: bool,
) -> Result<Read, DeployError> {
    // A symlink (a committed `history/7 -> ../../.git`) is never looked through.
    if !matches!(engine.state.metadata(dir)?, Some((EntryKind::Dir, _))) {
        return Ok(Read::Ignored(format!("{FOREIGN}: it is not a folder")));
    }
    let manifest = child(dir, MANIFEST);
    let size = match engine.state.metadata(&manifest)? {
        Some((EntryKind::File, size)) => Some(size),
        Some(_) => {
            return Ok(Read::Ignored(format!(
                "{FOREIGN}: its manifest is not a file"
            )))
        }
        None => None,
    };
    // The folder's mark first: a folder this machine did not begin costs a look, not a read
    // and a MAC of its manifest (a committed one may hold 64 MiB, and there may be thousands).
    let ours = match key {
        Some(key) => holds_mark(engine.state, &child(dir, MARK), &folder_mark(key, n))?,
        None => false,
    };
    let Some(size) = size else {
        return Ok(if ours {
            Read::Leftover
        } else {
            Read::Ignored(format!("{FOREIGN}: it has no manifest"))
        });
    };
    if size > MAX_MANIFEST_BYTES || (!ours && size > MAX_PARSED_FOREIGN as u64) {
        return Ok(Read::Ignored(format!(
            "{FOREIGN}: its manifest is {size} bytes"
        )));
    }
    let Some(data) = engine.state.read(&manifest)? else {
        return Ok(Read::Ignored(format!("{FOREIGN}: it has no manifest")));
    };
    let text = String::from_utf8_lossy(&data.bytes);
    let verified = match (key, split_mark(&text)) {
        (Some(key), Some((body, mark))) if ours && key.verify(body.as_bytes(), mark) => Some(body),
        _ => None,
    };
    let Some(body) = verified else {
        // Say what the generation would have done, so the culprit is named.
        let culprit = named_reserved(&text)
            .map(|(line, path, why)| format!("; line {line} names `{path}`, {why}"))
            .unwrap_or_default();
        return Ok(Read::Ignored(format!("{FOREIGN}{culprit}")));
    };
    // Without its paths, a manifest keeps only those that would make it ignored; it is then
    // read whole again, so the message names the same line.
    let parsed = match parse_manifest(body, paths) {
        Ok(g)
            if !paths
                && g.paths
                    .iter()
                    .any(|p| crate::lock::reserved(&p.path).is_some()) =>
        {
            parse_manifest(body, true)
        }
        other => other,
    };
    let mut generation: Generation = match parsed {
        Ok(g) => g,
        Err(e) => {
            return Ok(Read::Ignored(format!(
                "the manifest does not parse: {}",
                e.message().trim()
            )))
        }
    };
    if generation.version != MANIFEST_VERSION || generation.generation != n {
        return Ok(Read::Ignored(format!(
            "the manifest says generation {} (version {}), in folder {n}",
            generation.generation, generation.version
        )));
    }
    // The parsed paths are checked; the line is looked up only for the message.
    let reserved = generation
        .paths
        .iter()
        .enumerate()
        .find_map(|(i, p)| crate::lock::reserved(&p.path).map(|why| (i, &p.path, why)));
    if let Some((i, path, why)) = reserved {
        let line = crate::lock::path_lines(body).get(i).copied().unwrap_or(1);
        return Ok(Read::Ignored(format!("line {line} names `{path}`, {why}")));
    }
    if !paths {
        generation.paths = Vec::new();
    }
    generation.complete = match key {
        Some(key) => holds_mark(engine.state, &child(dir, DONE), &done_mark(key, n))?,
        None => false,
    };
    Ok(Read::Local(generation))
}

/// The largest manifest of a folder this machine did not begin that is still read, to name
/// the reserved path it would restore (given to the TOML parser when the line scan finds none:
/// its tree takes tens of bytes per byte of text).
const MAX_PARSED_FOREIGN: usize = 1 << 20;

/// The first `[[path]]` of a manifest text naming a reserved path: its line, the path, why.
/// The text is not aiwg's (its mark did not verify), so it is first scanned line by line,
/// holding nothing; only then does it go to the TOML parser (a committed 50 MB manifest
/// parsed whole took 2 GB and 20 s, on every apply: none larger than
/// [`MAX_PARSED_FOREIGN`] is read now).
fn named_reserved(text: &str) -> Option<(usize, RelPath, &'static str)> {
    let mut in_path = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            in_path = line == "[[path]]";
            continue;
        }
        let Some((key, raw)) = line.split_once('=').filter(|_| in_path) else {
            continue;
        };
        if key.trim() != "path" {
            continue;
        }
        if let Some(crate::lock::fast::Value::Str(s)) = crate::lock::fast::value(raw.trim()) {
            if let Some((path, why)) = RelPath::new(&s)
                .ok()
                .and_then(|p| crate::lock::reserved(&p).map(|why| (p, why)))
            {
                return Some((i + 1, path, why));
            }
        }
    }
    if text.len() > MAX_PARSED_FOREIGN {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Paths {
        #[serde(default)]
        path: Vec<PathOnly>,
    }
    #[derive(serde::Deserialize)]
    struct PathOnly {
        path: String,
    }
    let paths: Paths = toml::from_str(text).ok()?;
    let (i, path, why) = paths.path.iter().enumerate().find_map(|(i, p)| {
        let path = RelPath::new(&p.path).ok()?;
        let why = crate::lock::reserved(&path)?;
        Some((i, path, why))
    })?;
    // Lines only for the error: counting them is quadratic in the manifest's size, and every
    // apply lists every generation.
    let line = crate::lock::path_lines(text).get(i).copied().unwrap_or(1);
    Some((line, path, why))
}

/// What one generation records besides its paths.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Record<'a> {
    /// The command (`apply`, `rollback 3`).
    pub command: &'a str,
    /// For a rollback: the generations it undoes.
    pub undoes: &'a [u64],
    /// Paths whose someone's-own bytes `--force` overwrites.
    pub forced: &'a [RelPath],
    /// Folders the command makes (those of the generation it resumes included).
    pub dirs: &'a [&'a str],
}

/// The folders the interrupted newest generation was making (`None` when the newest is
/// complete or there is none): a run that finishes it made them too, though they exist by now.
/// Only the newest of this machine's generations is read (numbers from the top, past ignored
/// folders and leftovers), not every manifest: every apply asks, changed or not.
pub(crate) fn interrupted_dirs(engine: &Engine<'_>) -> Result<Option<Vec<RelPath>>, DeployError> {
    let key = engine.keys.for_reading()?;
    let names = engine.state.list(Some(&engine.layout.history))?;
    let mut numbers: Vec<u64> = names.iter().filter_map(|n| number_of(n)).collect();
    numbers.sort_unstable();
    for n in numbers.into_iter().rev() {
        if let Read::Local(g) = read_generation(engine, key.as_ref(), n, &folder(engine, n), false)?
        {
            return Ok((!g.complete).then_some(g.dirs));
        }
    }
    Ok(None)
}

/// The generation folders where a killed aiwg of this machine may have left temp files
/// ([`crate::system::debris`]): the newest folder whose mark verifies (cut off while writing
/// its backups, manifest or `done`) with its `blobs`, and any real folder numbered above it
/// that holds no mark (cut off while writing the mark). A folder above it whose mark does not
/// verify is not this machine's: a committed `history/999999/` never hides the newest real
/// generation from the search. Never fails: what cannot be read is not searched.
pub(crate) fn debris_folders(engine: &Engine<'_>) -> Vec<RelPath> {
    let Ok(names) = engine.state.list(Some(&engine.layout.history)) else {
        return Vec::new();
    };
    let key = engine.keys.for_reading().ok().flatten();
    let mut numbers: Vec<u64> = names.iter().filter_map(|n| number_of(n)).collect();
    numbers.sort_unstable();
    let mut found = Vec::new();
    for n in numbers.into_iter().rev() {
        let dir = folder(engine, n);
        if !matches!(engine.state.metadata(&dir), Ok(Some((EntryKind::Dir, _)))) {
            continue;
        }
        let mark = child(&dir, MARK);
        match engine.state.metadata(&mark) {
            Ok(None) => found.push(dir),
            Ok(Some(_)) => {
                let ours = key.as_ref().is_some_and(|key| {
                    holds_mark(engine.state, &mark, &folder_mark(key, n)).unwrap_or(false)
                });
                if ours {
                    found.push(child(&dir, BLOBS));
                    found.push(dir);
                    break;
                }
            }
            Err(_) => {}
        }
    }
    found
}

/// What [`prune`] needs of the history: this machine's generations (number, and whether it
/// holds bytes `--force` overwrote), its crash leftovers and the ignored folders. [`record`]
/// hands it out, its own generation included, so the prune after an apply does not read and
/// verify every manifest again (the one just written is the largest).
#[derive(Debug)]
pub(crate) struct Pruning {
    generations: Vec<(u64, bool)>,
    leftovers: Vec<u64>,
    ignored: Vec<Ignored>,
}

/// Writes a generation for `changes` (path, before, after) and the lock bytes before; returns
/// its number and the history as [`prune`] needs it afterwards.
pub(crate) fn record(
    engine: &Engine<'_>,
    info: Record<'_>,
    changes: crate::apply::Changes<'_>,
    lock_before: Option<&[u8]>,
) -> Result<(u64, Pruning), DeployError> {
    let key = engine.keys.for_writing()?;
    let listing = list_heads(engine)?;
    let resumes = listing
        .generations
        .last()
        .filter(|g| !g.complete)
        .map(|g| g.generation);
    // After the newest of this machine's generations, past any folder already there.
    let newest = listing
        .generations
        .iter()
        .map(|g| g.generation)
        .chain(listing.leftovers.iter().copied())
        .max()
        .unwrap_or(0);
    let mut n = newest.checked_add(1);
    while let Some(candidate) = n.filter(|c| listing.names.contains(&c.to_string())) {
        n = candidate.checked_add(1);
    }
    let n = n.ok_or_else(|| DeployError::History {
        path: engine.layout.history.clone(),
        message: "generation numbers are used up: move the history folder away".into(),
    })?;
    // Owner-only before the first backup: a file aiwg replaces may be private (mode 0600), and
    // its copy must not become readable by others in the history.
    engine.state.create_private_dir(&engine.layout.history)?;
    let dir = folder(engine, n);
    engine
        .state
        .write_atomic(&child(&dir, MARK), folder_mark(&key, n).as_bytes(), false)?;
    // The backups first, then the manifest, made one path at a time as it is written (and
    // marked as it goes), never held whole: its entries are made again from `changes`.
    let blob_name =
        |i: usize| RelPath::new(&format!("{BLOBS}/{i}")).expect("a fixed name is valid");
    for (i, change) in changes.iter().enumerate() {
        if let Some(data) = change.before {
            engine
                .state
                .write_atomic(&child(&dir, blob_name(i).as_str()), &data.bytes, false)?;
        }
    }
    if let Some(bytes) = lock_before {
        engine
            .state
            .write_atomic(&child(&dir, LOCK_BLOB), bytes, false)?;
    }
    let header = Generation {
        version: MANIFEST_VERSION,
        generation: n,
        command: info.command.to_string(),
        time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        lock_before: lock_before.is_some(),
        lock_sha256: lock_before.map(sha256_hex),
        resumes,
        undoes: info.undoes.to_vec(),
        forced: info.forced.to_vec(),
        dirs: (info.dirs.iter())
            .map(|d| RelPath::new(d).expect("a folder's path is a path"))
            .collect(),
        paths: Vec::new(),
        complete: false,
        path_count: changes.len(),
    };
    let entries = || {
        changes.iter().enumerate().map(|(i, change)| {
            let before = change.before;
            HistoryEntry {
                path: RelPath::clone(change.path),
                before: before.map(|_| blob_name(i)),
                before_sha256: before.map(|d| sha256_hex(&d.bytes)),
                before_executable: before.is_some_and(|d| d.executable),
                after_sha256: change.after_sha256(),
                after_executable: change.after.is_some_and(|d| d.executable),
            }
        })
    };
    engine
        .state
        .write_atomic_fill(&child(&dir, MANIFEST), false, &mut |sink| {
            let mut mac = key.mac_of_pieces();
            let whole = manifest_pieces(&header, entries(), &mut |piece| {
                mac.update(piece);
                sink(piece)
            });
            let _ =
                whole && sink(MARK_LINE.as_bytes()) && sink(mac.finish().as_bytes()) && sink(b"\n");
        })?;
    let mut generations: Vec<(u64, bool)> = listing
        .generations
        .iter()
        .map(|g| (g.generation, !g.forced.is_empty()))
        .collect();
    generations.push((n, !info.forced.is_empty()));
    Ok((
        n,
        Pruning {
            generations,
            leftovers: listing.leftovers,
            ignored: listing.ignored,
        },
    ))
}

/// The manifest `body` (after its mark was verified: aiwg wrote it): on a fast path for
/// exactly what [`manifest_text`] writes, else through the full TOML parser, which builds a
/// tree of about 12 bytes per byte of text (100 MiB for a generation of 40,000 paths).
/// Without `paths`, the fast path keeps only the paths that are reserved (the caller reads
/// the manifest again for those); the full parser keeps them all.
fn parse_manifest(body: &str, paths: bool) -> Result<Generation, toml::de::Error> {
    match fast_manifest(body, paths) {
        Some(g) => Ok(g),
        None => toml::from_str(body).map(|g: Generation| Generation {
            path_count: g.paths.len(),
            ..g
        }),
    }
}

/// The manifest's lines: header keys, then `[[path]]` tables. `None` at anything else.
fn fast_manifest(body: &str, all_paths: bool) -> Option<Generation> {
    use crate::lock::fast::{set, value, Value};
    #[derive(Default)]
    struct Head {
        version: Option<u32>,
        generation: Option<u64>,
        command: Option<String>,
        time: Option<u64>,
        lock_before: Option<bool>,
        lock_sha256: Option<String>,
        resumes: Option<u64>,
        undoes: Option<Vec<u64>>,
        forced: Option<Vec<String>>,
        dirs: Option<Vec<String>>,
    }
    #[derive(Default)]
    struct Path {
        path: Option<String>,
        before: Option<String>,
        before_sha256: Option<String>,
        before_executable: Option<bool>,
        after_sha256: Option<String>,
        after_executable: Option<bool>,
    }
    fn finish(p: Path) -> Option<HistoryEntry> {
        Some(HistoryEntry {
            path: RelPath::new(&p.path?).ok()?,
            before: match p.before {
                Some(b) => Some(RelPath::new(&b).ok()?),
                None => None,
            },
            before_sha256: p.before_sha256,
            before_executable: p.before_executable.unwrap_or(false),
            after_sha256: p.after_sha256,
            after_executable: p.after_executable.unwrap_or(false),
        })
    }
    let mut head = Head::default();
    let mut paths = Vec::new();
    let mut count = 0usize;
    let mut keep = |entry: HistoryEntry| {
        count += 1;
        if all_paths || crate::lock::reserved(&entry.path).is_some() {
            paths.push(entry);
        }
    };
    let mut current: Option<Path> = None;
    for line in body.lines() {
        if line.is_empty() {
            continue;
        }
        if line == "[[path]]" {
            if let Some(p) = current.replace(Path::default()) {
                keep(finish(p)?);
            }
            continue;
        }
        let (name, raw) = line.split_once(" = ")?;
        match (&mut current, name, value(raw)?) {
            (None, "version", Value::Int(n)) => set(&mut head.version, u32::try_from(n).ok()?)?,
            (None, "generation", Value::Int(n)) => set(&mut head.generation, n)?,
            (None, "command", Value::Str(s)) => set(&mut head.command, s)?,
            (None, "time", Value::Int(n)) => set(&mut head.time, n)?,
            (None, "lock_before", Value::Bool(b)) => set(&mut head.lock_before, b)?,
            (None, "lock_sha256", Value::Str(s)) => set(&mut head.lock_sha256, s)?,
            (None, "resumes", Value::Int(n)) => set(&mut head.resumes, n)?,
            (None, "undoes", Value::Ints(n)) => set(&mut head.undoes, n)?,
            (None, "undoes", Value::Strs(s)) if s.is_empty() => set(&mut head.undoes, vec![])?,
            (None, "forced", Value::Strs(s)) => set(&mut head.forced, s)?,
            (None, "dirs", Value::Strs(s)) => set(&mut head.dirs, s)?,
            (Some(p), "path", Value::Str(s)) => set(&mut p.path, s)?,
            (Some(p), "before", Value::Str(s)) => set(&mut p.before, s)?,
            (Some(p), "before_sha256", Value::Str(s)) => set(&mut p.before_sha256, s)?,
            (Some(p), "before_executable", Value::Bool(b)) => set(&mut p.before_executable, b)?,
            (Some(p), "after_sha256", Value::Str(s)) => set(&mut p.after_sha256, s)?,
            (Some(p), "after_executable", Value::Bool(b)) => set(&mut p.after_executable, b)?,
            _ => return None,
        }
    }
    if let Some(p) = current {
        keep(finish(p)?);
    }
    let rel_paths = |v: Option<Vec<String>>| -> Option<Vec<RelPath>> {
        v.unwrap_or_default()
            .iter()
            .map(|f| RelPath::new(f).ok())
            .collect()
    };
    Some(Generation {
        version: head.version?,
        generation: head.generation?,
        command: head.command?,
        time: head.time?,
        lock_before: head.lock_before?,
        lock_sha256: head.lock_sha256,
        resumes: head.resumes,
        undoes: head.undoes.unwrap_or_default(),
        forced: rel_paths(head.forced)?,
        dirs: rel_paths(head.dirs)?,
        paths,
        complete: false,
        path_count: count,
    })
}

/// The manifest's TOML: its fields, then one `[[path]]` table per path, written directly
/// ([`crate::toml_text`]: the text `toml::to_string` gives for the whole value).
#[cfg(test)]
fn manifest_text(mut manifest: Generation) -> String {
    let paths = std::mem::take(&mut manifest.paths);
    let mut body = Vec::new();
    manifest_pieces(&manifest, paths.into_iter(), &mut |piece| {
        body.extend_from_slice(piece);
        true
    });
    String::from_utf8(body).expect("TOML is text")
}

/// Hands `out` the manifest's TOML piece by piece: the fields of `header` (whose `paths` are
/// not used), then one `[[path]]` table per entry of `paths` ([`crate::lock::tables_into`]).
/// False when `out` stopped it.
fn manifest_pieces(
    header: &Generation,
    paths: impl Iterator<Item = HistoryEntry>,
    out: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    let mut text = String::with_capacity(256);
    manifest_head(header, &mut text);
    if !out(text.as_bytes()) {
        return false;
    }
    for entry in paths {
        text.clear();
        crate::lock::tables_into(&mut text, "path", std::iter::once(&entry));
        if !out(text.as_bytes()) {
            return false;
        }
    }
    true
}

/// Appends the manifest's fields (every one but its paths) to `out`.
fn manifest_head(manifest: &Generation, out: &mut String) {
    use crate::toml_text::{bool_line, int_line, ints_line, str_line, strs_line};
    int_line(out, "version", u64::from(manifest.version));
    int_line(out, "generation", manifest.generation);
    str_line(out, "command", &manifest.command);
    int_line(out, "time", manifest.time);
    bool_line(out, "lock_before", manifest.lock_before);
    if let Some(sha) = &manifest.lock_sha256 {
        str_line(out, "lock_sha256", sha);
    }
    if let Some(n) = manifest.resumes {
        int_line(out, "resumes", n);
    }
    if !manifest.undoes.is_empty() {
        ints_line(out, "undoes", &manifest.undoes);
    }
    for (key, list) in [("forced", &manifest.forced), ("dirs", &manifest.dirs)] {
        if !list.is_empty() {
            strs_line(out, key, list.iter().map(RelPath::as_str));
        }
    }
}

/// Marks generation `n` as finished.
pub(crate) fn mark_done(engine: &Engine<'_>, n: u64) -> Result<(), DeployError> {
    let key = engine.keys.for_writing()?;
    engine.state.write_atomic(
        &child(&folder(engine, n), DONE),
        done_mark(&key, n).as_bytes(),
        false,
    )?;
    Ok(())
}

/// The bytes of a backup, checked against the hash the signed manifest recorded.
pub(crate) fn read_backup(
    engine: &Engine<'_>,
    n: u64,
    blob: &RelPath,
    sha256: Option<&str>,
) -> Result<Vec<u8>, DeployError> {
    let path = child(&folder(engine, n), blob.as_str());
    let damaged = |message: &str| DeployError::History {
        path: path.clone(),
        message: message.to_string(),
    };
    let data = engine
        .state
        .read(&path)?
        .ok_or_else(|| damaged("this backup is missing"))?;
    if sha256 != Some(sha256_hex(&data.bytes).as_str()) {
        return Err(damaged("this backup was changed since aiwg wrote it"));
    }
    Ok(data.bytes)
}

/// Deletes one generation folder of this machine: only the files aiwg writes there, named
/// (never a listing followed into a link), mark last so an interrupted removal is still a
/// leftover of ours; then the folders, if that left them empty.
fn remove_generation(sys: &dyn System, dir: &RelPath) -> Result<(), DeployError> {
    let blobs = child(dir, BLOBS);
    for name in sys.list(Some(&blobs))? {
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
            sys.remove_file(&child(&blobs, &name))?;
        }
    }
    for name in [LOCK_BLOB, DONE, MANIFEST, MARK] {
        sys.remove_file(&child(dir, name))?;
    }
    sys.remove_dir_if_empty(&blobs)?;
    sys.remove_dir_if_empty(dir)?;
    Ok(())
}

/// Keeps the newest `keep` of this machine's generations, never one holding bytes `--force`
/// overwrote; removes older ones and this machine's crash leftovers. Ignored folders stay;
/// they are returned, so the caller can warn of them without listing the history again.
/// `history` is what [`record`] returned: the process lock keeps any other aiwg from changing
/// the history since.
pub(crate) fn prune(
    engine: &Engine<'_>,
    keep: usize,
    history: Pruning,
) -> Result<Vec<Ignored>, DeployError> {
    let keep = keep.max(1);
    for n in &history.leftovers {
        remove_generation(engine.state, &folder(engine, *n))?;
    }
    let prunable: Vec<u64> = history
        .generations
        .iter()
        .filter(|(_, forced)| !forced)
        .map(|(n, _)| *n)
        .collect();
    let excess = prunable.len().saturating_sub(keep);
    for n in &prunable[..excess] {
        remove_generation(engine.state, &folder(engine, *n))?;
    }
    Ok(history.ignored)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn generation(paths: Vec<HistoryEntry>) -> Generation {
        Generation {
            version: MANIFEST_VERSION,
            generation: 3,
            command: "remove \"sdlc\"".into(),
            time: 1,
            lock_before: true,
            lock_sha256: Some("ab".into()),
            resumes: Some(2),
            undoes: vec![1, 2],
            forced: vec![RelPath::new("CLAUDE.md").unwrap()],
            dirs: vec![RelPath::new(".claude/agents").unwrap()],
            path_count: paths.len(),
            paths,
            complete: false,
        }
    }

    #[test]
    fn the_manifest_text_is_what_serialising_it_whole_gives_and_reads_back() {
        let entry = |path: &str, before: bool| HistoryEntry {
            path: RelPath::new(path).unwrap(),
            before: before.then(|| RelPath::new("blobs/0").unwrap()),
            before_sha256: before.then(|| "cd".into()),
            before_executable: before,
            after_sha256: Some("ef".into()),
            after_executable: false,
        };
        for paths in [
            vec![],
            vec![entry("a.md", false), entry("b \"c\".md", true)],
        ] {
            let g = generation(paths);
            let text = manifest_text(g.clone());
            let whole = toml::to_string(&g).unwrap();
            if !g.paths.is_empty() {
                assert_eq!(text, whole);
            }
            let parsed: Generation = toml::from_str(&text).unwrap();
            assert_eq!(
                Generation {
                    path_count: g.path_count,
                    ..parsed
                },
                g
            );
            assert_eq!(fast_manifest(&text, true), Some(g.clone()), "{text}");
            // Without paths: the same fields, no path kept.
            let head = Generation {
                paths: vec![],
                ..g.clone()
            };
            assert_eq!(fast_manifest(&text, false), Some(head), "{text}");
        }
        // A reserved path is kept even without paths, so the caller can name it.
        let g = generation(vec![entry("a.md", false), entry(".git/config", false)]);
        let kept = fast_manifest(&manifest_text(g), false).unwrap();
        let kept: Vec<&str> = kept.paths.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(kept, [".git/config"]);
        // Hostile paths: the direct writer gives the crate's text, and it reads back.
        let mut rng = crate::tests::random::Rng::new(7);
        for seed in 0..300 {
            let mut paths = Vec::new();
            while paths.len() < 4 {
                let text = crate::toml_text::tests::hostile(&mut rng);
                let Ok(path) = RelPath::new(&text) else {
                    continue;
                };
                let before = rng.chance(50);
                paths.push(HistoryEntry {
                    path,
                    before: before.then(|| RelPath::new(&format!("blobs/{seed}")).unwrap()),
                    before_sha256: before.then(|| crate::toml_text::tests::hostile(&mut rng)),
                    before_executable: rng.chance(50),
                    after_sha256: rng
                        .chance(50)
                        .then(|| crate::toml_text::tests::hostile(&mut rng)),
                    after_executable: rng.chance(50),
                });
            }
            let mut g = generation(paths);
            g.command = crate::toml_text::tests::hostile(&mut rng);
            g.resumes = rng.chance(50).then_some(seed);
            g.undoes = (0..rng.below(3) as u64).collect();
            g.lock_sha256 = rng.chance(50).then(|| "ab".into());
            if rng.chance(30) {
                g.forced.clear();
                g.dirs = g.paths.iter().map(|p| p.path.clone()).collect();
            }
            let text = manifest_text(g.clone());
            assert_eq!(text, toml::to_string(&g).unwrap(), "seed {seed}");
            assert_eq!(parse_manifest(&text, true).unwrap(), g, "seed {seed}");
        }
        // Anything the fast path does not know goes to the full parser, with the same answer.
        let g = generation(vec![entry("a.md", true)]);
        let odd = manifest_text(g.clone()).replace("generation = 3", "generation = 0x3");
        assert_eq!(fast_manifest(&odd, true), None);
        assert_eq!(parse_manifest(&odd, true).unwrap(), g);
        let unknown = format!("{}extra = 1\n", manifest_text(g));
        assert_eq!(fast_manifest(&unknown, true), None);
        assert!(parse_manifest(&unknown, true).is_err());
    }
}
