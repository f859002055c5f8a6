//! `cargo xtask bench`: how fast `aiwg check` is on a project whose ~3,000 managed files are
//! all up to date, next to `cp -r` of the same output tree. Not a timed test: it prints numbers.
//!
//! Measured three ways: the release binary end to end (process start, source loading, target
//! rendering, plan), the engine's `plan()` alone on a prepared target state, and `cp -r`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aiwg_core::target::{Desired, Origin, TargetEntry, TargetState};
use aiwg_core::RelPath;
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

/// Writes the source corpus; returns the target state the built-in Claude layout makes of it.
fn generate(project: &Path) -> anyhow::Result<TargetState> {
    let src = project.join(".aiwg");
    let mut state = TargetState::new();
    let origin = |artifact: String| Origin {
        source: ".aiwg".into(),
        artifact,
        platforms: vec!["claude-code".into()],
    };
    let mut put = |rel: String,
                   target: Option<String>,
                   text: String,
                   exec: bool,
                   artifact: String|
     -> anyhow::Result<()> {
        let path = src.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(&path, &text)?;
        if exec {
            set_executable(&path)?;
        }
        if let Some(target) = target {
            state
                .insert(TargetEntry {
                    path: RelPath::new(&target)?,
                    desired: Desired::File {
                        bytes: text.into_bytes(),
                        executable: exec,
                    },
                    origin: origin(artifact),
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(())
    };
    for i in 0..AGENTS {
        let name = format!("agent-{i:04}");
        let text = format!("---\nname: {name}\ndescription: Agent number {i}\nmodel: sonnet\ntools: Read, Grep\n---\n{}", filler(i, 1800));
        put(
            format!("agents/{name}.md"),
            Some(format!(".claude/agents/{name}.md")),
            text,
            false,
            format!("agent:{name}"),
        )?;
    }
    for i in 0..COMMANDS {
        let name = format!("command-{i:04}");
        let text = format!(
            "---\ndescription: Command number {i}\nargument-hint: <path>\n---\n{}",
            filler(i + 7, 900)
        );
        put(
            format!("commands/{name}.md"),
            Some(format!(".claude/commands/{name}.md")),
            text,
            false,
            format!("command:{name}"),
        )?;
    }
    for i in 0..SKILLS {
        let name = format!("skill-{i:04}");
        let base = format!("skills/{name}");
        let target = format!(".claude/skills/{name}");
        let main = format!(
            "---\nname: {name}\ndescription: Skill number {i}\n---\n{}",
            filler(i + 3, 2500)
        );
        put(
            format!("{base}/SKILL.md"),
            Some(format!("{target}/SKILL.md")),
            main,
            false,
            format!("skill:{name}"),
        )?;
        put(
            format!("{base}/references/guide.md"),
            Some(format!("{target}/references/guide.md")),
            filler(i + 5, 4000),
            false,
            format!("skill:{name}"),
        )?;
        put(
            format!("{base}/scripts/run.sh"),
            Some(format!("{target}/scripts/run.sh")),
            format!("#!/bin/sh\necho {i}\n"),
            true,
            format!("skill:{name}"),
        )?;
    }
    let mut rules = Vec::new();
    for i in 0..RULES {
        let name = format!("rule-{i:02}");
        let body = filler(i + 11, 400);
        put(
            format!("rules/{name}.md"),
            None,
            format!("---\ndescription: Rule {i}\n---\n{body}"),
            false,
            String::new(),
        )?;
        rules.push((name, body));
    }
    let text: Vec<String> = rules
        .iter()
        .map(|(name, body)| format!("## {name}\n\n{}\n", body.trim()))
        .collect();
    state
        .insert(TargetEntry {
            path: RelPath::new("CLAUDE.md")?,
            desired: Desired::Section {
                id: "aiwg".into(),
                text: text.join("\n"),
            },
            origin: origin("rules".into()),
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(state)
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
    std::fs::write(project.join("aiwg.toml"), "sources = [\".aiwg\"]\n")?;
    let state = generate(&project)?;
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
    let summary = String::from_utf8_lossy(&out.stderr).trim().to_string();

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
