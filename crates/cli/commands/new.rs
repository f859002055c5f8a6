//! `aiwg new <kind> <name>`: scaffolds a valid artifact in the project's source folder.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use aiwg_core::Kind;
use anyhow::Context as _;

use super::{Context, UserError};
use crate::project::{Project, DEFAULT_SOURCE};

/// Writes the scaffold and prints the files it created on stdout.
pub fn run(ctx: &Context, kind: &str, name: &str) -> anyhow::Result<u8> {
    let kind: Kind = crate::suggest::kind(kind, "run `aiwg new skill my-skill`, for example")?;
    check_name(name)?;
    let project = Project::discover(&ctx.cwd)?;
    let source = project_source_folder(&project);
    let files = scaffold(kind, name);
    let folder = project.root.join(&source);
    for (rel, _, _) in &files {
        let path = folder.join(rel);
        if path.exists() {
            return Err(UserError::new(
                format!(
                    "`{}` already exists",
                    crate::project::display_relative(&path).display()
                ),
                "pick another name, or edit the existing file",
            )
            .into());
        }
    }
    for (rel, text, executable) in &files {
        let path = folder.join(rel);
        write_new(&path, text, *executable)?;
        writeln!(
            std::io::stdout(),
            "{}",
            crate::project::display_relative(&path).display()
        )?;
    }
    match kind {
        Kind::Behavior => crate::trust::grant_scaffolded(&project, name)?,
        Kind::Mcp => crate::trust::grant_scaffolded(&project, &format!("mcp:{name}"))?,
        _ => {}
    }
    if let Some(config) = &project.config {
        if !config.sources.is_empty()
            && !config
                .sources
                .iter()
                .any(|s| s.trim_end_matches('/') == source)
        {
            crate::printer::say!(
                "note: `{source}` is not in `sources` of `aiwg.toml`; add it there to deploy this {kind}"
            );
        }
    }
    Ok(0)
}

/// The folder new artifacts go to: the first path source of `aiwg.toml` that is not a
/// bundled framework, else `.aiwg`.
fn project_source_folder(project: &Project) -> String {
    project
        .source_specs()
        .into_iter()
        .map(|s| crate::project::SourceSpec::parse(&s).folder().to_string())
        .find(|s| crate::project::bundled_tree(s).is_none())
        .unwrap_or_else(|| DEFAULT_SOURCE.to_string())
        .trim_end_matches('/')
        .to_string()
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && !aiwg_core::rel_path::is_windows_reserved(name);
    if ok {
        Ok(())
    } else {
        Err(UserError::new(
            format!("`{name}` is not a valid artifact name"),
            "use 1 to 64 lowercase letters, digits and single hyphens, e.g. `deploy-checks`, and not a Windows device name (`con`, `nul`, `com1` ...)",
        )
        .into())
    }
}

fn write_new(path: &Path, text: &str, executable: bool) -> anyhow::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create `{}`", parent.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o755);
    }
    let _ = executable;
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

/// The files of a new artifact: (path relative to the source folder, text, executable).
pub fn scaffold(kind: Kind, name: &str) -> Vec<(PathBuf, String, bool)> {
    let title = title_case(name);
    let upper = name.to_ascii_uppercase().replace('-', "_");
    let fill = |t: &str| {
        t.replace("@NAME@", name)
            .replace("@TITLE_UPPER@", &upper)
            .replace("@TITLE@", &title)
    };
    let folder = PathBuf::from(kind.folder());
    match kind {
        Kind::Agent => vec![(folder.join(format!("{name}.md")), fill(AGENT), false)],
        Kind::Command => vec![(folder.join(format!("{name}.md")), fill(COMMAND), false)],
        Kind::Rule => vec![(folder.join(format!("{name}.md")), fill(RULE), false)],
        Kind::Runbook => vec![(folder.join(format!("{name}.md")), fill(RUNBOOK), false)],
        Kind::Skill => vec![(folder.join(name).join("SKILL.md"), fill(SKILL), false)],
        Kind::Mcp => vec![(folder.join(format!("{name}.toml")), fill(MCP), false)],
        Kind::Behavior => vec![
            (folder.join(name).join("BEHAVIOR.md"), fill(BEHAVIOR), false),
            (
                folder.join(name).join("scripts").join(format!("{name}.sh")),
                fill(BEHAVIOR_SCRIPT),
                true,
            ),
        ],
    }
}

