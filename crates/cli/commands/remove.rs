//! `aiwg remove <source>` and `aiwg uninstall`: delete what aiwg wrote (for one source, or
//! all), never a file it did not write and never one edited since — those are kept and no
//! longer managed. Sections and merged keys go; the user's text and keys stay.

use aiwg_core::config::CONFIG_FILE;
use aiwg_core::target::TargetState;
use aiwg_core::RelPath;
use aiwg_deploy::{ApplyOptions, DeployError, Lock, Plan};
use anyhow::Context as _;

use crate::cli::ScopeArg;
use crate::commands::{Context, UserError};
use crate::pipeline::{self, Deployment};
use crate::project::Project;

/// How a removal runs.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Show what would be removed and write nothing.
    pub dry_run: bool,
    /// Print the report as JSON on stdout (instead of the dry run's diff).
    pub json: bool,
    /// How the dry run shows what would go: the diff, `--stat` or `--name-only`.
    pub shape: super::diff::Format,
}

use crate::project::spec_name;

/// Runs `aiwg remove <source>`.
pub fn remove(
    ctx: &Context,
    source: &str,
    how: Run,
    scope: Option<ScopeArg>,
) -> anyhow::Result<u8> {
    let dry_run = how.dry_run;
    let arg = scope;
    let found = Project::open(&ctx.cwd, arg)?;
    let scope = pipeline::scope(&found, arg)?;
    let d = Deployment::open(&found, scope)?;
    let _guard = (!dry_run).then(|| d.lock()).transpose()?;
    // Read again under the lock: a concurrent `aiwg use` may have just added a source (R6).
    let mut project = Project::open(&ctx.cwd, arg)?;
    let engine = d.engine();
    let mut lock = engine.read_lock().map_err(pipeline::explain)?;
    let specs = project.source_specs();
    let in_config = specs.iter().any(|s| spec_name(s) == source);
    let in_lock = lock.entries().any(|e| &*e.origin.source == source) || lock.pin(source).is_some();
    // The pins of the other git sources stay; this one's goes with its files.
    let kept: Vec<aiwg_deploy::SourcePin> =
        lock.pins().filter(|p| p.name != source).cloned().collect();
    lock.set_pins(kept);
    if !in_config && !in_lock {
        let mut known: Vec<String> = specs.iter().map(|s| spec_name(s).to_string()).collect();
        known.extend(lock.entries().map(|e| e.origin.source.to_string()));
        known.sort();
        known.dedup();
        return Err(UserError::new(
            format!(
                "`{source}` is not a source of this project{}",
                crate::suggest::did_you_mean(source, known.iter().map(String::as_str))
            ),
            format!("its sources are: {}", known.join(", ")),
        )
        .into());
    }
    // What the other sources still want.
    let remaining: Vec<String> = specs
        .iter()
        .filter(|s| spec_name(s) != source)
        .cloned()
        .collect();
    let state = if remaining.is_empty() {
        TargetState::new()
    } else {
        if let Some(config) = project.config.as_mut() {
            config.sources = remaining.clone();
        }
        let platforms = pipeline::platforms(&project, scope)?;
        pipeline::target_state(&project, &platforms, scope)?
    };
    let (mut plan, _) = engine.plan(&state).map_err(pipeline::explain)?;
    plan.items.retain(|i| {
        lock.entries_of(&i.path)
            .any(|e| &*e.origin.source == source)
    });
    crate::generated::preflight_for(&project, &d, dry_run)?;
    let code = run_removal(
        ctx,
        &d,
        &engine,
        &plan,
        &lock,
        how,
        &format!("remove {source}"),
    )?;
    if code == 0 && !dry_run {
        crate::generated::update(&project, &d, &crate::generated::whole_files(&state))?;
    }
    if code == 0 && !dry_run && in_config {
        edit_config(&project.config_path(), "sources", |s| {
            spec_name(s) == source
        })?;
        crate::printer::say!("removed `{source}` from `{CONFIG_FILE}`");
    }
    Ok(code)
}

