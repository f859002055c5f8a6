//! `cargo xtask bench`: how fast `aiwg check` is on a project whose ~3,000 managed files are
//! all up to date, next to `cp -r` of the same output tree. Not a timed test: it prints numbers.
//!
//! Measured three ways: the release binary end to end (process start, source loading, target
//! rendering, plan), the engine's `plan()` alone on a prepared target state, and `cp -r`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aiwg_core::target::{Desired, TargetEntry, TargetState};
use aiwg_deploy::{Engine, Layout, RealSystem};
use anyhow::{bail, Context as _};

const AGENTS: usize = 900;
const COMMANDS: usize = 1100;
const SKILLS: usize = 330;
const RULES: usize = 30;
const RUNS: usize = 30;

/// Deterministic filler text of about `len` bytes.
fn filler(seed: usize, len: usize) -> String {
    let words = [
        "review",
        "the",
        "change",
        "carefully",
        "and",
        "check",
        "every",
        "test",
        "before",
        "merging",
        "into",
        "main",
        "with",
        "care",
    ];
    let mut out = String::with_capacity(len + 16);
    let mut i = seed;
    while out.len() < len {
        out.push_str(words[i % words.len()]);
        out.push(if i.is_multiple_of(13) { '\n' } else { ' ' });
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    out.push('\n');
    out
}

/// Writes the source corpus under `project/.aiwg`.
fn generate(project: &Path) -> anyhow::Result<()> {
    let src = project.join(".aiwg");
    let put = |rel: String, text: String, exec: bool| -> anyhow::Result<()> {
        let path = src.join(rel);
        std::fs::create_dir_all(path.parent().context("a file has a folder")?)?;
        std::fs::write(&path, text)?;
        if exec {
            set_executable(&path)?;
        }
        Ok(())
    };
    for i in 0..AGENTS {
        let name = format!("agent-{i:04}");
        let fm = format!(
            "name: {name}\ndescription: Agent number {i}\nmodel: sonnet\ntools: Read, Grep"
        );
        put(
            format!("agents/{name}.md"),
            format!("---\n{fm}\n---\n{}", filler(i, 1800)),
            false,
        )?;
    }
    for i in 0..COMMANDS {
        let name = format!("command-{i:04}");
        let fm = format!("description: Command number {i}\nargument-hint: <path>");
        put(
            format!("commands/{name}.md"),
            format!("---\n{fm}\n---\n{}", filler(i + 7, 900)),
            false,
        )?;
    }
    for i in 0..SKILLS {
        let name = format!("skill-{i:04}");
        let main = format!(
            "---\nname: {name}\ndescription: Skill number {i}\n---\n{}",
            filler(i + 3, 2500)
        );
        put(format!("skills/{name}/SKILL.md"), main, false)?;
        put(
            format!("skills/{name}/references/guide.md"),
            filler(i + 5, 4000),
            false,
        )?;
        put(
            format!("skills/{name}/scripts/run.sh"),
            format!("#!/bin/sh\necho {i}\n"),
            true,
        )?;
    }
    for i in 0..RULES {
        let body = filler(i + 11, 400);
        put(
            format!("rules/rule-{i:02}.md"),
            format!("---\ndescription: Rule {i}\n---\n{body}"),
            false,
        )?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

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
                let id = entry.part.strip_prefix("section:").unwrap_or(&entry.part);
                let blocks = aiwg_deploy::section::parse(&text).map_err(anyhow::Error::msg)?;
                let block = blocks
                    .iter()
                    .find(|b| b.id == id)
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

/// Median and minimum of `runs` timings of `f`.
fn time(
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((times[times.len() / 2], times[0]))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the benchmark (re-running itself in release mode: debug timings mean nothing).
pub fn run(root: &Path) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        let status = Command::new(env!("CARGO"))
            .args([
                "run",
                "--release",
                "--quiet",
                "--package",
                "xtask",
                "--",
                "bench",
            ])
            .current_dir(root)
            .status()
            .context("cannot run cargo")?;
        if !status.success() {
            bail!("the release benchmark failed");
        }
        return Ok(());
    }
    eprintln!("building the release binary ...");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--bin", "aiwg"])
        .current_dir(root)
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    let binary = root.join("target/release/aiwg");
    let work: PathBuf = root.join("target/bench");
    let _ = std::fs::remove_dir_all(&work);
    let project = work.join("project");
    let home = work.join("home");
    std::fs::create_dir_all(&project)?;
    std::fs::create_dir_all(&home)?;
    std::fs::write(
        project.join("CLAUDE.md"),
        "# Bench project\n\nNotes kept by hand.\n",
    )?;
    // aiwg.toml marks the project root (the workspace's own `.git` is further up).
    std::fs::write(
        project.join("aiwg.toml"),
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    )?;
    generate(&project)?;
    let aiwg = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        Ok(Command::new(&binary)
            .args(args)
            .current_dir(&project)
            .env("HOME", &home)
            .env("AIWG_HOME", &home)
            .env("NO_COLOR", "1")
            .output()?)
    };
    let start = Instant::now();
    let out = aiwg(&["apply"])?;
    let apply_time = start.elapsed();
    if !out.status.success() {
        bail!(
            "aiwg apply failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let summary = String::from_utf8_lossy(&out.stderr)
        .trim_end()
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let state = state_from_disk(&project)?;

    // The binary, end to end.
    let (check_median, check_min) = time(RUNS, || {
        let out = aiwg(&["check"])?;
        if !out.status.success() || !out.stdout.is_empty() {
            bail!(
                "aiwg check is not clean: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(())
    })?;

    // The engine alone: plan() over the prepared target state.
    let sys = RealSystem::new(&project)?;
    let engine = Engine::shared(&sys, Layout::project());
    let (plan_median, plan_min) = time(RUNS, || {
        let sys = RealSystem::new(&project)?;
        let engine = Engine::shared(&sys, Layout::project());
        let (plan, _) = engine.plan(&state)?;
        if !plan.is_empty() {
            bail!("the plan is not empty");
        }
        Ok(())
    })?;
    let managed = engine.plan(&state)?.0.items.len();

    // cp -r of the same output tree.
    let copy_to = work.join("copy");
    let (cp_median, cp_min) = time(10, || {
        let _ = std::fs::remove_dir_all(&copy_to);
        std::fs::create_dir_all(&copy_to)?;
        let status = Command::new("cp")
            .args(["-r", ".claude", "CLAUDE.md"])
            .arg(&copy_to)
            .current_dir(&project)
            .status()?;
        if !status.success() {
            bail!("cp -r failed");
        }
        Ok(())
    })?;

    println!("aiwg check benchmark: {managed} managed files, all up to date ({RUNS} runs each)");
    println!(
        "  first apply (release binary)     {}   ({summary})",
        ms(apply_time)
    );
    println!(
        "  aiwg check, binary end to end    median {}  min {}",
        ms(check_median),
        ms(check_min)
    );
    println!(
        "  plan() alone (engine)            median {}  min {}",
        ms(plan_median),
        ms(plan_min)
    );
    println!(
        "  cp -r of the output tree         median {}  min {}",
        ms(cp_median),
        ms(cp_min)
    );
    println!(
        "  ratio check / cp -r              {:.2}x (median)",
        check_median.as_secs_f64() / cp_median.as_secs_f64()
    );
    Ok(())
}
