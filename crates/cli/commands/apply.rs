//! `aiwg apply`: make every platform's copy match the sources (or, with `--dry-run`, print
//! the diff of what it would do and write nothing at all).

use std::io::Write as _;

use aiwg_core::config::Generated;
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
        let paths: Vec<String> = (outcome.written.iter())
            .map(|p| p.as_str().to_string())
            .collect();
        crate::git::add(&project.root, &paths)?;
    }
    Ok(outcome.code)
}

/// The number of files a plain `apply` would find up to date, when the check cache says it
/// would write nothing ([`check_cache::Settled`]); `None`: run in full. Only for `aiwg apply`
/// itself, without `--dry-run`, `--force`, `--json` or `--platforms`, in the committed mode,
/// with no git source (their pins are the lock's, but an apply may record new ones).
/// The deployment it opened to ask the cache is left in `opened`, for the full run.
fn settled(
    session: &check_cache::Session,
    project: &Project,
    target: &TargetArgs,
    how: Run,
    opened: &mut Option<pipeline::Deployment>,
) -> Option<usize> {
    let plain = how.command == "apply"
        && !how.dry_run
        && !how.force
        && !how.json
        && !how.show_diff
        && how.held.is_none()
        && target.platforms.is_empty();
    if !plain || !check_cache::enabled() {
        return None;
    }
    let committed = project
        .config
        .as_ref()
        .is_none_or(|c| c.generated == Generated::Commit);
    if !committed || !trust::git_sources(project).is_empty() {
        return None;
    }
    match super::check::cached_in(session, project, target, opened) {
        Ok(Some(files)) => {
            check_cache::trace("cache hit (apply: nothing to change)");
            Some(files)
        }
        Ok(None) => {
            check_cache::trace("cache hit, recorded by check: apply runs in full");
            None
        }
        Err(why) => {
            check_cache::trace(format!("cache miss ({why})"));
            None
        }
    }
}

