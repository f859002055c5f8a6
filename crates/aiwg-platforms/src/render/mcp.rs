//! MCP servers: each server one merged key (`<key>.<name>`) in every MCP configuration file
//! of the platform (`[[mcp.file]]`), spelled the way that file's client reads it: transport
//! `type` values, `command` + `args` or one command list, the client's environment
//! reference syntax, or variables passed by name where it has none. A server the file cannot
//! express is skipped with a warning that says why; nothing is written half right.

use aiwg_core::mcp::{McpServer, Text, Transport};
use aiwg_core::target::{ConfigFormat, Desired, MergeEntry};
use aiwg_core::{Artifact, Kind, RelPath};
use serde_json::{json, Map, Value};

use super::{NoticeLevel, RenderError, Renderer};
use crate::spec::{CommandShape, McpFile, PlatformSpec};

/// True when `a` (an MCP server) goes to `p`: no `platforms` list, or one naming it.
pub(super) fn targets(a: &Artifact, p: &PlatformSpec) -> bool {
    let only = aiwg_core::mcp::platforms(&a.frontmatter.entries);
    only.is_empty() || only.iter().any(|id| *id == p.id || p.aliases.contains(id))
}

impl Renderer<'_> {
    /// Every server in `servers` into each of `p`'s MCP files of this scope.
    pub(super) fn mcp_servers(
        &mut self,
        p: &PlatformSpec,
        servers: &[&Artifact],
    ) -> Result<(), RenderError> {
        let mut written = false;
        for a in servers {
            let server = match McpServer::from_entries(&a.frontmatter.entries, Some(&p.id)) {
                Ok(s) => s,
                Err(problems) => {
                    // `validate` reports these; the render only refuses to guess.
                    let first = problems
                        .first()
                        .map(|p| p.message.clone())
                        .unwrap_or_default();
                    self.skip_server(p, a, &first);
                    continue;
                }
            };
            for (path, file) in p.mcp.files(self.scope) {
                let value = match entry(file, &server) {
                    Ok(Value::Object(mut m)) if file.name_key.is_some() => {
                        let key = file.name_key.clone().expect("checked");
                        m.insert(key, json!(a.name));
                        Value::Object(m)
                    }
                    Ok(v) => v,
                    Err(why) => {
                        let who = file.client.as_deref().unwrap_or(&p.name);
                        self.skip_server(p, a, &format!("{who} ({path}): {why}"));
                        continue;
                    }
                };
                if path.contains("{name}") {
                    // One whole YAML block per server (Continue): the server is the file.
                    let path =
                        RelPath::new(&path.replace("{name}", &a.name)).expect("validated at load");
                    let text = block(file, &a.name, value);
                    self.insert(
                        path,
                        Desired::File {
                            bytes: text.into_bytes(),
                            executable: false,
                        },
                        &a.source,
                        a.id(),
                        p,
                    )?;
                    written = true;
                    continue;
                }
                let format = if path.ends_with(".toml") {
                    ConfigFormat::Toml
                } else if path.ends_with(".yaml") || path.ends_with(".yml") {
                    ConfigFormat::Yaml
                } else {
                    ConfigFormat::Json
                };
                let path = RelPath::new(path).expect("validated at load");
                self.insert(
                    path,
                    Desired::Merge {
                        format,
                        entries: vec![MergeEntry {
                            key: vec![file.key.clone(), a.name.clone()],
                            value,
                            append: false,
                        }],
                    },
                    &a.source,
                    a.id(),
                    p,
                )?;
                written = true;
            }
        }
        if written {
            if let Some(note) = &p.mcp.notice {
                self.notice(p, Some(Kind::Mcp), NoticeLevel::Info, note.clone());
            }
        }
        Ok(())
    }

    fn skip_server(&mut self, p: &PlatformSpec, a: &Artifact, why: &str) {
        self.notice(
            p,
            Some(Kind::Mcp),
            NoticeLevel::Warning,
            format!("MCP server `{}` not written: {why}", a.name),
        );
    }
}

