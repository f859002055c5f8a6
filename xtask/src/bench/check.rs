//! The steady state: a project whose managed files are all up to date, for the bundled `sdlc`
//! framework deployed to every platform and for a large project ([`Shape::LARGE_PROJECT`],
//! 8,000 files to Claude Code, the size issue 15's goal names). Measured: a no-change `aiwg
//! apply`, `aiwg check` answered by its stat cache and reading everything
//! (`AIWG_NO_CHECK_CACHE=1`: process start, source loading, rendering, plan), per managed
//! file; the engine's `plan()` alone on a prepared target state (large project); and `cp -r`
//! of the output tree into folders made beforehand.

use std::path::Path;

use aiwg_core::target::{Desired, TargetEntry, TargetState};
use aiwg_deploy::{Engine, Layout, RealSystem};
use anyhow::{bail, Context as _};

use super::corpus::{self, Shape};
use super::{cp_r, max_rss_kib, rss, run_ok, Aiwg, Samples};

/// Runs of each measurement.
const RUNS: usize = 21;
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

/// One project of the steady-state table.
struct Project {
    name: &'static str,
    dir: std::path::PathBuf,
    /// The top-level entries apply writes (for `cp -r`).
    outputs: Vec<String>,
    /// Whether `plan()` alone is timed too (it rebuilds the target state from the disk).
    time_plan: bool,
}

/// Prepares both projects under `work`, measures, and prints the table.
pub fn run(aiwg: &Aiwg, work: &Path) -> anyhow::Result<()> {
    let bundled = work.join("bundled");
    std::fs::create_dir_all(&bundled)?;
    let all: Vec<String> = aiwg_platforms::Registry::builtin()
        .all()
        .iter()
        .map(|p| format!("\"{}\"", p.id))
        .collect();
    std::fs::write(
        bundled.join("aiwg.toml"),
        format!("sources = [\"sdlc\"]\nplatforms = [{}]\n", all.join(", ")),
    )?;
    let large = work.join("large");
    std::fs::create_dir_all(&large)?;
    std::fs::write(
        large.join("CLAUDE.md"),
        "# Bench project\n\nNotes kept by hand.\n",
    )?;
    // aiwg.toml marks the project root (the workspace's own `.git` is further up).
    std::fs::write(
        large.join("aiwg.toml"),
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    )?;
    corpus::generate(&large, &Shape::LARGE_PROJECT)?;
    let mut projects = Vec::new();
    for (name, dir, sources, time_plan) in [
        (
            "bundled sdlc, all platforms",
            bundled,
            vec!["aiwg.toml"],
            false,
        ),
        (
            "large, claude-code",
            large,
            vec!["aiwg.toml", ".aiwg"],
            true,
        ),
    ] {
        aiwg.run(&dir, &["apply"], 0)?;
        let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
        let outputs = super::deploy::output_entries(&dir, &sources)?;
        projects.push(Project {
            name,
            dir,
            outputs,
            time_plan,
        });
    }
    println!("Steady state: every managed file up to date (ms: median [min..max] of {RUNS} runs)");
    for p in &projects {
        measure(aiwg, p, work)?;
    }
    Ok(())
}

fn measure(aiwg: &Aiwg, p: &Project, work: &Path) -> anyhow::Result<()> {
    let project = p.dir.as_path();
    let clean_check = |aiwg: &Aiwg| -> anyhow::Result<()> {
        let out = aiwg.run(project, &["check"], 0)?;
        if !out.stdout.is_empty() {
            bail!("aiwg check is not clean: {}", out.stdout);
        }
        Ok(())
    };
    let mut no_change = Samples::default();
    for _ in 0..RUNS {
        no_change.time(|| {
            let out = aiwg.run(project, &["apply"], 0)?;
            let summary = out.summary();
            // `nothing to change: N files up to date` (older builds: `0 created, 0 updated, ...`).
            let nothing = "0 created, 0 updated, 0 deleted";
            if !(summary.starts_with("nothing to change")
                || summary.starts_with(nothing)
                || summary.contains(&format!(" {nothing}")))
            {
                bail!("apply changed something: {}", out.summary());
            }
            Ok(())
        })?;
    }
    aiwg.prime_check_cache(project)?;
    let mut hit = Samples::default();
    for _ in 0..RUNS {
        hit.time(|| clean_check(aiwg))?;
    }
    let hit_rss = max_rss_kib(&aiwg.command(project, &["check"]), 0)?;
    let full_aiwg = aiwg.without_check_cache();
    let mut full = Samples::default();
    for _ in 0..RUNS {
        full.time(|| clean_check(&full_aiwg))?;
    }
    let full_rss = max_rss_kib(&full_aiwg.command(project, &["check"]), 0)?;
    let sys = RealSystem::new(project)?;
    let state = state_from_disk(project)?;
    let managed = Engine::shared(&sys, Layout::project())
        .plan(&state)?
        .0
        .items
        .len();
    let mut plan = Samples::default();
    if p.time_plan {
        for _ in 0..RUNS {
            plan.time(|| {
                let sys = RealSystem::new(project)?;
                let engine = Engine::shared(&sys, Layout::project());
                let (plan, _) = engine.plan(&state)?;
                if !plan.is_empty() {
                    bail!("the plan is not empty");
                }
                Ok(())
            })?;
        }
    }
    // cp -r of the output tree, into folders made before the series (deleted after it).
    let copies: Vec<std::path::PathBuf> = (0..CP_RUNS)
        .map(|i| work.join(format!("copy-{}-{i}", p.name.len())))
        .collect();
    for c in &copies {
        std::fs::create_dir_all(c)?;
    }
    let mut cp = Samples::default();
    for c in &copies {
        cp.time(|| run_ok(cp_r(project, &p.outputs, c)))?;
    }
    for c in &copies {
        std::fs::remove_dir_all(c)?;
    }
    let per_file = |s: &Samples| s.median().as_secs_f64() * 1e6 / managed.max(1) as f64;
    println!("  {} ({managed} managed paths)", p.name);
    println!("    no-change aiwg apply        {}", no_change.spread());
    println!(
        "    aiwg check, cache hit       {}   max RSS {}",
        hit.spread(),
        rss(hit_rss)
    );
    println!(
        "    aiwg check, full (no cache) {}   max RSS {}   {:.1} us per managed path",
        full.spread(),
        rss(full_rss),
        per_file(&full)
    );
    if p.time_plan {
        println!(
            "    plan() alone (engine)       {}   {:.1} us per managed path",
            plan.spread(),
            per_file(&plan)
        );
    }
    println!(
        "    cp -r of the output tree    {}   (check full / cp -r: {:.2}x)",
        cp.spread(),
        full.median().as_secs_f64() / cp.median().as_secs_f64()
    );
    Ok(())
}
