//! MCP servers already configured in a repository (`.mcp.json`, `.cursor/mcp.json`,
//! `.vscode/mcp.json`, Codex `[mcp_servers]`, `opencode.json`, Gemini and Qwen settings, as
//! each platform's `[[mcp.file]]` names them) or, with `--scope user`, in the home folder's
//! user files (`~/.claude.json`, `~/.codex/config.toml`, ...) read back into `mcp/<name>.toml`
//! sources. A literal credential in `env` or `headers` becomes a reference (`${env:NAME}`) with
//! a note to set the variable; one anywhere else keeps the server out. Keys aiwg merged itself
//! (in the scope's lock) are left alone.

use aiwg_core::target::Scope;
use aiwg_core::Kind;
use aiwg_platforms::render::mcp::to_source;
use aiwg_platforms::PlatformSpec;
use serde_json::{Map, Value};

use super::convert::Found;
use super::read::Repo;
use super::{Existing, Outcome};

/// The largest MCP configuration file read.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Every server in `platform`'s MCP files of `existing.scope` not read before (`read` holds
/// the (path, key) pairs already scanned: Claude Code and Copilot CLI share `.mcp.json`). In
/// user scope a path under a client's home variable moves with it, as a deploy writes it.
pub fn scan(
    repo: &mut Repo,
    platform: &PlatformSpec,
    existing: &Existing,
    found: &mut Vec<Found>,
    outcome: &mut Outcome,
    read: &mut Vec<(String, String)>,
) {
    for (path, file) in platform.mcp.files(existing.scope) {
        let moved = (existing.scope == Scope::User)
            .then_some(platform.home.as_ref())
            .flatten()
            .and_then(|h| h.rebase(path, existing.homes.get(&h.var)?));
        let path = moved.as_deref().unwrap_or(path);
        let pair = (path.to_string(), file.key.clone());
        if read.contains(&pair) || !repo.is_file(path) {
            continue;
        }
        read.push(pair);
        let Some(bytes) = repo.read(path, MAX_CONFIG_BYTES) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            outcome
                .skipped
                .push((path.to_string(), "not UTF-8 text".into()));
            continue;
        };
        let servers = match servers(path, &text, &file.key) {
            Ok(s) => s,
            Err(why) => {
                outcome.skipped.push((path.to_string(), why));
                continue;
            }
        };
        for (raw_name, entry) in servers {
            let dotted = format!("{}.{raw_name}", file.key);
            if existing
                .managed_keys
                .contains(&(path.to_string(), dotted.clone()))
            {
                outcome.managed += 1;
                continue;
            }
            let at = format!("{path} ({dotted})");
            let mut source = match to_source(file, &platform.id, &entry) {
                Ok(s) => s,
                Err(why) => {
                    outcome.skipped.push((at, why));
                    continue;
                }
            };
            for note in references_for_literals(&mut source, &raw_name) {
                outcome.notes.push(format!("{at}: {note}"));
            }
            if let Some(p) = aiwg_core::mcp::check(&source).into_iter().next() {
                outcome
                    .skipped
                    .push((at, format!("{}; not imported", p.message)));
                continue;
            }
            found.push(Found::new(
                Kind::Mcp,
                &raw_name,
                platform.id.clone(),
                path,
                source,
                String::new(),
            ));
        }
    }
}

/// The `(name, entry)` pairs under `key` of a JSON (comments allowed) or TOML file.
fn servers(path: &str, text: &str, key: &str) -> Result<Vec<(String, Value)>, String> {
    let doc: Value = if path.ends_with(".toml") {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| format!("not valid TOML: {}", e.message().trim()))?;
        serde_json::to_value(table).map_err(|e| e.to_string())?
    } else {
        let doc = aiwg_deploy::jsonc::JsonDoc::parse(text)
            .map_err(|e| format!("not valid JSON (line {}: {})", e.line, e.message))?;
        match doc.get(&[key.to_string()]) {
            Some(v) => serde_json::json!({ key: v }),
            None => return Ok(Vec::new()),
        }
    };
    match doc.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Some(_) => Err(format!("`{key}` is not an object")),
    }
}

