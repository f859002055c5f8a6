//! The glue of the pipeline: the project's sources → a model (aiwg-core) → the platforms'
//! target state (aiwg-platforms) → an engine on the right roots for the scope (aiwg-deploy).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aiwg_core::config::CONFIG_FILE;
use aiwg_core::escape::{escape, escape_lines};
use aiwg_core::target::{Scope, TargetState};
use aiwg_core::{Model, RelPath};
use aiwg_deploy::mark::KeySource;
use aiwg_deploy::{Engine, Layout, Owner, Plan, RealSystem};
use aiwg_platforms::{
    Bodies, Notice, NoticeLevel, PlatformSpec, Registry, RenderOptions, Rendered,
};
use anyhow::Context as _;

use crate::cli::{ScopeArg, TargetArgs};
use crate::detect;
use crate::error::UserError;
use crate::printer::{self, Verbosity};
use crate::project::{self, Project};
use crate::trust;

/// How often a waiting command looks at the process lock again.
pub const LOCK_POLL: Duration = Duration::from_millis(50);

/// How long a command waits for another aiwg to finish: `AIWG_LOCK_TIMEOUT_MS`, default 10 s.
pub fn lock_wait() -> Duration {
    std::env::var("AIWG_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis)
}

/// The scope: `--scope`, else `aiwg.toml`, else project. `scope = "user"` from the file
/// needs consent (`trust`): a cloned repository must not widen to the home folder by itself.
pub fn scope(project: &Project, arg: Option<ScopeArg>) -> anyhow::Result<Scope> {
    Ok(match arg {
        Some(ScopeArg::Project) => Scope::Project,
        Some(ScopeArg::User) => Scope::User,
        None if project.user_scope => Scope::User,
        None => {
            trust::require(
                project,
                trust::user_scope_item(project).into_iter().collect(),
            )?;
            project.config.as_ref().map_or(Scope::Project, |c| c.scope)
        }
    })
}

/// Which platforms a run renders, and which of them it looks at.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The project's platforms: everything is rendered for all of them, so a shared file is
    /// written the same whichever platforms a run looks at.
    pub platforms: Vec<&'static PlatformSpec>,
    /// `--platforms`: the ids whose paths the run looks at; `None` looks at every path. A
    /// filter never plans anything for a path no platform of it reads, so it never deletes
    /// the files of the platforms it was not given.
    pub only: Option<Vec<String>>,
}

/// The platforms of a run. With an `aiwg.toml`: its `platforms` (empty: the `default = true`
/// ones), and `--platforms` filters them (a platform outside them is an error: adding one is
/// an edit of `aiwg.toml`). Without one: `--platforms`, else an error whose hint names the
/// platforms found under the scope's root; never a deploy to platforms nobody asked for. An unknown id is
/// an error with a did-you-mean (a typo must never make a check pass).
pub fn select(project: &Project, scope: Scope, args: &[String]) -> anyhow::Result<Selection> {
    let registry = Registry::builtin();
    let resolve = |ids: &[String]| {
        registry.resolve(ids).map_err(|unknown| {
            anyhow::Error::from(UserError::new(unknown.to_string(), unknown.hint()))
        })
    };
    let Some(config) = &project.config else {
        if !args.is_empty() {
            return Ok(Selection {
                platforms: resolve(args)?,
                only: None,
            });
        }
        // A run without `aiwg.toml` never picks platforms itself: detected ones would change
        // with the files it writes, and the defaults are platforms nobody asked for.
        let root = scope_root(project, scope)?;
        let found = detect::platforms(&root);
        let (what, hint) = if found.is_empty() {
            (
                format!(
                    "no `{CONFIG_FILE}` and no platform files (`.claude/`, `.cursor/`, `AGENTS.md` ...) {}",
                    project::in_folder(&root)
                ),
                "`aiwg use .aiwg --platforms claude-code,codex` (or `aiwg use sdlc`) creates `aiwg.toml` naming the platforms".to_string(),
            )
        } else {
            (
                format!("no `{CONFIG_FILE}`: which platforms to deploy to is not recorded"),
                format!(
                    "`aiwg use .aiwg` creates `aiwg.toml` with the platforms found here ({}); or give `--platforms`",
                    found.join(", ")
                ),
            )
        };
        return Err(UserError::new(what, hint).into());
    };
    let platforms = if config.platforms.is_empty() {
        registry.defaults()
    } else {
        resolve(&config.platforms)?
    };
    if args.is_empty() {
        return Ok(Selection {
            platforms,
            only: None,
        });
    }
    let mut only = Vec::new();
    for asked in resolve(args)? {
        if !platforms.iter().any(|p| p.id == asked.id) {
            let ids: Vec<&str> = platforms.iter().map(|p| p.id.as_str()).collect();
            return Err(UserError::new(
                format!(
                    "`{}` is not one of this project's platforms ({})",
                    asked.id,
                    ids.join(", ")
                ),
                format!(
                    "`--platforms` only narrows a run; to add `{}`, put it in `platforms` of `{CONFIG_FILE}` (or `aiwg use <source> --platforms {}`)",
                    asked.id, asked.id
                ),
            )
            .into());
        }
        only.push(asked.id.clone());
    }
    Ok(Selection {
        platforms,
        only: Some(only),
    })
}

/// The platforms of `project` as configured (no `--platforms`), for commands that always
/// render everything (remove).
pub fn platforms(project: &Project, scope: Scope) -> anyhow::Result<Vec<&'static PlatformSpec>> {
    Ok(select(project, scope, &[])?.platforms)
}

/// The folder a scope deploys into: the project root, or the home folder.
fn scope_root(project: &Project, scope: Scope) -> anyhow::Result<PathBuf> {
    match scope {
        Scope::Project => Ok(project.root.clone()),
        Scope::User => project::home_dir(),
    }
}

/// Keeps the items of `plan` that a platform of `only` reads (or, stale, read): every part's
/// origin names the platforms it is for. A shared file kept this way is written whole, as
/// a run without a filter would write it.
pub fn filter_plan(plan: &mut Plan, only: Option<&[String]>) {
    let Some(only) = only else { return };
    plan.items.retain(|item| {
        item.parts()
            .iter()
            .any(|part| part.origin.platforms.iter().any(|p| only.contains(p)))
    });
}

/// Stops a run that has nothing to deploy: no `aiwg.toml` and no `.aiwg/` folder would
/// otherwise be reported as a missing source.
pub fn require_sources(project: &Project) -> anyhow::Result<()> {
    if project.user_scope && project.config.is_none() {
        return Err(UserError::new(
            format!(
                "user scope has no `{}` yet",
                project::display_relative(&project.config_path()).display()
            ),
            "`aiwg use sdlc --scope user` creates it (`$AIWG_HOME/aiwg.toml`, default `~/.aiwg/aiwg.toml`) and deploys into the home folder",
        )
        .into());
    }
    if project.config.is_some() || project.root.join(project::DEFAULT_SOURCE).is_dir() {
        return Ok(());
    }
    Err(UserError::new(
        format!(
            "no `{CONFIG_FILE}` {} or above, and no `{}` folder",
            project::in_folder(&project.root),
            project::DEFAULT_SOURCE
        ),
        "`aiwg use sdlc` deploys the bundled SDLC framework (and creates `aiwg.toml`); `aiwg new agent my-agent` starts your own in `.aiwg/`",
    )
    .into())
}