/// Runs `aiwg remove --platform <id>`: takes the platform out of `aiwg.toml` and deletes
/// the files only it read; shared files (an `AGENTS.md` section, `.agents/skills/`) are
/// rewritten for the platforms that remain.
pub fn remove_platform(
    ctx: &Context,
    platform: &str,
    how: Run,
    scope: Option<ScopeArg>,
) -> anyhow::Result<u8> {
    let dry_run = how.dry_run;
    let arg = scope;
    let found = Project::open(&ctx.cwd, arg)?;
    let scope = pipeline::scope(&found, arg)?;
    let d = Deployment::open(&found, scope)?;
    let _guard = (!dry_run).then(|| d.lock()).transpose()?;
    // Read again under the lock, as `remove` does (R6).
    let mut project = Project::open(&ctx.cwd, arg)?;
    let Some(config) = project.config.as_mut() else {
        return Err(UserError::new(
            format!("no `{CONFIG_FILE}` here: there is no platform to remove"),
            "`aiwg uninstall` removes every file aiwg wrote",
        )
        .into());
    };
    let registry = aiwg_platforms::Registry::builtin();
    let asked = registry
        .resolve(&[platform])
        .map_err(|unknown| UserError::new(unknown.to_string(), unknown.hint()))?[0];
    let configured_ids: Vec<&aiwg_platforms::PlatformSpec> = if config.platforms.is_empty() {
        registry.defaults()
    } else {
        registry
            .resolve(&config.platforms)
            .map_err(|unknown| UserError::new(unknown.to_string(), unknown.hint()))?
    };
    if !configured_ids.iter().any(|p| p.id == asked.id) {
        let ids: Vec<&str> = configured_ids.iter().map(|p| p.id.as_str()).collect();
        return Err(UserError::new(
            format!("`{}` is not one of this project's platforms", asked.id),
            format!("its platforms are: {}", ids.join(", ")),
        )
        .into());
    }
    let remaining: Vec<String> = configured_ids
        .iter()
        .filter(|p| p.id != asked.id)
        .map(|p| p.id.clone())
        .collect();
    if remaining.is_empty() {
        return Err(UserError::new(
            format!("`{}` is the project's only platform", asked.id),
            "`aiwg uninstall` removes every file aiwg wrote",
        )
        .into());
    }
    let was_default = config.platforms.is_empty();
    config.platforms = remaining.clone();
    let lock = d.engine().read_lock().map_err(pipeline::explain)?;
    let platforms = pipeline::platforms(&project, scope)?;
    let state = pipeline::target_state(&project, &platforms, scope)?;
    let (mut plan, _) = d.engine().plan(&state).map_err(pipeline::explain)?;
    // Only what the removed platform read changes; other drift waits for `aiwg apply`.
    plan.items.retain(|i| {
        lock.entries_of(&i.path)
            .any(|e| e.origin.platforms.contains(&asked.id))
    });
    let command = format!("remove --platform {}", asked.id);
    crate::generated::preflight_for(&project, &d, dry_run)?;
    let code = run_removal(ctx, &d, &d.engine(), &plan, &lock, how, &command)?;
    if code == 0 && !dry_run {
        crate::generated::update(&project, &d, &crate::generated::whole_files(&state))?;
        if was_default {
            // The default set was implicit: the ones left are written out.
            write_platforms(&project.config_path(), &remaining)?;
        } else {
            // Entries are taken out as spelled (an alias too); the rest stays as written.
            let is_removed = |s: &str| registry.get(s).is_some_and(|p| p.id == asked.id);
            edit_config(&project.config_path(), "platforms", is_removed)?;
        }
        crate::printer::say!("removed `{}` from `platforms` in `{CONFIG_FILE}`", asked.id);
    }
    Ok(code)
}

