//! Asking git, by running it: where hooks live, the work tree's top, what the index holds,
//! copying staged files out, staging files, and tracking or untracking exact paths
//! (`generated = "ignore"`). aiwg never reads git's own files itself, so
//! every rule git applies (`core.hooksPath` from any config level, worktrees, submodules)
//! is git's.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;

use crate::error::UserError;

/// Runs `git -C dir args...` and returns its stdout; a failure is an error naming git's
/// own message.
pub fn run<I, S>(dir: &Path, args: I) -> anyhow::Result<Vec<u8>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_with_input(dir, args, None)
}

fn run_with_input<I, S>(dir: &Path, args: I, input: Option<&[u8]>) -> anyhow::Result<Vec<u8>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(&args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            UserError::new(
                format!("cannot run `git {shown}`: {e}"),
                "install git, or put it on `PATH`",
            )
        })?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(bytes)
            .with_context(|| format!("cannot write to `git {shown}`"))?;
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("cannot run `git {shown}`"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(anyhow::anyhow!(
            "`git {shown}` failed: {}",
            why.trim().trim_start_matches("fatal: ")
        ));
    }
    Ok(out.stdout)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

/// The top folder of the work tree `dir` is in, or a user error when it is in none.
pub fn toplevel(dir: &Path) -> anyhow::Result<PathBuf> {
    match run(dir, ["rev-parse", "--show-toplevel"]) {
        Ok(out) => Ok(PathBuf::from(text(out))),
        Err(_) => Err(UserError::new(
            format!(
                "`{}` is not in a git work tree",
                crate::project::display_relative(dir).display()
            ),
            "run `git init` first, or run aiwg in the repository",
        )
        .into()),
    }
}

/// The folder git runs this repository's hooks from, as git itself resolves it
/// (`git rev-parse --git-path hooks`: `core.hooksPath` from any config level, worktrees).
pub fn hooks_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    toplevel(dir)?;
    let out = text(run(dir, ["rev-parse", "--git-path", "hooks"])?);
    Ok(dir.join(out))
}

/// Every path in the index of the work tree at `top`, relative to it.
pub fn staged_paths(top: &Path) -> anyhow::Result<Vec<String>> {
    let out = run(top, ["ls-files", "-z", "--cached", "--full-name"])?;
    Ok(out
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

/// Writes the staged content of `paths` (relative to `top`, all in the index) under `dest`,
/// with their modes, as `git checkout-index` does.
pub fn export_staged(top: &Path, paths: &[&str], dest: &Path) -> anyhow::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut prefix = dest.as_os_str().to_owned();
    prefix.push("/");
    let mut arg = std::ffi::OsString::from("--prefix=");
    arg.push(prefix);
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.as_bytes());
        input.push(0);
    }
    run_with_input(
        top,
        [
            OsStr::new("checkout-index"),
            OsStr::new("--force"),
            OsStr::new("-z"),
            OsStr::new("--stdin"),
            &arg,
        ],
        Some(&input),
    )?;
    Ok(())
}

/// Stages `paths` (relative to `dir`) as they are now in the work tree, removals included.
pub fn add(dir: &Path, paths: &[String]) -> anyhow::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut args = vec!["add".to_string(), "-A".into(), "--".into()];
    args.extend(paths.iter().cloned());
    run(dir, &args)?;
    Ok(())
}

/// The pathspec arguments for exactly `paths` (no glob or magic), after `args`.
fn literal(args: &[&str], paths: &[String]) -> Vec<String> {
    let mut out = vec!["--literal-pathspecs".to_string()];
    out.extend(args.iter().map(|a| a.to_string()));
    out.push("--".into());
    out.extend(paths.iter().cloned());
    out
}

/// Which of `paths` (relative to `dir`) are in the index, as git names them from `dir`.
pub fn tracked(dir: &Path, paths: &[String]) -> anyhow::Result<Vec<String>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let out = run(dir, literal(&["ls-files", "-z", "--cached"], paths))?;
    Ok(nul_list(&out))
}

/// Which of `paths` are untracked and not ignored (what `git status` lists as untracked).
pub fn untracked(dir: &Path, paths: &[String]) -> anyhow::Result<Vec<String>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let args = ["ls-files", "-z", "--others", "--exclude-standard"];
    Ok(nul_list(&run(dir, literal(&args, paths))?))
}

/// Takes `paths` out of the index and leaves the work tree alone (`git rm --cached`). Git
/// refuses, and nothing is removed, when a path's staged content matches neither `HEAD` nor
/// the file: only the index holds it then.
pub fn untrack(dir: &Path, paths: &[String]) -> anyhow::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    run(dir, literal(&["rm", "--cached", "-q"], paths)).map_err(|e| {
        UserError::new(
            format!("{e:#}"),
            "commit or unstage those changes first (`git restore --staged <path>`), then run the command again",
        )
    })?;
    Ok(())
}

fn nul_list(out: &[u8]) -> Vec<String> {
    out.split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}
