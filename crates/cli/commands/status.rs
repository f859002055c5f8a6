//! `aiwg status`: every managed path (and part of a shared file) with its state.

use std::io::Write as _;

use aiwg_deploy::State;

use crate::cli::TargetArgs;
use crate::commands::Context;
use crate::pipeline::{self, Prepared};
use crate::project::Project;

/// Runs `aiwg status`.
pub fn run(ctx: &Context, target: &TargetArgs, json: bool, notes: bool) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, target.scope)?;
    let prepared = pipeline::prepare(&project, target)?;
    let local = prepared.overlay_pass(&prepared.rendered.target)?;
    let Prepared {
        rendered,
        deployment: d,
        only,
        ..
    } = prepared;
    if !json {
        pipeline::report_notices(&rendered.notices, notes, "aiwg status --notes");
    }
    let state = rendered.target;
    let (plan, _) = d.plan(&state, only.as_deref())?;
    let local_paths: Vec<aiwg_core::RelPath> = local
        .as_ref()
        .map(|l| l.plan.items.iter().map(|i| i.path.clone()).collect())
        .unwrap_or_default();
    let plan = crate::overlay::with_pass(&d, plan, local.as_ref());
    // A whole file's part is made when asked for: kept here while the rows borrow it.
    let parts: Vec<_> = plan.items.iter().map(|i| (i, i.parts())).collect();
    let mut rows = Vec::new();
    for (item, parts) in &parts {
        for part in parts.iter().filter(|p| p.state != State::Gone) {
            rows.push((*item, part));
        }
    }
    let mut out = std::io::stdout().lock();
    if json {
        let entries: Vec<serde_json::Value> = rows
            .iter()
            .map(|(item, part)| {
                serde_json::json!({
                    "path": item.path.as_str(),
                    "part": part.part.to_string(),
                    "mode": part.mode,
                    "state": part.state,
                    "reason": part.conflict.as_ref().map(|c| c.reason()),
                    "source": part.origin.source,
                    "artifact": part.origin.artifact,
                    "platforms": part.origin.platforms,
                    "overlay": local_paths.contains(&item.path),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "version": crate::json::VERSION,
            "scope": d.scope,
            "root": d.root.display().to_string(),
            "entries": entries,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(0);
    }
    if rows.is_empty() {
        crate::printer::say!("nothing is managed here yet (run `aiwg apply`)");
        return Ok(0);
    }
    let shown: Vec<(aiwg_deploy::State, String, String)> = rows
        .iter()
        .map(|(item, part)| {
            let mut path = d.display(&item.path);
            match &part.part {
                aiwg_deploy::Part::Whole => {}
                aiwg_deploy::Part::Section(id) => path = format!("{path} [{id}]"),
                merged => path = format!("{path} [{merged}]"),
            }
            let overlay = if local_paths.contains(&item.path) {
                ", aiwg.local.toml"
            } else {
                ""
            };
            let origin = format!("{} ({}{overlay})", part.origin.artifact, part.origin.source);
            let origin = aiwg_core::escape::escape(&origin).into_owned();
            (part.state, path, origin)
        })
        .collect();
    let w_state = shown
        .iter()
        .map(|r| r.0.as_str().len())
        .max()
        .unwrap_or(0)
        .max(5);
    let w_path = shown
        .iter()
        .map(|r| crate::width::of(&r.1))
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(out, "{:w_state$}  {:w_path$}  ORIGIN", "STATE", "PATH")?;
    for (state, path, origin) in shown {
        let word = format!("{:w_state$}", state.as_str());
        let word = crate::style::paint(ctx.color, crate::style::state(state), &word);
        let pad = w_path - crate::width::of(&path);
        writeln!(out, "{word}  {path}{:pad$}  {origin}", "")?;
    }
    drop(out);
    // Those `--force` does not resolve, each with why, as apply says them.
    pipeline::report_conflicts(&d, &plan, true);
    pipeline::report_forceable_folders(&d, &plan);
    Ok(0)
}
