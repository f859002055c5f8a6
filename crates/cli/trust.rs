//! Consent before reach: what a project's own files may not do without the user's say-so,
//! and the trust records that hold that say-so.
//!
//! A cloned repository is a stranger's input, so its `aiwg.toml` cannot by itself widen to
//! `scope = "user"`, name a source outside the project root (an absolute path, `..`, a
//! symlinked `.aiwg`), or install or change an executable hook (a behavior from any
//! non-bundled source). Each of those is an [`Item`] with a key that names exactly what is
//! allowed: the scope, the source spec with the folder it resolves to, the behavior with a
//! SHA-256 of everything in it. Consent comes from a one-run flag ([`RunConsent`]:
//! `--allow-user-scope`, `--allow-hooks`, `--trust`) or from a [`Record`] that `aiwg trust`
//! writes under `$AIWG_HOME/trust/`, keyed by the project's canonical path, never from a
//! file of the project itself. When the content behind a key changes, its key changes, so
//! consent is asked again.
//!
//! A git source is one more kind of reach: [`Item::GitSource`], keyed by its URL and the
//! commit `aiwg.lock` pins (or the URL alone while nothing is pinned: "fetch what its ref is
//! now"), checked before anything is fetched. A pull that moves the pin asks again; `aiwg use
//! URL` and `aiwg update` are typed consent for the commit they resolve, which is recorded once
//! the apply succeeds. Its hooks are covered as any others: every behavior outside aiwg's
//! bundle is a [`Hook`].

use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aiwg_core::config::CONFIG_FILE;
use aiwg_core::escape::escape;
use aiwg_core::{Kind, Model};
use aiwg_deploy::hash::sha256_hex;
use aiwg_deploy::{Action, Plan};
use anyhow::Context as _;

use crate::error::UserError;
use crate::project::{self, Project, SourceLocation};

/// What the command line allows for this one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunConsent {
    /// `--allow-hooks`: install or change the project's hooks.
    pub hooks: bool,
    /// `--allow-user-scope`: honour `scope = "user"` from `aiwg.toml`.
    pub user_scope: bool,
    /// `--trust`: everything this project asks for.
    pub all: bool,
}

/// What this run allows: the flags, and keys the command itself allows (what the user typed
/// on `aiwg use`'s command line).
static RUN_CONSENT: Mutex<(RunConsent, BTreeSet<String>)> = Mutex::new((
    RunConsent {
        hooks: false,
        user_scope: false,
        all: false,
    },
    BTreeSet::new(),
));

/// Sets what the command line allows; called before the command runs.
pub fn set_run_consent(consent: RunConsent) {
    RUN_CONSENT.lock().unwrap_or_else(|e| e.into_inner()).0 = consent;
}

/// Allows `items` for the rest of this run (and records nothing).
pub fn allow_for_run(items: &[Item]) {
    let mut run = RUN_CONSENT.lock().unwrap_or_else(|e| e.into_inner());
    run.1.extend(items.iter().map(Item::key));
}

/// True when `item` is allowed without asking: by this run's flags or by the project's trust
/// record (the user's own `$AIWG_HOME/aiwg.toml` needs no consent). Never prompts: for
/// commands that only report (`aiwg doctor`).
pub fn allowed(project: &Project, item: &Item) -> bool {
    project.user_scope || run_allows(item) || Record::load(&project.root).allows(item)
}

fn run_allows(item: &Item) -> bool {
    let run = RUN_CONSENT.lock().unwrap_or_else(|e| e.into_inner());
    // A URL the user typed (`aiwg use URL`, `aiwg update`) allows whichever commit it pins.
    let typed_url = match item {
        Item::GitSource { url, .. } => run.1.contains(&git_url_key(url)),
        _ => false,
    };
    item.allowed_by(run.0) || run.1.contains(&item.key()) || typed_url
}

/// The key that allows fetching `url` at whatever its ref is.
fn git_url_key(url: &str) -> String {
    format!("git:{url}")
}

