//! MCP servers as a source describes them (`mcp/<name>.toml` or `.json`, one server each):
//! reading the file into a JSON-shaped map, the typed view every platform renders from
//! ([`McpServer`]), environment references (`${env:NAME}`), and the check that no secret is
//! written inline.
//!
//! A server is either stdio (`command`, `args`, `env`, `cwd`) or remote (`url`, `headers`,
//! `type = "http"` or `"sse"`). `description`, `enabled` and `platforms` (where it goes) are
//! optional; `[platform.<id>]` overrides keys for one platform, and any key there that is not
//! one of the above is written into that platform's entry as is.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The keys a server file may hold at its top level.
pub const KEYS: &[&str] = &[
    "name",
    "description",
    "type",
    "command",
    "args",
    "env",
    "cwd",
    "url",
    "headers",
    "enabled",
    "platforms",
    "platform",
];

/// The source keys an override table may replace; any other key in it passes through.
const OVERRIDABLE: &[&str] = &[
    "type", "command", "args", "env", "cwd", "url", "headers", "enabled",
];

/// One piece of a string value: literal text, or a reference to an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text written as is.
    Lit(String),
    /// `${env:NAME}`: the variable `NAME` of the client's environment.
    Env(String),
}

/// A string value of a server, split into literal text and environment references.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub Vec<Piece>);

impl Text {
    /// Parses `s`: `${env:NAME}` is a reference, `$$` a literal `$`; any other `$` followed
    /// by a name or `{` is an error (platforms would expand it differently).
    pub fn parse(s: &str) -> Result<Text, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(at) = rest.find('$') {
            lit.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                lit.push('$');
                rest = tail;
            } else if let Some(inner) = after.strip_prefix('{') {
                let Some(end) = inner.find('}') else {
                    return Err(format!("`{s}` has a `${{` without its `}}`"));
                };
                let reference = &inner[..end];
                let Some(name) = reference.strip_prefix("env:").filter(|n| is_env_name(n)) else {
                    return Err(format!(
                        "`${{{reference}}}` is not a reference aiwg knows (only `${{env:NAME}}`)"
                    ));
                };
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Env(name.to_string()));
                rest = &inner[end + 1..];
            } else if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                return Err(format!(
                    "`${name}` would be expanded by some platforms and not by others; write `${{env:{name}}}` (or `$${name}` for a literal `$`)"
                ));
            } else {
                lit.push('$');
                rest = after;
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Text(pieces))
    }

    /// A plain literal.
    pub fn lit(s: &str) -> Text {
        if s.is_empty() {
            Text(Vec::new())
        } else {
            Text(vec![Piece::Lit(s.to_string())])
        }
    }

    /// The variable, when the whole value is one reference.
    pub fn only_ref(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Piece::Env(name)] => Some(name),
            _ => None,
        }
    }

    /// True when the value holds a reference.
    pub fn has_ref(&self) -> bool {
        self.0.iter().any(|p| matches!(p, Piece::Env(_)))
    }

    /// The literal text, when there is no reference.
    pub fn literal(&self) -> Option<String> {
        (!self.has_ref()).then(|| self.render(|_| String::new()))
    }

    /// The value with each reference written by `reference` (`${NAME}`, `{env:NAME}`).
    pub fn render(&self, mut reference: impl FnMut(&str) -> String) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.clone(),
                Piece::Env(n) => reference(n),
            })
            .collect()
    }

    /// The value as the source spells it (`${env:NAME}`, `$$` for `$`).
    pub fn source_form(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.replace('$', "$$"),
                Piece::Env(n) => format!("${{env:{n}}}"),
            })
            .collect()
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How a client reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A local process on stdin/stdout.
    Stdio {
        /// The program.
        command: Text,
        /// Its arguments.
        args: Vec<Text>,
        /// The folder it starts in.
        cwd: Option<Text>,
    },
    /// Streamable HTTP at `url`.
    Http {
        /// The endpoint.
        url: Text,
    },
    /// The older HTTP + server-sent events transport at `url`.
    Sse {
        /// The endpoint.
        url: Text,
    },
}

impl Transport {
    /// `stdio`, `http` or `sse`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Stdio { .. } => "stdio",
            Transport::Http { .. } => "http",
            Transport::Sse { .. } => "sse",
        }
    }
}

