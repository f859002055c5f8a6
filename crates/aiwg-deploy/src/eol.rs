//! Line endings. git with `core.autocrlf=true` (the Git for Windows default) or `eol=crlf`
//! checks text files out with CRLF although they were committed (and hashed by aiwg) with LF.
//! Such a file is still what aiwg wrote: plans compare and hash it in its LF form, and text
//! aiwg adds to a shared file is written in that file's own line ending.
//!
//! A file has an LF form only where git would have converted it: it is text (no NUL byte), it
//! has at least one CRLF, and every CR in it starts a CRLF. A lone CR or a NUL means the bytes
//! are the author's, not git's, and they are compared as they are.

use std::borrow::Cow;

/// The bytes with every CRLF as LF, when git could have made them from an LF text (see the
/// module notes); `None` otherwise, including for text that has no CRLF at all.
pub fn lf_form(bytes: &[u8]) -> Option<Vec<u8>> {
    // Most files have no CR at all: answered by one scan, without a copy.
    if !bytes.contains(&b'\r') || bytes.contains(&0) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut converted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                out.push(b'\n');
                converted = true;
                i += 2;
            }
            b'\r' => return None,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    converted.then_some(out)
}

/// The line ending `text` uses: CRLF when it has line breaks and every one is a CRLF, else LF
/// (also for a text without line breaks, and for a mixed one).
pub fn of(text: &str) -> &'static str {
    let breaks = text.matches('\n').count();
    if breaks > 0 && text.matches("\r\n").count() == breaks {
        "\r\n"
    } else {
        "\n"
    }
}

/// `text` written with `eol` line breaks: each LF that is not already part of a CRLF.
pub fn with_eol<'a>(text: &'a str, eol: &str) -> Cow<'a, str> {
    if eol == "\n" || !text.contains('\n') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev = '\0';
    for c in text.chars() {
        if c == '\n' && prev != '\r' {
            out.push_str(eol);
        } else {
            out.push(c);
        }
        prev = c;
    }
    Cow::Owned(out)
}

/// `text` with every CRLF as LF (what the lock hashes of a section's text).
pub fn to_lf(text: &str) -> Cow<'_, str> {
    if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_git_would_convert_has_an_lf_form() {
        assert_eq!(lf_form(b"a\r\nb\r\n").as_deref(), Some(&b"a\nb\n"[..]));
        assert_eq!(lf_form(b"a\r\nb").as_deref(), Some(&b"a\nb"[..]));
        assert_eq!(lf_form(b"a\nb\n"), None, "already LF");
        assert_eq!(lf_form(b"a\r\nb\rc"), None, "a lone CR is the author's");
        assert_eq!(lf_form(b"a\r\n\0"), None, "binary");
        assert_eq!(lf_form(b""), None);
    }

    #[test]
    fn the_line_ending_of_a_text() {
        assert_eq!(of("a\r\nb\r\n"), "\r\n");
        assert_eq!(of("a\r\nb\n"), "\n", "mixed");
        assert_eq!(of("a"), "\n");
        assert_eq!(with_eol("a\nb\n", "\r\n"), "a\r\nb\r\n");
        assert_eq!(with_eol("a\r\nb\n", "\r\n"), "a\r\nb\r\n", "no CR doubled");
        assert_eq!(to_lf("a\r\nb\r\n"), "a\nb\n");
    }
}
