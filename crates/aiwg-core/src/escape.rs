//! Text printed for a person is escaped first: a file name or a description from a cloned
//! repository must never drive the terminal (OSC 52 writes the clipboard, CSI clears the
//! screen) or reorder what is shown (bidi overrides).

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for what [`escape`] rewrites: C0 controls (newline and tab included), DEL, C1
/// controls, and the bidi embeddings, overrides, isolates and marks (U+061C, U+200E/F,
/// U+202A–U+202E, U+2066–U+2069).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every unsafe character (see [`is_unsafe_char`]) written as an escape: `\e`
/// for ESC, `\n`, `\r`, `\t`, `\0`, else `\u{...}`. Borrowed when there is none.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`escape`] for a message of several lines: its `\n` line breaks stay, everything else
/// unsafe is escaped.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\u{1b}' => out.push_str("\\e"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if is_unsafe_char(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_and_bidi_controls_are_escaped() {
        assert_eq!(escape("plain é 漢"), "plain é 漢");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\u{1b}]52;c;cm0=\u{7}b"), "a\\e]52;c;cm0=\\u{7}b");
        assert_eq!(escape("\u{1b}[2Jclear"), "\\e[2Jclear");
        assert_eq!(escape("invoice\u{202e}fdp.sh"), "invoice\\u{202e}fdp.sh");
        assert_eq!(escape("x\u{2066}y\u{200f}"), "x\\u{2066}y\\u{200f}");
        assert_eq!(escape("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(escape("del\u{7f}"), "del\\u{7f}");
        assert_eq!(escape("two\nlines\ttab\0"), "two\\nlines\\ttab\\0");
        assert_eq!(escape_lines("one\ntwo\u{1b}[1m"), "one\ntwo\\e[1m");
    }

    #[test]
    fn every_char_escapes_to_safe_text() {
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            let s = c.to_string();
            assert!(!escape(&s).chars().any(is_unsafe_char), "{c:?}");
        }
    }
}
