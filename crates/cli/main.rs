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

/// glibc's malloc, set for a process whose two memory peaks (the first render, then the
/// plan beside the second render) each hold a few large buffers: a fixed mmap threshold of
/// 64 KiB. By default glibc raises its threshold to the size of each large block freed (the
/// first render's entry list, megabytes), after which the next peak's large buffers come from
/// the heap, where they stay resident after they are freed. Measured at x10 to every
/// platform: 42,872-43,996 KiB peak RSS → 39,928-39,992 KiB (39.0 MiB), the same user time. One arena for every thread (`M_ARENA_MAX`) took about 1 MiB more off but cost ~10%
/// more user time (the render's threads wait on one lock), so it is not set
/// (ARCHITECTURE.md, "Memory"). Other C libraries and systems keep their defaults.
#[allow(unsafe_code)]
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // From glibc's <malloc.h>.
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt only sets an allocator parameter; it is called first thing in
        // `main`, before any thread starts, and a value it refuses leaves the default (it
        // returns 0, which is ignored).
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 64 << 10);
        }
    }
}

fn main() -> ExitCode {
    tune_allocator();
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