/// What an apply did.
pub struct Outcome {
    /// The exit code.
    pub code: u8,
    /// Every path written or deleted, `aiwg.lock` included, relative to the scope root (in
    /// `generated = "ignore"` mode: but the ignored ones, and `.gitignore` when it changed).
    /// Shared with the plan (a path is a counted reference): no copy of every path written.
    pub written: Vec<aiwg_core::RelPath>,
    /// The paths aiwg's block in `.gitignore` lists after the apply, sorted (`generated =
    /// "ignore"`; empty otherwise).
    pub ignored: Vec<aiwg_core::RelPath>,
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
    // A plain apply the check cache vouches for (recorded by an apply that wrote nothing, and
    // nothing it depended on changed since) writes nothing: it says so without rendering,
    // planning or taking the process lock.
    let mut opened = None;
    if let Some(files) = settled(&session, project, target, how, &mut opened) {
        let files = crate::width::count(files, "file");
        crate::printer::say!("nothing to change: {files} up to date");
        return Ok(Outcome {
            code: 0,
            written: Vec::new(),
            ignored: Vec::new(),
            // Never shown: a `--json` apply takes the full path (its report lists notices).
            report: json::DeployReport::new(
                command,
                &aiwg_deploy::Plan::default(),
                false,
                true,
                None,
                &[],
            ),
        });
    }
    // An apply that shows no diff plans with each file's digest and writes each file as a
    // second render makes it: it never holds the whole output (ARCHITECTURE.md, "Memory"),
    // only, when the output is small, the bytes of the first render, written from there.
    let streamed = !dry_run && !show_diff;
    let mut kept = aiwg_platforms::Held::new(pipeline::hold_budget());
    let bodies = if streamed {
        aiwg_platforms::Bodies::Hold(&mut kept)
    } else {
        aiwg_platforms::Bodies::Keep
    };
    let (
        Prepared {
            rendered,
            deployment: d,
            only,
            overlay,
        },
        read,
        model,
    ) = pipeline::prepare_read_bodies(project, target, bodies, opened)?;
    // The model is not held past the first render: the plan and the second render do without
    // it (a write whose bytes were not held loads the sources again: `pipeline::restream`), so
    // neither of apply's two memory peaks holds it (ARCHITECTURE.md, "Memory").
    if streamed {
        drop(model);
    } else {
        pipeline::free_at_exit(model);
    }
    let state = rendered.target;
    let _guard = (!dry_run && held != Some(d.scope))
        .then(|| d.lock())
        .transpose()?;
    // The overlay's pass is planned over the team's target before that moves into its plan.
    let local = pipeline::overlay_pass(overlay.as_ref(), &d, &state, only.as_deref())?;
    let engine = d.engine();
    let generated = crate::generated::mode(project, d.scope);
    // The whole files the render wants, before planning takes the bytes: with `generated =
    // "ignore"` the ones aiwg wrote go into `.gitignore` (a `--platforms` run plans part of
    // them, and the block still lists them all).
    let wanted = match generated {
        Generated::Ignore => crate::generated::whole_files(&state),
        Generated::Commit => Default::default(),
    };
    let (plan, mut lock) = d.plan_owned(state, only.as_deref())?;
    // A plan that writes no whole file (nothing to change, say) never asks for the held bytes:
    // they go now, before the check cache is recorded (at x1 to every platform, 12 MB).
    if !plan.items.iter().any(|i| i.streamed().is_some()) {
        kept = aiwg_platforms::Held::default();
    }
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
        std::io::stdout()
            .write_all(diff::render_shown(&plan, ctx.color, &|p| d.show_in_patch(p)).as_bytes())?;
        if let Some(local) = &local {
            std::io::stdout().write_all(
                diff::render_shown(&local.plan, ctx.color, &|p| d.show_in_patch(p)).as_bytes(),
            )?;
        }
    }
    if let Some(local) = &local {
        local.report(&d);
    }
    // The notices explain what is written: counted (`-v` prints them) when something is; when
    // nothing is, they were said when it was (rendering is deterministic).
    let notices = |plan: &aiwg_deploy::Plan| {
        if dry_run || !plan.is_empty() {
            pipeline::report_notices(&rendered.notices, false, "aiwg status --notes");
        }
    };
    let both = |plan| joined(plan, local.as_ref().map(|l| &l.plan));
    let stopped = |code: u8| Outcome {
        code,
        written: Vec::new(),
        ignored: Vec::new(),
        report: report_for(
            json,
            command,
            || both(&plan),
            dry_run,
            false,
            None,
            &rendered.notices,
        ),
    };
    // A hook runs code on every matching tool call: each one installed, changed or removed
    // is named (bundled ones too), and one from the project's own sources needs consent
    // before anything is written. The lines say `installs` only after the write succeeded.
    // The overlay's hooks need the same consent: a committed `aiwg.local.toml` is a
    // stranger's file like `aiwg.toml`.
    let hook_changes = trust::hook_changes(&plan, &read.hooks, force);
    let local_hooks = local
        .as_ref()
        .map(|l| trust::hook_changes(&l.plan, &l.hooks, force))
        .unwrap_or_default();
    let no_hooks = Vec::new();
    let overlay_hooks = local.as_ref().map_or(&no_hooks, |l| &l.hooks);
    if !dry_run {
        let mut asked = trust::hooks_needing_consent(&hook_changes, &read.hooks);
        for item in trust::hooks_needing_consent(&local_hooks, overlay_hooks) {
            if !asked.contains(&item) {
                asked.push(item);
            }
        }
        trust::require(project, asked)?;
    }
    let local_blocked = local
        .as_ref()
        .is_some_and(|l| pipeline::blocking_conflicts(&l.plan, force) > 0);
    let blocked = pipeline::blocking_conflicts(&plan, force) > 0 || local_blocked;
    if dry_run || blocked {
        trust::announce(&hook_changes, &read.hooks, false);
        trust::announce(&local_hooks, overlay_hooks, false);
    }
    if dry_run {
        if !json && !show_diff {
            std::io::stdout().write_all(
                diff::render_shown(&plan, ctx.color, &|p| d.show_in_patch(p)).as_bytes(),
            )?;
            if let Some(local) = &local {
                std::io::stdout().write_all(
                    diff::render_shown(&local.plan, ctx.color, &|p| d.show_in_patch(p)).as_bytes(),
                )?;
            }
        }
        crate::printer::say!("dry run: {}", plan.summary());
        notices(&plan);
        let mut conflicts = pipeline::report_conflicts(&d, &plan, force);
        if let Some(local) = &local {
            crate::printer::say!("dry run: overlay: {}", local.plan.summary());
            conflicts += pipeline::report_conflicts(&d, &local.plan, force);
        }
        return Ok(stopped(u8::from(conflicts > 0)));
    }
    if d.scope == aiwg_core::target::Scope::User && !plan.is_empty() {
        let home = aiwg_core::escape::escape(&d.root.display().to_string()).into_owned();
        crate::printer::say!(
            "user scope: writing into your home folder `{home}`, read by every project"
        );
    }
    let mut conflicts = pipeline::report_conflicts(&d, &plan, force);
    if let Some(local) = &local {
        conflicts += pipeline::report_conflicts(&d, &local.plan, force);
    }
    if conflicts > 0 {
        crate::printer::shout!("error: apply stopped before writing anything");
        return Ok(stopped(1));
    }
    if generated == Generated::Ignore {
        // A `.gitignore` aiwg cannot write its block into stops the apply before any write.
        crate::generated::preflight(d.state_system())?;
    }
    // The overlay is ignored by git before any of its files exist.
    if let Some(pass) = &local {
        crate::overlay::ensure_git_exclude(&project.root, &crate::overlay::ignored_before(pass))?;
        if crate::overlay::is_tracked(&project.root) {
            crate::printer::say!(
                "warning: `{}` is committed: every clone gets it; `git rm --cached {}` keeps yours and stops sharing it",
                aiwg_core::local::LOCAL_CONFIG_FILE,
                aiwg_core::local::LOCAL_CONFIG_FILE
            );
        }
    }
    let options = ApplyOptions {
        force,
        release_edited: false,
        keep: d.keep,
        command: "apply".into(),
    };
    // Held files come with the hash the render made of these bytes (the plan's), so they
    // are not hashed again; a second render's are.
    let mut restream = |sink: aiwg_deploy::apply::FileSink<'_>| match kept.files() {
        Some(files) => {
            for (path, sha256, bytes, executable) in files {
                sink(path, bytes, executable, Some(sha256));
            }
            Ok(())
        }
        None => pipeline::restream(project, &read.platforms, d.scope, &mut |p, b, e| {
            sink(p, b, e, None)
        }),
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
    let local_report = match &local {
        None => None,
        Some(pass) => {
            let engine = d.overlay_engine();
            match engine.apply(&pass.plan, &pass.lock, &options) {
                Ok(report) => {
                    // The block lists exactly what the overlay's lock holds now.
                    let lock = crate::overlay::read_lock(&d)?;
                    let paths = crate::overlay::ignored_paths(&lock);
                    crate::overlay::ensure_git_exclude(&project.root, &paths)?;
                    Some(report)
                }
                Err(DeployError::Conflicts { paths }) => {
                    trust::announce(&local_hooks, overlay_hooks, false);
                    pipeline::report_refused(
                        &d,
                        &paths,
                        "the team's files are deployed; run `aiwg diff`, then apply again for the overlay",
                    );
                    return Ok(stopped(1));
                }
                Err(e) => return Err(pipeline::explain(e)),
            }
        }
    };
    trust::announce(&local_hooks, overlay_hooks, true);
    let generation = report.generation.unwrap_or_default();
    for path in &report.overwritten {
        crate::printer::say!(
            "overwrote `{}` (its old bytes are in generation {generation}, kept until you delete `{}`)",
            d.display(path),
            d.display_state(&aiwg_deploy::history::folder(&engine, generation))
        );
    }
    for path in &report.removed {
        crate::printer::say!(
            "deleted `{}` from the folder in the way (its bytes are in generation {generation}, kept until you delete `{}`)",
            d.display(path),
            d.display_state(&aiwg_deploy::history::folder(&engine, generation))
        );
    }
    d.warn_ignored(&report.ignored_history);
    for path in &report.released {
        crate::printer::say!(
            "kept `{}`: edited since aiwg wrote it, no longer managed",
            d.display(path)
        );
    }
    pipeline::report_written(&d, &plan);
    // The block follows the lock just written: a new file is listed, a removed one leaves.
    let (ignored, ignore_changed) = crate::generated::update(project, &d, &wanted)?;
    if plan.is_empty() && report.generation.is_none() {
        let files = crate::width::count(plan.summary().unchanged, "file");
        crate::printer::say!("nothing to change: {files} up to date");
    } else {
        crate::printer::say!("{}", report.summary);
    }
    if let (Some(pass), Some(local_report)) = (&local, &local_report) {
        for path in &local_report.released {
            crate::printer::say!(
                "kept `{}`: edited since aiwg wrote it, no longer managed",
                d.display(path)
            );
        }
        pipeline::report_written(&d, &pass.plan);
        if !pass.plan.is_empty() || local_report.generation.is_some() {
            crate::printer::say!("overlay: {}", local_report.summary);
        }
        if !pass.plan.is_empty() {
            pipeline::report_notices(&pass.notices, false, "aiwg status --notes");
        }
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
    // A check with an overlay reads everything (it never asks the cache), so none is recorded.
    if clean
        && !ignore_changed
        && overlay.is_none()
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
        // What this apply vouches for: nothing to write for a plain apply of the whole
        // project in the committed mode (`.gitignore` is no entry of the cache).
        let settled = if generated == Generated::Commit && !force && !show_diff {
            check_cache::Settled::Apply(plan.summary().unchanged)
        } else {
            check_cache::Settled::Check
        };
        check_cache::record_and_save(&session, &inputs, &plan, &lock, &read.folders, settled);
    }
    // What `--stage` adds: never a path `.gitignore` keeps out of git (git refuses to add one).
    let mut written: Vec<aiwg_core::RelPath> = plan
        .changes()
        .filter(|i| ignored.binary_search(&i.path).is_err())
        .map(|i| i.path.clone())
        .collect();
    if report.lock_written {
        written.push(d.engine().layout.lock.clone());
    }
    if ignore_changed {
        written.push(aiwg_core::RelPath::new(".gitignore").expect("a valid path"));
    }
    let report = report_for(
        json,
        command,
        || both(&plan),
        false,
        true,
        report.generation,
        &rendered.notices,
    );
    Ok(Outcome {
        code: 0,
        written,
        ignored,
        report,
    })
}

/// The `--json` report of `plan`; without `--json` nobody reads it, and its lists stay empty
/// (they would copy every path the plan writes, beside the plan, at the apply's end).
fn report_for<'p>(
    json: bool,
    command: &'static str,
    plan: impl FnOnce() -> std::borrow::Cow<'p, aiwg_deploy::Plan>,
    dry_run: bool,
    applied: bool,
    generation: Option<u64>,
    notices: &[aiwg_platforms::Notice],
) -> json::DeployReport {
    match json {
        true => json::DeployReport::new(command, &plan(), dry_run, applied, generation, notices),
        false => json::DeployReport::new(
            command,
            &aiwg_deploy::Plan::default(),
            dry_run,
            applied,
            generation,
            &[],
        ),
    }
}

/// The team's plan and the overlay's as one; borrowed when there is no overlay (a copy of a
/// large plan would be the largest thing an apply holds).
fn joined<'p>(
    team: &'p aiwg_deploy::Plan,
    local: Option<&aiwg_deploy::Plan>,
) -> std::borrow::Cow<'p, aiwg_deploy::Plan> {
    match local {
        Some(local) => std::borrow::Cow::Owned(crate::overlay::joined(team, local)),
        None => std::borrow::Cow::Borrowed(team),
    }
}
