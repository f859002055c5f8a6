//! `aiwg plan`: what apply would create, update, delete, or stop on — one line per path.

use std::io::Write as _;

use aiwg_deploy::Action;

use crate::cli::TargetArgs;
use crate::commands::Context;
use crate::pipeline::{self, Prepared};
use crate::project::Project;

/// Runs `aiwg plan`.
pub fn run(ctx: &Context, target: &TargetArgs, json: bool) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, target.scope)?;
    let prepared = pipeline::prepare(&project, target)?;
    let local = prepared.overlay_pass(&prepared.rendered.target)?;
    let Prepared {
        rendered,
        deployment: d,
        only,
        ..
    } = prepared;
    let state = rendered.target;
    let (plan, _) = d.plan(&state, only.as_deref())?;
    let plan = crate::overlay::with_pass(&d, plan, local.as_ref());
    let items: Vec<_> = plan
        .items
        .iter()
        .filter(|i| i.action != Action::Unchanged)
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        let entries: Vec<serde_json::Value> = items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "path": i.path.as_str(),
                    "mode": i.mode,
                    "action": i.action,
                    "state": i.state(),
                    "reason": i.conflict().map(|c| c.reason()),
                    "forceable": i.conflict().map(|c| c.forceable()),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "version": crate::json::VERSION,
            "summary": plan.summary(),
            "items": entries,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(0);
    }
    for item in &items {
        let path = d.display(&item.path);
        match item.conflict() {
            Some(c) => writeln!(out, "{:9} {path} ({})", item.action, c.reason())?,
            None if item.action == Action::Drop => writeln!(
                out,
                "{:9} {path} (already gone; only the lock changes)",
                item.action
            )?,
            None => writeln!(out, "{:9} {path}", item.action)?,
        }
    }
    crate::printer::say!("{}", plan.summary());
    Ok(0)
}
