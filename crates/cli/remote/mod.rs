//! Git sources: `git+https://host/org/repo[@ref][#subdir]`, `git+ssh://…`, `file://…` and
//! `github:org/repo`, fetched into a cache under `$AIWG_HOME/git/` by the `git` executable
//! ([`git`]), pinned in `aiwg.lock`, and read from a checkout of the pinned commit with the same
//! rules as any folder source ([`aiwg_core::source::SourceTree::read_dir_as`]).
//!
//! A pin moves only on purpose: `aiwg update` ([`set_refresh`]), or when `aiwg.toml` asks for
//! another URL, ref or sub-folder than the pin records. `apply` and `check` read the pinned
//! commit, from the cache when it is there (no git process at all) or fetched by its id.
//! `--offline` never fetches; `--frozen` refuses any source the lock does not pin as asked.

pub mod cache;
pub mod git;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aiwg_core::escape::escape;
use aiwg_core::RelPath;
use aiwg_deploy::lock::{Lock, SourcePin, LOCK_FILE};

use crate::commands::UserError;

/// The transport a git source uses; the only one its git commands may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Https,
    Ssh,
    File,
}

impl Protocol {
    /// The name `GIT_ALLOW_PROTOCOL` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Https => "https",
            Protocol::Ssh => "ssh",
            Protocol::File => "file",
        }
    }
}

/// A git source spec of `aiwg.toml`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSpec {
    /// The name its artifacts record: `name` of `name@git+…`, else the whole spec.
    pub name: String,
    /// What git fetches.
    pub url: String,
    pub protocol: Protocol,
    /// The ref asked for; `None` is the remote's `HEAD`.
    pub reference: Option<String>,
    /// The folder of the repository that is the source root.
    pub subdir: Option<RelPath>,
}

impl GitSpec {
    /// The ref as the lock records it.
    pub fn reference(&self) -> &str {
        self.reference.as_deref().unwrap_or("HEAD")
    }

    /// True when `pin` was made for exactly this URL, ref and sub-folder.
    pub fn agrees(&self, pin: &SourcePin) -> bool {
        pin.url == self.url
            && pin.reference == self.reference()
            && pin.subdir.as_deref() == self.subdir.as_ref().map(RelPath::as_str)
    }

    /// `url@ref#subdir`, for messages.
    pub fn shown(&self) -> String {
        let mut s = self.url.clone();
        if let Some(r) = &self.reference {
            s.push('@');
            s.push_str(r);
        }
        if let Some(d) = &self.subdir {
            s.push('#');
            s.push_str(d.as_str());
        }
        escape(&s).into_owned()
    }
}

const PREFIXES: [&str; 5] = [
    "git+https://",
    "git+ssh://",
    "git+file://",
    "file://",
    "github:",
];

/// True when `spec` names a git source (with or without a `name@` in front).
pub fn is_git_spec(spec: &str) -> bool {
    split_name(spec).1.is_some()
}

/// `(name, url part)` when `spec` is a git spec.
fn split_name(spec: &str) -> (Option<&str>, Option<&str>) {
    // Any URL-looking spec is taken as a git source, so a disallowed scheme (`http://`,
    // `git+ext::`) is refused by name instead of being looked for as a folder.
    let starts = |s: &str| {
        PREFIXES.iter().any(|p| s.starts_with(p)) || s.starts_with("git+") || s.contains("://")
    };
    match spec.split_once('@') {
        Some((name, rest))
            if starts(rest)
                && !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
        {
            (Some(name), Some(rest))
        }
        _ if starts(spec) => (None, Some(spec)),
        _ => (None, None),
    }
}

/// Parses a git spec; `None` when `spec` is not one, an error saying what is wrong when it is
/// one but malformed.
pub fn parse(spec: &str) -> Option<Result<GitSpec, String>> {
    let (name, body) = split_name(spec);
    let body = body?;
    Some(
        parse_body(body).map(|(url, protocol, reference, subdir)| GitSpec {
            name: name.unwrap_or(spec).to_string(),
            url,
            protocol,
            reference,
            subdir,
        }),
    )
}

type Parts = (String, Protocol, Option<String>, Option<RelPath>);

