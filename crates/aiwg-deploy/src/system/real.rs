//! `RealSystem`: the local file system under one root folder, through folder handles and
//! `*at` calls. The only module of the engine that touches the disk.
//!
//! Resolution: a path is walked one component at a time from the root's handle with
//! `O_NOFOLLOW`, so the kernel never follows a symlink for aiwg. A symlinked folder is read
//! (`readlinkat`) and its target walked the same way; the resolved path must stay inside the
//! root (else [`SystemError::SymlinkOutside`]) and out of every protected place of the
//! System's [`Guard`] (else [`SystemError::Protected`]), checked before each folder is entered
//! or created and before each file is read, written or deleted. A symlink at the path itself is
//! never followed: reading it is [`SystemError::Symlink`], writing replaces the link, deleting
//! removes the link. Folder handles are cached (by spelled and by resolved path) for the life
//! of the System, which lives for one command, so each folder is opened once and created with
//! one `mkdirat`.
//!
//! Durability: a file that replaces another goes to a temp file beside it, renamed over it; a
//! new file is written unnamed (`O_TMPFILE`) and named (`linkat`) once whole, where the file
//! system allows it. A crash leaves the old file or the new one (or, for a new file, none);
//! `sync` (the `System` method) flushes the root's file system (`syncfs`), which the engine
//! calls once before it writes the lock (ARCHITECTURE.md).
//!
//! Unix only: handles and `*at` calls come from `rustix` (no `unsafe` here).
#![allow(clippy::disallowed_methods)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use aiwg_core::par::share;
use aiwg_core::RelPath;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::guard::{Guard, Owner};
use super::{
    temp_name, Digester, EntryKind, FileData, FileDigest, Files, System, SystemError, DIGEST_BUFFER,
};

/// The most symlinks one walk follows (as the kernel's own limit), so a loop ends.
const MAX_LINKS: usize = 40;

/// The fewest files in folders that exist for which a batch of reads is shared by threads.
const MIN_THREADED_READS: usize = 32;

/// The most folder handles kept open; past it the caches start over (paths come sorted, so
/// the folders in use are soon back). Far below the common soft limit of 1,024 open files.
const MAX_OPEN_FOLDERS: usize = 256;

/// The most folders one batch of `read_many` reads in (their handles held meanwhile, beside
/// the [`MAX_OPEN_FOLDERS`] of the caches).
const BATCH_FOLDERS: usize = MAX_OPEN_FOLDERS / 2;

/// A folder's handle, and whether a listing may have moved its offset from the start (a
/// handle opened and not listed yet is listed without an `lseek`).
#[derive(Debug)]
struct Handle {
    fd: OwnedFd,
    moved: AtomicBool,
}

impl Handle {
    fn new(fd: OwnedFd) -> Self {
        Handle {
            fd,
            moved: AtomicBool::new(false),
        }
    }
}

impl AsFd for Handle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A folder reached inside the root: its handle and its resolved path (`""`: the root).
#[derive(Debug, Clone)]
struct Folder {
    fd: Arc<Handle>,
    real: String,
}

/// The local file system, rooted at one folder.
#[derive(Debug)]
pub struct RealSystem {
    /// Canonical (the missing tail appended as given).
    root: PathBuf,
    /// Absolute as given (an absolute symlink target may name the root this way).
    root_as_given: PathBuf,
    guard: Guard,
    /// The root's handle, once the root exists.
    root_fd: RefCell<Option<Arc<Handle>>>,
    /// Spelled folder → folder, for folders known to exist.
    by_spelling: RefCell<HashMap<String, Folder>>,
    /// Resolved folder → handle; every ancestor of a cached folder is cached too.
    by_real: RefCell<HashMap<String, Arc<Handle>>>,
    /// Spelled folders found missing (lookups that need not be repeated; creating a folder
    /// never consults it).
    missing: RefCell<HashSet<String>>,
    /// Resolved folders this System created: nothing was in them before, so a child needs no
    /// lookup before it is made and a file no `stat` before it is written.
    fresh: RefCell<HashSet<String>>,
    /// Lock files held through `try_lock`: the open file keeps the lock.
    locks: RefCell<HashMap<String, fs::File>>,
    /// Spelled folder (`""`: the root) → its temp names, listed by `read_many` while it held
    /// the folder's handle; taken by `list_temps_many` (the debris search that follows a
    /// plan's reads), so the folder is not looked up and opened a second time. Emptied by
    /// every change this System makes, so it never answers for a folder changed since.
    temps: RefCell<HashMap<String, Vec<String>>>,
    /// Writes files in folders resolved here; shared by the threads of `write_many`.
    writer: Writer,
}

/// What writing one file into a folder already resolved (and guarded) needs, and nothing of
/// the caches: `Sync`, so the threads of [`System::write_many`] share it.
#[derive(Debug)]
struct Writer {
    /// This process's id, asked once (it names temp files).
    pid: u32,
    /// Permission bits the umask took from the first file created (learnt once, so later
    /// files need an `fchmod` only when their mode asks for one of these bits); [`UNKNOWN`]
    /// until then.
    umask: AtomicU32,
    /// Whether a new file can be written unnamed (`O_TMPFILE`) and then named (`linkat`):
    /// [`UNTRIED`] until tried, [`REFUSED`] after the file system or kernel refused it once.
    unnamed: AtomicU8,
    /// Tests: behave as a kernel or sandbox that refuses `O_TMPFILE` or naming a handle.
    #[cfg(test)]
    refuse: Refusals,
}

/// [`Writer::umask`] before the first file was created.
const UNKNOWN: u32 = u32::MAX;

/// The bits of 0o666 this process's umask takes, from the `Umask:` line of
/// `/proc/self/status` (Linux 4.7 and later; see proc(5)), read once per process. Known before
/// any file is written, it lets the write thread take the first file too, and an apply that
/// only replaces files (which never teach the umask) write on both threads. `None` where the
/// line or `/proc` is missing: the first new file teaches it then.
fn process_umask() -> Option<u32> {
    static UMASK: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        let value = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
        let umask = u32::from_str_radix(value.trim(), 8).ok()?;
        (umask <= 0o777).then_some(umask & 0o666)
    })
}
/// [`Writer::unnamed`]: not tried yet.
const UNTRIED: u8 = 0;
/// [`Writer::unnamed`]: new files are written unnamed and named once whole.
const NAMED: u8 = 1;
/// [`Writer::unnamed`]: refused once; new files go through a temp name too.
const REFUSED: u8 = 2;

/// Tests: the errno each call fails with (0: it does not fail).
#[cfg(test)]
#[derive(Debug, Default)]
struct Refusals {
    /// `openat(O_TMPFILE)`.
    unnamed: std::sync::atomic::AtomicI32,
    /// `linkat(AT_EMPTY_PATH)` of an unnamed file.
    naming: std::sync::atomic::AtomicI32,
    /// `/proc/self/status` has no `Umask:` line (before Linux 4.7, or no `/proc`).
    status: std::sync::atomic::AtomicBool,
}

