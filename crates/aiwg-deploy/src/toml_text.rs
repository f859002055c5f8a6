//! The TOML text of aiwg's own state files (`aiwg.lock`'s tables, a history manifest's
//! `[[path]]` tables), written directly instead of through the `toml` crate's document tree.
//!
//! The text is byte for byte what `toml::to_string` (0.8) gives for the same value, so a lock
//! written by this aiwg equals one written before it: strings take the first quoting that
//! crate's writer would choose (see [`string`]), integers are decimal, arrays are inline with
//! `", "` between items, a table is `[[name]]` and its `key = value` lines. Differential tests
//! against the crate (`tests` below, and the lock's and manifest's own) keep it so.
//!
//! Why: serialising a lock of 5,000 entries through the crate cost about a third of a cold
//! apply's instructions (a document tree per table, then its `Display`).

use std::fmt::Write as _;

/// Appends `s` as a TOML string value, quoted as `toml` 0.8 quotes a value:
/// 1. `"…"` when it needs no escape (no control character other than tab, no `\`, no `"`,
///    no newline; a tab is still written `\t`);
/// 2. else `'…'` (no control character but tab, no `'`, no newline);
/// 3. else `"""…"""` (no control but tab and newline, no `\`, at most two `"` in a row);
/// 4. else `'''…'''` (no control but tab and newline, at most two `'` in a row);
/// 5. else `"""…"""` with escapes when it holds a newline, `"…"` with escapes when not.
///
/// A multi-line form starts with a newline when the string holds one (the parser drops it).
pub(crate) fn string(out: &mut String, s: &str) {
    // Nearly every string (hashes, paths, names) is rule 1 with nothing to escape.
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f)
    {
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    let (mut singles, mut doubles) = (0u32, 0u32);
    let (mut most_singles, mut most_doubles) = (0u32, 0u32);
    let (mut backslash, mut newline, mut control) = (false, false, false);
    for b in s.bytes() {
        singles = if b == b'\'' { singles + 1 } else { 0 };
        doubles = if b == b'"' { doubles + 1 } else { 0 };
        most_singles = most_singles.max(singles);
        most_doubles = most_doubles.max(doubles);
        match b {
            b'\\' => backslash = true,
            b'\t' => {}
            b'\n' => newline = true,
            0..=0x1f | 0x7f => control = true,
            _ => {}
        }
    }
    let lead = if newline { "\n" } else { "" };
    if control {
        escaped(out, s, newline);
    } else if !backslash && most_doubles == 0 && !newline {
        escaped(out, s, false);
    } else if most_singles == 0 && !newline {
        out.push('\'');
        out.push_str(s);
        out.push('\'');
    } else if !backslash && most_doubles <= 2 {
        escaped(out, s, true);
    } else if most_singles <= 2 {
        out.push_str("'''");
        out.push_str(lead);
        out.push_str(s);
        out.push_str("'''");
    } else {
        escaped(out, s, newline);
    }
}

/// `s` as a basic string (`multi`: `"""`, newlines kept, a newline first when it holds one),
/// every byte that needs it escaped: `\b \t \f \r \\`, `\n` outside a multi-line string, `\"`
/// for each `"` past the run a form allows (none in `"…"`, two in `"""…"""`; the count starts
/// again after any escape), other controls as `\u00XX`.
fn escaped(out: &mut String, s: &str, multi: bool) {
    let (quote, allowed) = if multi { ("\"\"\"", 2) } else { ("\"", 0) };
    out.push_str(quote);
    if multi && s.contains('\n') {
        out.push('\n');
    }
    let mut run = 0;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => {
                run += 1;
                (run > allowed).then_some("\\\"")
            }
            0x08 => Some("\\b"),
            b'\t' => Some("\\t"),
            b'\n' => (!multi).then_some("\\n"),
            0x0c => Some("\\f"),
            b'\r' => Some("\\r"),
            b'\\' => Some("\\\\"),
            0..=0x1f | 0x7f => Some(""),
            _ => None,
        };
        if b != b'"' {
            run = 0;
        }
        let Some(escape) = escape else { continue };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04X}", b);
        } else {
            out.push_str(escape);
        }
        run = 0;
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push_str(quote);
}

/// `key = "value"` and a newline.
pub(crate) fn str_line(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    string(out, value);
    out.push('\n');
}

/// `key = 12` and a newline.
pub(crate) fn int_line(out: &mut String, key: &str, value: u64) {
    let _ = writeln!(out, "{key} = {value}");
}

/// `key = true|false` and a newline.
pub(crate) fn bool_line(out: &mut String, key: &str, value: bool) {
    out.push_str(key);
    out.push_str(if value { " = true\n" } else { " = false\n" });
}

