//! Merge ownership through plan and apply: only aiwg's keys change; the user's keys, their
//! order and (TOML) comments survive, and removal takes out only what aiwg wrote.

use aiwg_core::target::{ConfigFormat, MergeEntry};
use serde_json::{json, Value};

use super::apply::{force, run};
use super::*;
use crate::engine::{ApplyOptions, DeployError, Engine, Layout};
use crate::plan::ConflictKind;
use crate::system::MemSystem;

fn merge(path: &str, format: ConfigFormat, entries: Vec<(&str, Value, bool)>) -> TargetEntry {
    TargetEntry {
        path: rel(path),
        desired: Desired::Merge {
            format,
            entries: entries
                .into_iter()
                .map(|(key, value, append)| MergeEntry {
                    key: key.split('.').map(str::to_string).collect(),
                    value,
                    append,
                })
                .collect(),
        },
        origin: origin("src"),
    }
}

fn conflict_of(sys: &MemSystem, t: &TargetState) -> Option<ConflictKind> {
    let engine = Engine::shared(sys, Layout::project());
    engine.plan(t).unwrap().0.items[0].conflict.clone()
}

const USER_JSON: &str =
    "{\n    \"model\": \"opus\",\n    \"env\": {\n        \"A\": \"1\"\n    }\n}\n";

#[test]
fn json_keys_of_the_user_keep_their_order_and_indent() {
    let sys = MemSystem::with_files(&[(".claude/settings.json", USER_JSON)]);
    let t = target(vec![merge(
        ".claude/settings.json",
        ConfigFormat::Json,
        vec![("permissions.allow", json!(["Bash(make)"]), false)],
    )]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text(".claude/settings.json").unwrap(),
        "{\n    \"model\": \"opus\",\n    \"env\": {\n        \"A\": \"1\"\n    },\n    \"permissions\": {\n        \"allow\": [\n            \"Bash(make)\"\n        ]\n    }\n}\n"
    );
    // The user edits aiwg's key: conflict; force overwrites it.
    let edited = sys
        .text(".claude/settings.json")
        .unwrap()
        .replace("Bash(make)", "Bash(*)");
    sys.put(".claude/settings.json", edited.as_bytes(), false);
    assert_eq!(conflict_of(&sys, &t), Some(ConflictKind::Edited));
    run(&sys, &t, &force()).unwrap();
    assert!(sys
        .text(".claude/settings.json")
        .unwrap()
        .contains("Bash(make)"));
    // Removal takes out aiwg's key and the object it leaves empty.
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text(".claude/settings.json").unwrap(), USER_JSON);
}

#[test]
fn a_json_file_created_for_aiwgs_keys_is_deleted_with_them() {
    let sys = MemSystem::new();
    let t = target(vec![merge(
        ".mcp.json",
        ConfigFormat::Json,
        vec![("mcpServers.x", json!({"command": "x"}), false)],
    )]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text(".mcp.json").unwrap(),
        "{\n  \"mcpServers\": {\n    \"x\": {\n      \"command\": \"x\"\n    }\n  }\n}\n"
    );
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text(".mcp.json"), None);
}

#[test]
fn a_user_key_where_aiwg_wants_one_is_a_conflict() {
    let sys = MemSystem::with_files(&[("s.json", "{\"model\": \"haiku\"}")]);
    let t = target(vec![merge(
        "s.json",
        ConfigFormat::Json,
        vec![("model", json!("opus"), false)],
    )]);
    assert_eq!(conflict_of(&sys, &t), Some(ConflictKind::Unmanaged));
}

