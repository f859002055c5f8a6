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
//! every path of the lock) with each folder on the way to it, and every folder check looks in
//! for temp files a killed aiwg left (its `stray` lines, which apply removes): one whose times
//! moved is listed and must hold none (the cache's own folder always is; the history folder
//! must be as it was). Anything else — no cache, an
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
//!
//! The file: a text header (format, then the key's `name\tvalue` lines, then who recorded it,
//! [`Settled`]), then a binary body of entries grouped by folder ([`scan_body`]), each a name
//! in its folder (or `sub/name` when `sub` holds at most [`FOLD_MAX`] recorded entries, or
//! `.` for the folder itself, stat'ed through the handle). A check stats each
//! group's names relative to one `O_PATH` handle of its folder (`fstatat`), in parallel units
//! of [`UNIT`] entries: the kernel looks up one name per entry instead of walking its whole
//! path, and nothing is parsed but fixed-width numbers. What each stat means is exactly
//! `symlink_metadata` of the whole path (the handle is opened following symlinks as that
//! lookup would). [`save`] writes nothing when the file already holds the same bytes.
//!
//! What a hit costs, and why not less. On the bench's former large project (9,060 managed
//! files to Claude Code; it is 8,000 now, 21,967 stats) a hit makes 24,087 stats: 18,124
//! files (every managed file, every source file) and 5,952 folders (every source folder,
//! every folder where check looks for temp files), at 1.5-1.7 us of kernel time each on the
//! bench machine (a C loop over the same tree; an empty system call costs 0.19 us there): some
//! 33 ms of CPU, against under 2 ms in user space. Each folder was examined for another
//! voucher, and each keeps its stat:
//!
//! - A folder where check looks for temp files: a temp file's name appearing in it changes
//!   that folder's times and nothing else. Invalidating the cache before every write of this
//!   aiwg would cover a killed run of this binary only, not a killed older binary (whose
//!   apply leaves our cache in place), a checkout or copy that brings such a name, or another
//!   tool. Nor is it only about temp files: a folder moved away and replaced by a symlink to
//!   it leaves every file in it with the stat it had (a rename does not touch its entries'
//!   ctime), and only the folder's own `lstat` shows the symlink.
//! - A source folder: a source file added to it is a new output, and only the folder's times
//!   show it.
//! - Cheaper checks of a folder cost more calls: a handle opened with `O_NOFOLLOW` is an
//!   `open` and a `close` (a stat is one call); a listing is an `open`, two `getdents64` and a
//!   `close`, and gives no times. `statx` with a minimal mask costs what `newfstatat` does.
//!
//! So one stat per recorded entry is this design's floor, and what could go is the work
//! before and after the stats: the calling thread only finds where each unit of entries
//! starts ([`scan_body`]), each thread parses and checks the entries it stats
//! ([`parse_unit`]), and the cache's bytes are left to the exit. Measured on the large
//! project (`perf stat -r 15`, machine load 4): 37.5 → 35.2 ms of CPU, 1,066 → 659 page
//! faults, the same 24,473 system calls; from opening the cache to the first stat 5-7 → 1.3-1.8
//! ms (`strace -ttt` on the opens and `clone3` only). On two idle cores the stats alone take
//! some 16-17 ms, so a hit under 20 ms needs both cores free.
//!
//! A cache recorded by an `apply` that wrote nothing also vouches that another plain apply
//! would write nothing ([`Settled::Apply`]); such an apply then answers from it
//! (`commands::apply`), without rendering, planning or taking the process lock.

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
const VERSION: u32 = 3;
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
/// runs the full check. Never fails otherwise. `Ok(Some(n))`: the cache was recorded by an
/// `apply` that found all `n` files up to date and wrote nothing at all ([`Settled`]), so
/// another plain apply now would write nothing either.
pub fn lookup(session: &Session, inputs: &Inputs<'_>) -> Result<Option<usize>, String> {
    let key = key_lines(session, inputs)?;
    let path = cache_path(inputs.deployment);
    let bytes = read_cache(&path, &key)?;
    let mut at = Reader::new(&bytes);
    read_head(&mut at, &key)?;
    let settled = match at.line().and_then(|l| l.strip_prefix("settled\t")) {
        Some("-") => None,
        Some(n) => Some(
            n.parse::<usize>()
                .map_err(|_| "corrupt cache".to_string())?,
        ),
        None => return Err("corrupt cache".into()),
    };
    let units = scan_body(&mut at)?;
    // Units are taken one at a time by each core, so that a core slowed by another process
    // does not leave the other idle; the first change found (in file order) is the answer.
    // Each unit's entries are parsed and checked by the thread that stats them: the calling
    // thread only finds where units start, so the stats begin without a serial parse.
    let changed = aiwg_core::par::par_first(units.len(), 8, |u| {
        let unit = &units[u];
        let entries = match parse_unit(unit) {
            Ok(entries) => entries,
            Err(why) => return Some(why),
        };
        // A racy watched folder is listed instead ([`unchanged`]).
        if let Some(entry) = (entries.iter()).find(|e| e.racy && e.kind != Kind::Watched) {
            return Some(format!("racy entry `{}`", join(unit.dir, entry.name)));
        }
        let mut changed = None;
        let mut next = entries.iter();
        stat_in(unit.dir, entries.iter().map(|e| (e.kind, e.name)), |now| {
            let entry = next.next().expect("one stat per entry");
            if now
                .as_ref()
                .is_ok_and(|now| unchanged(unit.dir, entry, now))
            {
                return true;
            }
            changed = Some(format!("`{}` changed", join(unit.dir, entry.name)));
            false
        });
        changed
    });
    match changed {
        // A miss runs the full command next, which has use for the memory.
        Some((_, why)) => Err(why),
        None => {
            // A hit ends `check` (and an apply it settles; one it does not runs in full with
            // the cache's bytes held, some 64 bytes per entry): they live until the exit.
            crate::pipeline::free_at_exit(units);
            crate::pipeline::free_at_exit(bytes);
            Ok(settled)
        }
    }
}

