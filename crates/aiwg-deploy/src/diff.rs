//! A plan as a unified diff (`--- a/path` / `+++ b/path`, git-style), optionally coloured.
//!
//! A pure function of the plan, so `aiwg diff` and `aiwg apply --dry-run` print the same text
//! by construction. Conflicts are shown as what `--force` would do, after a `# conflict:` line.

use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

use crate::plan::{Plan, PlanItem};
use crate::system::FileData;

use aiwg_core::style::{self, Style, ADDED as GREEN, CONFLICT as YELLOW, HEADER as BOLD};
use aiwg_core::style::{HUNK as CYAN, REMOVED as RED};

/// Every change of `plan` (creates, updates, deletes, conflicts) as one unified diff.
pub fn render(plan: &Plan, color: bool) -> String {
    render_items(plan.changes(), color)
}

/// [`render`], the paths of `# conflict:` lines (and the paths their reasons name) as `show`
/// gives them (`~/.claude/...` in user scope); the patch headers stay relative to the root.
pub fn render_shown(plan: &Plan, color: bool, show: &dyn Fn(&str) -> String) -> String {
    render_items_shown(plan.changes(), color, show)
}

/// The diff of `items` that change something, in order.
pub fn render_items<'a>(items: impl IntoIterator<Item = &'a PlanItem>, color: bool) -> String {
    render_items_shown(items, color, &|path| {
        aiwg_core::escape::escape(path).into_owned()
    })
}

/// [`render_items`], the conflict lines' paths as `show` gives them ([`render_shown`]).
pub fn render_items_shown<'a>(
    items: impl IntoIterator<Item = &'a PlanItem>,
    color: bool,
    show: &dyn Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    for item in items.into_iter().filter(|i| i.is_change()) {
        render_item(&mut out, item, color, show);
    }
    out
}

fn paint(out: &mut String, color: bool, code: Style, line: &str) {
    let _ = writeln!(out, "{}", style::paint(color, code, line));
}

fn mode_bits(f: &FileData) -> &'static str {
    if f.executable {
        "100755"
    } else {
        "100644"
    }
}

fn render_item(out: &mut String, item: &PlanItem, color: bool, show: &dyn Fn(&str) -> String) {
    let path = item.path.as_str();
    if let Some(conflict) = item.conflict() {
        paint(
            out,
            color,
            YELLOW,
            &format!(
                "# conflict: `{}`: {}; {}",
                show(path),
                conflict.reason_shown(show),
                conflict.force_effect()
            ),
        );
    }
    if !item.writes() {
        return;
    }
    paint(out, color, BOLD, &format!("diff --aiwg a/{path} b/{path}"));
    if let Some(sha) = item.streamed() {
        // A plan of a streamed render holds the hash of the new bytes, not the bytes.
        let _ = writeln!(out, "new content sha256 {sha} (not held by this plan)");
        return;
    }
    match (item.old(), item.new_data()) {
        (None, Some(new)) => paint(
            out,
            color,
            BOLD,
            &format!("new file mode {}", mode_bits(new)),
        ),
        (Some(old), None) => paint(
            out,
            color,
            BOLD,
            &format!("deleted file mode {}", mode_bits(old)),
        ),
        (Some(old), Some(new)) if old.executable != new.executable => {
            paint(out, color, BOLD, &format!("old mode {}", mode_bits(old)));
            paint(out, color, BOLD, &format!("new mode {}", mode_bits(new)));
        }
        _ => {}
    }
    let old_bytes = item.old().map_or(&[][..], |f| &f.bytes[..]);
    let new_bytes = item.new_data().map_or(&[][..], |f| &f.bytes[..]);
    if old_bytes == new_bytes {
        return;
    }
    let a = if item.old().is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    let b = if item.new_data().is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".to_string()
    };
    let (Ok(old_text), Ok(new_text)) = (
        std::str::from_utf8(old_bytes),
        std::str::from_utf8(new_bytes),
    ) else {
        let _ = writeln!(out, "Binary files {a} and {b} differ");
        return;
    };
    paint(out, color, BOLD, &format!("--- {a}"));
    paint(out, color, BOLD, &format!("+++ {b}"));
    let diff = TextDiff::from_lines(old_text, new_text);
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        paint(out, color, CYAN, &hunk.header().to_string());
        for change in hunk.iter_changes() {
            let (sign, code) = match change.tag() {
                ChangeTag::Delete => ('-', Some(RED)),
                ChangeTag::Insert => ('+', Some(GREEN)),
                ChangeTag::Equal => (' ', None),
            };
            let value = change.value();
            let line = format!("{sign}{}", value.strip_suffix('\n').unwrap_or(value));
            match code {
                Some(code) => paint(out, color, code, &line),
                None => {
                    let _ = writeln!(out, "{line}");
                }
            }
            if change.missing_newline() {
                let _ = writeln!(out, "\\ No newline at end of file");
            }
        }
    }
}
