//! Sources: a folder of artifacts (on disk or embedded in the binary), read once into
//! memory as a [`SourceTree`], then loaded into artifacts with diagnostics.
//!
//! Layout (the same for bundled content, a project's `.aiwg/`, any folder, and the aiwg Node
//! tool's framework folders — facts from its `tools/agents/providers/base.mjs`):
//!
//! | path | artifact |
//! |---|---|
//! | `agents/<name>.md` | agent (subfolders such as `agents/enhancements/` are skipped) |
//! | `commands/**/<name>.md` | command, at any depth except inside a `templates/` folder (the Node tool lists framework commands recursively, e.g. `commands/flow/x.md`) |
//! | `skills/<name>/SKILL.md` | skill; every other file of the folder is an asset |
//! | `rules/<name>.md` | rule (`RULES-INDEX.md` is the Node tool's index of the others, not a rule) |
//! | `behaviors/<name>/BEHAVIOR.md` | behavior; every other file of the folder is an asset |
//! | `runbooks/<name>.md` | runbook |
//! | `templates/**` | not an artifact: files skills name, copied with them |
//!
//! `README.md` and the Node tool's non-artifact files (`manifest.md`, `agent-template.md`,
//! `*-compat.md` notes, `DEVELOPMENT_GUIDE.md`) are skipped everywhere, as are `manifest.json`,
//! `framework.toml` and every other folder (`docs/`, `flows/`, `hooks/` ...).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::frontmatter;
use crate::model::{Artifact, Asset, Kind};
use crate::read::{is_executable, read_sized};
use crate::validate::{self, Facts};
use crate::{Diagnostic, RelPath};

/// The largest main file of an artifact (`SKILL.md`, `agents/x.md` ...), in bytes.
pub const MAX_ARTIFACT_BYTES: u64 = 1 << 20;
/// The largest asset (a file beside a skill or behavior, or a template), in bytes.
pub const MAX_ASSET_BYTES: u64 = 10 << 20;

/// The most bytes one source may hold, every file counted each time it is reached (a file
/// behind ten symlinks counts ten times): symlinks cannot amplify a small commit into
/// gigabytes of output.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;
/// The most files and folders one source may hold, counted the same way (folder symlinks
/// nested in each other multiply paths exponentially).
pub const MAX_SOURCE_ENTRIES: usize = 50_000;
/// The most bytes one artifact may carry: its main file, its assets and the source files it
/// names.
pub const MAX_ARTIFACT_TOTAL_BYTES: u64 = 32 << 20;

/// The top-level folders the loader uses; nothing else of a source is read.
pub const SOURCE_FOLDERS: [&str; 8] = [
    "agents",
    "commands",
    "skills",
    "rules",
    "behaviors",
    "runbooks",
    "mcp",
    "templates",
];

/// File names that are never artifacts, compared without case: documentation and the
/// Node tool's helper files (its `listMdFiles` exclusion list, plus `RULES-INDEX.md`).
const NOT_ARTIFACTS: [&str; 8] = [
    "readme.md",
    "manifest.md",
    "agent-template.md",
    "openai-compat.md",
    "factory-compat.md",
    "windsurf-compat.md",
    "development_guide.md",
    "rules-index.md",
];

/// Version-control folders, skipped at any depth.
const VCS_FOLDERS: [&str; 3] = [".git", ".hg", ".svn"];

/// True for the names the walk of a source skips at any depth below its top folders
/// (version-control folders, `.DS_Store`): nothing under them is read.
pub fn is_skipped_name(name: &str) -> bool {
    VCS_FOLDERS.contains(&name) || name == ".DS_Store"
}

/// One file of a source, read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the source root.
    pub path: RelPath,
    /// The file's content.
    pub bytes: Vec<u8>,
    /// True when any execute bit is set; deployment keeps it for assets.
    pub executable: bool,
}

/// A whole source, read into memory: its name, where it came from, and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTree {
    /// The name artifacts record as their source (`sdlc`, `.aiwg`).
    pub name: String,
    /// How diagnostics name the source root (a path relative to the current folder, or
    /// `<bundled>/sdlc` for embedded content).
    pub display_root: PathBuf,
    /// Every file, sorted by path.
    pub files: Vec<SourceFile>,
}