/// What a file is written from: bytes held whole, or a fill that hands them out in pieces.
enum Body<'b> {
    Bytes(&'b [u8]),
    Fill(super::Fill<'b>),
}

/// Why [`Writer::write_in`] failed, for its caller to name the path.
enum WriteError {
    /// A folder or special file is at the name.
    NotAFile,
    Os(Errno),
}

impl WriteError {
    fn at(self, path: &RelPath) -> SystemError {
        match self {
            WriteError::NotAFile => SystemError::NotAFile {
                path: path.to_string(),
            },
            WriteError::Os(e) => io_err("write", path.as_str(), e),
        }
    }
}

fn io_err(op: &'static str, path: &str, e: impl Into<std::io::Error>) -> SystemError {
    SystemError::Io {
        op,
        path: path.to_string(),
        source: e.into(),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn parent_of(real: &str) -> &str {
    real.rfind('/').map_or("", |i| &real[..i])
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Read flags: no final symlink, and a FIFO or device cannot block the open.
const READ_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC);

impl RealSystem {
    /// A System rooted at `root`, protecting every `.git` below it. A root that does not
    /// exist yet is not created: the first write creates it, so read-only commands and dry
    /// runs leave no trace.
    pub fn new(root: &Path) -> Result<Self, SystemError> {
        let err = |source| SystemError::Io {
            op: "open root folder",
            path: root.display().to_string(),
            source,
        };
        let absolute = std::path::absolute(root).map_err(err)?;
        Ok(RealSystem {
            root: canonical_with_missing_tail(&absolute).map_err(err)?,
            root_as_given: absolute,
            guard: Guard::default(),
            root_fd: RefCell::new(None),
            by_spelling: RefCell::new(HashMap::new()),
            by_real: RefCell::new(HashMap::new()),
            fresh: RefCell::new(HashSet::new()),
            missing: RefCell::new(HashSet::new()),
            locks: RefCell::new(HashMap::new()),
            temps: RefCell::new(HashMap::new()),
            writer: Writer {
                pid: std::process::id(),
                umask: AtomicU32::new(UNKNOWN),
                unnamed: AtomicU8::new(UNTRIED),
                #[cfg(test)]
                refuse: Refusals::default(),
            },
        })
    }

    /// Also protects the absolute `place` (a git dir from `.git`'s pointer, `$AIWG_HOME`)
    /// when it lies inside the root; outside, the root's containment already keeps it out.
    pub fn protect(mut self, place: &Path, owner: Owner) -> Self {
        let place = std::path::absolute(place)
            .ok()
            .and_then(|p| canonical_with_missing_tail(&p).ok());
        if let Some(rel) = place
            .as_deref()
            .and_then(|p| p.strip_prefix(&self.root).ok())
        {
            let rel = rel.to_string_lossy().replace('\\', "/");
            self.guard.protect(&rel, owner);
        }
        self
    }

    /// Also protects `rel` (relative to the root) and everything below it.
    pub fn protect_relative(mut self, rel: &RelPath, owner: Owner) -> Self {
        self.guard.protect(rel.as_str(), owner);
        self
    }

    /// Lets the exact file `rel` through though it is protected (the state System edits
    /// `.git/info/exclude`).
    pub fn allow(mut self, rel: &RelPath) -> Self {
        self.guard.allow(rel.as_str());
        self
    }

    /// The root folder (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn outside(&self, path: &str) -> SystemError {
        SystemError::SymlinkOutside {
            path: path.to_string(),
            root: self.root.display().to_string(),
        }
    }

    fn refuse(&self, path: &str, real: &str) -> Result<(), SystemError> {
        self.guard
            .check(real)
            .map_err(|owner| SystemError::Protected {
                path: path.to_string(),
                resolved: real.to_string(),
                owner,
            })
    }

    /// The root's folder; with `create`, made when missing.
    fn root_handle(&self, create: bool) -> Result<Option<Folder>, SystemError> {
        if let Some(fd) = self.root_fd.borrow().as_ref() {
            return Ok(Some(Folder {
                fd: fd.clone(),
                real: String::new(),
            }));
        }
        let shown = self.root.display().to_string();
        let open = || rustix::fs::open(&self.root, DIR_FLAGS, Mode::empty());
        let fd = match open() {
            Ok(fd) => fd,
            Err(Errno::NOENT) if create => {
                // The root is the user's own folder (as given), not repository input.
                fs::create_dir_all(&self.root).map_err(|e| io_err("create folder", &shown, e))?;
                open().map_err(|e| io_err("open root folder", &shown, e))?
            }
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(io_err("open root folder", &shown, e)),
        };
        let fd = Arc::new(Handle::new(fd));
        *self.root_fd.borrow_mut() = Some(fd.clone());
        self.by_real.borrow_mut().insert(String::new(), fd.clone());
        Ok(Some(Folder {
            fd,
            real: String::new(),
        }))
    }

    /// The folder at resolved path `real`, from the cache (every ancestor of a cached folder
    /// is cached) or walked again from the root.
    fn real_folder(&self, real: &str, spelled: &str) -> Result<Option<Folder>, SystemError> {
        if let Some(fd) = self.by_real.borrow().get(real) {
            return Ok(Some(Folder {
                fd: fd.clone(),
                real: real.to_string(),
            }));
        }
        let Some(mut at) = self.root_handle(false)? else {
            return Ok(None);
        };
        for name in real.split('/').filter(|c| !c.is_empty()) {
            match self.step(&at, name, spelled, false, &mut 0)? {
                Step::Into(next) => at = next,
                Step::Missing => return Ok(None),
            }
        }
        Ok(Some(at))
    }

    /// The folder `spelled` (relative to the root; `None`: the root), resolved; with `create`,
    /// made (with its parents) when missing, else `None` when missing.
    fn folder(
        &self,
        spelled: Option<&RelPath>,
        create: bool,
    ) -> Result<Option<Folder>, SystemError> {
        let Some(spelled) = spelled else {
            return self.root_handle(create);
        };
        if let Some(hit) = self.by_spelling.borrow().get(spelled.as_str()) {
            return Ok(Some(hit.clone()));
        }
        if !create && self.missing.borrow().contains(spelled.as_str()) {
            return Ok(None);
        }
        let Some(parent) = self
            .folder(spelled.parent().as_ref(), create)
            .map_err(|e| refused_below(e, spelled.as_str(), spelled.file_name()))?
        else {
            return Ok(None);
        };
        let found = self.step(
            &parent,
            spelled.file_name(),
            spelled.as_str(),
            create,
            &mut 0,
        )?;
        match found {
            Step::Into(folder) => {
                self.by_spelling
                    .borrow_mut()
                    .insert(spelled.as_str().to_string(), folder.clone());
                Ok(Some(folder))
            }
            Step::Missing => {
                self.missing
                    .borrow_mut()
                    .insert(spelled.as_str().to_string());
                Ok(None)
            }
        }
    }

    /// One component `name` below folder `at`: a folder entered, created, or a symlink
    /// followed (its target walked component by component). `spelled` names the whole path in
    /// errors; `links` counts the symlinks followed by this walk.
    fn step(
        &self,
        at: &Folder,
        name: &str,
        spelled: &str,
        create: bool,
        links: &mut usize,
    ) -> Result<Step, SystemError> {
        match name {
            "" | "." => return Ok(Step::Into(at.clone())),
            ".." => {
                if at.real.is_empty() {
                    return Err(self.outside(spelled));
                }
                return match self.real_folder(parent_of(&at.real), spelled)? {
                    Some(up) => Ok(Step::Into(up)),
                    None => Ok(Step::Missing),
                };
            }
            _ => {}
        }
        let real = join(&at.real, name);
        self.refuse(spelled, &real)?;
        if let Some(fd) = self.by_real.borrow().get(&real) {
            return Ok(Step::Into(Folder {
                fd: fd.clone(),
                real,
            }));
        }
        let in_fresh = self.fresh.borrow().contains(&at.real);
        let probe = if in_fresh && create {
            Err(Errno::NOENT)
        } else {
            rustix::fs::openat(&*at.fd, name, DIR_FLAGS, Mode::empty())
        };
        let opened = match probe {
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&*at.fd, name, Mode::from_raw_mode(0o777)) {
                    Ok(()) => {
                        self.fresh.borrow_mut().insert(real.clone());
                        // Another spelling (through a symlink) may name the new folder.
                        self.missing.borrow_mut().clear();
                    }
                    Err(Errno::EXIST) => {}
                    Err(e) => return Err(io_err("create folder", spelled, e)),
                }
                rustix::fs::openat(&*at.fd, name, DIR_FLAGS, Mode::empty())
            }
            other => other,
        };
        match opened {
            Ok(fd) => {
                let fd = Arc::new(Handle::new(fd));
                self.keep_open(&real, &fd);
                Ok(Step::Into(Folder { fd, real }))
            }
            Err(Errno::NOENT) => Ok(Step::Missing),
            // With O_DIRECTORY, Linux reports a symlink as "not a folder", like a file.
            Err(Errno::LOOP | Errno::MLINK | Errno::NOTDIR) => {
                match rustix::fs::readlinkat(&*at.fd, name, Vec::new()) {
                    Ok(target) => self.follow(at, &target, spelled, create, links),
                    Err(Errno::INVAL) => Err(SystemError::NotAFolder {
                        path: spelled.to_string(),
                    }),
                    Err(e) => Err(io_err("read link", spelled, e)),
                }
            }
            Err(e) => Err(io_err("open folder", spelled, e)),
        }
    }

    /// Follows a symlink in folder `at` that says `target`: walked from `at` (relative) or
    /// from the root (absolute, when it names a place inside the root).
    fn follow(
        &self,
        at: &Folder,
        target: &std::ffi::CStr,
        spelled: &str,
        create: bool,
        links: &mut usize,
    ) -> Result<Step, SystemError> {
        *links += 1;
        if *links > MAX_LINKS {
            return Err(io_err("resolve", spelled, Errno::LOOP));
        }
        let target = Path::new(OsStr::from_bytes(target.to_bytes()));
        let (mut here, rest) = if target.is_absolute() {
            let inside = target
                .strip_prefix(&self.root)
                .or_else(|_| target.strip_prefix(&self.root_as_given))
                .map_err(|_| self.outside(spelled))?;
            let root = self
                .root_handle(false)?
                .ok_or_else(|| self.outside(spelled))?;
            (root, inside.to_path_buf())
        } else {
            (at.clone(), target.to_path_buf())
        };
        let comps: Vec<&str> = rest
            .iter()
            .map(|c| c.to_str().ok_or_else(|| self.outside(spelled)))
            .collect::<Result<_, _>>()?;
        for (i, comp) in comps.iter().enumerate() {
            match self
                .step(&here, comp, spelled, create, links)
                .map_err(|e| refused_below(e, spelled, &comps[i + 1..].join("/")))?
            {
                Step::Into(next) => here = next,
                Step::Missing => return Ok(Step::Missing),
            }
        }
        Ok(Step::Into(here))
    }

    /// The folder holding `path` and the resolved path of `path` itself, checked by the
    /// guard; `None` when the folder does not exist (and `create` is false).
    fn locate(
        &self,
        path: &RelPath,
        create: bool,
    ) -> Result<Option<(Folder, String)>, SystemError> {
        let Some(folder) = self
            .folder(path.parent().as_ref(), create)
            .map_err(|e| refused_below(e, path.as_str(), path.file_name()))?
        else {
            return Ok(None);
        };
        let real = join(&folder.real, path.file_name());
        self.refuse(path.as_str(), &real)?;
        Ok(Some((folder, real)))
    }

    /// The handle of the folder `path` is read in: what [`RealSystem::locate`] gives (`None`
    /// for any error), without its three allocations per path when the folder was opened
    /// before (most paths of a read: a folder holds several files). `real` is scratch.
    fn locate_fd(&self, path: &RelPath, real: &mut String) -> Option<Arc<Handle>> {
        if let Some((parent, name)) = path.as_str().rsplit_once('/') {
            if let Some(hit) = self.by_spelling.borrow().get(parent) {
                // `join(&hit.real, name)`, in the scratch buffer.
                real.clear();
                if !hit.real.is_empty() {
                    real.push_str(&hit.real);
                    real.push('/');
                }
                real.push_str(name);
                return self.guard.check(real).is_ok().then(|| hit.fd.clone());
            }
        }
        self.locate(path, false).ok().flatten().map(|(f, _)| f.fd)
    }

    /// The fast reads of `batch` by `read` (`None`: to be read the careful way), appended
    /// to `out`; each folder of the batch found open is listed for temp names too (into
    /// [`RealSystem::temps`]) while its handle is held, unless it was already.
    fn read_batch<T: Send>(
        &self,
        batch: &[&RelPath],
        threads: usize,
        read: &ReadAt<T>,
        out: &mut Vec<Option<Option<T>>>,
    ) {
        let mut real = String::new();
        let located: Vec<Option<Arc<Handle>>> =
            batch.iter().map(|p| self.locate_fd(p, &mut real)).collect();
        let jobs: Vec<(Option<&Arc<Handle>>, &str)> = located
            .iter()
            .zip(batch)
            .map(|(fd, p)| (fd.as_ref(), p.file_name()))
            .collect();
        // The folders to list: each spelling once, each handle once (two spellings of one
        // folder share its listing).
        let mut spellings: Vec<(String, usize)> = Vec::new();
        let mut handles: Vec<&Arc<Handle>> = Vec::new();
        {
            let listed = self.temps.borrow();
            let mut seen: HashSet<&str> = HashSet::new();
            let mut index: HashMap<*const Handle, usize> = HashMap::new();
            for (fd, path) in located.iter().zip(batch) {
                let (Some(fd), folder) = (fd, path.as_str().rsplit_once('/').map_or("", |s| s.0))
                else {
                    continue;
                };
                if listed.contains_key(folder) || !seen.insert(folder) {
                    continue;
                }
                let slot = *index.entry(Arc::as_ptr(fd)).or_insert_with(|| {
                    handles.push(fd);
                    handles.len() - 1
                });
                spellings.push((folder.to_string(), slot));
            }
        }
        let keep = |name: &str| super::temp_writer(name).is_some();
        let run = |(fd, name): &(Option<&Arc<Handle>>, &str)| {
            fd.and_then(|fd| read(fd.as_fd(), name).ok())
        };
        // Part `k` of `n` of the reads and of the listings.
        let work = |k: usize, n: usize| {
            let reads: Vec<Option<Option<T>>> = share(&jobs, k, n).iter().map(run).collect();
            let mut buf = Vec::new();
            let lists: Vec<Option<Vec<String>>> = (share(&handles, k, n).iter())
                .map(|fd| list_fd(fd, &keep, &mut buf).ok())
                .collect();
            (reads, lists)
        };
        // A batch with few files to open (most folders missing: a first apply) is not worth
        // the threads: each costs more to start than the reads it would share.
        let n = if located.iter().flatten().count() < MIN_THREADED_READS {
            1
        } else {
            threads
        };
        // Each part on a core of its own, this thread taking the first instead of waiting.
        let mut lists: Vec<Option<Vec<String>>> = Vec::with_capacity(handles.len());
        for (reads, listed) in aiwg_core::par::parts(n, work) {
            out.extend(reads);
            lists.extend(listed);
        }
        let mut temps = self.temps.borrow_mut();
        for (folder, slot) in spellings {
            // A listing that failed is left to the debris search to take again.
            if let Some(names) = &lists[slot] {
                temps.insert(folder, names.clone());
            }
        }
    }

    /// `read` of every path, with one thread per core (at most 8) when there are many files:
    /// opening and reading thousands of small files is system-call bound, and `check` must be
    /// fast. Folders are resolved (and guarded) on this thread; the threads only open and
    /// read plain files in them. Anything unusual is read again by `careful`.
    fn read_many_with<T: Send>(
        &self,
        paths: &[&RelPath],
        read: &ReadAt<T>,
        careful: impl Fn(&RelPath) -> Result<Option<T>, SystemError>,
    ) -> Vec<Result<Option<T>, SystemError>> {
        let threads = aiwg_core::par::cores().min(8);
        if threads < 2 || paths.len() < 256 {
            return paths.iter().map(|p| careful(p)).collect();
        }
        let mut fast: Vec<Option<Option<T>>> = Vec::with_capacity(paths.len());
        // In batches of at most `BATCH_FOLDERS` folders, so that the handles held for one
        // batch stay few (and the threads started per file fewer where folders hold several).
        let mut start = 0;
        while start < paths.len() {
            let mut folders: HashSet<&str> = HashSet::new();
            let end = (paths[start..].iter())
                .position(|p| {
                    let folder = p.as_str().rsplit_once('/').map_or("", |s| s.0);
                    folders.insert(folder) && folders.len() > BATCH_FOLDERS
                })
                .map_or(paths.len(), |i| start + i);
            self.read_batch(&paths[start..end], threads, read, &mut fast);
            start = end;
        }
        paths
            .iter()
            .zip(fast)
            .map(|(path, result)| match result {
                Some(data) => Ok(data),
                // Anything unusual (absent folder, symlink, folder, error): the careful way.
                None => careful(path),
            })
            .collect()
    }

    /// `read` of the file at `path` in its folder, each failure explained as [`System::read`]
    /// explains it.
    fn read_one<T>(
        &self,
        path: &RelPath,
        read: impl FnOnce(BorrowedFd<'_>, &str) -> Result<Option<T>, ReadError>,
    ) -> Result<Option<T>, SystemError> {
        let Some((folder, _)) = self.locate(path, false)? else {
            return Ok(None);
        };
        match read(folder.fd.as_fd(), path.file_name()) {
            Ok(data) => Ok(data),
            Err(ReadError::Os(Errno::LOOP | Errno::MLINK)) => {
                let target = rustix::fs::readlinkat(&*folder.fd, path.file_name(), Vec::new())
                    .map_err(|e| io_err("read link", path.as_str(), e))?;
                Err(SystemError::Symlink {
                    path: path.to_string(),
                    target: target.to_string_lossy().into_owned(),
                })
            }
            Err(ReadError::NotAFile | ReadError::Os(Errno::NXIO)) => Err(SystemError::NotAFile {
                path: path.to_string(),
            }),
            Err(ReadError::Os(e)) => Err(io_err("read", path.as_str(), e)),
            Err(ReadError::Io(e)) => Err(io_err("read", path.as_str(), e)),
        }
    }

    /// The folder that is to hold `path` (made when missing, and guarded, the file's own path
    /// too) and whether this System made it (then nothing in it needs looking up).
    fn place(&self, path: &RelPath) -> Result<(Arc<Handle>, bool), SystemError> {
        let (folder, _) = self
            .locate(path, true)?
            .expect("a folder made on demand exists");
        let fresh = self.fresh.borrow().contains(&folder.real);
        Ok((folder.fd, fresh))
    }

    /// Caches the handle of resolved folder `real`, starting the caches over when they hold
    /// [`MAX_OPEN_FOLDERS`] (the root's handle stays).
    fn keep_open(&self, real: &str, fd: &Arc<Handle>) {
        let mut by_real = self.by_real.borrow_mut();
        if by_real.len() >= MAX_OPEN_FOLDERS {
            by_real.retain(|k, _| k.is_empty());
            self.by_spelling.borrow_mut().clear();
        }
        by_real.insert(real.to_string(), fd.clone());
    }

    /// The handle of folder `path` to list: `None` when there is nothing to list there
    /// (absent, or not a folder).
    fn folder_to_list(&self, path: Option<&RelPath>) -> Result<Option<Arc<Handle>>, SystemError> {
        match self.folder(path, false) {
            Ok(Some(folder)) => Ok(Some(folder.fd)),
            Ok(None) | Err(SystemError::NotAFile { .. } | SystemError::NotAFolder { .. }) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Something on disk changes: listings taken before may no longer hold.
    fn changed(&self) {
        self.temps.borrow_mut().clear();
    }

    fn forget_below(&self, real: &str) {
        let below = |k: &str| k == real || k.starts_with(&format!("{real}/"));
        self.by_real.borrow_mut().retain(|k, _| !below(k));
        self.fresh.borrow_mut().retain(|k| !below(k));
        self.by_spelling.borrow_mut().retain(|_, f| !below(&f.real));
    }
}

/// Whether `openat(O_TMPFILE)` failing with `e` means no unnamed files here: a file system
/// without them (`EOPNOTSUPP`), a kernel without them (where the flag reads as a folder:
/// `EISDIR`, `EINVAL`), or a sandbox that filters the call (`ENOSYS`, `EPERM`). The usual way
/// is tried instead, and reports any error of its own.
fn unnamed_refused(e: Errno) -> bool {
    matches!(
        e,
        Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOSYS | Errno::PERM
    )
}

/// Whether `linkat(AT_EMPTY_PATH)` failing with `e` means a handle cannot be named here:
/// `ENOENT` before Linux 6.10 for a caller without `CAP_DAC_READ_SEARCH`, `EPERM` or
/// `ENOSYS` from a sandbox's filter, `EOPNOTSUPP` from a file system that cannot link.
fn naming_refused(e: Errno) -> bool {
    matches!(
        e,
        Errno::NOENT | Errno::PERM | Errno::NOSYS | Errno::OPNOTSUPP
    )
}

impl Writer {
    /// The bits of 0o666 the umask takes: read from `/proc/self/status` before the first
    /// file ([`process_umask`]), else learnt from the first new file.
    fn umask(&self) -> Option<u32> {
        let umask = self.umask.load(Ordering::Relaxed);
        if umask != UNKNOWN {
            return Some(umask);
        }
        #[cfg(test)]
        if self.refuse.status.load(Ordering::Relaxed) {
            return None;
        }
        let read = process_umask()?;
        self.umask.store(read, Ordering::Relaxed);
        Some(read)
    }

    /// A fresh temp name for a file that will be renamed to `name`.
    fn temp(&self, name: &str) -> String {
        temp_name(name, self.pid, super::temp_number())
    }

    /// Writes the file `name` in folder `dir` atomically from `body`, executable or not
    /// ([`System::write_atomic`]); `fresh`: this System made the folder, so nothing is at the
    /// name and no lookup is needed. A file replaced keeps its permission bits (but the
    /// execute bits, which follow `executable`); a symlink is replaced by the file.
    fn write_in(
        &self,
        dir: BorrowedFd<'_>,
        name: &str,
        fresh: bool,
        executable: bool,
        mut body: Body<'_>,
    ) -> Result<(), WriteError> {
        let stat = if fresh {
            Err(Errno::NOENT)
        } else {
            rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        };
        let old_mode = match stat {
            Ok(stat) => match FileType::from_raw_mode(stat.st_mode) {
                FileType::RegularFile => Some(stat.st_mode & 0o7777),
                // A symlink is replaced by the file, with a new file's mode.
                FileType::Symlink => None,
                _ => return Err(WriteError::NotAFile),
            },
            Err(Errno::NOENT) => None,
            Err(e) => return Err(WriteError::Os(e)),
        };
        let adjust = |base: u32| {
            if executable {
                // Executable wherever readable.
                base | ((base & 0o444) >> 2)
            } else {
                base & !0o111
            }
        };
        // A new file gets what the umask allows of 0o666 (plus execute where readable).
        let umask = self.umask();
        let wanted = old_mode.or(umask.map(|u| 0o666 & !u)).map(adjust);
        // The bytes and the mode of the open file `file`.
        let mut write_body = |file: &OwnedFd| -> Result<(), Errno> {
            match &mut body {
                Body::Bytes(bytes) => write_all(file.as_fd(), bytes)?,
                Body::Fill(fill) => write_filled(file.as_fd(), &mut **fill)?,
            }
            // The umask is learnt from the first file (one fstat per run); after that a file
            // needs an fchmod only when its mode asks for a bit the umask takes. Two threads
            // that learn it at once learn the same bits.
            let chmod = match (umask, wanted) {
                (Some(umask), Some(mode)) => (mode & umask != 0).then_some(mode),
                (_, requested) => {
                    let got = rustix::fs::fstat(file)?.st_mode & 0o7777;
                    let requested = requested.unwrap_or(0o666);
                    // Only a file asked for with every bit shows all the umask takes: a
                    // replaced 0o644 file would teach that it takes nothing, and a later 0o664
                    // one would lose its group bit. Such a file only gets its mode set.
                    if requested == 0o666 {
                        self.umask.store(0o666 & !got, Ordering::Relaxed);
                    }
                    let mode = wanted.unwrap_or_else(|| adjust(got));
                    (mode != got).then_some(mode)
                }
            };
            if let Some(mode) = chmod {
                rustix::fs::fchmod(file, Mode::from_raw_mode(mode))?;
            }
            Ok(())
        };
        let mode = Mode::from_raw_mode(wanted.unwrap_or(0o666));
        // Nothing at the name (not even a symlink to replace): written unnamed and named once
        // whole, one directory entry instead of a temp file's and a rename.
        let absent = fresh || matches!(stat, Err(Errno::NOENT));
        if absent && self.unnamed.load(Ordering::Relaxed) != REFUSED {
            match self.write_unnamed(dir, name, mode, &mut write_body) {
                Ok(true) => return Ok(()),
                Ok(false) => self.unnamed.store(REFUSED, Ordering::Relaxed),
                Err(e) => return Err(WriteError::Os(e)),
            }
        }
        let temp = self.temp(name);
        // A file already at the temp name (debris, or one made to carry it) is not aiwg's
        // to remove: only a temp file this call made is removed when it fails.
        let file = create_temp(dir, temp.as_str(), mode).map_err(WriteError::Os)?;
        let filled = write_body(&file);
        drop(file);
        rename_filled(dir, temp.as_str(), name, filled).map_err(WriteError::Os)
    }

    /// Writes a new file `name` in folder `dir` unnamed (`O_TMPFILE`: `body` fills it) and
    /// names it with `linkat` once whole: a crash before leaves no file and no temp name, and
    /// the folder gets one entry instead of a temp file's and a rename (less kernel work per
    /// file on ext4). `Ok(false)`: not possible here ([`unnamed_refused`], or on the first try
    /// [`naming_refused`]), for the caller to write the usual way. A file that appeared at
    /// `name` since it was found absent is replaced, as any existing file is: named under a
    /// temp name, then renamed over it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn write_unnamed(
        &self,
        dir: BorrowedFd<'_>,
        name: &str,
        mode: Mode,
        body: &mut dyn FnMut(&OwnedFd) -> Result<(), Errno>,
    ) -> Result<bool, Errno> {
        let file = match self.open_unnamed(dir, mode) {
            Ok(file) => file,
            Err(e) if unnamed_refused(e) => return Ok(false),
            Err(e) => return Err(e),
        };
        if self.unnamed.load(Ordering::Relaxed) == UNTRIED {
            // The first try asks whether a handle may be named at all before `body` runs:
            // a fill may hand its pieces out once only (a manifest's mark is made from them),
            // so it must never be run for a file that then cannot be named. The empty file is
            // named under a temp name, filled, and renamed like a replaced file. (Two threads
            // may both try first: each runs its own file's body once.)
            let temp = self.temp(name);
            match self.name_handle(&file, dir, temp.as_str()) {
                Ok(()) => self.unnamed.store(NAMED, Ordering::Relaxed),
                Err(e) if naming_refused(e) => return Ok(false),
                Err(e) => return Err(e),
            }
            let filled = body(&file);
            drop(file);
            return rename_filled(dir, temp.as_str(), name, filled).map(|()| true);
        }
        body(&file)?;
        match self.name_handle(&file, dir, name) {
            Ok(()) => Ok(true),
            // Something is at the name (it appeared since the lookup), or naming is refused
            // now though it was allowed before (another file system mounted below the root):
            // through a temp name, the body is not run again.
            Err(e) if e == Errno::EXIST || naming_refused(e) => {
                self.name_through_temp(&file, dir, name).map(|()| true)
            }
            Err(e) => Err(e),
        }
    }

    /// Gives the filled unnamed `file` the name `name` in folder `dir` by way of a temp name
    /// renamed over whatever is there; where the handle cannot be named, its bytes are copied
    /// into the temp file instead (the body that filled it may not run twice).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn name_through_temp(
        &self,
        file: &OwnedFd,
        dir: BorrowedFd<'_>,
        name: &str,
    ) -> Result<(), Errno> {
        let temp = self.temp(name);
        let filled = match self.name_handle(file, dir, temp.as_str()) {
            Ok(()) => Ok(()),
            Err(e) if naming_refused(e) => {
                self.unnamed.store(REFUSED, Ordering::Relaxed);
                let to = create_temp(dir, temp.as_str(), Mode::from_raw_mode(0o600))?;
                copy_into(file, &to)
            }
            Err(e) => return Err(e),
        };
        rename_filled(dir, temp.as_str(), name, filled)
    }

    /// `openat(O_TMPFILE)` in folder `dir`, readable too (for [`copy_into`]).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn open_unnamed(&self, dir: BorrowedFd<'_>, mode: Mode) -> Result<OwnedFd, Errno> {
        #[cfg(test)]
        if let Some(e) = refused(&self.refuse.unnamed) {
            return Err(e);
        }
        rustix::fs::openat(
            dir,
            ".",
            OFlags::RDWR | OFlags::TMPFILE | OFlags::CLOEXEC,
            mode,
        )
    }

    /// Names the unnamed file `file` as `name` in folder `dir` (`linkat` of the handle).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn name_handle(&self, file: &OwnedFd, dir: BorrowedFd<'_>, name: &str) -> Result<(), Errno> {
        #[cfg(test)]
        if let Some(e) = refused(&self.refuse.naming) {
            return Err(e);
        }
        rustix::fs::linkat(file, "", dir, name, AtFlags::EMPTY_PATH)
    }

    /// Elsewhere there are no unnamed files: always the usual way.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn write_unnamed(
        &self,
        _dir: BorrowedFd<'_>,
        _name: &str,
        _mode: Mode,
        _body: &mut dyn FnMut(&OwnedFd) -> Result<(), Errno>,
    ) -> Result<bool, Errno> {
        Ok(false)
    }
}