/// The consent item of each git source of `project`: its URL with the commit this run reads
/// (the pin, unless `aiwg update` moves it).
pub fn git_sources(project: &Project) -> Vec<Item> {
    project
        .source_specs()
        .iter()
        .filter_map(|spec| match project::locate(spec, &project.root) {
            SourceLocation::Git(git) => {
                let commit = crate::remote::pin_for(&git, &project.root).map(|p| p.commit);
                let quoted = format!("\"{spec}\"");
                Some(Item::GitSource {
                    line: config_line(&project.root, |l| l.contains(&quoted)),
                    name: git.name.clone(),
                    reference: git.reference().to_string(),
                    url: git.url,
                    commit,
                })
            }
            _ => None,
        })
        .collect()
}

/// Typed consent for fetching these git sources at whatever their refs are, for this run
/// (`aiwg use URL`, `aiwg update`).
pub fn allow_git_urls_for_run(urls: &[String]) {
    let mut run = RUN_CONSENT.lock().unwrap_or_else(|e| e.into_inner());
    run.1.extend(urls.iter().map(|u| git_url_key(u)));
}

/// After an apply wrote `pins`: records consent for each pinned commit whose URL the user
/// allowed at any commit (typed in this run, or recorded by `aiwg use`), so the next run
/// reads it without asking. A commit allowed only by `--trust` is not recorded.
pub fn record_git_pins(project: &Project, pins: &[aiwg_deploy::SourcePin]) -> anyhow::Result<()> {
    if pins.is_empty() {
        return Ok(());
    }
    let mut record = Record::load(&project.root);
    let typed: BTreeSet<String> = RUN_CONSENT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .1
        .clone();
    let before = record.allowed.len();
    for pin in pins {
        let url_key = git_url_key(&pin.url);
        if typed.contains(&url_key) || record.allowed.contains(&url_key) {
            record
                .allowed
                .insert(format!("git:{}@{}", pin.url, pin.commit));
        }
    }
    if record.allowed.len() != before {
        record.save(&project.root)?;
    }
    Ok(())
}

/// Records that the user allows `items` for `project` (added to what is already allowed),
/// for a source or a scope the user typed on the command line.
pub fn grant(project: &Project, items: &[Item]) -> anyhow::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let mut record = Record::load(&project.root);
    let before = record.allowed.len();
    record.allowed.extend(items.iter().map(Item::key));
    if record.allowed.len() != before {
        record.save(&project.root)?;
    }
    Ok(())
}

/// One thing a project asks for that needs consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `scope = "user"` in `aiwg.toml`: deploy into the home folder.
    UserScope { line: Option<u32> },
    /// A folder source that resolves outside the project root.
    OutsideSource {
        spec: String,
        resolved: PathBuf,
        /// The file naming it: `aiwg.toml`, or the overlay's `aiwg.local.toml`.
        file: &'static str,
        line: Option<u32>,
    },
    /// A behavior (an executable hook) or an MCP server (`mcp:<name>`) from a non-bundled
    /// source.
    Hook(Hook),
    /// A git source: fetching `url` (reach outside the project), at the pinned `commit`, or
    /// at whatever its ref is now when `None`.
    GitSource {
        name: String,
        url: String,
        reference: String,
        commit: Option<String>,
        line: Option<u32>,
    },
}

/// A behavior of the model: what it runs, and a digest of everything in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// The source it comes from, as named in `aiwg.toml`.
    pub source: String,
    /// The behavior's name.
    pub name: String,
    /// Its `BEHAVIOR.md`, as messages name it.
    pub file: PathBuf,
    /// The hook event (`PreToolUse`).
    pub event: String,
    /// The command it runs.
    pub command: String,
    /// True for a bundled framework (announced, never asked about).
    pub bundled: bool,
    /// SHA-256 over the behavior's frontmatter, body and every asset (path, mode, bytes).
    pub digest: String,
}