/// The most bytes read of a cache file before its header and key are known to be this run's.
const HEAD_LIMIT: u64 = 64 * 1024;

/// Reads the header and key lines from `at`: `Err` says which differs.
fn read_head(at: &mut Reader<'_>, key: &str) -> Result<(), String> {
    if at.line() != Some(header().as_str()) {
        return Err("cache has another format".into());
    }
    for want in key.lines() {
        let got = at.line().unwrap_or_default();
        if got != want {
            let field = want.split('\t').next().unwrap_or_default();
            return Err(format!("{field} differs"));
        }
    }
    Ok(())
}

/// The bytes of the cache file at `path`, when it is a plain file (not through a final
/// symlink, never a FIFO or device) whose header and key lines are `key`'s. Only then is more
/// than [`HEAD_LIMIT`] read: a committed file is never this machine's (its key names this
/// binary's inode and times), so a huge one, or a link to `/dev/zero`, costs one bounded read.
fn read_cache(path: &Path, key: &str) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = open_plain(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no cache".to_string(),
        _ => format!("cannot read the cache: {e}"),
    })?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read the cache: {e}"))?
        .len();
    // Sized from the stat, so a large cache is read without the copies of a growing buffer.
    let mut bytes = Vec::with_capacity(size.min(HEAD_LIMIT) as usize);
    let mut file = file.take(size);
    let failed = |e: std::io::Error| format!("cannot read the cache: {e}");
    (&mut file)
        .take(HEAD_LIMIT)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    read_head(&mut Reader::new(&bytes), key)?;
    // Only a hint: a size the allocator refuses is read as it comes.
    let _ = bytes.try_reserve_exact((size as usize).saturating_sub(bytes.len()));
    file.read_to_end(&mut bytes).map_err(failed)?;
    Ok(bytes)
}

/// Opens `path` for reading when it is a plain file, without following a final symlink and
/// without blocking on a FIFO.
#[cfg(unix)]
fn open_plain(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags())
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a plain file"));
    }
    Ok(file)
}

#[cfg(unix)]
fn libc_flags() -> i32 {
    use rustix::fs::OFlags;
    (OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC).bits() as i32
}

#[cfg(not(unix))]
fn open_plain(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Who records a cache: a check (its answer is "clean"), or an apply that found nothing to
/// change and wrote nothing — not the lock, not `.gitignore`, no history — which also vouches
/// that a plain apply would write nothing, with this many files up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Recorded by `check`.
    Check,
    /// Recorded by a no-change `apply` of this many files.
    Apply(usize),
}