/// Loads the project's sources into one model; any error diagnostic stops the command
/// (printed first, all of them), since deploying half a source would be worse than none.
pub fn load_model(project: &Project) -> anyhow::Result<Model> {
    Ok(load_model_read(project)?.0)
}

/// What was read of one folder source: its folder (as located, before any symlink is
/// resolved) and each file's path inside it and size.
#[derive(Debug)]
pub struct ReadFolder {
    pub root: PathBuf,
    pub files: Vec<(RelPath, u64)>,
}

/// Refuses a run that would write where a folder source reads its artifacts: a platform's own
/// folder named as a source (`claude@.claude` with Claude Code selected) would have each apply
/// rewrite its own source. `aiwg import` is the way in for such files.
pub fn refuse_writing_into_sources(
    folders: &[ReadFolder],
    target_root: &Path,
    target: &TargetState,
) -> anyhow::Result<()> {
    let Ok(root) = std::fs::canonicalize(target_root) else {
        return Ok(());
    };
    for folder in folders {
        let Ok(canonical) = std::fs::canonicalize(&folder.root) else {
            continue;
        };
        let Ok(rel) = canonical.strip_prefix(&root) else {
            continue;
        };
        let prefix = rel.to_string_lossy().replace('\\', "/");
        // The path below the source folder, when it is one the source loader reads.
        let read_by_source = |path: &str| {
            let below = match prefix.as_str() {
                "" => Some(path),
                p => path.strip_prefix(p).and_then(|r| r.strip_prefix('/')),
            };
            below.is_some_and(|b| {
                let first = b.split('/').next().unwrap_or_default();
                aiwg_core::Kind::ALL.iter().any(|k| k.folder() == first)
            })
        };
        if let Some(entry) = target.entries().find(|e| read_by_source(e.path.as_str())) {
            let shown = project::display_relative(&folder.root);
            return Err(UserError::new(
                format!(
                    "source `{}` is a folder aiwg writes into (`{}`, for {}): each apply would rewrite its own source",
                    escape(&shown.display().to_string()),
                    escape(entry.path.as_str()),
                    entry.origin.platforms.join(", ")
                ),
                "`aiwg import` turns those files into sources in `.aiwg/`; then take the folder out of `sources` in `aiwg.toml`",
            )
            .into());
        }
    }
    Ok(())
}

/// [`load_model`], also telling what it read of each folder source (bundled ones are in the
/// binary): the check cache compares it with what it records.
pub fn load_model_read(project: &Project) -> anyhow::Result<(Model, Vec<ReadFolder>)> {
    // Nothing outside the project is read without consent, and no git source is fetched.
    trust::require(project, trust::outside_sources(project))?;
    trust::require(project, trust::git_sources(project))?;
    read_model(project)
}

