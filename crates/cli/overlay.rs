//! The personal overlay (issue 14): `aiwg.local.toml` merged over `aiwg.toml` and deployed
//! by a second pass with its own lock (`.aiwg/local/aiwg.lock`, [`aiwg_deploy::Layout::overlay`])
//! that takes only paths the team's pass neither wants nor owns, and the block in git's
//! exclude file that keeps the overlay out of every commit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aiwg_core::escape::escape;
use aiwg_core::local::{LocalConfig, LOCAL_CONFIG_FILE};
use aiwg_core::target::{Desired, Origin, Part, Scope, TargetState};
use aiwg_core::RelPath;
use aiwg_deploy::{Lock, Plan};
use aiwg_platforms::{Notice, Registry};
use anyhow::Context as _;

use crate::error::UserError;
use crate::pipeline::{self, Deployment};
use crate::project::{self, Project};
use crate::trust;

/// The overlay's file at the project root `root` (which may not exist).
pub fn path(root: &Path) -> PathBuf {
    root.join(LOCAL_CONFIG_FILE)
}

/// Reads `aiwg.local.toml` at `root`, if there is one; a bad one is an error with its line.
pub fn read(root: &Path) -> anyhow::Result<Option<LocalConfig>> {
    let file = path(root);
    if !file.is_file() {
        return Ok(None);
    }
    refuse_link_out(root, &file)?;
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "cannot read `{}`",
            project::display_relative(&file).display()
        )
    })?;
    parse(&file, &text).map(Some)
}

/// Refuses an `aiwg.local.toml` that is a symlink leading out of the project: a repository can
/// commit one, and `aiwg use --local` and `aiwg remove --local` rewrite the file behind it
/// (`config_edit::write_config` writes through links), so a link to one of the user's own
/// files would get that file rewritten.
pub fn refuse_link_out(root: &Path, file: &Path) -> anyhow::Result<()> {
    crate::config_edit::refuse_link_out(root, file)
}

/// Parses the text of `aiwg.local.toml` (at `file`), as [`read`] does.
pub fn parse(file: &Path, text: &str) -> anyhow::Result<LocalConfig> {
    let local = LocalConfig::parse(file, text).map_err(|d| {
        UserError::new(
            format!(
                "{}:{}: {}",
                project::display_relative(&d.path).display(),
                d.line.unwrap_or(1),
                d.message
            ),
            d.hint.unwrap_or_default(),
        )
    })?;
    if let Some(git) = local.sources.iter().find(|s| crate::remote::is_git_spec(s)) {
        let quoted = format!("\"{git}\"");
        let line = text
            .lines()
            .position(|l| l.contains(&quoted))
            .map_or(1, |i| i + 1);
        return Err(UserError::new(
            format!(
                "{}:{line}: git source `{}`: the overlay takes folders and bundled frameworks only",
                project::display_relative(file).display(),
                escape(git)
            ),
            "a git source is pinned in the team's `aiwg.lock`: add it to `aiwg.toml`, or clone it and name the folder (`aiwg use --local ../clone`)",
        )
        .into());
    }
    Ok(local)
}

/// The overlay of a run: the project with `aiwg.local.toml` merged over its config (what the
/// overlay's pass renders).
#[derive(Debug)]
pub struct Overlay {
    pub merged: Project,
    /// The team's platforms (its default set when `aiwg.toml` names none).
    pub team_platforms: Vec<String>,
}

/// The overlay `aiwg use --local` is about to write: this run deploys it instead of the file.
static PENDING: std::sync::Mutex<Option<LocalConfig>> = std::sync::Mutex::new(None);

/// Makes this run deploy `local` as the overlay (`aiwg use --local`: the file is written only
/// once the deploy succeeded, as `aiwg use` writes `aiwg.toml`).
pub fn set_pending(local: LocalConfig) {
    *PENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(local);
}

/// The overlay a deploy command of `project` runs with in `scope`: `None` without an
/// `aiwg.local.toml`, in user scope, and under `--frozen` (which deploys exactly what the
/// team committed; a note says the file is ignored).
pub fn load(project: &Project, scope: Scope) -> anyhow::Result<Option<Overlay>> {
    if project.user_scope {
        return Ok(None);
    }
    // Ignored means not even read: a broken or hostile file cannot stop a frozen CI run.
    if crate::remote::run_options().frozen && path(&project.root).is_file() {
        crate::printer::say!(
            "note: --frozen deploys `aiwg.toml` alone: `{LOCAL_CONFIG_FILE}` is ignored"
        );
        return Ok(None);
    }
    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match pending.map_or_else(|| read(&project.root), |p| Ok(Some(p)))? {
        Some(local) => with_config(project, scope, local),
        None => Ok(None),
    }
}

