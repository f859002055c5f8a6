//! `aiwg update [source]`: moves git sources' pins to what their refs are now, printing the
//! pin moves, the hooks it installs or changes and the diff before it applies them.

use std::collections::BTreeSet;

use aiwg_core::escape::escape;

use crate::cli::TargetArgs;
use crate::commands::{Context, UserError};
use crate::project::Project;
use crate::remote::{self, GitSpec};
use crate::trust;

/// Runs `aiwg update`.
pub fn run(
    ctx: &Context,
    source: Option<&str>,
    target: &TargetArgs,
    dry_run: bool,
    force: bool,
) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, target.scope)?;
    let gits: Vec<GitSpec> = project
        .source_specs()
        .iter()
        .filter_map(|s| remote::parse(s).and_then(Result::ok))
        .collect();
    if gits.is_empty() {
        return Err(UserError::new(
            "this project has no git source to update",
            "add one with `aiwg use git+https://host/org/repo[@ref]`; other sources are read as they are on every apply",
        )
        .into());
    }
    if let Some(name) = source {
        if !gits.iter().any(|g| g.name == name) {
            let names: Vec<String> = gits.iter().map(|g| escape(&g.name).into_owned()).collect();
            return Err(UserError::new(
                format!("`{}` is not a git source of this project", escape(name)),
                format!("its git sources are: {}", names.join(", ")),
            )
            .into());
        }
    }
    let options = remote::run_options();
    if options.frozen || options.offline {
        let flag = if options.frozen {
            "--frozen"
        } else {
            "--offline"
        };
        return Err(UserError::new(
            format!("`aiwg update` asks the remotes what their refs are now, which {flag} forbids"),
            format!("run it without {flag}"),
        )
        .into());
    }
    let chosen: Vec<&GitSpec> = gits
        .iter()
        .filter(|g| source.is_none_or(|s| s == g.name))
        .collect();
    remote::set_refresh(
        chosen
            .iter()
            .map(|g| g.name.clone())
            .collect::<BTreeSet<_>>(),
    );
    // Typing `aiwg update` is consent to fetch these URLs at whatever their refs are now.
    trust::allow_git_urls_for_run(&chosen.iter().map(|g| g.url.clone()).collect::<Vec<_>>());
    let how = super::apply::Run {
        dry_run,
        force,
        json: false,
        command: "update",
        held: None,
        show_diff: true,
    };
    let code = super::apply::execute(ctx, &project, target, how)?.code;
    // The pins the run read: the lock as it was before this update.
    let before = remote::pins(&project.root);
    for pin in remote::resolved() {
        let unchanged = before.iter().any(|b| b == &pin);
        if unchanged && chosen.iter().any(|g| g.name == pin.name) {
            crate::printer::say!(
                "`{}` is up to date at {} (`{}`)",
                escape(&pin.name),
                remote::short(&pin.commit),
                escape(&pin.reference)
            );
        }
    }
    Ok(code)
}
