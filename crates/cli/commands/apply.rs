//! `aiwg apply`: make every platform's copy match the sources (or, with `--dry-run`, print
//! the diff of what it would do and write nothing at all).

use std::io::Write as _;

use aiwg_deploy::{diff, ApplyOptions, DeployError};

use crate::check_cache;
use crate::cli::TargetArgs;
use crate::commands::Context;
use crate::pipeline::{self, Prepared};
use crate::project::Project;
use crate::trust;

/// Runs `aiwg apply`.
pub fn run(ctx: &Context, target: &TargetArgs, dry_run: bool, force: bool) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    execute(ctx, &project, target, dry_run, force)
}

/// Applies `project` as configured (its `config` may not be on disk yet: `aiwg use --dry-run`).
pub fn execute(
    ctx: &Context,
    project: &Project,
    target: &TargetArgs,
    dry_run: bool,
    force: bool,
) -> anyhow::Result<u8> {
    execute_with(ctx, project, target, dry_run, force, None)
}

/// [`execute`], for a caller that already holds the process lock of scope `held` (`aiwg
/// use` edits `aiwg.toml` under it): that lock is not taken a second time.
pub fn execute_with(
    ctx: &Context,
    project: &Project,
    target: &TargetArgs,
    dry_run: bool,
    force: bool,
    held: Option<aiwg_core::target::Scope>,
) -> anyhow::Result<u8> {
    let session = check_cache::Session::start();
    let (
        Prepared {
            rendered,
            deployment: d,
        },
        read,
    ) = pipeline::prepare_read(project, target)?;
    let state = rendered.target;
    let _guard = (!dry_run && held != Some(d.scope))
        .then(|| d.lock())
        .transpose()?;
    let engine = d.engine();
    let (plan, lock) = engine.plan_owned(state).map_err(pipeline::explain)?;
    // The notices explain what is written; when nothing is, they were all said when it was
    // (rendering is deterministic), and sixty lines on every no-op apply bury the summary.
    if dry_run || !plan.is_empty() {
        pipeline::print_notices(&rendered.notices);
    } else {
        pipeline::print_notice_count(&rendered.notices);
    }
    // A hook runs code on every matching tool call: each one installed, changed or removed
    // is named (bundled ones too), and one from the project's own sources needs consent.
    let hook_changes = trust::hook_changes(&plan, &read.hooks, force);
    if !dry_run {
        trust::require(
            project,
            trust::hooks_needing_consent(&hook_changes, &read.hooks),
        )?;
    }
    trust::announce(&hook_changes, &read.hooks, dry_run);
    if dry_run {
        std::io::stdout().write_all(diff::render(&plan, ctx.color).as_bytes())?;
        eprintln!("dry run: {}", plan.summary());
        let stopped = pipeline::report_conflicts(&d, &plan, force);
        return Ok(u8::from(stopped > 0));
    }
    if d.scope == aiwg_core::target::Scope::User && !plan.is_empty() {
        let home = aiwg_core::escape::escape(&d.root.display().to_string()).into_owned();
        eprintln!("user scope: writing into your home folder `{home}`, read by every project");
    }
    if pipeline::report_conflicts(&d, &plan, force) > 0 {
        eprintln!("error: apply stopped before writing anything");
        return Ok(1);
    }
    let options = ApplyOptions {
        force,
        release_edited: false,
        keep: d.keep,
        command: "apply".into(),
    };
    let report = match engine.apply(&plan, &lock, &options) {
        Ok(report) => report,
        Err(DeployError::Conflicts { paths }) => {
            pipeline::report_refused(&d, &paths, "run `aiwg diff`, then apply again");
            return Ok(1);
        }
        Err(e) => return Err(pipeline::explain(e)),
    };
    let generation = report.generation.unwrap_or_default();
    for path in &report.overwritten {
        eprintln!(
            "overwrote `{}` (its old bytes are in generation {generation}, kept until you delete `{}`)",
            d.display(path),
            d.display_state(&aiwg_deploy::history::folder(&engine, generation))
        );
    }
    if report.generation.is_some() {
        d.warn_ignored_history();
    }
    for path in &report.released {
        eprintln!(
            "kept `{}`: edited since aiwg wrote it, no longer managed",
            d.display(path)
        );
    }
    eprintln!("{}", report.summary);
    // An apply that found nothing to do and wrote nothing read exactly what a full `check`
    // reads and left the disk as it read it: its plan is check's answer, so it records the
    // cache. After an apply that wrote, every written entry would be racy (written after the
    // run started), so the next check records it instead.
    let clean = !plan.items.iter().any(|i| i.state().is_drift());
    if clean && report.generation.is_none() && !report.lock_written && check_cache::enabled() {
        let inputs = check_cache::Inputs {
            project,
            deployment: &d,
            platforms: &read.platforms,
        };
        check_cache::record_and_save(&session, &inputs, &plan, &lock, &read.folders);
    }
    Ok(0)
}