/// The result of loading one or more sources.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The artifacts that loaded, including ones with error diagnostics; duplicates and
    /// unreadable files are left out.
    pub artifacts: Vec<Artifact>,
    /// Every problem found, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl SourceTree {
    /// A tree from files already in memory (embedded content, tests).
    pub fn from_files(
        name: impl Into<String>,
        display_root: impl Into<PathBuf>,
        mut files: Vec<SourceFile>,
    ) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        SourceTree {
            name: name.into(),
            display_root: display_root.into(),
            files,
        }
    }

    /// Reads the files of `root` that the loader uses (see [`SOURCE_FOLDERS`]), each once.
    /// Problems become diagnostics, not failures: an unreadable entry, a file name that cannot
    /// be deployed, a symlink that is broken or points outside `root` (refused), a file over
    /// its size cap (not read). Version-control folders are skipped.
    pub fn read_dir(name: impl Into<String>, root: &Path) -> (SourceTree, Vec<Diagnostic>) {
        SourceTree::read_dir_as(name, root, root)
    }

    /// [`SourceTree::read_dir`], naming files in diagnostics under `display_root` instead of
    /// `root` (for a path the user gave relative to another folder).
    pub fn read_dir_as(
        name: impl Into<String>,
        root: &Path,
        display_root: &Path,
    ) -> (SourceTree, Vec<Diagnostic>) {
        let mut reader = Reader {
            root,
            display_root,
            canonical_root: PathBuf::new(),
            files: Vec::new(),
            diagnostics: Vec::new(),
            pending: Vec::new(),
            bytes: AtomicU64::new(0),
            entries: 0,
            over: false,
            listed: HashMap::new(),
        };
        match std::fs::canonicalize(root) {
            Ok(canonical) => {
                reader.canonical_root = canonical;
                reader.read_root();
                reader.read_pending();
            }
            Err(e) => reader.diagnostics.push(Diagnostic::error(
                display_root,
                None,
                format!("cannot read source folder: {e}"),
            )),
        }
        let tree = SourceTree::from_files(name, display_root, reader.files);
        (tree, reader.diagnostics)
    }

    /// The display path of `rel` inside this source.
    pub fn display_path(&self, rel: &RelPath) -> PathBuf {
        rel.to_path(&self.display_root)
    }

    /// The file at `path`, if the tree has it.
    pub fn file(&self, path: &str) -> Option<&SourceFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Every file under folder `dir` (`templates/report`), in path order.
    pub fn files_under(&self, dir: &str) -> &[SourceFile] {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let start = self
            .files
            .partition_point(|f| f.path.as_str() < prefix.as_str());
        let len = self.files[start..]
            .iter()
            .take_while(|f| f.path.as_str().starts_with(&prefix))
            .count();
        &self.files[start..start + len]
    }
}

/// Walks a source folder on disk: the walk lists folders (file types come with the folder
/// listing, so a plain file costs no `lstat`) and queues plain files; [`Reader::read_pending`]
/// then reads them, on several threads when there are many.
struct Reader<'a> {
    root: &'a Path,
    display_root: &'a Path,
    canonical_root: PathBuf,
    files: Vec<SourceFile>,
    diagnostics: Vec<Diagnostic>,
    /// Plain files found by the walk, not read yet.
    pending: Vec<Pending>,
    /// Bytes of the files read so far (shared by the reading threads).
    bytes: AtomicU64,
    /// Files and folders met so far.
    entries: usize,
    /// A cap was reached: the walk stops and one error says why.
    over: bool,
    /// Folder listings read ahead on several threads ([`Reader::prefetch`]), taken by
    /// [`Reader::visit_dir`] instead of listing the folder again.
    listed: HashMap<PathBuf, std::io::Result<Vec<Listed>>>,
}

/// One name of a folder listing, with its type when the listing gave it.
struct Listed {
    name: std::ffi::OsString,
    path: PathBuf,
    kind: Option<std::fs::FileType>,
}

