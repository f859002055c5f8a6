//! `MemSystem`: an in-memory file system for tests, with fault injection — the Nth mutating
//! operation fails, so a test can stop an apply at every single step and check that the next
//! run converges.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use aiwg_core::RelPath;

use super::{EntryKind, FileData, System, SystemError};

/// An in-memory file system. Folders are implied by the files in them, plus any created
/// explicitly. Every mutating operation is atomic and counted.
#[derive(Debug, Default)]
pub struct MemSystem {
    state: RefCell<MemState>,
}

#[derive(Debug, Default)]
struct MemState {
    files: BTreeMap<String, FileData>,
    dirs: BTreeSet<String>,
    /// Mutating operations done so far.
    ops: usize,
    /// The operation number (1-based, counted from `ops` = 0) that fails.
    fail_at: Option<usize>,
    /// Lock files currently held through `try_lock`.
    locked: BTreeSet<String>,
    /// How often each path was read whole (`read`).
    reads: BTreeMap<String, usize>,
    /// The text of `watched` at each `sync`, in order (`None`: absent).
    synced: Vec<Option<Vec<u8>>>,
    /// The path whose bytes each `sync` records.
    watched: Option<String>,
}

impl MemSystem {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// A file system holding `files` (path, text), none executable.
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let sys = Self::new();
        for (path, text) in files {
            sys.put(path, text.as_bytes(), false);
        }
        sys
    }

    /// Puts a file directly (not counted, never fails): test setup and "user edits".
    pub fn put(&self, path: &str, bytes: &[u8], executable: bool) {
        let path = RelPath::new(path).expect("a valid test path");
        let mut st = self.state.borrow_mut();
        add_parents(&mut st.dirs, &path);
        st.files
            .insert(path.to_string(), FileData::new(bytes.to_vec(), executable));
    }

    /// Makes each later `sync` record the bytes at `path` ([`MemSystem::synced`]).
    pub fn watch_syncs(&self, path: &str) {
        self.state.borrow_mut().watched = Some(path.to_string());
    }

    /// The bytes of the watched path at each `sync` so far (`None`: absent).
    pub fn synced(&self) -> Vec<Option<Vec<u8>>> {
        self.state.borrow().synced.clone()
    }

    /// Deletes a file directly (not counted).
    pub fn delete(&self, path: &str) {
        self.state.borrow_mut().files.remove(path);
    }

    /// The text of the file at `path`, if any (lossy UTF-8).
    pub fn text(&self, path: &str) -> Option<String> {
        let st = self.state.borrow();
        st.files
            .get(path)
            .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
    }

    /// Every file, by path.
    pub fn files(&self) -> BTreeMap<String, FileData> {
        self.state.borrow().files.clone()
    }

    /// Every folder, implied or explicit.
    pub fn dirs(&self) -> BTreeSet<String> {
        self.state.borrow().dirs.clone()
    }

    /// Makes the `n`th mutating operation from now fail (`None`: no failure).
    pub fn fail_on(&self, n: Option<usize>) {
        let mut st = self.state.borrow_mut();
        st.fail_at = n.map(|n| st.ops + n);
    }

    /// How many times `path` was read whole.
    pub fn reads_of(&self, path: &str) -> usize {
        self.state.borrow().reads.get(path).copied().unwrap_or(0)
    }

    /// How many mutating operations have been made.
    pub fn mutations(&self) -> usize {
        self.state.borrow().ops
    }

    /// Counts one mutating operation, failing it if it is the chosen one.
    fn mutate(&self, op: &'static str, path: &RelPath) -> Result<(), SystemError> {
        let mut st = self.state.borrow_mut();
        st.ops += 1;
        if st.fail_at == Some(st.ops) {
            return Err(SystemError::Injected {
                n: st.ops,
                op,
                path: path.to_string(),
            });
        }
        Ok(())
    }
}

fn add_parents(dirs: &mut BTreeSet<String>, path: &RelPath) {
    let mut parent = path.parent();
    while let Some(p) = parent {
        parent = p.parent();
        dirs.insert(p.to_string());
    }
}

impl System for MemSystem {
    fn read(&self, path: &RelPath) -> Result<Option<FileData>, SystemError> {
        let mut st = self.state.borrow_mut();
        *st.reads.entry(path.to_string()).or_default() += 1;
        if st.dirs.contains(path.as_str()) {
            return Err(SystemError::NotAFile {
                path: path.to_string(),
            });
        }
        Ok(st.files.get(path.as_str()).cloned())
    }