fn parse_body(body: &str) -> Result<Parts, String> {
    if body.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a git source holds no spaces or control characters".into());
    }
    let (body, subdir) = match body.rsplit_once('#') {
        Some((b, d)) => {
            let d = d.trim_matches('/');
            let rel = RelPath::new(d).map_err(|e| format!("sub-folder `#{d}`: {e}"))?;
            (b, Some(rel))
        }
        None => (body, None),
    };
    if let Some(repo) = body.strip_prefix("github:") {
        let (repo, reference) = split_ref(repo)?;
        let parts: Vec<&str> = repo.trim_end_matches(".git").split('/').collect();
        let word = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        if parts.len() != 2 || !parts.iter().all(|p| word(p)) {
            return Err("`github:` takes `org/repo`".into());
        }
        let url = format!("https://github.com/{}/{}.git", parts[0], parts[1]);
        return Ok((url, Protocol::Https, reference, subdir));
    }
    let url = body.strip_prefix("git+").unwrap_or(body);
    let (scheme, rest) = url.split_once("://").ok_or("no `://` in the URL")?;
    let protocol = match scheme {
        "https" => Protocol::Https,
        "ssh" => Protocol::Ssh,
        "file" => Protocol::File,
        other => return Err(format!("`{other}://` is not allowed (https, ssh or file)")),
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if protocol != Protocol::File && authority.is_empty() {
        return Err("the URL names no host".into());
    }
    if authority.starts_with('-') {
        return Err("a host cannot start with `-`".into());
    }
    let (path, reference) = split_ref(path)?;
    if path.trim_matches('/').is_empty() {
        return Err("the URL names no repository".into());
    }
    let url = format!("{scheme}://{authority}/{path}");
    Ok((url, protocol, reference, subdir))
}

/// `path@ref` → the path and the checked ref.
fn split_ref(path: &str) -> Result<(&str, Option<String>), String> {
    let Some((path, reference)) = path.split_once('@') else {
        return Ok((path, None));
    };
    check_ref(reference)?;
    Ok((path, Some(reference.to_string())))
}

/// A ref git accepts as a name, and that cannot be read as an option or a refspec.
fn check_ref(r: &str) -> Result<(), String> {
    let bad = r.is_empty()
        || r.starts_with(['-', '/', '.'])
        || r.ends_with(['/', '.'])
        || r.ends_with(".lock")
        || r.contains("..")
        || r.contains("@{")
        || r.contains("//")
        || r.chars().any(|c| "~^:?*[\\".contains(c) || c.is_control());
    if bad {
        return Err(format!("`@{}` is not a ref name git accepts", escape(r)));
    }
    Ok(())
}

/// What the command line allows git sources to do in this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// `--frozen`: every git source must be pinned in the lock as `aiwg.toml` asks.
    pub frozen: bool,
    /// `--offline`: never fetch; the cache only.
    pub offline: bool,
}

/// What this run knows about git sources: its options, the pins it reads, which sources
/// `aiwg update` refreshes, and what each source resolved to.
#[derive(Default)]
struct Run {
    options: RunOptions,
    /// The pins of the lock this run deploys with (`None`: not read yet).
    pins: Option<Vec<SourcePin>>,
    /// `aiwg update`: the names to move (`Some(empty)`: all).
    refresh: Option<BTreeSet<String>>,
    /// Each git source read, by name: its pin now.
    resolved: BTreeMap<String, SourcePin>,
}

static RUN: Mutex<Option<Run>> = Mutex::new(None);

fn with_run<T>(f: impl FnOnce(&mut Run) -> T) -> T {
    let mut guard = RUN.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Run::default))
}

/// Sets what the command line allows; called before the command runs.
pub fn set_run_options(options: RunOptions) {
    with_run(|r| r.options = options);
}

/// The options of this run.
pub fn run_options() -> RunOptions {
    with_run(|r| r.options)
}

/// `aiwg update`: these sources (every git source when empty) move to what their ref is now.
pub fn set_refresh(names: BTreeSet<String>) {
    with_run(|r| r.refresh = Some(names));
}

/// True when `aiwg update` moves the source `name` in this run.
pub fn refreshes(name: &str) -> bool {
    with_run(|r| {
        r.refresh
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.contains(name))
    })
}

/// Uses the pins of `lock` (the lock of the scope this run deploys).
pub fn use_lock(lock: &Lock) {
    let pins = lock.pins().cloned().collect();
    with_run(|r| r.pins = Some(pins));
}

