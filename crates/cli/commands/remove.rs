//! `aiwg remove <source>` and `aiwg uninstall`: delete what aiwg wrote (for one source, or
//! all), never a file it did not write and never one edited since — those are kept and no
//! longer managed. Sections and merged keys go; the user's text and keys stay.

use std::io::Write as _;

use aiwg_core::config::CONFIG_FILE;
use aiwg_core::target::TargetState;
use aiwg_deploy::{diff, ApplyOptions, DeployError, Lock, Plan};
use anyhow::Context as _;

use crate::cli::ScopeArg;
use crate::commands::{Context, UserError};
use crate::pipeline::{self, Deployment};
use crate::project::Project;

/// The name a source spec gives its artifacts (`name@path` → `name`).
fn spec_name(spec: &str) -> &str {
    crate::project::SourceSpec::parse(spec).name
}

/// Runs `aiwg remove <source>`.
pub fn remove(
    ctx: &Context,
    source: &str,
    dry_run: bool,
    scope: Option<ScopeArg>,
) -> anyhow::Result<u8> {
    let found = Project::discover(&ctx.cwd)?;
    let scope = pipeline::scope(&found, scope)?;
    let d = Deployment::open(&found, scope)?;
    let _guard = (!dry_run).then(|| d.lock()).transpose()?;
    // Read again under the lock: a concurrent `aiwg use` may have just added a source (R6).
    let mut project = Project::discover(&ctx.cwd)?;
    let engine = d.engine();
    let lock = engine.read_lock().map_err(pipeline::explain)?;
    let specs = project.source_specs();
    let in_config = specs.iter().any(|s| spec_name(s) == source);
    let in_lock = lock.entries().any(|e| e.source == source);
    if !in_config && !in_lock {
        let mut known: Vec<String> = specs.iter().map(|s| spec_name(s).to_string()).collect();
        known.extend(lock.entries().map(|e| e.source.clone()));
        known.sort();
        known.dedup();
        return Err(UserError::new(
            format!("`{source}` is not a source of this project"),
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
        let platforms = pipeline::platforms(&project, &[])?;
        pipeline::target_state(&project, &platforms, scope)?
    };
    let (mut plan, _) = engine.plan(&state).map_err(pipeline::explain)?;
    plan.items
        .retain(|i| lock.entries_of(&i.path).any(|e| e.source == source));
    let code = run_removal(ctx, &d, &plan, &lock, dry_run, &format!("remove {source}"))?;
    if code == 0 && !dry_run && in_config && scope_is_project(&d) {
        drop_from_config(&project.root.join(CONFIG_FILE), source)?;
        eprintln!("removed `{source}` from `{CONFIG_FILE}`");
    }
    Ok(code)
}

fn scope_is_project(d: &Deployment) -> bool {
    d.scope == aiwg_core::target::Scope::Project
}

/// Runs `aiwg uninstall`.
pub fn uninstall(ctx: &Context, dry_run: bool, scope: Option<ScopeArg>) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let scope = pipeline::scope(&project, scope)?;
    let d = Deployment::open(&project, scope)?;
    let _guard = (!dry_run).then(|| d.lock()).transpose()?;
    let engine = d.engine();
    let (plan, lock) = engine
        .plan(&TargetState::new())
        .map_err(pipeline::explain)?;
    if lock.is_empty() {
        eprintln!("nothing to uninstall: aiwg manages no file here");
        return Ok(0);
    }
    run_removal(ctx, &d, &plan, &lock, dry_run, "uninstall")
}

/// Prints (dry run) or applies a removal plan; edited files are kept and released.
fn run_removal(
    ctx: &Context,
    d: &Deployment,
    plan: &Plan,
    lock: &Lock,
    dry_run: bool,
    command: &str,
) -> anyhow::Result<u8> {
    let blocked = plan
        .conflicts()
        .filter(|i| {
            i.conflict
                .as_ref()
                .is_some_and(|c| !matches!(c, aiwg_deploy::ConflictKind::EditedStale))
        })
        .count();
    // The hooks this removes are named, as apply names those it installs.
    crate::trust::announce(&crate::trust::hook_changes(plan, &[], false), &[], dry_run);
    if dry_run {
        std::io::stdout().write_all(diff::render(plan, ctx.color).as_bytes())?;
        eprintln!("dry run: {}", plan.summary());
        return Ok(u8::from(blocked > 0));
    }
    if blocked > 0 {
        pipeline::report_conflicts(d, plan, true);
        eprintln!("error: {command} stopped before writing anything");
        return Ok(1);
    }
    let options = ApplyOptions {
        force: false,
        release_edited: true,
        keep: d.keep,
        command: command.to_string(),
    };
    let report = match d.engine().apply(plan, lock, &options) {
        Ok(report) => report,
        Err(DeployError::Conflicts { paths }) => {
            pipeline::report_refused(d, &paths, "fix these by hand, then run the command again");
            return Ok(1);
        }
        Err(e) => return Err(pipeline::explain(e)),
    };
    for path in &report.released {
        eprintln!(
            "kept `{}`: edited since aiwg wrote it, no longer managed",
            d.display(path)
        );
    }
    eprintln!("{}", report.summary);
    if report.generation.is_some() {
        eprintln!("hint: `aiwg rollback` puts everything back");
    }
    Ok(0)
}

/// Removes `source` from `sources` in `aiwg.toml`, keeping the rest of the file as it is.
fn drop_from_config(path: &std::path::Path, source: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let edited =
        crate::config_edit::remove_from_array(path, &text, "sources", |s| spec_name(s) == source)?;
    if let Some(new) = edited {
        crate::config_edit::write_config(path, &new)?;
    }
    Ok(())
}