/// Records the cache after a run that found the project clean by reading it: `plan` is the
/// clean plan, `lock` the lock it was made with, `folders` what was read of each folder
/// source. Returns the cache file's bytes, or why none can be written.
pub fn record(
    session: &Session,
    inputs: &Inputs<'_>,
    plan: &Plan,
    lock: &Lock,
    folders: &[ReadFolder],
    settled: Settled,
) -> Result<Vec<u8>, String> {
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
    // A plain apply in the committed mode removes aiwg's block from `.gitignore` (one that
    // came with a pull, say): an apply that found none vouches only while the file is as it was.
    if matches!(settled, Settled::Apply(_)) && d.scope == Scope::Project {
        let path = d.state_root().join(crate::generated::FILE);
        wanted.push(Kind::File, path, Expect::Any);
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
        let expect = match item.size_on_disk() {
            Some(size) => Expect::Size(size),
            None => Expect::Absent,
        };
        wanted.push(Kind::File, item.path.to_path(d.target_root()), expect);
    }
    // Where check looks for temp files a killed aiwg left (`stray`, which apply removes): a
    // name added there after this run must not be hidden. The history folder and its newest
    // generation change only when aiwg writes them: any change there is a miss.
    let (target_folders, state_folders) = d
        .engine()
        .debris_folders(plan.items.iter().map(|i| &i.path));
    let under = |root: &Path, folder: &Option<aiwg_core::RelPath>| match folder {
        Some(f) => f.to_path(root),
        None => root.to_path_buf(),
    };
    for folder in &target_folders {
        if let Some(f) = folder {
            passages.remove(f);
        }
        wanted.push(Kind::Watched, under(d.target_root(), folder), Expect::Any);
    }
    let layout = &d.engine().layout;
    let own = layout.check_cache.parent();
    for folder in &state_folders {
        let in_history = folder
            .as_ref()
            .is_some_and(|f| f.starts_with(&layout.history));
        // The cache's own folder changes with every save of it (and the process lock).
        let kind = if in_history {
            Kind::Dir
        } else if *folder == own {
            Kind::Listed
        } else {
            Kind::Watched
        };
        wanted.push(kind, under(d.state_root(), folder), Expect::Any);
    }
    for p in passages {
        wanted.push(Kind::Passage, p.to_path(d.target_root()), Expect::Any);
    }

    let (groups, stats) = observe_all(wanted.items)?;
    let threshold = nanos(session.started) - racy_window().as_nanos() as i64;
    let count: usize = groups.iter().map(|(_, entries)| entries.len()).sum();
    // The entries go straight after the header (every folder is a group of at least one
    // entry, so both counts are known first): no second copy of a body of tens of thousands.
    let mut out = Vec::with_capacity(64 * count + key.len() + 64);
    out.extend_from_slice(header().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(key.as_bytes());
    match settled {
        Settled::Check => out.extend_from_slice(b"settled\t-\n"),
        Settled::Apply(n) => out.extend_from_slice(format!("settled\t{n}\n").as_bytes()),
    }
    out.extend_from_slice(format!("entries\t{count}\tgroups\t{}\n", groups.len()).as_bytes());
    let mut racy = None;
    let mut stats = stats.into_iter().flatten();
    // The walk found exactly the files the run read, with the same sizes. Compared as sorted
    // bytes, not as `Path`s (whose order parses components: most of a record's time at
    // thousands of files); a path spelled two ways only costs the cache, never vouches.
    fn bytes(p: &Path) -> &[u8] {
        p.as_os_str().as_encoded_bytes()
    }
    let mut walked: Vec<(&[u8], u64)> = Vec::new();
    for (dir, entries) in &groups {
        let group_start = open_group(&mut out, dir)?;
        for (name, kind, source, expect) in entries {
            let stat = stats.next().expect("one stat per entry");
            let stat = stat
                .as_ref()
                .map_err(|why| format!("`{}`: {why}", join(dir, name)))?;
            let consistent = match (expect, stat.kind) {
                (Expect::Any, _) => true,
                (Expect::Absent, k) => k == ABSENT,
                (Expect::Present, k) => k != ABSENT,
                (Expect::Size(n), k) => k == FILE && stat.size == *n,
                (Expect::Walked, k) => k == FILE,
            };
            if !consistent {
                return Err(format!("`{}` changed while checking", join(dir, name)));
            }
            let timed =
                matches!(kind, Kind::File | Kind::Dir | Kind::Watched) && stat.kind != ABSENT;
            let is_racy = timed && (stat.mtime >= threshold || stat.ctime >= threshold);
            if is_racy && racy.is_none() {
                racy = Some(join(dir, name));
            }
            put_entry(&mut out, *kind, is_racy, stat, name)?;
            if let Some(path) = source {
                walked.push((bytes(path), stat.size));
            }
        }
        close_group(&mut out, group_start, entries.len() as u32);
    }
    let mut read: Vec<(&[u8], u64)> = read_files.iter().map(|(p, n)| (bytes(p), *n)).collect();
    walked.sort_unstable();
    read.sort_unstable();
    if walked != read {
        return Err("the sources changed while checking".into());
    }
    if let Some(path) = racy {
        trace(format!(
            "cache entries are racy (`{path}` changed within {} ms of the check); the next check reads everything",
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
    /// A folder where check looks for temp files a killed aiwg left: every field, and when
    /// its times changed (or were racy), it is listed and must hold none ([`unchanged`]).
    Watched,
    /// A folder where check looks for temp files that changes whenever aiwg saves the cache
    /// in it: which folder it is, and its mode; it is always listed ([`unchanged`]).
    Listed,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::File => 'f',
            Kind::Dir => 'd',
            Kind::Passage => 'p',
            Kind::Root => 'r',
            Kind::Watched => 'w',
            Kind::Listed => 'l',
        }
    }

    fn from_byte(c: u8) -> Option<Kind> {
        Some(match c {
            b'f' => Kind::File,
            b'd' => Kind::Dir,
            b'p' => Kind::Passage,
            b'r' => Kind::Root,
            b'w' => Kind::Watched,
            b'l' => Kind::Listed,
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

/// Up to [`UNIT`] consecutive entries of one folder in the cache file, not yet parsed: what
/// one thread stats in one go ([`scan_body`], [`parse_unit`]).
struct Unit<'a> {
    /// The folder, absolute (`""`: each name is an absolute path of its own).
    dir: &'a str,
    /// The entries' bytes ([`put_entry`]), exactly `count` of them.
    bytes: &'a [u8],
    count: usize,
}

/// One recorded entry.
struct Entry<'a> {
    kind: Kind,
    racy: bool,
    stat: Stat,
    /// A name in its group's folder, a relative path below it (`sub/name`, when `sub` held
    /// few entries, [`FOLD_MAX`]), or `.`: the folder itself, a [`Kind::Passage`] or [`Kind::Dir`]
    /// checked through the group's handle.
    name: &'a str,
}

/// The bytes of one entry before its name: kind, racy flag, file type, dev, ino, mode, size,
/// mtime, ctime, the name's length.
const ENTRY_HEAD: usize = 3 + 8 + 8 + 4 + 8 + 8 + 8 + 2;

/// The fewest bytes of one group: its folder's length (`u16`) and its entry count (`u32`).
const GROUP_HEAD: usize = 2 + 4;

/// A cursor over the cache file: text lines first, then the binary body.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    /// The next `\n`-ended UTF-8 line, without its `\n`.
    fn line(&mut self) -> Option<&'a str> {
        let end = self.bytes.iter().position(|&b| b == b'\n')?;
        let line = std::str::from_utf8(&self.bytes[..end]).ok()?;
        self.bytes = &self.bytes[end + 1..];
        Some(line)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn str(&mut self, n: usize) -> Option<&'a str> {
        std::str::from_utf8(self.take(n)?).ok()
    }
}

/// The body after the key: `entries\t<n>\tgroups\t<g>`, then each group — its folder
/// (`u16` length, bytes), its entry count (`u32`) and its entries ([`put_entry`]) — and
/// nothing after, cut into [`Unit`]s of at most [`UNIT`] entries. Only the structure is read
/// here (counts, lengths, the folders); each entry is parsed by [`parse_unit`] when its unit
/// is checked. Anything else is a corrupt cache.
fn scan_body<'a>(at: &mut Reader<'a>) -> Result<Vec<Unit<'a>>, String> {
    let corrupt = || "corrupt cache".to_string();
    let counts = at.line().ok_or_else(corrupt)?;
    let mut f = counts.split('\t');
    let (Some("entries"), Some(n), Some("groups"), Some(g), None) =
        (f.next(), f.next(), f.next(), f.next(), f.next())
    else {
        return Err(corrupt());
    };
    let count: usize = n.parse().map_err(|_| corrupt())?;
    let group_count: usize = g.parse().map_err(|_| corrupt())?;
    let truncated = || "corrupt cache (truncated)".to_string();
    // Each group and entry takes bytes: counts the file cannot hold are refused before any
    // allocation they would size.
    if count.saturating_mul(ENTRY_HEAD) > at.bytes.len()
        || group_count.saturating_mul(GROUP_HEAD) > at.bytes.len()
    {
        return Err(truncated());
    }
    let mut units = Vec::with_capacity(count.div_ceil(UNIT) + group_count);
    let mut seen = 0usize;
    for _ in 0..group_count {
        let len = at.u16().ok_or_else(truncated)? as usize;
        let dir = at.str(len).ok_or_else(truncated)?;
        if !(dir.is_empty() || dir.starts_with('/')) {
            return Err(corrupt());
        }
        let n = at.u32().ok_or_else(truncated)? as usize;
        if n.saturating_mul(ENTRY_HEAD) > at.bytes.len() {
            return Err(truncated());
        }
        let mut left = n;
        while left > 0 {
            let take = left.min(UNIT);
            let mut end = 0usize;
            for _ in 0..take {
                // The name's length is the last field of an entry's fixed head.
                let head = at.bytes.get(end..end + ENTRY_HEAD).ok_or_else(truncated)?;
                let name = u16::from_le_bytes([head[ENTRY_HEAD - 2], head[ENTRY_HEAD - 1]]);
                end += ENTRY_HEAD + name as usize;
            }
            let bytes = at.take(end).ok_or_else(truncated)?;
            units.push(Unit {
                dir,
                bytes,
                count: take,
            });
            left -= take;
        }
        seen += n;
    }
    if seen != count {
        return Err(corrupt());
    }
    if !at.bytes.is_empty() {
        return Err("corrupt cache (trailing bytes)".into());
    }
    Ok(units)
}

