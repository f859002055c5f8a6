//! One case: a client in one scope. Outside the namespace: a fresh case folder (temp home,
//! scratch git repository), the deploy with the aiwg binary, and the spec of the runs. Inside
//! (`xtask interop-inner <spec>`, started under `unshare -n` when it works): `lo` up, the fake
//! server, each client call under `timeout`, stdin closed, then every process still carrying the
//! case's token in its environment ended by PID.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::clients::{self, Client, Ctx};
use super::install::Installed;
use super::plan::Plan;
use super::server::Server;
use super::Scope;

/// Seconds one client call may take (`timeout -k 5 <this>`). OpenClaw took 91 s on 2 cores
/// under a load of 20 (34 s under a load of 9).
pub const CALL_TIMEOUT: u64 = 180;

/// What the inner process needs, written as JSON by the outer one.
#[derive(Serialize, Deserialize)]
pub struct Spec {
    /// Bring `lo` up first (we are in a fresh network namespace).
    pub netns: bool,
    /// Marks the client's processes, so leftovers can be found by their environment.
    pub token: String,
    /// The working directory of the client.
    pub repo: PathBuf,
    /// The case folder (outputs).
    pub case: PathBuf,
    /// The whole environment of the client (`{port}` filled in inside).
    pub env: Vec<(String, String)>,
    /// Files to write before the first run.
    pub files: Vec<(PathBuf, String)>,
    /// Calls before the runs (logins); their requests get text only.
    pub setup: Vec<Vec<String>>,
    /// The client calls.
    pub runs: Vec<Vec<String>>,
    /// Run 0's plan.
    pub plan: Plan,
}

/// What one client call did, as recorded by the inner process.
#[derive(Serialize, Deserialize, Debug)]
pub struct RunOutcome {
    /// Exit code (124: timed out).
    pub code: Option<i32>,
    /// Seconds taken.
    pub secs: f64,
    /// PIDs of processes left behind and ended.
    pub killed: Vec<u32>,
}

/// Everything a case left for the evidence matcher.
pub struct CaseOutput {
    /// The case folder.
    pub case: PathBuf,
    /// aiwg's stderr of the deploy (its notices).
    pub aiwg_notes: String,
    /// Recorded requests, in order.
    pub records: Vec<Value>,
    /// Client logs: (name, text).
    pub logs: Vec<(String, String)>,
    /// The hook log the fixture's hook appends to (empty: it never ran).
    pub hook_log: String,
    /// The file the hook had to block exists.
    pub blocked_file_written: bool,
    /// The calls.
    pub runs: Vec<RunOutcome>,
    /// (kind, value) pairs aiwg wrote that a client may name in a warning.
    pub extra_names: Vec<(String, String)>,
    /// (kind, line): lines of the client's output that show it loaded that kind
    /// ([`clients::Drive::says`]).
    pub client_says: Vec<(String, String)>,
    /// Seconds the whole case took.
    pub secs: f64,
}

