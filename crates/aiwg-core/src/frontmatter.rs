//! Splits a Markdown file into YAML frontmatter and body, parses the YAML into
//! JSON-shaped values (keys kept in file order), and writes such values back out as YAML
//! ([`emit_yaml`]) that this parser reads back to the same values.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

use yaml_rust2::{Yaml, YamlLoader};

use crate::model::Frontmatter;

/// Why a frontmatter block could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontmatterError {
    /// 1-based line in the whole file.
    pub line: u32,
    pub message: String,
}

/// A file split into frontmatter and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<'a> {
    /// The YAML text between the `---` lines, if the file starts with one.
    pub yaml: Option<&'a str>,
    /// The 1-based line of the first YAML line.
    pub yaml_line: u32,
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

/// Parses the YAML of a frontmatter block that starts at `first_line` of its file.
/// An empty block is an empty map; anything but a mapping at the top is an error.
pub fn parse(yaml: &str, first_line: u32) -> Result<Frontmatter, FrontmatterError> {
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

/// The file line of every top-level key of a frontmatter block whose first line is
/// `first_line`: lines with `key:` at column 0 (quotes around the key removed). A key written
/// some other way is not listed; callers fall back to the block's first line.
pub fn key_lines(yaml: &str, first_line: u32) -> Vec<(String, u32)> {
    let mut keys = Vec::new();
    for (i, line) in yaml.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) || line.is_empty() {
            continue;
        }
        let Some(colon) = line
            .char_indices()
            .find(|&(at, c)| {
                c == ':'
                    && line[at + 1..]
                        .chars()
                        .next()
                        .is_none_or(char::is_whitespace)
            })
            .map(|(at, _)| at)
        else {
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

impl Frontmatter {
    /// The YAML text (no `---` fences) of the entries whose key passes `keep`, in file order.
    /// Reading it back with [`parse`] gives the same values.
    pub fn to_yaml_filtered(&self, keep: impl Fn(&str) -> bool) -> String {
        let kept: Map<String, Value> = self
            .entries
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        emit_yaml(&kept)
    }

    /// The YAML text of every entry (see [`Frontmatter::to_yaml_filtered`]).
    pub fn to_yaml(&self) -> String {
        self.to_yaml_filtered(|_| true)
    }
}

/// Writes `map` as a block YAML mapping, one `key: value` per line, nested lists and maps
/// indented by two spaces, strings quoted only when a plain scalar would read back as
/// something else (a number, a bool, null, a comment, a flow collection ...). Every line ends
/// with `\n`; an empty map is an empty string. [`parse`] reads the output back to `map`.
pub fn emit_yaml(map: &Map<String, Value>) -> String {
    let mut out = String::new();
    emit_entries(&mut out, map, 0);
    out
}

fn emit_entries(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        pad(out, indent);
        push_scalar_str(out, key);
        out.push(':');
        match value {
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                emit_items(out, items, indent + 2);
            }
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_entries(out, inner, indent + 2);
            }
            other => {
                out.push(' ');
                push_inline(out, other);
                out.push('\n');
            }
        }
    }
}

