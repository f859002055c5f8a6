//! `cargo xtask interop`: real clients judge aiwg's output. Installs each client at its pinned
//! version, deploys the fixture with the workspace's aiwg binary, runs the client offline
//! against the fake model server, and reads the recorded requests: per kind and scope, seen or
//! not. Fails when a kind aiwg claims for the platform is not seen, or the client reports a
//! problem with a file aiwg wrote. Writes `xtask/interop/results.json` and the README's
//! "verified with" table.

pub mod api;
pub mod clients;
pub mod evidence;
pub mod install;
pub mod mcp;
pub mod mcp_readme;
pub mod packages;
pub mod plan;
pub mod readme;
pub mod run;
pub mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _};
use serde_json::Value;

use clients::{Client, CLIENTS};
use evidence::{Cell, Inputs, Status, KINDS};

/// A deploy scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The repository.
    Project,
    /// The home folder.
    User,
}

impl Scope {
    /// As aiwg spells it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Project => "project",
            Scope::User => "user",
        }
    }
}

/// Parsed command line.
#[derive(Debug)]
pub struct Args {
    /// Clients to run, in table order.
    pub clients: Vec<&'static Client>,
    /// Scopes to run.
    pub scopes: Vec<Scope>,
}

/// Parses `[--clients a,b] [--scope project|user|both]`.
pub fn parse_args(args: &[String]) -> anyhow::Result<Args> {
    let mut clients: Vec<&'static Client> = CLIENTS.iter().collect();
    let mut scopes = vec![Scope::Project, Scope::User];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag {
            "--clients" => {
                let wanted = value()?;
                let mut picked = Vec::new();
                for id in wanted.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match clients::find(id) {
                        Some(c) => picked.push(c),
                        None => bail!(
                            "unknown client `{id}`\nhint: known clients: {}",
                            CLIENTS.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
                        ),
                    }
                }
                if picked.is_empty() {
                    bail!("--clients is empty\nhint: name at least one client");
                }
                clients = CLIENTS
                    .iter()
                    .filter(|c| picked.iter().any(|p| p.id == c.id))
                    .collect();
            }
            "--scope" => {
                scopes = match value()?.as_str() {
                    "project" => vec![Scope::Project],
                    "user" => vec![Scope::User],
                    "both" => vec![Scope::Project, Scope::User],
                    other => bail!("unknown scope `{other}`\nhint: project, user or both"),
                }
            }
            other => bail!(
                "unknown argument `{other}`\nhint: cargo xtask interop [--clients a,b,...] [--scope project|user|both]"
            ),
        }
    }
    Ok(Args { clients, scopes })
}

/// What `aiwg platforms --json` claims: (platform, kind, scope) → `native`/`fallback`/…
pub type Claims = BTreeMap<(String, String, String), String>;

/// Reads the claims out of `aiwg platforms --json`.
pub fn parse_claims(json: &Value) -> Claims {
    let mut out = Claims::new();
    for p in json["platforms"].as_array().into_iter().flatten() {
        let id = p["id"].as_str().unwrap_or_default();
        for k in p["kinds"].as_array().into_iter().flatten() {
            let kind = k["kind"].as_str().unwrap_or_default();
            for scope in ["project", "user"] {
                if let Some(s) = k[scope]["support"].as_str() {
                    out.insert((id.into(), kind.into(), scope.into()), s.into());
                }
            }
        }
    }
    out
}

/// One client's results: (scope, kind) → cell; or why it could not run.
pub struct ClientResult {
    /// The client.
    pub client: &'static Client,
    /// Cells per scope and kind.
    pub cells: BTreeMap<(&'static str, &'static str), Cell>,
    /// Set when it could not be installed or run.
    pub broken: Option<String>,
    /// Install seconds (0 when cached) and run seconds.
    pub install_secs: f64,
    /// Seconds of all its cases.
    pub run_secs: f64,
}

impl ClientResult {
    /// The failing cells: claimed by aiwg and not seen, or seen with an error.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(b) = &self.broken {
            out.push(b.clone());
        }
        for ((scope, kind), cell) in &self.cells {
            if matches!(cell.status, Status::NotSeen | Status::SeenWithError) {
                out.push(format!(
                    "{scope} {kind}: {}: {}",
                    cell.status.label(),
                    cell.evidence
                ));
            }
        }
        out
    }
}

/// Client installs run this many at a time (downloads, not CPU, bound them).
const INSTALL_JOBS: usize = 4;

fn workspace() -> PathBuf {
    super::root()
}

/// Builds the aiwg binary of this workspace and returns its path.
fn build_aiwg(root: &Path) -> anyhow::Result<PathBuf> {
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "--bin", "aiwg"])
        .current_dir(root)
        .status()
        .context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build --bin aiwg failed");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("debug/aiwg"))
}

