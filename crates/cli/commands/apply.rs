//! `aiwg apply`: make every platform's copy match the sources (or, with `--dry-run`, print
//! the diff of what it would do and write nothing at all).

use std::io::Write as _;

use aiwg_deploy::{diff, ApplyOptions, DeployError};

use crate::check_cache;
use crate::cli::TargetArgs;
use crate::commands::Context;
use crate::json;
use crate::pipeline::{self, Prepared};
use crate::project::Project;
use crate::remote;
use crate::trust;

/// How an apply runs: `apply`'s own flags, or what `use` asks for.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Print what would change and write nothing.
    pub dry_run: bool,
    /// Overwrite forceable conflicts after a backup.
    pub force: bool,
    /// Print the report as JSON on stdout (instead of the dry run's diff).
    pub json: bool,
    /// The command named in the JSON report (`apply`, `use`).
    pub command: &'static str,
    /// The scope whose process lock the caller already holds (`aiwg use` edits `aiwg.toml`
    /// under it): that lock is not taken a second time.
    pub held: Option<aiwg_core::target::Scope>,
    /// Print the diff of what it writes before asking for consent or writing (`aiwg update`).
    pub show_diff: bool,
}

/// Runs `aiwg apply`; with `stage`, `git add`s every path it wrote or deleted and the lock
/// (the pre-commit hook's `apply` mode).
pub fn run(ctx: &Context, target: &TargetArgs, how: Run, stage: bool) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, target.scope)?;
    if stage && pipeline::scope(&project, target.scope)? != aiwg_core::target::Scope::Project {
        return Err(crate::commands::UserError::new(
            "`--stage` stages files in a repository, and user scope is not in one",
            "run `aiwg apply --scope user` without `--stage`",
        )
        .into());
    }
    let outcome = execute(ctx, &project, target, how)?;
    if how.json {
        json::print(&outcome.report)?;
    }
    if stage && !how.dry_run && outcome.code == 0 {
        crate::git::add(&project.root, &outcome.written)?;
    }
    Ok(outcome.code)
}

/// What an apply did.
pub struct Outcome {
    /// The exit code.
    pub code: u8,
    /// Every path written or deleted, `aiwg.lock` included, relative to the scope root.
    pub written: Vec<String>,
    /// The `--json` report.
    pub report: json::DeployReport,
}