/// Runs `aiwg remove --local <source>`: takes the source out of `aiwg.local.toml` and deletes
/// the files only the overlay deployed for it; the team's files are never touched (a path
/// the team deploys is handed to it, not deleted).
pub fn remove_local(ctx: &Context, source: &str, how: Run) -> anyhow::Result<u8> {
    use aiwg_core::local::LOCAL_CONFIG_FILE;
    use aiwg_core::target::Scope;
    let dry_run = how.dry_run;
    let found = Project::open(&ctx.cwd, None)?;
    let d = Deployment::open(&found, Scope::Project)?;
    let _guard = (!dry_run).then(|| d.lock()).transpose()?;
    let project = Project::open(&ctx.cwd, None)?;
    let path = crate::overlay::path(&project.root);
    let Some(local) = crate::overlay::read(&project.root)? else {
        return Err(UserError::new(
            format!(
                "no `{LOCAL_CONFIG_FILE}` {}: there is no overlay to remove from",
                crate::project::in_folder(&project.root)
            ),
            format!("`aiwg remove {source}` removes a source of `{CONFIG_FILE}`"),
        )
        .into());
    };
    let engine = d.overlay_engine();
    let lock = crate::overlay::read_lock(&d)?;
    let in_config = local.sources.iter().any(|s| spec_name(s) == source);
    let in_lock = lock.entries().any(|e| &*e.origin.source == source);
    if !in_config && !in_lock {
        let mut known: Vec<String> = local
            .sources
            .iter()
            .map(|s| spec_name(s).to_string())
            .collect();
        known.extend(lock.entries().map(|e| e.origin.source.to_string()));
        known.sort();
        known.dedup();
        return Err(UserError::new(
            format!(
                "`{source}` is not a source of `{LOCAL_CONFIG_FILE}`{}",
                crate::suggest::did_you_mean(source, known.iter().map(String::as_str))
            ),
            match known.is_empty() {
                true => format!("`{LOCAL_CONFIG_FILE}` names no source; `aiwg remove {source}` removes one of `{CONFIG_FILE}`"),
                false => format!("its sources are: {}", known.join(", ")),
            },
        )
        .into());
    }
    let mut remaining = local.clone();
    remaining.sources.retain(|s| spec_name(s) != source);
    let Some(overlay) = crate::overlay::with_config(&project, Scope::Project, remaining)? else {
        return Err(UserError::new(
            "--frozen leaves the overlay alone",
            "run `aiwg remove --local` without --frozen",
        )
        .into());
    };
    let platforms = pipeline::platforms(&project, Scope::Project)?;
    let team = pipeline::target_state(&project, &platforms, Scope::Project)?;
    let team_lock = d.engine().read_lock().map_err(pipeline::explain)?;
    let pass = crate::overlay::prepare(&overlay, &d, &team, &team_lock, None)?;
    let mut plan = pass.plan;
    plan.items.retain(|i| {
        lock.entries_of(&i.path)
            .any(|e| &*e.origin.source == source)
    });
    let command = format!("remove --local {source}");
    let code = run_removal(ctx, &d, &engine, &plan, &pass.lock, how, &command)?;
    if code == 0 && !dry_run {
        let lock = crate::overlay::read_lock(&d)?;
        crate::overlay::ensure_git_exclude(&project.root, &crate::overlay::ignored_paths(&lock))?;
    }
    if code == 0 && !dry_run && in_config {
        edit_config(&path, "sources", |s| spec_name(s) == source)?;
        crate::printer::say!("removed `{source}` from `{LOCAL_CONFIG_FILE}`");
    }
    Ok(code)
}

