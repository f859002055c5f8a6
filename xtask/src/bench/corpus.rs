//! Generated source corpora for the benchmarks: deterministic text, sizes and counts given by a
//! [`Shape`], written as a project's `.aiwg/` folder.

use std::path::Path;

use anyhow::Context as _;

/// How many artifacts of each kind, and how big their files are (bytes of body text).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub agents: usize,
    pub agent_bytes: usize,
    pub commands: usize,
    pub command_bytes: usize,
    pub skills: usize,
    pub skill_bytes: usize,
    /// Each skill also has `references/guide.md` of this size and a small `scripts/run.sh`.
    pub skill_asset_bytes: usize,
    pub rules: usize,
    pub rule_bytes: usize,
    pub runbooks: usize,
}

impl Shape {
    /// A large project for the `check` measurement: about 3,000 source files.
    pub const MANY_FILES: Shape = Shape {
        agents: 900,
        agent_bytes: 1800,
        commands: 1100,
        command_bytes: 900,
        skills: 330,
        skill_bytes: 2500,
        skill_asset_bytes: 4000,
        rules: 30,
        rule_bytes: 400,
        runbooks: 0,
    };

    /// The steady-state bench's large project, at the size issue 15 states its cached-check
    /// goal for: 8,000 source files, one managed file each for Claude Code (`MANY_FILES` x3
    /// with 1,060 commands fewer; each skill is three files).
    pub const LARGE_PROJECT: Shape = Shape {
        agents: 3 * Shape::MANY_FILES.agents,
        commands: 3 * Shape::MANY_FILES.commands - 1060,
        skills: 3 * Shape::MANY_FILES.skills,
        rules: 3 * Shape::MANY_FILES.rules,
        ..Shape::MANY_FILES
    };

    /// A realistic framework (DESIGN.md's benchmark): 80 agents of about 3 KB, 110 commands,
    /// 60 skills with two assets each, 30 rules, 5 runbooks.
    pub const REALISTIC: Shape = Shape {
        agents: 80,
        agent_bytes: 3000,
        commands: 110,
        command_bytes: 1500,
        skills: 60,
        skill_bytes: 4000,
        skill_asset_bytes: 3000,
        rules: 30,
        rule_bytes: 1000,
        runbooks: 5,
    };

    /// `n` times as many artifacts of each kind, of the same sizes.
    pub fn scaled(&self, n: usize) -> Shape {
        Shape {
            agents: self.agents * n,
            commands: self.commands * n,
            skills: self.skills * n,
            rules: self.rules * n,
            runbooks: self.runbooks * n,
            ..*self
        }
    }
}