/// Turns each literal credential in `env` and `headers` into a reference, saying which
/// variable to set; credentials elsewhere are left for the check to refuse.
fn references_for_literals(source: &mut Map<String, Value>, server: &str) -> Vec<String> {
    let mut notes = Vec::new();
    for table in ["env", "headers"] {
        let Some(Value::Object(m)) = source.get_mut(table) else {
            continue;
        };
        for (k, v) in m.iter_mut() {
            let Some(s) = v.as_str() else { continue };
            if aiwg_core::mcp::secret_like(Some(k), s).is_none() {
                continue;
            }
            let var = if table == "env" && aiwg_core::mcp::is_env_name(k) {
                k.clone()
            } else {
                format!("{server}_{k}")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_uppercase()
                        } else {
                            '_'
                        }
                    })
                    .collect()
            };
            let bearer = k.eq_ignore_ascii_case("authorization")
                && s.get(..7)
                    .is_some_and(|p| p.eq_ignore_ascii_case("bearer "));
            *v = Value::String(if bearer {
                format!("Bearer ${{env:{var}}}")
            } else {
                format!("${{env:{var}}}")
            });
            notes.push(format!(
                "a literal credential in `{table}.{k}` became `${{env:{var}}}`: set `{var}` in your environment (the literal is not copied)"
            ));
        }
    }
    notes
}

/// A server's source map as a TOML file: plain keys first, then `[env]`, `[headers]` and
/// `[platform.<id>]` tables.
pub fn toml_text(source: &Map<String, Value>) -> String {
    let mut top = toml::Table::new();
    let mut tables: Vec<(String, toml::Table)> = Vec::new();
    for (k, v) in source {
        let Ok(value) = toml::Value::try_from(v) else {
            continue;
        };
        match (k.as_str(), value) {
            ("env" | "headers", toml::Value::Table(t)) => tables.push((k.clone(), t)),
            ("platform", toml::Value::Table(ids)) => {
                for (id, t) in ids {
                    if let toml::Value::Table(t) = t {
                        tables.push((format!("platform.{}", key(&id)), t));
                    }
                }
            }
            (_, value) => {
                top.insert(k.clone(), value);
            }
        }
    }
    let order = [
        "name",
        "description",
        "type",
        "command",
        "args",
        "cwd",
        "url",
        "enabled",
        "platforms",
    ];
    let mut out = String::new();
    for k in order {
        if let Some(v) = top.get(k) {
            out.push_str(&format!("{k} = {v}\n"));
        }
    }
    for (name, t) in tables {
        out.push_str(&format!("\n[{name}]\n"));
        for (k, v) in &t {
            out.push_str(&format!("{} = {v}\n", key(k)));
        }
    }
    out
}

/// A TOML key, quoted when it is not bare.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn toml_text_reads_back_as_the_same_server() {
        let source = json!({"command": "npx", "args": ["-y", "p"], "env": {"A B": "${env:T}"},
            "platform": {"claude-code": {"timeout": 5}}});
        let text = toml_text(source.as_object().unwrap());
        let (back, _) = aiwg_core::mcp::read("x.toml", &text).unwrap();
        assert_eq!(Value::Object(back), source, "{text}");
    }

    #[test]
    fn literal_credentials_become_references() {
        let mut s = json!({"url": "https://x", "headers": {"Authorization": "Bearer abcdef0123456789"}, // secret-guard: allow
            "env": {}})
        .as_object()
        .unwrap()
        .clone();
        let notes = references_for_literals(&mut s, "docs");
        assert_eq!(
            s["headers"]["Authorization"],
            "Bearer ${env:DOCS_AUTHORIZATION}"
        );
        assert_eq!(notes.len(), 1);
        assert!(!notes[0].contains("abcdef0123456789"), "{}", notes[0]); // secret-guard: allow
    }
}
