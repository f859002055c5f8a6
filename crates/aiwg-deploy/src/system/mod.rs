//! The `System` trait: every disk operation the engine makes, on paths relative to one root.
//!
//! - [`RealSystem`]: the local file system, rooted at a folder; the only code that uses
//!   `std::fs` (enforced by `clippy.toml`'s `disallowed-methods`).
//! - [`MemSystem`]: an in-memory file system for tests, which can fail on the Nth mutating
//!   operation to simulate a crash at every step.
//!
//! Dry-run needs no System of its own: it is `plan()` without `apply()`.

mod mem;
mod real;

pub use mem::MemSystem;
pub use real::RealSystem;

use aiwg_core::RelPath;

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
    /// A regular file, or a symlink to one inside the root.
    File,
    /// A folder, or a symlink to one inside the root.
    Dir,
    /// A socket, device or the like: never read, never replaced.
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
    /// A folder or special file is where a regular file is read or written.
    #[error("`{path}` is a folder or a special file, not a regular file")]
    NotAFile {
        /// The path, relative to the System's root.
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

/// Every disk operation the deploy engine makes. Paths are relative to the System's root; an
/// implementation never touches anything outside it.
pub trait System {
    /// The bytes and executable bit of the file at `path`; `None` when nothing is there.
    /// A folder (or other non-file) is [`SystemError::NotAFile`].
    fn read(&self, path: &RelPath) -> Result<Option<FileData>, SystemError>;

    /// [`System::read`] of every path, in order. An implementation may read them in
    /// parallel; the results are the same as reading one after the other.
    fn read_many(&self, paths: &[&RelPath]) -> Vec<Result<Option<FileData>, SystemError>> {
        paths.iter().map(|p| self.read(p)).collect()
    }

    /// What is at `path` and its size in bytes; `None` when nothing is there.
    fn metadata(&self, path: &RelPath) -> Result<Option<(EntryKind, u64)>, SystemError>;

    /// Replaces (or creates) the file at `path` with `bytes` atomically: a temp file in the
    /// same folder, then a rename. Creates the folders it needs.
    fn write_atomic(
        &self,
        path: &RelPath,
        bytes: &[u8],
        executable: bool,
    ) -> Result<(), SystemError>;

    /// Deletes the file at `path`; nothing there is not an error. Never follows a symlink.
    fn remove_file(&self, path: &RelPath) -> Result<(), SystemError>;

    /// Creates the folder `path` and its parents.
    fn create_dir_all(&self, path: &RelPath) -> Result<(), SystemError>;

    /// Removes the folder `path` if it is empty; returns whether it did.
    fn remove_dir_if_empty(&self, path: &RelPath) -> Result<bool, SystemError>;

    /// The names in folder `path` (`None`: the root), sorted; empty when it does not exist.
    fn list(&self, path: Option<&RelPath>) -> Result<Vec<String>, SystemError>;

    /// Takes the exclusive lock on the file `path` (created when missing) without waiting,
    /// and writes `owner` into it. `Ok(false)`: another process holds it. The operating
    /// system drops the lock when its process ends, so a crash never leaves it held.
    fn try_lock(&self, path: &RelPath, owner: &[u8]) -> Result<bool, SystemError>;

    /// Deletes the lock file taken by [`System::try_lock`], then releases the lock.
    fn unlock(&self, path: &RelPath);
}
