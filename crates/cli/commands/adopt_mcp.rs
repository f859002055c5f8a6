//! `aiwg adopt <mcp file>`: hand edits of the MCP servers aiwg merged into a platform's MCP
//! configuration (`mcpServers.<name>` in `.mcp.json`, `[mcp_servers.<name>]` in Codex's
//! `config.toml`) taken back into `mcp/<name>.toml|json`. Each edited entry is read back
//! through the file's own spelling (`render::mcp::to_source`); the source keeps what the file
//! cannot say (its description, `platforms`, other platforms' overrides, a transport the file
//! does not name), and adopt writes only when the changed sources render exactly the edited
//! entries again.

use std::io::Write as _;

use aiwg_core::source::{SourceFile, SourceTree};
use aiwg_core::target::{Desired, Scope};
use aiwg_core::{Kind, RelPath};
use aiwg_deploy::LockEntry;
use aiwg_platforms::render::mcp::to_source;
use aiwg_platforms::spec::McpFile;
use aiwg_platforms::{PlatformSpec, Registry};
use anyhow::Context as _;
use serde_json::{Map, Value};

use super::adopt::{own_source, Own};
use crate::commands::UserError;
use crate::pipeline::{self, Deployment};
use crate::project::{self, Project};

/// The source keys a file's entry spells (the rest of a server's source stays as it is).
const SPELLED: [&str; 8] = [
    "type", "command", "args", "env", "cwd", "url", "headers", "enabled",
];

/// One server whose entry differs from what aiwg wrote.
struct Edited<'a> {
    entry: &'a LockEntry,
    key: Vec<String>,
    value: Value,
    file: &'a McpFile,
    platform: &'a PlatformSpec,
}