/// Tests: the errno a refusal cell holds, if any.
#[cfg(test)]
fn refused(cell: &std::sync::atomic::AtomicI32) -> Option<Errno> {
    match cell.load(Ordering::Relaxed) {
        0 => None,
        raw => Some(Errno::from_raw_os_error(raw)),
    }
}

/// Creates the temp file `temp` in folder `dir`, failing when anything is at that name.
fn create_temp(dir: BorrowedFd<'_>, temp: &str, mode: Mode) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        temp,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        mode,
    )
}

/// Copies the bytes and the mode of `from` (an unnamed file that cannot be named) into the new
/// temp file `to`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn copy_into(from: &OwnedFd, to: &OwnedFd) -> Result<(), Errno> {
    let mut buf = vec![0u8; FILL_BUFFER];
    let mut at = 0u64;
    loop {
        let n = match rustix::io::pread(from, &mut buf, at) {
            Ok(0) => break,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        };
        write_all(to.as_fd(), &buf[..n])?;
        at += n as u64;
    }
    let mode = rustix::fs::fstat(from)?.st_mode & 0o7777;
    rustix::fs::fchmod(to, Mode::from_raw_mode(mode))
}

/// How many bytes of files wait at most for a write thread (copies of what the caller handed
/// [`System::write_many`]): what the pipeline costs in memory, whatever the output's size.
const QUEUE_BYTES: usize = 2 << 20;

