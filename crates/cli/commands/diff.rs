//! `aiwg diff`: the unified diff of every change the next apply would make; `--stat`,
//! `--name-only` and `--json` say the same in other shapes.

use std::io::Write as _;
use std::path::PathBuf;

use aiwg_deploy::diff;

use crate::cli::TargetArgs;
use crate::commands::{Context, UserError};
use crate::json;
use crate::pipeline::{self, Prepared};
use crate::project::Project;

/// What `aiwg diff` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The unified diff.
    Patch,
    /// `path | +A -R` per path, then the totals.
    Stat,
    /// The paths alone.
    NameOnly,
    /// [`json::DiffReport`].
    Json,
}

/// Lines added and removed in a unified diff (its `+++`/`---` headers left out).
fn counts(patch: &str) -> (usize, usize) {
    let mut added = 0;
    let mut removed = 0;
    for line in patch.lines() {
        if line.starts_with("+++ ") || line.starts_with("--- ") {
            continue;
        }
        if line.starts_with('+') {
            added += 1;
        } else if line.starts_with('-') {
            removed += 1;
        }
    }
    (added, removed)
}

/// Runs `aiwg diff [PATH ...]`.
pub fn run(
    ctx: &Context,
    paths: &[PathBuf],
    target: &TargetArgs,
    exit_code: bool,
    format: Format,
) -> anyhow::Result<u8> {
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
    let mut filters = Vec::new();
    for p in paths {
        match d.rel_path(&ctx.cwd, p) {
            Some(rel) => filters.push(rel),
            // The root itself (`aiwg diff .` at the top): everything.
            None if std::path::absolute(ctx.cwd.join(p)).ok().as_deref() == Some(&d.root) => {}
            None => {
                return Err(UserError::new(
                    format!("`{}` is outside `{}`", p.display(), d.root.display()),
                    "give paths inside the project (or the home folder with `--scope user`)",
                )
                .into())
            }
        }
    }
    let (plan, _) = d.plan(&state, only.as_deref())?;
    let plan = crate::overlay::with_pass(&d, plan, local.as_ref());
    let items: Vec<_> = plan
        .changes()
        .filter(|i| filters.is_empty() || filters.iter().any(|f| i.path.starts_with(f)))
        .collect();
    if format != Format::Json {
        print(ctx, &d, &items, format)?;
        return Ok(u8::from(exit_code && !items.is_empty()));
    }
    let files = items
        .iter()
        .map(|item| {
            let patch = diff::render_items(std::iter::once(*item), false);
            let (added, removed) = counts(&patch);
            json::DiffFile {
                path: item.path.as_str().to_string(),
                action: item.action,
                added,
                removed,
                patch,
            }
        })
        .collect();
    json::print(&json::DiffReport {
        version: json::VERSION,
        files,
    })?;
    Ok(u8::from(exit_code && !items.is_empty()))
}

/// Prints `items` on stdout as `format` shows them (the unified diff, `--stat` or
/// `--name-only`; JSON is each command's own document): `diff`, and the dry runs of `remove`
/// and `uninstall`.
pub fn print(
    ctx: &Context,
    d: &pipeline::Deployment,
    items: &[&aiwg_deploy::PlanItem],
    format: Format,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Patch => {
            let show = |path: &str| d.show_in_patch(path);
            let patch = diff::render_items_shown(items.iter().copied(), ctx.color, &show);
            out.write_all(patch.as_bytes())?
        }
        Format::NameOnly => {
            for item in items {
                writeln!(out, "{}", d.display(&item.path))?;
            }
        }
        Format::Stat => {
            let rows: Vec<(String, usize, usize, String)> = items
                .iter()
                .map(|item| {
                    let (added, removed) =
                        counts(&diff::render_items(std::iter::once(*item), false));
                    // A conflict says why (a dry run's kept edit would read `+0 -0`).
                    let note = match item.conflict() {
                        Some(c) => format!("  (conflict: {})", d.reason(c)),
                        None => String::new(),
                    };
                    (d.display(&item.path), added, removed, note)
                })
                .collect();
            let width = rows
                .iter()
                .map(|r| crate::width::of(&r.0))
                .max()
                .unwrap_or(0);
            for (path, added, removed, note) in &rows {
                let pad = width - crate::width::of(path);
                writeln!(out, "{path}{:pad$} | +{added} -{removed}{note}", "")?;
            }
            let added: usize = rows.iter().map(|r| r.1).sum();
            let removed: usize = rows.iter().map(|r| r.2).sum();
            if !rows.is_empty() {
                writeln!(
                    out,
                    "{} changed, {added} line{} added, {removed} removed",
                    crate::width::count(rows.len(), "path"),
                    if added == 1 { "" } else { "s" }
                )?;
            }
        }
        Format::Json => {}
    }
    Ok(())
}
