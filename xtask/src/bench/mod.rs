//! `cargo xtask bench`: how fast aiwg is, measured on generated projects and printed as tables.
//! Not a timed test: it prints numbers and fails only when a command does.
//!
//! - [`deploy`]: the first `aiwg apply` against `cp -r` of the same output tree, for corpora
//!   ×1, ×3, ×10 and the bundled `sdlc` framework, to one, six and all platforms (runs
//!   alternate, destinations made beforehand, nothing deleted until the end, the page cache
//!   warmed alike, nothing dirty before a timed run), with the per-file slope, each side's CPU
//!   time and maximum RSS.
//! - [`check`]: the steady state (no-change apply, check with and without its cache, `plan()`
//!   alone) for the bundled framework and a ~9,000-file project.
//! - [`syscalls`]: `strace -c` per file written, aiwg against `cp -r`, and the mutating calls
//!   of a no-change apply and check.
//!
//! - [`gitsrc`]: a no-change `aiwg check` with three pinned git sources against the same three
//!   as folders (`AIWG_BENCH_PARTS=git-sources` runs only this one).
//!
//! `AIWG_BENCH_BINARY=<path>` benchmarks another build (an older commit) instead of building
//! this one, for before/after tables; `AIWG_BENCH_RUNS=<n>` sets the runs per side (default 5),
//! `AIWG_BENCH_SCALES=1,10` the corpus sizes (default `1,3,10`), `AIWG_BENCH_DIR` the scratch
//! folder (default `target/bench`), `AIWG_BENCH_PARTS=steady,syscalls` which tables to make
//! (default `deploy,steady,syscalls,git-sources`).
//!
//! Timings are of the release binary (process start included). Maximum RSS comes from
//! `/usr/bin/time -f %M` (GNU time, which reads the child's `getrusage`), measured in a
//! separate run of each command so that it does not disturb the timings.

mod check;
pub mod corpus;
mod deploy;
mod gitsrc;
mod syscalls;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// Runs the benchmarks (re-running itself in release mode: debug timings mean nothing).
pub fn run(root: &Path) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        let status = Command::new(env!("CARGO"))
            .args(["run", "--release", "--quiet", "--package", "xtask", "--"])
            .arg("bench")
            .current_dir(root)
            .status()
            .context("cannot run cargo")?;
        if !status.success() {
            bail!("the release benchmark failed");
        }
        return Ok(());
    }
    let binary = match std::env::var_os("AIWG_BENCH_BINARY") {
        // Another build of aiwg (an older commit), for before/after tables.
        Some(other) => PathBuf::from(other),
        None => {
            eprintln!("building the release binary ...");
            let status = Command::new(env!("CARGO"))
                .args(["build", "--release", "--quiet", "--bin", "aiwg"])
                .current_dir(root)
                .status()
                .context("cannot run cargo")?;
            if !status.success() {
                bail!("cargo build --release failed");
            }
            root.join("target/release/aiwg")
        }
    };
    eprintln!("benchmarking `{}`", binary.display());
    let work: PathBuf =
        std::env::var_os("AIWG_BENCH_DIR").map_or_else(|| root.join("target/bench"), PathBuf::from);
    // Trees are deleted only at the end, when nothing is timed any more (see `deploy`): a
    // previous run's folder is moved aside into the trash too.
    let trash = work.with_extension("trash");
    if work.exists() {
        std::fs::create_dir_all(&trash)?;
        std::fs::rename(&work, trash.join(format!("old-{}", std::process::id())))?;
    }
    let home = work.join("home");
    std::fs::create_dir_all(&home)?;
    let aiwg = Aiwg {
        binary,
        home,
        env: Vec::new(),
    };
    let runs = std::env::var("AIWG_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let parts = std::env::var("AIWG_BENCH_PARTS")
        .unwrap_or_else(|_| "deploy,steady,syscalls,git-sources".into());
    let part = |name: &str| parts.split(',').any(|p| p.trim() == name);
    if part("deploy") {
        deploy::run(&aiwg, &work.join("deploy"), &trash, runs)?;
        println!();
    }
    if part("steady") {
        check::run(&aiwg, &work.join("steady"))?;
        println!();
    }
    if part("syscalls") {
        syscalls::run(&aiwg, &work.join("syscalls"))?;
        println!();
    }
    if part("git-sources") {
        gitsrc::run(&aiwg, &work.join("git-sources"))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&trash);
    Ok(())
}

