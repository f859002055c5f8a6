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
mod diff;
mod hook;
mod import;
mod plan;
mod remove;
mod rollback;
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
        Some(dir) => std::path::absolute(dir)?,
        None => std::env::current_dir()?,
    };
    let color = match cli.color {
        crate::cli::ColorChoice::Always => true,
        crate::cli::ColorChoice::Never => false,
        crate::cli::ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stdout())
        }
    };
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
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "aiwg", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
            Ok(0)
        }
        Command::Platforms { json } => platforms::run(&ctx, json),
        Command::New { kind, name } => new::run(&ctx, &kind, &name),
        Command::Validate { paths } => validate::run(&ctx, &paths),
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
        } => use_::run(&ctx, &source, &target, dry_run, force),
        Command::Apply {
            target,
            dry_run,
            force,
        } => apply::run(&ctx, &target, dry_run, force),
        Command::Diff {
            paths,
            target,
            exit_code,
        } => diff::run(&ctx, &paths, &target, exit_code),
        Command::Check { target, json } => check::run(&ctx, &target, json),
        Command::Status { target, json } => status::run(&ctx, &target, json),
        Command::Plan { target, json } => plan::run(&ctx, &target, json),
        Command::Rollback {
            list,
            to,
            force,
            scope,
        } => rollback::run(&ctx, list, to, force, scope),
        Command::Remove {
            source,
            dry_run,
            scope,
        } => remove::remove(&ctx, &source, dry_run, scope),
        Command::Uninstall { dry_run, scope } => remove::uninstall(&ctx, dry_run, scope),
        Command::Hook { command } => hook::run(&ctx, &command),
        Command::Import { from, dry_run } => import::run(&ctx, &from, dry_run),
        Command::Adopt { path, dry_run } => adopt::run(&ctx, &path, dry_run),
        Command::Trust { show, revoke } => trust::run(&ctx, show, revoke),
    }
}