impl Item {
    /// The key a trust record stores: it names exactly what is allowed.
    pub fn key(&self) -> String {
        match self {
            Item::UserScope { .. } => "scope:user".into(),
            Item::OutsideSource { spec, resolved, .. } => {
                format!("source:{spec}={}", resolved.display())
            }
            Item::Hook(h) => format!("hook:{}/{}:sha256:{}", h.source, h.name, h.digest),
            Item::GitSource { url, commit, .. } => match commit {
                Some(c) => format!("git:{url}@{c}"),
                None => git_url_key(url),
            },
        }
    }

    fn allowed_by(&self, run: RunConsent) -> bool {
        run.all
            || match self {
                Item::UserScope { .. } => run.user_scope,
                Item::OutsideSource { .. } | Item::GitSource { .. } => false,
                Item::Hook(_) => run.hooks,
            }
    }

    /// One line for a person: where it comes from and what it allows.
    pub fn describe(&self) -> String {
        let at = |line: &Option<u32>| match line {
            Some(l) => format!("{CONFIG_FILE}:{l}: "),
            None => String::new(),
        };
        match self {
            Item::UserScope { line } => format!(
                "{}`scope = \"user\"` deploys into your home folder, where every project's platforms read it",
                at(line)
            ),
            Item::OutsideSource {
                spec,
                resolved,
                file,
                line,
            } => format!(
                "{}source `{}` is outside the project: it reads `{}`",
                match line {
                    Some(l) => format!("{file}:{l}: "),
                    None => String::new(),
                },
                escape(spec),
                escape(&resolved.display().to_string())
            ),
            Item::Hook(h) => format!(
                "{}: hook `{}` from `{}` runs `{}` on {}",
                escape(&h.file.display().to_string()),
                escape(&h.name),
                escape(&h.source),
                escape(&h.command),
                escape(&h.event)
            ),
            Item::GitSource {
                name,
                url,
                reference,
                commit,
                line,
            } => match commit {
                Some(c) => format!(
                    "{}git source `{}` fetches `{}` at commit {} (pinned in `aiwg.lock`)",
                    at(line),
                    escape(name),
                    escape(url),
                    crate::remote::short(c)
                ),
                None => format!(
                    "{}git source `{}` fetches `{}` at whatever `{}` is now (not pinned yet)",
                    at(line),
                    escape(name),
                    escape(url),
                    escape(reference)
                ),
            },
        }
    }
}

/// What `aiwg trust` recorded for one project.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The format version (1).
    pub version: u32,
    /// The project's canonical path: the key of the record.
    pub project: PathBuf,
    /// The keys of the allowed items ([`Item::key`]).
    pub allowed: BTreeSet<String>,
}

