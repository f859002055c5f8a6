//! `generated = "ignore"` (issue 14): aiwg's one marked block in `.gitignore`, listing exactly
//! the files aiwg owns whole (in the lock and still wanted by the render, never a guessed
//! glob); how `check` sees such a file a clone has not deployed; and `aiwg generated
//! ignore|commit`, which switches modes in one command.
//!
//! Shared files (a section of `AGENTS.md`, keys of `.mcp.json` or a settings file) hold the
//! user's content too: they are never ignored and stay committed in both modes.

use std::collections::BTreeSet;

use aiwg_core::config::Generated;
use aiwg_core::target::{Part, Scope, TargetState};
use aiwg_core::RelPath;
use aiwg_deploy::{Lock, Mode, PlanItem, RealSystem, State, System as _, SystemError};

use crate::error::UserError;
use crate::project::Project;

/// The first line of aiwg's block in `.gitignore`.
pub const BEGIN: &str = "# aiwg:begin generated";
/// The last line of aiwg's block in `.gitignore`.
pub const END: &str = "# aiwg:end generated";
pub const FILE: &str = ".gitignore";
const COMMENT: &str =
    "# The files aiwg generates (`generated = \"ignore\"` in aiwg.toml); `aiwg apply` rewrites this block.";

/// The mode of a run: `aiwg.toml`'s `generated` in project scope; user scope is in no
/// repository, so always `commit` there.
pub fn mode(project: &Project, scope: Scope) -> Generated {
    match (scope, &project.config) {
        (Scope::Project, Some(config)) => config.generated,
        _ => Generated::Commit,
    }
}

/// The paths the render wants as whole files (never a section or merged keys: a path that
/// takes parts takes no whole file, `TargetState::insert` refuses the mix).
pub fn whole_files(target: &TargetState) -> BTreeSet<RelPath> {
    target
        .entries()
        .filter(|e| e.desired.part().is_whole())
        .map(|e| e.path.clone())
        .collect()
}

/// The paths to ignore: wanted whole by the render and recorded whole in `lock` (what aiwg
/// wrote). A path only the lock names (a hostile or stale lock) or only the render wants (not
/// written yet, or a user's file in the way) is never ignored.
pub fn ignored(lock: &Lock, wanted: &BTreeSet<RelPath>) -> Vec<RelPath> {
    wanted
        .iter()
        .filter(|p| lock.get(p, &Part::Whole).is_some())
        .cloned()
        .collect()
}

/// `path` as a `.gitignore` pattern matching exactly it: anchored with `/`, every character
/// git reads as a glob or strips (`\`, `*`, `?`, `[`, spaces) escaped. A `RelPath` holds no
/// control character or newline, so every path has one.
fn pattern(path: &RelPath) -> String {
    let text = path.as_str();
    let mut out = String::with_capacity(text.len() + 1);
    out.push('/');
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '?' | '[' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The paths aiwg's block in `text` lists, read back from their patterns.
fn listed(text: &str) -> BTreeSet<RelPath> {
    let mut inside = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let bare = line.trim_end_matches('\r');
        if bare == BEGIN {
            inside = true;
            continue;
        }
        if bare == END {
            break;
        }
        let Some(pattern) = bare.strip_prefix('/').filter(|_| inside) else {
            continue;
        };
        let mut path = String::with_capacity(pattern.len());
        let mut escaped = false;
        for c in pattern.chars() {
            if c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            escaped = false;
            path.push(c);
        }
        if let Ok(rel) = RelPath::new(&path) {
            out.insert(rel);
        }
    }
    out
}

/// The block listing `paths` (sorted, as given), in line ending `eol`; empty for no paths.
fn block(paths: &[RelPath], eol: &str) -> String {
    if paths.is_empty() {
        return String::new();
    }
    let mut out = format!("{BEGIN}{eol}{COMMENT}{eol}");
    for p in paths {
        out.push_str(&pattern(p));
        out.push_str(eol);
    }
    out.push_str(END);
    out.push_str(eol);
    out
}