/// Adopts every edited MCP server aiwg merged into `rel`.
#[allow(clippy::too_many_arguments)]
pub fn run(
    project: &Project,
    d: &Deployment,
    scope: Scope,
    platforms: &[&PlatformSpec],
    rel: &RelPath,
    shown: &str,
    entries: &[&LockEntry],
    dry_run: bool,
) -> anyhow::Result<u8> {
    let path = rel.to_path(&d.root);
    let size = std::fs::metadata(&path)
        .with_context(|| format!("cannot read `{shown}`"))?
        .len();
    if size > pipeline::MAX_TARGET_FILE_BYTES {
        return Err(UserError::new(
            format!(
                "`{shown}` is {size} bytes, over the {} MiB aiwg reads of a platform file",
                pipeline::MAX_TARGET_FILE_BYTES >> 20
            ),
            "make the change in the source instead",
        )
        .into());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read `{shown}` as UTF-8 text"))?;
    let toml = rel.as_str().ends_with(".toml");
    let mut edited: Vec<Edited> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    for &e in entries {
        let (platform, file) = mcp_file(e, rel, scope).ok_or_else(|| {
            UserError::new(
                format!(
                    "`{shown}`: no platform of `{}` reads its MCP servers from this file",
                    e.origin.artifact
                ),
                "run `aiwg apply` first",
            )
        })?;
        for k in &e.keys {
            let current = value_at(&text, toml, &k.key).map_err(|why| {
                UserError::new(
                    format!("cannot adopt `{shown}`: {why}"),
                    "fix the file so it parses",
                )
            })?;
            let Some(value) = current else {
                removed.push(e.origin.artifact.to_string());
                continue;
            };
            let hash =
                aiwg_deploy::hash::sha256_hex(aiwg_deploy::merge::canonical(&value).as_bytes());
            if hash != k.sha256 {
                edited.push(Edited {
                    entry: e,
                    key: k.key.clone(),
                    value,
                    file,
                    platform,
                });
            }
        }
    }
    if edited.is_empty() {
        let why = if removed.is_empty() {
            "aiwg's MCP servers in it are as aiwg wrote them".to_string()
        } else {
            format!(
                "{} removed by hand (`aiwg remove` or a per-platform exclude leaves a server out)",
                removed.join(", ")
            )
        };
        return Err(UserError::new(format!("nothing to adopt in `{shown}`"), why).into());
    }

    // Every source the edits touch, changed in memory; then one reload and render.
    let mut own: Option<Own> = None;
    let mut writes: Vec<(std::path::PathBuf, Vec<u8>, String)> = Vec::new();
    for ed in &edited {
        let name = ed
            .entry
            .origin
            .artifact
            .strip_prefix("mcp:")
            .unwrap_or(&ed.entry.origin.artifact);
        if own.is_none() {
            own = Some(own_source(project, &ed.entry.origin.source, shown)?);
        }
        let o = own.as_mut().expect("set above");
        if o.sources[o.index].0.name != *ed.entry.origin.source {
            return Err(UserError::new(
                format!("cannot adopt `{shown}`: its servers come from more than one source"),
                "adopt the edits one source at a time: edit the others' sources instead",
            )
            .into());
        }
        let tree = &o.sources[o.index].0;
        let loaded = project::load_sources(o.sources.clone()).loaded;
        let artifact = loaded
            .artifacts
            .iter()
            .find(|a| {
                a.kind == Kind::Mcp && a.id() == *ed.entry.origin.artifact && a.source == tree.name
            })
            .ok_or_else(|| {
                UserError::new(
                    format!(
                        "`{}` is no longer in source `{}`",
                        ed.entry.origin.artifact, tree.name
                    ),
                    "`aiwg apply` retires it",
                )
            })?;
        let original_bytes = tree
            .file(artifact.path.as_str())
            .map(|f| f.bytes.clone())
            .unwrap_or_default();
        let original_text = String::from_utf8(original_bytes).map_err(|_| {
            UserError::new(
                format!("`{}` is not UTF-8", artifact.path),
                "save it as UTF-8",
            )
        })?;
        let is_json = artifact.path.as_str().ends_with(".json");
        let original = source_map(&original_text, is_json).map_err(|why| {
            UserError::new(
                format!("`{}`: {why}", artifact.path),
                "fix the source first",
            )
        })?;
        let from_file = to_source(ed.file, &ed.platform.id, &ed.value).map_err(|why| {
            UserError::new(
                format!("cannot adopt `{name}` from `{shown}`: {why}"),
                "make the change in the source instead",
            )
        })?;
        let changed =
            merged_source(&original, from_file, ed.file, &ed.platform.id).map_err(|why| {
                UserError::new(
                    format!("cannot adopt `{name}` from `{shown}`: {why}"),
                    "make the change in the source instead",
                )
            })?;
        let bytes = if is_json {
            json_text(&original_text, &original, &changed)
        } else {
            toml_text(&original_text, &original, &changed)
        }
        .map_err(|why| {
            UserError::new(
                format!("cannot adopt `{name}`: {why}"),
                "make the change in the source instead",
            )
        })?;
        let path = artifact.path.clone();
        let files: Vec<SourceFile> = tree
            .files
            .iter()
            .filter(|f| f.path != path)
            .cloned()
            .chain(std::iter::once(SourceFile {
                path: path.clone(),
                bytes: bytes.clone().into_bytes(),
                executable: false,
            }))
            .collect();
        let next = SourceTree::from_files(tree.name.clone(), tree.display_root.clone(), files);
        o.sources[o.index].0 = next;
        writes.push((
            path.to_path(&o.source_root),
            bytes.into_bytes(),
            name.to_string(),
        ));
    }
    let o = own.expect("at least one edit");
    let rendered = super::adopt::render_changed(project, o.sources, platforms, scope, shown)?;
    for ed in &edited {
        let again = rendered
            .target
            .entries()
            .filter(|e| &e.path == rel)
            .find_map(|e| match &e.desired {
                Desired::Merge { entries, .. } => entries
                    .iter()
                    .find(|m| m.key == ed.key)
                    .map(|m| m.value.clone()),
                _ => None,
            });
        if again.as_ref() != Some(&ed.value) {
            let would = again.map_or("nothing".to_string(), |v| v.to_string());
            return Err(UserError::new(
                format!(
                    "cannot adopt `{}` from `{shown}`: its source, written back, would render `{would}`, not the edited `{}`",
                    ed.key.join("."),
                    ed.value
                ),
                "the file cannot say everything the edit says: make the change in the source instead",
            )
            .into());
        }
    }
    let mut stderr = std::io::stderr().lock();
    for (path, bytes, name) in &writes {
        let shown_source = project::display_relative(path).display().to_string();
        if dry_run {
            let _ = writeln!(
                stderr,
                "would adopt MCP server `{name}` from `{shown}` into `{shown_source}`"
            );
            continue;
        }
        crate::config_edit::write_file(path, bytes)?;
        let _ = writeln!(
            stderr,
            "adopted MCP server `{name}` from `{shown}` into `{shown_source}`; `aiwg apply` brings the other platforms' files up to date"
        );
    }
    Ok(0)
}

/// The platform of `e` that merges servers into `rel`, and that file's spelling.
fn mcp_file<'a>(
    e: &LockEntry,
    rel: &RelPath,
    scope: Scope,
) -> Option<(&'a PlatformSpec, &'a McpFile)> {
    e.origin.platforms.iter().find_map(|id| {
        let p = Registry::builtin().get(id)?;
        let (_, file) = p
            .mcp
            .files(scope)
            .into_iter()
            .find(|(path, _)| *path == rel.as_str())?;
        Some((p, file))
    })
}