/// Runs `aiwg uninstall --local`: every file the overlay deployed goes (never one the team's
/// lock names), then its lock and history in `.aiwg/local/`, its block in git's exclude file
/// and, unless `keep_config`, `aiwg.local.toml`.
pub fn uninstall_local(ctx: &Context, how: Run, keep_config: bool) -> anyhow::Result<u8> {
    use aiwg_core::local::LOCAL_CONFIG_FILE;
    use aiwg_core::target::Scope;
    use aiwg_deploy::System as _;
    let dry_run = how.dry_run;
    let project = Project::open(&ctx.cwd, None)?;
    let d = Deployment::open(&project, Scope::Project)?;
    let guard = (!dry_run).then(|| d.lock()).transpose()?;
    let engine = d.overlay_engine();
    let team_lock = d.engine().read_lock().map_err(pipeline::explain)?;
    let mut lock = crate::overlay::read_lock(&d)?;
    // A path the team's lock names is the team's, whatever the overlay's lock says.
    let team_paths: Vec<(RelPath, aiwg_deploy::Part)> = lock
        .entries()
        .filter(|e| team_lock.entries_of(&e.path).next().is_some())
        .map(|e| (e.path.clone(), e.part.clone()))
        .collect();
    for (path, part) in &team_paths {
        lock.remove(path, part);
    }
    let (plan, lock) = engine
        .plan_with_lock(&TargetState::new(), lock)
        .map_err(pipeline::explain)?;
    let code = if lock.is_empty() && plan.is_empty() {
        crate::printer::say!("nothing to uninstall: the overlay manages no file here");
        0
    } else {
        run_removal(ctx, &d, &engine, &plan, &lock, how, "uninstall --local")?
    };
    if code != 0 {
        return Ok(code);
    }
    drop(guard);
    let mut removed = Vec::new();
    let state = d.state_system();
    let folder = RelPath::new(".aiwg/local").expect("valid");
    if state.metadata(&folder)?.is_some() {
        removed.push("`.aiwg/local/`".to_string());
        if !dry_run {
            remove_tree(state, &folder)?;
        }
    }
    let file = crate::overlay::path(&project.root);
    if !keep_config && file.is_file() {
        removed.push(format!("`{LOCAL_CONFIG_FILE}`"));
        if !dry_run {
            std::fs::remove_file(&file)
                .with_context(|| format!("cannot remove `{}`", file.display()))?;
        }
    }
    if !keep_config {
        if let Some(exclude) = crate::overlay::remove_git_exclude(&project.root, dry_run)? {
            removed.push(format!(
                "aiwg's overlay lines in `{}`",
                crate::project::display_relative(&exclude).display()
            ));
        }
    }
    if !removed.is_empty() {
        let verb = if dry_run { "would remove" } else { "removed" };
        crate::printer::say!("{verb} {}", removed.join(", "));
    }
    Ok(0)
}

/// Runs `aiwg uninstall`: every file aiwg wrote goes (edited ones are kept, no longer
/// managed), then everything else of aiwg: its history, check cache and process lock, the
/// ignore lines it added, its block in the pre-commit hook, the state folder when empty, and
/// `aiwg.toml` unless `keep_config`.
pub fn uninstall(
    ctx: &Context,
    how: Run,
    keep_config: bool,
    scope: Option<ScopeArg>,
) -> anyhow::Result<u8> {
    let dry_run = how.dry_run;
    let project = Project::open(&ctx.cwd, scope)?;
    let scope = pipeline::scope(&project, scope)?;
    // Nothing of aiwg is left: the personal overlay goes first (its JSON report is not
    // printed; the team's is the command's document).
    let has_overlay =
        crate::overlay::path(&project.root).is_file() || project.root.join(".aiwg/local").is_dir();
    if scope == aiwg_core::target::Scope::Project && !project.user_scope && has_overlay {
        let code = uninstall_local(ctx, Run { json: false, ..how }, keep_config)?;
        if code != 0 {
            return Ok(code);
        }
    }
    let d = Deployment::open(&project, scope)?;
    let guard = (!dry_run).then(|| d.lock()).transpose()?;
    let engine = d.engine();
    let (plan, lock) = engine
        .plan(&TargetState::new())
        .map_err(pipeline::explain)?;
    let code = if lock.is_empty() {
        crate::printer::say!("nothing to uninstall: aiwg manages no file here");
        0
    } else {
        // Nothing is deployed afterwards, so nothing stays pinned either.
        let mut lock = lock;
        lock.set_pins([]);
        run_removal(ctx, &d, &engine, &plan, &lock, how, "uninstall")?
    };
    if code != 0 {
        return Ok(code);
    }
    drop(guard);
    let left = leave_nothing(&project, &d, keep_config, dry_run)?;
    if !left.is_empty() {
        let verb = if dry_run { "would remove" } else { "removed" };
        crate::printer::say!("{verb} {}", left.join(", "));
    }
    Ok(0)
}

