//! `aiwg hook install|uninstall`: a git pre-commit hook running `aiwg check`.
//!
//! The hook is a marked block (`# aiwg:begin pre-commit` … `# aiwg:end pre-commit`). A hook
//! file that already exists and is a shell script gets the block inserted right after its
//! first line, so it runs first; any other existing hook is left alone (with a hint).
//! Uninstall removes only the block, and the file when nothing but the shebang is left.

use std::path::{Path, PathBuf};

use aiwg_core::RelPath;
use aiwg_deploy::{RealSystem, System as _};
use anyhow::Context as _;

use crate::cli::HookCommand;
use crate::commands::{Context, UserError};
use crate::project::{display_relative, Project};

const BEGIN: &str = "# aiwg:begin pre-commit";
const END: &str = "# aiwg:end pre-commit";

fn block() -> String {
    format!(
        "{BEGIN}\n\
         # Keeps every AI platform's copy of the context in sync (`aiwg hook uninstall` removes this).\n\
         if command -v aiwg >/dev/null 2>&1; then\n\
         \x20 aiwg check || {{ echo \"aiwg: platform copies are out of date: run \\`aiwg apply\\` (\\`aiwg diff\\` shows why)\" >&2; exit 1; }}\n\
         else\n\
         \x20 echo \"aiwg: not on PATH; skipping \\`aiwg check\\`\" >&2\n\
         fi\n\
         {END}\n"
    )
}

/// The folder git runs hooks from: `core.hooksPath` when set, else `<common git dir>/hooks`.
fn hooks_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let dot_git = root.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else if dot_git.is_file() {
        // A worktree or submodule: `gitdir: <path>`.
        let text = std::fs::read_to_string(&dot_git)
            .with_context(|| format!("cannot read `{}`", dot_git.display()))?;
        let dir = text
            .trim()
            .strip_prefix("gitdir:")
            .map(|d| root.join(d.trim()))
            .ok_or_else(|| anyhow::anyhow!("`{}` does not name a git folder", dot_git.display()))?;
        match std::fs::read_to_string(dir.join("commondir")) {
            Ok(common) => dir.join(common.trim()),
            Err(_) => dir,
        }
    } else {
        return Err(UserError::new(
            format!(
                "`{}` is not a git repository",
                display_relative(root).display()
            ),
            "run `git init` first, or run aiwg in the repository",
        )
        .into());
    };
    let config = std::fs::read_to_string(git_dir.join("config")).unwrap_or_default();
    let hooks_path = config.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("hookspath")
            .then(|| v.trim().trim_matches('"').to_string())
    });
    Ok(match hooks_path {
        Some(p) => root.join(p),
        None => git_dir.join("hooks"),
    })
}

/// Runs `aiwg hook install|uninstall`.
pub fn run(ctx: &Context, command: &HookCommand) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let dir = hooks_dir(&project.root)?;
    let sys = RealSystem::new(&dir)?;
    let name = RelPath::new("pre-commit").expect("valid");
    let shown = display_relative(&dir.join("pre-commit"));
    let current = sys.read(&name)?;
    let text = current
        .as_ref()
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned());
    match command {
        HookCommand::Install => {
            let new = match &text {
                None => format!("#!/bin/sh\n{}", block()),
                Some(t) if t.contains(BEGIN) => {
                    let replaced = replace_block(t, &block());
                    if replaced == *t {
                        eprintln!("the hook is already installed in `{}`", shown.display());
                        return Ok(0);
                    }
                    replaced
                }
                Some(t) if is_shell(t) => {
                    let (first, rest) = t.split_once('\n').unwrap_or((t, ""));
                    format!("{first}\n{}{rest}", block())
                }
                Some(_) => {
                    return Err(UserError::new(
                        format!("`{}` exists and is not a shell script", shown.display()),
                        "add `aiwg check` to it yourself (exit 1 on its failure)",
                    )
                    .into())
                }
            };
            sys.write_atomic(&name, new.as_bytes(), true)?;
            eprintln!("installed `aiwg check` in `{}`", shown.display());
        }
        HookCommand::Uninstall => {
            let Some(t) = text.filter(|t| t.contains(BEGIN)) else {
                eprintln!("no aiwg hook is installed in `{}`", shown.display());
                return Ok(0);
            };
            let rest = replace_block(&t, "");
            let only_shebang = rest
                .lines()
                .all(|l| l.trim().is_empty() || l.starts_with("#!"));
            if only_shebang {
                sys.remove_file(&name)?;
            } else {
                let executable = current.is_some_and(|f| f.executable);
                sys.write_atomic(&name, rest.as_bytes(), executable)?;
            }
            eprintln!("removed `aiwg check` from `{}`", shown.display());
        }
    }
    Ok(0)
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
        let with = format!("{first}\n{}{rest}", block());
        assert!(is_shell(hook));
        assert!(!is_shell("#!/usr/bin/env python3\n"));
        assert_eq!(replace_block(&with, ""), hook);
    }
}
