//! `DeployError`: why a command of the engine failed.

use std::time::Duration;

use aiwg_core::RelPath;

use crate::plan::PlanError;
use crate::system::SystemError;

/// Why a command of the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A disk operation failed.
    #[error(transparent)]
    System(#[from] SystemError),
    /// The plan could not be made.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// `aiwg.lock` is corrupt, lists an entry twice, or is from a newer aiwg.
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// A target path lies in `.git/`, or on aiwg's lock, history or process lock when they
    /// share the target root.
    #[error("`{path}` is where aiwg keeps its own state; no platform may write there")]
    Reserved {
        /// The refused path.
        path: RelPath,
    },
    /// Apply or rollback met conflicts its options do not resolve; nothing was written.
    #[error("{} conflicting path{}; nothing was written", paths.len(), if paths.len() == 1 { "" } else { "s" })]
    Conflicts {
        /// Each blocked path with the reason; apply lists a path once per conflicting part.
        paths: Vec<(RelPath, String)>,
    },
    /// Another process held the process lock for longer than the wait.
    #[error("another aiwg is working here{}: `{path}` is still held after {} ms", pid.map(|p| format!(" (pid {p})")).unwrap_or_default(), waited.as_millis())]
    Busy {
        /// The process lock file.
        path: RelPath,
        /// The pid written in the lock file, when it could be read.
        pid: Option<u32>,
        /// How long this process waited.
        waited: Duration,
    },
    /// `rollback` found no generation in the history folder.
    #[error("there is nothing to roll back: `{path}` holds no generation")]
    NoHistory {
        /// The history folder.
        path: RelPath,
    },
    /// `rollback` was asked for a generation that does not exist.
    #[error("generation {generation} does not exist (there are: {available})")]
    UnknownGeneration {
        /// The generation asked for.
        generation: u64,
        /// The generations there are, comma-separated, oldest first.
        available: String,
    },
    /// The machine-local history key cannot be read or created.
    #[error(transparent)]
    HistoryKey(#[from] crate::mark::KeyError),
    /// A streamed apply could not take a planned file's bytes from the second render.
    #[error("cannot write `{path}`: {message}")]
    Restream {
        /// The first file concerned.
        path: RelPath,
        /// What went wrong.
        message: String,
    },
    /// A history manifest does not parse, or a backup it names is missing.
    #[error("`{path}` is not a valid history manifest: {message}")]
    History {
        /// The manifest, or the backup that is missing.
        path: RelPath,
        /// What is wrong.
        message: String,
    },
}
