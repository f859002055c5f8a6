//! `aiwg rollback`: undo the last apply (or every one from a generation on), byte for byte,
//! with the lock; `--list` shows the generations.

use std::io::Write as _;

use aiwg_deploy::history;
use aiwg_deploy::rollback::{self, RollbackOptions};
use aiwg_deploy::DeployError;

use crate::cli::ScopeArg;
use crate::commands::Context;
use crate::pipeline::{self, Deployment};
use crate::project::Project;

/// Runs `aiwg rollback [--list] [--to GENERATION] [--force]`.
pub fn run(
    ctx: &Context,
    list: bool,
    to: Option<u64>,
    force: bool,
    scope: Option<ScopeArg>,
) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, scope)?;
    let scope = pipeline::scope(&project, scope);
    let d = Deployment::open(&project, scope)?;
    let engine = d.engine();
    if list {
        let generations = history::list(&engine).map_err(pipeline::explain)?;
        let mut out = std::io::stdout().lock();
        if generations.is_empty() {
            crate::printer::say!("no generations yet: each apply that changes files records one");
            return Ok(0);
        }
        writeln!(out, "GEN  TIME (UTC)           PATHS  COMMAND")?;
        for g in generations.iter().rev() {
            writeln!(
                out,
                "{:<4} {}  {:>5}  {}",
                g.generation,
                utc(g.time),
                g.paths.len(),
                g.command
            )?;
        }
        return Ok(0);
    }
    let _guard = d.lock()?;
    let options = RollbackOptions {
        to,
        force,
        keep: d.keep,
    };
    match rollback::rollback(&engine, &options) {
        Ok(report) => {
            let undone: Vec<String> = report.undone.iter().map(u64::to_string).collect();
            crate::printer::say!(
                "rolled back generation {}: {} path(s) restored{}",
                undone.join(", "),
                report.restored.len(),
                report
                    .generation
                    .map(|g| format!(" (recorded as generation {g}; `aiwg rollback` again redoes)"))
                    .unwrap_or_default()
            );
            Ok(0)
        }
        Err(DeployError::Conflicts { paths }) => {
            pipeline::report_refused(
                &d,
                &paths,
                "`aiwg rollback --force` restores them anyway (their current bytes are kept in a new generation)",
            );
            Ok(1)
        }
        Err(e) => Err(pipeline::explain(e)),
    }
}

/// `YYYY-MM-DD HH:MM:SS` for seconds since the epoch (UTC), without a date crate.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_700_000_000), "2023-11-14 22:13:20");
    }
}
