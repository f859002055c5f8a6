//! Splits a Markdown file into YAML frontmatter and body, parses the YAML into
//! JSON-shaped values (keys kept in file order), and quotes strings for YAML output
//! ([`yaml_scalar`]) so that this parser reads them back unchanged.
//!
//! Cost is bounded on any input: aliases (`*a`) are refused before anything is built, since
//! the YAML library copies a node per alias (a few hundred bytes of nested aliases expand to
//! gigabytes), and nesting deeper than [`MAX_YAML_DEPTH`] is refused before the recursive
//! conversion could exhaust the stack.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

use crate::model::Frontmatter;

/// Why a frontmatter block could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontmatterError {
    /// 1-based line in the whole file.
    pub line: u32,
    /// What is wrong (`invalid YAML: ...`, an unclosed fence, a key that is not a string).
    pub message: String,
}

/// A file split into frontmatter and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<'a> {
    /// The YAML text between the `---` lines, if the file starts with one.
    pub yaml: Option<&'a str>,
    /// The 1-based line of the first YAML line.
    pub yaml_line: u32,
    /// The text after the closing fence, or the whole text (less a byte-order mark) when
    /// `yaml` is `None`.
    pub body: &'a str,
    /// The 1-based line where the body starts.
    pub body_line: u32,
}

/// Splits `text` at its frontmatter fences. A file that does not start with `---` has no
/// frontmatter; one that opens a fence and never closes it is an error at line 1.
/// Accepts LF and CRLF line ends and a leading byte-order mark.
pub fn split(text: &str) -> Result<Split<'_>, FrontmatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_end = text.find('\n').map_or(text.len(), |i| i + 1);
    if text[..first_end].trim_end() != "---" {
        return Ok(Split {
            yaml: None,
            yaml_line: 0,
            body: text,
            body_line: 1,
        });
    }
    let mut offset = first_end;
    let mut line = 2u32;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let trimmed = text[offset..end].trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok(Split {
                yaml: Some(&text[first_end..offset]),
                yaml_line: 2,
                body: &text[end..],
                body_line: line + 1,
            });
        }
        offset = end;
        line += 1;
    }
    Err(FrontmatterError {
        line: 1,
        message: "frontmatter opened with `---` is never closed".into(),
    })
}

/// How deeply lists and maps may nest in frontmatter (real frontmatter uses two or three).
pub const MAX_YAML_DEPTH: usize = 32;

