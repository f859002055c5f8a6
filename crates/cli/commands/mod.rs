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
mod apply;
mod check;
mod completions;
mod diff;
mod doctor;
mod hook;
mod import;
mod plan;
mod remove;
mod rollback;
mod staged;
mod status;
mod trust;

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
                format!("cannot run in `{}`: no such folder", dir.display()),
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
    let ctx = Context { cwd, color };
    match cli.command {
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics on a write error, and a closed
            // pipe (`aiwg completions bash | head`) is not an error.
            let script = completions::script(shell);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
            Ok(0)
        }
        Command::Platforms { json } => platforms::run(&ctx, json),
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
        } => {
            let how = apply::Run {
                dry_run,
                force,
                json,
                command: "use",
                held: None,
            };
            use_::run(&ctx, &source, &target, how)
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
            };
            apply::run(&ctx, &target, how, stage)
        }
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
        } => rollback::run(&ctx, list, to, force, json, scope),
        Command::Remove {
            source: Some(source),
            platform: None,
            dry_run,
            json,
            scope,
        } => remove::remove(&ctx, &source, remove::Run { dry_run, json }, scope),
        Command::Remove {
            source: None,
            platform: Some(platform),
            dry_run,
            json,
            scope,
        } => remove::remove_platform(&ctx, &platform, remove::Run { dry_run, json }, scope),
        Command::Remove { .. } => Err(UserError::new(
            "`aiwg remove` takes a source or `--platform <id>`, not both",
            "`aiwg remove stream` removes a source; `aiwg remove --platform codex` a platform",
        )
        .into()),
        Command::Uninstall {
            dry_run,
            keep_config,
            json,
            scope,
        } => remove::uninstall(&ctx, remove::Run { dry_run, json }, keep_config, scope),
        Command::Hook { command } => hook::run(&ctx, &command),
        Command::Doctor { target } => doctor::run(&ctx, &target),
        Command::Import { from, dry_run } => import::run(&ctx, &from, dry_run),
        Command::Adopt { path, dry_run } => adopt::run(&ctx, &path, dry_run),
        Command::Trust { show, revoke } => trust::run(&ctx, show, revoke),
    }
}