/// [`load`] with the overlay `local` (`aiwg use --local`, before the file is written).
pub fn with_config(
    project: &Project,
    scope: Scope,
    local: LocalConfig,
) -> anyhow::Result<Option<Overlay>> {
    if project.user_scope || scope == Scope::User {
        crate::printer::say!(
            "note: `{LOCAL_CONFIG_FILE}` is ignored in user scope: the overlay deploys into the project"
        );
        return Ok(None);
    }
    if crate::remote::run_options().frozen {
        crate::printer::say!(
            "note: --frozen deploys `aiwg.toml` alone: `{LOCAL_CONFIG_FILE}` is ignored"
        );
        return Ok(None);
    }
    let Some(team) = &project.config else {
        return Err(UserError::new(
            format!(
                "`{LOCAL_CONFIG_FILE}` {} is an overlay on `aiwg.toml`, and there is none",
                project::in_folder(&project.root)
            ),
            "`aiwg use <source>` creates `aiwg.toml` (the team's, committed); `aiwg use --local <source>` then adds yours",
        )
        .into());
    };
    check_platforms(&project.root, &local)?;
    let team_platforms: Vec<String> = if team.platforms.is_empty() {
        Registry::builtin()
            .defaults()
            .iter()
            .map(|p| p.id.clone())
            .collect()
    } else {
        team.platforms.clone()
    };
    let merged = Project {
        root: project.root.clone(),
        config: Some(local.merged_over(team, &team_platforms)),
        user_scope: false,
    };
    Ok(Some(Overlay {
        merged,
        team_platforms,
    }))
}

/// Refuses a platform id of `local` that aiwg does not know (in `platforms` or as
/// `[platform.<id>]`), naming `aiwg.local.toml` and the line: the merged config would
/// otherwise be blamed on `aiwg.toml`.
fn check_platforms(root: &Path, local: &LocalConfig) -> anyhow::Result<()> {
    let registry = Registry::builtin();
    let named = local
        .platforms
        .iter()
        .map(|p| (p, format!("\"{p}\"")))
        .chain(
            local
                .platform
                .keys()
                .map(|p| (p, format!("[platform.{p}]"))),
        );
    for (id, needle) in named {
        let Err(unknown) = registry.resolve(&[id]) else {
            continue;
        };
        let line = std::fs::read_to_string(path(root))
            .ok()
            .and_then(|text| text.lines().position(|l| l.contains(&needle)))
            .map_or(String::new(), |i| format!("{}:", i + 1));
        return Err(UserError::new(
            format!("{LOCAL_CONFIG_FILE}:{line} {unknown}"),
            unknown.hint(),
        )
        .into());
    }
    Ok(())
}

/// A path the overlay would write that the team's pass wants or owns: the overlay leaves it.
#[derive(Debug, Clone)]
pub struct Clash {
    pub path: RelPath,
    pub part: Part,
    /// What the overlay wanted there.
    pub local: Origin,
    /// What the team deploys there (or deployed: its lock's entry).
    pub team: Origin,
}

/// The overlay's pass, planned.
pub struct Pass {
    pub plan: Plan,
    /// The overlay's lock before this run, less the paths handed to the team.
    pub lock: Lock,
    /// The merged model's behaviors, for consent and the `hook:` lines.
    pub hooks: Vec<trust::Hook>,
    /// The notices of the platforms only the overlay adds (the team's pass says its own).
    pub notices: Vec<Notice>,
    pub clashes: Vec<Clash>,
    /// Paths the overlay managed that the team's pass now wants: no longer the overlay's.
    pub handed: Vec<RelPath>,
}