/// `text` with aiwg's block replaced by `with` (`""` removes it), or `with` appended when
/// there is none. A second begin line, or a begin without its end (or an end without a
/// begin), is an error naming the line: the file is never guessed at.
fn splice(text: &str, with: &str) -> Result<String, String> {
    let mut begin = None;
    let mut end = None;
    let mut at = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let n = n + 1;
        if bare == BEGIN {
            if let Some((first, _)) = begin {
                return Err(format!(
                    "has a second `{BEGIN}` line (lines {first} and {n}): aiwg keeps one block"
                ));
            }
            begin = Some((n, at));
        } else if bare == END {
            match (begin, end) {
                (None, _) => return Err(format!("line {n}: `{END}` without `{BEGIN}` before it")),
                (Some(_), Some(_)) => {
                    return Err(format!("line {n}: a second `{END}`: aiwg keeps one block"))
                }
                (Some(_), None) => end = Some(at + line.len()),
            }
        }
        at += line.len();
    }
    match (begin, end) {
        (None, _) if with.is_empty() => Ok(text.to_string()),
        (None, _) => {
            let mut out = text.to_string();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push_str(eol_of(text));
            }
            out.push_str(with);
            Ok(out)
        }
        (Some((n, _)), None) => Err(format!("line {n}: `{BEGIN}` has no `{END}` after it")),
        (Some((_, start)), Some(end)) => Ok(format!("{}{with}{}", &text[..start], &text[end..])),
    }
}

/// The line ending `text` uses (CRLF when its first line ends in one).
fn eol_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// What `.gitignore` holds now, read through the state System (which never follows a symlink
/// at the path): `None` when there is none. A symlink, a folder or a block aiwg cannot read
/// is an error before anything is written.
fn current(sys: &RealSystem) -> anyhow::Result<Option<(String, bool)>> {
    let rel = RelPath::new(FILE).expect("valid");
    let data = match sys.read(&rel) {
        Ok(data) => data,
        Err(SystemError::Symlink { target, .. }) => {
            return Err(UserError::new(
                format!(
                    "`{FILE}` is a symlink (to `{}`): aiwg writes its ignore block only into a regular file",
                    aiwg_core::escape::escape(&target)
                ),
                "replace the link with a regular `.gitignore` (or set `generated = \"commit\"`), then run the command again",
            )
            .into())
        }
        Err(e) => {
            return Err(UserError::new(
                format!("cannot read `{FILE}`: {e}"),
                "make `.gitignore` a regular file, then run the command again",
            )
            .into())
        }
    };
    let Some(data) = data else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&data.bytes).into_owned();
    if let Err(why) = splice(&text, "") {
        return Err(UserError::new(
            format!("`{FILE}` {why}"),
            format!("fix aiwg's block (`{BEGIN}` … `{END}`) by hand, or delete it: `aiwg apply` writes it again"),
        )
        .into());
    }
    Ok(Some((text, data.executable)))
}

/// Takes aiwg's block out of `.gitignore` when there is one aiwg can read (a run in
/// `commit` mode; `aiwg generated commit`). Anything else there (a symlink, a broken block)
/// is left as it is: in this mode aiwg has nothing to write. Returns whether it changed.
pub fn remove_block(sys: &RealSystem) -> anyhow::Result<bool> {
    match current(sys) {
        // Written from the text just read, not read again.
        Ok(Some(now)) => sync_from(sys, now, &[]),
        _ => Ok(false),
    }
}

/// `text` (a `.gitignore`) without aiwg's block; as it is when the block cannot be read
/// (`aiwg uninstall` then leaves the file alone).
pub fn without_block(text: &str) -> String {
    splice(text, "").unwrap_or_else(|_| text.to_string())
}

