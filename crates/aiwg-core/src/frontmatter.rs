//! Splits a Markdown file into YAML frontmatter and body, and parses the YAML into
//! JSON-shaped values (keys kept in file order).

use serde_json::{Map, Number, Value};
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
    fn errors_carry_file_lines() {
        assert_eq!(split("---\nname: a\n").unwrap_err().line, 1);
        let e = parse("name: a\ndescription: [unclosed\n", 2).unwrap_err();
        assert!(e.line >= 3, "{e:?}");
        assert!(e.message.starts_with("invalid YAML"), "{e:?}");
    }
}