/// [`load_model_read`] once its consent is given: a second load in the same run (the same
/// `Project`, git sources at the commits the first read) asks for nothing again.
fn read_model(project: &Project) -> anyhow::Result<(Model, Vec<ReadFolder>)> {
    let mut folders = Vec::new();
    let mut read = Vec::new();
    for spec in project.source_specs() {
        let location = project::locate(&spec, &project.root);
        let (source, root) = project::read_located_at(location, &spec, &project.root)?;
        if let Some(root) = root {
            folders.push(ReadFolder {
                root,
                files: source
                    .0
                    .files
                    .iter()
                    .map(|f| (f.path.clone(), f.bytes.len() as u64))
                    .collect(),
            });
        }
        read.push(source);
    }
    let packages = crate::packages::resolve(project)?;
    let mut loaded = project::load_sources(read).loaded;
    if !packages.is_empty() {
        let mut trees = Vec::with_capacity(packages.len());
        for (package, (tree, diags)) in packages
            .iter()
            .zip(crate::packages::read(project, &packages))
        {
            folders.push(ReadFolder {
                root: package.source_folder(&project.root),
                files: tree
                    .files
                    .iter()
                    .map(|f| (f.path.clone(), f.bytes.len() as u64))
                    .collect(),
            });
            loaded.diagnostics.extend(diags);
            trees.push(tree);
        }
        let more = crate::packages::load(&trees, &packages, &loaded.artifacts);
        loaded.diagnostics.extend(more.diagnostics);
        loaded.artifacts.extend(more.artifacts);
    }
    let mut errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    if !errors.is_empty() {
        let mut stderr = std::io::stderr().lock();
        for d in &errors {
            let _ = writeln!(stderr, "{d}");
        }
        return Err(UserError::new(
            format!(
                "{} problem{} in the sources; nothing was deployed",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            "fix them (`aiwg validate` lists them again), then run the command again",
        )
        .into());
    }
    let model = Model {
        artifacts: loaded.artifacts,
    };
    Ok((model, folders))
}

/// What the platforms want on disk for this project (relative to the scope root), and the
/// per-platform notices (fallbacks, skips, dropped models, size limits).
pub fn render_target(
    project: &Project,
    platforms: &[&PlatformSpec],
    scope: Scope,
) -> anyhow::Result<Rendered> {
    render_model(project, &load_model(project)?, platforms, scope)
}

/// Renders `model` (loaded from `project`) for `platforms` in `scope`.
pub fn render_model(
    project: &Project,
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
) -> anyhow::Result<Rendered> {
    render_model_bodies(project, model, platforms, scope, Bodies::Keep)
}

/// [`render_model`], keeping of each file's bytes what `bodies` says.
pub fn render_model_bodies(
    project: &Project,
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
    bodies: Bodies<'_>,
) -> anyhow::Result<Rendered> {
    let model_overrides = project
        .config
        .as_ref()
        .map(|c| c.models.clone())
        .unwrap_or_default();
    // A mistyped `[models.<platform>]` would otherwise be ignored without a word.
    for platform in model_overrides.keys() {
        if let Err(unknown) = Registry::builtin().resolve(&[platform]) {
            return Err(UserError::new(
                format!("`[models.{platform}]` in `aiwg.toml`: {unknown}"),
                unknown.hint(),
            )
            .into());
        }
    }
    let homes = match scope {
        Scope::User => client_homes(platforms)?,
        Scope::Project => BTreeMap::new(),
    };
    let options = RenderOptions {
        model_overrides,
        homes,
        exclude: BTreeMap::new(),
    };
    let packages = match scope {
        Scope::Project => crate::packages::resolve(project)?,
        Scope::User => Vec::new(),
    };
    let rendered = if packages.is_empty() {
        crate::exclude::render_excluding(
            model,
            platforms,
            scope,
            options,
            project.config.as_ref(),
            bodies,
        )?
    } else {
        // A monorepo renders in several passes (one may be retried, the packages' files are
        // moved below their folders): it keeps every byte, and its apply does not stream.
        let config = project.config.as_ref();
        crate::packages::render(model, &packages, platforms, options, |m, ps, o, warn| {
            crate::exclude::render_with(m, ps, scope, o, config, warn, Bodies::Keep)
        })?
    };
    check_target_caps(&rendered.target)?;
    Ok(rendered)
}

/// The largest file aiwg writes (an asset is at most 10 MiB; a rendered file is its
/// artifact's text with a few lines around it).
pub const MAX_TARGET_FILE_BYTES: u64 = 16 << 20;
/// The most bytes one deployment writes, every platform's copy counted.
pub const MAX_DEPLOYMENT_BYTES: u64 = 256 << 20;

/// Refuses a target state with a file over [`MAX_TARGET_FILE_BYTES`] or more than
/// [`MAX_DEPLOYMENT_BYTES`] in all, before anything is planned or written.
pub fn check_target_caps(target: &TargetState) -> anyhow::Result<()> {
    use aiwg_core::target::Desired;
    let mut total = 0u64;
    for entry in target.entries() {
        let size = match &entry.desired {
            Desired::File { bytes, .. } => bytes.len() as u64,
            Desired::Digest { size, .. } => *size,
            Desired::Section { text, .. } => text.len() as u64,
            Desired::Merge { entries, .. } => entries
                .iter()
                .map(|e| e.value.to_string().len() as u64)
                .sum(),
        };
        if size > MAX_TARGET_FILE_BYTES {
            return Err(UserError::new(
                format!(
                    "`{}` would be {size} bytes (wanted by {}); the cap for one file is {} MiB",
                    escape(entry.path.as_str()),
                    escape(&entry.origin.to_string()),
                    MAX_TARGET_FILE_BYTES >> 20
                ),
                "make the artifact smaller, or leave the platform out (`--platforms`)",
            )
            .into());
        }
        total += size;
    }
    if total > MAX_DEPLOYMENT_BYTES {
        return Err(UserError::new(
            format!(
                "the platforms would get {total} bytes in all; the cap for one deployment is {} MiB",
                MAX_DEPLOYMENT_BYTES >> 20
            ),
            "deploy to fewer platforms (`--platforms`), or keep large files outside the sources",
        )
        .into());
    }
    Ok(())
}

/// For user scope: each selected platform's home variable that is set (`CODEX_HOME`), as a
/// folder relative to the home folder. One outside the home folder is an error: aiwg deploys
/// user scope only under `HOME`, and writing the default folder would put files where the
/// client does not look.
pub fn client_homes(platforms: &[&PlatformSpec]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let Some(home) = dirs::home_dir() else {
        return Ok(out);
    };
    for h in platforms.iter().filter_map(|p| p.home.as_ref()) {
        let Some(value) = std::env::var_os(&h.var).filter(|v| !v.is_empty()) else {
            continue;
        };
        let dir = PathBuf::from(&value);
        let under = |d: &Path, home: &Path| -> Option<String> {
            let rel = d.strip_prefix(home).ok()?;
            let parts: Option<Vec<&str>> =
                rel.components().map(|c| c.as_os_str().to_str()).collect();
            let joined = parts?.join("/");
            (joined.is_empty() || RelPath::new(&joined).is_ok()).then_some(joined)
        };
        let rel = under(&dir, &home)
            .or_else(|| under(&dir.canonicalize().ok()?, &home.canonicalize().ok()?));
        match rel {
            Some(rel) => {
                out.insert(h.var.clone(), rel);
            }
            None => {
                return Err(UserError::new(
                    format!(
                        "`{}` is `{}`, outside the home folder `{}`: aiwg deploys user scope only under the home folder",
                        h.var,
                        dir.display(),
                        home.display()
                    ),
                    format!("point `{}` below `{}`, or unset it for this run", h.var, home.display()),
                )
                .into())
            }
        }
    }
    Ok(out)
}

/// Leaves `value` to the operating system, which reclaims it at exit: a command that ends right
/// after has no use for freeing thousands of buffers one by one (milliseconds on a large
/// project). Only for values that live until the command returns.
pub fn free_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// The target state alone, for commands that do not report notices.
pub fn target_state(
    project: &Project,
    platforms: &[&PlatformSpec],
    scope: Scope,
) -> anyhow::Result<TargetState> {
    Ok(render_target(project, platforms, scope)?.target)
}

/// Prints the per-platform notices on stderr: one `note:` line per platform joining its
/// documented fallbacks and skips, then one `warning:` line per thing that will not work as
/// written. Notices come sorted by platform, so the lines follow the platforms in order.
pub fn print_notices(notices: &[Notice]) {
    let mut stderr = std::io::stderr().lock();
    for platform_notices in notices.chunk_by(|a, b| a.platform == b.platform) {
        let notes: Vec<&str> = platform_notices
            .iter()
            .filter(|n| n.level == NoticeLevel::Info)
            .map(|n| n.message.as_str())
            .collect();
        if !notes.is_empty() {
            let platform = &platform_notices[0].platform;
            let _ = writeln!(
                stderr,
                "note: {platform}: {}",
                escape_lines(&notes.join("; "))
            );
        }
        for n in platform_notices
            .iter()
            .filter(|n| n.level == NoticeLevel::Warning)
        {
            let _ = writeln!(stderr, "warning: {}", escape_lines(&n.to_string()));
        }
    }
}

/// The platforms' notices: every one with `full` or `-v`, else one line counting them that
/// names `command` to list them (nothing with `-q`, or when there are none).
pub fn report_notices(notices: &[Notice], full: bool, command: &str) {
    if full || printer::says(Verbosity::Verbose) {
        if printer::says(Verbosity::Normal) {
            print_notices(notices);
        }
        return;
    }
    let warnings = notices
        .iter()
        .filter(|n| n.level == NoticeLevel::Warning)
        .count();
    let notes = notices.len() - warnings;
    let mut counts = Vec::new();
    if warnings > 0 {
        counts.push(format!("{warnings} warning{}", plural(warnings)));
    }
    if notes > 0 {
        counts.push(format!("{notes} note{}", plural(notes)));
    }
    if !counts.is_empty() {
        printer::say!(
            "note: {} on how the platforms take this content (`{command}` lists them)",
            counts.join(" and ")
        );
    }
}

/// What `plan` writes or deletes, one line per platform: how many files, and where
/// (`.claude/`, `CLAUDE.md`); nothing with `-q` or when nothing changes.
pub fn report_written(d: &Deployment, plan: &Plan) {
    if !printer::says(Verbosity::Normal) {
        return;
    }
    let mut per_platform: std::collections::BTreeMap<&str, (usize, Vec<String>)> =
        std::collections::BTreeMap::new();
    let mut shown: BTreeMap<&str, String> = BTreeMap::new();
    for item in plan.changes() {
        let mut platforms: Vec<&str> = item
            .origins()
            .flat_map(|o| o.platforms.iter().map(String::as_str))
            .collect();
        platforms.sort();
        platforms.dedup();
        // The top folder of the path as the user sees it (`.claude/`, `~/.codex/`), taken from
        // the relative path: with `-C elsewhere` the displayed path is absolute.
        // Shown once per top folder (showing asks for the current folder: one system call).
        let place = match item.path.as_str().split_once('/') {
            Some((top, _)) => shown
                .entry(top)
                .or_insert_with(|| match RelPath::new(top) {
                    Ok(top) => format!("{}/", d.display(&top)),
                    Err(_) => format!("{top}/"),
                })
                .clone(),
            None => d.display(&item.path),
        };
        for platform in platforms {
            let entry = per_platform.entry(platform).or_default();
            entry.0 += 1;
            if !entry.1.contains(&place) {
                entry.1.push(place.clone());
            }
        }
    }
    let width = per_platform.keys().map(|k| k.len()).max().unwrap_or(0);
    for (platform, (files, places)) in per_platform {
        let mut shown: Vec<&str> = places.iter().take(4).map(String::as_str).collect();
        let more = places.len().saturating_sub(4);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        shown.sort();
        let word = if files == 1 { "file" } else { "files" };
        printer::say!(
            "  {platform:width$}  {files:>4} {word:5}  {}{more}",
            shown.join(", ")
        );
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What a deploy command works on: what the platforms want, and the scope's deployment.
pub struct Prepared {
    pub rendered: Rendered,
    pub deployment: Deployment,
    /// `--platforms`: the ids whose paths the run looks at (see [`Selection::only`]).
    pub only: Option<Vec<String>>,
    /// The personal overlay (`aiwg.local.toml`), deployed by a second pass.
    pub overlay: Option<crate::overlay::Overlay>,
}

impl Prepared {
    /// Plans the overlay's pass, if there is an overlay, over the team's `team` target state
    /// (before it is planned: apply moves it into the team's plan).
    pub fn overlay_pass(&self, team: &TargetState) -> anyhow::Result<Option<crate::overlay::Pass>> {
        overlay_pass(
            self.overlay.as_ref(),
            &self.deployment,
            team,
            self.only.as_deref(),
        )
    }
}

/// [`Prepared::overlay_pass`] on its parts (apply plans it under the process lock).
pub fn overlay_pass(
    overlay: Option<&crate::overlay::Overlay>,
    d: &Deployment,
    team: &TargetState,
    only: Option<&[String]>,
) -> anyhow::Result<Option<crate::overlay::Pass>> {
    let Some(overlay) = overlay else {
        return Ok(None);
    };
    let team_lock = d.engine().read_lock().map_err(explain)?;
    let pass = crate::overlay::prepare(overlay, d, team, &team_lock, only)?;
    Ok(Some(pass))
}

/// Resolves the scope and platforms of `target` for `project`, renders the target state and
/// opens the deployment: the shared first steps of apply, diff, check, plan and status.
pub fn prepare(project: &Project, target: &TargetArgs) -> anyhow::Result<Prepared> {
    Ok(prepare_read(project, target)?.0)
}

/// What [`prepare_read`] resolved and read besides the prepared deployment: the check cache
/// records it.
pub struct ReadInputs {
    pub platforms: Vec<&'static PlatformSpec>,
    pub folders: Vec<ReadFolder>,
    /// The model's behaviors (executable hooks), for consent and the `hook:` lines.
    pub hooks: Vec<trust::Hook>,
}

/// [`prepare`], also returning the platforms it resolved and what it read of each folder
/// source.
pub fn prepare_read(
    project: &Project,
    target: &TargetArgs,
) -> anyhow::Result<(Prepared, ReadInputs)> {
    let (prepared, read, model) = prepare_read_with(project, target, false)?;
    free_at_exit(model);
    Ok((prepared, read))
}

/// [`prepare_read`], also returning the model it rendered; with `digest`, the target state
/// holds each whole file's digest instead of its bytes ([`Bodies::Digest`]), and
/// [`restream`] renders the model again for the apply that writes them.
pub fn prepare_read_with(
    project: &Project,
    target: &TargetArgs,
    digest: bool,
) -> anyhow::Result<(Prepared, ReadInputs, Model)> {
    let bodies = if digest { Bodies::Digest } else { Bodies::Keep };
    prepare_read_bodies(project, target, bodies, None)
}

/// How many bytes a streamed apply's first render ([`Bodies::Hold`]) may hold for the model
/// and the whole files it keeps to write them without rendering again: one ceiling (the model's
/// bodies and assets and the section texts count first, the held files grow in steps beside
/// them, never reserved whole), a constant, so what it holds never grows with the output (the
/// realistic corpus at x1 to every platform is 12.6 MB of files beside 1.65 MB of sources, and
/// x10 to one platform 9.9 MB beside 8.7 MB, and both are held; x3 to all is past it and renders
/// twice, holding nothing: its files' least size is known to be past the budget before the
/// first is made). `AIWG_HOLD_BUDGET_BYTES` sets another (tests: `0` always renders twice).
pub fn hold_budget() -> usize {
    std::env::var("AIWG_HOLD_BUDGET_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(24 << 20)
}

/// [`prepare_read_with`], keeping of each whole file what `bodies` says; `opened`: the
/// deployment of this scope when the caller opened it already (apply, to ask the check cache).
pub fn prepare_read_bodies(
    project: &Project,
    target: &TargetArgs,
    bodies: Bodies<'_>,
    opened: Option<Deployment>,
) -> anyhow::Result<(Prepared, ReadInputs, Model)> {
    let (prepared, read, model, _) = prepare_all(project, target, bodies, false, opened)?;
    Ok((prepared, read, model))
}

/// [`prepare_read_with`], and the lock read and parsed on a second thread meanwhile, for
/// [`Deployment::plan_with`]: the render runs on one core, and a large lock takes about as
/// long to parse (9,060 entries: some 190 M instructions) as a tenth of a full check.
pub fn prepare_read_and_lock(
    project: &Project,
    target: &TargetArgs,
    digest: bool,
) -> anyhow::Result<(Prepared, ReadInputs, Model, EarlyLock)> {
    let bodies = if digest { Bodies::Digest } else { Bodies::Keep };
    prepare_all(project, target, bodies, true, None)
}

/// The lock as read while the sources were loaded ([`prepare_read_and_lock`]): `None` when no
/// thread could be had or the read failed (the plan then reads it itself, with the error it
/// always gave).
pub struct EarlyLock(Option<aiwg_deploy::Lock>);

fn prepare_all(
    project: &Project,
    target: &TargetArgs,
    bodies: Bodies<'_>,
    early_lock: bool,
    opened: Option<Deployment>,
) -> anyhow::Result<(Prepared, ReadInputs, Model, EarlyLock)> {
    let scope = scope(project, target.scope)?;
    require_sources(project)?;
    let overlay = crate::overlay::load(project, scope)?;
    // `--platforms` may name a platform only the overlay adds: the team's pass then plans
    // nothing for it.
    let Selection { platforms, only } = match &overlay {
        Some(o) => Selection {
            only: select(&o.merged, scope, &target.platforms)?.only,
            platforms: select(project, scope, &[])?.platforms,
        },
        None => select(project, scope, &target.platforms)?,
    };
    let deployment = match opened {
        Some(d) if d.scope == scope => d,
        _ => Deployment::open(project, scope)?,
    };
    // Git sources are read at the commits this scope's lock pins.
    if project
        .source_specs()
        .iter()
        .any(|s| crate::remote::is_git_spec(s))
    {
        crate::remote::use_lock(&deployment.engine().read_lock().map_err(explain)?);
    }
    let load = || -> anyhow::Result<_> {
        let (model, folders) = load_model_read(project)?;
        let hooks = trust::hooks(project, &model);
        let rendered = render_model_bodies(project, &model, &platforms, scope, bodies)?;
        refuse_writing_into_sources(&folders, &scope_root(project, scope)?, &rendered.target)?;
        Ok((model, folders, hooks, rendered))
    };
    // The lock's bytes are read here (the Systems are not shared between threads), only its
    // parse goes to the second thread; what `Engine::read_lock` would answer, or `None`.
    let lock_bytes = early_lock.then(|| {
        let engine = deployment.engine();
        engine.state.read(&engine.layout.lock).ok()
    });
    let (loaded, lock) = match lock_bytes.flatten() {
        None => (load(), None),
        Some(None) => (load(), Some(aiwg_deploy::Lock::new())),
        Some(Some(data)) => std::thread::scope(|s| {
            let name = deployment.engine().layout.lock;
            let parse = move || {
                let text = String::from_utf8_lossy(&data.bytes);
                aiwg_deploy::Lock::parse(name.as_str(), &text).ok()
            };
            let early = aiwg_core::par::spawn(s, parse);
            let loaded = load();
            (loaded, early.and_then(|h| h.join().ok()).flatten())
        }),
    };
    let (model, folders, hooks, mut rendered) = loaded?;
    if let Some(only) = &only {
        rendered.notices.retain(|n| only.contains(&n.platform));
    }
    let prepared = Prepared {
        rendered,
        deployment,
        only,
        overlay,
    };
    let read = ReadInputs {
        platforms,
        folders,
        hooks,
    };
    Ok((prepared, read, model, EarlyLock(lock)))
}

/// Loads the sources of `project` again and renders them as [`prepare_read_with`] did, handing
/// `sink` each whole file as it is made (the second render of a streamed apply; its notices
/// were said by the first). The first render's model is not kept for it, so the plan is made
/// and the files are written without it; this load reads the same `Project` (its `aiwg.toml`
/// as read at the start, git sources at the commits this run read) under the same caps and
/// consent. A source edited since the first load renders other bytes: the apply checks each
/// file against the planned hash and stops before the lock (`DeployError::Restream`), drops a
/// path the plan never had unread, and writes sections and merged keys from the first render.
pub fn restream(
    project: &Project,
    platforms: &[&PlatformSpec],
    scope: Scope,
    sink: aiwg_platforms::Sink<'_>,
) -> Result<(), String> {
    let model = read_model(project).map(|(model, _)| model).map_err(|e| {
        format!("the sources changed while this apply ran and no longer load ({e:#})")
    })?;
    let rendered = render_model_bodies(project, &model, platforms, scope, Bodies::Stream(sink))
        .map_err(|e| format!("{e:#}"))?;
    // What is left of the second render goes with the process (the apply ends soon after).
    free_at_exit((model, rendered));
    Ok(())
}

/// The folders one scope deploys into, and the Systems on them.
pub struct Deployment {
    pub scope: Scope,
    /// Where targets go (project root, or home), as the user would write it.
    pub root: PathBuf,
    /// How many generations to keep.
    pub keep: usize,
    /// Refuses git's directories and aiwg's own state, through any symlink.
    target: RealSystem,
    /// Where the lock and history go: the project root again (project scope), or `$AIWG_HOME`.
    state: RealSystem,
    /// `$AIWG_HOME`, where the key that marks history as this machine's lives (outside any
    /// project, so a cloned repository cannot bring history that verifies), and, in user
    /// scope, the one process lock of the home folder (every project's user-scope state is
    /// below it, but they all write to one home).
    keys: RealSystem,
}

/// The git directories of the repository at `root` that may lie elsewhere than `root/.git`:
/// where a `.git` pointer file (a worktree, a submodule, `--separate-git-dir`) leads, and that
/// git dir's common dir. What `git rev-parse --git-dir --git-common-dir` answers, read without
/// running git (aiwg starts no process, and `check` must stay fast). `root/.git` itself, and
/// every `.git` below the root, is always protected.
pub fn git_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(pointer) = std::fs::read_to_string(root.join(".git")) else {
        return Vec::new();
    };
    let Some(git_dir) = pointer
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("gitdir:"))
    else {
        return Vec::new();
    };
    let git_dir = root.join(git_dir.trim());
    let mut dirs = vec![git_dir.clone()];
    if let Ok(common) = std::fs::read_to_string(git_dir.join("commondir")) {
        dirs.push(git_dir.join(common.trim()));
    }
    dirs
}

/// The user-scope state of the project at `root`: `$AIWG_HOME/projects/<hash of its
/// canonical path>/`, so one project's lock never lists, and its apply never deletes, what
/// another project deployed into the home folder (R11).
pub fn user_state_dir(aiwg_home: &Path, root: &Path) -> PathBuf {
    let key = trust::project_key(root);
    let hash = aiwg_deploy::hash::sha256_hex(key.as_os_str().as_encoded_bytes());
    aiwg_home.join("projects").join(&hash[..32])
}

impl Deployment {
    /// The roots for `scope`: project scope deploys into the project root and keeps its
    /// state there; user scope deploys into the home folder and keeps the project's state
    /// in [`user_state_dir`] under `$AIWG_HOME` (default `~/.aiwg`).
    pub fn open(project: &Project, scope: Scope) -> anyhow::Result<Deployment> {
        let keep = project.config.as_ref().map_or(10, |c| c.history.keep);
        let home = || {
            dirs::home_dir().ok_or_else(|| {
                UserError::new(
                    "cannot find the home folder",
                    "set `HOME` (or `AIWG_HOME`, where aiwg keeps its own state)",
                )
            })
        };
        let aiwg_home = match trust::aiwg_home() {
            Some(dir) => dir,
            None => home()?.join(".aiwg"),
        };
        let (root, state) = match scope {
            Scope::Project => (project.root.clone(), None),
            Scope::User => {
                let legacy = aiwg_home.join(aiwg_deploy::lock::LOCK_FILE);
                if legacy.is_file() {
                    crate::printer::say!(
                        "note: `{}` (one user-scope lock for every project, from aiwg 0.1) is no longer read; each project now keeps its own; files it listed count as not written by aiwg",
                        escape(&legacy.display().to_string())
                    );
                }
                (home()?, Some(user_state_dir(&aiwg_home, &project.root)))
            }
        };
        let keys = RealSystem::new(&aiwg_home)
            .with_context(|| format!("cannot use `{}`", aiwg_home.display()))?;
        let open = |dir: &Path| {
            let mut sys =
                RealSystem::new(dir).with_context(|| format!("cannot use `{}`", dir.display()))?;
            for git_dir in git_dirs(&project.root) {
                sys = sys.protect(&git_dir, Owner::Git);
            }
            anyhow::Ok(sys)
        };
        // `$AIWG_HOME` holds every project's user-scope state, the trust records and the
        // history key: no target is ever written there, in either scope.
        let mut target = open(&root)?.protect(&aiwg_home, Owner::Aiwg);
        if std::fs::canonicalize(&aiwg_home).ok() == std::fs::canonicalize(&root).ok() {
            // `$AIWG_HOME` is the target root itself (the home folder, or the project):
            // protecting it whole would refuse every target, so its own entries are.
            let user = Layout::user();
            let key_lock = format!("{}.lock", aiwg_deploy::mark::KEY_FILE);
            let names = ["projects", "trust", aiwg_deploy::mark::KEY_FILE, &key_lock];
            for name in names {
                let rel = RelPath::new(name).expect("valid");
                target = target.protect_relative(&rel, Owner::Aiwg);
            }
            // The home folder's process lock, and a 0.1 user-scope lock and history.
            for rel in [
                &user.process_lock,
                &user.lock,
                &user.history,
                &user.check_cache,
            ] {
                target = target.protect_relative(rel, Owner::Aiwg);
            }
        }
        let state = match &state {
            Some(dir) => open(dir)?,
            None => {
                let layout = Layout::project();
                let local = RelPath::new(aiwg_core::local::LOCAL_CONFIG_FILE).expect("valid");
                for own in [&layout.lock, &RelPath::new(".aiwg").expect("valid"), &local] {
                    target = target.protect_relative(own, Owner::Aiwg);
                }
                // A package's `.aiwg/` is a source like the root's: no target, lock entry or
                // restore may reach into it.
                for package in crate::packages::resolve(project)? {
                    let source = RelPath::new(&package.source).expect("a folder and `.aiwg`");
                    target = target.protect_relative(&source, Owner::Aiwg);
                }
                let exclude = RelPath::new(".git/info/exclude").expect("valid");
                open(&root)?.allow(&exclude)
            }
        };
        Ok(Deployment {
            scope,
            root,
            keep,
            target,
            state,
            keys,
        })
    }

    /// The folder targets go to, canonical (as the engine resolves paths).
    pub fn target_root(&self) -> &Path {
        self.target.root()
    }

    /// The System on the state root (the target root in project scope).
    pub fn state_system(&self) -> &RealSystem {
        &self.state
    }

    /// The folder aiwg keeps its state in (the target root in project scope), canonical.
    pub fn state_root(&self) -> &Path {
        self.state.root()
    }

    /// Takes the process lock, waiting up to [`lock_wait`] for another aiwg to finish.
    /// In user scope it is the home folder's one lock, `$AIWG_HOME/lock.pid`.
    pub fn lock(&self) -> anyhow::Result<aiwg_deploy::proclock::ProcessLock<'_>> {
        match self.scope {
            Scope::User => aiwg_deploy::proclock::acquire(
                &self.keys,
                &Layout::user().process_lock,
                lock_wait(),
                LOCK_POLL,
            ),
            Scope::Project => self.engine().lock_process(lock_wait(), LOCK_POLL),
        }
        .map_err(explain)
    }

    /// The plan for `state`, narrowed to the paths the platforms of `only` read.
    pub fn plan(
        &self,
        state: &TargetState,
        only: Option<&[String]>,
    ) -> anyhow::Result<(Plan, aiwg_deploy::Lock)> {
        let (mut plan, lock) = self.engine().plan(state).map_err(explain)?;
        filter_plan(&mut plan, only);
        Ok((plan, lock))
    }

    /// [`Deployment::plan`] with the lock [`prepare_read_and_lock`] read, when it could.
    pub fn plan_with(
        &self,
        state: &TargetState,
        only: Option<&[String]>,
        lock: EarlyLock,
    ) -> anyhow::Result<(Plan, aiwg_deploy::Lock)> {
        let Some(lock) = lock.0 else {
            return self.plan(state, only);
        };
        let (mut plan, lock) = (self.engine())
            .plan_with_lock(state, lock)
            .map_err(explain)?;
        filter_plan(&mut plan, only);
        Ok((plan, lock))
    }

    /// [`Deployment::plan`], taking `state`: the plan takes over the bytes of every whole
    /// file instead of copying them (apply, which needs the state no more).
    pub fn plan_owned(
        &self,
        state: TargetState,
        only: Option<&[String]>,
    ) -> anyhow::Result<(Plan, aiwg_deploy::Lock)> {
        let (mut plan, lock) = self.engine().plan_owned(state).map_err(explain)?;
        filter_plan(&mut plan, only);
        Ok((plan, lock))
    }

    /// The engine on this deployment's Systems.
    pub fn engine(&self) -> Engine<'_> {
        let engine = match self.scope {
            Scope::Project => Engine::same_root(&self.target, &self.state, Layout::project()),
            Scope::User => Engine::split(&self.target, &self.state, Layout::user()),
        };
        engine.with_keys(KeySource::file(&self.keys))
    }

    /// The engine of the personal overlay's pass (`aiwg.local.toml`): the same Systems, its
    /// own lock and history in `.aiwg/local/` ([`Layout::overlay`]). Project scope only.
    pub fn overlay_engine(&self) -> Engine<'_> {
        Engine::same_root(&self.target, &self.state, Layout::overlay())
            .with_keys(KeySource::file(&self.keys))
    }

    /// Warns (stderr) about each history folder that is not this machine's and is ignored.
    pub fn warn_ignored_history(&self) {
        if let Ok(listing) = aiwg_deploy::history::list_heads(&self.engine()) {
            self.warn_ignored(&listing.ignored);
        }
    }

    /// Warns (stderr) about each of `ignored` (what an apply's prune found: no second listing).
    pub fn warn_ignored(&self, ignored: &[aiwg_deploy::history::Ignored]) {
        let mut stderr = std::io::stderr().lock();
        for ignored in ignored {
            let _ = writeln!(
                stderr,
                "warning: `{}` is ignored, never rolled back: {}",
                self.display_state(&ignored.folder),
                ignored.reason
            );
        }
    }

    /// A path of aiwg's state (relative to the state root) as the user should read it.
    pub fn display_state(&self, path: &RelPath) -> String {
        match self.scope {
            Scope::Project => self.display(path),
            Scope::User => path.to_path(self.state.root()).display().to_string(),
        }
    }

    /// `path` (relative to the root) as the user should read it: relative to the current
    /// folder when it lies below it; in user scope, `~/...` otherwise.
    /// Terminal controls in it are escaped: a path can come from the repository.
    pub fn display(&self, path: &RelPath) -> String {
        let shown = match self.scope {
            Scope::Project => display_under(&self.root, path),
            Scope::User => {
                let cwd = std::env::current_dir().ok();
                display_in_home(&self.root, cwd.as_deref(), path)
            }
        };
        escape(&shown).into_owned()
    }

    /// A path the engine names in a text (relative to the root, not always a [`RelPath`]) as
    /// [`Deployment::display`] shows it; escaped as it is when it is not a path.
    pub fn display_text(&self, path: &str) -> String {
        match RelPath::new(path) {
            Ok(rel) if rel.as_str() == path => self.display(&rel),
            _ => escape(path).into_owned(),
        }
    }

    /// A path the engine names (relative to the root) as a patch's `# conflict:` line shows
    /// it: relative to the root like the patch's headers in project scope, `~/...` in user
    /// scope (where the headers are relative to the home folder); escaped.
    pub fn show_in_patch(&self, path: &str) -> String {
        let escaped = escape(path);
        match self.scope {
            Scope::Project => escaped.into_owned(),
            Scope::User => format!("~/{escaped}"),
        }
    }

    /// A conflict's reason, with the paths it names as [`Deployment::display`] shows them
    /// (`~/.claude/...` in user scope).
    pub fn reason(&self, conflict: &aiwg_deploy::ConflictKind) -> String {
        conflict.reason_shown(&|path| self.display_text(path))
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

/// `home/path` relative to `cwd` when it lies below it, else `~/path`.
pub fn display_in_home(home: &Path, cwd: Option<&Path>, path: &RelPath) -> String {
    let abs = path.to_path(home);
    match cwd.and_then(|cwd| abs.strip_prefix(cwd).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => format!("~/{path}"),
    }
}

/// `root/path` relative to the current folder when below it, else absolute.
pub fn display_under(root: &Path, path: &RelPath) -> String {
    project::display_relative(&path.to_path(root))
        .display()
        .to_string()
}

/// How many conflicts of `plan` `force` does not resolve: an apply with any writes nothing.
pub fn blocking_conflicts(plan: &aiwg_deploy::Plan, force: bool) -> usize {
    plan.conflicts()
        .filter(|i| i.conflict().is_some_and(|c| !(force && c.forceable())))
        .count()
}

/// Prints each conflict of `plan` that `force` does not resolve (stderr), then the hints.
/// Returns how many there were.
pub fn report_conflicts(d: &Deployment, plan: &aiwg_deploy::Plan, force: bool) -> usize {
    let mut stderr = std::io::stderr().lock();
    let mut forceable = 0;
    let mut by_hand = 0;
    let mut folders = 0;
    let mut forceable_folders = 0;
    for item in plan.conflicts() {
        let Some(conflict) = item.conflict() else {
            continue;
        };
        if force && conflict.forceable() {
            continue;
        }
        let folder = matches!(conflict, aiwg_deploy::ConflictKind::FolderInTheWay(_));
        if conflict.forceable() {
            forceable += 1;
            forceable_folders += usize::from(folder);
        } else if folder {
            folders += 1;
        } else {
            by_hand += 1;
        }
        let origin = item
            .origin()
            .map(|o| {
                let (artifact, source) = (escape(&o.artifact), escape(&o.source));
                format!(" (wanted by `{artifact}` from `{source}`)")
            })
            .unwrap_or_default();
        let _ = writeln!(
            stderr,
            "conflict: `{}`: {}{origin}",
            d.display(&item.path),
            d.reason(conflict)
        );
    }
    if forceable + by_hand + folders > 0 {
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
                "hint: {} cannot be forced: fix the file by hand (or move it away), then apply again",
                crate::width::count(by_hand, "conflict")
            );
        }
        if forceable_folders > 0 {
            let _ = writeln!(stderr, "{FORCE_CLEARS_FOLDERS}");
        }
        if folders > 0 {
            let _ = writeln!(
                stderr,
                "hint: move what is named out of the folder in the way (or delete it), then apply again: a folder holding only files is replaced by the file, after a backup of those aiwg did not write or that were edited when `--force` is given (`aiwg rollback` brings them back)"
            );
        }
    }
    forceable + by_hand + folders
}

