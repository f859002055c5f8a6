//! `aiwg check` on a project whose ~3,000 managed files are all up to date ([`Shape::MANY_FILES`]
//! deployed to Claude Code), four ways: the release binary end to end answered by its stat
//! cache, the binary end to end reading everything (`AIWG_NO_CHECK_CACHE=1`: process start,
//! source loading, target rendering, plan), the engine's `plan()` alone on a prepared target
//! state, and `cp -r` of the same output tree.

use std::path::Path;

use aiwg_core::target::{Desired, TargetEntry, TargetState};
use aiwg_deploy::{Engine, Layout, RealSystem};
use anyhow::{bail, Context as _};

use super::corpus::{self, Shape};
use super::{cp_r, fresh_dir, max_rss_kib, ms, rss, run_ok, time, Aiwg};

/// Runs of each measurement.
const RUNS: usize = 30;
/// Runs of `cp -r` (slower; writes).
const CP_RUNS: usize = 5;

/// The target state the platforms rendered, read back from the lock and the files it names,
/// so that `plan()` can be timed on exactly what `aiwg check` compares.
fn state_from_disk(project: &Path) -> anyhow::Result<TargetState> {
    let text = std::fs::read_to_string(project.join("aiwg.lock"))?;
    let lock = aiwg_deploy::Lock::parse("aiwg.lock", &text)?;
    let mut state = TargetState::new();
    for entry in lock.entries() {
        let bytes = std::fs::read(entry.path.to_path(project))?;
        let desired = match entry.mode {
            aiwg_deploy::Mode::File => Desired::File {
                bytes,
                executable: entry.executable,
            },
            aiwg_deploy::Mode::Section => {
                let text = String::from_utf8(bytes)?;
                let aiwg_deploy::Part::Section(id) = &entry.part else {
                    anyhow::bail!("a section entry without a section part");
                };
                let blocks = aiwg_deploy::section::parse(&text).map_err(anyhow::Error::msg)?;
                let block = blocks
                    .iter()
                    .find(|b| &b.id == id)
                    .context("a locked section is missing")?;
                Desired::Section {
                    id: id.to_string(),
                    text: text[block.inner_start..block.inner_end].to_string(),
                }
            }
            aiwg_deploy::Mode::Merge => continue,
        };
        state
            .insert(TargetEntry {
                path: entry.path.clone(),
                desired,
                origin: entry.origin(),
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(state)
}

/// Generates the project in `project`, deploys it, and prints the measurements.
pub fn run(aiwg: &Aiwg, project: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(project)?;
    std::fs::write(
        project.join("CLAUDE.md"),
        "# Bench project\n\nNotes kept by hand.\n",
    )?;
    // aiwg.toml marks the project root (the workspace's own `.git` is further up).
    std::fs::write(
        project.join("aiwg.toml"),
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    )?;
    corpus::generate(project, &Shape::MANY_FILES)?;
    let start = std::time::Instant::now();
    let applied = aiwg.run(project, &["apply"], 0)?;
    let apply_time = start.elapsed();
    let state = state_from_disk(project)?;

    // The binary, end to end: answered by the stat cache, and reading everything.
    aiwg.prime_check_cache(project)?;
    let clean_check = |aiwg: &Aiwg| -> anyhow::Result<()> {
        let out = aiwg.run(project, &["check"], 0)?;
        if !out.stdout.is_empty() {
            bail!("aiwg check is not clean: {}", out.stdout);
        }
        Ok(())
    };
    let check = time(RUNS, |_| Ok(()), |_| clean_check(aiwg))?;
    let check_rss = max_rss_kib(&aiwg.command(project, &["check"]), 0)?;
    let full = aiwg.without_check_cache();
    let check_full = time(RUNS, |_| Ok(()), |_| clean_check(&full))?;
    let check_full_rss = max_rss_kib(&full.command(project, &["check"]), 0)?;

    // The engine alone: plan() over the prepared target state.
    let plan = time(
        RUNS,
        |_| Ok(()),
        |_| {
            let sys = RealSystem::new(project)?;
            let engine = Engine::shared(&sys, Layout::project());
            let (plan, _) = engine.plan(&state)?;
            if !plan.is_empty() {
                bail!("the plan is not empty");
            }
            Ok(())
        },
    )?;
    let sys = RealSystem::new(project)?;
    let managed = Engine::shared(&sys, Layout::project())
        .plan(&state)?
        .0
        .items
        .len();

    // cp -r of the same output tree.
    let copy_to = project.with_file_name("project-copy");
    let entries = [".claude".to_string(), "CLAUDE.md".to_string()];
    let cp = time(
        CP_RUNS,
        |_| fresh_dir(&copy_to),
        |_| run_ok(cp_r(project, &entries, &copy_to)),
    )?;

    println!("aiwg check on {managed} managed files, all up to date (median of {RUNS} runs)");
    println!(
        "  first apply (release binary)     {}   ({})",
        ms(apply_time),
        applied.summary()
    );
    println!(
        "  aiwg check, cache hit            median {}  min {}  max RSS {}",
        ms(check.median),
        ms(check.min),
        rss(check_rss)
    );
    println!(
        "  aiwg check, full (no cache)      median {}  min {}  max RSS {}",
        ms(check_full.median),
        ms(check_full.min),
        rss(check_full_rss)
    );
    println!(
        "  plan() alone (engine)            median {}  min {}",
        ms(plan.median),
        ms(plan.min)
    );
    println!(
        "  cp -r of the output tree         median {}  min {}  ({CP_RUNS} runs)",
        ms(cp.median),
        ms(cp.min)
    );
    println!(
        "  ratio check / cp -r              {:.2}x cache hit, {:.2}x full (medians)",
        check.median.as_secs_f64() / cp.median.as_secs_f64(),
        check_full.median.as_secs_f64() / cp.median.as_secs_f64()
    );
    Ok(())
}