/// `$AIWG_HOME` (default `~/.aiwg`): aiwg's own folder, outside every project.
pub fn aiwg_home() -> Option<PathBuf> {
    std::env::var_os("AIWG_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".aiwg")))
}

/// The project root as the trust record keys it: canonical, so that a symlinked path and
/// the real one are the same project.
pub fn project_key(root: &Path) -> PathBuf {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
}

/// Where the record of the project at `root` lives: `<home>/trust/<hash of the path>.toml`,
/// `home` being `$AIWG_HOME`.
pub fn record_path(home: &Path, root: &Path) -> PathBuf {
    let key = project_key(root);
    let hash = sha256_hex(key.as_os_str().as_encoded_bytes());
    home.join("trust").join(format!("{}.toml", &hash[..32]))
}

fn no_home() -> anyhow::Error {
    UserError::new(
        "cannot find the home folder to keep the trust record in",
        "set `AIWG_HOME` (or `HOME`)",
    )
    .into()
}

impl Record {
    /// The record of the project at `root`; an empty one when there is none. A record that
    /// cannot be read or is for another path (a hash collision, a copied file) allows nothing.
    pub fn load(root: &Path) -> Record {
        match aiwg_home() {
            Some(home) => Record::load_in(&home, root),
            None => Record::empty(root),
        }
    }

    fn empty(root: &Path) -> Record {
        Record {
            version: 1,
            project: project_key(root),
            allowed: BTreeSet::new(),
        }
    }

    /// [`Record::load`] from the aiwg home `home`.
    pub fn load_in(home: &Path, root: &Path) -> Record {
        let empty = Record::empty(root);
        let key = empty.project.clone();
        let Ok(text) = std::fs::read_to_string(record_path(home, root)) else {
            return empty;
        };
        match toml::from_str::<Record>(&text) {
            Ok(r) if r.version == 1 && r.project == key => r,
            _ => empty,
        }
    }

    /// Writes the record (atomically: a new temp file renamed over the old one).
    pub fn save(&self, root: &Path) -> anyhow::Result<PathBuf> {
        self.save_in(&aiwg_home().ok_or_else(no_home)?, root)
    }

    /// [`Record::save`] into the aiwg home `home`.
    pub fn save_in(&self, home: &Path, root: &Path) -> anyhow::Result<PathBuf> {
        let path = record_path(home, root);
        let dir = path.parent().expect("a record path has a folder");
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let mut text = String::from(
            "# What `aiwg trust` allowed for one project. Delete this file to take it back.\n",
        );
        text.push_str(&toml::to_string(self)?);
        // A new temp file made with O_EXCL, renamed over the record: an entry planted at the
        // temp name (a symlink to another file) is an error, never written through.
        crate::config_edit::write_file(&path, text.as_bytes())?;
        Ok(path)
    }

    fn allows(&self, item: &Item) -> bool {
        self.allowed.contains(&item.key())
    }
}

/// The line of `aiwg.toml` (under `root`) where `needle` first appears, for messages.
fn config_line(root: &Path, needle: impl Fn(&str) -> bool) -> Option<u32> {
    file_line(&root.join(CONFIG_FILE), needle)
}

/// The line of `file` where `needle` first appears.
fn file_line(file: &Path, needle: impl Fn(&str) -> bool) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .position(|l| needle(l.trim_start()))
        .map(|i| i as u32 + 1)
}

/// The user-scope item, when `aiwg.toml` (not the command line) asks for user scope.
pub fn user_scope_item(project: &Project) -> Option<Item> {
    let from_file = project
        .config
        .as_ref()
        .is_some_and(|c| c.scope == aiwg_core::target::Scope::User);
    from_file.then(|| Item::UserScope {
        line: config_line(&project.root, |l| l.starts_with("scope")),
    })
}

/// The folder sources of `project` that resolve outside its root (through `..`, an absolute
/// path or a symlink), with the folder each one resolves to.
pub fn outside_sources(project: &Project) -> Vec<Item> {
    let root = project_key(&project.root);
    let mut items = Vec::new();
    for spec in project.source_specs() {
        let SourceLocation::Folder { path, .. } = project::locate(&spec, &project.root) else {
            continue;
        };
        // A folder that does not exist is reported by the loader, with its own hint.
        let Ok(resolved) = std::fs::canonicalize(&path) else {
            continue;
        };
        if !resolved.starts_with(&root) {
            let quoted = format!("\"{spec}\"");
            let needle = |l: &str| l.contains(&quoted);
            // A source the overlay adds is named in `aiwg.local.toml`.
            let (file, line) = match config_line(&project.root, needle) {
                Some(line) => (CONFIG_FILE, Some(line)),
                None => {
                    let local = aiwg_core::local::LOCAL_CONFIG_FILE;
                    (local, file_line(&project.root.join(local), needle))
                }
            };
            items.push(Item::OutsideSource {
                file,
                line,
                spec,
                resolved,
            });
        }
    }
    items
}

