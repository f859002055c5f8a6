//! The stat cache of `aiwg check`: after a check (or an apply) that found the project clean by
//! reading everything, the stat of every file and folder that answer depended on is recorded;
//! the next check that finds every one of them unchanged answers "clean" without reading a
//! file, the way git trusts its index.
//!
//! **Invariant: the cache can only make `check` faster, never change its answer.** A hit
//! needs the same key (the running binary, the bytes of `aiwg.toml`, the resolved platforms
//! and scope, the scope roots) and the same stat — type, device, inode, mode, size, mtime and
//! ctime, taken with `symlink_metadata` — for: the lock file, `aiwg.toml`, every folder and
//! file of every folder source, and every path the check planned (every target path and
//! every path of the lock) with each folder on the way to it. Anything else — no cache, an
//! unreadable, corrupt or newer-format one, a symlink, a stat that differs, an entry
//! recorded as racy — runs the full check, which rewrites the cache when it is clean.
//!
//! Why a matching stat means unchanged content: the kernel sets a file's ctime to the current
//! time on every change to its bytes or metadata (including `touch -d`, which restores mtime
//! but not ctime), and no user call can set ctime. A folder's mtime and ctime change when an
//! entry is added, removed or renamed in it. So if every recorded stat is older than the run
//! that verified it (the racy rule below) and still matches, nothing changed since. Limits,
//! as for git: a clock set back past the recorded times, a file system that does not keep
//! ctime (some network and FUSE file systems), or writes to the raw device can fool it;
//! `AIWG_NO_CHECK_CACHE=1` turns the cache off. Unix only (other systems need no cache to be
//! correct: they always run the full check).
//!
//! Why the recorded stats describe what the verifying run read: they are taken after it, and
//! an entry changed at any time after the run started carries a time at or after that start,
//! give or take the file-system clock's coarseness (the racy rule, [`RACY_WINDOW`]). What the
//! run read is also compared with what is recorded — the files of
//! each folder source (paths and sizes), which target paths existed and their sizes, whether
//! there was a lock, the parsed `aiwg.toml` — so a deletion, which leaves no time on the
//! deleted file, is caught too.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aiwg_core::config::{Config, CONFIG_FILE};
use aiwg_core::source::SOURCE_FOLDERS;
use aiwg_core::target::Scope;
use aiwg_deploy::{Lock, Plan};
use aiwg_platforms::PlatformSpec;

use crate::pipeline::{Deployment, ReadFolder};
use crate::project::Project;

/// The first line of a cache file, before its format version.
const MAGIC: &str = "aiwg-check-cache";
/// The format this aiwg reads and writes; any other is a miss (and is rewritten).
const VERSION: u32 = 1;
/// The racy rule (git's "racily clean" entries): an entry whose mtime or ctime is at or after
/// the start of the run that verified it, minus this window, is recorded as racy and a cache
/// holding one is never used.
///
/// Why: the verifying run reads a file at some moment and its stat is taken later. A change in
/// between (or in the same instant as the read) is invisible to the answer but would be
/// recorded as if verified. Every such change stamps the file (or, for an entry added or
/// removed, its folder) with a time at or after the run started — in theory. In practice Linux
/// takes file timestamps from a coarse clock (`current_time()`: the time of the last timer
/// tick, up to a jiffy, 1–10 ms, behind the wall clock the run's start is read from), and some
/// file systems round further (1 s on ext3 and HFS+, 2 s for FAT's mtime). So a change made
/// just after the start can carry a time just before it. Two seconds covers every one of these;
/// a file untouched for that long before a check is trusted, and only files edited in the last
/// two seconds cost a full check.
const RACY_WINDOW: Duration = Duration::from_secs(2);

/// True unless `AIWG_NO_CHECK_CACHE` is set (to anything but `0` or nothing).
pub fn enabled() -> bool {
    !env_flag("AIWG_NO_CHECK_CACHE")
}

fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Prints `check: <message>` on stderr when `AIWG_CHECK_CACHE_TRACE` is set (for tests and
/// for finding out why a check was slow).
pub fn trace(message: impl std::fmt::Display) {
    if env_flag("AIWG_CHECK_CACHE_TRACE") {
        eprintln!("check: {message}");
    }
}

/// A run that may read or write the cache: when it started, and which binary it is.
pub struct Session {
    started: SystemTime,
    binary: Result<String, String>,
}

impl Session {
    /// Call before anything is read: files changed from this moment on are racy.
    pub fn start() -> Session {
        Session {
            started: SystemTime::now(),
            binary: binary_identity(),
        }
    }
}

/// What a command resolved: the project, its deployment, the platforms.
pub struct Inputs<'a> {
    pub project: &'a Project,
    pub deployment: &'a Deployment,
    pub platforms: &'a [&'static PlatformSpec],
}