/// One MCP server, for one platform (its overrides applied).
#[derive(Debug, Clone, PartialEq)]
pub struct McpServer {
    /// How it is reached.
    pub transport: Transport,
    /// Environment of a stdio server, in file order.
    pub env: Vec<(String, Text)>,
    /// HTTP headers of a remote server, in file order.
    pub headers: Vec<(String, Text)>,
    /// `enabled = false`: written switched off where the platform can say so.
    pub enabled: bool,
    /// Platform-native keys from `[platform.<id>]`, written into the entry as they are.
    pub extra: Map<String, Value>,
}

/// A problem in a server file: the top-level key it is about, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The top-level key (for the line number).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

fn problem(key: &str, message: impl Into<String>) -> Problem {
    Problem {
        key: key.to_string(),
        message: message.into(),
        hint: None,
    }
}

/// `platforms` of a server: the platform ids it is limited to (empty: every platform).
pub fn platforms(entries: &Map<String, Value>) -> Vec<String> {
    match entries.get("platforms") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The `[platform.<id>]` tables.
pub fn overrides(entries: &Map<String, Value>) -> BTreeMap<String, Map<String, Value>> {
    entries
        .get("platform")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_object()?.clone())))
                .collect()
        })
        .unwrap_or_default()
}

impl McpServer {
    /// The server for `platform` (`None`: without overrides), or every problem found.
    pub fn from_entries(
        entries: &Map<String, Value>,
        platform: Option<&str>,
    ) -> Result<McpServer, Vec<Problem>> {
        let mut out = Vec::new();
        let mut merged = entries.clone();
        let mut extra = Map::new();
        if let Some(id) = platform {
            if let Some(table) = overrides(entries).get(id) {
                for (k, v) in table {
                    if OVERRIDABLE.contains(&k.as_str()) {
                        merged.insert(k.clone(), v.clone());
                    } else {
                        extra.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let text = |key: &str, v: &Value, out: &mut Vec<Problem>| -> Option<Text> {
            match v {
                Value::String(s) => Text::parse(s).map_err(|e| out.push(problem(key, e))).ok(),
                _ => {
                    out.push(problem(key, format!("`{key}` must be a string")));
                    None
                }
            }
        };
        let map = |key: &str, out: &mut Vec<Problem>| -> Vec<(String, Text)> {
            match merged.get(key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(m)) => m
                    .iter()
                    .filter_map(|(k, v)| {
                        let label = format!("{key}.{k}");
                        if let Value::String(s) = v {
                            Text::parse(s)
                                .map_err(|e| out.push(problem(key, format!("`{label}`: {e}"))))
                                .ok()
                                .map(|t| (k.clone(), t))
                        } else {
                            out.push(problem(key, format!("`{label}` must be a string")));
                            None
                        }
                    })
                    .collect(),
                Some(_) => {
                    out.push(problem(key, format!("`{key}` must be a table of strings")));
                    Vec::new()
                }
            }
        };
        let kind = match merged.get("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => match t.as_str() {
                "stdio" | "http" | "sse" => Some(t.clone()),
                // Other tools' spellings of the same transports.
                "local" => Some("stdio".into()),
                "streamable-http" | "streamableHttp" | "remote" => Some("http".into()),
                _ => {
                    out.push(Problem {
                        key: "type".into(),
                        message: format!("unknown `type` `{t}`"),
                        hint: Some("use `stdio`, `http` or `sse`".into()),
                    });
                    None
                }
            },
            Some(_) => {
                out.push(problem("type", "`type` must be a string"));
                None
            }
        };
        let command = merged
            .get("command")
            .and_then(|v| text("command", v, &mut out));
        let url = merged.get("url").and_then(|v| text("url", v, &mut out));
        let args: Vec<Text> = match merged.get("args") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| text("args", v, &mut out))
                .collect(),
            Some(_) => {
                out.push(problem("args", "`args` must be a list of strings"));
                Vec::new()
            }
        };
        let cwd = merged.get("cwd").and_then(|v| text("cwd", v, &mut out));
        let env = map("env", &mut out);
        let headers = map("headers", &mut out);
        let enabled = match merged.get("enabled") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                out.push(problem("enabled", "`enabled` must be `true` or `false`"));
                true
            }
        };
        let remote = |url: Option<Text>, kind: &str, out: &mut Vec<Problem>| {
            if command.is_some() {
                out.push(problem(
                    "command",
                    format!("a `{kind}` server has a `url`, not a `command`"),
                ));
            }
            match url {
                Some(url) if kind == "sse" => Some(Transport::Sse { url }),
                Some(url) => Some(Transport::Http { url }),
                None => {
                    out.push(Problem {
                        key: "url".into(),
                        message: format!("a `{kind}` server needs `url`"),
                        hint: Some("add `url = \"https://...\"`".into()),
                    });
                    None
                }
            }
        };
        let transport = match (kind.as_deref(), command.clone(), url.clone()) {
            (Some("stdio") | None, Some(command), None) => Some(Transport::Stdio {
                command,
                args: args.clone(),
                cwd: cwd.clone(),
            }),
            (Some("stdio"), None, _) | (None, None, None) => {
                out.push(Problem {
                    key: "command".into(),
                    message: "a server needs `command` (stdio) or `url` (http, sse)".into(),
                    hint: Some(
                        "add `command = \"npx\"` and `args = [...]`, or `url = \"https://...\"`"
                            .into(),
                    ),
                });
                None
            }
            (Some("stdio") | None, Some(_), Some(_)) => {
                out.push(problem(
                    "url",
                    "a server has either `command` or `url`, not both",
                ));
                None
            }
            (None, None, Some(url)) => remote(Some(url), "http", &mut out),
            (Some(kind), _, url) => remote(url, kind, &mut out),
        };
        if let Some(t) = &transport {
            let stdio = matches!(t, Transport::Stdio { .. });
            for (key, used) in [
                ("args", !args.is_empty()),
                ("cwd", cwd.is_some()),
                ("env", !env.is_empty()),
            ] {
                if used && !stdio {
                    out.push(problem(
                        key,
                        format!("`{key}` is for stdio servers; a remote server has `headers`"),
                    ));
                }
            }
            if !headers.is_empty() && stdio {
                out.push(problem(
                    "headers",
                    "`headers` are for remote servers; a stdio server has `env`",
                ));
            }
        }
        for key in merged.keys() {
            if !KEYS.contains(&key.as_str()) && !extra.contains_key(key) {
                out.push(Problem {
                    key: key.clone(),
                    message: format!("unknown key `{key}`"),
                    hint: Some(format!(
                        "a server has {}; a platform's own keys go under `[platform.<id>]`",
                        KEYS.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                });
            }
        }
        match transport {
            Some(transport) if out.is_empty() => Ok(McpServer {
                transport,
                env,
                headers,
                enabled,
                extra,
            }),
            _ => Err(out),
        }
    }
}