/// Every behavior of `model`, with what it runs and its digest. `project` tells which
/// sources are bundled frameworks (embedded in aiwg) and where the others are shown.
pub fn hooks(project: &Project, model: &Model) -> Vec<Hook> {
    let specs = project.source_specs();
    let folder_of = |source: &str| {
        specs
            .iter()
            .find_map(|s| match project::locate(s, &project.root) {
                SourceLocation::Folder { name, path } if name == source => Some(path),
                _ => None,
            })
    };
    model
        .artifacts
        .iter()
        .filter(|a| matches!(a.kind, Kind::Behavior | Kind::Mcp))
        .map(|a| {
            // Bundled only when no folder source carries the same name: `sdlc@./x` must not
            // pass for the bundled `sdlc`.
            let folder = folder_of(&a.source);
            let bundled =
                folder.is_none() && project::bundled_names().iter().any(|(n, _)| *n == a.source);
            let file = match &folder {
                Some(path) => project::display_relative(&a.path.to_path(path)),
                None if bundled => a
                    .path
                    .to_path(Path::new(&format!("<bundled>/{}", a.source))),
                // A git source's file, as its diagnostics name it: `name@commit/…`.
                None => match crate::remote::resolved()
                    .iter()
                    .find(|p| p.name == a.source)
                {
                    Some(pin) => a.path.to_path(Path::new(&format!(
                        "{}@{}",
                        pin.name,
                        crate::remote::short(&pin.commit)
                    ))),
                    None => PathBuf::from(a.path.as_str()),
                },
            };
            // An MCP server runs its command at every client start, or gets the client's
            // headers (references to the user's secrets) sent to its address: consent like a
            // hook, under its artifact id so it never shares a key with a behavior.
            let (name, event, command) = if a.kind == Kind::Mcp {
                let e = &a.frontmatter.entries;
                let command = match (e.get("command").and_then(|v| v.as_str()), e.get("url")) {
                    (Some(c), _) => std::iter::once(c.to_string())
                        .chain(
                            e.get("args")
                                .and_then(|v| v.as_array())
                                .into_iter()
                                .flatten()
                                .filter_map(|v| v.as_str().map(str::to_string)),
                        )
                        .collect::<Vec<_>>()
                        .join(" "),
                    (None, Some(url)) => url.as_str().unwrap_or_default().to_string(),
                    (None, None) => String::new(),
                };
                let event = if e.contains_key("url") {
                    "every client start (a remote MCP server, sent its headers)"
                } else {
                    "every client start (an MCP server)"
                };
                (a.id(), event.to_string(), command)
            } else {
                (
                    a.name.clone(),
                    a.frontmatter.event().unwrap_or_default(),
                    a.frontmatter.command().unwrap_or_default(),
                )
            };
            Hook {
                source: a.source.clone(),
                name,
                file,
                event,
                command,
                bundled,
                digest: behavior_digest(a),
            }
        })
        .collect()
}

/// SHA-256 over everything a behavior is made of, each piece length-prefixed so that no
/// two different behaviors hash alike.
fn behavior_digest(a: &aiwg_core::Artifact) -> String {
    let mut bytes = Vec::new();
    let mut piece = |b: &[u8]| {
        bytes.extend_from_slice(&(b.len() as u64).to_le_bytes());
        bytes.extend_from_slice(b);
    };
    piece(
        serde_json::to_string(&a.frontmatter.entries)
            .unwrap_or_default()
            .as_bytes(),
    );
    piece(a.body.as_bytes());
    let mut assets: Vec<_> = a.assets.iter().collect();
    assets.sort_by(|x, y| x.path.cmp(&y.path));
    for asset in assets {
        piece(asset.path.as_str().as_bytes());
        piece(&[u8::from(asset.executable)]);
        piece(&asset.bytes);
    }
    sha256_hex(&bytes)
}

/// What a plan does to each behavior: install (create), change (update, or a forced
/// conflict) or remove its files and settings entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookChange {
    /// The behavior's source and name.
    pub source: String,
    pub name: String,
    /// `installs`, `changes` or `removes`.
    pub verb: &'static str,
    /// The paths it touches, as the plan names them.
    pub paths: Vec<String>,
}