/// A YAML block holding one server: the block's own name, version and schema, then the
/// server, named, as the one item of `file.key`.
fn block(file: &McpFile, name: &str, entry: Value) -> String {
    let mut server = Map::new();
    server.insert("name".into(), json!(name));
    if let Value::Object(m) = entry {
        server.extend(m);
    }
    let mut doc = Map::new();
    doc.insert("name".into(), json!(name));
    doc.insert("version".into(), json!("0.0.1"));
    doc.insert("schema".into(), json!("v1"));
    doc.insert(file.key.clone(), json!([server]));
    crate::yaml::emit_document(&Value::Object(doc))
}

/// One server's entry as `file` spells it, or why it cannot be spelled there.
pub fn entry(file: &McpFile, s: &McpServer) -> Result<Value, String> {
    let transport = s.transport.as_str();
    if !file.transports.iter().any(|t| t == transport) {
        return Err(format!("no {transport} servers"));
    }
    let text = |t: &Text, what: &str| -> Result<String, String> {
        match (ref_pattern(file, what), t.has_ref()) {
            (_, false) => Ok(t.literal().unwrap_or_default()),
            (Some(pattern), true) => Ok(t.render(|n| pattern.replace("NAME", n))),
            (None, true) => Err(format!(
                "`{}` in `{what}` needs a variable reference, which this file cannot hold there",
                t.source_form()
            )),
        }
    };
    let mut out = Map::new();
    if let Some(v) = file.types.get(transport) {
        out.insert(file.type_key.clone(), json!(v));
    }
    match &s.transport {
        Transport::Stdio { command, args, cwd } => {
            let command = text(command, "command")?;
            let args: Vec<String> = args
                .iter()
                .map(|a| text(a, "args"))
                .collect::<Result<_, _>>()?;
            match file.command {
                CommandShape::String => {
                    out.insert(file.command_key.clone(), json!(command));
                    if !args.is_empty() || file.args_required {
                        out.insert("args".into(), json!(args));
                    }
                }
                CommandShape::Array => {
                    let all: Vec<String> = std::iter::once(command).chain(args).collect();
                    out.insert(file.command_key.clone(), json!(all));
                }
            }
            if let Some(cwd) = cwd {
                let Some(key) = &file.cwd_key else {
                    return Err("no working-folder setting for `cwd`".into());
                };
                out.insert(key.clone(), json!(text(cwd, "cwd")?));
            }
            env(file, s, &mut out)?;
        }
        Transport::Http { url } | Transport::Sse { url } => {
            let key = match (&s.transport, &file.http_url_key) {
                (Transport::Http { .. }, Some(k)) => k,
                _ => &file.url_key,
            };
            out.insert(key.clone(), json!(text(url, "url")?));
            headers(file, s, &mut out)?;
        }
    }
    if !s.enabled {
        match (&file.enabled_key, &file.disabled_key) {
            (Some(k), _) => {
                out.insert(k.clone(), json!(false));
            }
            (None, Some(k)) => {
                out.insert(k.clone(), json!(true));
            }
            (None, None) => {
                return Err(
                    "`enabled = false`, and this file has no way to switch a server off".into(),
                )
            }
        }
    }
    for (k, v) in &file.extra {
        let v = serde_json::to_value(v).map_err(|e| e.to_string())?;
        out.entry(k.clone()).or_insert(v);
    }
    for (k, v) in &s.extra {
        out.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(out))
}

/// How `file` writes a reference in `field`, when it can there.
fn ref_pattern<'f>(file: &'f McpFile, field: &str) -> Option<&'f String> {
    let allowed = file
        .refs_in
        .as_ref()
        .is_none_or(|fields| fields.iter().any(|f| f == field));
    file.env_ref.as_ref().filter(|_| allowed)
}