/// The value at `key` in the MCP file's text.
fn value_at(text: &str, toml: bool, key: &[String]) -> Result<Option<Value>, String> {
    if toml {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| format!("not valid TOML: {}", e.message().trim()))?;
        let mut v = serde_json::to_value(table).map_err(|e| e.to_string())?;
        for k in key {
            match v.get(k) {
                Some(next) => v = next.clone(),
                None => return Ok(None),
            }
        }
        Ok(Some(v))
    } else {
        let doc = aiwg_deploy::jsonc::JsonDoc::parse(text)
            .map_err(|e| format!("not valid JSON (line {}: {})", e.line, e.message))?;
        Ok(doc.get(key))
    }
}

/// A server's source file as a map.
fn source_map(text: &str, json: bool) -> Result<Map<String, Value>, String> {
    let v: Value = if json {
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?
    } else {
        let t: toml::Table =
            toml::from_str(text).map_err(|e| format!("not valid TOML: {}", e.message().trim()))?;
        serde_json::to_value(t).map_err(|e| e.to_string())?
    };
    match v {
        Value::Object(m) => Ok(m),
        _ => Err("not a table".into()),
    }
}

/// The source with the keys `from_file` spells replaced: what the file cannot say keeps the
/// source's value (a transport where the file names none), and `platform.<id>` becomes the
/// entry's own keys. A source whose `platform.<id>` overrides a spelled key is refused: the
/// edit cannot tell the override from the shared value.
fn merged_source(
    original: &Map<String, Value>,
    from_file: Map<String, Value>,
    file: &McpFile,
    platform: &str,
) -> Result<Map<String, Value>, String> {
    let own = original
        .get("platform")
        .and_then(|p| p.get(platform))
        .and_then(Value::as_object);
    if let Some(k) = own.and_then(|m| m.keys().find(|k| SPELLED.contains(&k.as_str()))) {
        return Err(format!(
            "its source overrides `{k}` for {platform} (`[platform.{platform}]`)"
        ));
    }
    let mut out = original.clone();
    let names_transport = !file.types.is_empty() || file.http_url_key.is_some();
    for k in SPELLED {
        if k == "type" && !names_transport {
            continue;
        }
        if k == "enabled" && file.enabled_key.is_none() && file.disabled_key.is_none() {
            continue;
        }
        out.remove(k);
    }
    let mut platforms = original
        .get("platform")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    platforms.remove(platform);
    for (k, v) in from_file {
        if k == "platform" {
            if let Some(native) = v.get(platform) {
                platforms.insert(platform.to_string(), native.clone());
            }
            continue;
        }
        if k == "type" && !names_transport {
            continue;
        }
        out.insert(k, v);
    }
    if platforms.is_empty() {
        out.remove("platform");
    } else {
        out.insert("platform".into(), Value::Object(platforms));
    }
    Ok(out)
}

/// `original_text` (a JSON source) with the top-level keys that changed set or removed, its
/// layout kept.
fn json_text(
    original_text: &str,
    original: &Map<String, Value>,
    changed: &Map<String, Value>,
) -> Result<String, String> {
    let mut doc = aiwg_deploy::jsonc::JsonDoc::parse(original_text)
        .map_err(|e| format!("not valid JSON (line {}: {})", e.line, e.message))?;
    for k in original.keys().filter(|k| !changed.contains_key(*k)) {
        doc.remove(std::slice::from_ref(k))?;
    }
    for (k, v) in changed {
        if original.get(k) != Some(v) {
            doc.set(std::slice::from_ref(k), v)?;
        }
    }
    Ok(doc.text().to_string())
}