/// Renders the merged config and plans what the team's pass does not deploy: every entry of
/// the merged target at a path the team's target (`team`) or lock (`team_lock`) has is left
/// to the team (a [`Clash`] when it differs from what the team wants there). `only` is
/// `--platforms`.
pub fn prepare(
    overlay: &Overlay,
    d: &Deployment,
    team: &TargetState,
    team_lock: &Lock,
    only: Option<&[String]>,
) -> anyhow::Result<Pass> {
    let merged = &overlay.merged;
    let platforms = pipeline::select(merged, Scope::Project, &[])?.platforms;
    let team_ids: Vec<String> = Registry::builtin()
        .resolve(&overlay.team_platforms)
        .map(|specs| specs.iter().map(|p| p.id.clone()).collect())
        .unwrap_or_default();
    let (model, folders) = pipeline::load_model_read(merged)?;
    let hooks = trust::hooks(merged, &model);
    let rendered = pipeline::render_model(merged, &model, &platforms, Scope::Project)?;
    pipeline::free_at_exit(model);
    pipeline::refuse_writing_into_sources(&folders, &merged.root, &rendered.target)?;
    // Whose each team path is, and what the team wants at each (path, part).
    let mut owner: BTreeMap<&RelPath, Origin> = BTreeMap::new();
    let mut wanted: BTreeMap<(&RelPath, Part), &Desired> = BTreeMap::new();
    for e in team.entries() {
        owner.entry(&e.path).or_insert_with(|| e.origin.clone());
        wanted.insert((&e.path, e.desired.part()), &e.desired);
    }
    let locked: Vec<(RelPath, Origin)> = team_lock
        .entries()
        .map(|e| (e.path.clone(), e.origin()))
        .collect();
    for (path, origin) in &locked {
        owner.entry(path).or_insert_with(|| origin.clone());
    }
    let mut target = TargetState::new();
    let mut clashes = Vec::new();
    for entry in rendered.target.into_entries() {
        match owner.get(&entry.path) {
            None => target
                .insert(entry)
                .map_err(|clash| anyhow::anyhow!("{clash}"))?,
            Some(team_origin) => {
                let part = entry.desired.part();
                // The team's files may be digests (a streamed apply): compared by content.
                let same = wanted
                    .get(&(&entry.path, part.clone()))
                    .is_some_and(|team| team.same_as(&entry.desired));
                if !same {
                    clashes.push(Clash {
                        path: entry.path.clone(),
                        part,
                        local: entry.origin.clone(),
                        team: team_origin.clone(),
                    });
                }
            }
        }
    }
    let engine = d.overlay_engine();
    let mut lock = read_lock(d)?;
    // A path the team now deploys is the team's: the overlay forgets it and deletes nothing
    // (so a hostile overlay lock naming a team file cannot get it deleted either).
    let handing: Vec<(RelPath, Part)> = lock
        .entries()
        .filter(|e| owner.contains_key(&e.path))
        .map(|e| (e.path.clone(), e.part.clone()))
        .collect();
    let mut handed: Vec<RelPath> = Vec::new();
    for (path, part) in handing {
        lock.remove(&path, &part);
        if !handed.contains(&path) {
            handed.push(path);
        }
    }
    let (mut plan, lock) = engine
        .plan_with_lock(&target, lock)
        .map_err(pipeline::explain)?;
    pipeline::filter_plan(&mut plan, only);
    let notices = rendered
        .notices
        .into_iter()
        .filter(|n| !team_ids.contains(&n.platform))
        .filter(|n| only.is_none_or(|o| o.contains(&n.platform)))
        .collect();
    Ok(Pass {
        plan,
        lock,
        hooks,
        notices,
        clashes,
        handed,
    })
}

/// The overlay's lock; a broken one is an error whose hint fits a file no clone shares.
pub fn read_lock(d: &Deployment) -> anyhow::Result<Lock> {
    use aiwg_deploy::{lock::LockError, DeployError};
    match d.overlay_engine().read_lock() {
        Err(DeployError::Lock(e)) if !matches!(e, LockError::Newer { .. } | LockError::Reserved { .. }) => Err(UserError::new(
            e.to_string(),
            "it is the overlay's own lock (git never had it): `aiwg rollback --local` may restore it; deleting it makes aiwg treat the overlay's files as someone else's",
        )
        .into()),
        other => other.map_err(pipeline::explain),
    }
}

impl Pass {
    /// Prints one `warning:` per clash and one `note:` per path handed to the team (stderr).
    pub fn report(&self, d: &Deployment) {
        for c in &self.clashes {
            let part = match &c.part {
                Part::Whole => String::new(),
                p => format!(" [{p}]"),
            };
            crate::printer::say!(
                "warning: overlay: `{}`{part} is the team's (`{}` from `{}`): `{}` from `{}` for {} is not deployed there\n  hint: leave it out in `{LOCAL_CONFIG_FILE}` (`exclude`, or `[platform.<id>] exclude`) to silence this",
                d.display(&c.path),
                escape(&c.team.artifact),
                escape(&c.team.source),
                escape(&c.local.artifact),
                escape(&c.local.source),
                c.local.platforms.join(", ")
            );
        }
        for path in &self.handed {
            crate::printer::say!(
                "note: overlay: `{}` is deployed by `aiwg.toml` now; `{LOCAL_CONFIG_FILE}` no longer manages it",
                d.display(path)
            );
        }
    }
}

