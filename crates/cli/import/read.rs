//! Reading a repository's platform files as hostile input: nothing outside the repository
//! (a symlink that leads out is refused), nothing over the source loader's size caps, at most
//! [`MAX_ENTRIES`] entries per folder, names that are not UTF-8 or not deployable skipped,
//! each with a note saying why.

use std::path::{Path, PathBuf};

use aiwg_core::source::{is_skipped_name, MAX_ARTIFACT_BYTES, MAX_ASSET_BYTES};
use aiwg_core::RelPath;

/// The most entries one folder may list; the rest is skipped with a note.
pub const MAX_ENTRIES: usize = 10_000;
/// The most files one skill folder may hold.
pub const MAX_SKILL_FILES: usize = 1_000;

/// The repository being read, and what was skipped on the way.
pub struct Repo {
    root: PathBuf,
    canonical: PathBuf,
    /// Why each skipped path was skipped, in the order met.
    pub skipped: Vec<(String, String)>,
}

/// One entry of a folder.
pub struct Entry {
    /// The file or folder name.
    pub name: String,
    /// The path relative to the repository root.
    pub rel: String,
    /// A folder (after following a symlink that stays inside).
    pub is_dir: bool,
}

impl Repo {
    /// The repository at `root`.
    pub fn new(root: &Path) -> std::io::Result<Repo> {
        Ok(Repo {
            root: root.to_path_buf(),
            canonical: std::fs::canonicalize(root)?,
            skipped: Vec::new(),
        })
    }

    fn skip(&mut self, rel: &str, why: impl Into<String>) {
        self.skipped.push((rel.to_string(), why.into()));
    }

    /// The metadata of `rel`, following a symlink only when it stays inside the repository.
    fn meta(&mut self, rel: &str) -> Option<std::fs::Metadata> {
        let path = self.root.join(rel);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !meta.file_type().is_symlink() {
            return Some(meta);
        }
        match std::fs::canonicalize(&path) {
            Ok(target) if target.starts_with(&self.canonical) => std::fs::metadata(&path).ok(),
            Ok(target) => {
                self.skip(
                    rel,
                    format!("symlink to `{}`, outside the repository", target.display()),
                );
                None
            }
            Err(e) => {
                self.skip(rel, format!("broken symlink: {e}"));
                None
            }
        }
    }

    /// True when `rel` is a folder (a symlink to one inside the repository counts).
    pub fn is_dir(&mut self, rel: &str) -> bool {
        self.meta(rel).is_some_and(|m| m.is_dir())
    }

    /// True when `rel` is a file.
    pub fn is_file(&mut self, rel: &str) -> bool {
        self.meta(rel).is_some_and(|m| m.is_file())
    }

    /// The entries of folder `rel`, sorted by name; an absent folder has none.
    pub fn list(&mut self, rel: &str) -> Vec<Entry> {
        if !self.is_dir(rel) {
            return Vec::new();
        }
        let Ok(read) = std::fs::read_dir(self.root.join(rel)) else {
            self.skip(rel, "cannot read the folder");
            return Vec::new();
        };
        let mut names = Vec::new();
        for entry in read.flatten() {
            if names.len() == MAX_ENTRIES {
                self.skip(
                    rel,
                    format!("more than {MAX_ENTRIES} entries; the rest are not read"),
                );
                break;
            }
            match entry.file_name().into_string() {
                Ok(name) if !is_skipped_name(&name) => names.push(name),
                Ok(_) => {}
                Err(name) => {
                    let shown = format!("{rel}/{}", name.to_string_lossy());
                    self.skip(&shown, "file name is not UTF-8");
                }
            }
        }
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let child = format!("{rel}/{name}");
            if RelPath::new(&child).is_err() {
                self.skip(&child, "file name cannot be deployed");
                continue;
            }
            let Some(meta) = self.meta(&child) else {
                continue;
            };
            if meta.is_dir() || meta.is_file() {
                out.push(Entry {
                    name,
                    rel: child,
                    is_dir: meta.is_dir(),
                });
            }
        }
        out
    }

    /// The bytes of file `rel`, when it is at most `cap` bytes.
    pub fn read(&mut self, rel: &str, cap: u64) -> Option<Vec<u8>> {
        let meta = self.meta(rel)?;
        if !meta.is_file() {
            return None;
        }
        if meta.len() > cap {
            self.skip(
                rel,
                format!("{} bytes; the cap is {} MiB", meta.len(), cap >> 20),
            );
            return None;
        }
        use std::io::Read as _;
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        let read = std::fs::File::open(self.root.join(rel))
            .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes));
        match read {
            Ok(_) if bytes.len() as u64 <= cap => Some(bytes),
            Ok(_) => {
                self.skip(rel, format!("grew past the cap of {} MiB", cap >> 20));
                None
            }
            Err(e) => {
                self.skip(rel, format!("cannot read: {e}"));
                None
            }
        }
    }

    /// A main file (agent, command, rule, SKILL.md) as text: at most the artifact cap, UTF-8.
    pub fn read_text(&mut self, rel: &str) -> Option<String> {
        let bytes = self.read(rel, MAX_ARTIFACT_BYTES)?;
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(_) => {
                self.skip(rel, "not UTF-8");
                None
            }
        }
    }

    /// Every file under folder `rel` (relative to it), at most [`MAX_SKILL_FILES`], each at
    /// most the asset cap, with its execute bit.
    pub fn read_tree(&mut self, rel: &str) -> Vec<(RelPath, Vec<u8>, bool)> {
        let mut out = Vec::new();
        let mut pending = vec![rel.to_string()];
        while let Some(dir) = pending.pop() {
            for entry in self.list(&dir) {
                if out.len() == MAX_SKILL_FILES {
                    self.skip(
                        rel,
                        format!("more than {MAX_SKILL_FILES} files; the rest are not read"),
                    );
                    return out;
                }
                if entry.is_dir {
                    pending.push(entry.rel);
                    continue;
                }
                let exec = self.executable(&entry.rel);
                if let Some(bytes) = self.read(&entry.rel, MAX_ASSET_BYTES) {
                    let inner = &entry.rel[rel.len() + 1..];
                    if let Ok(path) = RelPath::new(inner) {
                        out.push((path, bytes, exec));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn executable(&mut self, rel: &str) -> bool {
        self.meta(rel)
            .is_some_and(|m| aiwg_core::read::is_executable(&m))
    }
}