/// After an apply or a removal wrote the lock: makes the block list the files aiwg now owns
/// whole among `wanted` (`generated = "ignore"`), or takes it out (`commit`, project scope),
/// and says so when `.gitignore` changed. Returns the listed paths and whether it changed.
pub fn update(
    project: &Project,
    d: &crate::pipeline::Deployment,
    wanted: &BTreeSet<RelPath>,
) -> anyhow::Result<(Vec<RelPath>, bool)> {
    let (ignored, changed) = match (mode(project, d.scope), d.scope) {
        (Generated::Ignore, _) => {
            let lock = d.engine().read_lock().map_err(crate::pipeline::explain)?;
            let ignored = ignored(&lock, wanted);
            let changed = sync(d.state_system(), &ignored)?;
            (ignored, changed)
        }
        (Generated::Commit, Scope::Project) => (Vec::new(), remove_block(d.state_system())?),
        (Generated::Commit, Scope::User) => (Vec::new(), false),
    };
    if changed {
        let file = d.display(&RelPath::new(FILE).expect("valid"));
        if ignored.is_empty() {
            crate::printer::say!("removed aiwg's block from `{file}`");
        } else {
            crate::printer::say!(
                "updated aiwg's block in `{file}`: {} kept out of git",
                crate::width::count(ignored.len(), "generated file")
            );
        }
    }
    Ok((ignored, changed))
}

/// After a rollback restored an older lock: the block keeps only the paths it listed that the
/// lock still records whole (nothing is rendered, so nothing is added; the next apply adds
/// what the restored files need).
pub fn after_rollback(project: &Project, d: &crate::pipeline::Deployment) -> anyhow::Result<()> {
    if mode(project, d.scope) != Generated::Ignore {
        return Ok(());
    }
    if let Some((text, _)) = current(d.state_system())? {
        update(project, d, &listed(&text))?;
    }
    Ok(())
}

/// Refuses a `.gitignore` aiwg could not write its block into, before an apply writes
/// anything.
pub fn preflight(sys: &RealSystem) -> anyhow::Result<()> {
    current(sys).map(drop)
}

/// [`preflight`] when `project` runs in ignore mode and the command writes (a removal, which
/// rewrites the block afterwards).
pub fn preflight_for(
    project: &Project,
    d: &crate::pipeline::Deployment,
    dry_run: bool,
) -> anyhow::Result<()> {
    if dry_run || mode(project, d.scope) != Generated::Ignore {
        return Ok(());
    }
    preflight(d.state_system())
}

/// Makes aiwg's block in `.gitignore` list exactly `paths` (none: no block, and a file left
/// empty is removed). Returns whether the file changed.
pub fn sync(sys: &RealSystem, paths: &[RelPath]) -> anyhow::Result<bool> {
    sync_from(sys, current(sys)?.unwrap_or_default(), paths)
}

/// [`sync`] from `now`, what [`current`] read of `.gitignore` (its text and executable bit).
fn sync_from(sys: &RealSystem, now: (String, bool), paths: &[RelPath]) -> anyhow::Result<bool> {
    let (text, executable) = now;
    let new = splice(&text, &block(paths, eol_of(&text))).expect("checked by current()");
    if new == text {
        return Ok(false);
    }
    let rel = RelPath::new(FILE).expect("valid");
    if new.is_empty() {
        sys.remove_file(&rel)?;
    } else {
        sys.write_atomic(&rel, new.as_bytes(), executable)?;
    }
    Ok(true)
}

