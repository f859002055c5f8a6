//! `aiwg diff`: the unified diff of every change the next apply would make.

use std::io::Write as _;
use std::path::PathBuf;

use aiwg_deploy::diff;

use crate::cli::TargetArgs;
use crate::commands::{Context, UserError};
use crate::pipeline::{self, Prepared};
use crate::project::Project;

/// Runs `aiwg diff [PATH ...]`.
pub fn run(
    ctx: &Context,
    paths: &[PathBuf],
    target: &TargetArgs,
    exit_code: bool,
) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, target.scope)?;
    let Prepared {
        rendered,
        deployment: d,
        only,
    } = pipeline::prepare(&project, target)?;
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
    let items: Vec<_> = plan
        .changes()
        .filter(|i| filters.is_empty() || filters.iter().any(|f| i.path.starts_with(f)))
        .collect();
    std::io::stdout().write_all(diff::render_items(items.iter().copied(), ctx.color).as_bytes())?;
    Ok(u8::from(exit_code && !items.is_empty()))
}
