//! One module per command; [`run`] dispatches the parsed command line to them.

use std::path::PathBuf;

use crate::cli::{Cli, Command, RunbookCommand};

mod list;
mod new;
mod platforms;
mod runbook;
mod use_;
mod validate;

mod adopt;
mod adopt_mcp;
mod apply;
mod check;
mod completions;
mod diff;
mod doctor;
mod generated;
mod hook;
mod import;
mod plan;
mod remove;
mod rollback;
mod staged;
mod status;
mod trust;
mod update;

pub use crate::error::UserError;

/// What every command gets besides its own arguments.
#[derive(Debug)]
pub struct Context {
    /// The folder the command runs in (`-C`, or the current folder).
    pub cwd: PathBuf,
    /// Colour output on stdout.
    pub color: bool,
}

/// Runs `cli`, returning the exit code (0, 1) or an error (exit 2).
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let cwd = match &cli.directory {
        // As `git -C`: a folder that is not there is an error, never the enclosing project.
        Some(dir) if !dir.is_dir() => {
            return Err(UserError::new(
                format!(
                    "cannot run in `{}`: {}",
                    dir.display(),
                    if dir.exists() {
                        "not a folder"
                    } else {
                        "no such folder"
                    }
                ),
                "`-C` takes a folder that exists",
            )
            .into())
        }
        Some(dir) => std::path::absolute(dir)?,
        None => std::env::current_dir()?,
    };
    let color = crate::style::enabled(cli.color, &std::io::stdout());
    crate::printer::set(if cli.quiet {
        crate::printer::Verbosity::Quiet
    } else if cli.verbose {
        crate::printer::Verbosity::Verbose
    } else {
        crate::printer::Verbosity::Normal
    });
    crate::trust::set_run_consent(crate::trust::RunConsent {
        hooks: cli.consent.allow_hooks,
        user_scope: cli.consent.allow_user_scope,
        all: cli.consent.trust,
    });
    crate::remote::set_run_options(crate::remote::RunOptions {
        frozen: cli.git.frozen,
        offline: cli.git.offline,
    });
    let ctx = Context { cwd, color };
    match cli.command {
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics on a write error, and a closed
            // pipe (`aiwg completions bash | head`) is not an error.
            let script = completions::script(shell);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
            Ok(0)
        }
        Command::Platforms { platform, json } => platforms::run(&ctx, &platform, json),
        Command::New { kind, name } => new::run(&ctx, &kind, &name),
        Command::Validate { paths, json } => validate::run(&ctx, &paths, json),
        Command::List {
            paths,
            kind,
            frameworks,
            json,
        } => list::run(&ctx, &paths, kind.as_deref(), frameworks, json),
        Command::Runbook { command } => match command {
            RunbookCommand::Lint { target } => runbook::lint(&ctx, target.as_deref()),
            RunbookCommand::Render {
                name,
                set,
                values,
                output,
            } => runbook::render(&ctx, &name, &set, values.as_deref(), output.as_deref()),
        },
        Command::Use {
            source,
            target,
            dry_run,
            force,
            json,
            local,
        } => {
            let how = apply::Run {
                dry_run,
                force,
                json,
                command: "use",
                held: None,
                show_diff: false,
            };
            match local {
                true => use_::run_local(&ctx, &source, &target, how),
                false => use_::run(&ctx, &source, &target, how),
            }
        }
        Command::Apply {
            target,
            dry_run,
            force,
            stage,
            json,
        } => {
            let how = apply::Run {
                dry_run,
                force,
                json,
                command: "apply",
                held: None,
                show_diff: false,
            };
            apply::run(&ctx, &target, how, stage)
        }
        Command::Update {
            source,
            target,
            dry_run,
            force,
        } => update::run(&ctx, source.as_deref(), &target, dry_run, force),
        Command::Diff {
            paths,
            target,
            exit_code,
            stat,
            name_only,
            json,
        } => {
            let format = match (stat, name_only, json) {
                (true, _, _) => diff::Format::Stat,
                (_, true, _) => diff::Format::NameOnly,
                (_, _, true) => diff::Format::Json,
                _ => diff::Format::Patch,
            };
            diff::run(&ctx, &paths, &target, exit_code, format)
        }
        Command::Check {
            target,
            json,
            staged: false,
        } => check::run(&ctx, &target, json),
        Command::Check {
            target,
            json,
            staged: true,
        } => staged::check(&ctx, &target, json),
        Command::Status {
            target,
            json,
            notes,
        } => status::run(&ctx, &target, json, notes),
        Command::Plan { target, json } => plan::run(&ctx, &target, json),
        Command::Rollback {
            list,
            to,
            force,
            json,
            scope,
            local,
        } => rollback::run(&ctx, list, to, force, json, scope, local),
        Command::Remove {
            source,
            platform,
            dry_run,
            stat,
            name_only,
            json,
            scope,
            local,
        } => {
            let how = remove::Run {
                dry_run,
                json,
                shape: shape(stat, name_only),
            };
            match (source, platform) {
                (Some(source), None) if local => remove::remove_local(&ctx, &source, how),
                (Some(source), None) => remove::remove(&ctx, &source, how, scope),
                (None, Some(platform)) => remove::remove_platform(&ctx, &platform, how, scope),
                _ => Err(UserError::new(
                    "`aiwg remove` takes a source or `--platform <id>`, not both",
                    "`aiwg remove stream` removes a source; `aiwg remove --platform codex` a platform",
                )
                .into()),
            }
        }
        Command::Uninstall {
            dry_run,
            stat,
            name_only,
            keep_config,
            json,
            scope,
            local,
        } => {
            let how = remove::Run {
                dry_run,
                json,
                shape: shape(stat, name_only),
            };
            match local {
                true => remove::uninstall_local(&ctx, how, keep_config),
                false => remove::uninstall(&ctx, how, keep_config, scope),
            }
        }
        Command::Hook { command } => hook::run(&ctx, &command),
        Command::Generated { mode } => generated::run(&ctx, mode),
        Command::Doctor { target } => doctor::run(&ctx, &target),
        Command::Import {
            from,
            dry_run,
            json,
            scope,
        } => import::run(&ctx, &from, dry_run, json, scope),
        Command::Adopt { path, dry_run } => adopt::run(&ctx, &path, dry_run),
        Command::Trust { show, revoke } => trust::run(&ctx, show, revoke),
    }
}

/// How a dry run of `remove` or `uninstall` shows what would go.
fn shape(stat: bool, name_only: bool) -> diff::Format {
    match (stat, name_only) {
        (true, _) => diff::Format::Stat,
        (_, true) => diff::Format::NameOnly,
        _ => diff::Format::Patch,
    }
}
