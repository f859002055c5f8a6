//! The glue between the project and the deploy engine: sources → target state → an engine on
//! the right roots for the scope.
//!
//! Until the platform adapters (aiwg-platforms) land, the target state comes from
//! [`builtin_claude_target`], a minimal Claude Code layout; replacing that one function is all
//! it takes to deploy to every platform.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aiwg_core::model::{Artifact, Kind};
use aiwg_core::source::{self, SourceTree};
use aiwg_core::target::{Desired, Origin, Scope, TargetEntry, TargetState};
use aiwg_core::RelPath;
use aiwg_deploy::{Engine, Layout, RealSystem};
use anyhow::Context as _;

use crate::cli::ScopeArg;
use crate::commands::UserError;
use crate::project::{self, Project};

/// The platform the built-in target deploys to.
pub const BUILTIN_PLATFORM: &str = "claude-code";

/// How often a waiting command looks at the process lock again.
pub const LOCK_POLL: Duration = Duration::from_millis(50);

/// How long a command waits for another aiwg to finish: `AIWG_LOCK_TIMEOUT_MS`, default 10 s.
pub fn lock_wait() -> Duration {
    std::env::var("AIWG_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis)
}

/// The scope: `--scope`, else `aiwg.toml`, else project.
pub fn scope(project: &Project, arg: Option<ScopeArg>) -> Scope {
    match arg {
        Some(ScopeArg::Project) => Scope::Project,
        Some(ScopeArg::User) => Scope::User,
        None => project.config.as_ref().map_or(Scope::Project, |c| c.scope),
    }
}

/// The platforms: `--platforms`, else `aiwg.toml`, else Claude Code. Unknown ids are an error
/// (a typo must never make a check pass).
pub fn platforms(project: &Project, args: &[String]) -> anyhow::Result<Vec<String>> {
    let asked: Vec<String> = if args.is_empty() {
        project
            .config
            .as_ref()
            .map(|c| c.platforms.clone())
            .unwrap_or_default()
    } else {
        args.to_vec()
    };
    if asked.is_empty() {
        return Ok(vec![BUILTIN_PLATFORM.to_string()]);
    }
    let mut out = Vec::new();
    for id in asked {
        match id.trim() {
            "claude-code" | "claude" | "claudecode" => out.push(BUILTIN_PLATFORM.to_string()),
            other => {
                return Err(UserError::new(
                    format!("platform `{other}` is not available in this build"),
                    "this build deploys to `claude-code` only, until the platform adapters land",
                )
                .into())
            }
        }
    }
    out.dedup();
    Ok(out)
}

/// One loaded source: its files and its artifacts.
pub struct LoadedSource {
    pub tree: SourceTree,
    pub artifacts: Vec<Artifact>,
}

/// Loads the project's sources; any error diagnostic stops the command (printed first, all
/// of them), since deploying half a source would be worse than deploying none.
pub fn load_sources(project: &Project) -> anyhow::Result<Vec<LoadedSource>> {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for spec in project.source_specs() {
        let (tree, diags) = project::resolve(&spec, &project.root)?;
        let loaded = source::load(&tree);
        errors.extend(
            diags
                .into_iter()
                .chain(loaded.diagnostics)
                .filter(|d| d.is_error()),
        );
        sources.push(LoadedSource {
            tree,
            artifacts: loaded.artifacts,
        });
    }
    if !errors.is_empty() {
        let mut stderr = std::io::stderr().lock();
        for d in &errors {
            let _ = writeln!(stderr, "{d}");
        }
        return Err(UserError::new(
            format!(
                "{} problem(s) in the sources; nothing was deployed",
                errors.len()
            ),
            "fix them (`aiwg validate` lists them again), then run the command again",
        )
        .into());
    }
    Ok(sources)
}

/// What the platforms want on disk for this project, relative to the scope root.
pub fn target_state(
    project: &Project,
    platforms: &[String],
    _scope: Scope,
) -> anyhow::Result<TargetState> {
    let sources = load_sources(project)?;
    let mut state = TargetState::new();
    if platforms.iter().any(|p| p == BUILTIN_PLATFORM) {
        state = builtin_claude_target(&sources).map_err(|clash| {
            UserError::new(
                clash.to_string(),
                "rename one of the artifacts, or drop one of the sources from `aiwg.toml`",
            )
        })?;
    }
    Ok(state)
}

/// A minimal Claude Code layout, the same for both scopes (relative to the project or home):
/// agents → `.claude/agents/<name>.md` and commands → `.claude/commands/<name>.md` with the
/// source bytes; skills → `.claude/skills/<name>/` with their assets; rules → one section per
/// source in `CLAUDE.md`. Behaviors and runbooks are left to the platform adapters.
pub fn builtin_claude_target(
    sources: &[LoadedSource],
) -> Result<TargetState, Box<aiwg_core::target::TargetClash>> {
    let mut state = TargetState::new();
    let rel = |s: String| RelPath::new(&s).expect("artifact names are validated path components");
    for source in sources {
        let origin = |artifact: &Artifact| Origin {
            source: source.tree.name.clone(),
            artifact: artifact.id(),
            platforms: vec![BUILTIN_PLATFORM.to_string()],
        };
        let bytes_of = |artifact: &Artifact| {
            source
                .tree
                .files
                .iter()
                .find(|f| f.path == artifact.path)
                .map(|f| (f.bytes.clone(), f.executable))
                .unwrap_or_default()
        };
        let mut rules: Vec<&Artifact> = Vec::new();
        for artifact in &source.artifacts {
            let folder = match artifact.kind {
                Kind::Agent => "agents",
                Kind::Command => "commands",
                Kind::Skill => "skills",
                Kind::Rule => {
                    rules.push(artifact);
                    continue;
                }
                Kind::Behavior | Kind::Runbook => continue,
            };
            let Ok(name) = RelPath::new(&artifact.name) else {
                continue;
            };
            if name.components().count() != 1 {
                continue;
            }
            let (bytes, executable) = bytes_of(artifact);
            let main = if artifact.kind == Kind::Skill {
                rel(format!(".claude/skills/{name}/SKILL.md"))
            } else {
                rel(format!(".claude/{folder}/{name}.md"))
            };
            state
                .insert(TargetEntry {
                    path: main,
                    desired: Desired::File { bytes, executable },
                    origin: origin(artifact),
                })
                .map_err(Box::new)?;
            if artifact.kind == Kind::Skill {
                for asset in &artifact.assets {
                    state
                        .insert(TargetEntry {
                            path: rel(format!(".claude/skills/{name}/{}", asset.path)),
                            desired: Desired::File {
                                bytes: asset.bytes.clone(),
                                executable: asset.executable,
                            },
                            origin: origin(artifact),
                        })
                        .map_err(Box::new)?;
                }
            }
        }
        if !rules.is_empty() {
            rules.sort_by(|a, b| a.name.cmp(&b.name));
            let text: Vec<String> = rules
                .iter()
                .map(|r| format!("## {}\n\n{}\n", r.name, r.body.trim()))
                .collect();
            state
                .insert(TargetEntry {
                    path: rel("CLAUDE.md".into()),
                    desired: Desired::Section {
                        id: section_id(&source.tree.name),
                        text: text.join("\n"),
                    },
                    origin: Origin {
                        source: source.tree.name.clone(),
                        artifact: "rules".into(),
                        platforms: vec![BUILTIN_PLATFORM.to_string()],
                    },
                })
                .map_err(Box::new)?;
        }
    }
    Ok(state)
}

/// A section id for a source name: `[A-Za-z0-9._-]`, no leading dot (`.aiwg` → `aiwg`).
fn section_id(source: &str) -> String {
    let id: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_start_matches('.').to_string();
    if id.is_empty() {
        "rules".into()
    } else {
        id
    }
}

/// The folders one scope deploys into, and the Systems on them.
pub struct Deployment {
    pub scope: Scope,
    /// Where targets go (project root, or home), as the user would write it.
    pub root: PathBuf,
    /// How many generations to keep.
    pub keep: usize,
    target: RealSystem,
    /// `None`: the state lives in the target root (project scope).
    state: Option<RealSystem>,
}

impl Deployment {
    /// The roots for `scope`: project scope deploys into the project root and keeps its
    /// state there; user scope deploys into the home folder and keeps its state in
    /// `$AIWG_HOME` (default `~/.aiwg`).
    pub fn open(project: &Project, scope: Scope) -> anyhow::Result<Deployment> {
        let keep = project.config.as_ref().map_or(10, |c| c.history.keep);
        let (root, state) = match scope {
            Scope::Project => (project.root.clone(), None),
            Scope::User => {
                let home = dirs::home_dir().ok_or_else(|| {
                    UserError::new(
                        "cannot find the home folder",
                        "set `HOME` to deploy with `--scope user`",
                    )
                })?;
                let aiwg_home = std::env::var_os("AIWG_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join(".aiwg"));
                (home, Some(aiwg_home))
            }
        };
        let target =
            RealSystem::new(&root).with_context(|| format!("cannot use `{}`", root.display()))?;
        let state = match state {
            Some(dir) => Some(
                RealSystem::new(&dir).with_context(|| format!("cannot use `{}`", dir.display()))?,
            ),
            None => None,
        };
        Ok(Deployment {
            scope,
            root,
            keep,
            target,
            state,
        })
    }

    /// The engine on this deployment's Systems.
    pub fn engine(&self) -> Engine<'_> {
        match &self.state {
            None => Engine::shared(&self.target, Layout::project()),
            Some(state) => Engine::split(&self.target, state, Layout::user()),
        }
    }

    /// `path` (relative to the root) as the user should read it: relative to the current
    /// folder when it lies below it.
    pub fn display(&self, path: &RelPath) -> String {
        display_under(&self.root, path)
    }

    /// The target path named by `arg` (relative to `cwd`), if it lies under the root.
    pub fn rel_path(&self, cwd: &Path, arg: &Path) -> Option<RelPath> {
        let abs = std::path::absolute(cwd.join(arg)).ok()?;
        let rel = abs.strip_prefix(&self.root).ok()?;
        if rel.as_os_str().is_empty() {
            return None;
        }
        RelPath::new(&rel.to_string_lossy()).ok()
    }
}

/// `root/path` relative to the current folder when below it, else absolute.
pub fn display_under(root: &Path, path: &RelPath) -> String {
    project::display_relative(&path.to_path(root))
        .display()
        .to_string()
}

/// Prints each conflict of `plan` that `force` does not resolve (stderr), then the hints.
/// Returns how many there were.
pub fn report_conflicts(d: &Deployment, plan: &aiwg_deploy::Plan, force: bool) -> usize {
    let mut stderr = std::io::stderr().lock();
    let mut forceable = 0;
    let mut by_hand = 0;
    for item in plan.conflicts() {
        let Some(conflict) = &item.conflict else {
            continue;
        };
        if force && conflict.forceable() {
            continue;
        }
        if conflict.forceable() {
            forceable += 1;
        } else {
            by_hand += 1;
        }
        let origin = item
            .origin()
            .map(|o| format!(" (wanted by `{}` from `{}`)", o.artifact, o.source))
            .unwrap_or_default();
        let _ = writeln!(
            stderr,
            "conflict: `{}`: {}{origin}",
            d.display(&item.path),
            conflict.reason()
        );
    }
    if forceable + by_hand > 0 {
        let _ = writeln!(
            stderr,
            "\nhint: `aiwg diff` shows each change, conflicts included"
        );
        if forceable > 0 {
            let _ = writeln!(
                stderr,
                "hint: `aiwg apply --force` overwrites edited files after a backup (`aiwg rollback` undoes it); stale edited files are kept and no longer managed"
            );
        }
        if by_hand > 0 {
            let _ = writeln!(
                stderr,
                "hint: {by_hand} conflict(s) cannot be forced: fix the file by hand (or move it away), then apply again"
            );
        }
    }
    forceable + by_hand
}

/// Prints the conflicts an engine refused with (a race with another writer, or a rollback).
pub fn report_refused(d: &Deployment, paths: &[(RelPath, String)], hint: &str) {
    let mut stderr = std::io::stderr().lock();
    for (path, why) in paths {
        let _ = writeln!(stderr, "conflict: `{}`: {why}", d.display(path));
    }
    let _ = writeln!(stderr, "\nhint: {hint}");
}