/// A stdio server's environment: references in the file's syntax, or (where it has none)
/// literals in the table and variables passed by their own name.
fn env(file: &McpFile, s: &McpServer, out: &mut Map<String, Value>) -> Result<(), String> {
    if s.env.is_empty() {
        return Ok(());
    }
    let mut table = Map::new();
    let mut passed: Vec<String> = Vec::new();
    for (k, v) in &s.env {
        match (ref_pattern(file, "env"), v.literal()) {
            (_, Some(lit)) => {
                table.insert(k.clone(), json!(lit));
            }
            (Some(pattern), None) => {
                table.insert(k.clone(), json!(v.render(|n| pattern.replace("NAME", n))));
            }
            (None, None) => match (&file.env_vars_key, v.only_ref()) {
                (Some(_), Some(var)) if var == k => passed.push(k.clone()),
                (Some(_), Some(var)) => {
                    return Err(format!(
                        "`{k} = \"${{env:{var}}}\"`: variables pass only under their own name here (write `{k} = \"${{env:{k}}}\"`)"
                    ))
                }
                (None, _) => {
                    return Err(format!(
                        "`env.{k}` needs a variable reference, which this file cannot hold"
                    ))
                }
                (Some(_), None) => {
                    return Err(format!(
                        "`env.{k}` mixes text and a reference; this file can only pass a variable whole"
                    ))
                }
            },
        }
    }
    if !table.is_empty() {
        out.insert(file.env_key.clone(), Value::Object(table));
    }
    if let (Some(key), false) = (&file.env_vars_key, passed.is_empty()) {
        out.insert(key.clone(), json!(passed));
    }
    Ok(())
}

/// A remote server's headers: references in the file's syntax, or (where it has none) a
/// bearer-token variable and header → variable pairs.
fn headers(file: &McpFile, s: &McpServer, out: &mut Map<String, Value>) -> Result<(), String> {
    let mut literal = Map::new();
    let mut from_env = Map::new();
    for (k, v) in &s.headers {
        match (ref_pattern(file, "headers"), v.literal()) {
            (_, Some(lit)) => {
                literal.insert(k.clone(), json!(lit));
            }
            (Some(pattern), None) => {
                literal.insert(k.clone(), json!(v.render(|n| pattern.replace("NAME", n))));
            }
            (None, None) => {
                let bearer = match v.0.as_slice() {
                    [aiwg_core::mcp::Piece::Lit(b), aiwg_core::mcp::Piece::Env(var)]
                        if b == "Bearer " && k.eq_ignore_ascii_case("authorization") =>
                    {
                        Some(var)
                    }
                    _ => None,
                };
                match (
                    bearer,
                    &file.bearer_env_key,
                    v.only_ref(),
                    &file.header_env_key,
                ) {
                    (Some(var), Some(key), _, _) => {
                        out.insert(key.clone(), json!(var));
                    }
                    (_, _, Some(var), Some(_)) => {
                        from_env.insert(k.clone(), json!(var));
                    }
                    _ => {
                        return Err(format!(
                            "header `{k}` needs a variable reference, which this file cannot hold"
                        ))
                    }
                }
            }
        }
    }
    if !literal.is_empty() {
        out.insert(file.headers_key.clone(), Value::Object(literal));
    }
    if let (Some(key), false) = (&file.header_env_key, from_env.is_empty()) {
        out.insert(key.clone(), Value::Object(from_env));
    }
    Ok(())
}