/// The release binary, run with HOME and AIWG_HOME inside the bench folder.
pub struct Aiwg {
    pub binary: PathBuf,
    pub home: PathBuf,
    /// More environment variables for every run.
    pub env: Vec<(String, String)>,
}

impl Aiwg {
    /// The same binary with `key=value` added to its environment.
    pub fn with_env(&self, key: &str, value: &str) -> Aiwg {
        let mut env = self.env.clone();
        env.push((key.into(), value.into()));
        Aiwg {
            binary: self.binary.clone(),
            home: self.home.clone(),
            env,
        }
    }

    /// Without the check cache: every `check` reads everything.
    pub fn without_check_cache(&self) -> Aiwg {
        self.with_env("AIWG_NO_CHECK_CACHE", "1")
    }

    /// Waits out the check cache's racy window after files were written, then runs one check
    /// that records the cache, and makes sure the next check is a cache hit.
    pub fn prime_check_cache(&self, project: &Path) -> anyhow::Result<()> {
        std::thread::sleep(RACY_WAIT);
        let traced = self.with_env("AIWG_CHECK_CACHE_TRACE", "1");
        traced.run(project, &["check"], 0)?;
        let out = traced.run(project, &["check"], 0)?;
        if !out.stderr.contains("check: cache hit") {
            bail!("the check cache is not used: {}", out.stderr);
        }
        Ok(())
    }

    /// `aiwg <args>` in `project`.
    pub fn command(&self, project: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.args(args)
            .current_dir(project)
            .env("HOME", &self.home)
            .env("AIWG_HOME", &self.home)
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs `aiwg <args>` in `project`; fails unless it exits with `want`.
    pub fn run(&self, project: &Path, args: &[&str], want: i32) -> anyhow::Result<Output> {
        let out = self.command(project, args).output()?;
        if out.status.code() != Some(want) {
            bail!(
                "aiwg {} exited with {:?}: {}{}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// What a command printed.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The last line on stderr (the summary line of `apply` and `validate`).
    pub fn summary(&self) -> &str {
        self.stderr.trim_end().lines().last().unwrap_or("")
    }
}

/// Longer than the check cache's racy window (2 s): files written less than that before a
/// check are not trusted by its cache.
const RACY_WAIT: Duration = Duration::from_millis(2200);

/// The timings of one side of a measurement: wall-clock time per run, and the CPU time (user +
/// system) its child processes used in all runs together.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    wall: Vec<Duration>,
    /// `None` once a reading failed (not Linux).
    cpu: Option<Duration>,
    cpu_read: bool,
}

impl Samples {
    /// Times one call of `f` (wall clock, and the CPU time of the processes it waited for).
    pub fn time(&mut self, f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
        let cpu_before = children_cpu();
        let start = Instant::now();
        f()?;
        self.wall.push(start.elapsed());
        let used = match (cpu_before, children_cpu()) {
            (Some(a), Some(b)) => b.checked_sub(a),
            _ => None,
        };
        self.cpu = match (self.cpu_read, self.cpu, used) {
            (false, _, used) => used,
            (true, Some(total), Some(more)) => Some(total + more),
            _ => None,
        };
        self.cpu_read = true;
        Ok(())
    }

    /// The mean CPU time (user + system) of one run's processes: load on the machine barely
    /// moves it, so its ratio means something where wall-clock ratios do not. Waiting for the
    /// disk (aiwg's `syncfs`, `sync -f`) is not CPU time; the kernel's writeback threads are not
    /// counted for either side.
    pub fn cpu_mean(&self) -> Option<Duration> {
        let runs = u32::try_from(self.wall.len()).ok().filter(|n| *n > 0)?;
        self.cpu.map(|total| total / runs)
    }

    /// Whether the CPU time of all runs together is long enough (ten clock ticks) for a ratio:
    /// it is read to one tick (usually 10 ms) over all the runs.
    pub fn cpu_measurable(&self) -> bool {
        self.cpu
            .is_some_and(|total| total.as_secs_f64() * clock_ticks() as f64 >= 10.0)
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.wall.clone();
        v.sort();
        v
    }

    /// The median (the upper one of an even count).
    pub fn median(&self) -> Duration {
        let v = self.sorted();
        v.get(v.len() / 2).copied().unwrap_or_default()
    }

    /// The fastest run.
    pub fn min(&self) -> Duration {
        self.sorted().first().copied().unwrap_or_default()
    }

    /// The slowest run.
    pub fn max(&self) -> Duration {
        self.sorted().last().copied().unwrap_or_default()
    }

    /// `median [min..max]` in milliseconds.
    pub fn spread(&self) -> String {
        format!(
            "{:.1} [{:.1}..{:.1}]",
            self.median().as_secs_f64() * 1e3,
            self.min().as_secs_f64() * 1e3,
            self.max().as_secs_f64() * 1e3
        )
    }
}

/// The user + system time of this process's waited-for children so far (`cutime` + `cstime`
/// of `/proc/self/stat`; the kernel keeps the sum exact and reports it in clock ticks, so a
/// difference over several runs is good to a tick over their count). `None` off Linux.
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces: the
    // first is field 3 (state); cutime and cstime are fields 16 and 17.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64))
}

/// Clock ticks per second (`getconf CLK_TCK`, asked once; 100 when it cannot be asked).
pub fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|t| t.trim().parse().ok())
            .filter(|t| *t > 0)
            .unwrap_or(100)
    })
}