/// Every problem of a server file: its shape, with and without each platform's overrides,
/// and every literal that looks like a secret.
pub fn check(entries: &Map<String, Value>) -> Vec<Problem> {
    let mut out = match McpServer::from_entries(entries, None) {
        Ok(_) => Vec::new(),
        Err(p) => p,
    };
    match entries.get("platforms") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => out.push(problem(
            "platforms",
            "`platforms` must be a list of platform ids",
        )),
    }
    match entries.get("platform") {
        None => {}
        Some(Value::Object(m)) => {
            for (id, table) in m {
                if !table.is_object() {
                    out.push(problem(
                        "platform",
                        format!("`platform.{id}` must be a table"),
                    ));
                    continue;
                }
                if let Err(problems) = McpServer::from_entries(entries, Some(id)) {
                    for mut p in problems {
                        if !out.contains(&p) {
                            p.message = format!("with `[platform.{id}]`: {}", p.message);
                            out.push(p);
                        }
                    }
                }
            }
        }
        Some(_) => out.push(problem(
            "platform",
            "`platform` must hold `[platform.<id>]` tables",
        )),
    }
    if entries
        .get("description")
        .is_some_and(|v| !v.is_null() && !v.is_string())
    {
        out.push(problem("description", "`description` must be a string"));
    }
    secrets(entries, &mut out);
    out
}