/// The hint for a folder in the way that `--force` clears.
const FORCE_CLEARS_FOLDERS: &str = "hint: `aiwg apply --force` clears a folder in the way that holds only files: it backs up those aiwg did not write or that were edited, deletes them and writes the file in the folder's place (`aiwg rollback` brings them back)";

/// Prints (stderr) each folder in the way of `plan` that `--force` clears, with what is in
/// it, and the hint: `check` and `status` name what `apply --force` would delete there,
/// beside the conflicts [`report_conflicts`] lists as no option resolving them.
pub fn report_forceable_folders(d: &Deployment, plan: &aiwg_deploy::Plan) {
    let mut stderr = std::io::stderr().lock();
    let mut any = false;
    for item in plan.conflicts() {
        let Some(conflict @ aiwg_deploy::ConflictKind::FolderInTheWay(w)) = item.conflict() else {
            continue;
        };
        if !w.forceable {
            continue;
        }
        any = true;
        let _ = writeln!(
            stderr,
            "conflict: `{}`: {}",
            d.display(&item.path),
            d.reason(conflict)
        );
    }
    if any {
        let _ = writeln!(stderr, "\n{FORCE_CLEARS_FOLDERS}");
    }
}

/// Prints the conflicts an engine refused with (a race with another writer, or a rollback).
pub fn report_refused(d: &Deployment, paths: &[(RelPath, String)], hint: &str) {
    let mut stderr = std::io::stderr().lock();
    for (path, why) in paths {
        let _ = writeln!(stderr, "conflict: `{}`: {why}", d.display(path));
    }
    let _ = writeln!(stderr, "\nhint: {hint}");
}

