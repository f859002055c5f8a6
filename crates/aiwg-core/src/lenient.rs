//! Real-world frontmatter: what the platforms themselves accept, read as its author meant,
//! with a [`Recovered`] note for each value strict YAML reads otherwise (or not at all).
//!
//! Claude Code and the Node aiwg read frontmatter line by line (`key: value`), so files in
//! the wild hold values strict YAML rejects, such as
//! `argument-hint: "<x> [--guidance "text"]"` (quotes inside quotes) or
//! `argument-hint: [dir] [--flag]` (a flow list followed by more text), and values it reads
//! as something else: `argument-hint: [dir --flag]` is a one-item list, not the hint text.
//! [`parse`] tries strict YAML first; only when that fails with a syntax error does it read
//! the block entry by entry, taking a one-line entry that still fails as the text after its
//! `key: ` (an unquoted `: ` included), unless it opens a `[` or `{` in a key that is not free
//! text (`tools: [Read, Grep` stays an error). Everything aiwg writes goes through
//! [`crate::frontmatter::yaml_scalar`], so the recovered text comes out as valid YAML.

use serde_json::Value;

use crate::frontmatter::{self, FrontmatterError};
use crate::model::Frontmatter;

/// Keys whose value is free text a platform shows or matches as written: a YAML list or map
/// there is a bracket the author typed, not structure.
const TEXT_KEYS: [&str; 2] = ["argument-hint", "description"];

/// One frontmatter value that was read leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The 1-based file line of the key.
    pub line: u32,
    /// The key (`argument-hint`).
    pub key: String,
    /// Why strict YAML did not read it as written (`is not valid YAML (...)`).
    pub problem: String,
    /// The text it was read as.
    pub text: String,
}

impl Recovered {
    /// The line to write instead, which every YAML reader takes as [`Recovered::text`].
    pub fn fix(&self) -> String {
        format!(
            "{}: {}",
            frontmatter::yaml_scalar(&self.key, false),
            frontmatter::yaml_scalar(&self.text, false)
        )
    }
}

/// Parses a frontmatter block as [`frontmatter::parse`] does, recovering the values the
/// platforms read as text (see the module documentation). A block that is still not
/// readable entry by entry keeps the strict parser's error.
pub fn parse(
    yaml: &str,
    first_line: u32,
) -> Result<(Frontmatter, Vec<Recovered>), FrontmatterError> {
    let mut recovered = Vec::new();
    let mut fm = match frontmatter::parse(yaml, first_line) {
        Ok(fm) => fm,
        // Only a syntax error is worth a second reading; any other refusal stands.
        Err(e) if !e.message.starts_with("invalid YAML") => return Err(e),
        Err(e) => match by_entry(yaml, first_line, &mut recovered) {
            Some(fm) => fm,
            None => return Err(e),
        },
    };
    for entry in entries(yaml) {
        let Some((key, raw)) = one_line_value(&entry.text) else {
            continue;
        };
        if !TEXT_KEYS.contains(&key.as_str()) || recovered.iter().any(|r| r.key == key) {
            continue;
        }
        let Some(value) = fm.entries.get_mut(&key) else {
            continue;
        };
        if value.is_array() || value.is_object() {
            let kind = if value.is_array() { "a list" } else { "a map" };
            recovered.push(Recovered {
                line: first_line + entry.line,
                key: key.clone(),
                problem: format!("is {kind} in strict YAML"),
                text: raw.clone(),
            });
            *value = Value::String(raw);
        }
    }
    recovered.sort_by_key(|r| r.line);
    Ok((fm, recovered))
}

/// One top-level entry of a block: its key line and the indented lines under it.
struct Entry {
    /// 0-based line of the key inside the block.
    line: u32,
    text: String,
}

/// The top-level entries of `yaml`, or an entry-less list when a top-level line is not a
/// `key:` line (a list, a bare word): then the block cannot be read entry by entry.
fn entries(yaml: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, line) in yaml.lines().enumerate() {
        let continues = line.is_empty() || line.starts_with([' ', '\t', '#']);
        match out.last_mut() {
            Some(entry) if continues => {
                entry.text.push('\n');
                entry.text.push_str(line);
            }
            _ if continues => {}
            _ => out.push(Entry {
                line: i as u32,
                text: line.to_string(),
            }),
        }
    }
    out
}

/// `(key, value text)` of an entry written on one line (`key: value`, nothing but blank or
/// comment lines under it), the value trimmed.
fn one_line_value(entry: &str) -> Option<(String, String)> {
    let mut lines = entry.lines();
    let first = lines.next()?;
    if lines.any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        return None;
    }
    let (key, _) = frontmatter::key_lines(first, 0).into_iter().next()?;
    let colon = frontmatter::key_colon(first)?;
    let value = first[colon + 1..].trim();
    (!value.is_empty()).then(|| (key, value.to_string()))
}