/// How many files wait at most (each holds its folder's handle open: with the caches'
/// [`MAX_OPEN_FOLDERS`], far below the common limit of 1,024 open files).
const QUEUE_FILES: usize = 128;

/// Files waiting before the write thread is started, or woken: a handful is not worth it.
const WORKER_AFTER: usize = 8;

/// One file of [`System::write_many`], its folder resolved: what a write thread needs.
struct Job {
    /// Its place in the order the files were handed out.
    index: usize,
    dir: Arc<Handle>,
    fresh: bool,
    path: RelPath,
    bytes: Vec<u8>,
    executable: bool,
}

/// The files resolved and waiting to be written, and the first failure: shared by the thread
/// that resolves (and writes when the queue is full) and the write thread.
struct Pipeline {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// The index of the first file that failed (`usize::MAX`: none): later ones are skipped.
    first: AtomicUsize,
    error: Mutex<Option<(usize, SystemError)>>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    bytes: usize,
    /// No more files come.
    closed: bool,
    /// Whether the write thread waits for files (woken only then, and once a few wait).
    sleeping: bool,
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline {
            queue: Mutex::default(),
            ready: Condvar::new(),
            first: AtomicUsize::new(usize::MAX),
            error: Mutex::new(None),
        }
    }
}

/// A lock taken whatever a panicking thread left (each critical section leaves the data
/// whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pipeline {
    fn failed(&self) -> bool {
        self.first.load(Ordering::Relaxed) != usize::MAX
    }

    /// Records that the file at `index` failed with `e`, kept when it comes first.
    fn fail(&self, index: usize, e: SystemError) {
        let mut error = lock(&self.error);
        if error.as_ref().is_none_or(|(first, _)| index < *first) {
            *error = Some((index, e));
            self.first.fetch_min(index, Ordering::Relaxed);
        }
    }

    /// Queues `job`; returns the oldest file waiting when the queue is over its bounds, for
    /// the caller to write.
    fn push(&self, job: Job) -> Option<Job> {
        let mut queue = lock(&self.queue);
        queue.bytes += job.bytes.len();
        queue.jobs.push_back(job);
        let over = if queue.jobs.len() > QUEUE_FILES || queue.bytes > QUEUE_BYTES {
            queue.jobs.pop_front()
        } else {
            None
        };
        if let Some(job) = &over {
            queue.bytes -= job.bytes.len();
        }
        // A few files at a time: a wake is two system calls and a switch.
        if queue.sleeping && queue.jobs.len() >= WORKER_AFTER {
            queue.sleeping = false;
            self.ready.notify_one();
        }
        over
    }

    fn waiting(&self) -> usize {
        lock(&self.queue).jobs.len()
    }

    /// The oldest file waiting; with `wait`, waits for one until the queue is closed.
    fn pop(&self, wait: bool) -> Option<Job> {
        let mut queue = lock(&self.queue);
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                queue.bytes -= job.bytes.len();
                return Some(job);
            }
            if queue.closed || !wait {
                return None;
            }
            queue.sleeping = true;
            queue = self
                .ready
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn close(&self) {
        lock(&self.queue).closed = true;
        self.ready.notify_all();
    }

    /// The write thread: every file queued, until the queue is closed and empty.
    fn work(&self, writer: &Writer) {
        while let Some(job) = self.pop(true) {
            self.run(writer, job);
        }
    }

    /// Writes `job`, unless a file before it failed (the result is the first failure in the
    /// order handed out, however the threads went).
    fn run(&self, writer: &Writer, job: Job) {
        if job.index > self.first.load(Ordering::Relaxed) {
            return;
        }
        let name = job.path.file_name();
        let body = Body::Bytes(&job.bytes);
        if let Err(e) = writer.write_in(job.dir.as_fd(), name, job.fresh, job.executable, body) {
            self.fail(job.index, e.at(&job.path));
        }
    }

    fn result(self) -> Result<(), SystemError> {
        let error = self
            .error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match error {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// Closes the pipeline when dropped, so the write thread never waits for a thread that left
/// (unwinding included).
struct Closing<'p>(&'p Pipeline);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl std::ops::Deref for Closing<'_> {
    type Target = Pipeline;
    fn deref(&self) -> &Pipeline {
        self.0
    }
}

/// How [`System::list`] names folder `path` in an error.
fn shown_folder(path: Option<&RelPath>) -> String {
    path.map_or_else(|| ".".to_string(), ToString::to_string)
}

/// The names in the folder open as `handle` (not `.` and `..`) that `keep` accepts, sorted.
/// On Linux the handle itself is read (`getdents64` from its start, after an `lseek` when it
/// was listed before): no second handle is opened for the listing. The caller lists one handle
/// on one thread at a time (the offset is the handle's), into `buf`, which it keeps for the
/// next listing: a buffer allocated per folder, freed between the small allocations that
/// live on, left holes that raised the peak memory of a full check by 4-6 MiB.
#[cfg(target_os = "linux")]
fn list_fd(
    handle: &Handle,
    keep: &(dyn Fn(&str) -> bool + Sync),
    buf: &mut Vec<u8>,
) -> Result<Vec<String>, Errno> {
    let dir = handle.as_fd();
    if handle.moved.swap(true, Ordering::Relaxed) {
        rustix::fs::seek(dir, rustix::fs::SeekFrom::Start(0))?;
    }
    buf.clear();
    buf.reserve(LIST_BUFFER);
    let mut names = Vec::new();
    'read: loop {
        let room = buf.capacity();
        let mut entries = rustix::fs::RawDir::new(dir, buf.spare_capacity_mut());
        while let Some(entry) = entries.next() {
            let entry = match entry {
                // The next entry does not fit: a larger buffer goes on where this one stopped.
                Err(Errno::INVAL) if room < 1 << 20 => {
                    buf.reserve(room * 2);
                    continue 'read;
                }
                other => other?,
            };
            let name = entry.file_name().to_string_lossy();
            if name != "." && name != ".." && keep(&name) {
                names.push(name.into_owned());
            }
        }
        break;
    }
    names.sort();
    Ok(names)
}

/// The names in the folder open as `handle` (not `.` and `..`) that `keep` accepts, sorted
/// (a second handle of the folder is read, so the first keeps its offset).
#[cfg(not(target_os = "linux"))]
fn list_fd(
    handle: &Handle,
    keep: &(dyn Fn(&str) -> bool + Sync),
    _buf: &mut Vec<u8>,
) -> Result<Vec<String>, Errno> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(handle.as_fd())? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy();
        if name != "." && name != ".." && keep(&name) {
            names.push(name.into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The buffer a folder is listed into: one `getdents64` for a folder of some hundreds of
/// names (and a second that finds the end).
#[cfg(target_os = "linux")]
const LIST_BUFFER: usize = 32 * 1024;

/// A refusal met on the way to `path`, which lies `tail` further below where the walk stopped:
/// named by `path`, with the place it resolves to in full.
fn refused_below(e: SystemError, path: &str, tail: &str) -> SystemError {
    match e {
        SystemError::Protected {
            resolved, owner, ..
        } => SystemError::Protected {
            path: path.to_string(),
            resolved: if tail.is_empty() {
                resolved
            } else {
                join(&resolved, tail)
            },
            owner,
        },
        e => e,
    }
}

enum Step {
    Into(Folder),
    Missing,
}

/// `path` canonical, or its nearest existing ancestor canonical with the missing rest appended.
fn canonical_with_missing_tail(absolute: &Path) -> std::io::Result<PathBuf> {
    let mut existing = absolute;
    let mut missing = Vec::new();
    loop {
        match fs::canonicalize(existing) {
            Ok(real) => return Ok(missing.iter().rev().fold(real, |p, c| p.join(c))),
            Err(e) => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(e);
                };
                missing.push(name);
                existing = parent;
            }
        }
    }
}

fn is_executable(mode: u32) -> bool {
    mode & 0o111 != 0
}

/// Opens the regular file `name` in folder `dir` without following a final symlink: `None`
/// when absent; the errno for the caller to explain otherwise (`LOOP`: a symlink).
fn open_at(
    dir: BorrowedFd<'_>,
    name: &str,
) -> Result<Option<(fs::File, rustix::fs::Stat)>, ReadError> {
    let fd = match rustix::fs::openat(dir, name, READ_FLAGS, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(e) => return Err(ReadError::Os(e)),
    };
    let stat = rustix::fs::fstat(&fd).map_err(ReadError::Os)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(ReadError::NotAFile);
    }
    Ok(Some((fs::File::from(fd), stat)))
}

/// Reads the regular file `name` in folder `dir` ([`open_at`]).
fn read_at(dir: BorrowedFd<'_>, name: &str) -> Result<Option<FileData>, ReadError> {
    let Some((file, stat)) = open_at(dir, name)? else {
        return Ok(None);
    };
    let bytes = aiwg_core::read::read_sized(&file, stat.st_size as usize).map_err(ReadError::Io)?;
    Ok(Some(FileData {
        bytes,
        executable: is_executable(stat.st_mode),
    }))
}

/// The digest of the regular file `name` in folder `dir` ([`open_at`]), read to its end in
/// pieces of at most [`DIGEST_BUFFER`] bytes (a file smaller than that in one piece).
fn digest_at(dir: BorrowedFd<'_>, name: &str) -> Result<Option<FileDigest>, ReadError> {
    let Some((file, stat)) = open_at(dir, name)? else {
        return Ok(None);
    };
    // One more byte than fstat said, so a file of that size ends with one read and a
    // second read that returns 0 is only needed when it grew. The thread's buffer is reused
    // (zeroed once as it grows), not allocated and zeroed per file.
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let want = (stat.st_size as usize).saturating_add(1).min(DIGEST_BUFFER);
    BUF.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < want {
                buf.resize(want, 0);
            }
            digest_from(file, &stat, &mut buf[..want])
        }
        // Never re-entered; a buffer of its own if it were.
        Err(_) => digest_from(file, &stat, &mut vec![0; want]),
    })
}

/// [`digest_at`] of the open `file` (`stat` its fstat), read through `buf`.
fn digest_from(
    mut file: fs::File,
    stat: &rustix::fs::Stat,
    buf: &mut [u8],
) -> Result<Option<FileDigest>, ReadError> {
    use std::io::Read as _;
    let mut digest = Digester::new();
    let mut read = 0u64;
    loop {
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        digest.update(&buf[..n]);
        read += n as u64;
        if read == stat.st_size as u64 && n < buf.len() {
            break;
        }
    }
    Ok(Some(digest.finish(is_executable(stat.st_mode))))
}

