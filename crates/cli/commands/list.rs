//! `aiwg list [PATH ...] [--kind KIND] [--json]`: every artifact of the sources;
//! `aiwg list --frameworks`: the bundled frameworks and extensions.
//!
//! The table has the columns KIND, NAME, SOURCE, DESCRIPTION, sorted by kind, then name;
//! the description is cut to the terminal width (`COLUMNS` when set, else the terminal's
//! width, else 100). `--json` prints an array of `{kind, name, source, path, description}`.
//! Problems in the sources do not stop the listing; a count goes to stderr.

use std::io::Write as _;

use aiwg_core::escape::escape;
use std::path::PathBuf;

use aiwg_core::{Artifact, Kind};

use super::Context;
use crate::project;

/// The width used when neither `COLUMNS` nor a terminal says otherwise.
const DEFAULT_WIDTH: usize = 100;
/// The narrowest the description column gets, however narrow the terminal.
const MIN_DESCRIPTION_WIDTH: usize = 20;

/// One row of `aiwg list --json`.
#[derive(serde::Serialize)]
struct Row<'a> {
    kind: Kind,
    name: &'a str,
    source: &'a str,
    /// The main file, as `aiwg validate` names it.
    path: String,
    description: String,
}

/// Runs `aiwg list`.
pub fn run(
    ctx: &Context,
    paths: &[PathBuf],
    kind: Option<&str>,
    frameworks: bool,
    json: bool,
) -> anyhow::Result<u8> {
    if frameworks {
        return list_frameworks(json);
    }
    let kind: Option<Kind> = kind
        .map(|k| crate::suggest::kind(k, "run `aiwg list --kind skill`, for example"))
        .transpose()?;
    let sources = project::command_sources_loaded(&ctx.cwd, paths)?;
    let loaded = &sources.loaded;
    let mut artifacts: Vec<&Artifact> = loaded
        .artifacts
        .iter()
        .filter(|a| kind.is_none_or(|k| a.kind == k))
        .collect();
    artifacts.sort_by(|a, b| (a.kind, &a.name, &a.source).cmp(&(b.kind, &b.name, &b.source)));
    let rows: Vec<Row> = artifacts
        .iter()
        .map(|a| Row {
            kind: a.kind,
            name: &a.name,
            source: &a.source,
            path: sources.display_path(a).display().to_string(),
            description: one_line(&a.description()),
        })
        .collect();

    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else if !rows.is_empty() {
        write_table(&mut out, &rows, terminal_width())?;
    }
    out.flush()?;
    if rows.is_empty() && !json {
        crate::printer::say!("no artifacts found");
    }
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        crate::printer::say!(
            "warning: the sources have {errors} error{}; `aiwg validate` shows them",
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(0)
}

/// `aiwg list --frameworks`: the bundled frameworks and extensions, one line each
/// (`--json`: an array of `{name, kind, requires, description}`).
fn list_frameworks(json: bool) -> anyhow::Result<u8> {
    let all = crate::frameworks::bundled();
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &all)?;
        writeln!(out)?;
        return Ok(0);
    }
    let name_w = all.iter().map(|f| f.name.len()).max().unwrap_or(0).max(4);
    let width = terminal_width();
    writeln!(out, "{:name_w$}  {:9}  DESCRIPTION", "NAME", "KIND")?;
    for f in &all {
        let mut description = one_line(&f.description);
        if !f.requires.is_empty() {
            description = format!("(needs {}) {description}", f.requires.join(", "));
        }
        let desc_w = width.saturating_sub(name_w + 13).max(MIN_DESCRIPTION_WIDTH);
        writeln!(
            out,
            "{:name_w$}  {:9}  {}",
            f.name,
            f.kind,
            cut(&description, desc_w)
        )?;
    }
    out.flush()?;
    Ok(0)
}

/// Whitespace runs (newlines included) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `COLUMNS` when set, else the terminal's width when stdout is one, else 100.
fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return cols;
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map_or(DEFAULT_WIDTH, |(w, _)| usize::from(w.0))
}

fn write_table(out: &mut impl std::io::Write, rows: &[Row], width: usize) -> std::io::Result<()> {
    let col = |header: &str, cell: &dyn Fn(&Row) -> usize| {
        rows.iter().map(cell).max().unwrap_or(0).max(header.len())
    };
    let kind_w = col("KIND", &|r| r.kind.as_str().len());
    let name_w = col("NAME", &|r| crate::width::of(r.name));
    let source_w = col("SOURCE", &|r| crate::width::of(r.source));
    let used = kind_w + name_w + source_w + 6;
    let desc_w = width.saturating_sub(used).max(MIN_DESCRIPTION_WIDTH);
    writeln!(
        out,
        "{:kind_w$}  {:name_w$}  {:source_w$}  DESCRIPTION",
        "KIND", "NAME", "SOURCE"
    )?;
    for r in rows {
        let line = format!(
            "{:kind_w$}  {:name_w$}  {:source_w$}  {}",
            r.kind.as_str(),
            r.name,
            r.source,
            cut(&r.description, desc_w)
        );
        // Names, sources and descriptions come from the repository: escaped for the terminal.
        writeln!(out, "{}", escape(line.trim_end()))?;
    }
    Ok(())
}

/// `text` cut to `width` terminal cells (wide characters take two), ending in `…` when cut.
fn cut(text: &str, width: usize) -> String {
    crate::width::truncate(text, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_to_width() {
        let check = |text: &str, width: usize, expect: &str| assert_eq!(cut(text, width), expect);
        check("short", 10, "short");
        check("exactly10!", 10, "exactly10!");
        check("a bit too long", 10, "a bit too…");
        check("日本語のテキスト", 4, "日…");
        check("日本語のテキスト", 7, "日本語…");
    }

    #[test]
    fn table_fits_the_width() {
        let rows = [
            Row {
                kind: Kind::Agent,
                name: "code-reviewer",
                source: "sdlc",
                path: String::new(),
                description: "Reviews every change for correctness and style before it merges"
                    .into(),
            },
            Row {
                kind: Kind::Skill,
                name: "pdf",
                source: ".aiwg",
                path: String::new(),
                description: String::new(),
            },
        ];
        let mut out = Vec::new();
        write_table(&mut out, &rows, 60).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "KIND   NAME           SOURCE  DESCRIPTION\n\
             agent  code-reviewer  sdlc    Reviews every change for corr…\n\
             skill  pdf            .aiwg\n"
        );
        assert!(text.lines().all(|l| l.chars().count() <= 60));
    }
}