/// Applies `project` as configured (its `config` may not be on disk yet: `aiwg use --dry-run`).
pub fn execute(
    ctx: &Context,
    project: &Project,
    target: &TargetArgs,
    how: Run,
) -> anyhow::Result<Outcome> {
    let Run {
        dry_run,
        force,
        json,
        command,
        held,
        show_diff,
    } = how;
    let session = check_cache::Session::start();
    // An apply that shows no diff plans with each file's digest and writes each file as a
    // second render makes it: it never holds the whole output (ARCHITECTURE.md, "Memory").
    let streamed = !dry_run && !show_diff;
    let (
        Prepared {
            rendered,
            deployment: d,
            only,
        },
        read,
        model,
    ) = pipeline::prepare_read_with(project, target, streamed)?;
    let state = rendered.target;
    let _guard = (!dry_run && held != Some(d.scope))
        .then(|| d.lock())
        .transpose()?;
    let engine = d.engine();
    let (plan, mut lock) = d.plan_owned(state, only.as_deref())?;
    // The pins of git sources: `--frozen` refuses any change; otherwise the lock written
    // records what this run read (a new source pinned, a stale pin dropped).
    remote::check_frozen(&lock)?;
    let pin_changes = remote::pin_changes(&lock);
    if !pin_changes.is_empty() {
        lock.set_pins(remote::resolved());
    }
    for change in &pin_changes {
        crate::printer::say!("{}", change.describe(dry_run));
    }
    // `aiwg update` shows everything it would write, hooks included, before it asks for
    // consent or writes.
    if show_diff && !json {
        std::io::stdout().write_all(diff::render(&plan, ctx.color).as_bytes())?;
    }
    // The notices explain what is written: counted (`-v` prints them) when something is; when
    // nothing is, they were said when it was (rendering is deterministic).
    let notices = |plan: &aiwg_deploy::Plan| {
        if dry_run || !plan.is_empty() {
            pipeline::report_notices(&rendered.notices, false, "aiwg status --notes");
        }
    };
    let stopped = |code: u8| Outcome {
        code,
        written: Vec::new(),
        report: json::DeployReport::new(command, &plan, dry_run, false, None, &rendered.notices),
    };
    // A hook runs code on every matching tool call: each one installed, changed or removed
    // is named (bundled ones too), and one from the project's own sources needs consent
    // before anything is written. The lines say `installs` only after the write succeeded.
    let hook_changes = trust::hook_changes(&plan, &read.hooks, force);
    if !dry_run {
        trust::require(
            project,
            trust::hooks_needing_consent(&hook_changes, &read.hooks),
        )?;
    }
    if dry_run || pipeline::blocking_conflicts(&plan, force) > 0 {
        trust::announce(&hook_changes, &read.hooks, false);
    }
    if dry_run {
        if !json && !show_diff {
            std::io::stdout().write_all(diff::render(&plan, ctx.color).as_bytes())?;
        }
        crate::printer::say!("dry run: {}", plan.summary());
        notices(&plan);
        let conflicts = pipeline::report_conflicts(&d, &plan, force);
        return Ok(stopped(u8::from(conflicts > 0)));
    }
    if d.scope == aiwg_core::target::Scope::User && !plan.is_empty() {
        let home = aiwg_core::escape::escape(&d.root.display().to_string()).into_owned();
        crate::printer::say!(
            "user scope: writing into your home folder `{home}`, read by every project"
        );
    }
    if pipeline::report_conflicts(&d, &plan, force) > 0 {
        crate::printer::shout!("error: apply stopped before writing anything");
        return Ok(stopped(1));
    }
    let options = ApplyOptions {
        force,
        release_edited: false,
        keep: d.keep,
        command: "apply".into(),
    };
    let mut restream = |sink: aiwg_platforms::Sink<'_>| {
        pipeline::restream(project, &model, &read.platforms, d.scope, sink)
    };
    let applied = if streamed {
        engine.apply_streamed(&plan, &lock, &options, &mut restream)
    } else {
        engine.apply(&plan, &lock, &options)
    };
    let report = match applied {
        Ok(report) => report,
        Err(DeployError::Conflicts { paths }) => {
            trust::announce(&hook_changes, &read.hooks, false);
            pipeline::report_refused(&d, &paths, "run `aiwg diff`, then apply again");
            return Ok(stopped(1));
        }
        Err(e) => return Err(pipeline::explain(e)),
    };
    trust::announce(&hook_changes, &read.hooks, true);
    let generation = report.generation.unwrap_or_default();
    for path in &report.overwritten {
        crate::printer::say!(
            "overwrote `{}` (its old bytes are in generation {generation}, kept until you delete `{}`)",
            d.display(path),
            d.display_state(&aiwg_deploy::history::folder(&engine, generation))
        );
    }
    if report.generation.is_some() {
        d.warn_ignored_history();
    }
    for path in &report.released {
        crate::printer::say!(
            "kept `{}`: edited since aiwg wrote it, no longer managed",
            d.display(path)
        );
    }
    pipeline::report_written(&d, &plan);
    if plan.is_empty() && report.generation.is_none() {
        let files = crate::width::count(plan.summary().unchanged, "file");
        crate::printer::say!("nothing to change: {files} up to date");
    } else {
        crate::printer::say!("{}", report.summary);
    }
    notices(&plan);
    if !pin_changes.is_empty() {
        trust::record_git_pins(project, &remote::resolved())?;
    }
    // An apply that found nothing to do and wrote nothing read exactly what a full `check`
    // reads and left the disk as it read it: its plan is check's answer, so it records the
    // cache. After an apply that wrote, every written entry would be racy (written after the
    // run started), so the next check records it instead.
    let clean = !plan.items.iter().any(|i| i.state().is_drift());
    if clean
        && only.is_none()
        && report.generation.is_none()
        && !report.lock_written
        && check_cache::enabled()
    {
        let inputs = check_cache::Inputs {
            project,
            deployment: &d,
            platforms: &read.platforms,
        };
        check_cache::record_and_save(&session, &inputs, &plan, &lock, &read.folders);
    }
    let mut written: Vec<String> = plan
        .changes()
        .map(|i| i.path.as_str().to_string())
        .collect();
    if report.lock_written {
        written.push(d.engine().layout.lock.as_str().to_string());
    }
    let report = json::DeployReport::new(
        command,
        &plan,
        false,
        true,
        report.generation,
        &rendered.notices,
    );
    pipeline::free_at_exit(model);
    Ok(Outcome {
        code: 0,
        written,
        report,
    })
}