/// How one plain file is read in its folder ([`read_at`], [`digest_at`]).
type ReadAt<T> = dyn Fn(BorrowedFd<'_>, &str) -> Result<Option<T>, ReadError> + Sync;

enum ReadError {
    Os(Errno),
    Io(std::io::Error),
    NotAFile,
}

/// Writes all of `bytes` to `fd`.
fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Renames the temp file `temp` over `name` in folder `dir` once `filled` (writing it) went
/// well; on any failure the temp name is removed, so no debris is left behind.
fn rename_filled(
    dir: BorrowedFd<'_>,
    temp: &str,
    name: &str,
    filled: Result<(), Errno>,
) -> Result<(), Errno> {
    let result = filled.and_then(|()| rustix::fs::renameat(dir, temp, dir, name));
    if result.is_err() {
        let _ = rustix::fs::unlinkat(dir, temp, AtFlags::empty());
    }
    result
}

/// Writes what `fill` hands out to `fd`: small pieces gathered into writes of
/// [`FILL_BUFFER`], a large one (a whole file given at once) written as it is.
fn write_filled(fd: BorrowedFd<'_>, fill: super::Fill<'_>) -> Result<(), Errno> {
    let mut buf: Vec<u8> = Vec::new();
    let mut failed = None;
    fill(&mut |piece| {
        if failed.is_some() {
            return false;
        }
        let mut flush = |bytes: &[u8]| write_all(fd, bytes).map_err(|e| failed = Some(e));
        if buf.len() + piece.len() > FILL_BUFFER {
            if !buf.is_empty() && flush(&buf).is_err() {
                return false;
            }
            buf.clear();
        }
        if piece.len() >= FILL_BUFFER {
            return flush(piece).is_ok();
        }
        if buf.capacity() == 0 {
            buf.reserve_exact(FILL_BUFFER);
        }
        buf.extend_from_slice(piece);
        true
    });
    if let Some(e) = failed {
        return Err(e);
    }
    write_all(fd, &buf)
}

/// How much of a file handed out in pieces is gathered before one `write`.
const FILL_BUFFER: usize = 64 * 1024;

impl System for RealSystem {
    fn read(&self, path: &RelPath) -> Result<Option<FileData>, SystemError> {
        // The common case: openat (refusing a final symlink), fstat, one read, close.
        self.read_one(path, read_at)
    }

    fn read_many(&self, paths: &[&RelPath]) -> Vec<Result<Option<FileData>, SystemError>> {
        self.read_many_with(paths, &read_at, |p| self.read(p))
    }

    fn read_digest(&self, path: &RelPath) -> Result<Option<FileDigest>, SystemError> {
        self.read_one(path, digest_at)
    }

    fn read_digest_many(&self, paths: &[&RelPath]) -> Vec<Result<Option<FileDigest>, SystemError>> {
        self.read_many_with(paths, &digest_at, |p| self.read_digest(p))
    }

    fn metadata(&self, path: &RelPath) -> Result<Option<(EntryKind, u64)>, SystemError> {
        let Some((folder, _)) = self.locate(path, false)? else {
            return Ok(None);
        };
        match rustix::fs::statat(&*folder.fd, path.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => {
                let kind = match FileType::from_raw_mode(stat.st_mode) {
                    FileType::RegularFile => EntryKind::File,
                    FileType::Directory => EntryKind::Dir,
                    _ => EntryKind::Other,
                };
                Ok(Some((kind, stat.st_size as u64)))
            }
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(io_err("inspect", path.as_str(), e)),
        }
    }

    fn write_atomic(
        &self,
        path: &RelPath,
        bytes: &[u8],
        executable: bool,
    ) -> Result<(), SystemError> {
        self.write_atomic_fill(path, executable, &mut |sink| {
            sink(bytes);
        })
    }

    fn write_atomic_fill(
        &self,
        path: &RelPath,
        executable: bool,
        fill: super::Fill<'_>,
    ) -> Result<(), SystemError> {
        self.changed();
        let (dir, fresh) = self.place(path)?;
        self.writer
            .write_in(
                dir.as_fd(),
                path.file_name(),
                fresh,
                executable,
                Body::Fill(fill),
            )
            .map_err(|e| e.at(path))
    }

    /// Resolves each file's folder (made when missing, and guarded) on this thread, in the
    /// order handed out, and writes the files on up to two threads (a `Pipeline`): the kernel
    /// work of making files in different folders runs in parallel, and a render that hands
    /// the files out goes on while they are written.
    fn write_many(&self, files: Files<'_>) -> Result<(), SystemError> {
        self.changed();
        let threads = aiwg_core::par::cores().min(2);
        let pipeline = Pipeline::default();
        std::thread::scope(|scope| {
            // Ends the worker's wait also when this thread unwinds (a panic in `files`).
            let pipeline = Closing(&pipeline);
            let mut worker = None;
            let mut refused = false;
            let mut index = 0;
            files(&mut |path, bytes, executable| {
                if pipeline.failed() {
                    return false;
                }
                let i = index;
                index += 1;
                let (dir, fresh) = match self.place(path) {
                    Ok(placed) => placed,
                    Err(e) => {
                        pipeline.fail(i, e);
                        return false;
                    }
                };
                // Where the umask is not known up front the first file teaches it on this
                // thread; a large file is written from the caller's bytes rather than copied.
                let unknown = self.writer.umask().is_none();
                if threads < 2 || unknown || bytes.len() > QUEUE_BYTES / 4 {
                    let written = self.writer.write_in(
                        dir.as_fd(),
                        path.file_name(),
                        fresh,
                        executable,
                        Body::Bytes(bytes),
                    );
                    if let Err(e) = written {
                        pipeline.fail(i, e.at(path));
                    }
                    return !pipeline.failed();
                }
                let job = Job {
                    index: i,
                    dir,
                    fresh,
                    path: path.clone(),
                    bytes: bytes.to_vec(),
                    executable,
                };
                let over = pipeline.push(job);
                if worker.is_none() && !refused && pipeline.waiting() >= WORKER_AFTER {
                    let (pipeline, writer) = (pipeline.0, &self.writer);
                    // Refused (a pids limit): this thread writes every file itself.
                    worker = aiwg_core::par::spawn(scope, move || pipeline.work(writer));
                    refused = worker.is_none();
                }
                // Queue full: this thread writes the oldest file itself.
                if let Some(job) = over {
                    pipeline.run(&self.writer, job);
                }
                !pipeline.failed()
            });
            pipeline.close();
            while let Some(job) = pipeline.pop(false) {
                pipeline.run(&self.writer, job);
            }
            if let Some(worker) = worker {
                // A panic is passed on, never taken for a write that went well.
                worker
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
        pipeline.result()
    }

    fn remove_file(&self, path: &RelPath) -> Result<(), SystemError> {
        self.changed();
        let Some((folder, _)) = self.locate(path, false)? else {
            return Ok(());
        };
        match rustix::fs::unlinkat(&*folder.fd, path.file_name(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(Errno::ISDIR) => Err(SystemError::NotAFile {
                path: path.to_string(),
            }),
            Err(e) => Err(io_err("delete", path.as_str(), e)),
        }
    }

    fn create_dir_all(&self, path: &RelPath) -> Result<(), SystemError> {
        self.changed();
        self.folder(Some(path), true).map(|_| ())
    }

    fn create_private_dir(&self, path: &RelPath) -> Result<(), SystemError> {
        self.changed();
        let folder = self
            .folder(Some(path), true)?
            .expect("a folder made on demand exists");
        // Reached through a symlink (a committed `.aiwg/history -> ../docs`), the folder is
        // another of the project's: its mode is not aiwg's to change, and backups written
        // there would be readable by all and seen (not ignored) by git.
        if folder.real != path.as_str() {
            return Err(SystemError::Redirected {
                path: path.to_string(),
                resolved: folder.real.clone(),
            });
        }
        rustix::fs::fchmod(&*folder.fd, Mode::from_raw_mode(0o700))
            .map_err(|e| io_err("make private", path.as_str(), e))
    }

    fn remove_dir_if_empty(&self, path: &RelPath) -> Result<bool, SystemError> {
        self.changed();
        let Some((folder, real)) = self.locate(path, false)? else {
            return Ok(false);
        };
        match rustix::fs::unlinkat(&*folder.fd, path.file_name(), AtFlags::REMOVEDIR) {
            Ok(()) => {
                self.forget_below(&real);
                self.by_spelling
                    .borrow_mut()
                    .retain(|k, _| k != path.as_str() && !k.starts_with(&format!("{path}/")));
                Ok(true)
            }
            // Not empty, not there, or not a folder (a file, a symlink): left alone.
            Err(Errno::NOTEMPTY | Errno::EXIST | Errno::NOENT | Errno::NOTDIR) => Ok(false),
            Err(e) => Err(io_err("delete folder", path.as_str(), e)),
        }
    }

    fn list(&self, path: Option<&RelPath>) -> Result<Vec<String>, SystemError> {
        let Some(folder) = self.folder_to_list(path)? else {
            return Ok(Vec::new());
        };
        list_fd(&folder, &|_| true, &mut Vec::new())
            .map_err(|e| io_err("list", &shown_folder(path), e))
    }

    /// The folders are resolved (and guarded) on this thread, a batch at a time as
    /// [`System::read_many`] does; threads only list the handles. A folder reached by two
    /// spellings (a symlink inside the root) is one handle, listed once.
    fn list_many(
        &self,
        paths: &[Option<&RelPath>],
        keep: &(dyn Fn(&str) -> bool + Sync),
    ) -> Vec<Result<Vec<String>, SystemError>> {
        let threads = aiwg_core::par::cores().min(8);
        let mut out = Vec::with_capacity(paths.len());
        for batch in paths.chunks(MAX_OPEN_FOLDERS) {
            let located: Vec<Result<Option<Arc<Handle>>, SystemError>> =
                batch.iter().map(|p| self.folder_to_list(*p)).collect();
            let mut unique: Vec<&Arc<Handle>> = Vec::new();
            let mut index: HashMap<*const Handle, usize> = HashMap::new();
            let slots: Vec<Option<usize>> = (located.iter())
                .map(|l| match l {
                    Ok(Some(fd)) => Some(*index.entry(Arc::as_ptr(fd)).or_insert_with(|| {
                        unique.push(fd);
                        unique.len() - 1
                    })),
                    _ => None,
                })
                .collect();
            // Part `k` of `n` of the handles, listed into one buffer.
            let list = |k: usize, n: usize| {
                let mut buf = Vec::new();
                (share(&unique, k, n).iter())
                    .map(|fd| list_fd(fd, keep, &mut buf))
                    .collect::<Vec<_>>()
            };
            let n = if unique.len() < 64 { 1 } else { threads };
            // This thread lists the first part instead of waiting.
            let listed: Vec<Result<Vec<String>, Errno>> = aiwg_core::par::parts(n, list)
                .into_iter()
                .flatten()
                .collect();
            for ((path, found), slot) in batch.iter().zip(located).zip(slots) {
                out.push(match (found, slot) {
                    (Err(e), _) => Err(e),
                    (Ok(_), Some(i)) => listed[i]
                        .clone()
                        .map_err(|e| io_err("list", &shown_folder(*path), e)),
                    (Ok(_), None) => Ok(Vec::new()),
                });
            }
        }
        out
    }

    /// The folders `read_many` listed while it read files in them are answered from those
    /// listings (taken once: a second search lists again); the others are listed.
    fn list_temps_many(&self, paths: &[Option<&RelPath>]) -> Vec<Result<Vec<String>, SystemError>> {
        let mut listed = std::mem::take(&mut *self.temps.borrow_mut());
        let mut out: Vec<Option<Result<Vec<String>, SystemError>>> = paths
            .iter()
            .map(|p| listed.remove(p.map_or("", |p| p.as_str())).map(Ok))
            .collect();
        let rest: Vec<Option<&RelPath>> = (paths.iter().zip(&out))
            .filter(|(_, o)| o.is_none())
            .map(|(p, _)| *p)
            .collect();
        let mut rest = self
            .list_many(&rest, &|name| super::temp_writer(name).is_some())
            .into_iter();
        for o in &mut out {
            if o.is_none() {
                *o = rest.next();
            }
        }
        out.into_iter().flatten().collect()
    }

    /// An OS file lock (`flock`). The holder deletes the file before releasing it, so a waiter
    /// may win the lock on a file that is no longer at `path`; it then checks that `path`
    /// still names the file it locked and starts over if not.
    fn try_lock(&self, path: &RelPath, owner: &[u8]) -> Result<bool, SystemError> {
        self.changed();
        let (folder, _) = self
            .locate(path, true)?
            .expect("a folder made on demand exists");
        let name = path.file_name();
        loop {
            let fd = rustix::fs::openat(
                &*folder.fd,
                name,
                OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o666),
            )
            .map_err(|e| io_err("open", path.as_str(), e))?;
            let file = fs::File::from(fd);
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(false),
                Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", path.as_str(), e)),
            }
            let still_here = match (
                rustix::fs::fstat(&file),
                rustix::fs::statat(&*folder.fd, name, AtFlags::SYMLINK_NOFOLLOW),
            ) {
                (Ok(open), Ok(named)) => open.st_dev == named.st_dev && open.st_ino == named.st_ino,
                _ => false,
            };
            if !still_here {
                continue;
            }
            file.set_len(0)
                .map_err(|e| io_err("write", path.as_str(), e))?;
            write_all(file.as_fd(), owner).map_err(|e| io_err("write", path.as_str(), e))?;
            self.locks.borrow_mut().insert(path.to_string(), file);
            return Ok(true);
        }
    }

    /// `syncfs` of the file system holding the root: everything written so far is on disk
    /// when it returns (one call however many files were written). Nothing to do when the
    /// root does not exist.
    fn sync(&self) -> Result<(), SystemError> {
        match self.root_handle(false)? {
            Some(root) => rustix::fs::syncfs(&*root.fd)
                .map_err(|e| io_err("flush", &self.root.display().to_string(), e)),
            None => Ok(()),
        }
    }

    /// `kill(pid, 0)`: only "no such process" means dead (a process of another user is
    /// alive, and so is anything unexpected).
    fn is_running(&self, pid: u32) -> bool {
        if pid == self.writer.pid {
            return true;
        }
        match rustix::process::Pid::from_raw(pid as i32) {
            Some(p) => rustix::process::test_kill_process(p) != Err(Errno::SRCH),
            None => true,
        }
    }

    fn unlock(&self, path: &RelPath) {
        self.changed();
        if let Some(file) = self.locks.borrow_mut().remove(path.as_str()) {
            if let Ok(Some((folder, _))) = self.locate(path, false) {
                let _ = rustix::fs::unlinkat(&*folder.fd, path.file_name(), AtFlags::empty());
            }
            drop(file);
        }
    }
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

    /// Where a handle cannot be named (an unprivileged caller before Linux 6.10), a new file
    /// is written the usual way, and its fill is run once: a fill that hands its pieces out
    /// only once (a history manifest's) still writes them all.
    #[test]
    fn a_fill_runs_once_when_unnamed_files_cannot_be_named() {
        for refuse in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let sys = RealSystem::new(dir.path()).unwrap();
            if refuse {
                sys.writer
                    .refuse
                    .naming
                    .store(Errno::NOENT.raw_os_error(), Ordering::Relaxed);
            }
            for name in ["a/one.md", "a/two.md"] {
                let mut pieces = vec![b"first ".to_vec(), b"second".to_vec()].into_iter();
                let mut runs = 0;
                sys.write_atomic_fill(&rel(name), false, &mut |sink| {
                    runs += 1;
                    for piece in pieces.by_ref() {
                        if !sink(&piece) {
                            return;
                        }
                    }
                })
                .unwrap();
                assert_eq!(runs, 1, "{name} (refused: {refuse})");
                assert_eq!(
                    fs::read(dir.path().join(name)).unwrap(),
                    b"first second",
                    "{name} (refused: {refuse})"
                );
            }
            assert_eq!(sys.list(Some(&rel("a"))).unwrap(), vec!["one.md", "two.md"]);
        }
    }

    /// A private folder is made owner-only; one reached through a symlink (a committed
    /// `.aiwg/history -> ../docs`) is another folder of the project: it keeps its mode, and
    /// the call is refused, so nothing private is written there.
    #[cfg(unix)]
    #[test]
    fn a_private_folder_is_owner_only_and_one_a_symlink_leads_elsewhere_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        sys.create_private_dir(&rel(".aiwg/history")).unwrap();
        assert_eq!(mode(&dir.path().join(".aiwg/history")), 0o700);
        let other = tempfile::tempdir().unwrap();
        fs::create_dir_all(other.path().join("docs")).unwrap();
        fs::set_permissions(other.path().join("docs"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir_all(other.path().join(".aiwg")).unwrap();
        std::os::unix::fs::symlink("../docs", other.path().join(".aiwg/history")).unwrap();
        let sys = RealSystem::new(other.path()).unwrap();
        assert!(matches!(
            sys.create_private_dir(&rel(".aiwg/history")),
            Err(SystemError::Redirected { resolved, .. }) if resolved == "docs"
        ));
        assert_eq!(mode(&other.path().join("docs")), 0o755);
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
        for path in ["out/secret", "out/new.md"] {
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
        // A symlink at the path itself is its own case, never followed: writing replaces the
        // link, not the file it points to.
        assert!(matches!(
            sys.read(&rel("f")),
            Err(SystemError::Symlink { target, .. }) if target.ends_with("secret")
        ));
        sys.write_atomic(&rel("f"), b"x", false).unwrap();
        assert!(!fs::symlink_metadata(root.join("f")).unwrap().is_symlink());
        assert_eq!(fs::read(root.join("f")).unwrap(), b"x");
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("f2")).unwrap();
        assert_eq!(
            fs::read_to_string(outside.path().join("secret")).unwrap(),
            "s"
        );
        assert!(!outside.path().join("new.md").exists());
        // A symlink that stays inside is followed.
        sys.write_atomic(&rel("in/x.md"), b"x", false).unwrap();
        assert_eq!(fs::read(root.join("inside/x.md")).unwrap(), b"x");
        // Removing a symlinked file removes the link, never what it points to.
        sys.remove_file(&rel("f2")).unwrap();
        assert!(fs::symlink_metadata(root.join("f2")).is_err());
        assert!(outside.path().join("secret").exists());
    }

    /// A read thread that panics (a bug) stops the batch: its results are never dropped,
    /// which shifted every later result onto the wrong path (one file's bytes taken for
    /// another's by the plan).
    #[test]
    fn a_read_thread_that_panics_never_shifts_results_onto_other_paths() {
        if aiwg_core::par::cores() < 2 {
            eprintln!("one core: reads are never threaded, nothing to test");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        let paths: Vec<RelPath> = (0..300).map(|i| rel(&format!("d/f{i}.md"))).collect();
        for (i, p) in paths.iter().enumerate() {
            sys.write_atomic(p, format!("{i}").as_bytes(), false)
                .unwrap();
        }
        let refs: Vec<&RelPath> = paths.iter().collect();
        let reader: &ReadAt<FileData> = &|fd: BorrowedFd<'_>, name: &str| {
            if name == "f10.md" {
                panic!("a bug in a read");
            }
            read_at(fd, name)
        };
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sys.read_many_with(&refs, reader, |p| sys.read(p))
        }));
        if let Ok(results) = read {
            assert_eq!(results.len(), paths.len());
            for (p, r) in paths.iter().zip(results) {
                if let Ok(Some(data)) = r {
                    assert_eq!(
                        data.bytes,
                        fs::read(dir.path().join(p.as_str())).unwrap(),
                        "{p}"
                    );
                }
            }
        }
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
        // Paths in folders that do not exist: the last batch has too few files to open for
        // threads and is read on this thread.
        for i in 0..260 {
            paths.push(rel(&format!("gone{}/x{i}.md", i % 3)));
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
            one.last().unwrap().contains("Symlink"),
            "a symlink at the path is never followed"
        );
        // The digest reads answer the same, file by file, as digesting what `read` returns.
        let digested = |r: &Result<Option<FileData>, SystemError>| match r {
            Ok(data) => format!(
                "{:?}",
                data.as_ref()
                    .map(|d| super::FileDigest::of(&d.bytes, d.executable))
            ),
            Err(e) => format!("{e}"),
        };
        let shown = |r: &Result<Option<FileDigest>, SystemError>| match r {
            Ok(d) => format!("{d:?}"),
            Err(e) => format!("{e}"),
        };
        let want: Vec<String> = refs.iter().map(|p| digested(&sys.read(p))).collect();
        let many: Vec<String> = sys.read_digest_many(&refs).iter().map(shown).collect();
        let one: Vec<String> = refs.iter().map(|p| shown(&sys.read_digest(p))).collect();
        assert_eq!(many, want);
        assert_eq!(one, want);
    }

    /// Listing many folders at once (in parallel, each handle read from its start) answers
    /// what listing each alone answers, twice in a row, and the same as the memory System:
    /// absent folders, a file, a symlink inside the root (the same handle as its target), one
    /// leading out, a folder of more names than one read of the buffer holds, more folders
    /// than the handles kept open.
    #[test]
    fn list_many_equals_listing_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        let mut folders: Vec<Option<RelPath>> = vec![None];
        for i in 0..(MAX_OPEN_FOLDERS + 40) {
            let name = format!("d{i:03}");
            for j in 0..(i % 4) {
                sys.write_atomic(&rel(&format!("{name}/f{j}.md")), b"x", false)
                    .unwrap();
            }
            if i % 4 == 0 {
                sys.create_dir_all(&rel(&name)).unwrap();
            }
            sys.write_atomic(&rel(&format!("{name}/.f.md.aiwg-tmp.1.{i}")), b"x", false)
                .unwrap();
            folders.push(Some(rel(&name)));
        }
        // More names than one `getdents64` into the buffer returns.
        let long = "n".repeat(200);
        for j in 0..(2 * LIST_BUFFER / 200) {
            sys.write_atomic(&rel(&format!("big/{long}{j}")), b"", false)
                .unwrap();
        }
        folders.push(Some(rel("big")));
        folders.push(Some(rel("absent")));
        folders.push(Some(rel("d001/f0.md")));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("d002", dir.path().join("same")).unwrap();
            folders.push(Some(rel("same")));
            std::os::unix::fs::symlink("/", dir.path().join("out")).unwrap();
            folders.push(Some(rel("out")));
        }
        let refs: Vec<Option<&RelPath>> = folders.iter().map(Option::as_ref).collect();
        let shown = |r: &Result<Vec<String>, SystemError>| match r {
            Ok(names) => format!("{names:?}"),
            Err(e) => format!("error: {e}"),
        };
        let one: Vec<String> = refs.iter().map(|p| shown(&sys.list(*p))).collect();
        assert!(one[folders.len() - 2].contains("f0.md"), "{one:?}");
        assert!(one.last().unwrap().starts_with("error"), "{one:?}");
        for _ in 0..2 {
            let many: Vec<String> = sys.list_many(&refs, &|_| true).iter().map(shown).collect();
            assert_eq!(many, one);
        }
        let temp = |n: &str| crate::system::temp_writer(n).is_some();
        let kept: Vec<String> = sys.list_many(&refs, &temp).iter().map(shown).collect();
        let want: Vec<String> = refs
            .iter()
            .map(|p| match sys.list(*p) {
                Ok(names) => format!(
                    "{:?}",
                    names.into_iter().filter(|n| temp(n)).collect::<Vec<_>>()
                ),
                Err(e) => format!("error: {e}"),
            })
            .collect();
        assert_eq!(kept, want);
        assert!(kept[5].contains("aiwg-tmp"), "{kept:?}");
        let big = sys.list(Some(&rel("big"))).unwrap();
        assert_eq!(big.len(), 2 * LIST_BUFFER / 200);
    }

    /// The temp names `read_many` lists while it holds the folders open answer the debris
    /// search as listing afresh would: every spelling of a folder read in (the root, one
    /// reached through a symlink inside the root), folders never read in, absent ones, one a
    /// symlink leads out of, a file where a folder is; more folders than one batch holds; and
    /// not after this System changed something; with threads and without.
    #[test]
    fn temps_listed_while_reading_answer_as_a_fresh_listing_would() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut paths: Vec<RelPath> = Vec::new();
        for i in 0..(3 * BATCH_FOLDERS) {
            fs::create_dir_all(root.join(format!("d{i:03}"))).unwrap();
            for j in 0..(i % 3) {
                let p = format!("d{i:03}/f{j}.md");
                fs::write(root.join(&p), b"x").unwrap();
                paths.push(rel(&p));
            }
            if i % 5 == 0 {
                // A dead writer's and this process's (kept by the search, it is running).
                fs::write(root.join(format!("d{i:03}/.f0.md.aiwg-tmp.1.{i}")), b"").unwrap();
                let mine = format!(".f1.md.aiwg-tmp.{}.{i}", std::process::id());
                fs::write(root.join(format!("d{i:03}/{mine}")), b"").unwrap();
            }
        }
        fs::write(root.join(".top.md.aiwg-tmp.1.1"), b"").unwrap();
        fs::write(root.join("top.md"), b"x").unwrap();
        paths.push(rel("top.md"));
        std::os::unix::fs::symlink("d005", root.join("same")).unwrap();
        paths.push(rel("same/f0.md"));
        paths.push(rel("d005/f0.md"));
        std::os::unix::fs::symlink("/", root.join("out")).unwrap();
        paths.push(rel("out/etc/passwd"));
        paths.push(rel("absent/f.md"));
        paths.push(rel("top.md/f.md"));
        let mut folders: Vec<Option<RelPath>> = paths.iter().map(RelPath::parent).collect();
        folders.extend([
            None,
            Some(rel("d000")),
            Some(rel("never")),
            Some(rel("d010")),
        ]);
        fs::create_dir_all(root.join("never")).unwrap();
        fs::write(root.join("never/.x.aiwg-tmp.1.9"), b"").unwrap();
        folders.sort();
        folders.dedup();
        let refs: Vec<Option<&RelPath>> = folders.iter().map(Option::as_ref).collect();
        let shown = |r: Vec<Result<Vec<String>, SystemError>>| -> Vec<String> {
            r.iter()
                .map(|r| match r {
                    Ok(names) => format!("{names:?}"),
                    Err(e) => format!("error: {e}"),
                })
                .collect()
        };
        let temp = |n: &str| crate::system::temp_writer(n).is_some();
        let want = shown(RealSystem::new(root).unwrap().list_many(&refs, &temp));
        assert!(
            want.iter().any(|w| w.contains(".f0.md.aiwg-tmp.1.")),
            "{want:?}"
        );
        let read: Vec<&RelPath> = paths.iter().collect();
        for refuse in [false, true] {
            if refuse {
                aiwg_core::par::REFUSE_THREADS.store(true, Ordering::Relaxed);
            }
            let sys = RealSystem::new(root).unwrap();
            let (digests, files) = (sys.read_digest_many(&read[..40]), sys.read_many(&read));
            aiwg_core::par::REFUSE_THREADS.store(false, Ordering::Relaxed);
            assert_eq!(digests.len() + files.len(), 40 + read.len());
            if aiwg_core::par::cores() >= 2 {
                assert!(
                    sys.temps.borrow().len() > BATCH_FOLDERS,
                    "listed while reading"
                );
            }
            assert_eq!(
                shown(sys.list_temps_many(&refs)),
                want,
                "threads refused: {refuse}"
            );
            assert!(sys.temps.borrow().is_empty(), "taken once");
            assert_eq!(shown(sys.list_temps_many(&refs)), want, "listed again");
            // A change this System makes is never hidden by what it listed before.
            sys.read_many(&read);
            sys.remove_file(&rel("d010/.f0.md.aiwg-tmp.1.10")).unwrap();
            let after = shown(sys.list_temps_many(&refs));
            fs::write(root.join("d010/.f0.md.aiwg-tmp.1.10"), b"").unwrap();
            let d010 = refs.iter().position(|f| *f == Some(&rel("d010"))).unwrap();
            assert!(!after[d010].contains(".f0.md"), "{}", after[d010]);
            assert_eq!(after.iter().filter(|a| !want.contains(a)).count(), 1);
        }
    }

    #[test]
    fn a_digest_read_streams_files_larger_than_its_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        // CRLF lines across every buffer boundary, and a file exactly one buffer long.
        let big = "line\r\n".repeat(DIGEST_BUFFER / 3);
        let exact = "x".repeat(DIGEST_BUFFER);
        for (name, text) in [
            ("big.md", big.as_str()),
            ("exact.md", exact.as_str()),
            ("empty.md", ""),
        ] {
            sys.write_atomic(&rel(name), text.as_bytes(), false)
                .unwrap();
            let got = sys.read_digest(&rel(name)).unwrap().unwrap();
            assert_eq!(got, super::FileDigest::of(text.as_bytes(), false), "{name}");
        }
        let big = sys.read_digest(&rel("big.md")).unwrap().unwrap();
        assert_eq!(big.lf.map(|(_, n)| n), Some((DIGEST_BUFFER / 3 * 5) as u64));
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

    #[cfg(unix)]
    #[test]
    fn symlinked_folders_are_followed_inside_the_root_and_never_into_protected_places() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join(".git/hooks")).unwrap();
        fs::create_dir_all(root.join(".claude/skills/s")).unwrap();
        fs::write(root.join(".claude/skills/s/SKILL.md"), "s").unwrap();
        fs::create_dir_all(root.join(".agents")).unwrap();
        symlink("../.claude/skills", root.join(".agents/skills")).unwrap();
        symlink(root.join(".claude"), root.join("abs")).unwrap();
        symlink("../../.git/hooks", root.join(".claude/skills/x")).unwrap();
        symlink("../.GIT", root.join(".claude/up")).unwrap();
        symlink("../.aiwg", root.join(".claude/state")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        symlink("missing/deeper", root.join("dangling")).unwrap();
        let sys = RealSystem::new(root)
            .unwrap()
            .protect_relative(&rel(".aiwg"), Owner::Aiwg);
        // Inside links: relative and absolute, followed.
        assert_eq!(
            sys.read(&rel(".agents/skills/s/SKILL.md"))
                .unwrap()
                .unwrap()
                .bytes,
            b"s"
        );
        assert!(sys.read(&rel("abs/skills/s/SKILL.md")).unwrap().is_some());
        sys.write_atomic(&rel(".agents/skills/t/SKILL.md"), b"t", false)
            .unwrap();
        assert_eq!(
            fs::read(root.join(".claude/skills/t/SKILL.md")).unwrap(),
            b"t"
        );
        // A dangling inside link leads to folders made inside the root.
        sys.write_atomic(&rel("dangling/f.md"), b"d", false)
            .unwrap();
        assert_eq!(fs::read(root.join("missing/deeper/f.md")).unwrap(), b"d");
        // Into git's directory or aiwg's state: refused for every operation, naming both.
        for path in [
            ".claude/skills/x/pre-commit",
            ".claude/up/config",
            ".claude/state/history/1/manifest.toml",
            ".git/HEAD",
            ".aiwg/x",
        ] {
            let p = rel(path);
            let refused = |r: Result<(), SystemError>| match r {
                Err(e @ SystemError::Protected { .. }) => e.to_string(),
                other => panic!("{path}: {other:?}"),
            };
            let msg = refused(sys.read(&p).map(|_| ()));
            assert!(msg.starts_with(&format!("`{path}`")), "{msg}");
            refused(sys.write_atomic(&p, b"x", true));
            refused(sys.remove_file(&p));
            refused(sys.create_dir_all(&p));
            refused(sys.metadata(&p).map(|_| ()));
        }
        let msg = sys
            .read(&rel(".claude/skills/x/pre-commit"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("resolves to `.git/hooks/pre-commit`, inside git's directory"),
            "{msg}"
        );
        assert_eq!(fs::read_dir(root.join(".git/hooks")).unwrap().count(), 0);
        // A loop ends with an error, never a hang.
        assert!(matches!(
            sys.read(&rel("loop/x")),
            Err(SystemError::Io { .. })
        ));
        // The state System may edit exactly `.git/info/exclude`.
        let state = RealSystem::new(root)
            .unwrap()
            .allow(&rel(".git/info/exclude"));
        state
            .write_atomic(&rel(".git/info/exclude"), b"/.aiwg/history/\n", false)
            .unwrap();
        assert!(matches!(
            state.write_atomic(&rel(".git/info/attributes"), b"x", false),
            Err(SystemError::Protected { .. })
        ));
    }

    /// Every name in the folder `dir`, temp names included.
    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_file_gets_its_name_only_once_whole() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("old")).unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        sys.write_atomic(&rel("d/first.md"), b"one\n", false)
            .unwrap();
        if sys.writer.unnamed.load(Ordering::Relaxed) == REFUSED {
            eprintln!("no unnamed files (O_TMPFILE) on this file system: nothing to test");
            return;
        }
        // In a folder that was there before (looked into) and in one this System made.
        for path in ["old/new.md", "d/new.md"] {
            // A writer that dies half-way through a new file (here: a panic in the middle of
            // filling it) leaves nothing behind: no half file, no temp name.
            let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = sys.write_atomic_fill(&rel(path), false, &mut |sink| {
                    sink(b"half of it");
                    panic!("the writer dies");
                });
            }));
            assert!(died.is_err());
            let folder = dir.path().join(path).parent().unwrap().to_path_buf();
            let expect: &[&str] = if path.starts_with("d/") {
                &["first.md"]
            } else {
                &[]
            };
            assert_eq!(names_in(&folder), expect, "{path}");
        }
        assert_eq!(sys.writer.unnamed.load(Ordering::Relaxed), NAMED);
    }

    #[test]
    fn a_file_that_appears_after_the_lookup_is_replaced_and_the_usual_way_still_works() {
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        // `fresh` was made by this System, which so never looks for files in it: one written
        // there behind its back meets the new file's name (EEXIST) and is replaced.
        sys.write_atomic(&rel("fresh/a.md"), b"A", false).unwrap();
        fs::write(dir.path().join("fresh/b.md"), "someone's").unwrap();
        sys.write_atomic(&rel("fresh/b.md"), b"B", true).unwrap();
        assert_eq!(fs::read(dir.path().join("fresh/b.md")).unwrap(), b"B");
        assert_eq!(names_in(&dir.path().join("fresh")), ["a.md", "b.md"]);
        let exec = fs::metadata(dir.path().join("fresh/b.md")).unwrap();
        assert!(is_executable(std::os::unix::fs::PermissionsExt::mode(
            &exec.permissions()
        )));
        // Where unnamed files are refused, a temp file and a rename, as before.
        let sys = RealSystem::new(dir.path()).unwrap();
        sys.writer.unnamed.store(REFUSED, Ordering::Relaxed);
        sys.write_atomic(&rel("other/c.md"), b"C", false).unwrap();
        sys.write_atomic(&rel("fresh/a.md"), b"A2", false).unwrap();
        assert_eq!(fs::read(dir.path().join("other/c.md")).unwrap(), b"C");
        assert_eq!(fs::read(dir.path().join("fresh/a.md")).unwrap(), b"A2");
        assert_eq!(names_in(&dir.path().join("other")), ["c.md"]);
    }

    /// Writes `files` (path, bytes, executable) through `write_many`.
    fn write_all_of(
        sys: &RealSystem,
        files: &[(RelPath, Vec<u8>, bool)],
    ) -> Result<(), SystemError> {
        sys.write_many(&mut |put| {
            for (path, bytes, executable) in files {
                if !put(path, bytes, *executable) {
                    return;
                }
            }
        })
    }

    /// Every file below `dir`: relative path, bytes (or a symlink's target) and mode.
    fn tree(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
        use std::os::unix::fs::PermissionsExt;
        let mut out = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for entry in fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                let meta = fs::symlink_metadata(&path).unwrap();
                let shown = path.strip_prefix(dir).unwrap().display().to_string();
                if meta.is_dir() {
                    todo.push(path);
                } else if meta.is_symlink() {
                    let target = fs::read_link(&path).unwrap();
                    out.push((shown, target.display().to_string().into_bytes(), 0));
                } else {
                    let mode = meta.permissions().mode() & 0o7777;
                    out.push((shown, fs::read(&path).unwrap(), mode));
                }
            }
        }
        out.sort();
        out
    }

    /// What `write_many` leaves (on two threads here) is what writing the same files one by
    /// one leaves: new files in new and old folders, replaced ones keeping their mode, a
    /// symlink replaced, execute bits, an empty file, one too large for the queue.
    #[cfg(unix)]
    #[test]
    fn write_many_leaves_what_writing_one_by_one_leaves() {
        use std::os::unix::fs::PermissionsExt;
        let mut files = Vec::new();
        for i in 0..600 {
            let bytes = format!("{i}\n").repeat(i % 50).into_bytes();
            files.push((
                rel(&format!("d{}/s{}/f{i}.md", i % 7, i % 40)),
                bytes,
                i % 9 == 0,
            ));
        }
        files.push((rel("old/kept-mode.sh"), b"new".to_vec(), false));
        files.push((rel("old/link.md"), b"not a link".to_vec(), false));
        files.push((rel("old/empty.md"), Vec::new(), false));
        files.push((rel("big/large.bin"), vec![7u8; QUEUE_BYTES], true));
        let setup = |root: &Path| {
            fs::create_dir_all(root.join("old")).unwrap();
            fs::write(root.join("old/kept-mode.sh"), "old").unwrap();
            fs::set_permissions(
                root.join("old/kept-mode.sh"),
                fs::Permissions::from_mode(0o640),
            )
            .unwrap();
            std::os::unix::fs::symlink("elsewhere.md", root.join("old/link.md")).unwrap();
        };
        let one = tempfile::tempdir().unwrap();
        let many = tempfile::tempdir().unwrap();
        setup(one.path());
        setup(many.path());
        let sys = RealSystem::new(one.path()).unwrap();
        for (path, bytes, executable) in &files {
            sys.write_atomic(path, bytes, *executable).unwrap();
        }
        write_all_of(&RealSystem::new(many.path()).unwrap(), &files).unwrap();
        let want = tree(one.path());
        assert_eq!(want.len(), files.len());
        assert_eq!(tree(many.path()), want);
        // Written again over themselves (every file replaced): the same again.
        write_all_of(&RealSystem::new(many.path()).unwrap(), &files).unwrap();
        assert_eq!(tree(many.path()), want);
        // No thread to be had (a pids limit): the same tree, written by the calling thread,
        // and read and listed back by it, never a panic.
        let alone = tempfile::tempdir().unwrap();
        setup(alone.path());
        aiwg_core::par::REFUSE_THREADS.store(true, std::sync::atomic::Ordering::Relaxed);
        let sys = RealSystem::new(alone.path()).unwrap();
        let written = write_all_of(&sys, &files);
        let paths: Vec<&RelPath> = files.iter().map(|(p, _, _)| p).collect();
        let read = sys.read_many(&paths);
        let folders: Vec<RelPath> = (0..7).map(|d| rel(&format!("d{d}"))).collect();
        let folders: Vec<Option<&RelPath>> = folders.iter().map(Some).collect();
        let listed = sys.list_many(&folders, &|_| true);
        aiwg_core::par::REFUSE_THREADS.store(false, std::sync::atomic::Ordering::Relaxed);
        written.unwrap();
        assert_eq!(tree(alone.path()), want);
        for ((path, bytes, _), got) in files.iter().zip(read) {
            assert_eq!(got.unwrap().unwrap().bytes, *bytes, "{path}");
        }
        assert!(listed
            .iter()
            .all(|l| l.as_ref().is_ok_and(|l| l.len() == 40)));
    }

    /// A replaced file's mode never teaches the umask: replacing a 0o644 file first and a
    /// 0o664 one after kept the second at 0o644 (with umask 022, the first taught "takes
    /// nothing", so the second got no fchmod).
    #[cfg(unix)]
    #[test]
    fn a_replaced_files_mode_is_kept_whatever_was_replaced_before_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let probe = dir.path().join("probe");
        fs::write(&probe, "").unwrap();
        let umask = 0o666 & !(fs::metadata(&probe).unwrap().permissions().mode() & 0o777);
        if umask & 0o020 == 0 {
            eprintln!("skipped: the umask ({umask:o}) leaves group write alone");
            return;
        }
        let mode = |p: &str| {
            fs::metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        // Read from `/proc/self/status`, and learnt where that has no `Umask:` line.
        for without_status in [false, true] {
            for (name, m) in [("first.md", 0o644), ("second.md", 0o664)] {
                fs::write(dir.path().join(name), "old").unwrap();
                fs::set_permissions(dir.path().join(name), fs::Permissions::from_mode(m)).unwrap();
            }
            let _ = fs::remove_file(dir.path().join("fresh.md"));
            let sys = RealSystem::new(dir.path()).unwrap();
            (sys.writer.refuse.status).store(without_status, Ordering::Relaxed);
            sys.write_atomic(&rel("first.md"), b"new", false).unwrap();
            sys.write_atomic(&rel("second.md"), b"new", false).unwrap();
            sys.write_atomic(&rel("fresh.md"), b"new", false).unwrap();
            assert_eq!(mode("first.md"), 0o644, "without status: {without_status}");
            assert_eq!(mode("second.md"), 0o664, "without status: {without_status}");
            assert_eq!(mode("fresh.md"), 0o666 & !umask);
        }
    }

    /// The umask read up front is the one the kernel applies: a file created with 0o666
    /// shows what it takes.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_umask_read_up_front_is_what_a_new_file_shows() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let probe = dir.path().join("probe");
        fs::write(&probe, "").unwrap();
        let takes = 0o666 & !(fs::metadata(&probe).unwrap().permissions().mode() & 0o777);
        match process_umask() {
            Some(read) => assert_eq!(read, takes),
            None => eprintln!("no `Umask:` line in /proc/self/status: learnt instead"),
        }
        // A new file written first (no file to learn from before it) gets the same mode
        // through `write_many`, on both threads.
        let sys = RealSystem::new(dir.path()).unwrap();
        let names: Vec<RelPath> = (0..40).map(|i| rel(&format!("d/f{i}.md"))).collect();
        sys.write_many(&mut |put| {
            for name in &names {
                if !put(name, b"x", false) {
                    return;
                }
            }
        })
        .unwrap();
        for name in &names {
            let mode = fs::metadata(dir.path().join(name.as_str()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o666 & !takes, "{name}");
        }
    }

    /// The error `write_many` reports is the first in the order the files were handed out,
    /// with its path, however the threads went; every file before it is written, and a path
    /// the guard refuses or a folder reached through a symlink that leads out is refused as
    /// one by one.
    #[cfg(unix)]
    #[test]
    fn write_many_reports_the_first_failure_in_order() {
        let outside = tempfile::tempdir().unwrap();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            fs::create_dir_all(root.join("d/taken.md")).unwrap();
            fs::create_dir_all(root.join(".git")).unwrap();
            std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
            let mut files: Vec<(RelPath, Vec<u8>, bool)> = (0..300)
                .map(|i| (rel(&format!("a{}/f{i}.md", i % 5)), vec![b'x'; i], false))
                .collect();
            files.insert(150, (rel("d/taken.md"), b"x".to_vec(), false));
            files.insert(200, (rel("out/new.md"), b"x".to_vec(), false));
            files.insert(250, (rel(".git/hooks/pre-commit"), b"x".to_vec(), true));
            let sys = RealSystem::new(root).unwrap();
            let err = write_all_of(&sys, &files).unwrap_err();
            assert!(
                matches!(&err, SystemError::NotAFile { path } if path == "d/taken.md"),
                "{err}"
            );
            for (path, bytes, _) in &files[..150] {
                assert_eq!(
                    &fs::read(root.join(path.as_str())).unwrap(),
                    bytes,
                    "{path}"
                );
            }
            for refused in [&files[200..201], &files[250..251]] {
                let err = write_all_of(&sys, refused).unwrap_err();
                let one = sys.write_atomic(&refused[0].0, b"x", false).unwrap_err();
                assert_eq!(err.to_string(), one.to_string());
            }
            assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
            assert!(!root.join(".git/hooks").exists());
        }
    }

    /// A producer that panics half-way ends `write_many` with its panic (the write thread is
    /// never left waiting), and the folder handles the queue holds stay bounded however many
    /// folders are written into.
    #[cfg(target_os = "linux")]
    #[test]
    fn write_many_never_hangs_and_holds_few_handles() {
        let open_fds = || fs::read_dir("/proc/self/fd").unwrap().count();
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        let before = open_fds();
        let mut most = 0;
        sys.write_many(&mut |put| {
            for i in 0..6 * MAX_OPEN_FOLDERS {
                put(&rel(&format!("a{}/b{i}/f.md", i % 3)), b"x", false);
                most = most.max(open_fds());
            }
        })
        .unwrap();
        // At most the caches' handles and the queue's; other tests run beside this one, and
        // the bound leaves them room (a handle per folder would be 1,536).
        let held = most.saturating_sub(before);
        assert!(
            MAX_OPEN_FOLDERS + QUEUE_FILES < 3 * MAX_OPEN_FOLDERS && held <= 3 * MAX_OPEN_FOLDERS,
            "{held} handles held"
        );
        let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sys.write_many(&mut |put| {
                for i in 0..100 {
                    put(&rel(&format!("p/f{i}.md")), b"x", false);
                }
                panic!("the render dies");
            })
        }));
        assert!(died.is_err());
    }

    /// Where `O_TMPFILE` or naming a handle is refused by a sandbox's filter (`ENOSYS`,
    /// `EPERM`) or by the file system (`EOPNOTSUPP`), new files are written through a temp
    /// name and a rename, their fill run once; and when naming is refused only after it
    /// worked (another file system below the root), the bytes already written are copied.
    #[cfg(target_os = "linux")]
    #[test]
    fn refused_unnamed_files_fall_back_to_a_temp_name() {
        use std::os::unix::fs::PermissionsExt;
        let once = |sys: &RealSystem, path: &str, executable: bool| {
            let mut pieces = vec![b"first ".to_vec(), b"second".to_vec()].into_iter();
            let mut runs = 0;
            sys.write_atomic_fill(&rel(path), executable, &mut |sink| {
                runs += 1;
                for piece in pieces.by_ref() {
                    if !sink(&piece) {
                        return;
                    }
                }
            })
            .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(runs, 1, "{path}");
        };
        let refusals = [Errno::NOSYS, Errno::OPNOTSUPP, Errno::PERM];
        for (cell, e) in [0, 1]
            .into_iter()
            .flat_map(|c| refusals.iter().map(move |e| (c, *e)))
        {
            let dir = tempfile::tempdir().unwrap();
            let sys = RealSystem::new(dir.path()).unwrap();
            let refuse = if cell == 0 {
                &sys.writer.refuse.unnamed
            } else {
                &sys.writer.refuse.naming
            };
            refuse.store(e.raw_os_error(), Ordering::Relaxed);
            once(&sys, "a/one.md", false);
            once(&sys, "a/two.md", false);
            sys.write_atomic(&rel("a/three.md"), b"3", false).unwrap();
            assert_eq!(
                names_in(&dir.path().join("a")),
                ["one.md", "three.md", "two.md"]
            );
            assert_eq!(
                fs::read(dir.path().join("a/two.md")).unwrap(),
                b"first second"
            );
            assert_eq!(sys.writer.unnamed.load(Ordering::Relaxed), REFUSED, "{e:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        sys.write_atomic(&rel("a/first.md"), b"1", false).unwrap();
        if sys.writer.unnamed.load(Ordering::Relaxed) != NAMED {
            eprintln!("no unnamed files here: the refusal after the first cannot be tested");
            return;
        }
        sys.writer
            .refuse
            .naming
            .store(Errno::OPNOTSUPP.raw_os_error(), Ordering::Relaxed);
        once(&sys, "a/late.sh", true);
        assert_eq!(
            fs::read(dir.path().join("a/late.sh")).unwrap(),
            b"first second"
        );
        let mode = fs::metadata(dir.path().join("a/late.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert!(is_executable(mode), "{mode:o}");
        assert_eq!(names_in(&dir.path().join("a")), ["first.md", "late.sh"]);
    }

    /// A file whose name is near the longest the kernel takes is replaced like any other:
    /// its temp name is cut to fit, at a character boundary, and still carries its writer.
    #[test]
    fn a_file_with_a_name_near_the_longest_is_replaced() {
        use crate::system::{temp_writer, NAME_MAX};
        let ascii = "a".repeat(NAME_MAX - 3) + ".md";
        let wide = "é".repeat((NAME_MAX - 3) / 2) + ".md";
        for name in [ascii.as_str(), wide.as_str()] {
            let temp = temp_name(name, u32::MAX, u64::MAX);
            assert!(temp.len() <= NAME_MAX, "{}", temp.len());
            assert_eq!(temp_writer(&temp), Some(u32::MAX));
            let dir = tempfile::tempdir().unwrap();
            let sys = RealSystem::new(dir.path()).unwrap();
            let path = rel(&format!("d/{name}"));
            sys.write_atomic(&path, b"one", false).unwrap();
            sys.write_atomic(&path, b"two", true).unwrap();
            write_all_of(&sys, &[(path.clone(), b"three".to_vec(), false)]).unwrap();
            // A new one where unnamed files are refused goes through a temp name too.
            sys.writer.unnamed.store(REFUSED, Ordering::Relaxed);
            let other = rel(&format!("e/{name}"));
            sys.write_atomic(&other, b"four", false).unwrap();
            assert_eq!(fs::read(dir.path().join(path.as_str())).unwrap(), b"three");
            assert_eq!(fs::read(dir.path().join(other.as_str())).unwrap(), b"four");
            assert_eq!(names_in(&dir.path().join("d")), [name]);
            assert_eq!(names_in(&dir.path().join("e")), [name]);
        }
    }

    /// A dead run that had this process's pid (a container's aiwg is often the same pid on
    /// every run) left its temp files: none of them holds the name this run writes through,
    /// so the write neither fails nor touches them (review19: the name was the pid and a
    /// counter from 0, the same on every run).
    #[test]
    fn a_dead_runs_temp_files_under_this_pid_never_take_this_runs_temp_name() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f.md"), "old").unwrap();
        // Every number a run's counter takes before its 10,000th temp file.
        let debris: Vec<String> = (0..10_000)
            .map(|n| temp_name("f.md", std::process::id(), n))
            .collect();
        for name in &debris {
            fs::write(dir.path().join(name), "debris").unwrap();
        }
        let sys = RealSystem::new(dir.path()).unwrap();
        sys.write_atomic(&rel("f.md"), b"new", false).unwrap();
        assert_eq!(fs::read(dir.path().join("f.md")).unwrap(), b"new");
        assert_eq!(names_in(dir.path()).len(), debris.len() + 1);
    }

    #[test]
    fn temp_names_carry_their_writer() {
        use crate::system::temp_writer;
        let name = temp_name("SKILL.md", 4242, 7);
        assert_eq!(name, ".SKILL.md.aiwg-tmp.4242.7");
        assert_eq!(temp_writer(&name), Some(4242));
        for other in [
            "SKILL.md",
            ".x.aiwg-tmp.",
            ".x.aiwg-tmp.12",
            ".x.aiwg-tmp.a.1",
            ".aiwg-tmp.1.2",
        ] {
            assert_eq!(temp_writer(other), None, "{other}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn open_folder_handles_stay_bounded_however_many_folders() {
        let open_fds = || fs::read_dir("/proc/self/fd").unwrap().count();
        let dir = tempfile::tempdir().unwrap();
        let sys = RealSystem::new(dir.path()).unwrap();
        let before = open_fds();
        let paths: Vec<RelPath> = (0..3 * MAX_OPEN_FOLDERS)
            .map(|i| rel(&format!("a{}/b{i}/f.md", i % 3)))
            .collect();
        for (i, p) in paths.iter().enumerate() {
            sys.write_atomic(p, format!("{i}").as_bytes(), false)
                .unwrap();
        }
        let refs: Vec<&RelPath> = paths.iter().collect();
        for (i, read) in sys.read_many(&refs).into_iter().enumerate() {
            assert_eq!(read.unwrap().unwrap().bytes, format!("{i}").as_bytes());
        }
        // Other tests run beside this one; the bound leaves them room.
        let held = open_fds().saturating_sub(before);
        assert!(held <= MAX_OPEN_FOLDERS + 100, "{held} handles held");
    }
}
