//! `aiwg hook install|uninstall`: a git pre-commit hook running `aiwg check --staged` (mode
//! `check`) or `aiwg apply --stage` (mode `apply`).
//!
//! The hook goes where git runs hooks, as git itself says (`git rev-parse --git-path hooks`,
//! which honours `core.hooksPath` at every config level and worktrees). It is a marked block
//! (`# aiwg:begin pre-commit` … `# aiwg:end pre-commit`). A hook file that already exists and
//! is a shell script gets the block inserted right after its first line, so it runs first;
//! any other existing hook is left alone (with a hint). Uninstall removes only the block, and
//! the file when nothing but the shebang is left. When `aiwg` cannot be found at commit time
//! (not on `PATH`, and not where it was at install), the hook fails loudly: a check that
//! cannot run must never pass.

use std::path::Path;

use aiwg_core::RelPath;
use aiwg_deploy::{RealSystem, System as _};

use crate::cli::{HookCommand, HookMode};
use crate::commands::{Context, UserError};
use crate::git;
use crate::project::{display_relative, Project};

/// The first line of the block; also how `doctor` recognises the hook.
pub const BEGIN: &str = "# aiwg:begin pre-commit";
const END: &str = "# aiwg:end pre-commit";

/// `text` quoted for a POSIX shell (single quotes; a `'` inside as `'\''`).
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The hook block: find `aiwg` (on `PATH`, else at `fallback`, where it was at install),
/// fail loudly when it is nowhere, then run it in `project` (relative to the work tree's top,
/// where git runs hooks).
fn block(mode: HookMode, fallback: &Path, project: &str) -> String {
    let command = match mode {
        HookMode::Check => "check --staged",
        HookMode::Apply => "apply --stage",
    };
    let fallback = sh_quote(&fallback.to_string_lossy());
    let project = sh_quote(project);
    format!(
        "{BEGIN}\n\
         # Keeps every AI platform's copy of the context in sync (`aiwg hook uninstall` removes this).\n\
         aiwg_bin=$(command -v aiwg 2>/dev/null) || aiwg_bin={fallback}\n\
         if [ ! -x \"$aiwg_bin\" ]; then\n\
         \x20 echo \"aiwg: cannot find aiwg (not on PATH, not at \"{fallback}\"): the commit is stopped\" >&2\n\
         \x20 echo \"hint: install aiwg (or put it on PATH); \\`git commit --no-verify\\` skips the hook once\" >&2\n\
         \x20 exit 1\n\
         fi\n\
         \"$aiwg_bin\" -C {project} {command} || {{ echo \"aiwg: the commit is stopped (\\`git commit --no-verify\\` skips the hook once)\" >&2; exit 1; }}\n\
         {END}\n"
    )
}