/// The entries of `unit`, each checked as [`parse_entry`] checks it.
fn parse_unit<'a>(unit: &Unit<'a>) -> Result<Vec<Entry<'a>>, String> {
    let mut at = Reader::new(unit.bytes);
    let mut entries = Vec::with_capacity(unit.count);
    for _ in 0..unit.count {
        entries.push(parse_entry(&mut at, unit.dir.is_empty())?);
    }
    if !at.bytes.is_empty() {
        return Err("corrupt cache".into());
    }
    Ok(entries)
}

/// One entry ([`put_entry`]); `absolute`: its name is a whole absolute path.
fn parse_entry<'a>(at: &mut Reader<'a>, absolute: bool) -> Result<Entry<'a>, String> {
    let truncated = || "corrupt cache (truncated)".to_string();
    let corrupt = || "corrupt cache".to_string();
    let head = at.take(3).ok_or_else(truncated)?;
    let kind = Kind::from_byte(head[0]).ok_or_else(corrupt)?;
    let racy = match head[1] {
        b'r' => true,
        b'.' => false,
        _ => return Err(corrupt()),
    };
    let file_kind = match head[2] {
        k @ (FILE | DIR | ABSENT) => k,
        _ => return Err(corrupt()),
    };
    let mut num = || at.u64().ok_or_else(truncated);
    let dev = num()?;
    let ino = num()?;
    let mode = at.u32().ok_or_else(truncated)?;
    let mut num = || at.u64().ok_or_else(truncated);
    let size = num()?;
    let mtime = num()? as i64;
    let ctime = num()? as i64;
    let len = at.u16().ok_or_else(truncated)? as usize;
    let name = at.str(len).ok_or_else(truncated)?;
    let valid = if absolute {
        name.starts_with('/')
    } else {
        name == "." || is_relative_below(name.as_bytes())
    };
    if !valid {
        return Err(corrupt());
    }
    Ok(Entry {
        kind,
        racy,
        stat: Stat {
            kind: file_kind,
            dev,
            ino,
            mode,
            size,
            mtime,
            ctime,
        },
        name,
    })
}