/// Answers "clean" from the cache, or says why it cannot (`Err(reason)`): the caller then
/// runs the full check. Never fails otherwise.
pub fn lookup(session: &Session, inputs: &Inputs<'_>) -> Result<(), String> {
    let key = key_lines(session, inputs)?;
    let path = cache_path(inputs.deployment);
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| "cache is not UTF-8".to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("no cache".into()),
        Err(e) => return Err(format!("cannot read the cache: {e}")),
    };
    let mut lines = text.lines();
    if lines.next() != Some(header().as_str()) {
        return Err("cache has another format".into());
    }
    for want in key.lines() {
        let got = lines.next().unwrap_or_default();
        if got != want {
            let field = want.split('\t').next().unwrap_or_default();
            return Err(format!("{field} differs"));
        }
    }
    let count = match lines.next().and_then(|l| l.strip_prefix("entries\t")) {
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| "corrupt cache".to_string())?,
        None => return Err("corrupt cache".into()),
    };
    let mut entries = Vec::with_capacity(count);
    for line in lines {
        let entry = Entry::parse(line).ok_or_else(|| "corrupt cache".to_string())?;
        if entry.racy {
            return Err(format!("racy entry `{}`", entry.path.display()));
        }
        entries.push(entry);
    }
    if entries.len() != count {
        return Err("corrupt cache (truncated)".into());
    }
    let results = aiwg_core::par::par_map(entries, 512, |entry| {
        let now = observe(&entry.path, entry.kind);
        (now.as_ref().ok() == Some(&entry.stat))
            .then_some(())
            .ok_or(entry.path)
    });
    match results.into_iter().find_map(Result::err) {
        Some(path) => Err(format!("`{}` changed", path.display())),
        None => Ok(()),
    }
}