fn emit_items(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        // A nested block collection starts on the dash's line (`- key: v` / `- - a`): emit it
        // one level deeper, then put the dash over the first line's indentation.
        let nested = match item {
            Value::Array(inner) if !inner.is_empty() => {
                let mut block = String::new();
                emit_items(&mut block, inner, indent + 2);
                Some(block)
            }
            Value::Object(inner) if !inner.is_empty() => {
                let mut block = String::new();
                emit_entries(&mut block, inner, indent + 2);
                Some(block)
            }
            _ => None,
        };
        pad(out, indent);
        out.push_str("- ");
        match nested {
            Some(block) => out.push_str(&block[indent + 2..]),
            None => {
                push_inline(out, item);
                out.push('\n');
            }
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A value that fits after `key: ` or `- ` on one line: a scalar or an empty collection.
fn push_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => push_scalar_str(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn push_scalar_str(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
        return;
    }
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

    fn roundtrip(map: &Map<String, Value>) {
        let yaml = emit_yaml(map);
        let back = parse(&yaml, 2).unwrap_or_else(|e| panic!("{e:?} in\n{yaml}"));
        assert_eq!(&back.entries, map, "emitted:\n{yaml}");
    }

    fn check_emit(value: Value, expect: &str) {
        let map = value.as_object().unwrap().clone();
        assert_eq!(emit_yaml(&map), expect, "for {value}");
        roundtrip(&map);
    }

    #[test]
    fn emits_plain_and_quoted_scalars() {
        use serde_json::json;
        check_emit(json!({"name": "code-reviewer"}), "name: code-reviewer\n");
        check_emit(json!({"tools": "Read, Grep"}), "tools: Read, Grep\n");
        check_emit(json!({"d": "it's fine"}), "d: it's fine\n");
        check_emit(json!({"d": "a: b"}), "d: \"a: b\"\n");
        check_emit(json!({"d": "x #y"}), "d: \"x #y\"\n");
        check_emit(json!({"d": "ends:"}), "d: \"ends:\"\n");
        check_emit(json!({"d": ""}), "d: \"\"\n");
        check_emit(json!({"d": " lead"}), "d: \" lead\"\n");
        check_emit(json!({"d": "yes"}), "d: \"yes\"\n");
        check_emit(json!({"d": "Null"}), "d: \"Null\"\n");
        check_emit(json!({"d": "42"}), "d: \"42\"\n");
        check_emit(json!({"d": "0x1F"}), "d: \"0x1F\"\n");
        check_emit(json!({"d": ".inf"}), "d: \".inf\"\n");
        check_emit(json!({"d": "1e3"}), "d: \"1e3\"\n");
        check_emit(json!({"d": "[a]"}), "d: \"[a]\"\n");
        check_emit(json!({"d": "*alias"}), "d: \"*alias\"\n");
        check_emit(json!({"d": "- item"}), "d: \"- item\"\n");
        check_emit(json!({"d": "say \"hi\"\\now"}), "d: say \"hi\"\\now\n");
        check_emit(
            json!({"d": "two\nlines\t\u{1}"}),
            "d: \"two\\nlines\\t\\u0001\"\n",
        );
        check_emit(json!({"d": "\"q\""}), "d: \"\\\"q\\\"\"\n");
        check_emit(
            json!({"num": 3, "f": 1.5, "neg": -2, "t": true, "z": null}),
            "num: 3\nf: 1.5\nneg: -2\nt: true\nz: null\n",
        );
        check_emit(json!({"key with: colon": 1}), "\"key with: colon\": 1\n");
    }

    #[test]
    fn emits_collections() {
        use serde_json::json;
        check_emit(
            json!({"tools": ["Read", "Grep"]}),
            "tools:\n  - Read\n  - Grep\n",
        );
        check_emit(json!({"e": [], "m": {}}), "e: []\nm: {}\n");
        check_emit(
            json!({"metadata": {"author": "me", "version": "1.0"}}),
            "metadata:\n  author: me\n  version: \"1.0\"\n",
        );
        check_emit(
            json!({"hooks": [{"event": "PreToolUse", "matcher": "Bash"}, {"event": "Stop"}]}),
            "hooks:\n  - event: PreToolUse\n    matcher: Bash\n  - event: Stop\n",
        );
        check_emit(
            json!({"grid": [["a", "b"], [], [1, [true]]]}),
            "grid:\n  - - a\n    - b\n  - []\n  - - 1\n    - - true\n",
        );
        check_emit(
            json!({"deep": {"a": {"b": ["x"]}}}),
            "deep:\n  a:\n    b:\n      - x\n",
        );
        assert_eq!(emit_yaml(&Map::new()), "");
    }

    #[test]
    fn filtered_keeps_order_and_selected_keys() {
        let s = split("---\nname: a\nmodel: opus\ndescription: \"x: y\"\ncustom: [1, 2]\n---\n")
            .unwrap();
        let fm = parse(s.yaml.unwrap(), s.yaml_line).unwrap();
        assert_eq!(
            fm.to_yaml_filtered(|k| k != "model"),
            "name: a\ndescription: \"x: y\"\ncustom:\n  - 1\n  - 2\n"
        );
        assert_eq!(parse(&fm.to_yaml(), 2).unwrap().entries, fm.entries);
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
            let mut map = Map::new();
            map.insert(key, Value::String(s.clone()));
            map.insert("list".into(), Value::Array(vec![Value::String(s)]));
            roundtrip(&map);
        }
    }
}