/// Reads `yaml` one top-level entry at a time; an entry strict YAML rejects is taken as the
/// text after its `key: ` (outer quotes removed) when it is written on one line.
fn by_entry(yaml: &str, first_line: u32, recovered: &mut Vec<Recovered>) -> Option<Frontmatter> {
    let mut fm = Frontmatter {
        entries: Default::default(),
        first_line,
    };
    for entry in entries(yaml) {
        let line = first_line + entry.line;
        match frontmatter::parse(&entry.text, line) {
            Ok(one) if one.entries.len() == 1 => {
                let (key, value) = one.entries.into_iter().next()?;
                if fm.entries.insert(key, value).is_some() {
                    return None; // a duplicate key: leave it to the strict error
                }
            }
            Ok(_) => return None,
            Err(e) if !e.message.starts_with("invalid YAML") => return None,
            Err(e) => {
                let (key, raw) = one_line_value(&entry.text)?;
                // `tools: [Read, Grep` is a list left open, not text: as text it would be
                // a wrong list.
                if raw.starts_with(['[', '{']) && !TEXT_KEYS.contains(&key.as_str()) {
                    return None;
                }
                // `*name` and `&name` are YAML's aliases and anchors, which frontmatter refuses:
                // never text by the back door.
                if raw.starts_with(['*', '&']) {
                    return None;
                }
                let text = strip_outer_quotes(&raw).to_string();
                let problem = e
                    .message
                    .strip_prefix("invalid YAML: ")
                    .unwrap_or(&e.message)
                    .to_string();
                if fm
                    .entries
                    .insert(key.clone(), Value::String(text.clone()))
                    .is_some()
                {
                    return None;
                }
                recovered.push(Recovered {
                    line,
                    key,
                    problem: format!("is not valid YAML ({problem})"),
                    text,
                });
            }
        }
    }
    Some(fm)
}

/// `"text"` or `'text'` without the quotes the author put around the whole value.
fn strip_outer_quotes(raw: &str) -> &str {
    for q in ['"', '\''] {
        if raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q) {
            return &raw[1..raw.len() - 1];
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(fm: &Frontmatter, key: &str) -> String {
        fm.str(key).unwrap_or_else(|| panic!("no {key}: {fm:?}"))
    }

    #[test]
    fn valid_yaml_is_untouched() {
        let (fm, rec) = parse("name: a\ntools: [Read, Grep]\nargument-hint: <x> [y]\n", 2).unwrap();
        assert!(rec.is_empty(), "{rec:?}");
        assert_eq!(fm.tools(), vec!["Read", "Grep"]);
        assert_eq!(text(&fm, "argument-hint"), "<x> [y]");
    }

    #[test]
    fn quotes_inside_quotes_are_the_text_inside_the_outer_ones() {
        let yaml =
            "description: d\nargument-hint: \"<topic> [--guidance \"text\"]\"\nmodel: haiku\n";
        let (fm, rec) = parse(yaml, 2).unwrap();
        assert_eq!(text(&fm, "argument-hint"), "<topic> [--guidance \"text\"]");
        assert_eq!(text(&fm, "model"), "haiku");
        assert_eq!(rec.len(), 1);
        assert_eq!(rec[0].line, 3);
        assert!(rec[0].problem.starts_with("is not valid YAML"), "{rec:?}");
        // The fix reads back, strictly, as the same text.
        let fixed = frontmatter::parse(&rec[0].fix(), 1).unwrap();
        assert_eq!(text(&fixed, "argument-hint"), rec[0].text);
    }

    #[test]
    fn brackets_followed_by_more_text_are_text() {
        let yaml = "description: d\nargument-hint: [change-type] [--guidance \"text\"] [--interactive]\nallowed-tools: Task, Read\n";
        let (fm, rec) = parse(yaml, 2).unwrap();
        assert_eq!(
            text(&fm, "argument-hint"),
            "[change-type] [--guidance \"text\"] [--interactive]"
        );
        assert_eq!(fm.tools(), vec!["Task", "Read"]);
        assert_eq!(rec.len(), 1);
    }

    #[test]
    fn a_list_in_a_text_key_is_the_text_the_author_wrote() {
        let yaml =
            "description: d\nargument-hint: [project-directory --interactive]\ntools: [Read]\n";
        let (fm, rec) = parse(yaml, 2).unwrap();
        assert_eq!(
            text(&fm, "argument-hint"),
            "[project-directory --interactive]"
        );
        assert_eq!(fm.tools(), vec!["Read"], "other keys keep their lists");
        assert_eq!(rec.len(), 1);
        assert!(rec[0].problem.contains("a list"), "{rec:?}");
        let fixed = frontmatter::parse(&rec[0].fix(), 1).unwrap();
        assert_eq!(text(&fixed, "argument-hint"), rec[0].text);
    }

    #[test]
    fn what_cannot_be_read_entry_by_entry_keeps_the_strict_error() {
        // A multi-line value that is broken, a top-level list, a duplicate key.
        for yaml in [
            "description: [a,\n  b: c: d\n",
            "- a\nb: \"x\" y\n",
            "a: \"x\" y\na: \"x\" z\n",
            "name: a\ntools: [Read, Grep\n",
        ] {
            let e = parse(yaml, 2).unwrap_err();
            assert!(e.message.starts_with("invalid YAML"), "{yaml:?}: {e:?}");
        }
    }

    #[test]
    fn refusals_that_are_not_syntax_errors_stand() {
        // An alias is refused, alone or beside an entry the fallback would read as text.
        for yaml in [
            "a: &x [1]\nb: *x\n",
            "argument-hint: \"<x> \"y\"\"\na: &x [1]\nb: *x\n",
        ] {
            let e = parse(yaml, 2).unwrap_err();
            assert!(
                e.message.contains("aliases") || e.message.starts_with("invalid YAML"),
                "{yaml:?}: {e:?}"
            );
        }
    }

    #[test]
    fn an_unquoted_colon_is_text() {
        let (fm, rec) = parse("name: a\ndescription: Use: this, then that\n", 2).unwrap();
        assert_eq!(text(&fm, "description"), "Use: this, then that");
        assert_eq!(rec.len(), 1);
    }

    #[test]
    fn comments_and_blank_lines_between_entries_are_fine() {
        let yaml = "# c\nname: a\n\nargument-hint: \"a \"b\"\"\n  # trailing\nmodel: opus\n";
        let (fm, rec) = parse(yaml, 2).unwrap();
        assert_eq!(text(&fm, "argument-hint"), "a \"b\"");
        assert_eq!(text(&fm, "model"), "opus");
        assert_eq!(rec[0].line, 5);
    }
}