/// Removes what is left of aiwg once no file is managed (see [`uninstall`]); returns what it
/// removed (or, `dry_run`, would remove), for the user.
fn leave_nothing(
    project: &Project,
    d: &Deployment,
    keep_config: bool,
    dry_run: bool,
) -> anyhow::Result<Vec<String>> {
    use aiwg_deploy::System as _;
    let state = d.state_system();
    let layout = d.engine().layout;
    let mut removed = Vec::new();
    let shown = |rel: &RelPath| crate::project::display_relative(&rel.to_path(d.state_root()));
    if state.metadata(&layout.history)?.is_some() {
        removed.push(format!("`{}/`", shown(&layout.history).display()));
        if !dry_run {
            remove_tree(state, &layout.history)?;
        }
    }
    for file in [&layout.check_cache, &layout.process_lock] {
        if state.metadata(file)?.is_some() {
            if file == &layout.check_cache {
                removed.push(format!("`{}`", shown(file).display()));
            }
            if !dry_run {
                // The process lock was released above: a command waiting on it finds the
                // project gone, as it would a moment later.
                state.remove_file(file)?;
            }
        }
    }
    if layout.ignore_history_in_git {
        for file in [".git/info/exclude", ".gitignore"] {
            let rel = RelPath::new(file).expect("valid");
            let Some(current) = state.read(&rel)? else {
                continue;
            };
            let text = String::from_utf8_lossy(&current.bytes);
            let mut kept = without_ignore_lines(&text, &layout);
            if file == ".gitignore" {
                kept = crate::generated::without_block(&kept);
            }
            if kept == text {
                continue;
            }
            removed.push(format!("aiwg's lines in `{file}`"));
            if dry_run {
                continue;
            }
            if kept.trim().is_empty() && file == ".gitignore" {
                state.remove_file(&rel)?;
            } else {
                state.write_atomic(&rel, kept.as_bytes(), current.executable)?;
            }
        }
        if let Ok(hooks) = crate::git::hooks_dir(&project.root) {
            let ours: Vec<&str> = (super::hook::HOOKS.iter().copied())
                .filter(|name| super::hook::has_block(&hooks, name))
                .collect();
            for name in &ours {
                removed.push(format!(
                    "aiwg's block in `{}`",
                    crate::project::display_relative(&hooks.join(name)).display()
                ));
            }
            if !ours.is_empty() && !dry_run {
                super::hook::uninstall(&project.root)?;
            }
        }
    }
    if !keep_config && project.config_path().is_file() {
        removed.push(format!(
            "`{}`",
            crate::project::display_relative(&project.config_path()).display()
        ));
        if !dry_run {
            std::fs::remove_file(project.config_path())
                .with_context(|| format!("cannot remove `{}`", project.config_path().display()))?;
        }
    }
    if !dry_run {
        // The state folder (`.aiwg/`, which may hold the user's own sources; `$AIWG_HOME` in
        // user scope) only when empty.
        match layout.history.parent() {
            Some(parent) => {
                state.remove_dir_if_empty(&parent)?;
            }
            None => {
                let _ = std::fs::remove_dir(d.state_root());
            }
        }
    }
    Ok(removed)
}

/// Deletes the folder `dir` of `sys` and everything in it.
fn remove_tree(sys: &dyn aiwg_deploy::System, dir: &RelPath) -> anyhow::Result<()> {
    use aiwg_deploy::system::EntryKind;
    for name in sys.list(Some(dir))? {
        let child = dir.join(&name)?;
        match sys.metadata(&child)? {
            Some((EntryKind::Dir, _)) => remove_tree(sys, &child)?,
            Some(_) => sys.remove_file(&child)?,
            None => {}
        }
    }
    sys.remove_dir_if_empty(dir)?;
    Ok(())
}