/// The pins this run reads: those given by [`use_lock`], else those of the project's
/// `aiwg.lock` (an unreadable lock pins nothing; the engine reports it when it plans).
pub fn pins(root: &Path) -> Vec<SourcePin> {
    if let Some(p) = with_run(|r| r.pins.clone()) {
        return p;
    }
    let pins: Vec<SourcePin> = std::fs::read(root.join(LOCK_FILE))
        .ok()
        .and_then(|b| Lock::parse(LOCK_FILE, &String::from_utf8_lossy(&b)).ok())
        .map(|l| l.pins().cloned().collect())
        .unwrap_or_default();
    with_run(|r| r.pins = Some(pins.clone()));
    pins
}

/// The pin `spec` is read at in this run, when one agrees with it and it is not refreshed.
pub fn pin_for(spec: &GitSpec, root: &Path) -> Option<SourcePin> {
    if refreshes(&spec.name) {
        return None;
    }
    pins(root)
        .into_iter()
        .find(|p| p.name == spec.name && spec.agrees(p))
}

/// Every git source read in this run, with its pin: what the lock should say after it.
pub fn resolved() -> Vec<SourcePin> {
    with_run(|r| r.resolved.values().cloned().collect())
}

/// How the pins of `lock` differ from what this run resolved, one line each
/// (`pinned`/`moved`/`unpinned` and the source), empty when they agree.
pub fn pin_changes(lock: &Lock) -> Vec<PinChange> {
    let now: BTreeMap<String, SourcePin> = resolved()
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
    let mut changes = Vec::new();
    for pin in now.values() {
        match lock.pin(&pin.name) {
            Some(old) if old == pin => {}
            Some(old) => changes.push(PinChange::Moved(old.clone(), pin.clone())),
            None => changes.push(PinChange::New(pin.clone())),
        }
    }
    for old in lock.pins().filter(|p| !now.contains_key(&p.name)) {
        changes.push(PinChange::Dropped(old.clone()));
    }
    changes
}

/// One difference between the lock's pins and this run's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinChange {
    New(SourcePin),
    Moved(SourcePin, SourcePin),
    Dropped(SourcePin),
}

impl PinChange {
    /// The state word `check` prints.
    pub fn state(&self) -> &'static str {
        match self {
            PinChange::New(_) => "unpinned",
            PinChange::Moved(..) => "pin-moved",
            PinChange::Dropped(_) => "pin-stale",
        }
    }

    /// The source it is about.
    pub fn name(&self) -> &str {
        match self {
            PinChange::New(p) | PinChange::Moved(_, p) | PinChange::Dropped(p) => &p.name,
        }
    }

    /// One line for a person (`dry_run`: "would").
    pub fn describe(&self, dry_run: bool) -> String {
        let (pin, moved, drop) = if dry_run {
            ("would pin", "would move", "would drop the pin of")
        } else {
            ("pinned", "moved", "dropped the pin of")
        };
        match self {
            PinChange::New(p) => format!(
                "pin: {pin} `{}` at {} (`{}`)",
                escape(&p.name),
                short(&p.commit),
                escape(&p.reference)
            ),
            PinChange::Moved(a, b) => format!(
                "pin: {moved} `{}` from {} to {} (`{}`)",
                escape(&b.name),
                short(&a.commit),
                short(&b.commit),
                escape(&b.reference)
            ),
            PinChange::Dropped(p) => format!(
                "pin: {drop} `{}`: `aiwg.toml` no longer names it",
                escape(&p.name)
            ),
        }
    }
}

/// The first 12 hex digits of a commit id.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Stops (exit 2) under `--frozen` when the lock's pins and `aiwg.toml` disagree.
pub fn check_frozen(lock: &Lock) -> anyhow::Result<()> {
    if !run_options().frozen {
        return Ok(());
    }
    let changes = pin_changes(lock);
    if changes.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = changes.iter().map(|c| c.describe(true)).collect();
    Err(UserError::new(
        format!(
            "`{LOCK_FILE}` and `aiwg.toml` disagree, and --frozen changes no pin:\n  {}",
            lines.join("\n  ")
        ),
        "run `aiwg apply` (or `aiwg update <source>`) without --frozen and commit `aiwg.lock`",
    )
    .into())
}

/// What reading one git source gives: its checkout (a folder read like any other source) and
/// how diagnostics name it.
pub struct Checkout {
    pub folder: PathBuf,
    pub display_root: PathBuf,
}