/// Every string of a server that looks like a secret, reported against its top-level key.
fn secrets(entries: &Map<String, Value>, out: &mut Vec<Problem>) {
    fn walk(top: &str, path: &str, name: Option<&str>, v: &Value, out: &mut Vec<Problem>) {
        match v {
            Value::String(s) => {
                if let Some(why) = secret_like(name, s) {
                    out.push(Problem {
                        key: top.to_string(),
                        message: format!(
                            "`{path}` {why}; a secret is never written into a config file"
                        ),
                        hint: Some(format!(
                            "put it in an environment variable and write `{}` here",
                            suggestion(name)
                        )),
                    });
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(top, &format!("{path}[{i}]"), name, item, out);
                }
            }
            Value::Object(m) => {
                for (k, item) in m {
                    walk(top, &format!("{path}.{k}"), Some(k), item, out);
                }
            }
            _ => {}
        }
    }
    for (k, v) in entries {
        if k == "description" || k == "name" {
            continue;
        }
        walk(k, k, Some(k), v, out);
    }
}

fn suggestion(name: Option<&str>) -> String {
    let var = name
        .map(|n| {
            n.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        })
        .filter(|n| is_env_name(n) && n != "ARGS" && n != "URL" && n != "AUTHORIZATION")
        .unwrap_or_else(|| "API_TOKEN".into());
    if name.is_some_and(|n| n.eq_ignore_ascii_case("authorization")) {
        "Bearer ${env:API_TOKEN}".into()
    } else {
        format!("${{env:{var}}}")
    }
}

/// Prefixes of well-known credential formats.
const SECRET_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "sk-",
    "sk_live_",
    "rk_live_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxs-",
    "AKIA",
    "ASIA",
    "AIza",
    "npm_",
    "pypi-",
    "hf_",
    "dop_v1_",
    "lin_api_",
    "sq0atp-",
    "shpat_",
];

/// Words of a key name (split at `_`) that say its value is a credential.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "PAT",
];

/// Parts of a key name that say the same across words (`GITHUB_API_KEY`).
const SECRET_PARTS: &[&str] = &["API_KEY", "ACCESS_KEY", "PRIVATE_KEY", "SECRET_KEY"];

/// Why the literal part of `value` (under key `name`) looks like a secret, if it does.
pub fn secret_like(name: Option<&str>, value: &str) -> Option<String> {
    let text = Text::parse(value).ok()?;
    let literal: Vec<&str> = text
        .0
        .iter()
        .filter_map(|p| match p {
            Piece::Lit(s) => Some(s.as_str()),
            Piece::Env(_) => None,
        })
        .collect();
    for part in &literal {
        for word in part.split(|c: char| {
            c.is_whitespace() || matches!(c, '=' | ':' | '/' | '?' | '&' | ',' | '"' | '\'' | '@')
        }) {
            if let Some(prefix) = SECRET_PREFIXES
                .iter()
                .find(|p| word.starts_with(*p) && word.len() >= p.len() + 12)
            {
                return Some(format!("holds what looks like a credential (`{prefix}…`)"));
            }
        }
    }
    let upper = name.unwrap_or("").to_ascii_uppercase().replace('-', "_");
    let secret_name = upper.split('_').any(|w| SECRET_WORDS.contains(&w))
        || SECRET_PARTS.iter().any(|p| upper.contains(p));
    let lit: String = literal.concat();
    let lit = lit.trim();
    // A number is a setting (`TOKEN_LIMIT = "4096"`), not a credential.
    let number = lit.bytes().all(|b| b.is_ascii_digit());
    if secret_name && !text.has_ref() && !lit.is_empty() && !number && !is_placeholder(lit) {
        return Some(format!(
            "is a literal value for a credential (`{}`)",
            name.unwrap_or("")
        ));
    }
    // `Authorization: Bearer <literal>` and the like.
    if upper == "AUTHORIZATION" || upper.ends_with("API_KEY") {
        let token = lit.rsplit(' ').next().unwrap_or("");
        if token.len() >= 8 && !is_placeholder(token) {
            return Some("is a literal credential".into());
        }
    }
    // A long random-looking run in any value (a token pasted into args or a URL).
    for part in &literal {
        for word in
            part.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '=')))
        {
            if looks_random(word) {
                return Some("holds a long random-looking string".into());
            }
        }
    }
    None
}

/// `<your-token>`, `YOUR_API_KEY`, `changeme`, `xxx`: text that stands for a value.
fn is_placeholder(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with('<') && l.ends_with('>')
        || l.contains("your")
        || l.contains("example")
        || l == "changeme"
        || l.chars().all(|c| c == 'x' || c == '*' || c == '.')
        || matches!(
            l.as_str(),
            "true" | "false" | "none" | "null" | "bearer" | "basic" | "oauth" | "1" | "0"
        )
}