/// A folder's entries as [`Reader::visit_dir`] walks them: sorted by name.
fn list_folder(dir: &Path) -> std::io::Result<Vec<Listed>> {
    let mut entries: Vec<Listed> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| Listed {
            name: e.file_name(),
            path: e.path(),
            kind: e.file_type().ok(),
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Lists `dir` and every plain folder below it (symlinks are left to the walk), depth
/// first, until `budget` (entries listed by every thread) runs out: what is not listed
/// here the walk lists itself.
fn list_tree(
    dir: PathBuf,
    budget: &std::sync::atomic::AtomicUsize,
    out: &mut Vec<(PathBuf, std::io::Result<Vec<Listed>>)>,
) {
    let listed = list_folder(&dir);
    let n = listed.as_ref().map_or(0, Vec::len);
    if budget
        .fetch_add(n + 1, Ordering::Relaxed)
        .saturating_add(n + 1)
        > MAX_SOURCE_ENTRIES
    {
        return;
    }
    let subdirs: Vec<PathBuf> = listed
        .iter()
        .flatten()
        .filter(|e| walked_folder(e))
        .map(|e| e.path.clone())
        .collect();
    out.push((dir, listed));
    for sub in subdirs {
        list_tree(sub, budget, out);
    }
}

/// True for a plain folder [`Reader::visit_dir`] goes into: not a skipped version-control
/// folder ([`is_skipped_name`]) and not a name it refuses (not UTF-8, control or bidi
/// characters). Only those are listed ahead: the rest the walk never reads, and its entry cap
/// never counts them, so listing them would cost what a repository puts there.
fn walked_folder(e: &Listed) -> bool {
    e.kind.is_some_and(|t| t.is_dir())
        && e.name.to_str().is_some_and(|name| {
            !is_skipped_name(name) && !name.chars().any(crate::escape::is_unsafe_char)
        })
}

/// A folder with at least this many plain subfolders has them listed ahead on several
/// threads ([`Reader::prefetch`]).
const PREFETCH_FOLDERS: usize = 16;

/// A plain file the walk found.
struct Pending {
    path: PathBuf,
    rel: String,
    rel_path: RelPath,
    /// How many diagnostics the walk had made when it found the file: its own diagnostics go
    /// there, so they come out in walk order as if it had been read on the spot.
    diagnostics_before: usize,
}

/// A pending file, read (or not).
enum ReadOutcome {
    Read {
        bytes: Vec<u8>,
        executable: bool,
    },
    TooBig(u64),
    /// Reading it would take the source over [`MAX_SOURCE_BYTES`].
    OverSource,
    /// Not a plain file any more, or unreadable: the careful way decides.
    Retry,
}

impl Reader<'_> {
    fn read_root(&mut self) {
        for folder in SOURCE_FOLDERS {
            let path = self.root.join(folder);
            match std::fs::symlink_metadata(&path) {
                Ok(_) => self.visit(&path, folder),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => self.error(folder, format!("cannot read: {e}")),
            }
        }
    }

    /// Counts one more file or folder; false (and one error) once the source holds too many.
    fn count_entry(&mut self) -> bool {
        self.entries += 1;
        if self.entries > MAX_SOURCE_ENTRIES {
            self.over_cap(format!(
                "source holds more than {MAX_SOURCE_ENTRIES} files and folders (each counted every time a symlink leads to it); stopped reading it"
            ));
        }
        !self.over
    }

    /// Takes `size` more bytes from the source's budget; false when that is over the cap.
    fn take_bytes(&self, size: u64) -> bool {
        take_bytes(&self.bytes, size)
    }

    fn over_source_bytes(&mut self) {
        self.over_cap(format!(
            "source is over {} MiB (each file counted every time a symlink leads to it); stopped reading it",
            MAX_SOURCE_BYTES >> 20
        ));
    }

    fn over_cap(&mut self, message: String) {
        if !self.over {
            self.over = true;
            self.diagnostics.push(
                Diagnostic::error(self.display_root, None, message)
                    .with_hint("keep large or generated data outside the source; link to a file once, not from many places"),
            );
        }
    }

    fn error(&mut self, rel: &str, message: String) {
        self.diagnostics.push(Diagnostic::error(
            self.display_root.join(rel),
            None,
            message,
        ));
    }

    /// Reads `path` (a file or folder at `rel` inside the source), following a symlink only
    /// when it stays inside the source.
    fn visit(&mut self, path: &Path, rel: &str) {
        if !self.count_entry() {
            return;
        }
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => return self.error(rel, format!("cannot read: {e}")),
        };
        let meta = if meta.file_type().is_symlink() {
            let target = match std::fs::canonicalize(path) {
                Ok(t) => t,
                Err(e) => return self.error(rel, format!("symlink is broken: {e}")),
            };
            if !target.starts_with(&self.canonical_root) {
                let d = Diagnostic::error(
                    self.display_root.join(rel),
                    None,
                    format!(
                        "symlink points outside the source (to `{}`); refused",
                        target.display()
                    ),
                )
                .with_hint("copy the file into the source, or link to a place inside it");
                self.diagnostics.push(d);
                return;
            }
            let parent = path.parent().and_then(|p| std::fs::canonicalize(p).ok());
            if target.is_dir() && parent.is_some_and(|p| p.starts_with(&target)) {
                self.diagnostics.push(Diagnostic::warning(
                    self.display_root.join(rel),
                    None,
                    "symlink loops back to a folder that holds it; skipped",
                ));
                return;
            }
            match std::fs::metadata(path) {
                Ok(m) => m,
                Err(e) => return self.error(rel, format!("cannot read: {e}")),
            }
        } else {
            meta
        };
        if meta.is_dir() {
            self.visit_dir(path, rel);
        } else if meta.is_file() {
            self.read_file(path, rel, &meta);
        }
    }

    fn visit_dir(&mut self, dir: &Path, rel: &str) {
        let listed = match self.listed.remove(dir) {
            Some(listed) => listed,
            None => list_folder(dir),
        };
        let entries = match listed {
            Ok(entries) => entries,
            Err(e) => return self.error(rel, format!("cannot read folder: {e}")),
        };
        self.prefetch(&entries);
        for entry in entries {
            if self.over {
                return;
            }
            let file_name = entry.name;
            let Some(name) = file_name.to_str() else {
                let shown = file_name.to_string_lossy().into_owned();
                self.error(
                    &format!("{rel}/{shown}"),
                    "file name is not UTF-8 and cannot be deployed".into(),
                );
                continue;
            };
            if is_skipped_name(name) {
                continue;
            }
            // A control or bidi character in a deployed name would mislead whoever reads a
            // listing (`invoice\u{202e}fdp.sh` shows as `invoicehs.pdf`): refused (R20).
            if name.chars().any(crate::escape::is_unsafe_char) {
                self.diagnostics.push(
                    Diagnostic::error(
                        self.display_root.join(rel).join(name),
                        None,
                        "file name holds a control or bidi-override character; refused",
                    )
                    .with_hint("rename the file to plain text"),
                );
                continue;
            }
            let rel = format!("{rel}/{name}");
            let plain = entry.kind.filter(|t| t.is_dir() || t.is_file());
            if plain.is_some() && !self.count_entry() {
                return;
            }
            match plain {
                Some(t) if t.is_dir() => self.visit_dir(&entry.path, &rel),
                Some(_) => match RelPath::new(&rel) {
                    Ok(rel_path) => self.pending.push(Pending {
                        path: entry.path,
                        rel,
                        rel_path,
                        diagnostics_before: self.diagnostics.len(),
                    }),
                    Err(e) => self.error(&rel, format!("file cannot be deployed: {e}")),
                },
                // Symlinks (checked), other file types (skipped), unknown types.
                None => self.visit(&entry.path, &rel),
            }
        }
    }

    /// Lists the plain subfolders of a folder with many of them (and everything below them)
    /// on several threads, for [`Reader::visit_dir`] to take as it gets there: listing
    /// thousands of small folders one by one is system-call bound. Only what this walk
    /// would list next; at most [`MAX_SOURCE_ENTRIES`] entries are held ahead.
    fn prefetch(&mut self, entries: &[Listed]) {
        let subdirs: Vec<PathBuf> = (entries.iter())
            .filter(|e| walked_folder(e))
            .filter(|e| !self.listed.contains_key(&e.path))
            .map(|e| e.path.clone())
            .collect();
        if subdirs.len() < PREFETCH_FOLDERS || self.over {
            return;
        }
        let budget = std::sync::atomic::AtomicUsize::new(self.entries);
        let trees = crate::par::par_map(subdirs, PREFETCH_FOLDERS, |dir| {
            let mut out = Vec::new();
            list_tree(dir, &budget, &mut out);
            out
        });
        self.listed.extend(trees.into_iter().flatten());
    }

    /// Reads the pending files (in parallel when there are many) and adds them in walk order.
    fn read_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        // Opening and reading thousands of small files is system-call bound: use every core.
        let budget = &self.bytes;
        let outcomes = crate::par::par_map(pending.iter().collect(), 256, |file| {
            read_pending_file(file, budget)
        });
        let mut walk_diagnostics = std::mem::take(&mut self.diagnostics).into_iter();
        let mut emitted = 0;
        for (file, outcome) in pending.into_iter().zip(outcomes) {
            while emitted < file.diagnostics_before {
                self.diagnostics.extend(walk_diagnostics.next());
                emitted += 1;
            }
            match outcome {
                ReadOutcome::Read { bytes, executable } => self.files.push(SourceFile {
                    path: file.rel_path,
                    bytes,
                    executable,
                }),
                ReadOutcome::TooBig(size) => {
                    let cap = size_cap(&file.rel_path);
                    let d = too_big(&self.display_root.join(&file.rel), size, cap);
                    self.diagnostics.push(d);
                }
                ReadOutcome::OverSource => self.over_source_bytes(),
                ReadOutcome::Retry if self.over => {}
                ReadOutcome::Retry => self.visit(&file.path, &file.rel),
            }
        }
        self.diagnostics.extend(walk_diagnostics);
        if !self.pending.is_empty() {
            // A file became a folder while it was read: read what it holds.
            self.read_pending();
        }
    }

    fn read_file(&mut self, path: &Path, rel: &str, meta: &std::fs::Metadata) {
        let rel_path = match RelPath::new(rel) {
            Ok(p) => p,
            Err(e) => return self.error(rel, format!("file cannot be deployed: {e}")),
        };
        let cap = size_cap(&rel_path);
        if meta.len() > cap {
            self.diagnostics
                .push(too_big(&self.display_root.join(rel), meta.len(), cap));
            return;
        }
        if !self.take_bytes(meta.len()) {
            return self.over_source_bytes();
        }
        match std::fs::read(path) {
            Ok(bytes) => self.files.push(SourceFile {
                path: rel_path,
                bytes,
                executable: is_executable(meta),
            }),
            Err(e) => self.error(rel, format!("cannot read file: {e}")),
        }
    }
}

