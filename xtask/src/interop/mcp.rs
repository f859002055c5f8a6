//! `cargo xtask interop-mcp`: MCP servers configured through aiwg, judged by the clients. The
//! interop fixture plus one stdio server (`mcp/fx-probe.toml`, whose command is this xtask
//! binary in `interop-mcp-server` mode) is deployed with `aiwg use`; each client runs its usual
//! calls, and the check passes for a client and scope when a model request offers (or lists as
//! loadable) the server's one tool, whose name is a marker ([`MARKER_TOOL`]) that only the
//! server's `tools/list` answer holds, so the client must have read aiwg's config and started
//! the server.
//!
//! The server (`serve`) speaks newline-delimited JSON-RPC 2.0 on stdin/stdout: `initialize`,
//! `tools/list`, `tools/call`, `ping`; notifications get no answer, other methods an error.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use super::api::{offered_tools, Shape};
use super::evidence::excerpt;
use super::evidence::Status;
use super::run::{self, Variant};
use super::{build_aiwg, install, parse_args, parse_claims, workspace, Scope};

/// The one tool the probe server offers. It appears nowhere else (not in the fixture, the
/// prompt or aiwg's config), so seeing it in a request proves the server ran.
pub const MARKER_TOOL: &str = "fxmcp_probe_marker";
/// The server's name in the fixture (`mcp/fx-probe.toml`).
pub const SERVER_NAME: &str = "fx-probe";
/// The longest request line the server reads (a client's `initialize` is far smaller).
const MAX_LINE: usize = 1 << 20;

/// The answer to one JSON-RPC message, or `None` for a notification.
pub fn handle(msg: &Value) -> Option<Value> {
    let id = msg.get("id").filter(|id| !id.is_null())?.clone();
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
    let result = match method {
        "initialize" => {
            let version = msg
                .pointer("/params/protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("2025-06-18");
            json!({"protocolVersion": version, "capabilities": {"tools": {"listChanged": false}},
                   "serverInfo": {"name": SERVER_NAME, "version": "1.0.0"}})
        }
        "tools/list" => json!({"tools": [{
            "name": MARKER_TOOL,
            "description": "Interop probe: answers with a fixed word.",
            "inputSchema": {"type": "object", "properties": {}, "additionalProperties": false}
        }]}),
        "tools/call" => {
            json!({"content": [{"type": "text", "text": "probe-ok"}], "isError": false})
        }
        "ping" => json!({}),
        _ => {
            return Some(json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": format!("method `{method}` not found")}}))
        }
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// `xtask interop-mcp-server`: serves stdin until it closes.
pub fn serve() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = std::io::Read::by_ref(&mut input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        if line.len() > MAX_LINE {
            bail!("a request line over {MAX_LINE} bytes");
        }
        let Ok(msg) = serde_json::from_slice::<Value>(&line) else {
            let err = json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32700, "message": "parse error"}});
            writeln!(out, "{err}")?;
            out.flush()?;
            continue;
        };
        let answers: Vec<Value> = match &msg {
            Value::Array(batch) => batch.iter().filter_map(handle).collect(),
            one => handle(one).into_iter().collect(),
        };
        for a in answers {
            writeln!(out, "{a}")?;
        }
        out.flush()?;
    }
}

/// How a request shows the marker tool: offered in its tool list, or (Claude Code defers
/// MCP tools behind its tool search) named in its text as a tool it can load. Either needs the
/// server's `tools/list` answer, the only place the marker exists.
pub fn judge(records: &[Value]) -> Option<(u64, String)> {
    let model_calls = || {
        records
            .iter()
            .filter_map(|r| Some((r, Shape::of_path(r["path"].as_str().unwrap_or(""))?)))
    };
    let offered = model_calls().find_map(|(r, shape)| {
        let tools = offered_tools(shape, &r["body"]);
        let (name, _) = tools.iter().find(|(n, _)| n.contains(MARKER_TOOL))?;
        let body = r["body"].to_string();
        let pos = body.find(name.as_str()).unwrap_or(0);
        Some((
            r["seq"].as_u64().unwrap_or(0),
            format!("offered: {}", excerpt(&body, pos, name.len())),
        ))
    });
    let named = |needle: &str, label: &str| {
        model_calls().find_map(|(r, _)| {
            let body = r["body"].to_string();
            let pos = body.find(needle)?;
            Some((
                r["seq"].as_u64().unwrap_or(0),
                format!("{label}: {}", excerpt(&body, pos, needle.len())),
            ))
        })
    };
    // Auggie's model call (`/chat-stream`, recorded and answered 404, not emulated) lists the
    // tools it offers as `tool_definitions`.
    let augment = || {
        records.iter().find_map(|r| {
            let path = r["path"].as_str().unwrap_or("");
            if !path
                .split('?')
                .next()
                .unwrap_or(path)
                .ends_with("/chat-stream")
            {
                return None;
            }
            let defs = r["body"]["tool_definitions"].as_array()?;
            let name = defs
                .iter()
                .filter_map(|d| d["name"].as_str())
                .find(|n| n.contains(MARKER_TOOL))?;
            let body = r["body"].to_string();
            let pos = body.find(name).unwrap_or(0);
            Some((
                r["seq"].as_u64().unwrap_or(0),
                format!("offered: {}", excerpt(&body, pos, name.len())),
            ))
        })
    };
    offered
        .or_else(augment)
        .or_else(|| named(MARKER_TOOL, "listed as a deferred tool"))
        .or_else(|| named(CODEX_NAMESPACE, "listed as a deferred tool namespace"))
}