/// The team's `plan` with the overlay's `pass` (its clashes reported first), for the
/// commands that show paths (diff, plan, status, check).
pub fn with_pass(d: &Deployment, plan: Plan, pass: Option<&Pass>) -> Plan {
    match pass {
        None => plan,
        Some(pass) => {
            pass.report(d);
            let mut both = joined(&plan, &pass.plan);
            both.debris
                .target
                .extend(pass.plan.debris.target.iter().cloned());
            both.debris
                .state
                .extend(pass.plan.debris.state.iter().cloned());
            both.debris.target.sort();
            both.debris.target.dedup();
            both.debris.state.sort();
            both.debris.state.dedup();
            both
        }
    }
}

/// The team's plan and the overlay's as one, for reports that list paths (`--json`).
pub fn joined(team: &Plan, local: &Plan) -> Plan {
    let mut both = team.clone();
    both.items.extend(local.items.iter().cloned());
    both.items.sort_by(|a, b| a.path.cmp(&b.path));
    both
}

/// The first and last line of aiwg's block in git's exclude file.
pub const EXCLUDE_BEGIN: &str =
    "# aiwg: personal overlay (aiwg.local.toml), never committed: begin";
/// See [`EXCLUDE_BEGIN`].
pub const EXCLUDE_END: &str = "# aiwg: personal overlay: end";

/// Where git's exclude file of the work tree around `root` is, and `root`'s folder below the
/// work tree's top (`""` at the top, else `sub/dir/`, escaped for gitignore). `None` outside
/// a git work tree.
fn exclude_file(root: &Path) -> Option<(PathBuf, String)> {
    let out = crate::git::run(
        root,
        ["rev-parse", "--show-toplevel", "--git-path", "info/exclude"],
    )
    .ok()?;
    let out = String::from_utf8_lossy(&out).into_owned();
    let mut lines = out.lines();
    let (top, exclude) = (lines.next()?, lines.next()?);
    let top = std::fs::canonicalize(top).unwrap_or_else(|_| PathBuf::from(top));
    let here = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let below = here.strip_prefix(&top).ok()?;
    let prefix: String = below
        .components()
        .map(|c| glob_escape(&c.as_os_str().to_string_lossy()) + "/")
        .collect();
    Some((root.join(exclude), prefix))
}

/// Refuses an exclude file reached through a symlink: the file itself, its `info/` folder,
/// or (when git names it below `root`, the ordinary `.git/info/exclude`) any folder on the
/// way. A repository delivered with its git directory (an archive, a copied checkout) could
/// otherwise point the block's write at any file of the user's, as the history's own ignore
/// lines are refused (`RealSystem`).
fn refuse_links(root: &Path, exclude: &Path) -> anyhow::Result<()> {
    let mut on_the_way: Vec<PathBuf> = vec![exclude.to_path_buf()];
    if let Some(info) = exclude.parent() {
        on_the_way.push(info.to_path_buf());
    }
    if let Ok(below) = exclude.strip_prefix(root) {
        let mut at = root.to_path_buf();
        for c in below.components() {
            at.push(c);
            on_the_way.push(at.clone());
        }
    }
    for path in on_the_way {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let to = std::fs::read_link(&path).unwrap_or_default();
            return Err(UserError::new(
                format!(
                    "`{}` is a symlink (to `{}`): aiwg writes the overlay's block only into git's own exclude file, never through a link",
                    escape(&project::display_relative(&path).to_string_lossy()),
                    escape(&to.to_string_lossy())
                ),
                "replace the link with a regular file (`git init` recreates `.git/info/exclude`), then run the command again",
            )
            .into());
        }
    }
    Ok(())
}

/// The whole files of the overlay's lock `lock`: what the block ignores besides the overlay's
/// own files. A path where the overlay owns only a section or keys stays visible to git: the
/// rest of that file is someone's own.
pub fn ignored_paths(lock: &Lock) -> Vec<RelPath> {
    let mut paths: Vec<RelPath> = lock
        .entries()
        .filter(|e| {
            lock.entries_of(&e.path)
                .all(|x| x.mode == aiwg_deploy::Mode::File)
        })
        .map(|e| e.path.clone())
        .collect();
    paths.dedup();
    paths
}

/// The whole files to ignore before `pass` is applied: those its lock names and those it
/// writes, so each file is ignored before it exists.
pub fn ignored_before(pass: &Pass) -> Vec<RelPath> {
    let mut paths = ignored_paths(&pass.lock);
    paths.extend(
        pass.plan
            .items
            .iter()
            .filter(|i| i.mode == aiwg_deploy::Mode::File && i.new_data().is_some())
            .map(|i| i.path.clone()),
    );
    paths
}

