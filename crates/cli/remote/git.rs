//! Running the `git` executable for git sources, hardened: a cleaned environment, config that
//! turns off everything that could run code or reach another protocol, a deadline, and caps on
//! what it may print and write.
//!
//! What a repository can make git do is limited to the repository's own objects: no hook runs
//! (`core.hooksPath=/dev/null`), no fsmonitor, no filter or text conversion on checkout (the
//! cache's `info/attributes`, written by [`super::cache`]), no submodule is fetched, and only
//! the one protocol of the URL is allowed (`GIT_ALLOW_PROTOCOL`, `protocol.allow=never`), so a
//! redirect or an `ext::` URL goes nowhere. Incoming objects are checked (`fsckObjects`).
//! The user's global git config is read only for a fetch (credential helpers, `insteadOf`,
//! proxies: aiwg stores no credentials); the system config never.

use std::ffi::{OsStr, OsString};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one git command may take: `AIWG_GIT_TIMEOUT` seconds, default 120.
pub fn timeout() -> Duration {
    std::env::var("AIWG_GIT_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(Duration::from_secs(120), Duration::from_secs)
}

/// The most a fetch may write into the cache: `AIWG_GIT_MAX_FETCH_MB`, default 512 MiB.
pub fn max_fetch_bytes() -> u64 {
    std::env::var("AIWG_GIT_MAX_FETCH_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|m| *m > 0)
        .map_or(512 << 20, |m| m << 20)
}

/// The environment variables a git command keeps: what finds programs, the home folder (and
/// with it `~/.ssh`), the user's ssh agent, askpass helpers and proxies. Every other `GIT_*`
/// variable is dropped (a pre-commit hook runs aiwg with `GIT_DIR` and `GIT_INDEX_FILE` set).
const KEPT_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "SSH_AUTH_SOCK",
    "SSH_ASKPASS",
    "GIT_ASKPASS",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_SSH_VARIANT",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "GIT_CONFIG_GLOBAL",
];

/// Config given on every command line (it beats every config file).
const HARDENING: &[&str] = &[
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.autocrlf=false",
    "core.symlinks=true",
    "core.protectNTFS=true",
    "core.protectHFS=true",
    "gc.auto=0",
    "maintenance.auto=false",
    "fetch.recurseSubmodules=false",
    "submodule.recurse=false",
    "transfer.fsckObjects=true",
    "protocol.allow=never",
    "init.defaultBranch=main",
    "advice.detachedHead=false",
];

/// Why a git command did not give an answer.
#[derive(Debug)]
pub enum Failure {
    /// There is no `git` to run.
    NotInstalled,
    /// It could not be started.
    Spawn(std::io::Error),
    /// It ran past its deadline and was stopped.
    Timeout(Duration),
    /// It printed or fetched more than allowed and was stopped.
    TooBig(&'static str, u64),
    /// It exited with an error; its message (last lines of stderr, without git's hints).
    Failed(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NotInstalled => f.write_str("`git` is not installed (or not on PATH)"),
            Failure::Spawn(e) => write!(f, "cannot run git: {e}"),
            Failure::Timeout(d) => write!(f, "git did not finish within {} s", d.as_secs()),
            Failure::TooBig(what, cap) => write!(f, "{what} over {} MiB; stopped", cap >> 20),
            Failure::Failed(message) => f.write_str(message),
        }
    }
}

/// One git command to run.
pub struct Git {
    args: Vec<OsString>,
    env: Vec<(&'static str, OsString)>,
    user_config: bool,
    protocol: Option<&'static str>,
    /// Stop when this folder grows past this many bytes (a fetch's objects).
    watch: Option<(PathBuf, u64)>,
    max_output: u64,
    stdin: Option<Vec<u8>>,
}

impl Git {
    /// `git --git-dir=<git_dir> <args>` (no git dir for `init`).
    pub fn new(git_dir: Option<&Path>) -> Git {
        let mut args: Vec<OsString> = Vec::new();
        for c in HARDENING {
            args.push("-c".into());
            args.push((*c).into());
        }
        if let Some(dir) = git_dir {
            let mut arg = OsString::from("--git-dir=");
            arg.push(dir);
            args.push(arg);
        }
        Git {
            args,
            env: Vec::new(),
            user_config: false,
            protocol: None,
            watch: None,
            max_output: 32 << 20,
            stdin: None,
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Git
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets an environment variable for this command (`GIT_INDEX_FILE`).
    pub fn env(mut self, key: &'static str, value: impl Into<OsString>) -> Git {
        self.env.push((key, value.into()));
        self
    }

    /// A network command: the user's global config is read (credentials, `insteadOf`), and
    /// only `protocol` (`https`, `ssh` or `file`) may be used.
    pub fn network(mut self, protocol: &'static str) -> Git {
        self.user_config = true;
        self.protocol = Some(protocol);
        self.args
            .insert(0, format!("protocol.{protocol}.allow=always").into());
        self.args.insert(0, "-c".into());
        self
    }

    /// Stops the command once `dir` holds more than `cap` bytes.
    pub fn watch(mut self, dir: &Path, cap: u64) -> Git {
        self.watch = Some((dir.to_path_buf(), cap));
        self
    }

    /// Feeds `bytes` on stdin.
    pub fn stdin(mut self, bytes: Vec<u8>) -> Git {
        self.stdin = Some(bytes);
        self
    }

    /// Runs it; its stdout when it succeeds.
    pub fn run(self) -> Result<Vec<u8>, Failure> {
        let mut cmd = Command::new("git");
        cmd.args(&self.args).env_clear();
        for key in KEPT_ENV {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_NO_REPLACE_OBJECTS", "1")
            .env("GIT_ALLOW_PROTOCOL", self.protocol.unwrap_or("none"))
            .env("LC_ALL", "C");
        if !self.user_config {
            cmd.env("GIT_CONFIG_GLOBAL", "/dev/null");
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Failure::NotInstalled)
            }
            Err(e) => return Err(Failure::Spawn(e)),
        };
        if let (Some(bytes), Some(mut input)) = (self.stdin, child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = std::io::Write::write_all(&mut input, &bytes);
            });
        }
        let over = Arc::new(AtomicBool::new(false));
        let stdout = child
            .stdout
            .take()
            .map(|s| reader(s, self.max_output, &over));
        let stderr = child.stderr.take().map(|s| reader(s, 1 << 20, &over));
        let deadline = Instant::now() + timeout();
        let mut last_watch = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => return Err(Failure::Spawn(e)),
            }
            let stop = if Instant::now() > deadline {
                Some(Failure::Timeout(timeout()))
            } else if over.load(Ordering::Relaxed) {
                Some(Failure::TooBig("its output is", self.max_output))
            } else if let Some((dir, cap)) = &self.watch {
                let due = last_watch.elapsed() > Duration::from_millis(100);
                if due {
                    last_watch = Instant::now();
                }
                (due && folder_size(dir, 4) > *cap).then_some(Failure::TooBig("the fetch is", *cap))
            } else {
                None
            };
            if let Some(failure) = stop {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failure);
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let out = stdout
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let err = stderr
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        if over.load(Ordering::Relaxed) {
            return Err(Failure::TooBig("its output is", self.max_output));
        }
        // A fetch faster than the polling is measured once more when it is done.
        if let Some((dir, cap)) = &self.watch {
            if folder_size(dir, 4) > *cap {
                return Err(Failure::TooBig("the fetch is", *cap));
            }
        }
        if status.success() {
            Ok(out)
        } else {
            Err(Failure::Failed(message(&err, status)))
        }
    }
}