/// Resolves `spec` (its pin, or its ref when unpinned or refreshed), fetching what the cache
/// lacks, and records its pin for this run.
pub fn checkout(spec: &GitSpec, root: &Path) -> anyhow::Result<Checkout> {
    let options = run_options();
    // A source this run already read is read at the same commit again (the overlay's pass
    // renders the team's git sources too, also while `aiwg update` moves their pins).
    let read = with_run(|r| r.resolved.get(&spec.name).cloned()).filter(|p| spec.agrees(p));
    let pin = read.or_else(|| pin_for(spec, root));
    if pin.is_none() && options.frozen {
        let why = if refreshes(&spec.name) {
            "`aiwg update` moves pins, which --frozen forbids"
        } else {
            "`aiwg.lock` has no pin for it as `aiwg.toml` asks"
        };
        return Err(UserError::new(
            format!(
                "git source `{}` ({}): {why}",
                escape(&spec.name),
                spec.shown()
            ),
            "run `aiwg apply` without --frozen and commit `aiwg.lock`",
        )
        .into());
    }
    let home = crate::trust::aiwg_home().ok_or_else(|| {
        UserError::new(
            "cannot find the home folder for the git cache",
            "set `AIWG_HOME` (or `HOME`)",
        )
    })?;
    let cache = cache::Cache::new(&home.join("git"));
    let (commit, folder) = cache.checkout(
        spec,
        pin.as_ref().map(|p| p.commit.as_str()),
        options.offline,
    )?;
    let pin = SourcePin {
        name: spec.name.clone(),
        url: spec.url.clone(),
        reference: spec.reference().to_string(),
        subdir: spec.subdir.as_ref().map(|d| d.as_str().to_string()),
        commit,
    };
    let display_root = PathBuf::from(format!("{}@{}", spec.name, short(&pin.commit)));
    with_run(|r| r.resolved.insert(spec.name.clone(), pin));
    Ok(Checkout {
        folder,
        display_root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(spec: &str) -> GitSpec {
        parse(spec).expect("a git spec").expect("valid")
    }

    fn bad(spec: &str) -> String {
        parse(spec).expect("a git spec").expect_err("invalid")
    }

    #[test]
    fn specs_parse_into_url_ref_and_subdir() {
        let s = ok("git+https://example.invalid/org/fw.git@v1.2#packs/core");
        assert_eq!(s.url, "https://example.invalid/org/fw.git");
        assert_eq!(s.reference.as_deref(), Some("v1.2"));
        assert_eq!(s.subdir.as_ref().map(RelPath::as_str), Some("packs/core"));
        assert_eq!(
            s.name,
            "git+https://example.invalid/org/fw.git@v1.2#packs/core"
        );
        assert_eq!(s.protocol, Protocol::Https);
        let s = ok("git+ssh://git@example.invalid/org/fw@feature/x");
        assert_eq!(s.url, "ssh://git@example.invalid/org/fw");
        assert_eq!(s.reference.as_deref(), Some("feature/x"));
        let s = ok("fw@file:///srv/repos/fw");
        assert_eq!(
            (s.name.as_str(), s.url.as_str()),
            ("fw", "file:///srv/repos/fw")
        );
        assert_eq!(s.reference(), "HEAD");
        let s = ok("github:org/repo@main");
        assert_eq!(s.url, "https://github.com/org/repo.git");
        assert!(
            !is_git_spec(".aiwg") && !is_git_spec("vendor@third_party") && !is_git_spec("sdlc")
        );
        assert!(is_git_spec("x@github:o/r"));
    }

    #[test]
    fn malformed_or_dangerous_specs_are_refused() {
        assert!(bad("git+http://example.invalid/o/r").contains("not allowed"));
        assert!(bad("git+https://example.invalid/o r").contains("spaces"));
        assert!(bad("git+ext::sh%20-c%20x").contains("no `://`"));
        assert!(bad("git+https://example.invalid/o/r@--upload-pack=x").contains("ref"));
        assert!(bad("git+https://example.invalid/o/r@a:b").contains("ref"));
        assert!(bad("git+https://example.invalid/o/r@x..y").contains("ref"));
        assert!(bad("git+https://example.invalid/o/r#../up").contains("sub-folder"));
        assert!(bad("git+https:///o/r").contains("host"));
        assert!(bad("git+ssh://-oProxyCommand=x/o/r").contains("`-`"));
        assert!(bad("github:o").contains("org/repo"));
        assert!(bad("git+https://example.invalid/").contains("repository"));
    }
}