/// Runs the suite.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let args = parse_args(args)?;
    let root = workspace();
    let aiwg = build_aiwg(&root)?;
    let fixture = root.join("xtask/interop/fixture");
    let out = Command::new(&aiwg)
        .args(["platforms", "--json"])
        .output()
        .context("cannot run aiwg platforms --json")?;
    let claims =
        parse_claims(&serde_json::from_slice(&out.stdout).context("aiwg platforms --json")?);
    let cache = install::Cache::new(&root);
    // AIWG_INTEROP_NO_NETNS=1 takes the fallback on purpose (to test it).
    let netns = std::env::var_os("AIWG_INTEROP_NO_NETNS").is_none() && run::netns_available();
    if netns {
        eprintln!(
            "interop: clients run in a fresh network namespace (unshare -n) with only lo, proxy \
             variables pointing at the fake server"
        );
    } else {
        eprintln!(
            "interop: {}: clients run with only HTTP(S)_PROXY/ALL_PROXY pointing at the fake \
             server (weaker isolation)",
            if std::env::var_os("AIWG_INTEROP_NO_NETNS").is_some() {
                "AIWG_INTEROP_NO_NETNS is set"
            } else {
                "`unshare -n` is not available here"
            }
        );
    }
    eprintln!("interop: cache {}", cache.root.display());
    let started = Instant::now();
    let prefetched = cache.prefetch(&args.clients, INSTALL_JOBS);
    eprintln!(
        "interop: installs ready in {:.1}s (failures are reported per client)",
        started.elapsed().as_secs_f64()
    );
    let setup = Setup {
        cache: &cache,
        aiwg: &aiwg,
        fixture: &fixture,
        claims: &claims,
        netns,
        prefetched: &prefetched,
    };
    // Made once here: the workers share it.
    run::inner_exe(&cache.root)?;
    let results = run_all(&args, &setup, jobs()?);
    run::remove_inner_exe(&cache.root);
    let path = root.join(readme::RESULTS);
    let mut stored = readme::Results::load(&path)?;
    for r in &results {
        stored.update(r);
    }
    stored.save(&path)?;
    readme::write_readme(&root, &stored)?;

    let mut failed = false;
    eprintln!("\ninterop summary:");
    for r in &results {
        let f = r.failures();
        failed |= !f.is_empty();
        eprintln!(
            "  {:<12} {:<10} install {:>6.1}s  run {:>6.1}s  {}",
            r.client.id,
            r.client.version,
            r.install_secs,
            r.run_secs,
            if f.is_empty() {
                "ok".to_string()
            } else {
                format!("FAILED ({} cells)", f.len())
            }
        );
    }
    if failed {
        bail!(
            "interop: some clients do not see what aiwg claims to deploy for them (details above)"
        );
    }
    Ok(())
}

/// Clients run this many at a time (`AIWG_INTEROP_JOBS`, default 2): most of a client's time
/// is spent waiting (start-up, refused telemetry), not on the CPU.
fn jobs() -> anyhow::Result<usize> {
    match std::env::var("AIWG_INTEROP_JOBS") {
        Err(_) => Ok(2),
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n @ 1..=16) => Ok(n),
            _ => bail!("AIWG_INTEROP_JOBS is `{v}`\nhint: a number from 1 to 16"),
        },
    }
}

/// Runs every client, `jobs` at a time; each client's table is printed whole when it is done.
/// Results come back in the client table's order.
fn run_all(args: &Args, setup: &Setup, jobs: usize) -> Vec<ClientResult> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(args.clients.len()).max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(client) = args.clients.get(i) else {
                    break;
                };
                let r = run_client(client, &args.scopes, setup);
                print_client(&r);
                if let Ok(mut d) = done.lock() {
                    d.push((i, r));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_default();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// What every client's run shares.
struct Setup<'a> {
    cache: &'a install::Cache,
    aiwg: &'a Path,
    fixture: &'a Path,
    claims: &'a Claims,
    netns: bool,
    /// Seconds the install phase spent per client id.
    prefetched: &'a [(&'static str, f64)],
}