/// The behaviors `plan` installs, changes or removes, in plan order. A behavior's own files
/// have its origin (`behavior:<name>`); the settings entries of a source's hooks are one part
/// (`hooks:...`), so a change there counts for every behavior of that source in `hooks`.
pub fn hook_changes(plan: &Plan, hooks: &[Hook], force: bool) -> Vec<HookChange> {
    let mut changes: Vec<HookChange> = Vec::new();
    for item in &plan.items {
        for part in &item.parts {
            let artifact = &part.origin.artifact;
            let source = &part.origin.source;
            let names: Vec<&str> = if let Some(name) = artifact.strip_prefix("behavior:") {
                vec![name]
            } else if artifact.starts_with("mcp:") {
                vec![&**artifact]
            } else if artifact.starts_with("hooks:") {
                hooks
                    .iter()
                    .filter(|h| h.source == **source)
                    .map(|h| h.name.as_str())
                    .collect()
            } else {
                continue;
            };
            let verb = match part.action {
                Action::Create => "installs",
                Action::Update => "changes",
                Action::Conflict if force => "changes",
                Action::Delete => "removes",
                _ => continue,
            };
            let path = item.path.as_str().to_string();
            for name in names {
                match changes
                    .iter_mut()
                    .find(|c| c.name == name && c.source == **source)
                {
                    Some(c) => {
                        if c.verb != verb && verb != "removes" {
                            c.verb = if c.verb == "removes" { verb } else { "changes" };
                        }
                        if !c.paths.contains(&path) {
                            c.paths.push(path.clone());
                        }
                    }
                    None => changes.push(HookChange {
                        source: source.to_string(),
                        name: name.to_string(),
                        verb,
                        paths: vec![path.clone()],
                    }),
                }
            }
        }
    }
    changes
}

/// One `hook:` line per behavior the plan installs, changes or removes (bundled ones too),
/// on stderr: a hook runs code on every matching tool call, so it is never silent. `done`
/// is true once the write succeeded; before (a dry run, a stop on a conflict) the lines say
/// `would install`, so they never claim what did not happen.
pub fn announce(changes: &[HookChange], hooks: &[Hook], done: bool) {
    for c in changes {
        let hook = hooks
            .iter()
            .find(|h| h.name == c.name && h.source == c.source);
        let runs = hook
            .filter(|_| c.verb != "removes")
            .map(|h| format!(" (runs `{}` on {})", escape(&h.command), escape(&h.event)))
            .unwrap_or_default();
        let verb = if !done {
            format!("would {}", c.verb.trim_end_matches('s'))
        } else {
            c.verb.to_string()
        };
        crate::printer::line(format_args!(
            "hook: {verb} `{}` from `{}`{runs}: {}",
            escape(&c.name),
            escape(&c.source),
            escape(&c.paths.join(", "))
        ));
    }
}

/// The hook items `changes` needs consent for: behaviors of non-bundled sources that the
/// plan installs or changes.
pub fn hooks_needing_consent(changes: &[HookChange], hooks: &[Hook]) -> Vec<Item> {
    changes
        .iter()
        .filter(|c| c.verb != "removes")
        .filter_map(|c| {
            hooks
                .iter()
                .find(|h| h.name == c.name && h.source == c.source && !h.bundled)
        })
        .map(|h| Item::Hook(h.clone()))
        .collect()
}

/// Records consent for the behavior `name` that `aiwg new behavior` just scaffolded: aiwg
/// wrote every byte of it, so deploying it needs no question; an edit changes its digest,
/// and the changed hook is asked about like any other. Best effort: when the sources do not
/// load, nothing is recorded.
pub fn grant_scaffolded(project: &Project, name: &str) -> anyhow::Result<()> {
    let Ok(read) = project::command_sources(&project.root, &[]) else {
        return Ok(());
    };
    let model = Model {
        artifacts: project::load_sources(read).loaded.artifacts,
    };
    let items: Vec<Item> = hooks(project, &model)
        .into_iter()
        .filter(|h| h.name == name && !h.bundled)
        .map(Item::Hook)
        .collect();
    grant(project, &items)
}

