//! `RealSystem`: the local file system under one root folder. The only module of the engine
//! that uses `std::fs`.
//!
//! Containment: every path is a [`RelPath`] (no `..`, not absolute), and every symlink met on
//! the way (a folder or the file itself) is resolved and must stay inside the root, else the
//! operation fails with [`SystemError::SymlinkOutside`]. Resolved folders are cached for the
//! life of the System, which lives for one command.
//!
//! Durability: writes go to a temp file beside the target and are renamed over it, so a crash
//! leaves the old file or the new one. Files are not fsynced (a process crash cannot tear a
//! rename; power loss on ext4 is covered by its replace-via-rename heuristic), which keeps an
//! apply of thousands of files fast.
#![allow(clippy::disallowed_methods)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use aiwg_core::read::{is_executable, read_sized};
use aiwg_core::RelPath;

use super::{EntryKind, FileData, System, SystemError};

/// The local file system, rooted at one folder.
#[derive(Debug)]
pub struct RealSystem {
    root: PathBuf,
    /// Relative folder → resolved absolute folder, for folders known to exist.
    dirs: RefCell<HashMap<String, PathBuf>>,
    /// Lock files held through `try_lock`: the open file keeps the lock.
    locks: RefCell<HashMap<String, fs::File>>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn io<'a>(op: &'static str, path: &'a RelPath) -> impl FnOnce(std::io::Error) -> SystemError + 'a {
    move |source| SystemError::Io {
        op,
        path: path.to_string(),
        source,
    }
}

impl RealSystem {
    /// A System rooted at `root`. A root that does not exist yet is not created: the first
    /// write creates it, so read-only commands and dry runs leave no trace.
    pub fn new(root: &Path) -> Result<Self, SystemError> {
        let err = |source| SystemError::Io {
            op: "open root folder",
            path: root.display().to_string(),
            source,
        };
        let absolute = std::path::absolute(root).map_err(err)?;
        // The nearest folder that exists, canonical, with the missing rest appended.
        let mut existing = absolute.as_path();
        let mut missing = Vec::new();
        let root = loop {
            match fs::canonicalize(existing) {
                Ok(real) => break missing.iter().rev().fold(real, |p, c| p.join(c)),
                Err(e) => {
                    let (Some(parent), Some(name)) = (existing.parent(), existing.file_name())
                    else {
                        return Err(err(e));
                    };
                    missing.push(name);
                    existing = parent;
                }
            }
        };
        Ok(RealSystem {
            root,
            dirs: RefCell::new(HashMap::new()),
            locks: RefCell::new(HashMap::new()),
        })
    }

    /// The root folder (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a symlink at `abs` (named `rel` in messages): its real path, which must lie
    /// inside the root.
    fn contain(&self, abs: &Path, rel: &str) -> Result<PathBuf, SystemError> {
        let outside = || SystemError::SymlinkOutside {
            path: rel.to_string(),
            root: self.root.display().to_string(),
        };
        let real = fs::canonicalize(abs).map_err(|_| outside())?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(outside())
        }
    }

    /// The absolute folder holding `path`, with every symlink on the way resolved and checked.
    fn parent_dir(&self, path: &RelPath) -> Result<PathBuf, SystemError> {
        let Some(parent) = path.parent() else {
            return Ok(self.root.clone());
        };
        if let Some(hit) = self.dirs.borrow().get(parent.as_str()) {
            return Ok(hit.clone());
        }
        let mut abs = self.parent_dir(&parent)?;
        abs.push(parent.file_name());
        match fs::symlink_metadata(&abs) {
            Ok(meta) => {
                if meta.file_type().is_symlink() {
                    abs = self.contain(&abs, parent.as_str())?;
                }
                self.dirs
                    .borrow_mut()
                    .insert(parent.as_str().to_string(), abs.clone());
                Ok(abs)
            }
            // Not there (yet): nothing to resolve, and nothing to cache.
            Err(_) => Ok(abs),
        }
    }

    /// The absolute path of `path`, following a final symlink only when it stays inside.
    fn resolve(&self, path: &RelPath) -> Result<PathBuf, SystemError> {
        let abs = self.parent_dir(path)?.join(path.file_name());
        match fs::symlink_metadata(&abs) {
            Ok(meta) if meta.file_type().is_symlink() => self.contain(&abs, path.as_str()),
            _ => Ok(abs),
        }
    }