fn run_client(client: &'static Client, scopes: &[Scope], setup: &Setup) -> ClientResult {
    let Setup {
        cache,
        aiwg,
        fixture,
        claims,
        netns,
        prefetched,
    } = *setup;
    let mut result = ClientResult {
        client,
        cells: BTreeMap::new(),
        broken: None,
        install_secs: 0.0,
        run_secs: 0.0,
    };
    eprintln!(
        "interop: {} {}: installing (cached after the first run)",
        client.name, client.version
    );
    let installed = match cache.install(client) {
        Ok(i) => i,
        Err(e) => {
            result.broken = Some(format!(
                "cannot install {} {}: {e:#}",
                client.name, client.version
            ));
            return result;
        }
    };
    result.install_secs = installed.took.as_secs_f64()
        + prefetched
            .iter()
            .find(|(id, _)| *id == client.id)
            .map_or(0.0, |(_, s)| *s);
    if !claims.keys().any(|(p, _, _)| p == client.platform) {
        result.broken = Some(format!(
            "aiwg has no platform `{}` (aiwg platforms --json does not list it)",
            client.platform
        ));
        return result;
    }
    let started = Instant::now();
    for &scope in scopes {
        eprintln!(
            "interop: {} {}: running ({} scope)",
            client.name,
            client.version,
            scope.name()
        );
        let output = match run::case(client, &installed, scope, aiwg, fixture, &cache.root, netns) {
            Ok(o) => o,
            Err(e) => {
                result.broken = Some(format!("{} scope: {e:#}", scope.name()));
                continue;
            }
        };
        let input = Inputs {
            records: &output.records,
            logs: &output.logs,
            hook_log: &output.hook_log,
            blocked_file_written: output.blocked_file_written,
            extra_names: &output.extra_names,
            client_says: &output.client_says,
        };
        for kind in KINDS {
            let claim = claims
                .get(&(client.platform.into(), kind.into(), scope.name().into()))
                .map(String::as_str)
                .unwrap_or("unsupported");
            let cell = if claim == "unsupported" {
                let note = output
                    .aiwg_notes
                    .lines()
                    .flat_map(|l| l.split("; "))
                    .find(|clause| clause.contains(&format!(" {kind}")))
                    .map(|clause| format!("aiwg: {}", clause.trim().trim_start_matches("note: ")))
                    .unwrap_or_else(|| "aiwg platforms: unsupported".to_string());
                Cell {
                    status: Status::NotDeployed,
                    evidence: note,
                }
            } else {
                evidence::judge(kind, &input)
            };
            result.cells.insert((scope.name(), kind), cell);
        }
        if output.records.is_empty() {
            result.broken = Some(format!(
                "{} scope: the client sent no request (see {})",
                scope.name(),
                output.case.display()
            ));
        }
        let mut tried: Vec<&str> = output
            .records
            .iter()
            .filter_map(|r| r["answer"].as_str()?.strip_prefix("refused proxy to "))
            .collect();
        tried.sort();
        tried.dedup();
        if !tried.is_empty() {
            eprintln!(
                "interop:   {} {}: hosts it tried to reach (refused): {}",
                client.id,
                scope.name(),
                tried.join(", ")
            );
        }
        eprintln!(
            "interop:   {} {}: {} requests in {:.1}s, calls {:?} (case folder {})",
            client.id,
            scope.name(),
            output.records.len(),
            output.secs,
            output
                .runs
                .iter()
                .map(|r| format!(
                    "exit {:?} {:.0}s{}",
                    r.code,
                    r.secs,
                    if r.killed.is_empty() {
                        String::new()
                    } else {
                        format!(", ended {:?}", r.killed)
                    }
                ))
                .collect::<Vec<_>>(),
            output.case.display()
        );
    }
    result.run_secs = started.elapsed().as_secs_f64();
    result
}

/// One client's table, printed in one piece (clients run in parallel).
fn print_client(r: &ClientResult) {
    let mut out = format!(
        "\n{} {} (aiwg platform `{}`)\n",
        r.client.name, r.client.version, r.client.platform
    );
    if let Some(b) = &r.broken {
        out.push_str(&format!("  FAILED: {b}\n"));
    }
    for ((scope, kind), cell) in &r.cells {
        out.push_str(&format!(
            "  {scope:<7} {kind:<8} {:<18} {}\n",
            cell.status.label(),
            cell.evidence
        ));
    }
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(s: &str) -> anyhow::Result<Args> {
        parse_args(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        let all = args("").unwrap();
        assert_eq!(all.clients.len(), CLIENTS.len());
        assert_eq!(all.scopes, [Scope::Project, Scope::User]);
        let one = args("--clients claude-code --scope user").unwrap();
        assert_eq!(
            one.clients.iter().map(|c| c.id).collect::<Vec<_>>(),
            ["claude-code"]
        );
        assert_eq!(one.scopes, [Scope::User]);
        assert_eq!(args("--scope=project").unwrap().scopes, [Scope::Project]);
        let err = args("--clients nope").unwrap_err().to_string();
        assert!(err.contains("unknown client `nope`") && err.contains("hint: known clients"));
        assert!(args("--scope sideways").is_err());
        assert!(args("--clients").is_err());
        assert!(args("--frobnicate").is_err());
    }

    #[test]
    fn claims_from_platforms_json() {
        let json = json!({"platforms": [{"id": "x", "kinds": [
            {"kind": "agent", "project": {"support": "native", "path": "a"},
             "user": {"support": "unsupported"}}]}]});
        let c = parse_claims(&json);
        assert_eq!(c[&("x".into(), "agent".into(), "project".into())], "native");
        assert_eq!(
            c[&("x".into(), "agent".into(), "user".into())],
            "unsupported"
        );
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn failures_list_claimed_cells_not_seen() {
        let mut r = ClientResult {
            client: &CLIENTS[0],
            cells: BTreeMap::new(),
            broken: None,
            install_secs: 0.0,
            run_secs: 0.0,
        };
        let cell = |status| Cell {
            status,
            evidence: "e".into(),
        };
        r.cells.insert(("project", "agent"), cell(Status::Seen));
        r.cells
            .insert(("project", "behavior"), cell(Status::NotDeployed));
        assert!(r.failures().is_empty());
        r.cells.insert(("user", "skill"), cell(Status::NotSeen));
        r.cells
            .insert(("user", "rule"), cell(Status::SeenWithError));
        assert_eq!(r.failures().len(), 2);
        r.broken = Some("cannot install".into());
        assert_eq!(r.failures()[0], "cannot install");
    }
}