/// Takes `size` bytes from `budget` (the bytes a source has read); false when that goes over
/// [`MAX_SOURCE_BYTES`] (the budget then stays over, so every later file is refused too).
fn take_bytes(budget: &AtomicU64, size: u64) -> bool {
    budget
        .fetch_add(size, Ordering::Relaxed)
        .saturating_add(size)
        <= MAX_SOURCE_BYTES
}

/// Reads one plain file: open, fstat (type, size, mode), one read of that size, close.
/// Nothing is read once the source is over its byte cap.
fn read_pending_file(file: &Pending, budget: &AtomicU64) -> ReadOutcome {
    let Ok(handle) = std::fs::File::open(&file.path) else {
        return ReadOutcome::Retry;
    };
    let Ok(meta) = handle.metadata() else {
        return ReadOutcome::Retry;
    };
    if !meta.is_file() {
        return ReadOutcome::Retry;
    }
    if meta.len() > size_cap(&file.rel_path) {
        return ReadOutcome::TooBig(meta.len());
    }
    if !take_bytes(budget, meta.len()) {
        return ReadOutcome::OverSource;
    }
    match read_sized(&handle, meta.len() as usize) {
        Ok(bytes) => ReadOutcome::Read {
            bytes,
            executable: is_executable(&meta),
        },
        Err(_) => ReadOutcome::Retry,
    }
}

