//! Sources: a folder of artifacts (on disk or embedded in the binary), read once into
//! memory as a [`SourceTree`], then loaded into artifacts with diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::frontmatter;
use crate::model::{Artifact, Asset, Kind};
use crate::{Diagnostic, RelPath};

/// One file of a source, read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: RelPath,
    pub bytes: Vec<u8>,
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
    pub artifacts: Vec<Artifact>,
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

    /// Reads every file under `root`. Unreadable entries become diagnostics, not failures.
    pub fn read_dir(name: impl Into<String>, root: &Path) -> (SourceTree, Vec<Diagnostic>) {
        let mut files = Vec::new();
        let mut diagnostics = Vec::new();
        read_recursive(root, root, &mut files, &mut diagnostics);
        (SourceTree::from_files(name, root, files), diagnostics)
    }

    /// The display path of `rel` inside this source.
    pub fn display_path(&self, rel: &RelPath) -> PathBuf {
        rel.to_path(&self.display_root)
    }
}

fn read_recursive(
    root: &Path,
    dir: &Path,
    files: &mut Vec<SourceFile>,
    diags: &mut Vec<Diagnostic>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diags.push(Diagnostic::error(
                dir,
                None,
                format!("cannot read folder: {e}"),
            ));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            if entry.file_name().to_string_lossy().starts_with('.') && dir == root {
                continue;
            }
            read_recursive(root, &path, files, diags);
        } else if file_type.is_file() {
            let Ok(rel) = RelPath::new(&path.strip_prefix(root).unwrap_or(&path).to_string_lossy())
            else {
                diags.push(Diagnostic::error(
                    &path,
                    None,
                    "file name cannot be deployed",
                ));
                continue;
            };
            match std::fs::read(&path) {
                Ok(bytes) => files.push(SourceFile {
                    path: rel,
                    bytes,
                    executable: is_executable(&path),
                }),
                Err(e) => diags.push(Diagnostic::error(
                    &path,
                    None,
                    format!("cannot read file: {e}"),
                )),
            }
        }
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

/// Where a file sits in the source layout.
enum Slot<'a> {
    /// The main file of an artifact, with its name from the file or folder stem.
    Main(Kind, &'a str),
    /// A file inside a skill or behavior folder.
    Asset(Kind, &'a str),
    /// Not an artifact (README.md, docs/, templates/ ...).
    Other,
}

fn classify(path: &RelPath) -> Slot<'_> {
    let parts: Vec<&str> = path.components().collect();
    let Some(kind) = Kind::ALL.into_iter().find(|k| k.folder() == parts[0]) else {
        return Slot::Other;
    };
    if kind.is_folder() {
        let main = if kind == Kind::Skill {
            "SKILL.md"
        } else {
            "BEHAVIOR.md"
        };
        match parts.as_slice() {
            [_, folder, file] if *file == main => Slot::Main(kind, folder),
            [_, folder, _, ..] => Slot::Asset(kind, folder),
            _ => Slot::Other,
        }
    } else {
        match parts.as_slice() {
            [_, file] => match file.strip_suffix(".md") {
                Some(stem) if !stem.eq_ignore_ascii_case("readme") => Slot::Main(kind, stem),
                _ => Slot::Other,
            },
            _ => Slot::Other,
        }
    }
}

/// Loads every artifact of `tree`, collecting every problem instead of stopping at the first.
pub fn load(tree: &SourceTree) -> Loaded {
    let mut loaded = Loaded::default();
    let mut assets: BTreeMap<(Kind, &str), Vec<Asset>> = BTreeMap::new();
    for file in &tree.files {
        if let Slot::Asset(kind, folder) = classify(&file.path) {
            let prefix = format!("{}/{}/", kind.folder(), folder);
            let inner = RelPath::new(&file.path.as_str()[prefix.len()..])
                .expect("a suffix of a RelPath is one");
            assets.entry((kind, folder)).or_default().push(Asset {
                path: inner,
                bytes: file.bytes.clone(),
                executable: file.executable,
            });
        }
    }
    for file in &tree.files {
        let Slot::Main(kind, stem) = classify(&file.path) else {
            continue;
        };
        let display = tree.display_path(&file.path);
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            loaded
                .diagnostics
                .push(Diagnostic::error(&display, None, "file is not UTF-8"));
            continue;
        };
        let split = match frontmatter::split(text) {
            Ok(split) => split,
            Err(e) => {
                loaded
                    .diagnostics
                    .push(Diagnostic::error(&display, Some(e.line), e.message));
                continue;
            }
        };
        let fm = match split.yaml.map(|y| frontmatter::parse(y, split.yaml_line)) {
            None => Default::default(),
            Some(Ok(fm)) => fm,
            Some(Err(e)) => {
                loaded
                    .diagnostics
                    .push(Diagnostic::error(&display, Some(e.line), e.message));
                continue;
            }
        };
        let name = fm.name().unwrap_or_else(|| stem.to_string());
        loaded.artifacts.push(Artifact {
            kind,
            name,
            source: tree.name.clone(),
            path: file.path.clone(),
            frontmatter: fm,
            body: split.body.to_string(),
            body_line: split.body_line,
            assets: assets.remove(&(kind, stem)).unwrap_or_default(),
        });
    }
    loaded
}