    fn metadata(&self, path: &RelPath) -> Result<Option<(EntryKind, u64)>, SystemError> {
        let st = self.state.borrow();
        if st.dirs.contains(path.as_str()) {
            return Ok(Some((EntryKind::Dir, 0)));
        }
        Ok(st
            .files
            .get(path.as_str())
            .map(|f| (EntryKind::File, f.bytes.len() as u64)))
    }

    fn write_atomic(
        &self,
        path: &RelPath,
        bytes: &[u8],
        executable: bool,
    ) -> Result<(), SystemError> {
        self.mutate("write", path)?;
        let mut st = self.state.borrow_mut();
        if st.dirs.contains(path.as_str()) {
            return Err(SystemError::NotAFile {
                path: path.to_string(),
            });
        }
        add_parents(&mut st.dirs, path);
        st.files
            .insert(path.to_string(), FileData::new(bytes.to_vec(), executable));
        Ok(())
    }

    fn remove_file(&self, path: &RelPath) -> Result<(), SystemError> {
        self.mutate("delete", path)?;
        self.state.borrow_mut().files.remove(path.as_str());
        Ok(())
    }

    fn create_dir_all(&self, path: &RelPath) -> Result<(), SystemError> {
        self.mutate("create folder", path)?;
        let mut st = self.state.borrow_mut();
        add_parents(&mut st.dirs, path);
        st.dirs.insert(path.to_string());
        Ok(())
    }

    fn remove_dir_if_empty(&self, path: &RelPath) -> Result<bool, SystemError> {
        self.mutate("delete folder", path)?;
        let mut st = self.state.borrow_mut();
        let prefix = format!("{path}/");
        let busy = st.files.keys().any(|f| f.starts_with(&prefix))
            || st.dirs.iter().any(|d| d.starts_with(&prefix));
        if busy || !st.dirs.contains(path.as_str()) {
            return Ok(false);
        }
        st.dirs.remove(path.as_str());
        Ok(true)
    }

    fn list(&self, path: Option<&RelPath>) -> Result<Vec<String>, SystemError> {
        let st = self.state.borrow();
        let prefix = path.map_or_else(String::new, |p| format!("{p}/"));
        let names: BTreeSet<String> = st
            .files
            .keys()
            .chain(st.dirs.iter())
            .filter_map(|p| p.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        Ok(names.into_iter().collect())
    }

    /// A lock file left on disk without a holder (a crashed process) is simply taken, as the
    /// operating system would.
    /// Memory has nothing to flush.
    fn sync(&self) -> Result<(), SystemError> {
        let mut st = self.state.borrow_mut();
        if let Some(path) = st.watched.clone() {
            let bytes = st.files.get(&path).map(|f| f.bytes.clone());
            st.synced.push(bytes);
        }
        Ok(())
    }

    /// Only this process runs here.
    fn is_running(&self, pid: u32) -> bool {
        pid == std::process::id()
    }

    fn try_lock(&self, path: &RelPath, owner: &[u8]) -> Result<bool, SystemError> {
        self.mutate("lock", path)?;
        let mut st = self.state.borrow_mut();
        if !st.locked.insert(path.to_string()) {
            return Ok(false);
        }
        add_parents(&mut st.dirs, path);
        st.files
            .insert(path.to_string(), FileData::new(owner.to_vec(), false));
        Ok(true)
    }

    fn unlock(&self, path: &RelPath) {
        let mut st = self.state.borrow_mut();
        st.files.remove(path.as_str());
        st.locked.remove(path.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }

    #[test]
    fn fails_exactly_the_chosen_operation() {
        let sys = MemSystem::new();
        sys.fail_on(Some(2));
        sys.write_atomic(&rel("a"), b"1", false).unwrap();
        assert!(matches!(
            sys.write_atomic(&rel("b"), b"2", false),
            Err(SystemError::Injected { n: 2, .. })
        ));
        sys.write_atomic(&rel("c"), b"3", false).unwrap();
        assert_eq!(sys.files().keys().collect::<Vec<_>>(), ["a", "c"]);
    }

    #[test]
    fn folders_follow_files() {
        let sys = MemSystem::with_files(&[("x/y/z.md", "z")]);
        assert_eq!(sys.list(None).unwrap(), vec!["x"]);
        assert_eq!(sys.list(Some(&rel("x"))).unwrap(), vec!["y"]);
        assert!(!sys.remove_dir_if_empty(&rel("x/y")).unwrap());
        sys.remove_file(&rel("x/y/z.md")).unwrap();
        assert!(sys.remove_dir_if_empty(&rel("x/y")).unwrap());
        assert!(sys.remove_dir_if_empty(&rel("x")).unwrap());
        assert!(sys.dirs().is_empty());
        assert!(matches!(
            sys.read(&rel("x")),
            Ok(None) | Err(SystemError::NotAFile { .. })
        ));
    }
}
