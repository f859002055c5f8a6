//! A no-change `aiwg check` with three git sources (`file://` bare repositories, pinned and
//! cached) against the same three sources as folders in the project, with the stat cache and
//! without it. Issue 14's bar: the git project within 2× of the local one.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};

use super::corpus::filler;
use super::{Aiwg, Samples};

/// Runs of each measurement (the two projects alternate).
const RUNS: usize = 30;
/// Agents, commands and skills per source.
const PER_SOURCE: usize = 60;

/// Writes one source (artifact names prefixed with `prefix`, so the three never clash).
fn write_source(dir: &Path, prefix: &str) -> anyhow::Result<()> {
    let put = |rel: String, text: String| -> anyhow::Result<()> {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().context("a file has a folder")?)?;
        std::fs::write(path, text)?;
        Ok(())
    };
    for i in 0..PER_SOURCE {
        put(
            format!("agents/{prefix}-agent-{i:03}.md"),
            format!(
                "---\nname: {prefix}-agent-{i:03}\ndescription: Agent {i}\n---\n{}",
                filler(i, 2000)
            ),
        )?;
        put(
            format!("commands/{prefix}-command-{i:03}.md"),
            format!(
                "---\ndescription: Command {i}\n---\n{}",
                filler(i + 1, 1000)
            ),
        )?;
        put(
            format!("skills/{prefix}-skill-{i:03}/SKILL.md"),
            format!(
                "---\nname: {prefix}-skill-{i:03}\ndescription: Skill {i}\n---\n{}",
                filler(i + 2, 3000)
            ),
        )?;
        put(
            format!("skills/{prefix}-skill-{i:03}/references/guide.md"),
            filler(i + 3, 3000),
        )?;
    }
    Ok(())
}

fn git(dir: &Path, home: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .context("cannot run git")?;
    if !status.success() {
        bail!("git {} failed in {}", args.join(" "), dir.display());
    }
    Ok(())
}

/// Builds both projects under `work`, deploys them, and prints the measurements.
pub fn run(aiwg: &Aiwg, work: &Path) -> anyhow::Result<()> {
    let local = work.join("local");
    let remote = work.join("remote");
    let repos = work.join("repos");
    std::fs::create_dir_all(&repos)?;
    let mut git_specs = Vec::new();
    let mut local_specs = Vec::new();
    for k in 1..=3 {
        let name = format!("fw{k}");
        write_source(&local.join(&name), &name)?;
        let upstream = repos.join(&name);
        write_source(&upstream, &name)?;
        git(&upstream, work, &["init", "-q", "-b", "main"])?;
        git(&upstream, work, &["add", "-A"])?;
        git(&upstream, work, &["commit", "-q", "-m", "source"])?;
        let bare = repos.join(format!("{name}.git"));
        git(
            &repos,
            work,
            &[
                "clone",
                "-q",
                "--bare",
                &name,
                bare.to_str().context("a UTF-8 path")?,
            ],
        )?;
        git_specs.push(format!("\"{name}@file://{}@main\"", bare.display()));
        local_specs.push(format!("\"{name}\""));
    }
    for (project, specs) in [(&local, &local_specs), (&remote, &git_specs)] {
        std::fs::create_dir_all(project)?;
        std::fs::write(
            project.join("aiwg.toml"),
            format!(
                "sources = [{}]\nplatforms = [\"claude-code\"]\n",
                specs.join(", ")
            ),
        )?;
        // A project's git sources are fetched with consent, recorded once.
        aiwg.run(project, &["--trust", "apply"], 0)?;
        aiwg.run(project, &["trust"], 0)?;
    }
    let lock = std::fs::read_to_string(remote.join("aiwg.lock"))?;
    if lock.matches("[[source]]").count() != 3 {
        bail!("the git project did not pin its three sources:\n{lock}");
    }
    let clean = |aiwg: &Aiwg, project: &Path| -> anyhow::Result<()> {
        let out = aiwg.run(project, &["check"], 0)?;
        if !out.stdout.is_empty() {
            bail!("aiwg check is not clean: {}", out.stdout);
        }
        Ok(())
    };
    let full = aiwg.without_check_cache();
    let mut rows = Vec::new();
    for (label, runner) in [("cache hit", aiwg), ("full (no cache)", &full)] {
        if label == "cache hit" {
            aiwg.prime_check_cache(&local)?;
            aiwg.prime_check_cache(&remote)?;
        }
        // Alternate the two projects so that load on the machine hits both alike.
        let mut local_times = Samples::default();
        let mut remote_times = Samples::default();
        for _ in 0..RUNS {
            local_times.time(|| clean(runner, &local))?;
            remote_times.time(|| clean(runner, &remote))?;
        }
        rows.push((label, local_times, remote_times));
    }
    let files = 4 * PER_SOURCE * 3;
    println!(
        "aiwg check, no change: three sources of {files} files in all, as folders and as pinned git sources (median of {RUNS} alternating runs)"
    );
    for (label, local, remote) in rows {
        println!(
            "  {label:<16} folders {}   git {}   ratio git / folders {:.2}x (medians, ms [min..max])",
            local.spread(),
            remote.spread(),
            remote.median().as_secs_f64() / local.median().as_secs_f64()
        );
    }
    Ok(())
}
