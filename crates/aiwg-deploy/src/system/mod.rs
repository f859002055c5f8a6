//! The `System` trait: every disk operation the engine makes, on paths relative to one root.
//!
//! - [`RealSystem`]: the local file system, rooted at a folder; the only code that uses
//!   `std::fs` (enforced by `clippy.toml`'s `disallowed-methods`).
//! - [`MemSystem`]: an in-memory file system for tests, which can fail on the Nth mutating
//!   operation to simulate a crash at every step.
//!
//! Dry-run needs no System of its own: it is `plan()` without `apply()`.

pub mod debris;
mod digest;
mod guard;
mod mem;
mod real;

pub use digest::{Digester, FileDigest, DIGEST_BUFFER};
pub use guard::Owner;
pub use mem::MemSystem;
pub use real::RealSystem;

/// A file's bytes handed out in pieces to a sink ([`System::write_atomic_fill`]).
pub type Fill<'f> = &'f mut dyn FnMut(&mut dyn FnMut(&[u8]) -> bool);

use aiwg_core::RelPath;

/// The files [`System::write_many`] writes: handed one by one (path, bytes, executable bit) to
/// its sink, which answers `false` once a write failed (the rest need not be handed out).
pub type Files<'f> = &'f mut dyn FnMut(&mut dyn FnMut(&RelPath, &[u8], bool) -> bool);

/// The name of the temp file that will be renamed to `name`: `.<name>.aiwg-tmp.<pid>.<n>`,
/// with `name` cut short (at a character boundary) where the whole would pass the longest
/// file name the kernel takes ([`NAME_MAX`]): the marker, pid and counter keep it unique and
/// [`temp_writer`] recognises it the same.
pub fn temp_name(name: &str, pid: u32, n: u64) -> String {
    let tail = format!("{TEMP_MARK}{pid}.{n}");
    let room = NAME_MAX - 1 - tail.len();
    let mut cut = name.len().min(room);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(".{}{tail}", &name[..cut])
}

/// The `<n>` of this process's next temp name: a counter added to a random number drawn once
/// per process, so a dead run that had the same pid (a container's aiwg is often the same pid
/// on every run) left no temp file at a name this run takes; only the pid says whose a temp
/// file is ([`temp_writer`]).
pub fn temp_number() -> u64 {
    use std::hash::BuildHasher as _;
    static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    // The operating system seeds every `RandomState` with random keys.
    let nonce = *NONCE.get_or_init(|| {
        std::collections::hash_map::RandomState::new().hash_one(std::process::id())
    });
    nonce.wrapping_add(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// A fresh temp name for a file of this process that will be renamed to `name`
/// ([`temp_name`] with this pid and [`temp_number`]), for writers outside a [`System`].
pub fn next_temp_name(name: &str) -> String {
    temp_name(name, std::process::id(), temp_number())
}

/// The longest file name, in bytes, that Linux and the BSDs take (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// What marks a temp file's name.
const TEMP_MARK: &str = ".aiwg-tmp.";

/// The pid in a temp file name made by [`temp_name`]; `None` for any other name.
pub fn temp_writer(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let at = rest.rfind(TEMP_MARK)?;
    let (pid, n) = rest[at + TEMP_MARK.len()..].split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (at > 0 && digits(pid) && digits(n))
        .then(|| pid.parse().ok())
        .flatten()
}

/// The bytes of a file and its executable bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileData {
    /// The file's content.
    pub bytes: Vec<u8>,
    /// Whether any execute bit is set.
    pub executable: bool,
}

impl FileData {
    /// A file with `bytes`, executable or not.
    pub fn new(bytes: impl Into<Vec<u8>>, executable: bool) -> Self {
        FileData {
            bytes: bytes.into(),
            executable,
        }
    }
}

/// What is at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A folder.
    Dir,
    /// A symlink (not followed), socket, device or the like: never read, never replaced.
    Other,
}