/// True when `name` is one or more `/`-separated components, none of them empty, `.` or `..`,
/// and holds no NUL (a path that stays below the folder it is relative to). One pass over the bytes, no
/// slicing: the reader checks every name of a cache of tens of thousands, each before its stat.
fn is_relative_below(name: &[u8]) -> bool {
    // Per component: its length and how many of its bytes are dots (`.` and `..` are all
    // dots and at most two long).
    let bad = |len: usize, dots: usize| len == 0 || (len == dots && len <= 2);
    let (mut len, mut dots) = (0usize, 0usize);
    for &b in name {
        if b == 0 {
            // No path holds one (the stat could not even be asked).
            return false;
        }
        if b == b'/' {
            if bad(len, dots) {
                return false;
            }
            (len, dots) = (0, 0);
        } else {
            len += 1;
            dots += usize::from(b == b'.');
        }
    }
    !bad(len, dots)
}

/// Starts a group for folder `dir` in `body`; returns where its entry count goes.
fn open_group(body: &mut Vec<u8>, dir: &str) -> Result<usize, String> {
    let len = u16::try_from(dir.len()).map_err(|_| format!("`{dir}`: path too long"))?;
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(dir.as_bytes());
    let at = body.len();
    body.extend_from_slice(&0u32.to_le_bytes());
    Ok(at)
}

/// Writes `n`, the entry count of the group whose count is at `at`.
fn close_group(body: &mut [u8], at: usize, n: u32) {
    body[at..at + 4].copy_from_slice(&n.to_le_bytes());
}

/// Appends one entry: kind, racy flag, file type (one byte each), dev, ino (`u64`), mode
/// (`u32`), size, mtime, ctime (`u64`, times in nanoseconds), the name (`u16` length, bytes).
fn put_entry(
    body: &mut Vec<u8>,
    kind: Kind,
    racy: bool,
    stat: &Stat,
    name: &str,
) -> Result<(), String> {
    let len = u16::try_from(name.len()).map_err(|_| format!("`{name}`: name too long"))?;
    body.extend_from_slice(&[
        kind.letter() as u8,
        if racy { b'r' } else { b'.' },
        stat.kind,
    ]);
    body.extend_from_slice(&stat.dev.to_le_bytes());
    body.extend_from_slice(&stat.ino.to_le_bytes());
    body.extend_from_slice(&stat.mode.to_le_bytes());
    body.extend_from_slice(&stat.size.to_le_bytes());
    body.extend_from_slice(&stat.mtime.to_le_bytes());
    body.extend_from_slice(&stat.ctime.to_le_bytes());
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(name.as_bytes());
    Ok(())
}

/// The most entries one thread stats in one go (each such unit opens its folder once).
const UNIT: usize = 256;

/// A folder with at most this many recorded entries has no group of its own: its entries are
/// stat'ed from its parent's handle ([`observe_all`]).
const FOLD_MAX: usize = 16;

/// Group `g` of `n` entries cut into units of at most [`UNIT`]: (group, first, end).
fn units_of(g: usize, n: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..n)
        .step_by(UNIT)
        .map(move |first| (g, first, (first + UNIT).min(n)))
}

/// Whether `now` is what `entry` (in folder `dir`) recorded. A [`Kind::Watched`] folder that
/// is still the same folder (device, inode, mode) but whose times moved, or were too recent
/// to trust, and a [`Kind::Listed`] one, are unchanged when they hold no temp file of an aiwg
/// writer: what check would report as `stray` (a live writer's too, which will change what
/// it writes).
fn unchanged(dir: &str, entry: &Entry<'_>, now: &Stat) -> bool {
    let listed = match entry.kind {
        Kind::Watched => entry.racy,
        Kind::Listed => true,
        _ => false,
    };
    if *now == entry.stat && !listed {
        return true;
    }
    let was = &entry.stat;
    matches!(entry.kind, Kind::Watched | Kind::Listed)
        && now.kind == DIR
        && (now.kind, now.dev, now.ino, now.mode) == (was.kind, was.dev, was.ino, was.mode)
        && holds_no_temp_file(&join(dir, entry.name))
}