/// Walks the event stream of `yaml` without building anything and refuses what could make
/// building it unbounded: an alias, or nesting deeper than [`MAX_YAML_DEPTH`]. Scanner errors
/// are reported here too, with their line.
fn check_bounded(yaml: &str, first_line: u32) -> Result<(), FrontmatterError> {
    let at = |line: usize| first_line + line.saturating_sub(1) as u32;
    let mut parser = Parser::new_from_str(yaml);
    let mut depth = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| FrontmatterError {
            line: at(e.marker().line()),
            message: format!("invalid YAML: {}", e.info()),
        })?;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::Alias(_) => return Err(FrontmatterError {
                line: at(mark.line()),
                message:
                    "YAML aliases (`*name`) are not accepted in frontmatter; write the value out"
                        .into(),
            }),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_YAML_DEPTH {
                    return Err(FrontmatterError {
                        line: at(mark.line()),
                        message: format!(
                            "frontmatter nests lists and maps more than {MAX_YAML_DEPTH} deep"
                        ),
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// Parses the YAML of a frontmatter block that starts at `first_line` of its file.
/// An empty block is an empty map; anything but a mapping at the top is an error, and so are
/// aliases and deep nesting (see the module comment).
pub fn parse(yaml: &str, first_line: u32) -> Result<Frontmatter, FrontmatterError> {
    if let Some(entries) = simple(yaml) {
        return Ok(Frontmatter {
            entries,
            first_line,
        });
    }
    check_bounded(yaml, first_line)?;
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| FrontmatterError {
        line: first_line + e.marker().line().saturating_sub(1) as u32,
        message: format!("invalid YAML: {}", e.info()),
    })?;
    let entries = match docs.into_iter().next() {
        None | Some(Yaml::Null) => Map::new(),
        Some(Yaml::Hash(hash)) => {
            let mut map = Map::new();
            for (k, v) in hash {
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Real(r) => r,
                    other => {
                        return Err(FrontmatterError {
                            line: first_line,
                            message: format!("frontmatter key {other:?} is not a string"),
                        })
                    }
                };
                map.insert(key, to_json(v));
            }
            map
        }
        Some(_) => {
            return Err(FrontmatterError {
                line: first_line,
                message: "frontmatter is not a mapping of `key: value` lines".into(),
            })
        }
    };
    Ok(Frontmatter {
        entries,
        first_line,
    })
}

/// The entries of a block that is only `key: value` lines whose key and value are plain
/// scalars that read back as themselves ([`is_plain_safe`]; no quotes, lists, comments, blank
/// lines, or a key written twice), as the YAML library would make them; `None` for any
/// other block, which goes to the library. Most frontmatter is like that, and the library
/// parses a block twice (once to check its bounds) at ~40,000 instructions for three lines.
fn simple(yaml: &str) -> Option<Map<String, Value>> {
    let mut map = Map::new();
    for line in yaml.lines() {
        let (key, value) = line.split_once(": ")?;
        if !is_plain_safe(key) || !is_plain_safe(value) || map.contains_key(key) {
            return None;
        }
        map.insert(key.to_string(), Value::String(value.to_string()));
    }
    Some(map)
}

/// The file line of every top-level key of a frontmatter block whose first line is
/// `first_line`: lines with `key:` at column 0 (quotes around the key removed). A key written
/// some other way is not listed; callers fall back to the block's first line.
pub fn key_lines(yaml: &str, first_line: u32) -> Vec<(String, u32)> {
    let mut keys = Vec::new();
    for (i, line) in yaml.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) || line.is_empty() {
            continue;
        }
        let Some(colon) = key_colon(line) else {
            continue;
        };
        let key = line[..colon].trim();
        let key = key
            .strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
            .unwrap_or(key);
        keys.push((key.to_string(), first_line + i as u32));
    }
    keys
}

