//! YAML output: frontmatter blocks (one line per key) and whole YAML documents.
//!
//! Frontmatter keeps every key on one line — nested lists and maps are written in flow style
//! (`[a, b]`, `{k: v}`) and multi-line strings as double-quoted escapes — because some skill
//! loaders (OpenClaw) read single-line keys only. Whole documents (`config.yaml`) use block
//! style with literal `|` scalars for multi-line text.
//!
//! Strings go through [`aiwg_core::frontmatter::yaml_scalar`], the one quoting rule.

use aiwg_core::frontmatter::yaml_scalar;
use serde_json::{Map, Value};

/// `---\n<keys>---\n`, or an empty string when `map` is empty (no frontmatter at all).
pub fn frontmatter_block(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let mut out = String::from("---\n");
    out.push_str(&emit_frontmatter(map));
    out.push_str("---\n");
    out
}

/// The `key: value` lines of a frontmatter block, one line per key.
pub fn emit_frontmatter(map: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (key, value) in map {
        out.push_str(&key_text(key));
        out.push(':');
        let v = flow(value, false);
        if !v.is_empty() {
            out.push(' ');
            out.push_str(&v);
        }
        out.push('\n');
    }
    out
}

/// A block-style YAML document for `value` (a map at the top).
pub fn emit_document(value: &Value) -> String {
    let mut out = String::new();
    block(value, 0, &mut out);
    out
}

fn key_text(key: &str) -> String {
    yaml_scalar(key, true).into_owned()
}

/// One value in flow style (`in_flow`: inside `[...]`/`{...}`, where `,[]{}` are special).
fn flow(value: &Value, in_flow: bool) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s, in_flow),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|v| flow(v, true)).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k), flow(v, true)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                out.push_str(&pad);
                out.push_str(&key_text(k));
                out.push(':');
                nested(v, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // First key on the dash line, the rest indented under it.
                        let mut first = true;
                        for (k, v) in map {
                            if first {
                                out.push(' ');
                                first = false;
                            } else {
                                out.push_str(&" ".repeat(indent + 2));
                            }
                            out.push_str(&key_text(k));
                            out.push(':');
                            nested(v, indent + 2, out);
                        }
                    }
                    other => nested(other, indent, out),
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&flow(other, false));
            out.push('\n');
        }
    }
}

/// The value after `key:` (or `-`) in block style, starting right after the colon.
fn nested(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            block(value, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            block(value, indent + 2, out);
        }
        Value::String(s) if s.contains('\n') && literal_ok(s) => {
            let chomp = if s.ends_with("\n\n") {
                "+"
            } else if s.ends_with('\n') {
                ""
            } else {
                "-"
            };
            out.push_str(" |");
            out.push_str(chomp);
            out.push('\n');
            let pad = " ".repeat(indent + 2);
            for line in s.trim_end_matches('\n').split('\n') {
                if !line.is_empty() {
                    out.push_str(&pad);
                    out.push_str(line);
                }
                out.push('\n');
            }
            if chomp == "+" {
                for _ in 0..s.len() - s.trim_end_matches('\n').len() - 1 {
                    out.push('\n');
                }
            }
        }
        other => {
            out.push(' ');
            out.push_str(&flow(other, false));
            out.push('\n');
        }
    }
}

/// A literal block keeps text exactly when no line has leading spaces on the first line,
/// tabs or trailing spaces that a reader could fold away, and no control characters.
fn literal_ok(s: &str) -> bool {
    !s.starts_with(' ')
        && !s.starts_with('\n')
        && !s
            .chars()
            .any(|c| c == '\t' || c == '\r' || (c.is_control() && c != '\n'))
        && !s.lines().any(|l| l.ends_with(' '))
}

fn scalar(s: &str, in_flow: bool) -> String {
    yaml_scalar(s, in_flow).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Emits `value` as frontmatter, parses it back with the core parser, and compares.
    fn check_frontmatter(value: Value, expect: &str) {
        let map = value.as_object().unwrap().clone();
        let text = emit_frontmatter(&map);
        assert_eq!(text, expect);
        let parsed = aiwg_core::frontmatter::parse(&text, 2).unwrap();
        assert_eq!(Value::Object(parsed.entries), value, "round trip of {text}");
    }

    #[test]
    fn frontmatter_scalars_round_trip() {
        check_frontmatter(
            json!({"name": "x", "count": 3, "b": true}),
            "name: x\ncount: 3\nb: true\n",
        );
        check_frontmatter(json!({"d": "Use it: now"}), "d: \"Use it: now\"\n");
        check_frontmatter(json!({"d": "yes"}), "d: \"yes\"\n");
        // YAML 1.1 readers take a bare `n` for false, as a key too.
        check_frontmatter(json!({"n": 1}), "\"n\": 1\n");
        check_frontmatter(json!({"d": "1.0"}), "d: \"1.0\"\n");
        check_frontmatter(json!({"d": "*.rs"}), "d: \"*.rs\"\n");
        check_frontmatter(json!({"d": "a\nb \"q\""}), "d: \"a\\nb \\\"q\\\"\"\n");
        check_frontmatter(json!({"d": ""}), "d: \"\"\n");
        check_frontmatter(
            json!({"argument-hint": "<service> [env]"}),
            "argument-hint: <service> [env]\n",
        );
    }

    #[test]
    fn frontmatter_nested_is_one_line() {
        check_frontmatter(
            json!({"globs": ["**/*.rs", "src/a,b"], "metadata": {"framework": "sdlc"}}),
            "globs: [\"**/*.rs\", \"src/a,b\"]\nmetadata: {framework: sdlc}\n",
        );
        check_frontmatter(json!({"tools": {"bash": false}}), "tools: {bash: false}\n");
        check_frontmatter(json!({"e": []}), "e: []\n");
    }

    #[test]
    fn documents_use_block_style() {
        let v = json!({"custom_agent": {"sections": [{"title": "Role", "content": "line 1\n\n  indented\n"}], "tool_names": ["view_file"]}});
        let text = emit_document(&v);
        assert_eq!(
            text,
            "custom_agent:\n  sections:\n    - title: Role\n      content: |\n        line 1\n\n          indented\n  tool_names:\n    - view_file\n"
        );
        let parsed = aiwg_core::frontmatter::parse(&text, 1).unwrap();
        assert_eq!(Value::Object(parsed.entries), v);
        for s in ["no newline\nat end", "two\n\n", " lead\nx"] {
            let v = json!({"k": s});
            let parsed = aiwg_core::frontmatter::parse(&emit_document(&v), 1).unwrap();
            assert_eq!(Value::Object(parsed.entries), v, "{s:?}");
        }
    }
}