/// The size cap of the file at `path`: main files of artifacts are smaller than assets.
fn size_cap(path: &RelPath) -> u64 {
    match classify(path) {
        Slot::Main(..) => MAX_ARTIFACT_BYTES,
        _ => MAX_ASSET_BYTES,
    }
}

fn too_big(display: &Path, size: u64, cap: u64) -> Diagnostic {
    let what = if cap == MAX_ARTIFACT_BYTES {
        "an artifact file"
    } else {
        "an asset"
    };
    Diagnostic::error(
        display,
        None,
        format!(
            "file is {} bytes; the cap for {what} is {} MiB",
            size,
            cap >> 20
        ),
    )
    .with_hint("split it, or keep large data outside the source")
}

/// Where a file sits in the source layout.
#[derive(Debug, PartialEq, Eq)]
enum Slot<'a> {
    /// The main file of an artifact, with the file stem or folder name.
    Main(Kind, &'a str),
    /// A file inside a skill or behavior folder.
    Asset(Kind, &'a str),
    /// A Markdown file directly in `skills/` or `behaviors/`, where a folder belongs.
    Misplaced(Kind),
    /// Not an artifact (README.md, docs/, templates/ ...).
    Other,
}

fn classify(path: &RelPath) -> Slot<'_> {
    let parts: Vec<&str> = path.components().collect();
    let Some(kind) = Kind::ALL.into_iter().find(|k| k.folder() == parts[0]) else {
        return Slot::Other;
    };
    let is_artifact_md = |file: &str| -> bool {
        file.ends_with(".md") && !NOT_ARTIFACTS.iter().any(|n| n.eq_ignore_ascii_case(file))
    };
    if kind.is_folder() {
        return match parts.as_slice() {
            [_, folder, file] if *file == main_file(kind) => Slot::Main(kind, folder),
            [_, folder, _, ..] => Slot::Asset(kind, folder),
            [_, file] if is_artifact_md(file) => Slot::Misplaced(kind),
            _ => Slot::Other,
        };
    }
    let file = parts[parts.len() - 1];
    if kind == Kind::Mcp {
        return match parts.as_slice() {
            [_, _] if !file.starts_with('.') => match file.rsplit_once('.') {
                Some((stem, "toml" | "json")) if !stem.is_empty() => Slot::Main(kind, stem),
                _ => Slot::Other,
            },
            _ => Slot::Other,
        };
    }
    let stem = || &file[..file.len() - 3];
    match parts.as_slice() {
        [_, _] if is_artifact_md(file) => Slot::Main(kind, stem()),
        [_, middle @ .., _]
            if kind == Kind::Command && is_artifact_md(file) && !middle.contains(&"templates") =>
        {
            Slot::Main(kind, stem())
        }
        _ => Slot::Other,
    }
}

/// One main file, parsed, before validation.
struct Parsed<'t> {
    artifact: Artifact,
    key_lines: Vec<(String, u32)>,
    raw_name: String,
    folder: Option<&'t str>,
    description_derived: bool,
}

/// Loads every artifact of `tree`: parses each main file, names it, gathers its assets and
/// the source files a skill names, and checks it against every rule of [`validate`]. Every
/// problem becomes a diagnostic; nothing stops at the first. An artifact that cannot be
/// read (bad UTF-8, bad YAML) or whose name is no usable file name is left out.
pub fn load(tree: &SourceTree) -> Loaded {
    load_with(tree, tree.files.iter().map(|_| None).collect())
}

/// [`load`], taking the bytes of the files it loads out of `tree` instead of copying them
/// (their paths stay): the tree's bytes go as the model's come, so a load never holds a
/// source twice. A `runbooks/` file, and anything that is no artifact's (`templates/`), keep
/// their bytes: a skill may name them and gets a copy.
pub fn load_taking(tree: &mut SourceTree) -> Loaded {
    let taken = (tree.files.iter_mut())
        .map(|f| match classify(&f.path) {
            Slot::Asset(..) => Some(std::mem::take(&mut f.bytes)),
            Slot::Main(kind, _) if kind != Kind::Runbook => Some(std::mem::take(&mut f.bytes)),
            _ => None,
        })
        .collect();
    load_with(tree, taken)
}