fn title_case(name: &str) -> String {
    name.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const AGENT: &str = "---
name: @NAME@
description: Describe in one sentence what @TITLE@ does and when to hand it a task.
model: sonnet
tools: [Read, Grep, Glob]
---

# @TITLE@

You are the @TITLE@ agent.

## Responsibilities

- State the one job this agent owns.

## Process

1. Read the relevant files before acting.
2. Do the work in small, verifiable steps.
3. Report what you changed and how you checked it.

## Do not

- Act outside the responsibilities above; hand the task back instead.
";

const COMMAND: &str = "---
description: Describe in one sentence what /@NAME@ does.
argument-hint: <what the user passes>
---

# @TITLE@

Carry out @TITLE@ for: $ARGUMENTS

1. Restate the request and the files it concerns.
2. Do the work.
3. Finish with a short summary of what changed and what to check.
";

const SKILL: &str = "---
name: @NAME@
description: Describe what the @TITLE@ skill does and when an agent should use it.
---

# @TITLE@

## When to use

- Name the situations this skill is for.

## Steps

1. First step.
2. Second step.
3. How to tell the work is done.
";

/// A stdio MCP server; the comments show the remote form and a reference to a secret.
const MCP: &str = r#"# MCP server `@NAME@`: written into every selected platform's MCP configuration.
description = "What @TITLE@ gives the agent, and when to use it"
command = "npx"
args = ["-y", "@NAME@-mcp-server"]
# A remote server has `url = "https://..."` (and `type = "sse"` for the older transport)
# instead of `command` and `args`, with `[headers]`.
# platforms = ["claude-code", "cursor"]   # only these platforms (default: every one)

[env]
# Secrets only as references: each platform gets its own spelling of `${env:NAME}`.
# @TITLE_UPPER@_TOKEN = "${env:@TITLE_UPPER@_TOKEN}"

# [platform.codex]
# startup_timeout_sec = 30   # a platform's own keys, written only for it
"#;

const RULE: &str = "---
description: Describe in one sentence what the @TITLE@ rule requires.
globs: [\"**/*\"]
---

# @TITLE@

1. State each requirement as one checkable sentence.
";

const BEHAVIOR: &str = "---
name: @NAME@
description: Describe what the @TITLE@ behavior checks and when it runs.
event: PreToolUse
matcher: Write|Edit
command: scripts/@NAME@.sh
---

# @TITLE@

Runs `scripts/@NAME@.sh` before each matching tool call. The script reads the hook's JSON
on standard input; exit 0 lets the call proceed, exit 2 blocks it with the message printed
on standard error.
";

const BEHAVIOR_SCRIPT: &str = "#!/bin/sh
# @TITLE@: reads the hook event as JSON on stdin; exit 2 blocks the tool call.
input=$(cat)
case \"$input\" in
  *DO-NOT-COMMIT*)
    echo \"@NAME@: the change contains DO-NOT-COMMIT\" >&2
    exit 2
    ;;
esac
exit 0
";

const RUNBOOK: &str = "---
name: @NAME@
description: Describe the operation the @TITLE@ runbook carries out and when to use it.
---

# @TITLE@: {service_name}

## Purpose

Say what this runbook changes, on which systems, and what done looks like.

## Prerequisites

- [ ] Access to {target_host}
- [ ] A rollback plan reviewed by a second person

## Procedure

### Stage 1: Prepare

1. Check the current state of {service_name}.

**Gate**: the current state is recorded and healthy.

### Stage 2: Change

1. Apply the change to {target_host}.

**Gate**: the health check at {health_endpoint} passes.

## Verification

- The health check at {health_endpoint} passes for 10 minutes.

## Rollback

**Trigger**: any gate fails, or the error rate rises after the change.

1. Restore the previous version on {target_host}.
2. Confirm the health check passes.

## Agent Rules

1. Stop at every gate that fails; never continue past it.
2. Ask a human before any step that deletes data.
3. Escalate to {escalation_contact} when a gate fails twice or the rollback does not restore health.

## Audit Trail

| Field | Value |
|---|---|
| Run by | {operator|} |
| Date | {run_date|} |
| Outcome | {outcome|to be recorded} |
";

#[cfg(test)]
mod tests {
    use super::*;
    use aiwg_core::source::{load, SourceFile, SourceTree};
    use aiwg_core::RelPath;

    #[test]
    fn every_scaffold_loads_clean() {
        for kind in Kind::ALL {
            let files = scaffold(kind, "my-thing")
                .into_iter()
                .map(|(p, text, executable)| SourceFile {
                    path: RelPath::new(&p.to_string_lossy()).unwrap(),
                    bytes: text.into_bytes(),
                    executable,
                })
                .collect();
            let loaded = load(&SourceTree::from_files("t", "t", files));
            assert_eq!(loaded.diagnostics, vec![], "{kind}");
            assert_eq!(loaded.artifacts.len(), 1, "{kind}");
            assert_eq!(loaded.artifacts[0].name, "my-thing");
            assert_eq!(loaded.artifacts[0].kind, kind);
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("ok-name-2").is_ok());
        for bad in [
            "",
            "Bad",
            "a--b",
            "-a",
            "a-",
            "a b",
            "con",
            "lpt1",
            &"x".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