/// Reads a pipe to its end, keeping at most `cap` bytes (and flagging `over` past it).
fn reader(
    mut pipe: impl std::io::Read + Send + 'static,
    cap: u64,
    over: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    let over = Arc::clone(over);
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut pipe).take(cap + 1).read_to_end(&mut out);
        if out.len() as u64 > cap {
            over.store(true, Ordering::Relaxed);
            out.truncate(cap as usize);
        }
        out
    })
}

/// Git's own message: the last few lines of stderr that are not hints or progress.
fn message(stderr: &[u8], status: std::process::ExitStatus) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    if tail.is_empty() {
        format!("git failed ({status})")
    } else {
        tail.join("; ")
    }
}

/// Bytes in the files under `dir`, `depth` folders deep (a git folder's objects).
fn folder_size(dir: &Path, depth: usize) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() && depth > 0 => folder_size(&e.path(), depth - 1),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_cleaned_and_hooks_are_off() {
        // `git var -l` prints the config git sees and the identity variables it uses.
        let dir = tempfile::tempdir().unwrap();
        let out = Git::new(None)
            .args(["-C"])
            .args([dir.path()])
            .args(["config", "--list"])
            .run()
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("core.hookspath=/dev/null"), "{text}");
        assert!(text.contains("protocol.allow=never"), "{text}");
    }

    #[test]
    fn a_failure_names_gits_message_without_hints() {
        let dir = tempfile::tempdir().unwrap();
        let e = Git::new(Some(&dir.path().join("nothing")))
            .args(["rev-parse", "HEAD"])
            .run()
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("not a git repository"), "{text}");
    }
}
