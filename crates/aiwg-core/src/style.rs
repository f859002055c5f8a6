//! The one style table: every colour aiwg prints (diff lines, diagnostics), as `anstyle`
//! styles, and `paint`, which applies one only when colour is on.

use anstyle::AnsiColor;
pub use anstyle::Style;

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
/// The word `error`.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// The word `warning`.
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// The word `note`.
pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
/// The word `hint`.
pub const HINT: Style = Style::new().bold();

/// `text` in `style` when `color` is on, else `text` unchanged.
pub fn paint(style: Style, text: &str, color: bool) -> String {
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
        assert_eq!(paint(ERROR, "error", true), "\x1b[1m\x1b[31merror\x1b[0m");
        assert_eq!(paint(ADDED, "+x", true), "\x1b[32m+x\x1b[0m");
        assert_eq!(paint(ERROR, "error", false), "error");
    }
}