/// Records the cache after a run that found the project clean by reading it: `plan` is the
/// clean plan, `lock` the lock it was made with, `folders` what was read of each folder
/// source. Returns the cache text, or why none can be written.
pub fn record(
    session: &Session,
    inputs: &Inputs<'_>,
    plan: &Plan,
    lock: &Lock,
    folders: &[ReadFolder],
) -> Result<String, String> {
    let key = key_lines(session, inputs)?;
    let d = inputs.deployment;
    let mut wanted = Wanted::default();
    // The roots: only which folder they are; what is in them is recorded below.
    wanted.push(Kind::Root, d.target_root().to_path_buf(), Expect::Any);
    wanted.push(Kind::Root, d.state_root().to_path_buf(), Expect::Any);
    // Only where aiwg keeps state already: a check of a project never deployed writes nothing.
    let lock_path = d.engine().layout.lock.to_path(d.state_root());
    if !lock_path.is_file() {
        return Err("nothing deployed yet (no lock)".into());
    }
    let lock_expect = if lock.is_empty() {
        Expect::Any
    } else {
        Expect::Present
    };
    wanted.push(Kind::File, lock_path, lock_expect);
    let config_expect = match inputs.project.config {
        Some(_) => Expect::Present,
        None => Expect::Absent,
    };
    wanted.push(
        Kind::File,
        inputs.project.root.join(CONFIG_FILE),
        config_expect,
    );
    if let Some(config) = &inputs.project.config {
        // A folder that starts to match a glob is a new package no recorded stat would show.
        if config.packages.iter().any(|p| p.is_glob()) {
            return Err("packages named by a glob".into());
        }
        // A package that gets its own `aiwg.toml` is refused by the next full check.
        for p in &config.packages {
            let path = inputs.project.root.join(p.as_str()).join(CONFIG_FILE);
            wanted.push(Kind::File, path, Expect::Absent);
        }
    }
    let mut read_files = Vec::new();
    for folder in folders {
        wanted.push(Kind::Root, folder.root.clone(), Expect::Present);
        for top in SOURCE_FOLDERS {
            walk(&folder.root, top, &mut wanted)?;
        }
        for (rel, size) in &folder.files {
            read_files.push((rel.to_path(&folder.root), *size));
        }
    }
    let mut passages = BTreeSet::new();
    for item in &plan.items {
        let mut parent = item.path.parent();
        while let Some(p) = parent {
            parent = p.parent();
            passages.insert(p);
        }
        let expect = match (&item.old_digest, &item.old) {
            (Some(digest), _) => Expect::Size(digest.size),
            (None, Some(data)) => Expect::Size(data.bytes.len() as u64),
            (None, None) => Expect::Absent,
        };
        wanted.push(Kind::File, item.path.to_path(d.target_root()), expect);
    }
    for p in passages {
        wanted.push(Kind::Passage, p.to_path(d.target_root()), Expect::Any);
    }

    let observed = aiwg_core::par::par_map(wanted.items, 512, |(kind, path, expect)| {
        let stat = observe(&path, kind);
        (kind, path, expect, stat)
    });
    let threshold = nanos(session.started) - racy_window().as_nanos() as i64;
    let mut out = String::with_capacity(128 * observed.len() + key.len() + 64);
    let _ = writeln!(out, "{}", header());
    out.push_str(&key);
    let _ = writeln!(out, "entries\t{}", observed.len());
    let mut racy = None;
    for (kind, path, expect, stat) in &observed {
        let stat = stat
            .as_ref()
            .map_err(|why| format!("`{}`: {why}", path.display()))?;
        let consistent = match (expect, stat.kind) {
            (Expect::Any, _) => true,
            (Expect::Absent, k) => k == ABSENT,
            (Expect::Present, k) => k != ABSENT,
            (Expect::Size(n), k) => k == FILE && stat.size == *n,
            (Expect::Walked, k) => k == FILE,
        };
        if !consistent {
            return Err(format!("`{}` changed while checking", path.display()));
        }
        let timed = matches!(kind, Kind::File | Kind::Dir) && stat.kind != ABSENT;
        let is_racy = timed && (stat.mtime >= threshold || stat.ctime >= threshold);
        if is_racy && racy.is_none() {
            racy = Some(path.clone());
        }
        let shown = path
            .to_str()
            .filter(|p| !p.contains(['\t', '\n', '\r']))
            .ok_or_else(|| format!("`{}`: path cannot be recorded", path.display()))?;
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{shown}",
            kind.letter(),
            if is_racy { 'r' } else { '.' },
            stat.kind as char,
            stat.dev,
            stat.ino,
            stat.mode,
            stat.size,
            stat.mtime,
            stat.ctime,
        );
    }
    // The walk found exactly the files the run read, with the same sizes.
    let walked: BTreeMap<&Path, u64> = observed
        .iter()
        .filter(|(_, _, expect, _)| *expect == Expect::Walked)
        .map(|(_, path, _, stat)| (path.as_path(), stat.as_ref().map_or(0, |s| s.size)))
        .collect();
    let read: BTreeMap<&Path, u64> = read_files.iter().map(|(p, n)| (p.as_path(), *n)).collect();
    if walked != read {
        return Err("the sources changed while checking".into());
    }
    if let Some(path) = racy {
        trace(format!(
            "cache entries are racy (`{}` changed within {} ms of the check); the next check reads everything",
            path.display(),
            racy_window().as_millis()
        ));
    }
    Ok(out)
}

/// The cache file of `d`.
fn cache_path(d: &Deployment) -> PathBuf {
    d.engine().layout.check_cache.to_path(d.state_root())
}

fn header() -> String {
    format!("{MAGIC}\t{VERSION}")
}