/// True when folder `path` can be listed (not through a final symlink) and no name in it is
/// a temp file of an aiwg writer.
#[cfg(unix)]
fn holds_no_temp_file(path: &str) -> bool {
    use rustix::fs::{Dir, Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let Ok(fd) = rustix::fs::open(path, flags, Mode::empty()) else {
        return false;
    };
    let Ok(mut dir) = Dir::read_from(&fd) else {
        return false;
    };
    for entry in dir.by_ref() {
        let Ok(entry) = entry else {
            return false;
        };
        let name = entry.file_name().to_bytes();
        if std::str::from_utf8(name).map_or(true, |n| aiwg_deploy::system::temp_writer(n).is_some())
        {
            return false;
        }
    }
    true
}

#[cfg(not(unix))]
fn holds_no_temp_file(_: &str) -> bool {
    false
}

/// `dir/name` (`name` alone when `dir` is empty: an absolute path of its own; `dir` for `.`).
fn join(dir: &str, name: &str) -> String {
    match dir {
        "" => name.to_string(),
        d if name == "." => d.to_string(),
        d if d.ends_with('/') => format!("{d}{name}"),
        d => format!("{d}/{name}"),
    }
}

/// Where an absolute path is recorded: its folder and its name (`("", path)` when it has
/// none). `None`: not UTF-8, so it cannot be recorded.
fn split(path: &Path) -> Option<(String, String)> {
    let text = path.to_str()?;
    match (path.parent().and_then(Path::to_str), path.file_name()) {
        (Some(dir), Some(name)) if !dir.is_empty() => {
            Some((dir.to_string(), name.to_str()?.into()))
        }
        _ => Some((String::new(), text.to_string())),
    }
}

/// One entry of a folder's group: its name there, how it is compared, the path of a walked
/// source file (`None` for any other), and what the run read there.
type Observed = (String, Kind, Option<PathBuf>, Expect);

/// The folders of a record, sorted, each with its entries.
type Groups = Vec<(String, Vec<Observed>)>;

/// What one stat found (or why it failed).
type Stated = Result<Stat, String>;

/// `items` grouped by folder (each folder's entries in the order given, the folders sorted),
/// and their stats in that order: each folder's name is held once, not once per entry.
fn observe_all(items: Vec<(Kind, PathBuf, Expect)>) -> Result<(Groups, Vec<Vec<Stated>>), String> {
    let mut by_dir: BTreeMap<String, Vec<Observed>> = BTreeMap::new();
    for (kind, path, expect) in items {
        let (dir, name) =
            split(&path).ok_or_else(|| format!("`{}`: path cannot be recorded", path.display()))?;
        // Only a walked source file's path is compared again (with the files the run read);
        // every other one goes now, tens of thousands of them.
        let source = (expect == Expect::Walked).then_some(path);
        by_dir
            .entry(dir)
            .or_default()
            .push((name, kind, source, expect));
    }
    // A folder with few entries is stat'ed from its parent's handle (`sub/name`: the lookup
    // of `sub` follows a symlink exactly as the whole path's would), deepest folders first so
    // a chain of them joins the first folder that has more: a handle costs an `open` of the
    // whole path and a `close`, more than the kernel's lookup of one more name per entry.
    let dirs: Vec<String> = by_dir.keys().rev().cloned().collect();
    for dir in dirs {
        if by_dir.get(&dir).is_none_or(|e| e.len() > FOLD_MAX) {
            continue;
        }
        let Some((parent, last)) = split(Path::new(&dir)).filter(|(p, _)| !p.is_empty()) else {
            continue;
        };
        let entries = by_dir.remove(&dir).expect("present");
        let into = by_dir.entry(parent).or_default();
        for mut entry in entries {
            entry.0 = format!("{last}/{}", entry.0);
            into.push(entry);
        }
    }
    // A folder opened for its entries is also checked through that handle (`.`: its `fstat`,
    // the handle then opened without following a final symlink) instead of by its name in
    // its parent's group: one name fewer to look up.
    let opened: Vec<String> = (by_dir.iter())
        .filter(|(dir, entries)| entries.len() > 1 && !dir.is_empty())
        .map(|(dir, _)| dir.clone())
        .collect();
    for dir in opened {
        let Some((parent, last)) = split(Path::new(&dir)).filter(|(p, _)| !p.is_empty()) else {
            continue;
        };
        let Some(siblings) = by_dir.get_mut(&parent) else {
            continue;
        };
        let Some(at) = (siblings.iter()).position(|e| {
            e.0 == last
                && matches!(
                    e.1,
                    Kind::Passage | Kind::Dir | Kind::Watched | Kind::Listed
                )
        }) else {
            continue;
        };
        let mut entry = siblings.remove(at);
        if siblings.is_empty() {
            by_dir.remove(&parent);
        }
        entry.0 = ".".into();
        by_dir.get_mut(&dir).expect("opened").insert(0, entry);
    }
    let groups: Groups = by_dir.into_iter().collect();
    let units: Vec<(usize, usize, usize)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, (_, entries))| units_of(g, entries.len()))
        .collect();
    let stats = aiwg_core::par::par_map(units, 8, |(g, first, end)| {
        let (dir, entries) = &groups[g];
        let mut out = Vec::with_capacity(end - first);
        stat_in(
            dir,
            entries[first..end].iter().map(|e| (e.1, e.0.as_str())),
            |stat| {
                out.push(stat);
                true
            },
        );
        out
    });
    Ok((groups, stats))
}