/// `text` without the ignore lines aiwg adds (each comment of its own and the pattern after
/// it), everything else as it was.
fn without_ignore_lines(text: &str, layout: &aiwg_deploy::Layout) -> String {
    let patterns = [
        format!("/{}/", layout.history),
        format!("/{}", layout.check_cache),
    ];
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let next = lines.get(i + 1).map(|l| l.trim_end());
        if line.starts_with("# aiwg: ") && next.is_some_and(|n| patterns.iter().any(|p| p == n)) {
            i += 2;
            continue;
        }
        out.push_str(lines[i]);
        i += 1;
    }
    out
}

/// Prints (dry run) or applies a removal plan; edited files are kept and released.
fn run_removal(
    ctx: &Context,
    d: &Deployment,
    engine: &aiwg_deploy::Engine<'_>,
    plan: &Plan,
    lock: &Lock,
    how: Run,
    command: &str,
) -> anyhow::Result<u8> {
    let dry_run = how.dry_run;
    let name = if command.starts_with("uninstall") {
        "uninstall"
    } else {
        "remove"
    };
    let report = |applied: bool, generation: Option<u64>| -> anyhow::Result<()> {
        if how.json {
            crate::json::print(&crate::json::DeployReport::new(
                name,
                plan,
                dry_run,
                applied,
                generation,
                &[],
            ))?;
        }
        Ok(())
    };
    let blocked = plan
        .conflicts()
        .filter(|i| {
            i.conflict()
                .is_some_and(|c| !matches!(c, aiwg_deploy::ConflictKind::EditedStale))
        })
        .count();
    // The hooks this removes are named, as apply names those it installs: `removes` only
    // once the write succeeded.
    let hook_changes = crate::trust::hook_changes(plan, &[], false);
    if dry_run || blocked > 0 {
        crate::trust::announce(&hook_changes, &[], false);
    }
    if dry_run {
        if !how.json {
            let items: Vec<_> = plan.changes().collect();
            super::diff::print(ctx, d, &items, how.shape)?;
        }
        crate::printer::say!("dry run: {}", plan.summary());
        report(false, None)?;
        return Ok(u8::from(blocked > 0));
    }
    if blocked > 0 {
        pipeline::report_conflicts(d, plan, true);
        crate::printer::shout!("error: {command} stopped before writing anything");
        report(false, None)?;
        return Ok(1);
    }
    let options = ApplyOptions {
        force: false,
        release_edited: true,
        keep: d.keep,
        command: command.to_string(),
    };
    let report_json = |generation| report(true, generation);
    let report = match engine.apply(plan, lock, &options) {
        Ok(report) => report,
        Err(DeployError::Conflicts { paths }) => {
            crate::trust::announce(&hook_changes, &[], false);
            pipeline::report_refused(d, &paths, "fix these by hand, then run the command again");
            report(false, None)?;
            return Ok(1);
        }
        Err(e) => return Err(pipeline::explain(e)),
    };
    crate::trust::announce(&hook_changes, &[], true);
    for path in &report.released {
        crate::printer::say!(
            "kept `{}`: edited since aiwg wrote it, no longer managed",
            d.display(path)
        );
    }
    crate::printer::say!("{}", report.summary);
    if report.generation.is_some() && !command.starts_with("uninstall") {
        let local = if command.contains("--local") {
            " --local"
        } else {
            ""
        };
        crate::printer::say!("hint: `aiwg rollback{local}` puts the files back");
    }
    let generation = report.generation;
    report_json(generation)?;
    Ok(0)
}

/// Removes the strings of `key` in `aiwg.toml` that `matches`, keeping the rest of the file
/// as it is.
fn edit_config(
    path: &std::path::Path,
    key: &str,
    matches: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let edited = crate::config_edit::remove_from_array(path, &text, key, matches)?;
    if let Some(new) = edited {
        crate::config_edit::write_config(path, &new)?;
    }
    Ok(())
}

/// Sets `platforms` in `aiwg.toml` to `ids`, keeping the rest of the file as it is.
fn write_platforms(path: &std::path::Path, ids: &[String]) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let new = crate::config_edit::set_array(path, &text, "platforms", ids)?;
    crate::config_edit::write_config(path, &new)?;
    Ok(())
}
