//! `aiwg hook install|uninstall`: a git pre-commit hook running `aiwg check --staged` (mode
//! `check`) or `aiwg apply --stage` (mode `apply`); with `generated = "ignore"`, also
//! post-checkout and post-merge hooks running `aiwg apply -q`, so a checkout or a pull
//! deploys the files git no longer carries.
//!
//! The hook goes where git runs hooks, as git itself says (`git rev-parse --git-path hooks`,
//! which honours `core.hooksPath` at every config level and worktrees). It is a marked block
//! (`# aiwg:begin pre-commit` … `# aiwg:end pre-commit`). A hook file that already exists and
//! is a shell script gets the block inserted right after its first line, so it runs first;
//! any other existing hook is left alone (with a hint). Uninstall removes only the block, and
//! the file when nothing but the shebang is left. When `aiwg` cannot be found at commit time
//! (not on `PATH`, and not where it was at install), the hook fails loudly: a check that
//! cannot run must never pass. The post-checkout and post-merge blocks (`# aiwg:begin
//! post-checkout` …) never stop git nor skip the rest of the hook: a failed apply (consent
//! missing: stdin is `/dev/null`, so it never waits for an answer) is said on stderr.

use std::path::Path;

use aiwg_core::RelPath;
use aiwg_deploy::{RealSystem, System as _};

use crate::cli::{HookCommand, HookMode};
use crate::commands::{Context, UserError};
use crate::git;
use crate::project::{display_relative, Project};

/// The first line of the block; also how `doctor` recognises the hook.
pub const BEGIN: &str = "# aiwg:begin pre-commit";

/// The hooks that deploy after git changed the work tree (`generated = "ignore"`).
pub const DEPLOY_HOOKS: [&str; 2] = ["post-checkout", "post-merge"];

/// Every hook aiwg may install.
pub const HOOKS: [&str; 3] = ["pre-commit", DEPLOY_HOOKS[0], DEPLOY_HOOKS[1]];

/// The first and last line of aiwg's block in hook `name`.
fn markers(name: &str) -> (String, String) {
    (format!("# aiwg:begin {name}"), format!("# aiwg:end {name}"))
}

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
    let (_, end) = markers("pre-commit");
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
         {end}\n"
    )
}

/// The block of a deploy hook (`post-checkout`, `post-merge`): `aiwg apply -q` in `project`,
/// with stdin from `/dev/null` (consent is never asked in a hook: a project that needs it
/// fails closed, saying so), only after a branch checkout (a file checkout changes no
/// source) and where `aiwg.toml` is (a `core.hooksPath` shared by other repositories runs it
/// there too), and ending with status 0 without exiting, so the rest of the hook runs and git's
/// own exit status is untouched.
fn deploy_block(name: &str, fallback: &Path, project: &str) -> String {
    let (begin, end) = markers(name);
    let fallback = sh_quote(&fallback.to_string_lossy());
    let project = sh_quote(project);
    // post-checkout's third argument is 1 for a branch checkout, 0 for a file checkout; its
    // first is the null object (all zeros) in the checkout `git clone` makes. A fresh clone is
    // someone else's repository the user has not run aiwg in yet (README: "in a fresh clone,
    // run `aiwg apply`"), and a shared `core.hooksPath` or template folder would otherwise
    // apply every repository cloned anywhere.
    let when = if name == "post-checkout" {
        "[ \"$3\" = 1 ] && case \"$1\" in *[!0]*) true ;; *) false ;; esac"
    } else {
        "true"
    };
    format!(
        "{begin}\n\
         # Deploys the files aiwg generates, which this repository keeps out of git (`aiwg hook uninstall` removes this).\n\
         if {when} && [ -f {project}/aiwg.toml ]; then\n\
         \x20 aiwg_bin=$(command -v aiwg 2>/dev/null) || aiwg_bin={fallback}\n\
         \x20 if [ ! -x \"$aiwg_bin\" ]; then\n\
         \x20   echo \"aiwg: cannot find aiwg (not on PATH, not at \"{fallback}\"): the generated files were not deployed\" >&2\n\
         \x20 elif ! \"$aiwg_bin\" -C {project} apply -q </dev/null; then\n\
         \x20   echo \"aiwg: the generated files were not deployed after {name}: run \\`aiwg apply\\` to see why\" >&2\n\
         \x20 fi\n\
         fi\n\
         {end}\n"
    )
}

