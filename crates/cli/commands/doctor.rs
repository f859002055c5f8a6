//! `aiwg doctor`: one line per thing that can stand between a project and its platforms —
//! config, lock, sources, trust state, platform folders, hand edits, the git hook, line endings, the
//! history's ignore rule, the personal overlay — each `ok`, `warning` or `error`, with a `hint:` for the last two.
//! It writes nothing; exit 1 when any line is an error.

use std::io::Write as _;
use std::path::Path;

use aiwg_core::config::CONFIG_FILE;
use aiwg_core::Model;
use aiwg_deploy::State;

use crate::cli::TargetArgs;
use crate::commands::Context;
use crate::pipeline::{self, Deployment};
use crate::project::{self, Project};
use crate::{git, style, trust};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Ok,
    Warning,
    Error,
}

/// One line of the report.
struct Line {
    level: Level,
    topic: &'static str,
    message: String,
    hint: Option<String>,
}

fn ok(topic: &'static str, message: impl Into<String>) -> Line {
    Line {
        level: Level::Ok,
        topic,
        message: message.into(),
        hint: None,
    }
}

fn warning(topic: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Line {
    Line {
        level: Level::Warning,
        topic,
        message: message.into(),
        hint: Some(hint.into()),
    }
}

fn error(topic: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Line {
    Line {
        level: Level::Error,
        topic,
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// Runs `aiwg doctor`.
pub fn run(ctx: &Context, target: &TargetArgs) -> anyhow::Result<u8> {
    let lines = diagnose(ctx, target);
    let mut out = std::io::stdout().lock();
    let topic_width = lines.iter().map(|l| l.topic.len()).max().unwrap_or(0);
    for line in &lines {
        let (word, painted) = match line.level {
            Level::Ok => ("ok", style::OK),
            Level::Warning => ("warning", style::WARNING),
            Level::Error => ("error", style::ERROR),
        };
        let word = style::paint(ctx.color, painted, &format!("{word:7}"));
        writeln!(out, "{word} {:topic_width$}  {}", line.topic, line.message)?;
        if let Some(hint) = &line.hint {
            writeln!(out, "{:7} {:topic_width$}  hint: {hint}", "", "")?;
        }
    }
    let errors = lines.iter().filter(|l| l.level == Level::Error).count();
    let warnings = lines.iter().filter(|l| l.level == Level::Warning).count();
    drop(out);
    crate::printer::say!("{}, {}", count(errors, "error"), count(warnings, "warning"));
    Ok(u8::from(errors > 0))
}

/// Every check, in the order a fix would go.
fn diagnose(ctx: &Context, target: &TargetArgs) -> Vec<Line> {
    let mut lines = Vec::new();
    let project = match Project::open(&ctx.cwd, target.scope) {
        Ok(p) => p,
        Err(e) => {
            lines.push(error(
                "config",
                format!("{e:#}"),
                "fix `aiwg.toml` (the line above names the place)",
            ));
            return lines;
        }
    };
    // doctor never asks: what waits for consent is a line, and nothing it guards is read.
    let waiting = |items: Vec<trust::Item>| -> Vec<trust::Item> {
        items
            .into_iter()
            .filter(|i| !trust::allowed(&project, i))
            .collect()
    };
    if target.scope.is_none() {
        if let Some(item) = waiting(trust::user_scope_item(&project).into_iter().collect()).first()
        {
            lines.push(error(
                "trust",
                format!("not checked further: {}", item.describe()),
                "`aiwg trust` shows what the project asks for and allows it (`--allow-user-scope` for one run)",
            ));
            return lines;
        }
    }
    let scope = match pipeline::scope(&project, target.scope) {
        Ok(scope) => scope,
        Err(e) => {
            lines.push(error(
                "config",
                format!("{e:#}"),
                "`aiwg trust` shows what the project asks for and allows it",
            ));
            return lines;
        }
    };
    match &project.config {
        Some(c) => lines.push(ok(
            "config",
            format!(
                "`{}`: {}, {}",
                project::display_relative(&project.config_path()).display(),
                count(project.source_specs().len(), "source"),
                if c.platforms.is_empty() {
                    "the default platforms".to_string()
                } else {
                    count(c.platforms.len(), "platform")
                }
            ),
        )),
        None => {
            lines.push(error(
                "config",
                format!("no `{CONFIG_FILE}` {}", project::in_folder(&project.root)),
                "`aiwg use sdlc` (or `aiwg use .aiwg`) creates it",
            ));
            return lines;
        }
    }
    let deployment = match Deployment::open(&project, scope) {
        Ok(d) => d,
        Err(e) => {
            lines.push(error(
                "folders",
                format!("{e:#}"),
                "create the folder, or fix its permissions",
            ));
            return lines;
        }
    };
    let lock = match deployment.engine().read_lock() {
        Ok(lock) => {
            lines.push(ok(
                "lock",
                format!("{} recorded", count(lock.len(), "managed part")),
            ));
            Some(lock)
        }
        Err(e) => {
            let e = pipeline::explain(e);
            lines.push(error(
                "lock",
                format!("{e:#}"),
                "restore `aiwg.lock` from git (`git checkout aiwg.lock`)",
            ));
            None
        }
    };
    // A git source is fetched only with consent, like a folder outside is read.
    let mut reach = trust::outside_sources(&project);
    reach.extend(trust::git_sources(&project));
    let outside = waiting(reach);
    let model = match outside.first() {
        None => sources(&project, &mut lines),
        Some(first) => {
            let more = match outside.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            lines.push(warning(
                "sources",
                format!("not read: {}{more}", first.describe()),
                "`aiwg trust` shows what the project asks for and allows it",
            ));
            None
        }
    };
    trust_state(&project, model.as_ref(), &mut lines);
    let platforms = match pipeline::select(&project, scope, &target.platforms) {
        Ok(s) => s,
        Err(e) => {
            lines.push(error(
                "platforms",
                format!("{e:#}"),
                "fix `platforms` in `aiwg.toml`",
            ));
            return lines;
        }
    };
    if let (Some(model), Some(_)) = (model, &lock) {
        match pipeline::render_model(&project, &model, &platforms.platforms, scope) {
            Ok(rendered) => {
                writable(&deployment, &rendered.target, &mut lines);
                drift(
                    &deployment,
                    &rendered.target,
                    platforms.only.as_deref(),
                    &mut lines,
                );
            }
            Err(e) => lines.push(error(
                "platforms",
                format!("{e:#}"),
                "`aiwg apply` says the same, with the hint",
            )),
        }
    }
    if scope == aiwg_core::target::Scope::Project {
        git_checks(&project, &mut lines);
    }
    lines
}

/// Loads the sources: errors and warnings counted on one line (`aiwg validate` lists them).
fn sources(project: &Project, lines: &mut Vec<Line>) -> Option<Model> {
    let mut read = Vec::new();
    for spec in project.source_specs() {
        match project::resolve(&spec, &project.root) {
            Ok(source) => read.push(source),
            Err(e) => {
                lines.push(error(
                    "sources",
                    format!("{e:#}"),
                    "fix `sources` in `aiwg.toml`",
                ));
                return None;
            }
        }
    }
    let loaded = project::load_sources(read).loaded;
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    let artifacts = loaded.artifacts.len();
    if errors > 0 {
        lines.push(error(
            "sources",
            format!(
                "{}, {} in {}",
                count(errors, "error"),
                count(warnings, "warning"),
                count(artifacts, "artifact")
            ),
            "`aiwg validate` lists them",
        ));
        return None;
    }
    if warnings > 0 {
        lines.push(warning(
            "sources",
            format!(
                "{} valid, {}",
                count(artifacts, "artifact"),
                count(warnings, "warning")
            ),
            "`aiwg validate` lists them",
        ));
    } else {
        lines.push(ok(
            "sources",
            format!("{} valid", count(artifacts, "artifact")),
        ));
    }
    Some(Model {
        artifacts: loaded.artifacts,
    })
}

/// What the project asks for that needs consent (`scope = "user"`, a source outside it, a
/// hook of its own) and whether the user allowed it: read from the trust record, never asked.
fn trust_state(project: &Project, model: Option<&Model>, lines: &mut Vec<Line>) {
    use crate::trust::Item;
    // The user's own `$AIWG_HOME/aiwg.toml` needs no consent: the user wrote it.
    if project.user_scope {
        return;
    }
    let mut items: Vec<Item> = trust::user_scope_item(project).into_iter().collect();
    items.extend(trust::outside_sources(project));
    items.extend(trust::git_sources(project));
    match model {
        Some(model) => {
            let own = trust::hooks(project, model)
                .into_iter()
                .filter(|h| !h.bundled);
            items.extend(own.map(Item::Hook));
        }
        // Sources that do not load name no hooks: nothing to say beyond the error above.
        None if items.is_empty() => return,
        None => {}
    }
    let missing: Vec<&Item> = items
        .iter()
        .filter(|i| !trust::allowed(project, i))
        .collect();
    lines.push(match (items.len(), missing.first()) {
        (0, _) => ok(
            "trust",
            "nothing here needs consent (no hook of its own, no user scope, no source outside)",
        ),
        (n, None) => ok("trust", format!("{} allowed", count(n, "item"))),
        (_, Some(first)) => {
            let more = match missing.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            warning(
                "trust",
                format!("needs your consent: {}{more}", first.describe()),
                "`aiwg trust` shows what the project asks for and allows it",
            )
        }
    });
}

/// Every existing top folder the platforms write into must take a new file.
fn writable(d: &Deployment, state: &aiwg_core::target::TargetState, lines: &mut Vec<Line>) {
    let mut tops: Vec<String> = state
        .entries()
        .filter_map(|e| {
            let path = e.path.as_str();
            path.split_once('/').map(|(top, _)| top.to_string())
        })
        .collect();
    tops.sort();
    tops.dedup();
    let root = d.target_root();
    let mut refused = Vec::new();
    for top in &tops {
        let dir = root.join(top);
        // A folder that does not exist yet is made by apply, in the root tested below.
        let probe = if dir.is_dir() {
            dir
        } else {
            root.to_path_buf()
        };
        // An unnamed temp file, gone when dropped: nothing is left behind.
        if tempfile::tempfile_in(&probe).is_err() {
            refused.push(project::display_relative(&probe).display().to_string());
        }
    }
    refused.dedup();
    if refused.is_empty() {
        lines.push(ok(
            "folders",
            format!("{} writable", count(tops.len().max(1), "platform folder")),
        ));
    } else {
        lines.push(error(
            "folders",
            format!("cannot write in {}", refused.join(", ")),
            "fix the folders' permissions (or ownership), then run `aiwg apply`",
        ));
    }
}

/// Managed files edited by hand are errors (apply stops on them); outdated or missing ones
/// are warnings (apply fixes them).
fn drift(
    d: &Deployment,
    state: &aiwg_core::target::TargetState,
    only: Option<&[String]>,
    lines: &mut Vec<Line>,
) {
    let plan = match d.plan(state, only) {
        Ok((plan, _)) => plan,
        Err(e) => {
            lines.push(error(
                "managed",
                format!("{e:#}"),
                "`aiwg status` shows each file",
            ));
            return;
        }
    };
    let edited: Vec<String> = plan
        .items
        .iter()
        .filter(|i| matches!(i.state(), State::Edited | State::Conflict))
        .map(|i| d.display(&i.path))
        .collect();
    let behind = plan.items.iter().filter(|i| i.state().is_drift()).count() - edited.len();
    if !edited.is_empty() {
        let mut shown: Vec<String> = edited.iter().take(3).map(|p| format!("`{p}`")).collect();
        if edited.len() > 3 {
            shown.push(format!("and {} more", edited.len() - 3));
        }
        lines.push(error(
            "managed",
            format!("{} edited by hand or in the way: {}", count(edited.len(), "file"), shown.join(", ")),
            "`aiwg diff` shows each edit; move it into the source, or `aiwg apply --force` (a backup is kept)",
        ));
    } else if behind > 0 {
        lines.push(warning(
            "managed",
            format!("{} out of date", count(behind, "file")),
            "`aiwg apply` brings them up to date",
        ));
    } else {
        lines.push(ok(
            "managed",
            format!("{} as aiwg wrote them", count(plan.items.len(), "file")),
        ));
    }
}

/// The hook, line endings and the history's ignore rule: only in a git work tree.
fn git_checks(project: &Project, lines: &mut Vec<Line>) {
    let Ok(hooks) = git::hooks_dir(&project.root) else {
        lines.push(ok(
            "git",
            "not a git work tree: no hook, no line-ending conversion",
        ));
        return;
    };
    lines.push(hook(&hooks.join("pre-commit")));
    if crate::generated::mode(project, aiwg_core::target::Scope::Project)
        == aiwg_core::config::Generated::Ignore
    {
        let installed = super::hook::DEPLOY_HOOKS
            .iter()
            .all(|name| super::hook::has_block(&hooks, name));
        lines.push(if installed {
            ok(
                "generated",
                "kept out of git; the post-checkout and post-merge hooks deploy them",
            )
        } else {
            warning(
                "generated",
                "kept out of git, and no post-checkout and post-merge hooks: a checkout or a pull does not deploy them",
                "`aiwg hook install` adds them (or run `aiwg apply` after each checkout)",
            )
        });
    }
    lines.push(line_endings(&project.root));
    let history = format!("{}/history/", project::DEFAULT_SOURCE);
    let ignored = git::run(
        &project.root,
        ["check-ignore", "-q", "--no-index", &history],
    )
    .is_ok();
    if ignored
        || !project
            .root
            .join(project::DEFAULT_SOURCE)
            .join("history")
            .exists()
    {
        lines.push(ok(
            "history",
            "`.aiwg/history/` is ignored by git (or not there yet)",
        ));
    } else {
        lines.push(warning(
            "history",
            "`.aiwg/history/` is not ignored by git: old bytes of managed files could be committed",
            "add `.aiwg/history/` to `.git/info/exclude` or `.gitignore` (`aiwg apply` does when it writes history)",
        ));
    }
    if let Some(line) = overlay(&project.root) {
        lines.push(line);
    }
}

/// The personal overlay, when there is an `aiwg.local.toml`: whether it reads and whether git
/// keeps it out of commits. No line without one (a teammate's clone, CI).
fn overlay(root: &Path) -> Option<Line> {
    use aiwg_core::local::LOCAL_CONFIG_FILE;
    let local = match crate::overlay::read(root) {
        Ok(Some(local)) => local,
        Ok(None) => return None,
        Err(e) => {
            return Some(error(
                "overlay",
                format!("{e:#}"),
                format!("fix `{LOCAL_CONFIG_FILE}` (the line above names the place)"),
            ))
        }
    };
    if crate::overlay::is_tracked(root) {
        return Some(warning(
            "overlay",
            format!("`{LOCAL_CONFIG_FILE}` is committed: every clone gets your overlay"),
            format!("`git rm --cached {LOCAL_CONFIG_FILE}` keeps yours and stops sharing it"),
        ));
    }
    let in_git = git::run(root, ["rev-parse", "--is-inside-work-tree"]).is_ok();
    let ignored = git::run(root, ["check-ignore", "-q", LOCAL_CONFIG_FILE]).is_ok();
    if in_git && !ignored {
        return Some(warning(
            "overlay",
            format!("`{LOCAL_CONFIG_FILE}` is not ignored by git: it could be committed"),
            "`aiwg apply` adds it to git's exclude file",
        ));
    }
    Some(ok(
        "overlay",
        format!(
            "`{LOCAL_CONFIG_FILE}`: {} and {} on top of `{CONFIG_FILE}`{}",
            count(local.sources.len(), "source"),
            count(local.platforms.len(), "platform"),
            if in_git { ", ignored by git" } else { "" }
        ),
    ))
}

fn hook(path: &Path) -> Line {
    let shown = project::display_relative(path).display().to_string();
    let Ok(text) = std::fs::read_to_string(path) else {
        return warning(
            "hook",
            format!("no pre-commit hook (`{shown}`)"),
            "`aiwg hook install` stops commits whose platform copies drift",
        );
    };
    if !text.contains(super::hook::BEGIN) {
        return warning(
            "hook",
            format!("`{shown}` does not run aiwg"),
            "`aiwg hook install` adds aiwg's block to it",
        );
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("aiwg").is_file()));
    let fallback = text.lines().find_map(|l| {
        l.split_once("|| aiwg_bin='")
            .and_then(|(_, rest)| rest.strip_suffix('\''))
            .map(|p| p.replace(r"'\''", "'"))
    });
    let at_fallback = fallback.as_deref().is_some_and(|p| Path::new(p).is_file());
    if on_path || at_fallback {
        ok("hook", format!("installed in `{shown}`; aiwg is reachable"))
    } else {
        error(
            "hook",
            format!("the hook in `{shown}` cannot find aiwg: every commit is stopped"),
            "put aiwg on `PATH`, or run `aiwg hook install` again with the aiwg you use",
        )
    }
}

/// With `core.autocrlf` converting, a checkout turns managed files CRLF and every one reads
/// as edited, unless `.gitattributes` pins their line endings.
fn line_endings(root: &Path) -> Line {
    let autocrlf = git::run(root, ["config", "--get", "core.autocrlf"])
        .map(|o| String::from_utf8_lossy(&o).trim().to_ascii_lowercase())
        .unwrap_or_default();
    if autocrlf != "true" {
        return ok("line ends", "git does not convert line endings here");
    }
    let eol = git::run(root, ["check-attr", "eol", "--", "aiwg.lock"])
        .map(|o| String::from_utf8_lossy(&o).trim().to_string())
        .unwrap_or_default();
    if eol.ends_with(": lf") {
        return ok(
            "line ends",
            "`core.autocrlf` is on, and `.gitattributes` keeps LF",
        );
    }
    warning(
        "line ends",
        "`core.autocrlf = true` checks managed files out with CRLF: they will read as edited",
        "add `* text=auto eol=lf` (or a line per platform folder) to `.gitattributes`",
    )
}