/// A CPU time for a table cell.
pub fn cpu_ms(d: Option<Duration>) -> String {
    d.map_or("n/a".into(), |d| format!("{:.1}", d.as_secs_f64() * 1000.0))
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Where GNU time lives (it reports the child's maximum RSS).
const GNU_TIME: &str = "/usr/bin/time";

/// The maximum resident set size of `cmd` in KiB, run once under `/usr/bin/time -f %M`; `None`
/// when GNU time is not installed. Fails when the command does not exit with `want`.
pub fn max_rss_kib(cmd: &Command, want: i32) -> anyhow::Result<Option<u64>> {
    if !Path::new(GNU_TIME).exists() {
        return Ok(None);
    }
    let report = std::env::temp_dir().join(format!("aiwg-bench-rss-{}", std::process::id()));
    let leading = [
        OsStr::new("-f"),
        OsStr::new("%M"),
        OsStr::new("-o"),
        report.as_os_str(),
    ];
    let out = under(GNU_TIME, &leading, cmd).output()?;
    if out.status.code() != Some(want) {
        bail!(
            "{:?} exited with {:?} under {GNU_TIME}: {}",
            cmd.get_program(),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(&report)?;
    let _ = std::fs::remove_file(&report);
    let kib = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("cannot read {GNU_TIME}'s report: {text}"))?;
    Ok(Some(kib))
}

/// `program <leading> <cmd's program and arguments>`, in `cmd`'s folder with its environment:
/// `cmd` run under a tool (GNU time, strace).
pub fn under(program: &str, leading: &[&OsStr], cmd: &Command) -> Command {
    let mut wrapped = Command::new(program);
    wrapped
        .args(leading)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => wrapped.env(key, v),
            None => wrapped.env_remove(key),
        };
    }
    wrapped
}

/// A maximum RSS for a table cell.
pub fn rss(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// `cp -r <entries> <to>` run in `from`, into a fresh `to` (made before timing).
pub fn cp_r(from: &Path, entries: &[String], to: &Path) -> Command {
    let mut cmd = Command::new("cp");
    cmd.arg("-r").args(entries).arg(to).current_dir(from);
    cmd
}

/// Runs a prepared command; fails unless it succeeds.
pub fn run_ok(mut cmd: Command) -> anyhow::Result<()> {
    let status = cmd.status()?;
    if !status.success() {
        bail!("{:?} failed", cmd.get_program());
    }
    Ok(())
}