/// The state `check` reports for `item` in ignore mode: `None` for a file aiwg owns whole
/// that this clone has not deployed and whose lock entry is exactly what the sources render
/// (the committed lock agrees with the sources: nothing to fix); `outdated` when the render
/// differs from the lock (the lock was not updated with the sources); else the item's state.
pub fn check_state(item: &PlanItem, lock: &Lock) -> Option<State> {
    let state = item.state();
    let undeployed = item.mode == Mode::File && item.old().is_none() && state == State::Missing;
    let (Some(new), Some(entry), true) = (
        item.new_data(),
        lock.get(&item.path, &Part::Whole),
        undeployed,
    ) else {
        return state.is_drift().then_some(state);
    };
    let same = entry.size == new.bytes.len() as u64
        && entry.executable == new.executable
        && entry.sha256 == aiwg_deploy::hash::sha256_hex(&new.bytes);
    (!same).then_some(State::Outdated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }

    #[test]
    fn patterns_match_exactly_one_path() {
        assert_eq!(pattern(&rel(".claude/agents/a.md")), "/.claude/agents/a.md");
        assert_eq!(pattern(&rel("x/[a]*? b.md")), "/x/\\[a]\\*\\?\\ b.md");
    }

    #[test]
    fn the_block_is_spliced_in_replaced_and_removed_exactly() {
        let paths = [rel("b.md"), rel("a b.md")];
        let one = block(&paths, "\n");
        assert_eq!(
            one,
            format!("{BEGIN}\n{COMMENT}\n/b.md\n/a\\ b.md\n{END}\n")
        );
        let user = "target/\n*.log";
        let with = splice(user, &one).unwrap();
        assert_eq!(with, format!("target/\n*.log\n{one}"));
        assert_eq!(
            splice(&with, &one).unwrap(),
            with,
            "a second splice changes nothing"
        );
        let other = block(&[rel("c.md")], "\n");
        let after = format!("{with}more\n");
        assert_eq!(
            splice(&after, &other).unwrap(),
            format!("target/\n*.log\n{other}more\n")
        );
        assert_eq!(splice(&after, "").unwrap(), "target/\n*.log\nmore\n");
        assert_eq!(splice("", "").unwrap(), "");
        assert_eq!(splice(&one, "").unwrap(), "");
        // CRLF files get CRLF lines.
        assert_eq!(eol_of("a\r\nb\r\n"), "\r\n");
        assert!(block(&paths, "\r\n").ends_with(&format!("{END}\r\n")));
        assert_eq!(block(&[], "\n"), "");
        // What the block lists reads back exactly, whatever it escapes.
        let odd = [rel("x/[a]*? b.md"), rel("y.md")];
        let text = format!("/not/ours\n{}", block(&odd, "\r\n"));
        assert_eq!(listed(&text), odd.into_iter().collect());
    }

    #[test]
    fn only_paths_both_the_render_and_the_lock_own_whole_are_ignored() {
        let entry = |path: &str, part: Part| aiwg_deploy::LockEntry {
            path: rel(path),
            mode: if part.is_whole() {
                Mode::File
            } else {
                Mode::Section
            },
            part,
            sha256: "00".into(),
            size: 0,
            executable: false,
            origin: aiwg_core::target::Origin::new(".aiwg", "agent:a", vec![]),
            keys: vec![],
        };
        let mut lock = Lock::new();
        lock.insert(entry("a.md", Part::Whole));
        // A hostile or stale lock naming a user's file: never ignored.
        lock.insert(entry("src/main.rs", Part::Whole));
        lock.insert(entry("AGENTS.md", Part::parse("section:rules").unwrap()));
        let wanted: BTreeSet<RelPath> = ["a.md", "b.md", "AGENTS.md"].map(rel).into();
        assert_eq!(ignored(&lock, &wanted), vec![rel("a.md")]);
    }

    #[test]
    fn a_broken_block_is_an_error_naming_the_line() {
        for (text, says) in [
            (
                format!("{BEGIN}\n/a\n"),
                "line 1: `# aiwg:begin generated` has no",
            ),
            (
                format!("x\n{END}\n"),
                "line 2: `# aiwg:end generated` without",
            ),
            (format!("{BEGIN}\n{END}\n{BEGIN}\n{END}\n"), "lines 1 and 3"),
            (format!("{BEGIN}\n{END}\n{END}\n"), "line 3: a second"),
        ] {
            let err = splice(&text, "").unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