/// `original_text` (a TOML source) with the top-level keys that changed set or removed; the
/// author's comments and the keys that did not change stay as written.
fn toml_text(
    original_text: &str,
    original: &Map<String, Value>,
    changed: &Map<String, Value>,
) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = original_text
        .parse()
        .map_err(|e: toml_edit::TomlError| format!("not valid TOML: {}", e.message()))?;
    for k in original.keys().filter(|k| !changed.contains_key(*k)) {
        doc.remove(k);
    }
    for (k, v) in changed {
        if original.get(k) == Some(v) {
            continue;
        }
        let value: toml::Value = serde_json::from_value(v.clone())
            .map_err(|e| format!("`{k}` has no TOML form: {e}"))?;
        let mut one = toml::Table::new();
        one.insert(k.clone(), value);
        let text = toml::to_string(&one).map_err(|e| format!("`{k}`: {e}"))?;
        let parsed: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| format!("`{k}`: {}", e.message()))?;
        let item = parsed.get(k).cloned().ok_or("a value went missing")?;
        doc.insert(k, item);
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn file(text: &str) -> McpFile {
        toml::from_str(&format!("project = \"x.json\"\nkey = \"s\"\n{text}")).unwrap()
    }

    #[test]
    fn the_source_keeps_what_the_file_cannot_say() {
        let original = map(
            json!({"description": "d", "type": "sse", "url": "https://a/sse",
            "platforms": ["cursor", "codex"], "platform": {"codex": {"x": 1}, "cursor": {"t": 2}}}),
        );
        // Cursor's file names no transport: the source's `sse` stays.
        let cursor = file("");
        let edited = map(json!({"url": "https://b/sse", "platform": {"cursor": {"t": 3}}}));
        let out = merged_source(&original, edited, &cursor, "cursor").unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"description": "d", "type": "sse", "url": "https://b/sse",
                   "platforms": ["cursor", "codex"], "platform": {"codex": {"x": 1}, "cursor": {"t": 3}}})
        );
        // An edit without the platform's own keys drops them; the others' stay.
        let out = merged_source(
            &original,
            map(json!({"url": "https://b/sse"})),
            &cursor,
            "cursor",
        )
        .unwrap();
        assert_eq!(out["platform"], json!({"codex": {"x": 1}}));
        let overridden = map(json!({"command": "a", "platform": {"cursor": {"command": "b"}}}));
        let err = merged_source(&overridden, map(json!({"command": "c"})), &cursor, "cursor")
            .unwrap_err();
        assert!(err.contains("overrides `command` for cursor"), "{err}");
    }

    #[test]
    fn sources_are_rewritten_in_their_own_layout() {
        let text = "# mine\ncommand = \"npx\" # the runner\nargs = [\"a\"]\n\n[env]\nX = \"1\"\n";
        let original = source_map(text, false).unwrap();
        let mut changed = original.clone();
        changed.insert("args".into(), json!(["a", "b"]));
        changed.remove("env");
        changed.insert("cwd".into(), json!("tools"));
        let out = toml_text(text, &original, &changed).unwrap();
        assert!(
            out.starts_with("# mine\ncommand = \"npx\" # the runner\n"),
            "{out}"
        );
        assert_eq!(source_map(&out, false).unwrap(), changed, "{out}");
        let json_text_in = "{\n  // mine\n  \"command\": \"npx\",\n  \"args\": [\"a\"]\n}\n";
        let original = map(json!({"command": "npx", "args": ["a"]}));
        let mut changed = original.clone();
        changed.insert("args".into(), json!(["a", "b"]));
        let out = json_text(json_text_in, &original, &changed).unwrap();
        assert!(out.contains("// mine"), "{out}");
        let doc = aiwg_deploy::jsonc::JsonDoc::parse(&out).unwrap();
        assert_eq!(doc.get(&["args".to_string()]), Some(json!(["a", "b"])));
    }
}
