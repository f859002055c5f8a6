//! `aiwg generated ignore|commit`: switches `generated` in `aiwg.toml` in one command that
//! loses nothing. Both apply first (under the process lock, `aiwg.toml` written only once the
//! apply succeeded); `ignore` then untracks exactly the files aiwg's block in `.gitignore`
//! lists (`git rm --cached`: never a working file), `commit` leaves them untracked for the
//! user to add. The block itself is `crate::generated`.

use aiwg_core::config::{Generated, CONFIG_FILE};
use aiwg_core::target::Scope;
use aiwg_deploy::Mode;

use crate::cli::{GeneratedMode, TargetArgs};
use crate::commands::{Context, UserError};
use crate::config_edit;
use crate::git;
use crate::pipeline::Deployment;
use crate::project::{display_relative, Project};

/// Runs `aiwg generated <mode>`.
pub fn run(ctx: &Context, mode: GeneratedMode) -> anyhow::Result<u8> {
    let mode = match mode {
        GeneratedMode::Ignore => Generated::Ignore,
        GeneratedMode::Commit => Generated::Commit,
    };
    let found = Project::discover(&ctx.cwd)?;
    let Some(config) = &found.config else {
        return Err(UserError::new(
            format!("no `{CONFIG_FILE}` here: aiwg generates nothing yet"),
            "`aiwg use <source>` first",
        )
        .into());
    };
    if config.scope == Scope::User {
        return Err(UserError::new(
            format!("`{CONFIG_FILE}` says `scope = \"user\"`: the files go into the home folder, in no repository"),
            "`generated` is for project scope",
        )
        .into());
    }
    // In a repository, or nothing here means anything.
    git::toplevel(&found.root)?;
    let d = Deployment::open(&found, Scope::Project)?;
    let _guard = d.lock()?;
    // Read again under the lock: a concurrent `aiwg use` may have just changed it (R6).
    let mut project = Project::discover(&ctx.cwd)?;
    let path = project.config_path();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", display_relative(&path).display()))?;
    let new_text = config_edit::set_generated(&path, &text, mode)?;
    if let Some(config) = project.config.as_mut() {
        config.generated = mode;
    }
    let how = super::apply::Run {
        dry_run: false,
        force: false,
        json: false,
        command: "generated",
        held: Some(Scope::Project),
        show_diff: false,
    };
    let target = TargetArgs {
        platforms: Vec::new(),
        scope: None,
    };
    let outcome = super::apply::execute(ctx, &project, &target, how)?;
    let shown = display_relative(&path);
    if outcome.code != 0 {
        crate::printer::say!(
            "`{}` was left as it was: the mode is unchanged",
            shown.display()
        );
        return Ok(outcome.code);
    }
    if new_text != text {
        config_edit::write_config(&path, &new_text)?;
        let value = match mode {
            Generated::Ignore => "generated = \"ignore\"",
            Generated::Commit => "generated = \"commit\" (the default)",
        };
        crate::printer::say!("set {value} in `{}`", shown.display());
    }
    let lock = d.engine().read_lock().map_err(crate::pipeline::explain)?;
    let shared = {
        let mut paths: Vec<&str> = lock
            .entries()
            .filter(|e| e.mode != Mode::File)
            .map(|e| e.path.as_str())
            .collect();
        paths.dedup();
        paths.len()
    };
    let hooks = git::hooks_dir(&project.root)?;
    let deploy_hooks = super::hook::DEPLOY_HOOKS
        .iter()
        .all(|name| super::hook::has_block(&hooks, name));
    match mode {
        Generated::Ignore => {
            let paths: Vec<String> = outcome
                .ignored
                .iter()
                .map(|p| p.as_str().to_string())
                .collect();
            let tracked = git::tracked(&project.root, &paths)?;
            git::untrack(&project.root, &tracked)?;
            if !tracked.is_empty() {
                crate::printer::say!(
                    "untracked {} (`git rm --cached`: still on disk); commit the removal with `.gitignore` and `{CONFIG_FILE}`",
                    crate::width::count(tracked.len(), "generated file")
                );
            }
            if shared > 0 {
                crate::printer::say!(
                    "{} stay committed: aiwg's sections and keys share them with your content",
                    crate::width::count(shared, "shared file")
                );
            }
            if !deploy_hooks {
                crate::printer::say!(
                    "hint: `aiwg hook install` adds post-checkout and post-merge hooks, so a checkout or a pull deploys the ignored files; in a fresh clone, run `aiwg apply`"
                );
            }
        }
        Generated::Commit => {
            let whole: Vec<String> = lock
                .entries()
                .filter(|e| e.mode == Mode::File)
                .map(|e| e.path.as_str().to_string())
                .collect();
            let untracked = git::untracked(&project.root, &whole)?;
            if !untracked.is_empty() {
                crate::printer::say!(
                    "{} {} now untracked: `git add` them with `.gitignore` and `{CONFIG_FILE}` (`git status` lists them)",
                    crate::width::count(untracked.len(), "generated file"),
                    if untracked.len() == 1 { "is" } else { "are" }
                );
            }
            if deploy_hooks {
                crate::printer::say!(
                    "note: the post-checkout and post-merge hooks are no longer needed: `aiwg hook install` again takes them out"
                );
            }
        }
    }
    Ok(0)
}