/// Why a disk operation failed. Every variant names the path (relative to the System's root).
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// The operating system refused an operation.
    #[error("cannot {op} `{path}`: {source}")]
    Io {
        /// What was being done (`write`, `list`, `create folder`).
        op: &'static str,
        /// The path, relative to the System's root (the root as given for `open root folder`).
        path: String,
        /// The error the operating system gave.
        #[source]
        source: std::io::Error,
    },
    /// A symlink on the path resolves outside the System's root, or does not resolve.
    #[error("`{path}` is a symlink that leads outside `{root}`")]
    SymlinkOutside {
        /// The path, relative to the System's root.
        path: String,
        /// The System's root folder, absolute.
        root: String,
    },
    /// The path resolves (through symlinks or as spelled) into a git directory or into
    /// aiwg's own state, where no operation may reach; `--force` cannot override it.
    #[error("`{path}` {}", protected_reason(path, resolved, *owner))]
    Protected {
        /// The path as asked, relative to the System's root.
        path: String,
        /// Where it resolves, relative to the System's root.
        resolved: String,
        /// Whose place it is.
        owner: Owner,
    },
    /// The path itself is a symlink, where aiwg wants (or wrote) a file: a conflict of its
    /// own; replacing it replaces the link, never the file it points to.
    #[error("`{path}` is a symlink (to `{target}`)")]
    Symlink {
        /// The path, relative to the System's root.
        path: String,
        /// What the link says, as written in it.
        target: String,
    },
    /// A folder aiwg keeps to itself (the history) is reached through a symlink, so what it
    /// would write there (copies of the files it replaces) would land in another folder.
    #[error("`{path}` resolves to `{resolved}` through a symlink: aiwg keeps its history in a folder of its own, where the copies of the files it replaces stay private and ignored by git")]
    Redirected {
        /// The path as asked, relative to the System's root.
        path: String,
        /// Where it resolves, relative to the System's root.
        resolved: String,
    },
    /// A folder or special file is where a regular file is read or written.
    #[error("`{path}` is a folder or a special file, not a regular file")]
    NotAFile {
        /// The path, relative to the System's root.
        path: String,
    },
    /// A file (or special file) is where a path needs a folder: `path` is that file.
    #[error("`{path}` is a file where aiwg needs a folder")]
    NotAFolder {
        /// The file in the way, relative to the System's root.
        path: String,
    },
    /// `MemSystem` failed a mutating operation on purpose, to test crash recovery.
    #[error("simulated failure of operation {n} ({op} `{path}`)")]
    Injected {
        /// The 1-based number of the failed operation, counted since the `MemSystem` was made.
        n: usize,
        /// The operation (`write`, `delete`, `create folder`, ...).
        op: &'static str,
        /// The path it was given.
        path: String,
    },
}

/// Why a path is refused, after its name: "resolves to `.git/hooks/x`, inside git's directory:
/// aiwg never writes, deletes or restores there".
pub fn protected_reason(path: &str, resolved: &str, owner: Owner) -> String {
    let place = if path == resolved {
        "lies".to_string()
    } else {
        format!("resolves to `{resolved}`")
    };
    format!(
        "{place}, inside {}: aiwg never writes, deletes or restores there",
        owner.describe()
    )
}

/// Every disk operation the deploy engine makes. Paths are relative to the System's root; an
/// implementation never touches anything outside it.
pub trait System {
    /// The bytes and executable bit of the file at `path`; `None` when nothing is there.
    /// A folder (or other non-file) is [`SystemError::NotAFile`], a symlink at `path` itself
    /// is [`SystemError::Symlink`] (symlinked folders on the way are followed when they stay
    /// inside the root and out of protected places).
    fn read(&self, path: &RelPath) -> Result<Option<FileData>, SystemError>;

    /// [`System::read`] of every path, in order. An implementation may read them in
    /// parallel; the results are the same as reading one after the other.
    fn read_many(&self, paths: &[&RelPath]) -> Vec<Result<Option<FileData>, SystemError>> {
        paths.iter().map(|p| self.read(p)).collect()
    }

    /// The digest of the file at `path` ([`FileDigest`]) as [`System::read`] would read it,
    /// with the same errors, holding at most [`DIGEST_BUFFER`] of it at a time (what a plan
    /// needs of a file it shows no bytes of).
    fn read_digest(&self, path: &RelPath) -> Result<Option<FileDigest>, SystemError> {
        Ok(self
            .read(path)?
            .map(|data| FileDigest::of(&data.bytes, data.executable)))
    }

    /// [`System::read_digest`] of every path, in order (in parallel where the implementation
    /// reads in parallel).
    fn read_digest_many(&self, paths: &[&RelPath]) -> Vec<Result<Option<FileDigest>, SystemError>> {
        paths.iter().map(|p| self.read_digest(p)).collect()
    }

    /// What is at `path` and its size in bytes; `None` when nothing is there.
    fn metadata(&self, path: &RelPath) -> Result<Option<(EntryKind, u64)>, SystemError>;

