//! `aiwg check --staged`: the check a pre-commit hook needs, of what is about to be committed
//! rather than of the work tree. The staged `aiwg.toml`, `aiwg.lock`, folder sources and
//! platform files are copied out of the index (`git checkout-index`) into a temp folder,
//! and an ordinary check runs there, without the stat cache.

use std::collections::BTreeSet;
use std::path::Path;

use aiwg_core::config::CONFIG_FILE;

use crate::cli::TargetArgs;
use crate::commands::{Context, UserError};
use crate::git;
use crate::pipeline;
use crate::project::{self, Project, SourceLocation};

/// Runs `aiwg check --staged`.
pub fn check(ctx: &Context, target: &TargetArgs, json: bool) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, target.scope)?;
    if project.user_scope
        || pipeline::scope(&project, target.scope)? != aiwg_core::target::Scope::Project
    {
        return Err(UserError::new(
            "`--staged` checks what a commit holds, and user scope is not in a repository",
            "run `aiwg check --scope user` without `--staged`",
        )
        .into());
    }
    let top = std::fs::canonicalize(git::toplevel(&project.root)?)?;
    let root = std::fs::canonicalize(&project.root)?;
    let rel = root
        .strip_prefix(&top)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let rel = rel.to_string_lossy().replace('\\', "/");
    let index = git::staged_paths(&top)?;
    // Index paths below the project, as (path from the top, path from the project root).
    let in_project: Vec<(&str, &str)> = index
        .iter()
        .filter_map(|p| {
            let below = if rel.is_empty() {
                Some(p.as_str())
            } else {
                p.strip_prefix(&rel).and_then(|r| r.strip_prefix('/'))
            };
            below.map(|b| (p.as_str(), b))
        })
        .collect();
    if !in_project
        .iter()
        .any(|(_, p)| *p == CONFIG_FILE || *p == "aiwg.lock")
    {
        // Nothing of aiwg is committed yet: there is nothing a commit could put out of sync.
        if json {
            println!("{}", super::check::json_doc(&[], &[])?);
        }
        return Ok(0);
    }
    let temp = tempfile::Builder::new().prefix("aiwg-staged-").tempdir()?;
    let staged_root = temp.path().join(&rel);
    std::fs::create_dir_all(&staged_root)?;
    let export = |wanted: &dyn Fn(&str) -> bool| {
        let paths: Vec<&str> = in_project
            .iter()
            .filter(|(_, below)| wanted(below))
            .map(|(full, _)| *full)
            .collect();
        git::export_staged(&top, &paths, temp.path())
    };
    // First the config and lock, then the folder sources they name, then every platform file
    // the staged sources want or the staged lock records.
    export(&|p| p == CONFIG_FILE || p == "aiwg.lock")?;
    let staged = Project::load(staged_root.clone())?;
    // The staged copy lives in a temp folder, but consent for its git sources (at the commits
    // the staged lock pins) is the project's own.
    let git_items = crate::trust::git_sources(&staged);
    crate::trust::require(&project, git_items.clone())?;
    crate::trust::allow_for_run(&git_items);
    let folders: Vec<String> = staged
        .source_specs()
        .iter()
        .filter_map(|spec| match project::locate(spec, &staged_root) {
            SourceLocation::Folder { path, .. } => path
                .strip_prefix(&staged_root)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/")),
            // A git source is read at the commit the staged lock pins, not from the index.
            SourceLocation::Bundled(_) | SourceLocation::Git(_) | SourceLocation::BadGit { .. } => {
                None
            }
        })
        .collect();
    export(&|p| {
        folders.iter().any(|f| {
            f.is_empty()
                || p.strip_prefix(f.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
    })?;
    let prepared = pipeline::prepare(&staged, target)?;
    let lock = prepared
        .deployment
        .engine()
        .read_lock()
        .map_err(pipeline::explain)?;
    let mut managed: BTreeSet<String> = prepared
        .rendered
        .target
        .entries()
        .map(|e| e.path.as_str().to_string())
        .collect();
    managed.extend(lock.entries().map(|e| e.path.as_str().to_string()));
    drop(prepared);
    export(&|p| managed.contains(p))?;
    // Paths are shown relative to the project root, as a check at the root shows them.
    std::env::set_current_dir(&staged_root)?;
    let staged_ctx = Context {
        cwd: staged_root.clone(),
        color: ctx.color,
    };
    let code = super::check::run_uncached(&staged_ctx, target, json)?;
    std::env::set_current_dir(&ctx.cwd)?;
    Ok(code)
}