/// True when `unshare -n` gives this process a network namespace with a working `lo`.
pub fn netns_available() -> bool {
    Command::new("unshare")
        .args(["-n", "ip", "link", "set", "lo", "up"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_ok(cmd: &mut Command, what: &str) -> anyhow::Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        bail!("{what} failed ({}): {err}", out.status);
    }
    Ok(err)
}

/// The isolation variables of a case: the temp home, every XDG folder and every client's own
/// home variable under it, and aiwg's home. aiwg's deploy gets the same, so `--scope user`
/// writes where the client reads.
pub fn home_env(home: &Path, case: &Path) -> Vec<(String, String)> {
    let h = |rel: &str| home.join(rel).display().to_string();
    vec![
        ("HOME".into(), home.display().to_string()),
        ("XDG_CONFIG_HOME".into(), h(".config")),
        ("XDG_DATA_HOME".into(), h(".local/share")),
        ("XDG_STATE_HOME".into(), h(".local/state")),
        ("XDG_CACHE_HOME".into(), h(".cache")),
        ("AIWG_HOME".into(), h(".aiwg")),
        ("CLAUDE_CONFIG_DIR".into(), h(".claude")),
        ("CODEX_HOME".into(), h(".codex")),
        ("COPILOT_HOME".into(), h(".copilot")),
        ("HERMES_HOME".into(), h(".hermes")),
        ("OPENCLAW_HOME".into(), home.display().to_string()),
        ("OPENCLAW_STATE_DIR".into(), h(".openclaw")),
        ("CONTINUE_GLOBAL_DIR".into(), h(".continue")),
        ("KIMI_CODE_HOME".into(), h(".kimi-code")),
        ("VIBE_HOME".into(), h(".vibe")),
        ("TMPDIR".into(), case.join("tmp").display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("TERM".into(), "dumb".into()),
        ("NO_COLOR".into(), "1".into()),
        (
            "FX_HOOK_LOG".into(),
            case.join("hook.log").display().to_string(),
        ),
    ]
}

/// Runs `client` in `scope`: deploy, the calls in the namespace, and the outputs collected.
pub fn case(
    client: &Client,
    installed: &Installed,
    scope: Scope,
    aiwg: &Path,
    fixture: &Path,
    cache_root: &Path,
    netns: bool,
) -> anyhow::Result<CaseOutput> {
    let variant = Variant::default();
    case_with(
        client, installed, scope, aiwg, fixture, cache_root, netns, &variant,
    )
}

/// Files a variant adds, given (home, repo): (absolute path, text).
pub type ExtraFiles = Box<dyn Fn(&Path, &Path) -> Vec<(PathBuf, String)>>;

/// A variant's plan, given the repository.
pub type VariantPlan = Box<dyn Fn(&Path) -> Plan>;

/// A variation of a case for another check (MCP, packages): its own case folder, files the
/// client needs on top of its driver's (an approval setting), files of the repository before
/// the deploy, the folder the client starts in, and its own plan.
#[derive(Default)]
pub struct Variant {
    /// Put before the case folder's name (`mcp-`), so the main suite's folders stay.
    pub label: String,
    /// Files to add, given (home, repo).
    pub files: Option<ExtraFiles>,
    /// Files of the scratch repository before the deploy: (path relative to it, text).
    pub repo_files: Vec<(String, String)>,
    /// The folder the client starts in, relative to the repository (a package folder).
    pub cwd: Option<String>,
    /// The plan instead of the driver's, given the repository; only the plan run is made.
    pub plan: Option<VariantPlan>,
}

/// [`case`], varied.
#[allow(clippy::too_many_arguments)]
pub fn case_with(
    client: &Client,
    installed: &Installed,
    scope: Scope,
    aiwg: &Path,
    fixture: &Path,
    cache_root: &Path,
    netns: bool,
    variant: &Variant,
) -> anyhow::Result<CaseOutput> {
    let started = Instant::now();
    let case =
        cache_root
            .join("runs")
            .join(format!("{}{}-{}", variant.label, client.id, scope.name()));
    let _ = std::fs::remove_dir_all(&case);
    let home = case.join("home");
    let repo = case.join("repo");
    for d in [&home, &repo.join("src"), &case.join("tmp")] {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create `{}`", d.display()))?;
    }
    std::fs::write(
        repo.join("src/lib.rs"),
        "//! Interop fixture crate.\npub fn answer() -> u32 {\n    42\n}\n",
    )?;
    for (rel, text) in &variant.repo_files {
        if rel
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            bail!("a variant file `{rel}` is not a plain relative path");
        }
        let path = repo.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    let base_env = home_env(&home, &case);
    run_ok(
        Command::new("git").args(["init", "-q"]).current_dir(&repo),
        "git init",
    )?;
    let mut deploy = Command::new(aiwg);
    deploy
        .arg("-C")
        .arg(&repo)
        .arg("use")
        .arg(fixture)
        .args(["--platforms", client.platform, "--scope", scope.name()])
        // The suite is the user here: it consents to the fixture's hook.
        .arg("--allow-hooks")
        .env_clear()
        .envs(base_env.iter().cloned())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    let aiwg_notes = run_ok(&mut deploy, "aiwg use")?;
    std::fs::write(case.join("aiwg.err"), &aiwg_notes)?;
    let status = Command::new(aiwg)
        .arg("-C")
        .arg(&repo)
        .args(["status", "--json", "--scope", scope.name()])
        .env_clear()
        .envs(base_env.iter().cloned())
        .output()
        .context("cannot run aiwg status")?;
    std::fs::write(case.join("status.json"), &status.stdout)?;
    let extra_names = written_values(&serde_json::from_slice(&status.stdout).unwrap_or_default());
    if scope == Scope::User {
        // Only the home folder may explain what the client sees.
        let _ = std::fs::remove_dir_all(repo.join(".aiwg"));
        let _ = std::fs::remove_file(repo.join("aiwg.toml"));
        let _ = std::fs::remove_file(repo.join("aiwg.lock"));
    }

    let ctx = Ctx {
        home: &home,
        repo: &repo,
        case: &case,
        entry: installed.entry.clone(),
        node: installed.node.clone(),
        user: scope == Scope::User,
    };
    let drive = clients::drive(client, &ctx);
    let token = format!("{}-{}-{}", client.id, scope.name(), std::process::id());
    let mut env = base_env;
    let mut path: Vec<String> = installed
        .path
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    path.extend(["/usr/local/bin", "/usr/bin", "/bin"].map(String::from));
    env.push(("PATH".into(), path.join(":")));
    env.push(("AIWG_INTEROP_RUN".into(), token.clone()));
    // Also inside the namespace: a client that honours proxy variables then shows the hosts it
    // tries in the request log (refused), instead of failing silently.
    {
        let proxy = "http://127.0.0.1:{port}".to_string();
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            env.push((var.into(), proxy.clone()));
        }
        env.push(("NO_PROXY".into(), "127.0.0.1,localhost".into()));
        env.push(("no_proxy".into(), "127.0.0.1,localhost".into()));
    }
    env.extend(drive.env);
    let workdir = match &variant.cwd {
        Some(rel) => {
            let dir = repo.join(rel);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            dir
        }
        None => repo.clone(),
    };
    let (plan, runs) = match &variant.plan {
        Some(plan) => (plan(&repo), drive.runs.into_iter().take(1).collect()),
        None => (drive.plan, drive.runs),
    };
    let spec = Spec {
        netns,
        token,
        repo: workdir,
        case: case.clone(),
        env,
        files: {
            let mut files = drive.files;
            if let Some(extra) = &variant.files {
                files.extend(extra(&home, &repo));
            }
            files
        },
        setup: drive.setup,
        runs,
        plan,
    };
    let spec_path = case.join("spec.json");
    std::fs::write(&spec_path, serde_json::to_string_pretty(&spec)?)?;
    let me = inner_exe(cache_root)?;
    let mut inner = if netns {
        let mut c = Command::new("unshare");
        c.arg("-n").arg(&me);
        c
    } else {
        Command::new(&me)
    };
    inner.arg("interop-inner").arg(&spec_path);
    run_ok(&mut inner, "the client runs")?;

    let records = std::fs::read_to_string(case.join("requests.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut logs = Vec::new();
    for i in 0..spec.runs.len() {
        let exts: &[&str] = if drive.stdout_is_log {
            &["out", "err"]
        } else {
            &["err"]
        };
        for ext in exts {
            let name = format!("run{i}.{ext}");
            logs.push((name.clone(), read_lossy(&case.join(&name))));
        }
    }
    for log in &drive.logs {
        collect_logs(log, &case, &mut logs);
    }
    let mut client_says = Vec::new();
    for (kind, needle) in &drive.says {
        let found = (0..spec.runs.len())
            .flat_map(|i| ["out", "err"].map(|ext| read_lossy(&case.join(format!("run{i}.{ext}")))))
            .find_map(|text| {
                let line = text.lines().find(|l| l.contains(needle.as_str()))?;
                Some(line.trim().chars().take(160).collect::<String>())
            });
        if let Some(line) = found {
            client_says.push((kind.clone(), line));
        }
    }
    let runs = serde_json::from_str(&read_lossy(&case.join("runs.json"))).unwrap_or_default();
    Ok(CaseOutput {
        aiwg_notes,
        records,
        logs,
        hook_log: read_lossy(&case.join("hook.log")),
        blocked_file_written: repo.join(clients::BLOCKED_FILE).exists(),
        runs,
        extra_names,
        client_says,
        secs: started.elapsed().as_secs_f64(),
        case,
    })
}

/// (kind, model id) for every agent file `aiwg status --json` lists: clients warn about a model
/// by its id, not by the file.
pub fn written_values(status: &Value) -> Vec<(String, String)> {
    let root = Path::new(status["root"].as_str().unwrap_or("/nonexistent"));
    let mut out = Vec::new();
    for e in status["entries"].as_array().into_iter().flatten() {
        let (Some(path), Some(artifact)) = (e["path"].as_str(), e["artifact"].as_str()) else {
            continue;
        };
        let kind = artifact.split(':').next().unwrap_or_default();
        if kind != "agent" || path.contains("..") {
            continue;
        }
        for line in read_lossy(&root.join(path)).lines() {
            let Some(rest) = line.trim().strip_prefix("model") else {
                continue;
            };
            let value = rest
                .trim_start()
                .trim_start_matches([':', '='])
                .trim()
                .trim_matches(['"', '\'']);
            if !value.is_empty() && !out.iter().any(|(_, v)| v == value) {
                out.push((kind.to_string(), value.to_string()));
            }
        }
    }
    out
}

/// A copy of this xtask binary for the inner process, so a rebuild of xtask during a long run
/// cannot pull the file from under a later case.
pub fn inner_exe(cache_root: &Path) -> anyhow::Result<PathBuf> {
    let copy = cache_root.join(format!("xtask-inner-{}", std::process::id()));
    if !copy.exists() {
        let me = std::env::current_exe().context("cannot find the xtask binary")?;
        std::fs::copy(&me, &copy)
            .with_context(|| format!("cannot copy xtask to `{}`", copy.display()))?;
    }
    Ok(copy)
}

/// Removes the copy made by [`inner_exe`].
pub fn remove_inner_exe(cache_root: &Path) {
    let _ = std::fs::remove_file(cache_root.join(format!("xtask-inner-{}", std::process::id())));
}

fn read_lossy(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A log file, or every file under a log folder (bounded), named relative to the case.
fn collect_logs(p: &Path, case: &Path, out: &mut Vec<(String, String)>) {
    let name = p.strip_prefix(case).unwrap_or(p).display().to_string();
    if p.is_file() {
        out.push((name, read_lossy(p)));
    } else if let Ok(rd) = std::fs::read_dir(p) {
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for e in entries.into_iter().take(200) {
            collect_logs(&e, case, out);
        }
    }
}

/// `ours` merged into the JSON object `old` (aiwg may have written the same settings file, for
/// hooks): our keys win, theirs stay. `None` when either is not a JSON object.
pub fn merge_json(old: &str, ours: &str) -> Option<String> {
    fn merge(into: &mut Value, from: &Value) {
        match (into, from) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
            (slot, v) => *slot = v.clone(),
        }
    }
    let mut base: Value = serde_json::from_str(old).ok()?;
    let add: Value = serde_json::from_str(ours).ok()?;
    if !base.is_object() || !add.is_object() {
        return None;
    }
    merge(&mut base, &add);
    serde_json::to_string_pretty(&base).ok()
}

fn fill_port(s: &str, port: u16) -> String {
    s.replace("{port}", &port.to_string())
}

/// PIDs (other than ours) whose environment holds `AIWG_INTEROP_RUN=<token>`.
fn leftovers(token: &str) -> Vec<u32> {
    let needle = format!("AIWG_INTEROP_RUN={token}");
    let me = std::process::id();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes()))
        })
        .collect()
}

