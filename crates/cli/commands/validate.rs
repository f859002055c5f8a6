//! `aiwg validate [PATH ...]`: loads sources and reports every problem.
//!
//! stdout (data): one `path:line: error|warning: message` line per problem, an indented
//! `  hint: ...` line where there is a fix to suggest, and a `path:line: note: placeholders:
//! ...` line per runbook; sorted by path, then line. stderr: the summary line. Exit 0 without
//! errors (warnings allowed), 2 with errors.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use aiwg_core::escape::escape;
use aiwg_core::{runbook, Diagnostic, Kind, Severity};

use super::Context;
use crate::project;
use crate::style::{self, paint};

/// One line of the report: a diagnostic, or a note about a runbook.
enum Entry {
    Diagnostic(Diagnostic),
    Note {
        path: PathBuf,
        line: u32,
        message: String,
    },
}

impl Entry {
    fn sort_key(&self) -> (&Path, u32) {
        match self {
            Entry::Diagnostic(d) => (&d.path, d.line.unwrap_or(0)),
            Entry::Note { path, line, .. } => (path, *line),
        }
    }
}

/// Runs `aiwg validate`.
pub fn run(ctx: &Context, paths: &[PathBuf], json: bool) -> anyhow::Result<u8> {
    let sources = project::command_sources_loaded(&ctx.cwd, paths)?;
    let loaded = &sources.loaded;
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;

    let mut entries: Vec<Entry> = loaded
        .diagnostics
        .iter()
        .cloned()
        .map(Entry::Diagnostic)
        .collect();
    for artifact in loaded.artifacts.iter().filter(|a| a.kind == Kind::Runbook) {
        let rb = runbook::parse_body(&artifact.body, artifact.body_line);
        let Some(first) = rb.placeholders.first() else {
            continue;
        };
        let names: Vec<String> = rb
            .placeholders
            .iter()
            .map(|p| format!("{{{}}}", p.name))
            .collect();
        entries.push(Entry::Note {
            path: sources.display_path(artifact),
            line: first.lines[0],
            message: format!("placeholders: {}", names.join(", ")),
        });
    }
    entries.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    if json {
        let diagnostics = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Diagnostic(d) => Some(crate::json::DiagnosticEntry {
                    path: d.path.display().to_string(),
                    line: d.line,
                    level: if d.is_error() { "error" } else { "warning" },
                    message: d.message.clone(),
                    hint: d.hint.clone(),
                }),
                Entry::Note { .. } => None,
            })
            .collect();
        crate::json::print(&crate::json::Validation {
            version: crate::json::VERSION,
            sources: sources.count(),
            artifacts: loaded.artifacts.len(),
            errors,
            warnings,
            diagnostics,
        })?;
        return Ok(if errors > 0 { 2 } else { 0 });
    }
    let mut out = std::io::stdout().lock();
    for entry in &entries {
        match entry {
            Entry::Diagnostic(d) => print_diagnostic(&mut out, d, ctx.color)?,
            Entry::Note {
                path,
                line,
                message,
            } => writeln!(
                out,
                "{}:{line}: {}: {}",
                escape(&path.display().to_string()),
                paint(ctx.color, style::HINT, "note"),
                escape(message)
            )?,
        }
    }
    out.flush()?;
    let packages = match sources.packages {
        0 => String::new(),
        n => format!(" ({})", plural(n, "package")),
    };
    crate::printer::say!(
        "validated {}{packages}, {}: {}, {}",
        plural(sources.count(), "source"),
        plural(loaded.artifacts.len(), "artifact"),
        plural(errors, "error"),
        plural(warnings, "warning"),
    );
    Ok(if errors > 0 { 2 } else { 0 })
}

fn print_diagnostic(
    out: &mut impl std::io::Write,
    d: &Diagnostic,
    color: bool,
) -> std::io::Result<()> {
    let level = match d.severity {
        Severity::Error => paint(color, style::ERROR, "error"),
        Severity::Warning => paint(color, style::WARNING, "warning"),
    };
    write!(out, "{}", escape(&d.path.display().to_string()))?;
    if let Some(line) = d.line {
        write!(out, ":{line}")?;
    }
    writeln!(out, ": {level}: {}", escape(&d.message))?;
    if let Some(hint) = &d.hint {
        writeln!(
            out,
            "  {}: {}",
            paint(color, style::HINT, "hint"),
            escape(hint)
        )?;
    }
    Ok(())
}

/// `1 error`, `2 errors`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