/// The inverse of [`entry`]: one server as `file` spells it, back in source form (`type`,
/// `command`, `args`, `env`, `cwd`, `url`, `headers`, `enabled`; every other key of the entry
/// under `platform.<platform>`), references in the source syntax `${env:NAME}` and a literal
/// `$` as `$$`. `Err` says why the entry is not a server aiwg can read.
pub fn to_source(
    file: &McpFile,
    platform: &str,
    entry: &Value,
) -> Result<Map<String, Value>, String> {
    let Value::Object(e) = entry else {
        return Err("the entry is not an object".into());
    };
    let mut used: Vec<&str> = Vec::new();
    let text = |v: &Value, what: &str| -> Result<String, String> {
        v.as_str()
            .map(|s| source_text(file, s))
            .ok_or_else(|| format!("`{what}` is not a string"))
    };
    let mut out = Map::new();
    let stated = e.get(&file.type_key).and_then(Value::as_str).and_then(|t| {
        file.types
            .iter()
            .filter(|(_, v)| v.as_str() == t)
            .map(|(k, _)| k.as_str())
            .next()
    });
    if stated.is_some() {
        used.push(&file.type_key);
    }
    let http_url = file
        .http_url_key
        .as_deref()
        .and_then(|k| Some((k, e.get(k)?)));
    let url = e.get(&file.url_key);
    if let Some(key) = &file.name_key {
        used.push(key);
    }
    if let Some(command) = e.get(&file.command_key) {
        used.extend([file.command_key.as_str(), "args"]);
        let mut parts: Vec<String> = match (file.command, command) {
            (CommandShape::Array, Value::Array(items)) => items
                .iter()
                .map(|v| text(v, "command"))
                .collect::<Result<_, _>>()?,
            (_, Value::String(s)) => vec![source_text(file, s)],
            _ => return Err("`command` has a shape aiwg does not read".into()),
        };
        if parts.is_empty() {
            return Err("`command` is empty".into());
        }
        if let Some(Value::Array(args)) = e.get("args") {
            for a in args {
                parts.push(text(a, "args")?);
            }
        }
        if stated.is_some_and(|t| t != "stdio") {
            out.insert("type".into(), json!(stated));
        }
        out.insert("command".into(), json!(parts[0]));
        if parts.len() > 1 {
            out.insert("args".into(), json!(parts[1..]));
        }
        if let Some(key) = &file.cwd_key {
            if let Some(cwd) = e.get(key) {
                used.push(key);
                out.insert("cwd".into(), json!(text(cwd, "cwd")?));
            }
        }
        let mut env = Map::new();
        if let Some(Value::Object(m)) = e.get(&file.env_key) {
            used.push(&file.env_key);
            for (k, v) in m {
                env.insert(k.clone(), json!(text(v, "env")?));
            }
        }
        if let Some(key) = &file.env_vars_key {
            if let Some(Value::Array(vars)) = e.get(key) {
                used.push(key);
                for v in vars.iter().filter_map(Value::as_str) {
                    env.insert(v.to_string(), json!(format!("${{env:{v}}}")));
                }
            }
        }
        if !env.is_empty() {
            out.insert("env".into(), Value::Object(env));
        }
    } else {
        let (kind, address) = match (http_url, url) {
            (Some((k, v)), _) => {
                used.push(k);
                ("http", v)
            }
            (None, Some(v)) => {
                used.push(&file.url_key);
                // A file with its own key for streamable HTTP keeps `url` for SSE (Gemini).
                let kind = if file.http_url_key.is_some() {
                    "sse"
                } else {
                    stated.unwrap_or("http")
                };
                (kind, v)
            }
            (None, None) => return Err("the entry has neither `command` nor a url".into()),
        };
        if kind != "http" {
            out.insert("type".into(), json!(kind));
        }
        out.insert("url".into(), json!(text(address, "url")?));
        let mut headers = Map::new();
        if let Some(Value::Object(m)) = e.get(&file.headers_key) {
            used.push(&file.headers_key);
            for (k, v) in m {
                headers.insert(k.clone(), json!(text(v, "headers")?));
            }
        }
        if let Some(key) = &file.bearer_env_key {
            if let Some(var) = e.get(key).and_then(Value::as_str) {
                used.push(key);
                headers.insert(
                    "Authorization".into(),
                    json!(format!("Bearer ${{env:{var}}}")),
                );
            }
        }
        if let Some(key) = &file.header_env_key {
            if let Some(Value::Object(m)) = e.get(key) {
                used.push(key);
                for (h, var) in m {
                    if let Some(var) = var.as_str() {
                        headers.insert(h.clone(), json!(format!("${{env:{var}}}")));
                    }
                }
            }
        }
        if !headers.is_empty() {
            out.insert("headers".into(), Value::Object(headers));
        }
    }
    let off = file
        .enabled_key
        .as_deref()
        .is_some_and(|k| e.get(k) == Some(&json!(false)))
        || file
            .disabled_key
            .as_deref()
            .is_some_and(|k| e.get(k) == Some(&json!(true)));
    used.extend(file.enabled_key.as_deref());
    used.extend(file.disabled_key.as_deref());
    if off {
        out.insert("enabled".into(), json!(false));
    }
    let mut native = Map::new();
    for (k, v) in e {
        if used.contains(&k.as_str()) {
            continue;
        }
        let same_as_extra = file
            .extra
            .get(k)
            .and_then(|x| serde_json::to_value(x).ok())
            .is_some_and(|x| &x == v);
        if !same_as_extra {
            native.insert(k.clone(), v.clone());
        }
    }
    if !native.is_empty() {
        out.insert("platform".into(), json!({ platform: native }));
    }
    Ok(out)
}

