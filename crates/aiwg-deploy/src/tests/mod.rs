//! Engine tests on `MemSystem`: the plan table, ownership modes, apply, history, crashes and
//! properties. Shared builders live here.

mod apply;
mod fuzz;
mod merges;
mod properties;
pub(crate) mod random;
mod sections;
mod streamed;
mod table;

use aiwg_core::target::{Desired, Origin, TargetEntry, TargetState};
use aiwg_core::RelPath;

use crate::hash::sha256_hex;
use crate::lock::{Lock, LockEntry, Mode};

pub fn rel(s: &str) -> RelPath {
    RelPath::new(s).unwrap()
}

pub fn origin(source: &str) -> Origin {
    Origin::new(source, "agent:x", vec!["claude-code".into()])
}

/// A whole-file entry from source `src`.
pub fn file(path: &str, text: &str) -> TargetEntry {
    TargetEntry {
        path: rel(path),
        desired: Desired::File {
            bytes: text.as_bytes().to_vec(),
            executable: false,
        },
        origin: origin("src"),
    }
}

/// A section entry.
#[allow(dead_code)]
pub fn section(path: &str, id: &str, text: &str) -> TargetEntry {
    TargetEntry {
        path: rel(path),
        desired: Desired::Section {
            id: id.into(),
            text: text.into(),
        },
        origin: origin(id),
    }
}

pub fn target(entries: Vec<TargetEntry>) -> TargetState {
    let mut t = TargetState::new();
    for e in entries {
        t.insert(e).unwrap();
    }
    t
}

/// A lock saying aiwg wrote `text` as the whole file at each path.
pub fn lock_files(files: &[(&str, &str)]) -> Lock {
    let mut lock = Lock::new();
    for (path, text) in files {
        lock.insert(LockEntry {
            path: rel(path),
            part: crate::Part::Whole,
            mode: Mode::File,
            sha256: sha256_hex(text.as_bytes()),
            size: text.len() as u64,
            executable: false,
            origin: origin("src"),
            keys: vec![],
        });
    }
    lock
}