#[test]
fn jsonc_and_yaml_are_refused_rather_than_rewritten() {
    let text = "{\n  // my comment\n  \"a\": 1\n}\n";
    let sys = MemSystem::with_files(&[("s.json", text), ("c.yaml", "a: 1\n")]);
    let t = target(vec![merge(
        "s.json",
        ConfigFormat::Json,
        vec![("b", json!(2), false)],
    )]);
    match conflict_of(&sys, &t) {
        Some(ConflictKind::Unsafe(why)) => assert!(why.contains("comments (JSONC)"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        run(&sys, &t, &force()),
        Err(DeployError::Conflicts { .. })
    ));
    assert_eq!(sys.text("s.json").unwrap(), text);
    let y = target(vec![merge(
        "c.yaml",
        ConfigFormat::Yaml,
        vec![("b", json!(2), false)],
    )]);
    match conflict_of(&sys, &y) {
        Some(ConflictKind::Unsafe(why)) => assert!(why.contains("YAML"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_appended_array_item_lives_beside_the_users_items() {
    let user = json!({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "mine"}]}]}});
    let text = format!("{}\n", serde_json::to_string_pretty(&user).unwrap());
    let sys = MemSystem::with_files(&[("settings.json", &text)]);
    let ours =
        |cmd: &str| json!({"matcher": "Edit", "hooks": [{"type": "command", "command": cmd}]});
    let t1 = target(vec![merge(
        "settings.json",
        ConfigFormat::Json,
        vec![("hooks.PreToolUse", ours("aiwg v1"), true)],
    )]);
    run(&sys, &t1, &ApplyOptions::default()).unwrap();
    let doc: Value = serde_json::from_str(&sys.text("settings.json").unwrap()).unwrap();
    assert_eq!(doc["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
    // A new version of aiwg's item replaces the old one where it stands.
    sys.put(
        "settings.json",
        sys.text("settings.json")
            .unwrap()
            .replace("\"mine\"", "\"mine, edited\"")
            .as_bytes(),
        false,
    );
    let t2 = target(vec![merge(
        "settings.json",
        ConfigFormat::Json,
        vec![("hooks.PreToolUse", ours("aiwg v2"), true)],
    )]);
    run(&sys, &t2, &ApplyOptions::default()).unwrap();
    let doc: Value = serde_json::from_str(&sys.text("settings.json").unwrap()).unwrap();
    let items = doc["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["hooks"][0]["command"], "mine, edited");
    assert_eq!(items[1], ours("aiwg v2"));
    // Removal takes only aiwg's item.
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    let doc: Value = serde_json::from_str(&sys.text("settings.json").unwrap()).unwrap();
    assert_eq!(doc["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "mine, edited"
    );
}

const USER_TOML: &str = "# Codex settings\nmodel = \"o3\"   # the default\n\n[profiles.fast]\nmodel = \"mini\" # quick\n";

#[test]
fn toml_comments_and_formatting_survive_and_removal_restores_the_file() {
    let sys = MemSystem::with_files(&[(".codex/config.toml", USER_TOML)]);
    let t = target(vec![merge(
        ".codex/config.toml",
        ConfigFormat::Toml,
        vec![
            (
                "mcp_servers.aiwg",
                json!({"command": "aiwg", "args": ["mcp"]}),
                false,
            ),
            ("notify", json!("aiwg-notify"), true),
        ],
    )]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    let text = sys.text(".codex/config.toml").unwrap();
    // Top-level keys go before the first table, as TOML requires; the user's lines are intact.
    assert!(text.starts_with("# Codex settings\nmodel = \"o3\"   # the default\nnotify = [\"aiwg-notify\"]\n\n[profiles.fast]\nmodel = \"mini\" # quick\n"), "{text}");
    assert!(
        text.contains("[mcp_servers.aiwg]\ncommand = \"aiwg\"\nargs = [\"mcp\"]\n"),
        "{text}"
    );
    assert!(text.contains("notify = [\"aiwg-notify\"]"), "{text}");
    let engine = Engine::shared(&sys, Layout::project());
    assert!(engine.plan(&t).unwrap().0.is_empty(), "converged");
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text(".codex/config.toml").unwrap(), USER_TOML);
}

#[test]
fn an_edited_toml_key_is_a_conflict_and_a_user_array_keeps_its_items() {
    let text = "notify = [\"user-notify\"] # mine\n";
    let sys = MemSystem::with_files(&[("c.toml", text)]);
    let t = target(vec![merge(
        "c.toml",
        ConfigFormat::Toml,
        vec![
            ("notify", json!("aiwg"), true),
            ("model", json!("o3"), false),
        ],
    )]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    let after = sys.text("c.toml").unwrap();
    assert!(
        after.contains("notify = [\"user-notify\", \"aiwg\"] # mine"),
        "{after}"
    );
    sys.put(
        "c.toml",
        after.replace("\"o3\"", "\"gpt\"").as_bytes(),
        false,
    );
    assert_eq!(conflict_of(&sys, &t), Some(ConflictKind::Edited));
    run(&sys, &TargetState::new(), &force()).unwrap();
    let after = sys.text("c.toml").unwrap();
    assert!(
        after.contains("notify = [\"user-notify\"] # mine"),
        "{after}"
    );
    assert!(
        after.contains("model = \"gpt\""),
        "the edited key is kept: {after}"
    );
}