/// Runs `aiwg hook install|uninstall`.
pub fn run(ctx: &Context, command: &HookCommand) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let dir = git::hooks_dir(&project.root)?;
    let top = std::fs::canonicalize(git::toplevel(&project.root)?)?;
    let shown = |name: &str| display_relative(&dir.join(name));
    if matches!(command, HookCommand::Uninstall) && !dir.is_dir() {
        crate::printer::say!(
            "no aiwg hook is installed in `{}`",
            shown("pre-commit").display()
        );
        return Ok(0);
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        anyhow::anyhow!("cannot create `{}`: {e}", display_relative(&dir).display())
    })?;
    let sys = RealSystem::new(&dir)?;
    match command {
        HookCommand::Install { mode } => {
            let root = std::fs::canonicalize(&project.root)?;
            let below = root.strip_prefix(&top).unwrap_or(Path::new(""));
            let below = match below.to_string_lossy().replace('\\', "/") {
                b if b.is_empty() => ".".to_string(),
                b => b,
            };
            let exe = std::env::current_exe()?;
            let what = match mode {
                HookMode::Check => "`aiwg check --staged`",
                HookMode::Apply => "`aiwg apply --stage`",
            };
            match install(&sys, "pre-commit", &block(*mode, &exe, &below))? {
                Installed::Written => {
                    crate::printer::say!("installed {what} in `{}`", shown("pre-commit").display())
                }
                Installed::Already => crate::printer::say!(
                    "the hook is already installed in `{}`",
                    shown("pre-commit").display()
                ),
                Installed::Foreign => {
                    return Err(UserError::new(
                        format!(
                            "`{}` exists and is not a shell script",
                            shown("pre-commit").display()
                        ),
                        "add `aiwg check --staged` to it yourself (exit 1 on its failure)",
                    )
                    .into())
                }
            }
            // With `generated = "ignore"` a checkout or a pull deploys what git no longer
            // carries; in `commit` mode git carries it, and the deploy hooks go.
            let ignore = crate::generated::mode(&project, aiwg_core::target::Scope::Project)
                == aiwg_core::config::Generated::Ignore;
            for name in DEPLOY_HOOKS {
                if !ignore {
                    if remove_named(&sys, name)? {
                        crate::printer::say!(
                            "removed aiwg's `apply` from `{}` (`generated = \"commit\"`: git carries the files)",
                            shown(name).display()
                        );
                    }
                    continue;
                }
                match install(&sys, name, &deploy_block(name, &exe, &below))? {
                    Installed::Written => crate::printer::say!(
                        "installed `aiwg apply -q` in `{}`",
                        shown(name).display()
                    ),
                    Installed::Already => {}
                    Installed::Foreign => crate::printer::say!(
                        "warning: `{}` exists and is not a shell script: add `aiwg apply -q` to it yourself (a checkout or pull does not deploy the ignored files until then)",
                        shown(name).display()
                    ),
                }
            }
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
            let mut any = false;
            for name in HOOKS {
                if remove_named(&sys, name)? {
                    any = true;
                    crate::printer::say!("removed the aiwg hook from `{}`", shown(name).display());
                }
            }
            if !any {
                crate::printer::say!(
                    "no aiwg hook is installed in `{}`",
                    shown("pre-commit").display()
                );
            }
        }
    }
    Ok(0)
}

/// What [`install`] did.
enum Installed {
    Written,
    Already,
    /// The hook exists and is not a shell script: left alone.
    Foreign,
}

