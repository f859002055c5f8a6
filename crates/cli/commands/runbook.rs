//! `aiwg runbook lint [NAME|PATH]` and `aiwg runbook render <NAME|PATH> --set k=v | --values F`.
//!
//! A runbook is found by path (a `.md` file), else by name among the project's sources,
//! else among the bundled frameworks, so `aiwg runbook render service-deployment` works in
//! any folder.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aiwg_core::{runbook, Artifact, Kind, Severity};
use anyhow::Context as _;

use super::{Context, UserError};
use crate::project;

/// A runbook to work on: where it is shown, its Markdown body (after the frontmatter), and
/// the file line the body starts at.
struct Found {
    shown: PathBuf,
    body: String,
    body_line: u32,
}

/// Runs `aiwg runbook lint`: every finding as `path:line: warning: message`; exit 2 when a
/// runbook has structural problems, 0 when all are sound.
pub fn lint(ctx: &Context, target: Option<&str>) -> anyhow::Result<u8> {
    let runbooks = match target {
        Some(t) => vec![find(ctx, t)?],
        None => all_runbooks(ctx)?,
    };
    if runbooks.is_empty() {
        return Err(UserError::new(
            "no runbooks found",
            "create one with `aiwg new runbook my-runbook`",
        )
        .into());
    }
    let mut problems = 0;
    let mut out = std::io::stdout().lock();
    for rb in &runbooks {
        for finding in runbook::lint(&runbook::parse_body(&rb.body, rb.body_line)) {
            problems += 1;
            let level = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            writeln!(
                out,
                "{}:{}: {level}: {}",
                rb.shown.display(),
                finding.line,
                finding.message
            )?;
        }
    }
    out.flush()?;
    crate::printer::say!(
        "linted {} runbook{}: {problems} problem{}",
        runbooks.len(),
        if runbooks.len() == 1 { "" } else { "s" },
        if problems == 1 { "" } else { "s" }
    );
    Ok(if problems == 0 { 0 } else { 2 })
}

/// Runs `aiwg runbook render`: fills every placeholder of the runbook's body (the document,
/// without its frontmatter), or fails naming each unfilled one and writes nothing. With
/// `-o`, the file is replaced atomically.
pub fn render(
    ctx: &Context,
    name: &str,
    set: &[String],
    values_file: Option<&Path>,
    output: Option<&Path>,
) -> anyhow::Result<u8> {
    let rb = find(ctx, name)?;
    // Each value with where it came from, for the warnings below.
    let mut values = BTreeMap::new();
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    if let Some(file) = values_file {
        for (key, value) in read_values(&ctx.cwd.join(file), file)? {
            origin.insert(key.clone(), format!("`{}`", file.display()));
            values.insert(key, value);
        }
    }
    for pair in set {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            UserError::new(
                format!("`--set {pair}` is not `key=value`"),
                "write `--set service_name=billing`",
            )
        })?;
        let key = key.trim().to_string();
        origin.insert(key.clone(), "`--set`".to_string());
        values.insert(key, value.to_string());
    }
    let known = runbook::parse_body(&rb.body, rb.body_line);
    for key in values.keys() {
        if !known.placeholders.iter().any(|p| &p.name == key) {
            crate::printer::say!(
                "warning: `{key}` from {} is unused: it is not a placeholder of `{}`",
                origin[key],
                rb.shown.display(),
            );
        }
    }
    for p in &known.placeholders {
        if let (Some(default), false) = (&p.default, values.contains_key(&p.name)) {
            crate::printer::say!(
                "note: `{}` has no value; it takes its default `{default}`",
                p.name
            );
        }
    }
    let rendered = runbook::render(&rb.body, &values).map_err(|e| match e {
        runbook::RenderError::Unfilled(unfilled) => UserError::new(
            format!(
                "{} placeholder{} of `{}` {} no value: {}",
                unfilled.names.len(),
                if unfilled.names.len() == 1 { "" } else { "s" },
                rb.shown.display(),
                if unfilled.names.len() == 1 { "has" } else { "have" },
                unfilled
                    .names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "give each with `--set {}=...` or in a `--values` TOML file",
                unfilled.names[0]
            ),
        ),
        runbook::RenderError::Unquotable(u) => UserError::new(
            format!(
                "{}:{}: the value of `{}` holds shell characters, and there it sits inside a quoted string of a shell command, which it could end or change",
                rb.shown.display(),
                rb.body_line + u.line - 1,
                u.name
            ),
            "use a value of letters, digits, spaces and `_@%+=:,./-` only (hosts, paths, versions)",
        ),
    })?;
    match output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.as_bytes())?;
            out.flush()?;
        }
        Some(path) => write_atomically(&ctx.cwd.join(path), rendered.as_bytes())?,
    }
    Ok(0)
}

/// Reads a TOML file of `key = value` pairs; strings, numbers and booleans become text.
fn read_values(path: &Path, shown: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", shown.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
        UserError::new(
            format!("{}:{line}: {}", shown.display(), e.message()),
            "the values file holds `key = \"value\"` lines",
        )
    })?;
    table
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Datetime(d) => d.to_string(),
                other => {
                    return Err(UserError::new(
                        format!(
                            "`{k}` in `{}` is {} {}, not a single value",
                            shown.display(),
                            if other.is_array() { "an" } else { "a" },
                            other.type_str()
                        ),
                        "give placeholders strings, numbers or booleans",
                    )
                    .into())
                }
            };
            Ok((k, text))
        })
        .collect()
}

/// Writes `bytes` to a temp file beside `path`, then renames it over `path`: a reader sees
/// the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create `{}`", parent.display()))?;
    crate::config_edit::write_file(path, bytes)
}

/// `target` as a file path when it names a file, else the runbook of that name.
fn find(ctx: &Context, target: &str) -> anyhow::Result<Found> {
    let path = ctx.cwd.join(target);
    if path.is_file() {
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read `{target}`"))?;
        let split = aiwg_core::frontmatter::split(&text).map_err(|e| {
            UserError::new(
                format!("{target}:{}: {}", e.line, e.message),
                "fix the frontmatter",
            )
        })?;
        return Ok(Found {
            shown: PathBuf::from(target),
            body: split.body.to_string(),
            body_line: split.body_line,
        });
    }
    let all = all_runbooks(ctx)?;
    let names: Vec<String> = all
        .iter()
        .filter_map(|f| {
            f.shown
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    all.into_iter()
        .find(|f| f.shown.file_stem().is_some_and(|s| s == target))
        .ok_or_else(|| {
            UserError::new(
                format!("no runbook named `{target}`"),
                format!("known runbooks: {}", names.join(", ")),
            )
            .into()
        })
}

/// Every runbook of the project's sources, or of every bundled framework when the project
/// has none.
fn all_runbooks(ctx: &Context) -> anyhow::Result<Vec<Found>> {
    let sources = match project::command_sources(&ctx.cwd, &[]) {
        Ok(sources) => sources,
        Err(_) => crate::frameworks::bundled()
            .iter()
            .filter_map(|f| project::bundled_tree(&f.name).map(|t| (t, Vec::new())))
            .collect(),
    };
    let loaded = project::load_sources(sources);
    let runbooks: Vec<&Artifact> = loaded
        .loaded
        .artifacts
        .iter()
        .filter(|a| a.kind == Kind::Runbook)
        .collect();
    Ok(runbooks
        .into_iter()
        .map(|a| Found {
            shown: loaded.display_path(a),
            body: a.body.clone(),
            body_line: a.body_line,
        })
        .collect())
}
