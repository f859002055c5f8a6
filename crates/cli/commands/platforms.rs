//! `aiwg platforms [ID...] [--json]`: every platform (or those named), its aliases, and per kind whether it is
//! native, a fallback or unsupported, where it goes in each scope and (in the JSON) every
//! place the client reads it from: the resolved placement render uses.

use std::io::Write as _;

use aiwg_platforms::summary::{self, KindSupport, Support};
use aiwg_platforms::Registry;

use super::{Context, UserError};

/// Prints the table (or JSON) on stdout: of every platform, or of those `only` names.
pub fn run(_ctx: &Context, only: &[String], json: bool) -> anyhow::Result<u8> {
    let registry = Registry::builtin();
    let mut rows = summary::rows(registry);
    if !only.is_empty() {
        let asked = registry
            .resolve(only)
            .map_err(|unknown| UserError::new(unknown.to_string(), unknown.hint()))?;
        rows.retain(|r| asked.iter().any(|p| p.id == r.id));
    }
    let mut out = std::io::stdout().lock();
    if json {
        // Schema: {"platforms": [{"id", "name", "aliases", "docs", "kinds": [{"kind",
        // "project": {"support": "native|fallback|unsupported", "as"?, "path"?, "why"?,
        // "reads": [place...], "also_sees"?: [place...]}, "user": {...}}], "packages": {"as":
        // "scoped|nested|unsupported", "file"?, "reads_nested": [file...]}}]}
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "platforms": rows }))?;
        writeln!(out)?;
        return Ok(0);
    }
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let aliases = if row.aliases.is_empty() {
            String::new()
        } else {
            format!(" (alias {})", row.aliases.join(", "))
        };
        writeln!(out, "{}{aliases} — {}", row.id, row.name)?;
        writeln!(out, "  {:<9} {:<44} user (under ~/)", "kind", "project")?;
        for k in &row.kinds {
            writeln!(
                out,
                "  {:<9} {:<44} {}",
                k.kind.as_str(),
                cell(&k.project),
                cell(&k.user)
            )?;
        }
        let packages = match (row.packages.as_, &row.packages.file) {
            ("nested", Some(file)) => format!("section of <package>/{file}"),
            ("scoped", _) => "rule files scoped to <package>/**".to_string(),
            _ => "-".to_string(),
        };
        writeln!(out, "  {:<9} {packages}", "packages")?;
        // Why a kind takes a fallback, where the platform file says (once per kind).
        for k in &row.kinds {
            let why = [&k.project, &k.user]
                .into_iter()
                .filter(|s| s.support == Support::Fallback)
                .find_map(|s| s.why.as_deref());
            if let Some(why) = why {
                writeln!(out, "  {}: {why}", k.kind.as_str())?;
            }
        }
    }
    Ok(0)
}

/// `native .claude/agents/{name}.md`, `skill .agents/skills/{name}/`, `-`.
fn cell(s: &KindSupport) -> String {
    let path = s.path.as_deref().unwrap_or("");
    match s.support {
        Support::Native => format!("native {path}"),
        Support::Fallback => format!("{} {path}", s.as_.unwrap_or("fallback")),
        Support::Unsupported => "-".to_string(),
    }
}