/// An engine error as the user should read it: the lock, the process lock and reserved
/// paths get a `hint:` with the way out.
pub fn explain(e: aiwg_deploy::DeployError) -> anyhow::Error {
    use aiwg_deploy::DeployError;
    let hint = match &e {
        DeployError::Lock(aiwg_deploy::lock::LockError::Newer { .. }) => {
            "this project was deployed by a newer aiwg: upgrade aiwg"
        }
        DeployError::Lock(aiwg_deploy::lock::LockError::Reserved { .. }) => {
            "aiwg never wrote there, so someone edited the lock by hand (a cloned repository is a stranger's input): delete that `[[file]]` entry from `aiwg.lock`, then run the command again"
        }
        DeployError::Lock(_) => {
            "restore it (`git checkout aiwg.lock`); deleting it makes aiwg treat every file it wrote as someone else's"
        }
        DeployError::Busy { .. } => {
            "wait for the other aiwg to finish: the operating system releases its lock when it exits"
        }
        DeployError::Reserved { .. } => "this is a bug in a platform adapter: please report it",
        DeployError::Restream { .. } => {
            "a source changed while apply ran (it reads the sources again to write), so it stopped: every file it wrote is one the plan checked, the lock was not written, and the next `aiwg apply` finishes the job; if it happens with no edit, please report it (rendering should be deterministic)"
        }
        DeployError::NoHistory { .. } => "generations are recorded by `aiwg apply` when it changes files",
        DeployError::UnknownGeneration { .. } => "`aiwg rollback --list` shows the generations",
        DeployError::History { .. } => {
            "that generation cannot be restored: `aiwg rollback --list` shows the ones that can (it lists damaged and foreign folders as ignored), and `--to N` picks one"
        }
        DeployError::HistoryKey(aiwg_deploy::mark::KeyError::Busy { .. }) => {
            "wait for the other aiwg to finish, then run the command again: the operating system releases its lock when it exits"
        }
        DeployError::HistoryKey(_) => {
            "move that file away: aiwg writes a new key, and ignores the history marked with the old one"
        }
        DeployError::System(aiwg_deploy::SystemError::Redirected { .. }) => {
            "remove that symlink (a cloned repository may ship one); the next command makes the folder"
        }
        DeployError::System(aiwg_deploy::SystemError::NotAFolder { .. }) => {
            "move that file away (or rename it): aiwg makes the folder there on the next run"
        }
        // The message already ends with the OS's reason: as a `UserError` it is printed once,
        // not again as a cause.
        DeployError::System(aiwg_deploy::SystemError::Io { .. }) => {
            "fix the cause (permissions, a full or read-only disk), then run the command again; an interrupted apply is finished by the next one"
        }
        _ => return e.into(),
    };
    UserError::new(e.to_string(), hint).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_paths_are_shown_with_a_tilde_unless_below_the_current_folder() {
        let check = |cwd: Option<&str>, expect: &str| {
            let path = RelPath::new(".claude/agents/a.md").unwrap();
            let got = display_in_home(Path::new("/h"), cwd.map(Path::new), &path);
            assert_eq!(got, expect, "{cwd:?}");
        };
        check(Some("/h/code/project"), "~/.claude/agents/a.md");
        check(Some("/elsewhere"), "~/.claude/agents/a.md");
        check(None, "~/.claude/agents/a.md");
        check(Some("/h"), ".claude/agents/a.md");
        check(Some("/h/.claude"), "agents/a.md");
    }

    #[test]
    fn target_caps_refuse_one_big_file_and_a_big_total() {
        use aiwg_core::target::{Desired, Origin, TargetEntry};
        let file = |path: &str, size: usize| TargetEntry {
            path: RelPath::new(path).unwrap(),
            desired: Desired::File {
                bytes: vec![b'x'; size],
                executable: false,
            },
            origin: Origin::new(".aiwg", "skill:s", vec!["claude-code".into()]),
        };
        let mut one = TargetState::new();
        one.insert(file("a/big.bin", (16 << 20) + 1)).unwrap();
        let e = printed(&check_target_caps(&one).unwrap_err());
        assert!(e.contains("`a/big.bin`") && e.contains("skill:s"), "{e}");
        let mut many = TargetState::new();
        for i in 0..17 {
            many.insert(file(&format!("d/{i}.bin"), 16 << 20)).unwrap();
        }
        let e = printed(&check_target_caps(&many).unwrap_err());
        assert!(e.contains("256 MiB"), "{e}");
        let mut fine = TargetState::new();
        fine.insert(file("ok.bin", 16 << 20)).unwrap();
        assert!(check_target_caps(&fine).is_ok());
    }

    /// A project of two agents for Claude Code, its first render planned as a streamed apply
    /// plans it, and the engine to write it; `edit` changes the sources after the plan (after
    /// the first load), then the write loads them again ([`restream`]).
    fn apply_after(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, Result<(), String>) {
        use aiwg_deploy::{ApplyOptions, DeployError};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        let agent = |name: &str, text: &str| {
            format!("---\nname: {name}\ndescription: {name}\n---\n{text}\n")
        };
        std::fs::create_dir_all(root.join(".aiwg/agents")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::write(root.join("aiwg.toml"), "platforms = [\"claude-code\"]\n").unwrap();
        std::fs::write(root.join(".aiwg/agents/a.md"), agent("a", "First.")).unwrap();
        std::fs::write(root.join(".aiwg/agents/b.md"), agent("b", "Second.")).unwrap();
        let project = Project::load(root.canonicalize().unwrap()).unwrap();
        let platforms = platforms(&project, Scope::Project).unwrap();
        let model = load_model(&project).unwrap();
        let rendered =
            render_model_bodies(&project, &model, &platforms, Scope::Project, Bodies::Digest)
                .unwrap();
        drop(model);
        // As `Deployment::open` opens it: the history is kept out of git there.
        let exclude = RelPath::new(".git/info/exclude").unwrap();
        let target = RealSystem::new(&project.root).unwrap().allow(&exclude);
        let keys = RealSystem::new(&dir.path().join("home")).unwrap();
        let engine = Engine::same_root(&target, &target, Layout::project())
            .with_keys(KeySource::file(&keys));
        let (plan, lock) = engine.plan_owned(rendered.target).unwrap();
        assert!(plan.items.iter().any(|i| i.streamed().is_some()));
        edit(&project.root);
        let options = ApplyOptions {
            force: false,
            release_edited: false,
            keep: 10,
            command: "apply".into(),
        };
        let applied = engine.apply_streamed(&plan, &lock, &options, &mut |sink| {
            restream(&project, &platforms, Scope::Project, &mut |p, b, e| {
                sink(p, b, e, None)
            })
        });
        let applied = match applied {
            Ok(_) => Ok(()),
            Err(DeployError::Restream { path, message }) => Err(format!("{path}: {message}")),
            Err(e) => panic!("{e}"),
        };
        (dir, applied)
    }

    /// What is on disk at `rel` under the project, if anything.
    fn on_disk(dir: &tempfile::TempDir, rel: &str) -> Option<String> {
        std::fs::read_to_string(dir.path().join("p").join(rel)).ok()
    }

    #[test]
    fn the_second_render_loads_the_sources_again_and_an_edit_since_the_plan_writes_nothing_unchecked(
    ) {
        // Untouched sources: the files come from the second load, as planned.
        let (dir, applied) = apply_after(|_| {});
        assert_eq!(applied, Ok(()));
        assert!(on_disk(&dir, ".claude/agents/b.md").is_some_and(|t| t.contains("Second.")));
        assert!(on_disk(&dir, "aiwg.lock").is_some());
        // `b` edited and `c` added after the plan: the second load sees both (a model kept
        // from the first render would not), `b`'s bytes are not the planned ones and stop the
        // apply before the lock, and `c`, a path the plan never had, is not written.
        let (dir, applied) = apply_after(|root| {
            let b = "---\nname: b\ndescription: b\n---\nEdited.\n";
            std::fs::write(root.join(".aiwg/agents/b.md"), b).unwrap();
            let c = "---\nname: c\ndescription: c\n---\nNew.\n";
            std::fs::write(root.join(".aiwg/agents/c.md"), c).unwrap();
        });
        let why = applied.unwrap_err();
        assert!(why.starts_with(".claude/agents/b.md: "), "{why}");
        assert_eq!(on_disk(&dir, "aiwg.lock"), None);
        assert_eq!(on_disk(&dir, ".claude/agents/c.md"), None);
        assert!(!on_disk(&dir, ".claude/agents/b.md").is_some_and(|t| t.contains("Edited.")));
        if let Some(a) = on_disk(&dir, ".claude/agents/a.md") {
            assert!(a.contains("First."), "{a}");
        }
    }

    #[test]
    fn sources_that_no_longer_load_at_the_second_render_stop_the_apply_before_the_lock() {
        let (dir, applied) = apply_after(|root| {
            std::fs::write(root.join(".aiwg/agents/b.md"), "---\nname: [b\n---\nx\n").unwrap();
        });
        let why = applied.unwrap_err();
        assert!(
            why.contains("the sources changed while this apply ran"),
            "{why}"
        );
        assert_eq!(on_disk(&dir, "aiwg.lock"), None);
        assert!(!on_disk(&dir, ".claude/agents/b.md").is_some_and(|t| t.contains('[')));
    }

    /// The whole message as `main` prints it (`{:#}`: the error and its causes).
    fn printed(e: &anyhow::Error) -> String {
        format!("{e:#}")
    }

    #[test]
    fn a_disk_error_names_its_cause_once_and_has_a_hint() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = explain(aiwg_deploy::DeployError::System(
            aiwg_deploy::SystemError::Io {
                op: "write",
                path: ".claude/agents/x.md".into(),
                source: io,
            },
        ));
        let text = printed(&e);
        assert_eq!(text.matches("ermission denied").count(), 1, "{text}");
        assert!(
            text.contains("cannot write `.claude/agents/x.md`"),
            "{text}"
        );
        let user = e.chain().find_map(|c| c.downcast_ref::<UserError>());
        assert!(user.is_some_and(|u| !u.hint.is_empty()), "no hint: {text}");
    }
}