/// [`load`], with the bytes of the files `taken` holds (in the order of the tree's files) in
/// place of the tree's own.
fn load_with(tree: &SourceTree, taken: Vec<Option<Vec<u8>>>) -> Loaded {
    let mut loaded = Loaded::default();
    case_collisions(tree, &mut loaded.diagnostics);
    let mut assets: BTreeMap<(Kind, &str), Vec<Asset>> = BTreeMap::new();
    let mut mains = Vec::new();
    for (file, taken) in tree.files.iter().zip(taken) {
        match classify(&file.path) {
            Slot::Asset(kind, folder) => {
                let size = taken.as_ref().map_or(file.bytes.len(), Vec::len) as u64;
                if size > MAX_ASSET_BYTES {
                    loaded.diagnostics.push(too_big(
                        &tree.display_path(&file.path),
                        size,
                        MAX_ASSET_BYTES,
                    ));
                    continue;
                }
                let inner = &file.path.as_str()[kind.folder().len() + folder.len() + 2..];
                assets.entry((kind, folder)).or_default().push(Asset {
                    path: RelPath::new(inner).expect("a suffix of a RelPath is one"),
                    bytes: taken.unwrap_or_else(|| file.bytes.clone()),
                    executable: file.executable,
                });
            }
            Slot::Main(kind, stem) => mains.push((file, kind, stem, taken)),
            Slot::Misplaced(kind) => loaded.diagnostics.push(
                Diagnostic::warning(
                    tree.display_path(&file.path),
                    None,
                    format!(
                        "not loaded: a {kind} is a folder with a `{}`",
                        main_file(kind)
                    ),
                )
                .with_hint(format!(
                    "move it to `{}/{}/{}`",
                    kind.folder(),
                    file.path.file_name().trim_end_matches(".md"),
                    main_file(kind)
                )),
            ),
            Slot::Other => {}
        }
    }
    let jobs: Vec<_> = mains
        .into_iter()
        .map(|(file, kind, stem, taken)| {
            let own_assets = assets.remove(&(kind, stem)).unwrap_or_default();
            (file, kind, stem, own_assets, taken)
        })
        .collect();
    // Parsing YAML and checking text is CPU-bound: one chunk of main files per core, each
    // with its own diagnostics, joined in file order. A taken file's bytes go once parsed.
    let results = crate::par::par_map(jobs, 64, |(file, kind, stem, own_assets, taken)| {
        let folder = kind.is_folder().then_some(stem);
        let mut diagnostics = Vec::new();
        let bytes = taken.as_deref().unwrap_or(&file.bytes);
        let p = parse_main(
            tree,
            file,
            bytes,
            kind,
            stem,
            folder,
            own_assets,
            &mut diagnostics,
        );
        (p, diagnostics)
    });
    let mut parsed = Vec::new();
    for (p, diagnostics) in results {
        loaded.diagnostics.extend(diagnostics);
        parsed.extend(p);
    }
    for ((kind, folder), _) in assets {
        loaded.diagnostics.push(Diagnostic::warning(
            tree.display_root.join(kind.folder()).join(folder),
            None,
            format!(
                "folder has no `{}`; its files are not loaded",
                main_file(kind)
            ),
        ));
    }
    // Source files a skill names are copied into it: many skills naming one large template
    // must not multiply it past the source's cap, which every artifact's bytes share.
    let mut budget =
        MAX_SOURCE_BYTES.saturating_sub(parsed.iter().map(|p| artifact_bytes(&p.artifact)).sum());
    for p in &mut parsed {
        if p.artifact.kind == Kind::Skill {
            add_named_source_files(tree, &mut p.artifact, &mut budget, &mut loaded.diagnostics);
        }
        let total = artifact_bytes(&p.artifact);
        if total > MAX_ARTIFACT_TOTAL_BYTES {
            loaded.diagnostics.push(
                Diagnostic::error(
                    tree.display_path(&p.artifact.path),
                    None,
                    format!(
                        "{} `{}` carries {total} bytes with its files; the cap for one artifact is {} MiB",
                        p.artifact.kind,
                        p.artifact.name,
                        MAX_ARTIFACT_TOTAL_BYTES >> 20
                    ),
                )
                .with_hint("split it, or keep large data outside the source"),
            );
        }
    }
    let mut seen: HashMap<(Kind, String), RelPath> = HashMap::new();
    for p in parsed {
        let display = tree.display_path(&p.artifact.path);
        let facts = Facts {
            display: &display,
            key_lines: &p.key_lines,
            raw_name: &p.raw_name,
            folder: p.folder,
            description_derived: p.description_derived,
        };
        loaded
            .diagnostics
            .extend(validate::artifact(&p.artifact, &facts));
        if !validate::is_safe_name(&p.artifact.name) {
            continue;
        }
        let key = (p.artifact.kind, p.artifact.name.clone());
        if let Some(first) = seen.get(&key) {
            loaded.diagnostics.push(duplicate(
                &p.artifact,
                &display,
                facts.line_of("name"),
                &tree.display_path(first),
            ));
            continue;
        }
        seen.insert(key, p.artifact.path.clone());
        loaded.artifacts.push(p.artifact);
    }
    loaded
}