/// Stops (an error, exit 2) unless every item of `items` is allowed by the command line or
/// by the project's trust record. On a terminal it asks first, and a yes is recorded.
pub fn require(project: &Project, items: Vec<Item>) -> anyhow::Result<()> {
    // User scope's own `$AIWG_HOME/aiwg.toml` is written by the user (`aiwg use --scope
    // user`), never by a repository: what it names is already their word. Most projects ask
    // for nothing: no record is read then (a cached check reads no file).
    if project.user_scope || items.iter().all(run_allows) {
        return Ok(());
    }
    let mut record = Record::load(&project.root);
    let missing: Vec<Item> = items
        .into_iter()
        .filter(|i| !run_allows(i) && !record.allows(i))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let changed = missing.iter().any(|i| {
        let prefix = match i {
            Item::Hook(h) => format!("hook:{}/{}:", h.source, h.name),
            Item::OutsideSource { spec, .. } => format!("source:{spec}="),
            Item::GitSource { url, .. } => git_url_key(url),
            Item::UserScope { .. } => return false,
        };
        record.allowed.iter().any(|k| k.starts_with(&prefix))
    });
    let mut listing = String::new();
    for item in &missing {
        listing.push_str("\n  ");
        listing.push_str(&item.describe());
    }
    let what = if changed {
        "this project changed what it asks for since you trusted it; it needs your consent for"
    } else {
        "this project asks for what needs your consent"
    };
    if interactive() {
        // The question is asked whatever `-q` says: an answer is waited for.
        {
            use std::io::Write as _;
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "{what}:{listing}\nallow this for `{}`? [y/N] ",
                escape(&project.root.display().to_string())
            );
            let _ = err.flush();
        }
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_ok()
            && matches!(answer.trim(), "y" | "Y" | "yes")
        {
            record.allowed.extend(missing.iter().map(Item::key));
            record.save(&project.root)?;
            return Ok(());
        }
    }
    let flags = one_run_flags(&missing);
    Err(UserError::new(
        format!("{what}:{listing}\nnothing was changed"),
        format!(
            "read what it allows; then `aiwg trust` allows it for this project until it changes, or `{flags}` for this run only"
        ),
    )
    .into())
}

/// The one-run flag that allows `items`: `--allow-hooks` or `--allow-user-scope` when that
/// is all they are, else `--trust`.
fn one_run_flags(items: &[Item]) -> &'static str {
    if items.iter().all(|i| matches!(i, Item::Hook(_))) {
        "--allow-hooks"
    } else if items.iter().all(|i| matches!(i, Item::UserScope { .. })) {
        "--allow-user-scope"
    } else {
        "--trust"
    }
}