/// `key = ["a", "b"]` and a newline.
pub(crate) fn strs_line<'s>(
    out: &mut String,
    key: &str,
    values: impl IntoIterator<Item = &'s str>,
) {
    out.push_str(key);
    out.push_str(" = [");
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        string(out, v);
    }
    out.push_str("]\n");
}

/// `key = [1, 2]` and a newline.
pub(crate) fn ints_line(out: &mut String, key: &str, values: &[u64]) {
    out.push_str(key);
    out.push_str(" = [");
    for (i, v) in values.iter().enumerate() {
        let _ = write!(out, "{}{v}", if i > 0 { ", " } else { "" });
    }
    out.push_str("]\n");
}

/// One table of an array of tables, written as `toml::to_string` writes the document
/// `{ name = [self] }` (the lock's `[[file]]`, a manifest's `[[path]]`).
pub(crate) trait Table {
    /// Appends the table, `[[name]]` header first.
    fn write_table(&self, name: &str, out: &mut String);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tests::random::Rng;

    /// Pieces hostile strings are made of: every quoting rule's edge.
    const PIECES: &[&str] = &[
        "a", "Z", "0", " ", "-", ".", "/", "\"", "\"\"", "\"\"\"", "'", "''", "'''", "\\", "\n",
        "\r\n", "\t", "\u{0}", "\u{1}", "\u{8}", "\u{b}", "\u{c}", "\u{1b}", "\u{1f}", "\u{7f}",
        "\u{80}", "\u{85}", "\u{a0}", "é", "日本", "\u{200b}", "\u{2028}", "\u{2029}", "\u{202e}",
        "\u{feff}", "\u{fffd}", "😀", "#", "=", "[", "]", "{", "}", ",", "${env:X}", "\\u0041",
    ];

    /// A random string of `PIECES`; now and then a long one.
    pub(crate) fn hostile(rng: &mut Rng) -> String {
        let n = if rng.chance(3) {
            2000 + rng.below(3000)
        } else {
            rng.below(8)
        };
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(PIECES[rng.below(PIECES.len())]);
        }
        s
    }

    #[derive(serde::Serialize)]
    struct One<'a> {
        v: &'a str,
        list: &'a [String],
    }

    #[test]
    fn strings_are_quoted_as_the_toml_crate_quotes_them() {
        let mut rng = Rng::new(15);
        let mut samples: Vec<String> = PIECES.iter().map(|p| p.to_string()).collect();
        for a in PIECES {
            for b in PIECES {
                samples.push(format!("{a}{b}"));
                samples.push(format!("{a}x{b}{a}"));
            }
        }
        samples.extend((0..20_000).map(|_| hostile(&mut rng)));
        samples.push(String::new());
        samples.push("x".repeat(100_000));
        for s in &samples {
            let list = [s.clone(), "plain".to_string(), s.clone()];
            let want = toml::to_string(&One { v: s, list: &list }).unwrap();
            let mut got = String::new();
            str_line(&mut got, "v", s);
            strs_line(&mut got, "list", list.iter().map(String::as_str));
            assert_eq!(got, want, "{s:?}");
            // And it reads back as the same string.
            #[derive(serde::Deserialize, PartialEq, Debug)]
            struct Back {
                v: String,
                list: Vec<String>,
            }
            let back: Back = toml::from_str(&got).unwrap_or_else(|e| panic!("{got}: {e}"));
            assert_eq!(back.v, *s, "{got}");
            assert_eq!(back.list, list, "{got}");
        }
    }

    #[test]
    fn numbers_booleans_and_lists_are_written_as_the_toml_crate_writes_them() {
        #[derive(serde::Serialize)]
        struct Mixed<'a> {
            n: u64,
            big: u64,
            yes: bool,
            no: bool,
            ints: &'a [u64],
            none: &'a [u64],
            strs: &'a [&'a str],
        }
        let m = Mixed {
            n: 0,
            big: i64::MAX as u64,
            yes: true,
            no: false,
            ints: &[1, 20, 300],
            none: &[],
            strs: &[],
        };
        let mut got = String::new();
        int_line(&mut got, "n", m.n);
        int_line(&mut got, "big", m.big);
        bool_line(&mut got, "yes", m.yes);
        bool_line(&mut got, "no", m.no);
        ints_line(&mut got, "ints", m.ints);
        ints_line(&mut got, "none", m.none);
        strs_line(&mut got, "strs", m.strs.iter().copied());
        assert_eq!(got, toml::to_string(&m).unwrap());
    }
}
