//! `aiwg check`: silent and exit 0 when every managed file matches; else one
//! `<state>\t<path>` line per drifted path (and a `stray` line per temp file a killed aiwg
//! left behind) and exit 1. For pre-commit hooks and CI.
//!
//! A check first asks the stat cache ([`crate::check_cache`]); only when it cannot answer
//! "clean" does it read everything, and a clean full check records the cache again. The full
//! check renders each whole file to its digest (it shows no bytes), so it never holds the
//! rendered output.

use std::io::Write as _;

use aiwg_core::config::Generated;

use crate::check_cache::{self, Inputs, Session};
use crate::cli::TargetArgs;
use crate::commands::Context;
use crate::pipeline::{self, Deployment, Prepared};
use crate::project::Project;

/// Runs `aiwg check`.
pub fn run(ctx: &Context, target: &TargetArgs, json: bool) -> anyhow::Result<u8> {
    let session = Session::start();
    let use_cache = check_cache::enabled();
    if use_cache {
        match from_cache(&session, ctx, target) {
            Ok(_) => {
                check_cache::trace("cache hit");
                if json {
                    writeln!(std::io::stdout().lock(), "{}", json_doc(&[], &[])?)?;
                }
                return Ok(0);
            }
            Err(why) => check_cache::trace(format!("cache miss ({why})")),
        }
    } else {
        check_cache::trace("cache off (AIWG_NO_CHECK_CACHE)");
    }
    full(ctx, target, json, use_cache.then_some(&session))
}

/// A check that reads everything and records no cache (`--staged` runs it on a copy).
pub fn run_uncached(ctx: &Context, target: &TargetArgs, json: bool) -> anyhow::Result<u8> {
    full(ctx, target, json, None)
}

/// The check that reads everything; with a `session`, a clean whole check records the cache.
fn full(
    ctx: &Context,
    target: &TargetArgs,
    json: bool,
    session: Option<&Session>,
) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, target.scope)?;
    // Check shows no bytes: each whole file is rendered to its digest and never held, and the
    // plan compares digests (ARCHITECTURE.md, "Memory"). With `generated = "ignore"` an
    // undeployed file is compared with the lock by its rendered bytes (`generated::check_state`).
    let digest = crate::generated::mode(&project, pipeline::scope(&project, target.scope)?)
        == Generated::Commit;
    let (prepared, read, model, early_lock) =
        pipeline::prepare_read_and_lock(&project, target, digest)?;
    pipeline::free_at_exit(model);
    let local = prepared.overlay_pass(&prepared.rendered.target)?;
    let Prepared {
        rendered,
        deployment: d,
        only,
        overlay,
    } = prepared;
    let state = rendered.target;
    let (plan, lock) = d.plan_with(&state, only.as_deref(), early_lock)?;
    let plan = crate::overlay::with_pass(&d, plan, local.as_ref());
    crate::remote::check_frozen(&lock)?;
    // A git source the lock does not pin as `aiwg.toml` asks is drift: apply would write the
    // lock. Check itself never moves a pin.
    let pins = crate::remote::pin_changes(&lock);
    // With `generated = "ignore"`, a file this clone has not deployed is drift only when the
    // lock does not say what the sources render (CI checks the committed lock, not the disk).
    let ignore = crate::generated::mode(&project, d.scope) == Generated::Ignore;
    let drift: Vec<(&aiwg_deploy::PlanItem, aiwg_deploy::State)> = plan
        .items
        .iter()
        .filter_map(|i| {
            let state = if ignore {
                crate::generated::check_state(i, &lock)?
            } else {
                Some(i.state()).filter(|s| s.is_drift())?
            };
            Some((i, state))
        })
        .collect();
    let stray: Vec<String> = (plan.debris.target.iter().map(|p| d.display(p)))
        .chain(
            plan.debris
                .state
                .iter()
                .map(|p| pipeline::display_under(d.state_root(), p)),
        )
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        let mut entries: Vec<serde_json::Value> = drift
            .iter()
            .map(|(i, state)| {
                serde_json::json!({
                    "path": i.path.as_str(),
                    "state": state,
                    "action": i.action,
                    "reason": i.conflict().map(|c| c.reason()),
                })
            })
            .collect();
        entries.extend(pins.iter().map(|p| {
            serde_json::json!({ "source": p.name(), "state": p.state(), "reason": p.describe(true) })
        }));
        writeln!(out, "{}", json_doc(&entries, &stray)?)?;
    } else {
        for (item, state) in &drift {
            let state = *state;
            let word = crate::style::paint(ctx.color, crate::style::state(state), state.as_str());
            writeln!(out, "{word}\t{}", d.display(&item.path))?;
        }
        for path in &stray {
            writeln!(out, "stray\t{path}")?;
        }
        for p in &pins {
            let name = aiwg_core::escape::escape(p.name());
            writeln!(out, "{}\t{name}", p.state())?;
        }
    }
    drop(out);
    let drifted = !drift.is_empty() || !pins.is_empty();
    // An edited file (or one aiwg did not write) in the way stops a plain apply.
    let blocked = drift.iter().any(|(i, _)| {
        i.action == aiwg_deploy::Action::Conflict && i.conflict().is_some_and(|c| c.forceable())
    });
    let clean = !drifted && stray.is_empty();
    drop(drift);
    if !json && !clean {
        // Those `--force` does not resolve, each with why, as apply says them.
        pipeline::report_conflicts(&d, &plan, true);
        pipeline::report_forceable_folders(&d, &plan);
    }
    // A filtered check looked at part of the project: only a whole one vouches for the cache.
    // With an overlay the plan holds its paths too: the cache records the team's alone.
    if let (true, Some(session), None, None) = (clean, session, &only, &overlay) {
        let inputs = Inputs {
            project: &project,
            deployment: &d,
            platforms: &read.platforms,
        };
        check_cache::record_and_save(
            session,
            &inputs,
            &plan,
            &lock,
            &read.folders,
            check_cache::Settled::Check,
        );
    }
    pipeline::free_at_exit((plan, state, lock, read));
    if clean {
        return Ok(0);
    }
    if !json {
        if !stray.is_empty() {
            crate::printer::say!(
                "\nnote: `stray` files are temp files a killed aiwg left; `aiwg apply` removes them"
            );
        }
        if blocked {
            crate::printer::say!(
                "\nhint: `aiwg diff` shows the changes; a plain `aiwg apply` stops on the edited ones: `aiwg adopt <path>` takes an edit into its source, `aiwg apply --force` overwrites it after a backup"
            );
        } else if drifted {
            crate::printer::say!("\nhint: `aiwg diff` shows the changes; `aiwg apply` makes them");
        }
    }
    Ok(1)
}