    /// Creates the folder that will hold `path` (the root itself, for a top-level path).
    fn make_parent(&self, path: &RelPath) -> Result<(), SystemError> {
        match path.parent() {
            Some(parent) => self.create_dir_all(&parent),
            None => fs::create_dir_all(&self.root).map_err(|source| SystemError::Io {
                op: "create folder",
                path: self.root.display().to_string(),
                source,
            }),
        }
    }

    /// The absolute path of `path` itself, not following a final symlink (for removal).
    fn unresolved(&self, path: &RelPath) -> Result<PathBuf, SystemError> {
        Ok(self.parent_dir(path)?.join(path.file_name()))
    }
}

/// Opens `path` for reading without following a final symlink (where the platform can).
#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<fs::File> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other("symlink"));
    }
    fs::File::open(path)
}

/// Reads a regular file that is not a symlink; any other case is an error for the caller to
/// retry with [`System::read`].
fn read_plain(abs: &Path) -> std::io::Result<Option<FileData>> {
    let file = match open_no_follow(abs) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let bytes = read_sized(&file, meta.len() as usize)?;
    Ok(Some(FileData {
        bytes,
        executable: is_executable(&meta),
    }))
}

/// Whether opening failed because the final component is a symlink.
#[cfg(unix)]
fn is_symlink_error(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

#[cfg(not(unix))]
fn is_symlink_error(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::Other
}

/// The permissions for a file replacing one with `old` permissions (or a new file), with the
/// executable bits set or cleared.
#[cfg(unix)]
fn set_mode(file: &fs::File, old: Option<&fs::Metadata>, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let current = file.metadata()?.permissions().mode();
    let base = old.map_or(current, |m| m.permissions().mode()) & 0o7777;
    let mode = if executable {
        // Executable wherever readable.
        base | ((base & 0o444) >> 2)
    } else {
        base & !0o111
    };
    if mode != current & 0o7777 {
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_: &fs::File, _: Option<&fs::Metadata>, _: bool) -> std::io::Result<()> {
    Ok(())
}

impl System for RealSystem {
    fn read(&self, path: &RelPath) -> Result<Option<FileData>, SystemError> {
        // The common case costs four system calls: open (refusing a final symlink), fstat,
        // one read of the size fstat gave, close. A final symlink is resolved and checked.
        let abs = self.unresolved(path)?;
        let file = match open_no_follow(&abs) {
            Ok(file) => file,
            Err(e) if is_symlink_error(&e) => {
                let real = self.contain(&abs, path.as_str())?;
                fs::File::open(real).map_err(io("read", path))?
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotADirectory => {
                return Err(SystemError::NotAFile {
                    path: path.to_string(),
                })
            }
            Err(e) => return Err(io("read", path)(e)),
        };
        let meta = file.metadata().map_err(io("read", path))?;
        if !meta.is_file() {
            return Err(SystemError::NotAFile {
                path: path.to_string(),
            });
        }
        let bytes = read_sized(&file, meta.len() as usize).map_err(io("read", path))?;
        Ok(Some(FileData {
            bytes,
            executable: is_executable(&meta),
        }))
    }

    /// Reads with one thread per core (at most 8) when there are many files: opening and
    /// reading thousands of small files is system-call bound, and `check` must be fast.
    fn read_many(&self, paths: &[&RelPath]) -> Vec<Result<Option<FileData>, SystemError>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        if threads < 2 || paths.len() < 256 {
            return paths.iter().map(|p| self.read(p)).collect();
        }
        // Folders are resolved (and symlinks in them checked) here, once, in order; the
        // threads only open and read plain files.
        let located: Vec<Result<PathBuf, SystemError>> =
            paths.iter().map(|p| self.unresolved(p)).collect();
        let chunk = paths.len().div_ceil(threads);
        let mut fast: Vec<Option<std::io::Result<Option<FileData>>>> = Vec::new();
        std::thread::scope(|scope| {
            let handles: Vec<_> = located
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|abs| abs.as_ref().ok().map(|abs| read_plain(abs)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                fast.extend(h.join().unwrap_or_default());
            }
        });
        paths
            .iter()
            .zip(fast)
            .map(|(path, result)| match result {
                Some(Ok(data)) => Ok(data),
                // Anything unusual (a symlink, a folder, an error): the careful way.
                _ => self.read(path),
            })
            .collect()
    }

    fn metadata(&self, path: &RelPath) -> Result<Option<(EntryKind, u64)>, SystemError> {
        let abs = self.resolve(path)?;
        match fs::metadata(&abs) {
            Ok(m) => {
                let kind = if m.is_file() {
                    EntryKind::File
                } else if m.is_dir() {
                    EntryKind::Dir
                } else {
                    EntryKind::Other
                };
                Ok(Some((kind, m.len())))
            }
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                Ok(None)
            }
            Err(e) => Err(io("inspect", path)(e)),
        }
    }

    fn write_atomic(
        &self,
        path: &RelPath,
        bytes: &[u8],
        executable: bool,
    ) -> Result<(), SystemError> {
        self.make_parent(path)?;
        let abs = self.resolve(path)?;
        let old = fs::metadata(&abs).ok().filter(fs::Metadata::is_file);
        let dir = abs.parent().unwrap_or(&self.root);
        let temp = dir.join(format!(
            ".{}.aiwg-tmp.{}.{}",
            path.file_name(),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(bytes)?;
            set_mode(&file, old.as_ref(), executable)?;
            drop(file);
            fs::rename(&temp, &abs)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(io("write", path))
    }

    fn remove_file(&self, path: &RelPath) -> Result<(), SystemError> {
        let abs = self.unresolved(path)?;
        match fs::remove_file(&abs) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("delete", path)(e)),
        }
    }

    fn create_dir_all(&self, path: &RelPath) -> Result<(), SystemError> {
        let abs = self.resolve(path)?;
        fs::create_dir_all(&abs).map_err(io("create folder", path))
    }

    fn remove_dir_if_empty(&self, path: &RelPath) -> Result<bool, SystemError> {
        let abs = self.unresolved(path)?;
        match fs::symlink_metadata(&abs) {
            Ok(m) if m.is_dir() => {}
            _ => return Ok(false),
        }
        match fs::remove_dir(&abs) {
            Ok(()) => {
                self.dirs.borrow_mut().retain(|k, _| {
                    k != path.as_str() && !k.starts_with(&format!("{}/", path.as_str()))
                });
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::DirectoryNotEmpty | ErrorKind::NotFound) => {
                Ok(false)
            }
            Err(e) => Err(io("delete folder", path)(e)),
        }
    }

    fn list(&self, path: Option<&RelPath>) -> Result<Vec<String>, SystemError> {
        let abs = match path {
            Some(p) => self.resolve(p)?,
            None => self.root.clone(),
        };
        let entries = match fs::read_dir(&abs) {
            Ok(entries) => entries,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Ok(Vec::new())
            }
            Err(source) => {
                return Err(SystemError::Io {
                    op: "list",
                    path: path.map_or_else(|| ".".to_string(), ToString::to_string),
                    source,
                })
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// An OS file lock (`flock` on Unix, `LockFileEx` on Windows). The holder deletes the
    /// file before releasing it, so a waiter may win the lock on a file that is no longer at
    /// `path`; it then checks that `path` still names the file it locked and starts over if not.
    fn try_lock(&self, path: &RelPath, owner: &[u8]) -> Result<bool, SystemError> {
        self.make_parent(path)?;
        let abs = self.resolve(path)?;
        loop {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&abs)
                .map_err(io("open", path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(false),
                Err(fs::TryLockError::Error(e)) => return Err(io("lock", path)(e)),
            }
            if !still_at(&file, &abs) {
                continue;
            }
            file.set_len(0).map_err(io("write", path))?;
            file.write_all(owner).map_err(io("write", path))?;
            self.locks.borrow_mut().insert(path.to_string(), file);
            return Ok(true);
        }
    }

    fn unlock(&self, path: &RelPath) {
        if let Some(file) = self.locks.borrow_mut().remove(path.as_str()) {
            if let Ok(abs) = self.resolve(path) {
                let _ = fs::remove_file(abs);
            }
            drop(file);
        }
    }
}

/// True when `path` still names the open `file` (same device and inode).
#[cfg(unix)]
fn still_at(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// Windows does not delete a file another process has open, so the name cannot move.
#[cfg(not(unix))]
fn still_at(_: &fs::File, _: &Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }

    #[test]
    fn writes_atomically_with_exec_bit_and_cleans_folders() {
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        sys.write_atomic(&rel("a/b/run.sh"), b"#!/bin/sh\n", true)
            .unwrap();
        let got = sys.read(&rel("a/b/run.sh")).unwrap().unwrap();
        assert_eq!(got, FileData::new(b"#!/bin/sh\n".to_vec(), cfg!(unix)));
        sys.write_atomic(&rel("a/b/run.sh"), b"x", false).unwrap();
        assert_eq!(
            sys.read(&rel("a/b/run.sh")).unwrap().unwrap(),
            FileData::new(b"x".to_vec(), false)
        );
        assert_eq!(sys.list(Some(&rel("a/b"))).unwrap(), vec!["run.sh"]);
        assert!(!sys.remove_dir_if_empty(&rel("a/b")).unwrap());
        sys.remove_file(&rel("a/b/run.sh")).unwrap();
        sys.remove_file(&rel("a/b/run.sh")).unwrap();
        assert!(sys.remove_dir_if_empty(&rel("a/b")).unwrap());
        assert!(sys.remove_dir_if_empty(&rel("a")).unwrap());
        assert_eq!(sys.read(&rel("a/b/run.sh")).unwrap(), None);
        assert!(matches!(
            sys.read(&rel("x")).map_err(|e| e.to_string()),
            Ok(None)
        ));
    }

    #[test]
    fn a_folder_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        sys.create_dir_all(&rel("d")).unwrap();
        assert!(matches!(
            sys.read(&rel("d")),
            Err(SystemError::NotAFile { .. })
        ));
        assert_eq!(
            sys.metadata(&rel("d")).unwrap().map(|m| m.0),
            Some(EntryKind::Dir)
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_leading_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("inside")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("f")).unwrap();
        std::os::unix::fs::symlink(root.join("inside"), root.join("in")).unwrap();
        let sys = RealSystem::new(&root).unwrap();
        for path in ["out/secret", "out/new.md", "f"] {
            assert!(
                matches!(
                    sys.read(&rel(path)),
                    Err(SystemError::SymlinkOutside { .. })
                ),
                "{path}"
            );
        }
        assert!(matches!(
            sys.write_atomic(&rel("out/new.md"), b"x", false),
            Err(SystemError::SymlinkOutside { .. })
        ));
        assert!(matches!(
            sys.write_atomic(&rel("f"), b"x", false),
            Err(SystemError::SymlinkOutside { .. })
        ));
        assert_eq!(
            fs::read_to_string(outside.path().join("secret")).unwrap(),
            "s"
        );
        assert!(!outside.path().join("new.md").exists());
        // A symlink that stays inside is followed.
        sys.write_atomic(&rel("in/x.md"), b"x", false).unwrap();
        assert_eq!(fs::read(root.join("inside/x.md")).unwrap(), b"x");
        // Removing a symlinked file removes the link, never what it points to.
        sys.remove_file(&rel("f")).unwrap();
        assert!(outside.path().join("secret").exists());
    }

    #[test]
    fn read_many_equals_reading_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        let mut paths = Vec::new();
        for i in 0..300 {
            let p = rel(&format!("d{}/f{i}.md", i % 7));
            if i % 5 != 0 {
                sys.write_atomic(&p, format!("{i}").repeat(i).as_bytes(), i % 3 == 0)
                    .unwrap();
            }
            paths.push(p);
        }
        sys.create_dir_all(&rel("d1/f1.md.dir")).unwrap();
        paths.push(rel("d1/f1.md.dir"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/", dir.path().join("out")).unwrap();
            paths.push(rel("out"));
            std::os::unix::fs::symlink("f1.md", dir.path().join("d1/link.md")).unwrap();
            paths.push(rel("d1/link.md"));
        }
        let refs: Vec<&RelPath> = paths.iter().collect();
        let many: Vec<String> = sys
            .read_many(&refs)
            .iter()
            .map(|r| format!("{r:?}"))
            .collect();
        let one: Vec<String> = refs.iter().map(|p| format!("{:?}", sys.read(p))).collect();
        assert_eq!(many, one);
        assert!(
            one.last().unwrap().contains("Ok(Some"),
            "an inside symlink is followed"
        );
    }

    #[test]
    fn lock_is_exclusive_and_released_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let one = RealSystem::new(dir.path()).unwrap();
        let two = RealSystem::new(dir.path()).unwrap();
        let lock = rel(".aiwg/lock.pid");
        assert!(one.try_lock(&lock, b"1\n").unwrap());
        assert!(!two.try_lock(&lock, b"2\n").unwrap());
        assert_eq!(fs::read(dir.path().join(".aiwg/lock.pid")).unwrap(), b"1\n");
        one.unlock(&lock);
        assert!(!dir.path().join(".aiwg/lock.pid").exists());
        assert!(two.try_lock(&lock, b"2\n").unwrap());
        // A lock file without a holder (a crashed process) is taken over.
        drop(two);
        let three = RealSystem::new(dir.path()).unwrap();
        assert!(three.try_lock(&lock, b"3\n").unwrap());
    }
}
