//! The one style table: every colour aiwg prints (diagnostics, states, diff lines) as an
//! `anstyle` style, and `paint`, which applies one only when colour is on. The binary decides
//! when colour is on (`crates/cli/style.rs`); the diff renderer of aiwg-deploy paints with
//! the same table.

use anstyle::AnsiColor;
pub use anstyle::Style;

/// A check or state that is fine.
pub const OK: Style = AnsiColor::Green.on_default();
/// Something to look at; the command still did its work.
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// Something that stopped the command, or will stop the next one.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// A `hint:` or `note:` prefix.
pub const HINT: Style = AnsiColor::Cyan.on_default().bold();
/// A removed line of a diff.
pub const REMOVED: Style = AnsiColor::Red.on_default();
/// An added line of a diff.
pub const ADDED: Style = AnsiColor::Green.on_default();
/// A diff hunk header (`@@ … @@`).
pub const HUNK: Style = AnsiColor::Cyan.on_default();
/// A conflict line of a diff.
pub const CONFLICT: Style = AnsiColor::Yellow.on_default();
/// A diff's file header.
pub const HEADER: Style = Style::new().bold();

/// `text` in `style` when `color`, else as it is.
pub fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_only_when_colour_is_on() {
        assert_eq!(paint(true, ERROR, "error"), "\x1b[1m\x1b[31merror\x1b[0m");
        assert_eq!(paint(true, ADDED, "+x"), "\x1b[32m+x\x1b[0m");
        assert_eq!(paint(false, ERROR, "error"), "error");
    }
}