/// The racy window: [`RACY_WINDOW`], or `AIWG_CHECK_RACY_MS` (for tests, which cannot wait
/// seconds between commands).
fn racy_window() -> Duration {
    std::env::var("AIWG_CHECK_RACY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(RACY_WINDOW, Duration::from_millis)
}

/// The key: every input of check's answer that is not a file stat, one `name\tvalue` line
/// each. The same function makes it for the writer and the reader, so they cannot disagree on
/// what it covers.
fn key_lines(session: &Session, inputs: &Inputs<'_>) -> Result<String, String> {
    let binary = session.binary.clone()?;
    let config = config_identity(inputs.project)?;
    let d = inputs.deployment;
    let scope = match d.scope {
        Scope::Project => "project",
        Scope::User => "user",
    };
    let platforms: Vec<&str> = inputs.platforms.iter().map(|p| p.id.as_str()).collect();
    let shown = |p: Option<&Path>| -> Result<String, String> {
        match p {
            None => Ok("-".into()),
            Some(p) => p
                .to_str()
                .filter(|s| !s.contains(['\t', '\n', '\r']))
                .map(str::to_string)
                .ok_or_else(|| format!("`{}`: path cannot be recorded", p.display())),
        }
    };
    let home = dirs::home_dir();
    let aiwg_home = std::env::var_os("AIWG_HOME").map(PathBuf::from);
    let mut key = String::new();
    let _ = writeln!(key, "binary\t{binary}");
    let _ = writeln!(key, "config\t{config}");
    let _ = writeln!(key, "scope\t{scope}");
    let _ = writeln!(key, "platforms\t{}", platforms.join(","));
    let _ = writeln!(key, "project\t{}", shown(Some(&inputs.project.root))?);
    let _ = writeln!(key, "home\t{}", shown(home.as_deref())?);
    let _ = writeln!(key, "aiwg-home\t{}", shown(aiwg_home.as_deref())?);
    let _ = writeln!(key, "target\t{}", shown(Some(d.target_root()))?);
    let _ = writeln!(key, "state\t{}", shown(Some(d.state_root()))?);
    // Client home variables move where user-scope files go (`[home]` in platforms/*.toml).
    for p in inputs.platforms {
        if let Some(h) = &p.home {
            let value = std::env::var_os(&h.var).map(PathBuf::from);
            let _ = writeln!(key, "env {}\t{}", h.var, shown(value.as_deref())?);
        }
    }
    Ok(key)
}

/// The SHA-256 of `aiwg.toml` (or `absent`), after checking that its bytes now still parse
/// into the configuration the run used.
fn config_identity(project: &Project) -> Result<String, String> {
    let path = project.root.join(CONFIG_FILE);
    match (std::fs::read(&path), &project.config) {
        (Ok(bytes), Some(used)) => {
            let text = String::from_utf8_lossy(&bytes);
            match Config::parse(&path, &text) {
                Ok(now) if now == *used => Ok(aiwg_deploy::hash::sha256_hex(&bytes)),
                _ => Err("`aiwg.toml` changed while checking".into()),
            }
        }
        (Err(e), None) if e.kind() == std::io::ErrorKind::NotFound => Ok("absent".into()),
        _ => Err("`aiwg.toml` changed while checking".into()),
    }
}

/// The running binary: its version and the stat of its file. The bundled frameworks and the
/// platform data are compiled in, so a rebuilt binary must not trust an older answer. On
/// Linux `/proc/self/exe` is the image actually running even if its file has been replaced
/// since; elsewhere `current_exe()`.
fn binary_identity() -> Result<String, String> {
    let exe = if cfg!(target_os = "linux") {
        PathBuf::from("/proc/self/exe")
    } else {
        std::env::current_exe().map_err(|e| format!("cannot find the binary: {e}"))?
    };
    let meta = std::fs::metadata(&exe).map_err(|e| format!("cannot stat the binary: {e}"))?;
    let s = stat_of(&meta).ok_or("no stat cache on this system")?;
    Ok(format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        env!("CARGO_PKG_VERSION"),
        s.dev,
        s.ino,
        s.size,
        s.mtime,
        s.ctime
    ))
}

/// Adds `root/top` and, when it is a folder, everything below it as the source reader sees
/// it: folders and plain files. A symlink or a special file ends the recording (the reader
/// follows symlinks that stay inside the source; the cache does not try to).
fn walk(root: &Path, top: &str, wanted: &mut Wanted) -> Result<(), String> {
    let path = root.join(top);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            wanted.push(Kind::File, path, Expect::Absent);
            Ok(())
        }
        Err(e) => Err(format!("`{}`: {e}", path.display())),
        Ok(meta) if meta.is_file() => {
            wanted.push(Kind::File, path, Expect::Walked);
            Ok(())
        }
        Ok(meta) if meta.is_dir() => walk_dir(path, wanted),
        Ok(_) => Err(format!("`{}` is a symlink or special file", path.display())),
    }
}

