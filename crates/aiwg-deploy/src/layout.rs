//! `Layout`: where aiwg keeps its own files (lock, history, process lock, check cache) in
//! each scope's state root.

use aiwg_core::RelPath;

/// Where aiwg keeps its own files, relative to the state System's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `aiwg.lock`.
    pub lock: RelPath,
    /// The folder of history generations.
    pub history: RelPath,
    /// The process lock file (held while a command writes).
    pub process_lock: RelPath,
    /// The stat cache of `aiwg check` (written by the CLI; safe to delete).
    pub check_cache: RelPath,
    /// Make git ignore the history folder (`.git/info/exclude`, else `.gitignore`): project
    /// scope, where the state root is the repository.
    pub ignore_history_in_git: bool,
}

impl Layout {
    /// Project scope: `aiwg.lock`, `.aiwg/history/`, `.aiwg/lock.pid`, `.aiwg/check-cache` at
    /// the project root.
    pub fn project() -> Layout {
        Layout {
            lock: RelPath::new(crate::lock::LOCK_FILE).expect("valid"),
            history: RelPath::new(".aiwg/history").expect("valid"),
            process_lock: RelPath::new(".aiwg/lock.pid").expect("valid"),
            check_cache: RelPath::new(".aiwg/check-cache").expect("valid"),
            ignore_history_in_git: true,
        }
    }

    /// User scope: `aiwg.lock`, `history/`, `lock.pid`, `check-cache` in `$AIWG_HOME`.
    pub fn user() -> Layout {
        Layout {
            lock: RelPath::new(crate::lock::LOCK_FILE).expect("valid"),
            history: RelPath::new("history").expect("valid"),
            process_lock: RelPath::new("lock.pid").expect("valid"),
            check_cache: RelPath::new("check-cache").expect("valid"),
            ignore_history_in_git: false,
        }
    }

    /// The personal overlay (`aiwg.local.toml`, project scope): its own lock, history and
    /// check cache in `.aiwg/local/`, the project's process lock. Git is told to ignore the
    /// whole folder by the CLI (one block in `.git/info/exclude`), never by `.gitignore`.
    pub fn overlay() -> Layout {
        Layout {
            lock: RelPath::new(".aiwg/local/aiwg.lock").expect("valid"),
            history: RelPath::new(".aiwg/local/history").expect("valid"),
            process_lock: RelPath::new(".aiwg/lock.pid").expect("valid"),
            check_cache: RelPath::new(".aiwg/local/check-cache").expect("valid"),
            ignore_history_in_git: false,
        }
    }
}
