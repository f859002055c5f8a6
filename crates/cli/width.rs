//! Text as a terminal shows it: display width (East Asian wide characters take two cells,
//! combining marks none) and counted nouns (`1 path`, `2 paths`).

use unicode_width::UnicodeWidthStr as _;

/// The number of terminal cells `text` takes.
pub fn of(text: &str) -> usize {
    text.width()
}

/// `text` cut to at most `cells` terminal cells, with `…` when cut.
pub fn truncate(text: &str, cells: usize) -> String {
    if of(text) <= cells {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > cells {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `n noun` or `n nouns`.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    #[test]
    fn wide_characters_take_two_cells() {
        assert_eq!(super::of("abc"), 3);
        assert_eq!(super::of("日本"), 4);
        assert_eq!(super::truncate("日本語です", 5), "日本…");
        assert_eq!(super::truncate("abc", 3), "abc");
        assert_eq!(super::count(1, "path"), "1 path");
        assert_eq!(super::count(2, "path"), "2 paths");
    }
}