/// How Codex 0.171 names the probe server when it defers MCP tools behind `tool_search`: it
/// lists only namespaces, and only of servers that started and answered (with the command
/// pointed at a missing file the line is absent and its log says "MCP server startup
/// failed"), so the line still proves the server ran. As it appears in the JSON body text.
const CODEX_NAMESPACE: &str = "Deferred tool namespaces:\\n- mcp__fx_probe\\n";

/// The fixture with the probe server added, under `dir`: the xtask binary copied there (a
/// rebuild cannot pull it from under a run) and `mcp/fx-probe.toml` naming it.
fn probe_fixture(root: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    let fixture = dir.join("fixture");
    copy_tree(&root.join("xtask/interop/fixture"), &fixture)?;
    let exe = dir.join("xtask-mcp-server");
    let me = std::env::current_exe().context("cannot find the xtask binary")?;
    std::fs::copy(&me, &exe)
        .with_context(|| format!("cannot copy xtask to `{}`", exe.display()))?;
    std::fs::create_dir_all(fixture.join("mcp"))?;
    let server = format!(
        "description = \"Interop probe server\"\ncommand = {}\nargs = [\"interop-mcp-server\"]\n",
        toml_string(&exe.display().to_string())
    );
    std::fs::write(fixture.join(format!("mcp/{SERVER_NAME}.toml")), server)?;
    Ok(fixture)
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read `{}`", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// What a client needs on top of its driver: Claude Code asks each user to approve a
/// repository's `.mcp.json` (a repository cannot approve itself), so the temp user approves
/// them in the user settings, as a person would once.
fn approvals(client: &str, scope: Scope) -> Variant {
    let files: Option<run::ExtraFiles> = match (client, scope) {
        ("claude-code", Scope::Project) => Some(Box::new(|home: &Path, _repo: &Path| {
            vec![(
                home.join(".claude/settings.json"),
                json!({"enableAllProjectMcpServers": true}).to_string(),
            )]
        })),
        _ => None,
    };
    Variant {
        label: "mcp-".into(),
        files,
        ..Variant::default()
    }
}

/// Runs the check for the clients and scopes of the arguments (as `interop` takes them).
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let args = parse_args(args)?;
    let root = workspace();
    let aiwg = build_aiwg(&root)?;
    let out = std::process::Command::new(&aiwg)
        .args(["platforms", "--json"])
        .output()
        .context("cannot run aiwg platforms --json")?;
    let claims =
        parse_claims(&serde_json::from_slice(&out.stdout).context("aiwg platforms --json")?);
    let cache = install::Cache::new(&root);
    let netns = run::netns_available();
    let dir = cache.root.join(format!("mcp-probe-{}", std::process::id()));
    let fixture = probe_fixture(&root, &dir)?;
    let record_path = root.join(super::mcp_readme::RESULTS);
    let mut record = super::mcp_readme::Results::load(&record_path)?;
    let mut failures = Vec::new();
    for client in &args.clients {
        let installed = match cache.install(client) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{}: cannot install: {e:#}", client.id));
                continue;
            }
        };
        for &scope in &args.scopes {
            let claim = claims
                .get(&(client.platform.into(), "mcp".into(), scope.name().into()))
                .map(String::as_str)
                .unwrap_or("unsupported");
            if claim == "unsupported" {
                record.record(client, scope.name(), Status::NotDeployed);
                println!(
                    "{:<12} {:<7} mcp not deployed (aiwg platforms: unsupported)",
                    client.id,
                    scope.name()
                );
                continue;
            }
            eprintln!(
                "interop-mcp: {} {}: {} scope",
                client.name,
                client.version,
                scope.name()
            );
            let variant = approvals(client.id, scope);
            let output = match run::case_with(
                client,
                &installed,
                scope,
                &aiwg,
                &fixture,
                &cache.root,
                netns,
                &variant,
            ) {
                Ok(o) => o,
                Err(e) => {
                    failures.push(format!("{} {}: {e:#}", client.id, scope.name()));
                    continue;
                }
            };
            match judge(&output.records) {
                Some((seq, ex)) => {
                    record.record(client, scope.name(), Status::Seen);
                    println!(
                        "{:<12} {:<7} mcp seen (request {seq}): {ex}",
                        client.id,
                        scope.name()
                    )
                }
                None => {
                    record.record(client, scope.name(), Status::NotSeen);
                    let line = format!(
                        "{} {} mcp: not seen: no request of {} offers `{MARKER_TOOL}` (case folder {})",
                        client.id,
                        scope.name(),
                        output.records.len(),
                        output.case.display()
                    );
                    println!("{line}");
                    failures.push(line);
                }
            }
        }
    }
    run::remove_inner_exe(&cache.root);
    let _ = std::fs::remove_dir_all(&dir);
    record.save(&record_path)?;
    super::mcp_readme::write_readme(&root, &record)?;
    if !failures.is_empty() {
        bail!(
            "interop-mcp: {} failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_answers_the_handshake_lists_its_tool_and_ignores_notifications() {
        let init = handle(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-03-26", "capabilities": {}}}))
        .unwrap();
        assert_eq!(init["result"]["protocolVersion"], "2025-03-26");
        assert_eq!(init["id"], 1);
        assert_eq!(
            handle(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
            None
        );
        let list = handle(&json!({"jsonrpc": "2.0", "id": "a", "method": "tools/list"})).unwrap();
        assert_eq!(list["result"]["tools"][0]["name"], MARKER_TOOL);
        let call = handle(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": MARKER_TOOL, "arguments": {}}}))
        .unwrap();
        assert_eq!(call["result"]["content"][0]["text"], "probe-ok");
        let unknown =
            handle(&json!({"jsonrpc": "2.0", "id": 3, "method": "resources/list"})).unwrap();
        assert_eq!(unknown["error"]["code"], -32601);
    }

    #[test]
    fn judged_by_the_tools_a_request_offers_not_by_any_mention() {
        let offered = json!({"seq": 4, "path": "/v1/messages",
            "body": {"tools": [{"name": "Read"}, {"name": format!("mcp__fx-probe__{MARKER_TOOL}")}]}});
        let deferred = json!({"seq": 1, "path": "/v1/messages",
            "body": {"system": format!("load these tools first:\nmcp__fx-probe__{MARKER_TOOL}\n"),
                     "tools": [{"name": "ToolSearch"}]}});
        let (seq, ex) = judge(&[deferred.clone(), offered]).unwrap();
        assert_eq!(seq, 4, "offered wins over a deferred listing");
        assert!(
            ex.starts_with("offered: ") && ex.contains(MARKER_TOOL),
            "{ex}"
        );
        let (seq, ex) = judge(std::slice::from_ref(&deferred)).unwrap();
        assert_eq!(seq, 1);
        assert!(ex.starts_with("listed as a deferred tool"), "{ex}");
        let elsewhere = json!({"seq": 2, "path": "/v1/models", "body": {"x": MARKER_TOOL}});
        assert_eq!(judge(&[elsewhere]), None, "only model calls count");
        let codex = json!({"seq": 5, "path": "/v1/responses", "body": {"input": [{"type": "message",
            "content": [{"type": "input_text",
                         "text": "<tools>\nDeferred tool namespaces:\n- mcp__fx_probe\n</tools>"}]}]}});
        let (seq, ex) = judge(&[codex]).unwrap();
        assert_eq!(seq, 5);
        assert!(
            ex.starts_with("listed as a deferred tool namespace"),
            "{ex}"
        );
        let auggie = json!({"seq": 6, "path": "/chat-stream", "body": {"tool_definitions": [
            {"name": "view"}, {"name": format!("{MARKER_TOOL}_fx-probe")}]}});
        let (seq, ex) = judge(&[auggie]).unwrap();
        assert_eq!(seq, 6);
        assert!(ex.starts_with("offered: "), "{ex}");
        let auggie_without = json!({"seq": 7, "path": "/chat-stream", "body": {"tool_definitions": [
            {"name": "view"}], "message": MARKER_TOOL}});
        assert_eq!(judge(&[auggie_without]), None, "a mention is not an offer");
        let none = json!({"seq": 3, "path": "/v1/messages", "body": {"tools": [{"name": "Read"}]}});
        assert_eq!(judge(&[none]), None);
        let gemini = json!({"seq": 0, "path": "/v1beta/models/m:streamGenerateContent",
            "body": {"tools": [{"functionDeclarations": [{"name": MARKER_TOOL}]}]}});
        assert!(judge(&[gemini]).is_some());
    }

    #[test]
    fn nothing_the_suite_sends_names_the_marker() {
        for text in [
            super::super::clients::PROMPT,
            super::super::clients::COMMAND_PROMPT,
        ] {
            assert!(!text.contains(MARKER_TOOL));
        }
    }
}
