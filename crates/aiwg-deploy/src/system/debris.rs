//! Debris: temp files (`.<name>.aiwg-tmp.<pid>.<n>`) that a killed aiwg left beside the files
//! it was writing. Found in the folders aiwg manages, and only when their writer is no longer
//! running, so a temp file of a live aiwg is never touched; `check` reports them and the next
//! apply or rollback removes them.

use std::collections::BTreeSet;

use aiwg_core::RelPath;

use super::{temp_writer, System};

/// Temp files of dead writers, per System.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Debris {
    /// In the target System (beside managed files).
    pub target: Vec<RelPath>,
    /// In the state System (beside the lock, in the history and state folders).
    pub state: Vec<RelPath>,
}

impl Debris {
    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.target.is_empty() && self.state.is_empty()
    }
}

/// The temp files of dead writers in `folders` (`None`: the root) of `sys`. A folder that
/// cannot be listed (absent, protected, a symlink leading out, unreadable) is skipped: debris
/// never stops a command, and the operation that needs the folder reports its problem.
pub fn find(sys: &dyn System, folders: &BTreeSet<Option<RelPath>>) -> Vec<RelPath> {
    let mut found = Vec::new();
    let paths: Vec<Option<&RelPath>> = folders.iter().map(Option::as_ref).collect();
    let listed = sys.list_temps_many(&paths);
    for (folder, names) in folders.iter().zip(listed) {
        let Ok(names) = names else {
            continue;
        };
        for name in names {
            let Some(pid) = temp_writer(&name) else {
                continue;
            };
            if sys.is_running(pid) {
                continue;
            }
            let path = match folder {
                Some(dir) => RelPath::new(&format!("{dir}/{name}")),
                None => RelPath::new(&name),
            };
            if let Ok(path) = path {
                found.push(path);
            }
        }
    }
    found
}