/// Stats each `(kind, name)` of folder `dir` in turn, passing the result to `each` until it
/// returns false. The stat is the one `symlink_metadata(dir/name)` takes (`metadata` for a
/// [`Kind::Root`]); with more than one entry the folder is opened once (`O_PATH`, symlinks on
/// the way followed exactly as a path lookup of `dir/name` follows them) and each name is
/// stat'ed relative to it, which spares the kernel a walk of the whole path per entry.
#[cfg(unix)]
fn stat_in<'n>(
    dir: &str,
    entries: impl ExactSizeIterator<Item = (Kind, &'n str)>,
    mut each: impl FnMut(Result<Stat, String>) -> bool,
) {
    use rustix::fs::{AtFlags, Mode, OFlags, CWD};
    let many = entries.len() > 1;
    let mut entries = entries.peekable();
    // The folder's own entry comes first (`.`): it is `lstat` of the folder, so the handle must
    // not follow a symlink there (a symlink is then no folder, and every entry a miss).
    let has_self = entries.peek().is_some_and(|(_, name)| *name == ".");
    let folder = (many && !dir.is_empty())
        .then(|| {
            let mut flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            if has_self {
                flags |= OFlags::NOFOLLOW;
            }
            rustix::fs::open(dir, flags, Mode::empty()).ok()
        })
        .flatten();
    for (kind, name) in entries {
        let flags = match kind {
            Kind::Root => AtFlags::empty(),
            _ => AtFlags::SYMLINK_NOFOLLOW,
        };
        // Without a handle (one entry, or the folder cannot be opened), the whole path: its
        // lookup fails exactly as it would have.
        let stat = match (&folder, name) {
            (Some(fd), ".") => rustix::fs::fstat(fd),
            (None, ".") => rustix::fs::statat(CWD, dir, AtFlags::SYMLINK_NOFOLLOW),
            (Some(fd), name) => rustix::fs::statat(fd, name, flags),
            (None, name) => rustix::fs::statat(CWD, join(dir, name).as_str(), flags),
        };
        let stat = match stat {
            Ok(st) => compared(stat_of_raw(&st), kind),
            Err(rustix::io::Errno::NOENT) => Ok(Stat::ABSENT),
            Err(e) => Err(std::io::Error::from(e).to_string()),
        };
        if !each(stat) {
            return;
        }
    }
}

#[cfg(not(unix))]
fn stat_in<'n>(
    _dir: &str,
    entries: impl ExactSizeIterator<Item = (Kind, &'n str)>,
    mut each: impl FnMut(Result<Stat, String>) -> bool,
) {
    for _ in entries {
        if !each(Err("no stat cache on this system".into())) {
            return;
        }
    }
}

#[cfg(unix)]
// The field types of `Stat` differ between platforms and backends.
#[allow(clippy::unnecessary_cast)]
fn stat_of_raw(st: &rustix::fs::Stat) -> Stat {
    use rustix::fs::FileType;
    let kind = match FileType::from_raw_mode(st.st_mode as _) {
        FileType::RegularFile => FILE,
        FileType::Directory => DIR,
        FileType::Symlink => SYMLINK,
        _ => OTHER,
    };
    let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
    Stat {
        kind,
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        mode: st.st_mode as u32,
        size: st.st_size as u64,
        mtime: ns(st.st_mtime as i64, st.st_mtime_nsec as i64),
        ctime: ns(st.st_ctime as i64, st.st_ctime_nsec as i64),
    }
}