/// The `--json` document for these drift entries and stray temp files (one function for both
/// paths, so a cache hit prints exactly what a clean full check prints).
pub fn json_doc(entries: &[serde_json::Value], stray: &[String]) -> anyhow::Result<String> {
    let doc = serde_json::json!({
        "version": crate::json::VERSION,
        "clean": entries.is_empty() && stray.is_empty(),
        "drift": entries,
        "stray": stray,
    });
    Ok(serde_json::to_string_pretty(&doc)?)
}

/// The fast path: the project, scope and platforms resolved as the full path does, then the
/// cache. Any error is a miss: the full path reports it as it always did.
fn from_cache(
    session: &Session,
    ctx: &Context,
    target: &TargetArgs,
) -> Result<Option<usize>, String> {
    let project = Project::open(&ctx.cwd, target.scope).map_err(|e| format!("{e}"))?;
    cached(session, &project, target)
}

/// [`from_cache`] for a project already opened (a plain `apply` asks it too): `Ok` is a hit,
/// with what [`check_cache::lookup`] says of an apply.
pub fn cached(
    session: &Session,
    project: &Project,
    target: &TargetArgs,
) -> Result<Option<usize>, String> {
    cached_in(session, project, target, &mut None)
}

/// [`cached`], leaving the deployment it opened in `opened`: a plain apply the cache does
/// not vouch for plans with it instead of opening it again.
pub fn cached_in(
    session: &Session,
    project: &Project,
    target: &TargetArgs,
    opened: &mut Option<Deployment>,
) -> Result<Option<usize>, String> {
    // A hit says every path of the project is clean, so any `--platforms` filter is too.
    // The cache records the team's deployment alone: an overlay is checked in full.
    if !project.user_scope && crate::overlay::path(&project.root).is_file() {
        return Err(format!(
            "`{}` is checked in full",
            aiwg_core::local::LOCAL_CONFIG_FILE
        ));
    }
    let scope = pipeline::scope(project, target.scope).map_err(|e| format!("{e}"))?;
    // The cache stats the sources: one outside the project needs consent first.
    crate::trust::require(project, crate::trust::outside_sources(project))
        .map_err(|e| format!("{e}"))?;
    let platforms = pipeline::select(project, scope, &target.platforms)
        .map_err(|e| format!("{e}"))?
        .platforms;
    let deployment = match opened {
        Some(d) if d.scope == scope => d,
        _ => opened.insert(Deployment::open(project, scope).map_err(|e| format!("{e}"))?),
    };
    check_cache::lookup(
        session,
        &Inputs {
            project,
            deployment,
            platforms: &platforms,
        },
    )
}