/// Loads several sources in order and reports two artifacts of one kind and name from
/// different sources (they would be deployed to the same paths).
/// Takes the bytes of what it loads out of `trees` ([`load_taking`]).
pub fn load_all(trees: &mut [SourceTree]) -> Loaded {
    let mut all = Loaded::default();
    let mut seen: HashMap<(Kind, String), PathBuf> = HashMap::new();
    for tree in trees {
        let loaded = load_taking(tree);
        all.diagnostics.extend(loaded.diagnostics);
        for artifact in loaded.artifacts {
            let display = tree.display_path(&artifact.path);
            let key = (artifact.kind, artifact.name.clone());
            if let Some(first) = seen.get(&key) {
                let d = duplicate(&artifact, &display, 1, first)
                    .with_hint("rename one of them, or drop one of the sources");
                all.diagnostics.push(d);
                continue;
            }
            seen.insert(key, display);
            all.artifacts.push(artifact);
        }
    }
    all
}

/// Two files whose paths differ only in case are one file on macOS and Windows, which keep
/// whichever was written last (R21). Both are named; the later one is an error.
fn case_collisions(tree: &SourceTree, out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<String, &RelPath> = HashMap::with_capacity(tree.files.len());
    for file in &tree.files {
        let folded = file.path.as_str().to_lowercase();
        if let Some(first) = seen.get(folded.as_str()) {
            out.push(
                Diagnostic::error(
                    tree.display_path(&file.path),
                    None,
                    format!(
                        "`{}` and `{}` differ only in case: on macOS and Windows they are one file",
                        tree.display_path(first).display(),
                        tree.display_path(&file.path).display()
                    ),
                )
                .with_hint("rename one of them"),
            );
            continue;
        }
        seen.insert(folded, &file.path);
    }
}

fn duplicate(artifact: &Artifact, display: &Path, line: u32, first: &Path) -> Diagnostic {
    Diagnostic::error(
        display,
        Some(line),
        format!(
            "duplicate {} name `{}`: `{}` and `{}`",
            artifact.kind,
            artifact.name,
            first.display(),
            display.display()
        ),
    )
    .with_hint("names are compared after lowercasing and turning spaces and `_` into `-`")
}

/// The main file of a folder kind (skill, behavior).
fn main_file(kind: Kind) -> &'static str {
    match kind {
        Kind::Skill => "SKILL.md",
        _ => "BEHAVIOR.md",
    }
}

/// Reads one main file into an artifact, or reports why it cannot be read.
#[allow(clippy::too_many_arguments)]
fn parse_main<'t>(
    tree: &SourceTree,
    file: &SourceFile,
    bytes: &[u8],
    kind: Kind,
    stem: &'t str,
    folder: Option<&'t str>,
    assets: Vec<Asset>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Parsed<'t>> {
    let display = tree.display_path(&file.path);
    if bytes.len() as u64 > MAX_ARTIFACT_BYTES {
        diags.push(too_big(&display, bytes.len() as u64, MAX_ARTIFACT_BYTES));
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u32
                + 1;
            diags.push(
                Diagnostic::error(&display, Some(line), "file is not UTF-8")
                    .with_hint("save it as UTF-8"),
            );
            return None;
        }
    };
    if kind == Kind::Mcp {
        return parse_mcp(tree, file, stem, text, diags);
    }
    let split = match frontmatter::split(text) {
        Ok(split) => split,
        Err(e) => {
            diags.push(Diagnostic::error(&display, Some(e.line), e.message));
            return None;
        }
    };
    let (mut fm, key_lines) = match split.yaml {
        None => (Default::default(), Vec::new()),
        Some(yaml) => match crate::lenient::parse(yaml, split.yaml_line) {
            Ok((fm, recovered)) => {
                diags.extend(recovered.iter().map(|r| recovered_warning(&display, r)));
                (fm, frontmatter::key_lines(yaml, split.yaml_line))
            }
            Err(e) => {
                diags.push(Diagnostic::error(&display, Some(e.line), e.message));
                return None;
            }
        },
    };
    let raw_name = fm
        .name()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| stem.to_string());
    let name = match kind {
        Kind::Skill => raw_name.clone(),
        _ => validate::normalise_name(&raw_name),
    };
    let mut description_derived = false;
    let has_description = fm.description().is_some_and(|d| !d.trim().is_empty())
        || fm
            .get("description")
            .is_some_and(|v| !v.is_null() && !v.is_string());
    if kind != Kind::Rule && !has_description {
        if let Some(paragraph) = validate::first_paragraph(split.body) {
            fm.entries
                .insert("description".into(), serde_json::Value::String(paragraph));
            description_derived = true;
        }
    }
    Some(Parsed {
        artifact: Artifact {
            kind,
            name,
            source: tree.name.clone(),
            path: file.path.clone(),
            frontmatter: fm,
            body: split.body.to_string(),
            body_line: split.body_line,
            assets,
        },
        key_lines,
        raw_name,
        folder,
        description_derived,
    })
}