fn walk_dir(dir: PathBuf, wanted: &mut Wanted) -> Result<(), String> {
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("`{}`: {e}", dir.display()))?;
    let mut subdirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("`{}`: {e}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(format!(
                "`{}` holds a name that is not UTF-8",
                dir.display()
            ));
        };
        // Never read by the source walk; adding or removing one changes the folder's times.
        if aiwg_core::source::is_skipped_name(name) {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| format!("`{}`: {e}", entry.path().display()))?;
        if kind.is_dir() {
            subdirs.push(entry.path());
        } else if kind.is_file() {
            wanted.push(Kind::File, entry.path(), Expect::Walked);
        } else {
            return Err(format!(
                "`{}` is a symlink or special file",
                entry.path().display()
            ));
        }
    }
    wanted.push(Kind::Dir, dir, Expect::Any);
    for sub in subdirs {
        walk_dir(sub, wanted)?;
    }
    Ok(())
}

/// The paths to record, in order.
#[derive(Default)]
struct Wanted {
    items: Vec<(Kind, PathBuf, Expect)>,
}

impl Wanted {
    fn push(&mut self, kind: Kind, path: PathBuf, expect: Expect) {
        self.items.push((kind, path, expect));
    }
}

/// What the run read at a path, to compare with what is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Anything (the record itself is what counts).
    Any,
    /// Nothing there.
    Absent,
    /// Something there.
    Present,
    /// A plain file of this size.
    Size(u64),
    /// A plain file the walk of a source found: the run must have read it.
    Walked,
}

/// How an entry is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A file (or its absence): every field.
    File,
    /// A folder whose entries the run listed: every field (its times change with its entries).
    Dir,
    /// A folder on the way to a target: which folder it is, and its mode. Its other entries
    /// do not matter, so its times are not compared.
    Passage,
    /// A root folder, symlinks followed: which folder it is.
    Root,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::File => 'f',
            Kind::Dir => 'd',
            Kind::Passage => 'p',
            Kind::Root => 'r',
        }
    }

    fn from_letter(c: &str) -> Option<Kind> {
        Some(match c {
            "f" => Kind::File,
            "d" => Kind::Dir,
            "p" => Kind::Passage,
            "r" => Kind::Root,
            _ => return None,
        })
    }
}

/// File types in a [`Stat`].
const FILE: u8 = b'f';
const DIR: u8 = b'd';
const ABSENT: u8 = b'-';
const SYMLINK: u8 = b'l';
const OTHER: u8 = b'o';

/// What is compared of one entry; fields a [`Kind`] does not compare are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    kind: u8,
    dev: u64,
    ino: u64,
    mode: u32,
    size: u64,
    /// Nanoseconds since the epoch.
    mtime: i64,
    ctime: i64,
}

impl Stat {
    const ABSENT: Stat = Stat {
        kind: ABSENT,
        dev: 0,
        ino: 0,
        mode: 0,
        size: 0,
        mtime: 0,
        ctime: 0,
    };
}

/// One recorded line.
struct Entry {
    kind: Kind,
    racy: bool,
    stat: Stat,
    path: PathBuf,
}

impl Entry {
    fn parse(line: &str) -> Option<Entry> {
        let mut f = line.splitn(10, '\t');
        let kind = Kind::from_letter(f.next()?)?;
        let racy = match f.next()? {
            "r" => true,
            "." => false,
            _ => return None,
        };
        let file_kind = match f.next()?.as_bytes() {
            [k @ (b'f' | b'd' | b'-')] => *k,
            _ => return None,
        };
        let stat = Stat {
            kind: file_kind,
            dev: f.next()?.parse().ok()?,
            ino: f.next()?.parse().ok()?,
            mode: f.next()?.parse().ok()?,
            size: f.next()?.parse().ok()?,
            mtime: f.next()?.parse().ok()?,
            ctime: f.next()?.parse().ok()?,
        };
        let path = PathBuf::from(f.next()?);
        path.is_absolute().then_some(Entry {
            kind,
            racy,
            stat,
            path,
        })
    }
}

/// The stat of `path` as `kind` compares it (zero in the fields it does not compare).
fn observe(path: &Path, kind: Kind) -> Result<Stat, String> {
    let meta = match kind {
        Kind::Root => std::fs::metadata(path),
        _ => std::fs::symlink_metadata(path),
    };
    let meta = match meta {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Stat::ABSENT),
        Err(e) => return Err(e.to_string()),
    };
    let full = stat_of(&meta).ok_or("no stat cache on this system")?;
    let wanted_type = match kind {
        Kind::File => FILE,
        _ => DIR,
    };
    if full.kind != wanted_type {
        return Err(match full.kind {
            SYMLINK | OTHER => "a symlink or special file".to_string(),
            _ => "not the expected type".to_string(),
        });
    }
    Ok(match kind {
        Kind::File | Kind::Dir => full,
        Kind::Passage => Stat {
            size: 0,
            mtime: 0,
            ctime: 0,
            ..full
        },
        Kind::Root => Stat {
            mode: 0,
            size: 0,
            mtime: 0,
            ctime: 0,
            ..full
        },
    })
}

