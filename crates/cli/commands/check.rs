//! `aiwg check`: silent and exit 0 when every managed file matches; else one
//! `<state>\t<path>` line per drifted path and exit 1. For pre-commit hooks and CI.

use std::io::Write as _;

use crate::cli::TargetArgs;
use crate::commands::Context;
use crate::pipeline::{self, Prepared};
use crate::project::Project;

/// Runs `aiwg check`.
pub fn run(ctx: &Context, target: &TargetArgs, json: bool) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let Prepared {
        rendered,
        deployment: d,
    } = pipeline::prepare(&project, target)?;
    let state = rendered.target;
    let (plan, _) = d.engine().plan(&state).map_err(pipeline::explain)?;
    let drift: Vec<_> = plan.items.iter().filter(|i| i.state().is_drift()).collect();
    let mut out = std::io::stdout().lock();
    if json {
        let entries: Vec<serde_json::Value> = drift
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
        let doc = serde_json::json!({ "clean": drift.is_empty(), "drift": entries });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for item in &drift {
            writeln!(out, "{}\t{}", item.state(), d.display(&item.path))?;
        }
    }
    let clean = drift.is_empty();
    drop(drift);
    pipeline::free_at_exit((plan, state));
    if clean {
        return Ok(0);
    }
    if !json {
        eprintln!("\nhint: `aiwg diff` shows the changes; `aiwg apply` makes them");
    }
    Ok(1)
}