/// Runs `aiwg hook install|uninstall`.
pub fn run(ctx: &Context, command: &HookCommand) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let dir = git::hooks_dir(&project.root)?;
    let top = std::fs::canonicalize(git::toplevel(&project.root)?)?;
    let shown = display_relative(&dir.join("pre-commit"));
    if matches!(command, HookCommand::Uninstall) && !dir.is_dir() {
        crate::printer::say!("no aiwg hook is installed in `{}`", shown.display());
        return Ok(0);
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        anyhow::anyhow!("cannot create `{}`: {e}", display_relative(&dir).display())
    })?;
    let sys = RealSystem::new(&dir)?;
    let name = RelPath::new("pre-commit").expect("valid");
    let current = sys.read(&name)?;
    let text = current
        .as_ref()
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned());
    match command {
        HookCommand::Install { mode } => {
            let root = std::fs::canonicalize(&project.root)?;
            let below = root.strip_prefix(&top).unwrap_or(Path::new(""));
            let below = match below.to_string_lossy().replace('\\', "/") {
                b if b.is_empty() => ".".to_string(),
                b => b,
            };
            let exe = std::env::current_exe()?;
            let block = block(*mode, &exe, &below);
            let new = match &text {
                None => format!("#!/bin/sh\n{block}"),
                Some(t) if t.contains(BEGIN) => {
                    let replaced = replace_block(t, &block);
                    if replaced == *t {
                        crate::printer::say!(
                            "the hook is already installed in `{}`",
                            shown.display()
                        );
                        return Ok(0);
                    }
                    replaced
                }
                Some(t) if is_shell(t) => {
                    let (first, rest) = t.split_once('\n').unwrap_or((t, ""));
                    format!("{first}\n{block}{rest}")
                }
                Some(_) => {
                    return Err(UserError::new(
                        format!("`{}` exists and is not a shell script", shown.display()),
                        "add `aiwg check --staged` to it yourself (exit 1 on its failure)",
                    )
                    .into())
                }
            };
            sys.write_atomic(&name, new.as_bytes(), true)?;
            let what = match mode {
                HookMode::Check => "`aiwg check --staged`",
                HookMode::Apply => "`aiwg apply --stage`",
            };
            crate::printer::say!("installed {what} in `{}`", shown.display());
            let git_dir = std::fs::canonicalize(top.join(
                String::from_utf8_lossy(&git::run(&top, ["rev-parse", "--git-common-dir"])?).trim(),
            ))?;
            let hooks = std::fs::canonicalize(&dir)?;
            if !hooks.starts_with(&top) && !hooks.starts_with(&git_dir) {
                crate::printer::say!(
                    "note: `core.hooksPath` points outside this repository: every repository using `{}` runs this hook",
                    hooks.display()
                );
            }
        }
        HookCommand::Uninstall => {
            if remove_block(&sys, &name, current)? {
                crate::printer::say!("removed the aiwg hook from `{}`", shown.display());
            } else {
                crate::printer::say!("no aiwg hook is installed in `{}`", shown.display());
            }
        }
    }
    Ok(0)
}

/// Takes aiwg's block out of the hook of the project at `root`, if it has one; true when it did.
pub fn uninstall(root: &Path) -> anyhow::Result<bool> {
    let dir = git::hooks_dir(root)?;
    if !dir.is_dir() {
        return Ok(false);
    }
    let sys = RealSystem::new(&dir)?;
    let name = RelPath::new("pre-commit").expect("valid");
    let current = sys.read(&name)?;
    remove_block(&sys, &name, current)
}

/// Removes aiwg's block from the hook `name` (whose bytes are `current`), and the file when
/// nothing but the shebang is left; false when there is no block.
fn remove_block(
    sys: &RealSystem,
    name: &RelPath,
    current: Option<aiwg_deploy::FileData>,
) -> anyhow::Result<bool> {
    let Some(file) = current else {
        return Ok(false);
    };
    let text = String::from_utf8_lossy(&file.bytes).into_owned();
    if !text.contains(BEGIN) {
        return Ok(false);
    }
    let rest = replace_block(&text, "");
    let only_shebang = rest
        .lines()
        .all(|l| l.trim().is_empty() || l.starts_with("#!"));
    if only_shebang {
        sys.remove_file(name)?;
    } else {
        sys.write_atomic(name, rest.as_bytes(), file.executable)?;
    }
    Ok(true)
}

fn is_shell(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    first.starts_with("#!")
        && ["/sh", "bash", "zsh", "dash", " sh"]
            .iter()
            .any(|s| first.contains(s))
}

/// `text` with the marked block replaced by `with` (the first one; markers are ours).
fn replace_block(text: &str, with: &str) -> String {
    let Some(start) = text.find(BEGIN) else {
        return text.to_string();
    };
    let end = text[start..]
        .find(END)
        .map_or(text.len(), |e| start + e + END.len());
    let end = if text[end..].starts_with('\n') {
        end + 1
    } else {
        end
    };
    format!("{}{with}{}", &text[..start], &text[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_round_trips() {
        let hook = "#!/bin/bash\nset -e\nnpm test\n";
        let (first, rest) = hook.split_once('\n').unwrap();
        let block = block(HookMode::Check, Path::new("/opt/it's/aiwg"), ".");
        assert!(block.contains(r"aiwg_bin='/opt/it'\''s/aiwg'"), "{block}");
        let with = format!("{first}\n{block}{rest}");
        assert!(is_shell(hook));
        assert!(!is_shell("#!/usr/bin/env python3\n"));
        assert_eq!(replace_block(&with, ""), hook);
    }
}
