//! `aiwg check`: silent and exit 0 when every managed file matches; else one
//! `<state>\t<path>` line per drifted path and exit 1. For pre-commit hooks and CI.
//!
//! A check first asks the stat cache ([`crate::check_cache`]); only when it cannot answer
//! "clean" does it read everything, and a clean full check records the cache again.

use std::io::Write as _;

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
            Ok(()) => {
                check_cache::trace("cache hit");
                if json {
                    writeln!(std::io::stdout().lock(), "{}", json_doc(&[])?)?;
                }
                return Ok(0);
            }
            Err(why) => check_cache::trace(format!("cache miss ({why})")),
        }
    } else {
        check_cache::trace("cache off (AIWG_NO_CHECK_CACHE)");
    }
    let project = Project::discover(&ctx.cwd)?;
    let (
        Prepared {
            rendered,
            deployment: d,
        },
        read,
    ) = pipeline::prepare_read(&project, target)?;
    let state = rendered.target;
    let (plan, lock) = d.engine().plan(&state).map_err(pipeline::explain)?;
    crate::remote::check_frozen(&lock)?;
    // A git source the lock does not pin as `aiwg.toml` asks is drift: apply would write the
    // lock. Check itself never moves a pin.
    let pins = crate::remote::pin_changes(&lock);
    let drift: Vec<_> = plan.items.iter().filter(|i| i.state().is_drift()).collect();
    let mut out = std::io::stdout().lock();
    if json {
        let mut entries: Vec<serde_json::Value> = drift
            .iter()
            .map(|i| {
                serde_json::json!({
                    "path": i.path.as_str(),
                    "state": i.state(),
                    "action": i.action,
                    "reason": i.conflict.as_ref().map(|c| c.reason()),
                })
            })
            .collect();
        entries.extend(pins.iter().map(|p| {
            serde_json::json!({ "source": p.name(), "state": p.state(), "reason": p.describe(true) })
        }));
        writeln!(out, "{}", json_doc(&entries)?)?;
    } else {
        for item in &drift {
            writeln!(out, "{}\t{}", item.state(), d.display(&item.path))?;
        }
        for p in &pins {
            let name = aiwg_core::escape::escape(p.name());
            writeln!(out, "{}\t{name}", p.state())?;
        }
    }
    drop(out);
    let clean = drift.is_empty() && pins.is_empty();
    drop(drift);
    if clean && use_cache {
        let inputs = Inputs {
            project: &project,
            deployment: &d,
            platforms: &read.platforms,
        };
        check_cache::record_and_save(&session, &inputs, &plan, &lock, &read.folders);
    }
    pipeline::free_at_exit((plan, state, lock, read));
    if clean {
        return Ok(0);
    }
    if !json {
        eprintln!("\nhint: `aiwg diff` shows the changes; `aiwg apply` makes them");
    }
    Ok(1)
}

/// The `--json` document for these drift entries (one function for both paths, so a cache
/// hit prints exactly what a clean full check prints).
fn json_doc(entries: &[serde_json::Value]) -> anyhow::Result<String> {
    let doc = serde_json::json!({ "clean": entries.is_empty(), "drift": entries });
    Ok(serde_json::to_string_pretty(&doc)?)
}

/// The fast path: the project, scope and platforms resolved as the full path does, then the
/// cache. Any error is a miss: the full path reports it as it always did.
fn from_cache(session: &Session, ctx: &Context, target: &TargetArgs) -> Result<(), String> {
    let project = Project::discover(&ctx.cwd).map_err(|e| format!("{e}"))?;
    let scope = pipeline::scope(&project, target.scope).map_err(|e| format!("{e}"))?;
    // The cache stats the sources: one outside the project needs consent first.
    crate::trust::require(&project, crate::trust::outside_sources(&project))
        .map_err(|e| format!("{e}"))?;
    let platforms = pipeline::platforms(&project, &target.platforms).map_err(|e| format!("{e}"))?;
    let deployment = Deployment::open(&project, scope).map_err(|e| format!("{e}"))?;
    check_cache::lookup(
        session,
        &Inputs {
            project: &project,
            deployment: &deployment,
            platforms: &platforms,
        },
    )
}