/// True when a person can answer a question: stdin and stderr are terminals.
fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(digest: &str) -> Item {
        Item::Hook(Hook {
            source: ".aiwg".into(),
            name: "fmt".into(),
            file: ".aiwg/behaviors/fmt/BEHAVIOR.md".into(),
            event: "PreToolUse".into(),
            command: "scripts/fmt.sh".into(),
            bundled: false,
            digest: digest.into(),
        })
    }

    #[test]
    fn keys_name_exactly_what_is_allowed() {
        assert_eq!(hook("ab").key(), "hook:.aiwg/fmt:sha256:ab");
        assert_ne!(hook("ab").key(), hook("cd").key());
        let outside = Item::OutsideSource {
            spec: "x@../fw".into(),
            resolved: "/src/fw".into(),
            file: CONFIG_FILE,
            line: Some(1),
        };
        assert_eq!(outside.key(), "source:x@../fw=/src/fw");
        assert_eq!(Item::UserScope { line: None }.key(), "scope:user");
    }

    #[test]
    fn one_run_flags_allow_only_their_kind() {
        let hooks = RunConsent {
            hooks: true,
            ..Default::default()
        };
        let user = RunConsent {
            user_scope: true,
            ..Default::default()
        };
        let all = RunConsent {
            all: true,
            ..Default::default()
        };
        let scope = Item::UserScope { line: None };
        let outside = Item::OutsideSource {
            spec: "../fw".into(),
            resolved: "/fw".into(),
            file: CONFIG_FILE,
            line: None,
        };
        assert!(hook("x").allowed_by(hooks) && !hook("x").allowed_by(user));
        assert!(scope.allowed_by(user) && !scope.allowed_by(hooks));
        assert!(!outside.allowed_by(hooks) && !outside.allowed_by(user));
        assert!([hook("x"), scope, outside]
            .iter()
            .all(|i| i.allowed_by(all)));
        assert!(!hook("x").allowed_by(RunConsent::default()));
    }

    #[test]
    fn behavior_digest_changes_with_any_byte_of_it() {
        let text =
            "---\nname: fmt\ndescription: d\nevent: PreToolUse\ncommand: run.sh\n---\nbody\n";
        let tree = |script: &[u8], exec: bool| {
            let files = vec![
                aiwg_core::source::SourceFile {
                    path: aiwg_core::RelPath::new("behaviors/fmt/BEHAVIOR.md").unwrap(),
                    bytes: text.as_bytes().to_vec(),
                    executable: false,
                },
                aiwg_core::source::SourceFile {
                    path: aiwg_core::RelPath::new("behaviors/fmt/run.sh").unwrap(),
                    bytes: script.to_vec(),
                    executable: exec,
                },
            ];
            let loaded = aiwg_core::source::load(&aiwg_core::source::SourceTree::from_files(
                "s", "s", files,
            ));
            behavior_digest(&loaded.artifacts[0])
        };
        let base = tree(b"echo hi\n", true);
        assert_eq!(base, tree(b"echo hi\n", true));
        assert_ne!(base, tree(b"echo hi \n", true));
        assert_ne!(base, tree(b"echo hi\n", false));
    }

    #[test]
    fn records_are_keyed_by_path_and_refuse_another_projects_record() {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let home = home.path();
        let mut record = Record::load_in(home, project.path());
        assert!(record.allowed.is_empty());
        record.allowed.insert(hook("x").key());
        let path = record.save_in(home, project.path()).unwrap();
        assert!(path.starts_with(home));
        assert!(Record::load_in(home, project.path()).allows(&hook("x")));
        assert!(!Record::load_in(home, project.path()).allows(&hook("y")));
        // A record copied to another project's name allows nothing there.
        let other = tempfile::tempdir().unwrap();
        std::fs::copy(&path, record_path(home, other.path())).unwrap();
        assert!(Record::load_in(home, other.path()).allowed.is_empty());
    }

    #[test]
    fn saving_a_record_never_writes_through_a_link_at_a_temp_name_or_the_record() {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let victim = tempfile::tempdir().unwrap();
        let home = home.path();
        let path = record_path(home, project.path());
        let dir = path.parent().unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let victim_file = victim.path().join("victim");
        std::fs::write(&victim_file, "MINE").unwrap();
        // The temp names a plain write would use (this pid's, the stem's), and one as the
        // engine names them, all links to the victim.
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for planted in [
            format!(".{}.tmp.{stem}", std::process::id()),
            format!(".{name}.tmp"),
        ] {
            std::os::unix::fs::symlink(&victim_file, dir.join(planted)).unwrap();
        }
        let mut record = Record::load_in(home, project.path());
        record.allowed.insert(hook("x").key());
        record.save_in(home, project.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&victim_file).unwrap(), "MINE");
        assert!(Record::load_in(home, project.path()).allows(&hook("x")));
        // A record that is a link is replaced by the file, not written through.
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&victim_file, &path).unwrap();
        record.save_in(home, project.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&victim_file).unwrap(), "MINE");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        assert!(Record::load_in(home, project.path()).allows(&hook("x")));
    }
}