/// The byte offset of the colon that ends the key of a `key: value` line: the first `:`
/// followed by whitespace or the end of the line.
pub fn key_colon(line: &str) -> Option<usize> {
    line.char_indices()
        .find(|&(at, c)| {
            c == ':'
                && line[at + 1..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })
        .map(|(at, _)| at)
}

fn to_json(y: Yaml) -> Value {
    match y {
        Yaml::String(s) => Value::String(s),
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::String(r), Value::Number),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Hash(hash) => Value::Object(
            hash.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s,
                        other => format!("{other:?}"),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Yaml::Null | Yaml::BadValue => Value::Null,
        Yaml::Alias(_) => Value::Null,
    }
}

/// `s` as a YAML scalar: bare when a plain scalar reads back as the same string (here and in
/// YAML 1.1 readers, still common on the platforms' side), else double-quoted with escapes.
/// `in_flow`: the scalar sits inside `[...]` or `{...}`, where `,[]{}` end it. This is the one
/// quoting rule every YAML aiwg writes goes through.
pub fn yaml_scalar(s: &str, in_flow: bool) -> Cow<'_, str> {
    if is_plain_safe(s) && !(in_flow && s.contains([',', '[', ']', '{', '}'])) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// Words YAML 1.1 readers (still common on the platforms' side) take as bools or null.
const YAML11_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

/// True when `s` written bare reads back as the same string, here and in YAML 1.1 readers.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let last = s.chars().next_back().unwrap_or(first);
    if first.is_whitespace()
        || last.is_whitespace()
        || last == ':'
        || first.is_ascii_digit()
        || "-?:,[]{}#&*!|>'\"%@`.+".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.chars()
            .any(|c| c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'))
        || YAML11_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
    {
        return false;
    }
    matches!(Yaml::from_str(s), Yaml::String(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_parses() {
        let s = split("---\nname: a\ntools: [Read]\n---\n# Body\n").unwrap();
        assert_eq!(s.yaml, Some("name: a\ntools: [Read]\n"));
        assert_eq!(s.body, "# Body\n");
        assert_eq!(s.body_line, 5);
        let fm = parse(s.yaml.unwrap(), s.yaml_line).unwrap();
        assert_eq!(fm.name().as_deref(), Some("a"));
        assert_eq!(fm.tools(), vec!["Read"]);
    }

    #[test]
    fn no_frontmatter_and_crlf() {
        assert_eq!(split("# Title\n").unwrap().yaml, None);
        let s = split("---\r\nname: a\r\n---\r\nbody").unwrap();
        assert_eq!(s.body, "body");
    }

    #[test]
    fn finds_top_level_key_lines() {
        let yaml = "name: a\ndescription: >\n  long\n\"argument-hint\": x\n# c\ntools:\n  - Read\nurl: http://x\n";
        assert_eq!(
            key_lines(yaml, 2),
            vec![
                ("name".to_string(), 2),
                ("description".to_string(), 3),
                ("argument-hint".to_string(), 5),
                ("tools".to_string(), 7),
                ("url".to_string(), 9),
            ]
        );
    }

    #[test]
    fn errors_carry_file_lines() {
        assert_eq!(split("---\nname: a\n").unwrap_err().line, 1);
        let e = parse("name: a\ndescription: [unclosed\n", 2).unwrap_err();
        assert!(e.line >= 3, "{e:?}");
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
    }

    /// `key: value` and `list: [value]` lines written with [`yaml_scalar`] parse back to `s`.
    fn roundtrip(key: &str, s: &str) {
        let yaml = format!(
            "{}: {}\nlist: [{}]\n",
            yaml_scalar(key, false),
            yaml_scalar(s, false),
            yaml_scalar(s, true)
        );
        let back = parse(&yaml, 2).unwrap_or_else(|e| panic!("{e:?} in\n{yaml}"));
        let mut expect = Map::new();
        expect.insert(key.to_string(), Value::String(s.to_string()));
        expect.insert(
            "list".into(),
            Value::Array(vec![Value::String(s.to_string())]),
        );
        if key != "list" {
            assert_eq!(back.entries, expect, "emitted:\n{yaml}");
        }
    }

    #[test]
    fn scalars_are_bare_only_when_they_read_back_the_same() {
        let check = |s: &str, expect: &str| {
            assert_eq!(yaml_scalar(s, false), expect, "for {s:?}");
            roundtrip("k", s);
        };
        check("code-reviewer", "code-reviewer");
        check("Read, Grep", "Read, Grep");
        check("it's fine", "it's fine");
        check("a: b", "\"a: b\"");
        check("x #y", "\"x #y\"");
        check("ends:", "\"ends:\"");
        check("", "\"\"");
        check(" lead", "\" lead\"");
        check("yes", "\"yes\"");
        check("Null", "\"Null\"");
        check("42", "\"42\"");
        check("0x1F", "\"0x1F\"");
        check(".inf", "\".inf\"");
        check("1e3", "\"1e3\"");
        check("[a]", "\"[a]\"");
        check("*alias", "\"*alias\"");
        check("- item", "\"- item\"");
        check("say \"hi\"\\now", "say \"hi\"\\now");
        check("two\nlines\t\u{1}", "\"two\\nlines\\t\\u0001\"");
        assert_eq!(yaml_scalar("a,b", true), "\"a,b\"");
        assert_eq!(yaml_scalar("a,b", false), "a,b");
    }

    #[test]
    fn random_strings_round_trip() {
        use crate::test_rng::Rng;
        let pieces = [
            "a", "Z", "0", "7", " ", ":", ": ", "#", " #", "-", "- ", "?", "[", "]", "{", "}", ",",
            "'", "\"", "\\", "\n", "\t", "\r", "&", "*", "!", "|", ">", "%", "@", "`", "é", "漢",
            "\u{1}", "\u{2028}", "\u{feff}", ".", "+", "e", "x", "true", "null", "~", "---", "...",
            "0x", "inf", "\u{85}", "\u{7f}",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let len = rng.next() % 6;
            let s: String = (0..len).map(|_| rng.pick(&pieces)).collect();
            let key: String = (0..rng.next() % 4 + 1).map(|_| rng.pick(&pieces)).collect();
            roundtrip(&key, &s);
        }
    }

    /// The nested-alias document of the hostile-repository review (R5): nine lists of nine
    /// aliases to the previous one, `depth` levels.
    fn alias_bomb(depth: usize) -> String {
        let mut lines = vec![format!("a: &a [{}]", ["\"lol\""; 9].join(","))];
        for i in 1..depth {
            let (this, prev) = ((b'a' + i as u8) as char, (b'a' + i as u8 - 1) as char);
            lines.push(format!(
                "{this}: &{this} [{}]",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        format!("description: bomb\n{}\n", lines.join("\n"))
    }

    #[test]
    fn aliases_are_refused_with_their_line_before_anything_expands() {
        for depth in [2, 10, 16] {
            let yaml = alias_bomb(depth);
            let started = std::time::Instant::now();
            let e = parse(&yaml, 2).unwrap_err();
            assert_eq!(e.line, 4, "{e:?}");
            assert!(e.message.contains("aliases"), "{e:?}");
            // Not a speed claim: an expanding parser takes minutes and gigabytes here.
            assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        }
        // An anchor alone expands nothing and stays accepted.
        assert!(parse("description: &d text\n", 2).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_in_block_and_flow_style() {
        let block = format!("k:\n{}x\n", "- ".repeat(10_000));
        let e = parse(&block, 2).unwrap_err();
        assert!(e.message.contains("deep"), "{e:?}");
        let flow = format!("k: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse(&flow, 2).is_err());
        let ok = format!(
            "k: {}{}\n",
            "[".repeat(MAX_YAML_DEPTH - 1),
            "]".repeat(MAX_YAML_DEPTH - 1)
        );
        assert!(parse(&ok, 2).is_ok());
    }

    /// Bounded property test: random frontmatter built from YAML's awkward pieces never
    /// panics, and what it parses into is at most a small multiple of its size (no input
    /// expands: memory per input is linear), each input in well under a second.
    #[test]
    fn random_yaml_is_bounded_in_time_and_size() {
        use crate::test_rng::Rng;
        let pieces = [
            "a",
            "k: ",
            "- ",
            "  ",
            "\n",
            "[",
            "]",
            "{",
            "}",
            ",",
            ": ",
            "&x ",
            "*x",
            "&y ",
            "*y",
            "!!str ",
            "!t ",
            "|\n",
            ">-\n",
            "\"",
            "'",
            "\\",
            "#",
            "---\n",
            "...\n",
            "? ",
            "%YAML 1.2\n",
            "<<: ",
            "\t",
            "é",
            "\u{feff}",
            "\u{0}",
            "0x1",
            "~",
            "null",
        ];
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let started = std::time::Instant::now();
        let mut slowest = std::time::Duration::ZERO;
        let rounds = crate::test_rng::rounds(20_000);
        for _ in 0..rounds {
            let yaml: String = (0..rng.below(40)).map(|_| rng.pick(&pieces)).collect();
            let one = std::time::Instant::now();
            if let Ok(fm) = parse(&yaml, 2) {
                let out = serde_json::to_string(&fm.entries).unwrap();
                assert!(
                    out.len() <= 16 * yaml.len() + 64,
                    "{yaml:?} -> {} bytes",
                    out.len()
                );
            }
            slowest = slowest.max(one.elapsed());
        }
        assert!(slowest.as_millis() < 1000, "slowest input {slowest:?}");
        eprintln!(
            "{rounds} random frontmatters in {:?}, slowest {slowest:?}",
            started.elapsed()
        );
    }

    /// The plain-line fast path gives what the YAML library gives, wherever it answers.
    #[test]
    fn the_plain_line_path_agrees_with_the_yaml_library() {
        let pieces = [
            "name",
            "a",
            "Read, Grep",
            "yes",
            "no",
            "true",
            "Null",
            "~",
            "1",
            "0x1f",
            "1e3",
            ".5",
            "-",
            "- x",
            "? x",
            ":",
            ": ",
            " #",
            "#",
            "a#b",
            "[x]",
            "{x}",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "'q'",
            "\"q\"",
            "don't",
            "<path>",
            "%",
            "@",
            "`",
            "\t",
            " ",
            "  ",
            "a: b",
            "x:",
            "=",
            "+1",
            "é",
            "\r",
            ",",
            "]",
            "a b",
            "on",
            "OFF",
            "nan",
            ".inf",
            "---",
            "<<",
            "...",
            "!!str",
            "a:b",
            "\u{a0}",
            "\u{202e}",
            "\u{2028}",
            "\u{feff}",
            "\u{85}",
            "%YAML",
            "=:",
            "a\u{a0}#",
            "\\",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut accepted = 0;
        for _ in 0..40_000 {
            let mut yaml = String::new();
            for _ in 0..1 + next(4) {
                for half in 0..2 {
                    for _ in 0..1 + next(3) {
                        yaml.push_str(pieces[next(pieces.len())]);
                    }
                    if half == 0 {
                        yaml.push_str(if next(8) == 0 { ":" } else { ": " });
                    }
                }
                yaml.push('\n');
            }
            let Some(fast) = simple(&yaml) else {
                continue;
            };
            accepted += 1;
            check_bounded(&yaml, 2).unwrap_or_else(|e| panic!("{yaml:?}: {e:?}"));
            let docs = YamlLoader::load_from_str(&yaml).unwrap_or_else(|e| panic!("{yaml:?}: {e}"));
            let Some(Yaml::Hash(hash)) = docs.into_iter().next() else {
                panic!("{yaml:?} is not a mapping for the library");
            };
            let full: Map<String, Value> = hash
                .into_iter()
                .map(|(k, v)| match k {
                    Yaml::String(k) => (k, to_json(v)),
                    other => panic!("{yaml:?}: key {other:?}"),
                })
                .collect();
            assert_eq!(fast, full, "{yaml:?}");
        }
        assert!(
            accepted > 200,
            "only {accepted} blocks took the plain-line path"
        );
        let usual = "name: a\ndescription: Agent number 3\nmodel: sonnet\ntools: Read, Grep\n";
        assert_eq!(simple(usual).map(|m| m.len()), Some(4));
        assert_eq!(simple("argument-hint: <path>\n").map(|m| m.len()), Some(1));
        // The hostile review's cases, each read as the library reads it (or left to it): a
        // merge key, an alias or anchor or tag after the colon, CRLF, bidi controls, a BOM.
        for (yaml, fast) in [
            ("<<: x\n", true),
            ("a: *x\n", false),
            ("a: &x b\n", false),
            ("a: !!str b\n", false),
            ("a: b\r\nc: d\r\n", true),
            ("a: b\u{202e}c\n", true),
            ("\u{feff}a: b\n", false),
            ("a:\tb\n", false),
            ("a: b\n---\nc: d\n", false),
        ] {
            let got = simple(yaml);
            assert_eq!(got.is_some(), fast, "{yaml:?}");
            let Some(got) = got else { continue };
            let Some(Yaml::Hash(hash)) =
                YamlLoader::load_from_str(yaml).unwrap().into_iter().next()
            else {
                panic!("{yaml:?}");
            };
            let full: Map<String, Value> = (hash.into_iter())
                .map(|(k, v)| (k.into_string().unwrap(), to_json(v)))
                .collect();
            assert_eq!(got, full, "{yaml:?}");
        }
        // Left to the library: a quoted value, a list, a key twice, a comment.
        for other in [
            "a: 'x'\n",
            "a: [x]\n",
            "a: x\na: y\n",
            "# c\na: x\n",
            "a: yes\n",
        ] {
            assert_eq!(simple(other), None, "{other:?}");
        }
    }
}
