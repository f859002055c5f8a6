//! `aiwg rollback`: undo the last apply, byte for byte, with the lock; `--to N` goes back to
//! the state right after generation N (undoing every later one); `--list` shows the
//! generations.

use std::io::Write as _;

use aiwg_deploy::history;
use aiwg_deploy::rollback::{self, RollbackOptions};
use aiwg_deploy::DeployError;

use crate::cli::ScopeArg;
use crate::commands::{Context, UserError};
use crate::json;
use crate::pipeline::{self, Deployment};
use crate::project::Project;

/// Runs `aiwg rollback [--list] [--to GENERATION] [--force]`.
pub fn run(
    ctx: &Context,
    list: bool,
    to: Option<u64>,
    force: bool,
    json: bool,
    scope: Option<ScopeArg>,
    local: bool,
) -> anyhow::Result<u8> {
    let project = Project::open(&ctx.cwd, scope)?;
    let scope = pipeline::scope(&project, scope)?;
    let d = Deployment::open(&project, scope)?;
    // `--local`: the overlay's own history (`.aiwg/local/history`), under the same process
    // lock; the team's generations are never touched by it, nor its by them.
    if local && d.scope != aiwg_core::target::Scope::Project {
        return Err(UserError::new(
            "`--local` rolls back the personal overlay, which deploys in project scope only",
            "run `aiwg rollback --local` in the project, without `scope = \"user\"`",
        )
        .into());
    }
    let engine = match local {
        true => d.overlay_engine(),
        false => d.engine(),
    };
    if list {
        // Heads only: each manifest is verified and its paths counted, none kept.
        let listing = history::list_heads(&engine).map_err(pipeline::explain)?;
        if json {
            return json::print(&json::Generations {
                version: json::VERSION,
                generations: listing
                    .generations
                    .iter()
                    .map(|g| json::GenerationEntry {
                        generation: g.generation,
                        time: g.time,
                        command: g.command.clone(),
                        paths: g.path_count,
                    })
                    .collect(),
            })
            .map(|()| 0);
        }
        let mut out = std::io::stdout().lock();
        if listing.generations.is_empty() {
            crate::printer::say!("no generations yet: each apply that changes files records one");
        } else {
            writeln!(out, "GEN  TIME (UTC)           PATHS  COMMAND")?;
        }
        for g in listing.generations.iter().rev() {
            let mut notes = Vec::new();
            if !g.complete {
                notes.push("interrupted".to_string());
            }
            if !g.forced.is_empty() {
                notes.push(format!(
                    "kept: the only copy of {} `--force` overwrote; delete `{}` to drop it",
                    crate::width::count(g.forced.len(), "file"),
                    d.display_state(&history::folder(&engine, g.generation))
                ));
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join("; "))
            };
            writeln!(
                out,
                "{:<4} {}  {:>5}  {}{notes}",
                g.generation,
                utc(g.time),
                g.path_count,
                g.command
            )?;
        }
        drop(out);
        match local {
            false => d.warn_ignored(&listing.ignored),
            true => d.warn_ignored_history(),
        }
        return Ok(0);
    }
    let _guard = d.lock()?;
    // `--to N` is the state right after N: the engine undoes from the first generation after
    // it (0 is the state before the first).
    let from = match to {
        None => None,
        Some(n) => {
            let generations = history::list_heads(&engine)
                .map_err(pipeline::explain)?
                .generations;
            if n != 0 && !generations.iter().any(|g| g.generation == n) {
                let known: Vec<String> = generations
                    .iter()
                    .map(|g| g.generation.to_string())
                    .collect();
                return Err(UserError::new(
                    format!("there is no generation {n}"),
                    format!(
                        "the generations are {} (`aiwg rollback --list`); `--to 0` goes back to before the first",
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ),
                )
                .into());
            }
            match generations
                .iter()
                .map(|g| g.generation)
                .filter(|g| *g > n)
                .min()
            {
                Some(first_after) => Some(first_after),
                None => {
                    crate::printer::say!("nothing to roll back: generation {n} is the newest");
                    return Ok(0);
                }
            }
        }
    };
    let options = RollbackOptions {
        to: from,
        force,
        keep: d.keep,
    };
    d.warn_ignored_history();
    match rollback::rollback(&engine, &options) {
        Ok(report) => {
            let undone: Vec<String> = report.undone.iter().map(u64::to_string).collect();
            let restored = report.restored.len();
            crate::printer::say!(
                "rolled back generation{} {}: {} restored{}",
                if undone.len() == 1 { "" } else { "s" },
                undone.join(", "),
                crate::width::count(restored, "path"),
                report
                    .generation
                    .map(|g| format!(
                        " (recorded as generation {g}; `aiwg rollback{}` again redoes)",
                        if local { " --local" } else { "" }
                    ))
                    .unwrap_or_default()
            );
            crate::generated::after_rollback(&project, &d)?;
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