/// Makes git ignore the overlay of the project at `root`: `aiwg.local.toml`, `.aiwg/local/`
/// and each of `paths` (the whole files it deploys), as one block between [`EXCLUDE_BEGIN`]
/// and [`EXCLUDE_END`] in the exclude file git names (`git rev-parse --git-path
/// info/exclude`, a worktree's included), never in the team's `.gitignore`. The block is
/// replaced as a whole, so it lists exactly these paths and an unchanged run writes nothing.
/// Returns the exclude file; outside a git work tree there is nothing to do.
pub fn ensure_git_exclude(root: &Path, paths: &[RelPath]) -> anyhow::Result<Option<PathBuf>> {
    let Some((exclude, prefix)) = exclude_file(root) else {
        return Ok(None);
    };
    refuse_links(root, &exclude)?;
    let mut block =
        format!("{EXCLUDE_BEGIN}\n/{prefix}{LOCAL_CONFIG_FILE}\n/{prefix}.aiwg/local/\n");
    let mut listed: Vec<String> = paths
        .iter()
        .map(|p| {
            let escaped: Vec<String> = p.components().map(glob_escape).collect();
            format!("/{prefix}{}", escaped.join("/"))
        })
        .collect();
    listed.sort();
    listed.dedup();
    for line in listed {
        block.push_str(&line);
        block.push('\n');
    }
    block.push_str(EXCLUDE_END);
    block.push('\n');
    let text = match std::fs::read(&exclude) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(
                anyhow::Error::from(e).context(format!("cannot read `{}`", exclude.display()))
            )
        }
    };
    let (before, after) = without_block(&text);
    let mut new = before;
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(&block);
    new.push_str(&after);
    if new == text {
        return Ok(Some(exclude));
    }
    if let Some(dir) = exclude.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    crate::config_edit::write_config(&exclude, &new)?;
    Ok(Some(exclude))
}

/// `text` split around aiwg's block (which is left out): what comes before it, and after.
/// Without a block (or with a begin line and no end), all of `text` is before.
fn without_block(text: &str) -> (String, String) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let begin = lines.iter().position(|l| l.trim_end() == EXCLUDE_BEGIN);
    let end = begin.and_then(|b| {
        lines[b..]
            .iter()
            .position(|l| l.trim_end() == EXCLUDE_END)
            .map(|e| b + e)
    });
    match (begin, end) {
        (Some(b), Some(e)) => (lines[..b].concat(), lines[e + 1..].concat()),
        _ => (text.to_string(), String::new()),
    }
}

/// Takes aiwg's overlay block out of git's exclude file; everything else stays. Returns the
/// file when it had the block (`dry_run`: when it would change).
pub fn remove_git_exclude(root: &Path, dry_run: bool) -> anyhow::Result<Option<PathBuf>> {
    let Some((exclude, _)) = exclude_file(root) else {
        return Ok(None);
    };
    refuse_links(root, &exclude)?;
    let Ok(text) = std::fs::read_to_string(&exclude) else {
        return Ok(None);
    };
    let (before, after) = without_block(&text);
    let kept = before + &after;
    if kept == text {
        return Ok(None);
    }
    if !dry_run {
        crate::config_edit::write_config(&exclude, &kept)?;
    }
    Ok(Some(exclude))
}

/// `text` with gitignore's special characters escaped, so a name matches itself.
fn glob_escape(text: &str) -> String {
    let mut out = String::new();
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        let special = matches!(c, '*' | '?' | '[' | ']' | '\\')
            || (i == 0 && matches!(c, '#' | '!'))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// True when git tracks `aiwg.local.toml` at `root` (committed, so every clone has it).
pub fn is_tracked(root: &Path) -> bool {
    crate::git::run(root, ["ls-files", "--", LOCAL_CONFIG_FILE])
        .is_ok_and(|out| !out.trim_ascii().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_of_folder_names_are_escaped() {
        assert_eq!(glob_escape("pkg"), "pkg");
        assert_eq!(glob_escape("a*b[1]"), "a\\*b\\[1\\]");
        assert_eq!(glob_escape("#x!"), "\\#x!");
        assert_eq!(glob_escape("a "), "a\\ ");
    }

    #[test]
    fn the_block_is_found_and_replaced_whole() {
        let text = format!("mine\n{EXCLUDE_BEGIN}\n/aiwg.local.toml\n{EXCLUDE_END}\nafter\n");
        let (before, after) = without_block(&text);
        assert_eq!((before.as_str(), after.as_str()), ("mine\n", "after\n"));
        // A begin line without its end is the user's text: nothing is taken out.
        let text = format!("{EXCLUDE_BEGIN}\n/x\n");
        assert_eq!(without_block(&text), (text.clone(), String::new()));
    }
}
