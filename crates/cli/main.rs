//! The `aiwg` binary: command-line parsing, printing, colours and exit codes.
//!
//! Every command returns an [`ExitCode`]-like status: 0 success or nothing to do, 1 drift
//! found or apply stopped on conflicts, 2 error. Errors are printed here, once, with `{:#}`.

mod bundled;
mod check_cache;
mod cli;
mod commands;
mod config_edit;
mod detect;
mod error;
mod exclude;
mod frameworks;
mod generated;
mod git;
mod import;
mod json;
mod overlay;
mod packages;
mod pipeline;
mod printer;
mod project;
mod remote;
mod style;
mod suggest;
mod trust;
mod width;

use std::io::Write as _;
use std::process::ExitCode;

use aiwg_core::escape::escape_lines;
use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let color = style::enabled(cli.color, &std::io::stderr());
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            // Messages name files and artifacts from the repository: terminal controls in
            // them are escaped (their own line breaks stay).
            let message = format!("{err:#}");
            let _ = writeln!(
                stderr,
                "{} {}",
                style::paint(color, style::ERROR, "error:"),
                escape_lines(&message)
            );
            if let Some(user) = err
                .chain()
                .find_map(|e| e.downcast_ref::<error::UserError>())
            {
                let hint = style::paint(color, style::HINT, "hint:");
                let _ = writeln!(stderr, "\n{hint} {}", escape_lines(&user.hint));
            }
            ExitCode::from(2)
        }
    }
}

/// A closed pipe (`aiwg list | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