/// `full` as `kind` compares it (zero in the fields it does not compare), or why it is not
/// what `kind` wants.
fn compared(full: Stat, kind: Kind) -> Result<Stat, String> {
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
        Kind::File | Kind::Dir | Kind::Watched => full,
        Kind::Passage | Kind::Listed => Stat {
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

/// The stat of `path` as `kind` compares it (what [`stat_in`] takes of a folder's entry).
#[cfg(test)]
fn observe(path: &Path, kind: Kind) -> Result<Stat, String> {
    let (dir, name) = split(path).ok_or("not UTF-8")?;
    let mut out = None;
    stat_in(&dir, std::iter::once((kind, name.as_str())), |s| {
        out = Some(s);
        false
    });
    out.expect("one stat")
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

/// Writes `bytes` as the cache of `inputs`' deployment (atomically; git ignores it), unless
/// the file already holds exactly them (a no-change apply or a repeated check then writes
/// nothing). A failure is only traced: the cache is an optimisation.
pub fn save(inputs: &Inputs<'_>, bytes: &[u8]) {
    let path = cache_path(inputs.deployment);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(&path).is_ok_and(|old| old == bytes)
    {
        trace("cache unchanged");
        return;
    }
    match inputs.deployment.engine().write_check_cache(bytes) {
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
    settled: Settled,
) {
    match record(session, inputs, plan, lock, folders, settled) {
        Ok(bytes) => save(inputs, &bytes),
        Err(why) => trace(format!("cache not written ({why})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of two groups as [`record`] writes it.
    fn body() -> Vec<u8> {
        let stat = Stat {
            kind: FILE,
            dev: 1,
            ino: 2,
            mode: 0o100644,
            size: 12,
            mtime: 5,
            ctime: 6,
        };
        let mut body = b"entries\t3\tgroups\t2\n".to_vec();
        let at = open_group(&mut body, "/p").unwrap();
        put_entry(&mut body, Kind::File, false, &stat, "a b.md").unwrap();
        put_entry(&mut body, Kind::Dir, true, &Stat { kind: DIR, ..stat }, "d").unwrap();
        close_group(&mut body, at, 2);
        let at = open_group(&mut body, "").unwrap();
        put_entry(&mut body, Kind::Root, false, &Stat::ABSENT, "/").unwrap();
        close_group(&mut body, at, 1);
        body
    }

    fn parsed(bytes: &[u8]) -> Result<Vec<(String, char, bool, u64)>, String> {
        let units = scan_body(&mut Reader::new(bytes))?;
        let mut out = Vec::new();
        for unit in &units {
            for e in parse_unit(unit)? {
                out.push((join(unit.dir, e.name), e.kind.letter(), e.racy, e.stat.size));
            }
        }
        Ok(out)
    }

    #[test]
    fn the_body_parses_only_when_whole() {
        let body = body();
        assert_eq!(
            parsed(&body).unwrap(),
            vec![
                ("/p/a b.md".to_string(), 'f', false, 12),
                ("/p/d".to_string(), 'd', true, 12),
                ("/".to_string(), 'r', false, 0),
            ]
        );
        // Cut anywhere, or one byte too many: never a shorter or longer list.
        for cut in 0..body.len() {
            assert!(parsed(&body[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = body.clone();
        long.push(0);
        assert!(parsed(&long).is_err());
        // Counts that disagree with the entries, an unknown kind or flag or file type, a name
        // with a slash or a relative folder.
        let edit = |from: &[u8], to: &[u8]| {
            let at = body.windows(from.len()).position(|w| w == from).unwrap();
            let mut b = body.clone();
            b.splice(at..at + from.len(), to.iter().copied());
            parsed(&b)
        };
        assert!(edit(b"entries\t3", b"entries\t4").is_err());
        assert!(edit(b"groups\t2", b"groups\t1").is_err());
        assert!(edit(b"groups\t2", b"groups\t99999999999").is_err());
        assert!(edit(b"f.f", b"x.f").is_err());
        assert!(edit(b"f.f", b"f?f").is_err());
        assert!(edit(b"f.f", b"f.l").is_err());
        assert!(edit(b"a b.md", b"a//b.md").is_err());
        assert!(edit(b"a b.md", b"../b.md").is_err());
        assert!(edit(b"a b.md", b"a/./bb").is_err());
        assert!(edit(b"a b.md", b"/a b.m").is_err());
        assert_eq!(edit(b"a b.md", b"sub/ab").unwrap()[0].0, "/p/sub/ab");
        assert_eq!(edit(b"\x01\x00d", b"\x01\x00.").unwrap()[1].0, "/p");
        assert!(edit(b"/p", b"pp").is_err());
        assert!(parsed(b"").is_err());
    }

    /// A group longer than one unit is cut at [`UNIT`] entries, and an entry the scan only
    /// skipped over is still checked when its unit is parsed: a bad one in the last unit is
    /// a corrupt cache, as it is in the first.
    #[test]
    fn every_unit_of_a_long_group_is_checked_when_parsed() {
        let stat = Stat {
            kind: FILE,
            dev: 1,
            ino: 2,
            mode: 0o100644,
            size: 7,
            mtime: 5,
            ctime: 6,
        };
        let n = UNIT * 2 + 3;
        let mut body = format!("entries\t{n}\tgroups\t1\n").into_bytes();
        let at = open_group(&mut body, "/p").unwrap();
        for i in 0..n {
            put_entry(&mut body, Kind::File, false, &stat, &format!("f{i:04}.md")).unwrap();
        }
        close_group(&mut body, at, n as u32);
        let units = scan_body(&mut Reader::new(&body)).unwrap();
        let counts: Vec<usize> = units.iter().map(|u| u.count).collect();
        assert_eq!(counts, vec![UNIT, UNIT, 3]);
        assert_eq!(parsed(&body).unwrap().len(), n);
        assert_eq!(
            parsed(&body).unwrap()[n - 1].0,
            format!("/p/f{:04}.md", n - 1)
        );
        for (from, to) in [
            (&b"f0514.md"[..], &b"f/../.md"[..]),
            (b"f0514.md", b"f0514\0md"),
        ] {
            let at = body.windows(from.len()).position(|w| w == from).unwrap();
            let mut bad = body.clone();
            bad.splice(at..at + from.len(), to.iter().copied());
            assert!(
                scan_body(&mut Reader::new(&bad)).is_ok(),
                "the scan reads lengths only"
            );
            assert!(parsed(&bad).is_err(), "{}", String::from_utf8_lossy(to));
        }
        // A kind byte no entry has, in the last unit.
        let last = body.len() - (ENTRY_HEAD + "f0000.md".len());
        let mut bad = body.clone();
        bad[last] = b'x';
        assert!(parsed(&bad).is_err());
    }

    #[test]
    fn a_relative_name_stays_below_its_folder() {
        for good in [
            "a", "a b.md", "sub/name", "a/b/c.md", ".hidden", "..x", "x..",
        ] {
            assert!(is_relative_below(good.as_bytes()), "{good}");
        }
        for bad in [
            "", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/../b", "a/..", "a\0b",
        ] {
            assert!(!is_relative_below(bad.as_bytes()), "{bad}");
        }
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