/// Deterministic filler text of about `len` bytes.
pub fn filler(seed: usize, len: usize) -> String {
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

/// A runbook with every section the linter asks for (so the corpus loads without warnings).
fn runbook(i: usize) -> String {
    format!(
        "---\nname: runbook-{i}\ndescription: Runbook number {i}\n---\n# Runbook {i}: {{service}}\n\n\
         ## Purpose\n\n{}\n## Prerequisites\n\n- [ ] access to `{{service}}`\n\n## Procedure\n\n\
         ### Stage 1: Prepare\n\n{}\n**Gate**: the checks pass.\n\n### Stage 2: Change\n\n{}\n\
         **Gate**: the service answers.\n\n## Verification\n\n{}\n## Rollback\n\n\
         **Trigger**: errors rise.\n\n{}\n## Agent Rules\n\n- Stop at every gate.\n",
        filler(i, 300),
        filler(i + 1, 600),
        filler(i + 2, 600),
        filler(i + 3, 300),
        filler(i + 4, 300),
    )
}

/// Writes the corpus of `shape` under `project/.aiwg`.
pub fn generate(project: &Path, shape: &Shape) -> anyhow::Result<()> {
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
    for i in 0..shape.agents {
        let name = format!("agent-{i:04}");
        let fm = format!(
            "name: {name}\ndescription: Agent number {i}\nmodel: sonnet\ntools: Read, Grep"
        );
        let body = filler(i, shape.agent_bytes);
        put(
            format!("agents/{name}.md"),
            format!("---\n{fm}\n---\n{body}"),
            false,
        )?;
    }
    for i in 0..shape.commands {
        let name = format!("command-{i:04}");
        let fm = format!("description: Command number {i}\nargument-hint: <path>");
        let body = filler(i + 7, shape.command_bytes);
        put(
            format!("commands/{name}.md"),
            format!("---\n{fm}\n---\n{body}"),
            false,
        )?;
    }
    for i in 0..shape.skills {
        let name = format!("skill-{i:04}");
        let main = format!(
            "---\nname: {name}\ndescription: Skill number {i}\n---\n{}",
            filler(i + 3, shape.skill_bytes)
        );
        put(format!("skills/{name}/SKILL.md"), main, false)?;
        let guide = filler(i + 5, shape.skill_asset_bytes);
        put(format!("skills/{name}/references/guide.md"), guide, false)?;
        let script = format!("#!/bin/sh\necho {i}\n");
        put(format!("skills/{name}/scripts/run.sh"), script, true)?;
    }
    for i in 0..shape.rules {
        let body = filler(i + 11, shape.rule_bytes);
        let text = format!("---\ndescription: Rule {i}\n---\n{body}");
        put(format!("rules/rule-{i:02}.md"), text, false)?;
    }
    for i in 0..shape.runbooks {
        put(format!("runbooks/runbook-{i}.md"), runbook(i), false)?;
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

/// `cargo xtask corpus <dir> <realistic|many> <scale> <platform>...`: writes one benchmark
/// project (sources and `aiwg.toml`) into the new folder `dir`, to measure one command by
/// hand (heaptrack, `time -f %M`, callgrind) on exactly what the bench applies.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let usage = "usage: cargo xtask corpus <dir> <realistic|many> <scale> <platform>...";
    let [dir, shape, scale, platforms @ ..] = args else {
        anyhow::bail!("{usage}");
    };
    let shape = match shape.as_str() {
        "realistic" => Shape::REALISTIC,
        "many" => Shape::MANY_FILES,
        _ => anyhow::bail!("{usage}"),
    };
    let scale: usize = scale.parse().context("the scale is a whole number")?;
    let platforms: Vec<String> = if platforms.iter().any(|p| p == "all") {
        aiwg_platforms::Registry::builtin()
            .all()
            .iter()
            .map(|p| p.id.to_string())
            .collect()
    } else {
        platforms.to_vec()
    };
    let dir = Path::new(dir);
    if dir.exists() {
        anyhow::bail!(
            "`{}` exists; the corpus goes into a new folder",
            dir.display()
        );
    }
    generate(dir, &shape.scaled(scale))?;
    let quoted: Vec<String> = platforms.iter().map(|p| format!("\"{p}\"")).collect();
    std::fs::write(
        dir.join("aiwg.toml"),
        format!(
            "sources = [\".aiwg\"]\nplatforms = [{}]\n",
            quoted.join(", ")
        ),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source files `generate` writes for `shape`, counted on disk.
    fn files_written(shape: &Shape) -> usize {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), shape).unwrap();
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .map(|p| if p.is_dir() { count(&p) } else { 1 })
                .sum()
        }
        count(&dir.path().join(".aiwg"))
    }

    #[test]
    fn the_large_project_is_the_8000_files_the_cached_check_goal_names() {
        // Counted on a small shape of the same kinds: one file per agent, command and rule,
        // three per skill. Claude Code takes each source file as one managed file.
        let small = Shape {
            agents: 2,
            commands: 3,
            skills: 4,
            rules: 5,
            ..Shape::LARGE_PROJECT
        };
        assert_eq!(files_written(&small), 2 + 3 + 3 * 4 + 5);
        let large = Shape::LARGE_PROJECT;
        assert_eq!(large.runbooks, 0);
        assert_eq!(
            large.agents + large.commands + 3 * large.skills + large.rules,
            8000
        );
    }
}