/// 32 or more characters of letters and digits, with upper case, lower case and digits all
/// present: a token, not a word or a path.
fn looks_random(word: &str) -> bool {
    word.len() >= 32
        && word.chars().any(|c| c.is_ascii_uppercase())
        && word.chars().any(|c| c.is_ascii_lowercase())
        && word.chars().filter(char::is_ascii_digit).count() >= 4
}

/// The 1-based line of each top-level key of a file.
pub type KeyLines = Vec<(String, u32)>;

/// Reads a server file (`.toml` or `.json`) into its top-level map and the line of each
/// top-level key (and of each `[table]` header).
pub fn read(file_name: &str, text: &str) -> Result<(Map<String, Value>, KeyLines), (u32, String)> {
    if file_name.ends_with(".json") {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| (e.line() as u32, format!("not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err((1, "a server file holds one JSON object".into()));
        };
        let lines = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let t = l.trim_start();
                let indent = l.len() - t.len();
                let key = t.strip_prefix('"')?.split('"').next()?;
                (indent <= 2).then(|| (key.to_string(), i as u32 + 1))
            })
            .collect();
        return Ok((map, lines));
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1)
            .unwrap_or(1);
        (line, format!("not valid TOML: {}", e.message().trim()))
    })?;
    let value = serde_json::to_value(&table).map_err(|e| (1, e.to_string()))?;
    let Value::Object(map) = value else {
        return Err((1, "a server file holds one TOML table".into()));
    };
    let mut lines = Vec::new();
    let mut in_table = false;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(header) = t.strip_prefix('[') {
            in_table = true;
            let name = header
                .trim_start_matches('[')
                .split(['.', ']'])
                .next()
                .unwrap_or("")
                .trim();
            lines.push((name.trim_matches('"').to_string(), i as u32 + 1));
        } else if !in_table {
            if let Some((k, _)) = t.split_once('=') {
                let k = k.trim().trim_matches('"');
                if !k.starts_with('#') && !k.is_empty() {
                    lines.push((k.split('.').next().unwrap_or(k).to_string(), i as u32 + 1));
                }
            }
        }
    }
    Ok((map, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entries(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn references_parse_and_render() {
        let t = Text::parse("Bearer ${env:GH_TOKEN}!").unwrap();
        assert_eq!(
            t.0,
            vec![
                Piece::Lit("Bearer ".into()),
                Piece::Env("GH_TOKEN".into()),
                Piece::Lit("!".into())
            ]
        );
        assert_eq!(
            t.render(|n| format!("{{env:{n}}}")),
            "Bearer {env:GH_TOKEN}!"
        );
        assert_eq!(t.source_form(), "Bearer ${env:GH_TOKEN}!");
        assert_eq!(Text::parse("${env:X}").unwrap().only_ref(), Some("X"));
        assert_eq!(
            Text::parse("a$$b").unwrap().literal().as_deref(),
            Some("a$b")
        );
        assert_eq!(
            Text::parse("50$ off").unwrap().literal().as_deref(),
            Some("50$ off")
        );
        assert!(Text::parse("$HOME/x").unwrap_err().contains("${env:HOME}"));
        assert!(Text::parse("${HOME}")
            .unwrap_err()
            .contains("only `${env:NAME}`"));
        assert!(Text::parse("${env:1X}").is_err());
        assert!(Text::parse("${env:X").is_err());
    }

    #[test]
    fn shapes() {
        let ok = McpServer::from_entries(
            &entries(json!({"command": "npx", "args": ["-y", "x"]})),
            None,
        )
        .unwrap();
        assert_eq!(ok.transport.as_str(), "stdio");
        let http =
            McpServer::from_entries(&entries(json!({"url": "https://x/mcp"})), None).unwrap();
        assert_eq!(http.transport.as_str(), "http");
        let sse = McpServer::from_entries(
            &entries(json!({"type": "sse", "url": "https://x/sse"})),
            None,
        )
        .unwrap();
        assert_eq!(sse.transport.as_str(), "sse");
        let msg = |v: Value| -> Vec<String> {
            McpServer::from_entries(&entries(v), None)
                .unwrap_err()
                .into_iter()
                .map(|p| p.message)
                .collect()
        };
        assert_eq!(
            msg(json!({})),
            ["a server needs `command` (stdio) or `url` (http, sse)"]
        );
        assert_eq!(
            msg(json!({"command": "a", "url": "b"})),
            ["a server has either `command` or `url`, not both"]
        );
        assert_eq!(msg(json!({"type": "sse"})), ["a `sse` server needs `url`"]);
        assert_eq!(msg(json!({"type": "ws", "url": "x"})).len(), 1);
        assert_eq!(
            msg(json!({"command": "a", "headers": {"A": "b"}})),
            ["`headers` are for remote servers; a stdio server has `env`"]
        );
        assert_eq!(
            msg(json!({"command": "a", "colour": 1}))[0],
            "unknown key `colour`"
        );
        assert_eq!(
            msg(json!({"command": "a", "env": {"A": 1}})),
            ["`env.A` must be a string"]
        );
    }

    #[test]
    fn overrides_replace_source_keys_and_pass_native_ones() {
        let e = entries(json!({
            "command": "npx", "args": ["a"],
            "platform": {"codex": {"args": ["b"], "startup_timeout_sec": 20}}
        }));
        let s = McpServer::from_entries(&e, Some("codex")).unwrap();
        assert!(matches!(&s.transport, Transport::Stdio { args, .. } if args[0] == Text::lit("b")));
        assert_eq!(s.extra.get("startup_timeout_sec"), Some(&json!(20)));
        let plain = McpServer::from_entries(&e, Some("cursor")).unwrap();
        assert!(plain.extra.is_empty());
    }

    #[test]
    fn secrets_are_refused_with_a_hint() {
        let check_one = |v: Value| -> Vec<Problem> { check(&entries(v)) };
        let p = check_one(
            json!({"command": "x", "env": {"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}}),
        ); // secret-guard: allow
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("credential"), "{}", p[0].message);
        assert_eq!(
            p[0].hint.as_deref(),
            Some("put it in an environment variable and write `${env:GITHUB_TOKEN}` here")
        );
        let p = check_one(
            json!({"url": "https://x", "headers": {"Authorization": "Bearer abcdef123456"}}),
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("Bearer ${env:API_TOKEN}"));
        let p = check_one(json!({"command": "x", "args": ["--key=sk-ant-0123456789abcdefghij"]})); // secret-guard: allow
        assert_eq!(p.len(), 1, "{p:?}");
        let p = check_one(json!({"command": "x", "env": {"DB_PASSWORD": "hunter2"}}));
        assert_eq!(p.len(), 1, "{p:?}");
        // References, placeholders and ordinary values pass.
        for ok in [
            json!({"command": "x", "env": {"GITHUB_TOKEN": "${env:GITHUB_TOKEN}", "LOG": "debug"}}),
            json!({"url": "https://x", "headers": {"Authorization": "Bearer ${env:T}"}}),
            json!({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/projects"]}),
            json!({"command": "x", "env": {"AUTH_TYPE": "oauth", "API_KEY": "<your-key>"}}),
            json!({"command": "x", "env": {"OAUTH_CALLBACK_PORT": "8080", "TOKEN_LIMIT": "4096", "MAX_TOKENS": "big"}}),
        ] {
            assert_eq!(check_one(ok.clone()), vec![], "{ok}");
        }
        let p = check_one(json!({"command": "x", "args": ["aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG"]})); // secret-guard: allow
        assert_eq!(p.len(), 1, "{p:?}");
    }

    #[test]
    fn reads_toml_and_json_with_lines() {
        let (m, lines) = read(
            "gh.toml",
            "description = \"GitHub\"\ncommand = \"npx\"\n\n[env]\nA = \"b\"\n\n[platform.codex]\nx = 1\n",
        )
        .unwrap();
        assert_eq!(m["command"], "npx");
        assert_eq!(m["platform"]["codex"]["x"], 1);
        assert!(lines.contains(&("env".to_string(), 4)));
        assert!(lines.contains(&("platform".to_string(), 7)));
        let (m, lines) = read("gh.json", "{\n  \"command\": \"npx\"\n}\n").unwrap();
        assert_eq!(m["command"], "npx");
        assert_eq!(lines, vec![("command".to_string(), 2)]);
        assert_eq!(read("x.toml", "a = \n").unwrap_err().0, 1);
        assert!(read("x.json", "[1]")
            .unwrap_err()
            .1
            .contains("one JSON object"));
    }
}