/// Run number of the first setup call in the request log.
pub const SETUP_RUN: usize = 100;

/// One client call under `timeout`, stdin closed, output to `<name>.out`/`.err`; then every
/// process left behind with the case's token is ended by PID.
fn call(spec: &Spec, argv: &[String], port: u16, name: &str) -> anyhow::Result<RunOutcome> {
    let started = Instant::now();
    let out = std::fs::File::create(spec.case.join(format!("{name}.out")))?;
    let err = std::fs::File::create(spec.case.join(format!("{name}.err")))?;
    let status = Command::new("timeout")
        .args(["-k", "5", &CALL_TIMEOUT.to_string()])
        .args(argv.iter().map(|a| fill_port(a, port)))
        .current_dir(&spec.repo)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, fill_port(v, port))))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status();
    let code = status.as_ref().ok().and_then(|s| s.code());
    let killed = leftovers(&spec.token);
    for pid in &killed {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    Ok(RunOutcome {
        code,
        secs: started.elapsed().as_secs_f64(),
        killed,
    })
}

/// The inner process: serves, runs each call, ends leftovers, writes `runs.json`.
pub fn inner(spec_path: &Path) -> anyhow::Result<()> {
    let spec: Spec = serde_json::from_str(
        &std::fs::read_to_string(spec_path)
            .with_context(|| format!("cannot read `{}`", spec_path.display()))?,
    )?;
    if spec.netns {
        run_ok(
            Command::new("ip").args(["link", "set", "lo", "up"]),
            "ip link set lo up",
        )?;
    }
    let run = Arc::new(AtomicUsize::new(0));
    let calls = (spec.runs.len() + spec.setup.len()) as u64;
    let deadline = Duration::from_secs((CALL_TIMEOUT + 10) * calls + 60);
    let server = Server::start(
        &spec.case.join("requests.jsonl"),
        spec.plan.clone(),
        run.clone(),
        deadline,
    )?;
    let port = server.port;
    for (path, text) in &spec.files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = fill_port(text, port);
        // aiwg may have written the same settings file: JSON is merged, YAML appended to, and
        // aiwg's TOML (only `[table]`s, such as `[mcp_servers.x]`) follows ours.
        let merged = std::fs::read_to_string(path).ok().and_then(|old| {
            if path.extension().is_some_and(|e| e == "yaml") {
                Some(format!("{}\n{text}", old.trim_end()))
            } else if path.extension().is_some_and(|e| e == "toml") {
                Some(format!("{}\n\n{old}", text.trim_end()))
            } else {
                merge_json(&old, &text)
            }
        });
        std::fs::write(path, merged.unwrap_or(text))?;
    }
    let mut outcomes = Vec::new();
    // Setup calls are runs SETUP_RUN.., so their requests never follow the plan.
    for (i, argv) in spec.setup.iter().enumerate() {
        run.store(SETUP_RUN + i, std::sync::atomic::Ordering::SeqCst);
        call(&spec, argv, port, &format!("setup{i}"))?;
    }
    for (i, argv) in spec.runs.iter().enumerate() {
        run.store(i, std::sync::atomic::Ordering::SeqCst);
        outcomes.push(call(&spec, argv, port, &format!("run{i}"))?);
    }
    server.stop();
    std::fs::write(
        spec.case.join("runs.json"),
        serde_json::to_string_pretty(&outcomes)?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_written_by_aiwg_keep_their_hooks() {
        let aiwg = r#"{"hooks": {"PreToolUse": [1]}, "security": {"x": 1}}"#;
        let ours = r#"{"security": {"auth": {"selectedType": "gemini-api-key"}}}"#;
        let merged: Value = serde_json::from_str(&merge_json(aiwg, ours).unwrap()).unwrap();
        assert_eq!(
            merged,
            serde_json::json!({"hooks": {"PreToolUse": [1]},
                               "security": {"x": 1, "auth": {"selectedType": "gemini-api-key"}}})
        );
        assert!(merge_json("not json", ours).is_none());
        assert!(merge_json("[1]", ours).is_none());
    }

    #[test]
    fn isolation_covers_every_home_variable() {
        let env = home_env(Path::new("/h"), Path::new("/c"));
        for var in [
            "HOME",
            "XDG_CONFIG_HOME",
            "CODEX_HOME",
            "COPILOT_HOME",
            "HERMES_HOME",
            "CLAUDE_CONFIG_DIR",
            "KIMI_CODE_HOME",
        ] {
            let v = &env.iter().find(|(k, _)| k == var).unwrap().1;
            assert!(v.starts_with("/h"), "{var}={v}");
        }
    }
}