/// A value as the file spells it, in the source's syntax: the file's references (`${NAME}`,
/// `{env:NAME}`) become `${env:NAME}`, every other `$` is doubled.
fn source_text(file: &McpFile, s: &str) -> String {
    let pattern = file.env_ref.as_deref().and_then(|p| p.split_once("NAME"));
    let mut out = String::new();
    let mut rest = s;
    'outer: while !rest.is_empty() {
        if let Some((pre, post)) = pattern {
            if let Some(after) = rest.strip_prefix(pre) {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if aiwg_core::mcp::is_env_name(&name) && after[name.len()..].starts_with(post) {
                    out.push_str(&format!("${{env:{name}}}"));
                    rest = &after[name.len() + post.len()..];
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().expect("not empty");
        if c == '$' {
            out.push('$');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(toml_text: &str) -> McpFile {
        toml::from_str(&format!("project = \"x.json\"\nkey = \"s\"\n{toml_text}")).unwrap()
    }

    fn server(v: Value) -> McpServer {
        McpServer::from_entries(v.as_object().unwrap(), Some("demo")).unwrap()
    }

    #[test]
    fn spelled_per_file() {
        let s = server(
            json!({"command": "npx", "args": ["-y", "pkg"], "env": {"T": "${env:T}", "LOG": "1"}}),
        );
        let claude = file("env_ref = \"${NAME}\"\ntypes = { stdio = \"stdio\" }\n");
        assert_eq!(
            entry(&claude, &s).unwrap(),
            json!({"type": "stdio", "command": "npx", "args": ["-y", "pkg"], "env": {"T": "${T}", "LOG": "1"}})
        );
        let opencode = file("command = \"array\"\nenv_key = \"environment\"\nenv_ref = \"{env:NAME}\"\ntypes = { stdio = \"local\" }\n");
        assert_eq!(
            entry(&opencode, &s).unwrap(),
            json!({"type": "local", "command": ["npx", "-y", "pkg"], "environment": {"T": "{env:T}", "LOG": "1"}})
        );
        let codex = file("env_vars_key = \"env_vars\"\n");
        assert_eq!(
            entry(&codex, &s).unwrap(),
            json!({"command": "npx", "args": ["-y", "pkg"], "env": {"LOG": "1"}, "env_vars": ["T"]})
        );
        let renamed = server(json!({"command": "x", "env": {"GITHUB_TOKEN": "${env:GH}"}}));
        assert!(entry(&codex, &renamed).unwrap_err().contains("own name"));
        let in_args = server(json!({"command": "x", "args": ["--t=${env:T}"]}));
        assert!(entry(&codex, &in_args).unwrap_err().contains("in `args`"));
        let copilot = file("env_ref = \"${NAME}\"\nrefs_in = [\"env\"]\n");
        assert!(entry(&copilot, &in_args).is_err());
        let bare = server(json!({"command": "srv"}));
        assert_eq!(entry(&file(""), &bare).unwrap(), json!({"command": "srv"}));
        let zed = file("args_required = true\n");
        assert_eq!(
            entry(&zed, &bare).unwrap(),
            json!({"command": "srv", "args": []})
        );
        assert_eq!(entry(&copilot, &s).unwrap()["env"]["T"], json!("${T}"));
    }

    #[test]
    fn remote_servers_and_switches() {
        let s = server(
            json!({"url": "https://x/mcp", "headers": {"Authorization": "Bearer ${env:TOK}", "X-Team": "a", "X-Key": "${env:K}"}}),
        );
        let codex = file("headers_key = \"http_headers\"\nheader_env_key = \"env_http_headers\"\nbearer_env_key = \"bearer_token_env_var\"\ntransports = [\"stdio\", \"http\"]\n");
        assert_eq!(
            entry(&codex, &s).unwrap(),
            json!({"url": "https://x/mcp", "bearer_token_env_var": "TOK", "http_headers": {"X-Team": "a"}, "env_http_headers": {"X-Key": "K"}})
        );
        let gemini = file("env_ref = \"${NAME}\"\nhttp_url_key = \"httpUrl\"\n");
        assert_eq!(
            entry(&gemini, &s).unwrap()["httpUrl"],
            json!("https://x/mcp")
        );
        let sse = server(json!({"type": "sse", "url": "https://x/sse"}));
        assert_eq!(entry(&codex, &sse).unwrap_err(), "no sse servers");
        let off = server(json!({"command": "x", "enabled": false}));
        assert_eq!(
            entry(&file("disabled_key = \"disabled\"\n"), &off).unwrap()["disabled"],
            json!(true)
        );
        assert!(entry(&file(""), &off)
            .unwrap_err()
            .contains("switch a server off"));
        let with_extra = server(json!({"command": "x", "platform": {"demo": {"timeout": 5}}}));
        let copilot = file("extra = { tools = [\"*\"] }\n");
        assert_eq!(
            entry(&copilot, &with_extra).unwrap(),
            json!({"command": "x", "tools": ["*"], "timeout": 5})
        );
    }

    #[test]
    fn read_back_is_the_inverse_of_the_spelling() {
        let files = [
            file("env_ref = \"${NAME}\"\ntypes = { stdio = \"stdio\", http = \"http\", sse = \"sse\" }\n"),
            file("command = \"array\"\nenv_key = \"environment\"\nenv_ref = \"{env:NAME}\"\ntypes = { stdio = \"local\", http = \"remote\", sse = \"remote\" }\nenabled_key = \"enabled\"\n"),
            file("env_vars_key = \"env_vars\"\nheaders_key = \"http_headers\"\nheader_env_key = \"env_http_headers\"\nbearer_env_key = \"bearer_token_env_var\"\ncwd_key = \"cwd\"\nenabled_key = \"enabled\"\ntransports = [\"stdio\", \"http\"]\n"),
            file("env_ref = \"${NAME}\"\nhttp_url_key = \"httpUrl\"\ncwd_key = \"cwd\"\n"),
        ];
        let sources = [
            json!({"command": "npx", "args": ["-y", "p", "50$"], "env": {"T": "${env:T}", "LOG": "1"}}),
            json!({"url": "https://x/mcp", "headers": {"Authorization": "Bearer ${env:TOK}", "X": "a"}}),
            json!({"command": "x", "enabled": false}),
        ];
        for f in &files {
            for src in &sources {
                let server = server(src.clone());
                let Ok(written) = entry(f, &server) else {
                    continue;
                };
                let back = to_source(f, "demo", &written).unwrap();
                let mut got = McpServer::from_entries(&back, Some("demo")).unwrap();
                let mut want = server.clone();
                // Codex keeps passed variables apart from literals: order aside, the same.
                for s in [&mut got, &mut want] {
                    s.env.sort_by(|a, b| a.0.cmp(&b.0));
                    s.headers.sort_by(|a, b| a.0.cmp(&b.0));
                }
                assert_eq!(got, want, "{f:?}\n{written}\n{back:?}");
            }
        }
        let native = to_source(
            &files[0],
            "claude-code",
            &json!({"command": "x", "timeout": 5}),
        )
        .unwrap();
        assert_eq!(native["platform"]["claude-code"]["timeout"], json!(5));
        assert!(to_source(&files[0], "x", &json!({"args": []})).is_err());
    }
}