    /// Replaces (or creates) the file at `path` with `bytes` atomically: a temp file in the
    /// same folder, then a rename. Creates the folders it needs. A symlink at `path` is
    /// replaced by the file; what it pointed to is untouched.
    fn write_atomic(
        &self,
        path: &RelPath,
        bytes: &[u8],
        executable: bool,
    ) -> Result<(), SystemError>;

    /// [`System::write_atomic`] of the bytes `fill` hands its sink piece by piece (the sink
    /// answers `false` once the write failed: `fill` may stop), so a large file aiwg makes
    /// (the lock) is never held whole. This default collects the pieces first.
    fn write_atomic_fill(
        &self,
        path: &RelPath,
        executable: bool,
        fill: Fill<'_>,
    ) -> Result<(), SystemError> {
        let mut bytes = Vec::new();
        fill(&mut |piece| {
            bytes.extend_from_slice(piece);
            true
        });
        self.write_atomic(path, &bytes, executable)
    }

    /// [`System::write_atomic`] of every file `files` hands out, each path at most once. An
    /// implementation may write several at a time (on other threads); each file is still
    /// atomic and checked as `write_atomic` checks it. The first error, in the order the files
    /// were handed out, is returned with its path; files handed out after it may or may not
    /// have been written (a next apply converges either way). This default writes them one by
    /// one and stops at the first error.
    fn write_many(&self, files: Files<'_>) -> Result<(), SystemError> {
        let mut result = Ok(());
        files(&mut |path, bytes, executable| {
            if result.is_err() {
                return false;
            }
            result = self.write_atomic(path, bytes, executable);
            result.is_ok()
        });
        result
    }

    /// Deletes the file at `path`; nothing there is not an error. Never follows a symlink.
    fn remove_file(&self, path: &RelPath) -> Result<(), SystemError>;

    /// Creates the folder `path` and its parents.
    fn create_dir_all(&self, path: &RelPath) -> Result<(), SystemError>;

    /// Creates the folder `path` (and its parents) and makes it readable by its owner only
    /// (mode 0700 where there are modes), also when it was there already: the history keeps
    /// copies of files aiwg replaced, which may be private to their owner.
    /// [`SystemError::Redirected`] when a symlink leads `path` to another folder (a committed
    /// `.aiwg/history -> ../docs`): nothing is changed there, and nothing may be written.
    fn create_private_dir(&self, path: &RelPath) -> Result<(), SystemError> {
        self.create_dir_all(path)
    }

    /// Removes the folder `path` if it is empty; returns whether it did.
    fn remove_dir_if_empty(&self, path: &RelPath) -> Result<bool, SystemError>;

    /// The names in folder `path` (`None`: the root), sorted; empty when it does not exist.
    fn list(&self, path: Option<&RelPath>) -> Result<Vec<String>, SystemError>;

    /// [`System::list`] of every folder in `paths`, in order, keeping only the names `keep`
    /// accepts (in parallel where the implementation lists in parallel).
    fn list_many(
        &self,
        paths: &[Option<&RelPath>],
        keep: &(dyn Fn(&str) -> bool + Sync),
    ) -> Vec<Result<Vec<String>, SystemError>> {
        paths
            .iter()
            .map(|p| Ok(self.list(*p)?.into_iter().filter(|n| keep(n)).collect()))
            .collect()
    }

    /// [`System::list_many`] keeping only temp names ([`temp_writer`] knows them): what the
    /// debris search asks. An implementation may answer from listings it took while it read
    /// files in those folders, when nothing has changed on its side since.
    fn list_temps_many(&self, paths: &[Option<&RelPath>]) -> Vec<Result<Vec<String>, SystemError>> {
        self.list_many(paths, &|name| temp_writer(name).is_some())
    }

    /// Takes the exclusive lock on the file `path` (created when missing) without waiting,
    /// and writes `owner` into it. `Ok(false)`: another process holds it. The operating
    /// system drops the lock when its process ends, so a crash never leaves it held.
    fn try_lock(&self, path: &RelPath, owner: &[u8]) -> Result<bool, SystemError>;

    /// Deletes the lock file taken by [`System::try_lock`], then releases the lock.
    fn unlock(&self, path: &RelPath);

    /// Flushes what was written to stable storage (once per apply, before the lock is
    /// written, so the lock never names bytes that a power cut could lose).
    fn sync(&self) -> Result<(), SystemError>;

    /// Whether the process `pid` may still be running (this process always is; when in
    /// doubt, yes): a temp file whose writer runs is never removed.
    fn is_running(&self, pid: u32) -> bool;
}