#[cfg(unix)]
fn stat_of(meta: &std::fs::Metadata) -> Option<Stat> {
    use std::os::unix::fs::MetadataExt as _;
    let t = meta.file_type();
    let kind = if t.is_file() {
        FILE
    } else if t.is_dir() {
        DIR
    } else if t.is_symlink() {
        SYMLINK
    } else {
        OTHER
    };
    let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
    Some(Stat {
        kind,
        dev: meta.dev(),
        ino: meta.ino(),
        mode: meta.mode(),
        size: meta.size(),
        mtime: ns(meta.mtime(), meta.mtime_nsec()),
        ctime: ns(meta.ctime(), meta.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn stat_of(_: &std::fs::Metadata) -> Option<Stat> {
    None
}

fn nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Writes `text` as the cache of `inputs`' deployment (atomically; git ignores it). A
/// failure is only traced: the cache is an optimisation.
pub fn save(inputs: &Inputs<'_>, text: &str) {
    match inputs
        .deployment
        .engine()
        .write_check_cache(text.as_bytes())
    {
        Ok(()) => trace("cache written"),
        Err(e) => trace(format!("cache not written ({e})")),
    }
}

/// [`record`] then [`save`], tracing why when nothing can be recorded.
pub fn record_and_save(
    session: &Session,
    inputs: &Inputs<'_>,
    plan: &Plan,
    lock: &Lock,
    folders: &[ReadFolder],
) {
    match record(session, inputs, plan, lock, folders) {
        Ok(text) => save(inputs, &text),
        Err(why) => trace(format!("cache not written ({why})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_lines_parse_only_when_whole() {
        let check = |line: &str, expect: Option<(char, bool, u64, &str)>| {
            let got = Entry::parse(line).map(|e| {
                (
                    e.kind.letter(),
                    e.racy,
                    e.stat.size,
                    e.path.display().to_string(),
                )
            });
            let expect = expect.map(|(k, r, n, p)| (k, r, n, p.to_string()));
            assert_eq!(got, expect, "{line:?}");
        };
        check(
            "f\t.\tf\t1\t2\t33188\t12\t5\t6\t/p/a b.md",
            Some(('f', false, 12, "/p/a b.md")),
        );
        check(
            "d\tr\td\t1\t2\t16877\t0\t5\t6\t/p/d",
            Some(('d', true, 0, "/p/d")),
        );
        check(
            "f\t.\t-\t0\t0\t0\t0\t0\t0\t/p/gone",
            Some(('f', false, 0, "/p/gone")),
        );
        // A relative path, an unknown kind or flag, a missing or non-numeric field.
        check("f\t.\tf\t1\t2\t3\t4\t5\t6\tp/a.md", None);
        check("x\t.\tf\t1\t2\t3\t4\t5\t6\t/p", None);
        check("f\t?\tf\t1\t2\t3\t4\t5\t6\t/p", None);
        check("f\t.\tl\t1\t2\t3\t4\t5\t6\t/p", None);
        check("f\t.\tf\t1\t2\t3\t4\t5\t/p", None);
        check("f\t.\tf\t1\t2\tx\t4\t5\t6\t/p", None);
        check("", None);
    }

    #[cfg(unix)]
    #[test]
    fn observe_compares_only_what_each_kind_needs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.md");
        std::fs::write(&file, "abc").unwrap();
        let f = observe(&file, Kind::File).unwrap();
        assert_eq!((f.kind, f.size), (FILE, 3));
        assert!(f.ctime > 0 && f.ino > 0);
        let p = observe(dir.path(), Kind::Passage).unwrap();
        assert_eq!((p.kind, p.mtime, p.ctime), (DIR, 0, 0));
        assert_eq!(
            observe(&dir.path().join("no"), Kind::File),
            Ok(Stat::ABSENT)
        );
        assert!(observe(&file, Kind::Dir).is_err(), "a file is not a folder");
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(
            observe(&link, Kind::File).is_err(),
            "a symlink is never trusted"
        );
        assert_eq!(
            observe(&link, Kind::Root).map(|s| s.kind),
            Err("not the expected type".into())
        );
    }
}