/// Puts `block` into hook `name`: a new file, aiwg's block replaced, or the block inserted
/// after the shebang of an existing shell script (so it runs first).
fn install(sys: &RealSystem, name: &str, block: &str) -> anyhow::Result<Installed> {
    let rel = RelPath::new(name).expect("valid");
    let text = sys
        .read(&rel)?
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned());
    let (begin, end) = markers(name);
    let new = match &text {
        None => format!("#!/bin/sh\n{block}"),
        Some(t) if t.contains(&begin) => {
            let replaced = replace_block(t, &begin, &end, block);
            if replaced == *t {
                return Ok(Installed::Already);
            }
            replaced
        }
        Some(t) if is_shell(t) => {
            let (first, rest) = t.split_once('\n').unwrap_or((t, ""));
            format!("{first}\n{block}{rest}")
        }
        Some(_) => return Ok(Installed::Foreign),
    };
    sys.write_atomic(&rel, new.as_bytes(), true)?;
    Ok(Installed::Written)
}

/// Takes aiwg's blocks out of the hooks of the project at `root` (pre-commit, and the deploy
/// hooks of `generated = "ignore"`); true when there was one.
pub fn uninstall(root: &Path) -> anyhow::Result<bool> {
    let dir = git::hooks_dir(root)?;
    if !dir.is_dir() {
        return Ok(false);
    }
    let sys = RealSystem::new(&dir)?;
    let mut any = false;
    for name in HOOKS {
        any |= remove_named(&sys, name)?;
    }
    Ok(any)
}

/// Whether hook `name` in `dir` holds aiwg's block.
pub fn has_block(dir: &Path, name: &str) -> bool {
    let (begin, _) = markers(name);
    std::fs::read_to_string(dir.join(name)).is_ok_and(|t| t.contains(&begin))
}

/// Removes aiwg's block from hook `name`, and the file when nothing but the shebang is left;
/// false when there is no block.
fn remove_named(sys: &RealSystem, name: &str) -> anyhow::Result<bool> {
    let rel = RelPath::new(name).expect("valid");
    let Some(file) = sys.read(&rel)? else {
        return Ok(false);
    };
    let (begin, end) = markers(name);
    let text = String::from_utf8_lossy(&file.bytes).into_owned();
    if !text.contains(&begin) {
        return Ok(false);
    }
    let rest = replace_block(&text, &begin, &end, "");
    let only_shebang = rest
        .lines()
        .all(|l| l.trim().is_empty() || l.starts_with("#!"));
    if only_shebang {
        sys.remove_file(&rel)?;
    } else {
        sys.write_atomic(&rel, rest.as_bytes(), file.executable)?;
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

/// `text` with the block from `begin` to `end` replaced by `with` (the first one; markers
/// are ours).
fn replace_block(text: &str, begin: &str, end: &str, with: &str) -> String {
    let Some(start) = text.find(begin) else {
        return text.to_string();
    };
    let end = text[start..]
        .find(end)
        .map_or(text.len(), |e| start + e + end.len());
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
        let (begin, end) = markers("pre-commit");
        assert_eq!(begin, BEGIN);
        assert_eq!(replace_block(&with, &begin, &end, ""), hook);
        let deploy = deploy_block("post-checkout", Path::new("/bin/aiwg"), "sub dir");
        assert!(
            deploy.contains("if [ \"$3\" = 1 ] && case \"$1\" in *[!0]*) true ;; *) false ;; esac && [ -f 'sub dir'/aiwg.toml ]; then"),
            "{deploy}"
        );
        assert!(
            deploy.contains("-C 'sub dir' apply -q </dev/null"),
            "{deploy}"
        );
        assert!(!deploy.contains("exit"), "{deploy}");
        let with = format!("{first}\n{deploy}{rest}");
        let (begin, end) = markers("post-checkout");
        assert_eq!(replace_block(&with, &begin, &end, ""), hook);
    }
}