/// An MCP server file (TOML or JSON): its keys stand where a frontmatter's would.
fn parse_mcp<'t>(
    tree: &SourceTree,
    file: &SourceFile,
    stem: &'t str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Parsed<'t>> {
    let (entries, key_lines) = match crate::mcp::read(file.path.file_name(), text) {
        Ok(read) => read,
        Err((line, message)) => {
            diags.push(Diagnostic::error(
                tree.display_path(&file.path),
                Some(line),
                message,
            ));
            return None;
        }
    };
    let fm = crate::Frontmatter {
        entries,
        first_line: 1,
    };
    let raw_name = fm
        .name()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| stem.to_string());
    Some(Parsed {
        artifact: Artifact {
            kind: Kind::Mcp,
            name: validate::normalise_name(&raw_name),
            source: tree.name.clone(),
            path: file.path.clone(),
            frontmatter: fm,
            body: String::new(),
            body_line: 1,
            assets: Vec::new(),
        },
        key_lines,
        raw_name,
        folder: None,
        description_derived: false,
    })
}

/// The warning for a frontmatter value read as the platforms read it, not as strict YAML does.
fn recovered_warning(display: &Path, r: &crate::lenient::Recovered) -> Diagnostic {
    Diagnostic::warning(
        display,
        Some(r.line),
        format!(
            "`{}` {}; read as the text `{}`, as the platforms read it",
            r.key, r.problem, r.text
        ),
    )
    .with_hint(format!("write `{}` so every YAML reader agrees", r.fix()))
}

/// Adds to `skill` the source files its body names as `templates/...` or `runbooks/<x>.md`
/// (the Node tool's templates convention), at the same relative path, unless the skill has
/// its own file there. A named `templates/...` path the source does not have is a warning.
/// The bytes an artifact carries: its body and every asset.
fn artifact_bytes(a: &Artifact) -> u64 {
    a.body.len() as u64 + a.assets.iter().map(|x| x.bytes.len() as u64).sum::<u64>()
}

fn add_named_source_files(
    tree: &SourceTree,
    skill: &mut Artifact,
    budget: &mut u64,
    diags: &mut Vec<Diagnostic>,
) {
    let mut missing_reported = HashSet::new();
    for (i, line) in skill.body.lines().enumerate() {
        for mention in mentioned_paths(line) {
            let files: Vec<&SourceFile> = match tree.file(mention) {
                Some(f) => vec![f],
                None => tree.files_under(mention).iter().collect(),
            };
            if files.is_empty() {
                if mention.starts_with("templates/") && missing_reported.insert(mention) {
                    diags.push(
                        Diagnostic::warning(
                            tree.display_path(&skill.path),
                            Some(skill.body_line + i as u32),
                            format!("names `{mention}`, which the source does not have"),
                        )
                        .with_hint("add the file under the source's `templates/`, or fix the path"),
                    );
                }
                continue;
            }
            for f in files {
                if f.bytes.len() as u64 > MAX_ASSET_BYTES
                    || skill.assets.iter().any(|a| a.path == f.path)
                {
                    continue;
                }
                let Some(left) = budget.checked_sub(f.bytes.len() as u64) else {
                    diags.push(
                        Diagnostic::error(
                            tree.display_path(&skill.path),
                            Some(skill.body_line + i as u32),
                            format!(
                                "names `{}`: with every copy of the files skills name, the source is over {} MiB",
                                f.path,
                                MAX_SOURCE_BYTES >> 20
                            ),
                        )
                        .with_hint("fewer skills naming the large file, or keep it outside the source"),
                    );
                    return;
                };
                *budget = left;
                skill.assets.push(Asset {
                    path: f.path.clone(),
                    bytes: f.bytes.clone(),
                    executable: f.executable,
                });
            }
        }
    }
}

/// Paths in `line` that start with `templates/` or `runbooks/` (a runbook must end in `.md`),
/// standing on their own: not inside a longer path such as `a/templates/x`.
fn mentioned_paths(line: &str) -> impl Iterator<Item = &str> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/');
    ["templates/", "runbooks/"]
        .into_iter()
        .flat_map(move |prefix| {
            line.match_indices(prefix).filter_map(move |(start, _)| {
                if line[..start].chars().next_back().is_some_and(is_path_char) {
                    return None;
                }
                let len = line[start..]
                    .find(|c: char| !is_path_char(c))
                    .unwrap_or(line.len() - start);
                let path = line[start..start + len].trim_end_matches(['.', '/']);
                let ok = path.len() > prefix.len()
                    && (prefix == "templates/" || path.ends_with(".md"))
                    && !path.contains("..");
                ok.then_some(path)
            })
        })
}

#[cfg(test)]
mod tests;
