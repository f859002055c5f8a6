//! Merge ownership through plan and apply: only aiwg's keys change; the user's keys, their
//! order and (TOML) comments survive, and removal takes out only what aiwg wrote.

use aiwg_core::target::{ConfigFormat, MergeEntry};
use serde_json::{json, Value};

use super::apply::{force, run};
use super::*;
use crate::plan::ConflictKind;
use crate::system::MemSystem;
use crate::{ApplyOptions, DeployError, Engine, Layout};

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
    engine.plan(t).unwrap().0.items[0].conflict().cloned()
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

const USER_YAML: &str = "# Goose\r\nGOOSE_MODEL: gpt # mine\r\nextensions:\r\n  developer:\r\n    enabled: true # builtin\r\n\r\n# end\r\n";

#[test]
fn yaml_entries_go_in_and_out_line_for_line_and_a_hand_edit_is_a_conflict() {
    let sys = MemSystem::with_files(&[("c.yaml", USER_YAML)]);
    let t = target(vec![merge(
        "c.yaml",
        ConfigFormat::Yaml,
        vec![(
            "extensions.aiwg",
            json!({"cmd": "x", "args": ["-y"]}),
            false,
        )],
    )]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    let merged = sys.text("c.yaml").unwrap();
    assert_eq!(
        merged,
        USER_YAML.replace(
            "# builtin\r\n",
            "# builtin\r\n  \"aiwg\":\r\n    \"cmd\": \"x\"\r\n    \"args\":\r\n      - \"-y\"\r\n"
        )
    );
    let engine = Engine::shared(&sys, Layout::project());
    assert!(engine.plan(&t).unwrap().0.is_empty(), "converged");
    // The same value in other bytes is a hand edit: a conflict, and --force writes aiwg's back.
    sys.put(
        "c.yaml",
        merged.replace("\"cmd\": \"x\"", "cmd: x").as_bytes(),
        false,
    );
    assert_eq!(conflict_of(&sys, &t), Some(ConflictKind::Edited));
    run(&sys, &t, &force()).unwrap();
    assert_eq!(sys.text("c.yaml").unwrap(), merged);
    // Removal gives the user's exact bytes back.
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("c.yaml").unwrap(), USER_YAML);
}

#[test]
fn a_yaml_file_created_for_aiwgs_entries_is_deleted_with_them() {
    let sys = MemSystem::new();
    let t = target(vec![merge(
        "config.yaml",
        ConfigFormat::Yaml,
        vec![("mcp_servers.x", json!({"command": "x"}), false)],
    )]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text("config.yaml").unwrap(),
        "mcp_servers:\n  \"x\":\n    \"command\": \"x\"\n"
    );
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("config.yaml"), None);
}

#[test]
fn yaml_aiwg_cannot_edit_exactly_is_refused_rather_than_rewritten() {
    let want = |key: &str| {
        target(vec![merge(
            "c.yaml",
            ConfigFormat::Yaml,
            vec![(key, json!({"cmd": "x"}), false)],
        )])
    };
    for (text, key, why) in [
        (
            "extensions: {}\n",
            "extensions.x",
            "line 1: `extensions` is not a block mapping",
        ),
        (
            "a: &d {}\nextensions:\n  y: *d\n",
            "extensions.x",
            "line 3: an alias",
        ),
        ("extensions:\n  x:\n    cmd: mine\n", "extensions.x", ""),
        ("a: 1\n", "b", "only `<key>.<name>`"),
    ] {
        let sys = MemSystem::with_files(&[("c.yaml", text)]);
        let y = want(key);
        match conflict_of(&sys, &y) {
            Some(ConflictKind::Unsafe(w)) => assert!(w.contains(why), "{text:?}: {w}"),
            Some(ConflictKind::Unmanaged) if why.is_empty() => {}
            other => panic!("{text:?}: {other:?}"),
        }
        assert!(
            matches!(run(&sys, &y, &force()), Err(DeployError::Conflicts { .. })) || why.is_empty()
        );
        if !why.is_empty() {
            assert_eq!(sys.text("c.yaml").unwrap(), text);
        }
    }
}

/// Merges `entries` into the user's `before`, expects `merged`, then removes them and expects
/// `before` back byte for byte.
fn check_round_trip(before: &str, entries: Vec<(&str, Value, bool)>, merged: &str) {
    let sys = MemSystem::with_files(&[("s.json", before)]);
    let t = target(vec![merge("s.json", ConfigFormat::Json, entries)]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text("s.json").unwrap(),
        merged,
        "merging into {before:?}"
    );
    let engine = Engine::shared(&sys, Layout::project());
    assert!(
        engine.plan(&t).unwrap().0.is_empty(),
        "converged: {before:?}"
    );
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("s.json").unwrap(), before, "unmerging {merged:?}");
}

#[test]
fn merging_into_json_keeps_the_users_layout_and_removal_restores_its_bytes() {
    let allow = || vec![("permissions.allow", json!("Bash(make)"), true)];
    // One line, as many tools write it.
    check_round_trip(
        r#"{"permissions": {"allow": ["Bash(ls:*)"]}}"#,
        allow(),
        r#"{"permissions": {"allow": ["Bash(ls:*)", "Bash(make)"]}}"#,
    );
    // Compact without spaces; a new object follows the same style.
    check_round_trip(
        "{\"a\":1,\"b\":[1,2]}\n",
        vec![("c.d", json!({"e": [true]}), false)],
        "{\"a\":1,\"b\":[1,2],\"c\":{\"d\":{\"e\":[true]}}}\n",
    );
    // Four spaces.
    check_round_trip(
        USER_JSON,
        allow(),
        "{\n    \"model\": \"opus\",\n    \"env\": {\n        \"A\": \"1\"\n    },\n    \"permissions\": {\n        \"allow\": [\n            \"Bash(make)\"\n        ]\n    }\n}\n",
    );
    // Tabs, into an existing array.
    check_round_trip(
        "{\n\t\"permissions\": {\n\t\t\"allow\": [\n\t\t\t\"Bash(ls:*)\"\n\t\t]\n\t}\n}",
        allow(),
        "{\n\t\"permissions\": {\n\t\t\"allow\": [\n\t\t\t\"Bash(ls:*)\",\n\t\t\t\"Bash(make)\"\n\t\t]\n\t}\n}",
    );
    // CRLF line ends stay CRLF.
    check_round_trip(
        "{\r\n  \"model\": \"opus\"\r\n}\r\n",
        vec![("env.X", json!("1"), false)],
        "{\r\n  \"model\": \"opus\",\r\n  \"env\": {\r\n    \"X\": \"1\"\r\n  }\r\n}\r\n",
    );
    // An empty object, as a tool leaves a fresh settings file.
    check_round_trip(
        "{\n  \"hooks\": {}\n}\n",
        vec![("model", json!("opus"), false)],
        "{\n  \"hooks\": {},\n  \"model\": \"opus\"\n}\n",
    );
}

#[test]
fn json_with_comments_and_trailing_commas_is_merged_and_keeps_them() {
    check_round_trip(
        "// my settings\n{\n  \"a\": 1, // the answer\n  /* env */ \"env\": {\"X\": 1,},\n}\n",
        vec![("b", json!([2]), false), ("env.Y", json!(2), false)],
        "// my settings\n{\n  \"a\": 1, // the answer\n  /* env */ \"env\": {\"X\": 1, \"Y\": 2,},\n  \"b\": [\n    2\n  ],\n}\n",
    );
    // A comment after the last member stays on its line; the new member goes below it.
    check_round_trip(
        "{\n  \"a\": 1 // last\n}\n",
        vec![("b", json!(2), false)],
        "{\n  \"a\": 1, // last\n  \"b\": 2\n}\n",
    );
}

#[test]
fn an_updated_json_value_is_replaced_in_place() {
    let sys = MemSystem::with_files(&[("s.json", "{ \"a\": 1 , \"z\": 0 }")]);
    let v1 = target(vec![merge(
        "s.json",
        ConfigFormat::Json,
        vec![("k", json!(1), false), ("a2", json!([1]), true)],
    )]);
    run(&sys, &v1, &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text("s.json").unwrap(),
        "{ \"a\": 1 , \"z\": 0, \"k\": 1, \"a2\": [[1]] }"
    );
    let v2 = target(vec![merge(
        "s.json",
        ConfigFormat::Json,
        vec![("k", json!({"x": 2}), false), ("a2", json!([2]), true)],
    )]);
    run(&sys, &v2, &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text("s.json").unwrap(),
        "{ \"a\": 1 , \"z\": 0, \"k\": {\"x\": 2}, \"a2\": [[2]] }"
    );
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("s.json").unwrap(), "{ \"a\": 1 , \"z\": 0 }");
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

/// Random user JSON documents in random layouts (compact, pretty with 2/4 spaces or tabs, LF or
/// CRLF, comments, trailing commas) and random aiwg keys and array items.
mod random_json {
    use serde_json::{json, Map, Value};

    use super::super::random::Rng;
    use super::*;
    use crate::jsonc::JsonDoc;

    const NAMES: [&str; 6] = ["a", "env", "hooks", "x y", "\u{fc}", "q\"uote"];

    fn scalar(rng: &mut Rng) -> Value {
        match rng.below(5) {
            0 => json!(rng.below(1000) as i64 - 500),
            1 => json!(rng.pick(&["", "text", "tab\there", "\u{e9}", "back\\slash"])),
            2 => json!(rng.chance(50)),
            3 => Value::Null,
            _ => json!(1.5),
        }
    }

    fn value(rng: &mut Rng, depth: usize) -> Value {
        if depth >= 3 || rng.chance(40) {
            return scalar(rng);
        }
        if rng.chance(50) {
            object(rng, depth)
        } else {
            Value::Array((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect())
        }
    }

    fn object(rng: &mut Rng, depth: usize) -> Value {
        let mut map = Map::new();
        for _ in 0..rng.below(4) {
            map.insert(rng.pick(&NAMES).to_string(), value(rng, depth + 1));
        }
        Value::Object(map)
    }

    /// How a user's file is written.
    struct Style {
        newline: &'static str,
        /// `None`: all on one line.
        unit: Option<&'static str>,
        colon: &'static str,
        sep: &'static str,
        comments: bool,
        trailing_commas: bool,
    }

    fn style(rng: &mut Rng) -> Style {
        let jsonc = rng.chance(40);
        Style {
            newline: if rng.chance(30) { "\r\n" } else { "\n" },
            unit: match rng.below(4) {
                0 => None,
                1 => Some("  "),
                2 => Some("    "),
                _ => Some("\t"),
            },
            colon: rng.pick(&[": ", ":", " : "]),
            sep: rng.pick(&[" ", ""]),
            comments: jsonc && rng.chance(70),
            trailing_commas: jsonc && rng.chance(50),
        }
    }

    fn print(rng: &mut Rng, v: &Value, l: &Style, depth: usize, out: &mut String) {
        let (open, close, items): (char, char, Vec<(Option<&String>, &Value)>) = match v {
            Value::Object(m) => ('{', '}', m.iter().map(|(k, v)| (Some(k), v)).collect()),
            Value::Array(a) => ('[', ']', a.iter().map(|v| (None, v)).collect()),
            s => return out.push_str(&s.to_string()),
        };
        out.push(open);
        let n = items.len();
        for (i, (k, v)) in items.into_iter().enumerate() {
            if let Some(unit) = l.unit {
                out.push_str(l.newline);
                out.push_str(&unit.repeat(depth + 1));
            } else if i > 0 {
                out.push_str(l.sep);
            }
            if l.comments && rng.chance(20) {
                out.push_str("/* c */ ");
            }
            if let Some(k) = k {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(l.colon);
            }
            print(rng, v, l, depth + 1, out);
            if i + 1 < n || l.trailing_commas {
                out.push(',');
            }
            if l.unit.is_some() && l.comments && rng.chance(20) {
                out.push_str(" // note");
            }
        }
        if let (Some(unit), true) = (l.unit, n > 0) {
            out.push_str(l.newline);
            out.push_str(&unit.repeat(depth));
        }
        out.push(close);
    }

    /// Paths of the non-empty objects and arrays of `v`: where aiwg's keys may go. (An empty
    /// one the user had is left out on purpose: removing aiwg's last key removes the container
    /// too, since it cannot be told from one aiwg created; ARCHITECTURE.md says so.)
    fn containers(
        v: &Value,
        path: &mut Vec<String>,
        objects: &mut Vec<Vec<String>>,
        arrays: &mut Vec<Vec<String>>,
    ) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                objects.push(path.clone());
                for (k, child) in m {
                    path.push(k.clone());
                    containers(child, path, objects, arrays);
                    path.pop();
                }
            }
            Value::Array(a) if !a.is_empty() => arrays.push(path.clone()),
            _ => {}
        }
    }

    fn get<'a>(v: &'a Value, key: &[String]) -> Option<&'a Value> {
        key.iter().try_fold(v, |v, k| v.as_object()?.get(k))
    }

    fn set(v: &mut Value, key: &[String], value: Value) {
        let (last, parents) = key.split_last().unwrap();
        let mut map = v.as_object_mut().unwrap();
        for k in parents {
            map = map
                .entry(k.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap();
        }
        map.insert(last.clone(), value);
    }

    /// Random aiwg entries that merge without conflict; the user's document with them applied.
    fn entries(rng: &mut Rng, user: &Value) -> (Vec<MergeEntry>, Value) {
        let (mut objects, mut arrays) = (Vec::new(), Vec::new());
        containers(user, &mut Vec::new(), &mut objects, &mut arrays);
        if objects.is_empty() {
            objects.push(Vec::new());
        }
        let mut expect = user.clone();
        let mut out: Vec<MergeEntry> = Vec::new();
        let overlaps = |a: &[String], b: &[String]| a.starts_with(b) || b.starts_with(a);
        for n in 0..1 + rng.below(4) {
            let append = rng.chance(50);
            let key: Vec<String> = if append && !arrays.is_empty() && rng.chance(60) {
                arrays[rng.below(arrays.len())].clone()
            } else {
                let mut key = objects[rng.below(objects.len())].clone();
                key.push(format!("aiwg{n}"));
                if rng.chance(30) {
                    key.push("deep".into());
                }
                key
            };
            if out.iter().any(|e| overlaps(&e.key, &key)) {
                continue;
            }
            let value = if append {
                json!({"aiwg": n, "v": value(rng, 2)})
            } else {
                value(rng, 1)
            };
            if append {
                let mut items = get(&expect, &key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                items.push(value.clone());
                set(&mut expect, &key, Value::Array(items));
            } else {
                set(&mut expect, &key, value.clone());
            }
            out.push(MergeEntry { key, value, append });
        }
        (out, expect)
    }

    #[test]
    fn merge_then_unmerge_is_the_identity_on_bytes() {
        for seed in 0..400 {
            let mut rng = Rng::new(seed);
            let user = object(&mut rng, 0);
            let l = style(&mut rng);
            let mut text = String::new();
            if l.comments && rng.chance(50) {
                text.push_str(&format!("// my settings{}", l.newline));
            }
            print(&mut rng, &user, &l, 0, &mut text);
            if rng.chance(70) {
                text.push_str(l.newline);
            }
            let (entries, expect) = entries(&mut rng, &user);
            let sys = MemSystem::with_files(&[("s.json", &text)]);
            let t = target(vec![TargetEntry {
                path: rel("s.json"),
                desired: Desired::Merge {
                    format: ConfigFormat::Json,
                    entries,
                },
                origin: origin("src"),
            }]);
            run(&sys, &t, &ApplyOptions::default())
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
            let merged = sys.text("s.json").unwrap();
            let doc =
                JsonDoc::parse(&merged).unwrap_or_else(|e| panic!("seed {seed}: {e:?}\n{merged}"));
            assert_eq!(
                doc.get(&[]).unwrap(),
                expect,
                "seed {seed}:\n{text}\n{merged}"
            );
            if !l.comments && !l.trailing_commas {
                let strict: Value = serde_json::from_str(&merged)
                    .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{merged}"));
                assert_eq!(strict, expect, "seed {seed}");
            }
            let engine = Engine::shared(&sys, Layout::project());
            assert!(
                engine.plan(&t).unwrap().0.is_empty(),
                "seed {seed}: not converged"
            );
            run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
            if JsonDoc::parse(&text).unwrap().is_empty() {
                // A file that is only `{}` after removal is deleted (ARCHITECTURE.md).
                assert_eq!(sys.text("s.json"), None, "seed {seed}");
                continue;
            }
            assert_eq!(
                sys.text("s.json").unwrap_or_default(),
                text,
                "seed {seed}: unmerge of\n{merged}"
            );
        }
    }
}

#[test]
fn a_crlf_file_stays_crlf_and_removal_restores_its_bytes() {
    // R7: a CRLF checkout of a user's config gets aiwg's keys in CRLF too.
    let user_toml = USER_TOML.replace('\n', "\r\n");
    let user_json = USER_JSON.replace('\n', "\r\n");
    let sys = MemSystem::with_files(&[("c.toml", &user_toml), ("s.json", &user_json)]);
    let t = target(vec![
        merge(
            "c.toml",
            ConfigFormat::Toml,
            vec![("mcp_servers.aiwg", json!({"command": "aiwg"}), false)],
        ),
        merge(
            "s.json",
            ConfigFormat::Json,
            vec![("hooks.PreToolUse", json!({"matcher": "Write"}), true)],
        ),
    ]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    for path in ["c.toml", "s.json"] {
        let text = sys.text(path).unwrap();
        assert!(text.contains("aiwg") || text.contains("Write"), "{text}");
        assert_eq!(crate::eol::of(&text), "\r\n", "{path}: {text:?}");
    }
    let engine = Engine::shared(&sys, Layout::project());
    assert!(engine.plan(&t).unwrap().0.is_empty(), "converged");
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("c.toml").unwrap(), user_toml);
    assert_eq!(sys.text("s.json").unwrap(), user_json);
}

#[test]
fn an_edited_array_item_is_edited_not_missing() {
    // R12: aiwg's hook item edited in place is a conflict `--force` puts back where it stands,
    // never a missing item appended a second time, and a stale one is kept and reported.
    let user = "{\n  \"hooks\": {\n    \"PreToolUse\": [\n      {\"matcher\": \"Bash\", \"hooks\": []}\n    ]\n  }\n}\n";
    let sys = MemSystem::with_files(&[("s.json", user)]);
    let item = json!({"matcher": "Write", "hooks": [{"type": "command", "command": "g.sh"}]});
    let t = target(vec![merge(
        "s.json",
        ConfigFormat::Json,
        vec![("hooks.PreToolUse", item.clone(), true)],
    )]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    let lock = sys.text("aiwg.lock").unwrap();
    assert!(lock.contains("at = 1") && lock.contains("others"), "{lock}");
    let deployed = sys.text("s.json").unwrap();
    let edited = deployed.replace("\"g.sh\"", "\"g.sh --strict\"");
    assert_ne!(edited, deployed);
    sys.put("s.json", edited.as_bytes(), false);
    let engine = Engine::shared(&sys, Layout::project());
    let (p, _) = engine.plan(&t).unwrap();
    assert_eq!(p.items[0].state(), crate::State::Edited, "{:?}", p.items[0]);
    assert_eq!(p.items[0].conflict(), Some(&ConflictKind::Edited));
    assert!(matches!(
        run(&sys, &t, &ApplyOptions::default()),
        Err(DeployError::Conflicts { .. })
    ));
    assert_eq!(sys.text("s.json").unwrap(), edited, "nothing appended");
    // `--force` restores aiwg's item in place; the user's item stays first.
    run(&sys, &t, &force()).unwrap();
    assert_eq!(sys.text("s.json").unwrap(), deployed);
    // Edited again, then no longer wanted: kept and released, not silently dropped.
    sys.put("s.json", edited.as_bytes(), false);
    let (p, _) = engine.plan(&TargetState::new()).unwrap();
    assert_eq!(p.items[0].conflict(), Some(&ConflictKind::EditedStale));
    let report = run(
        &sys,
        &TargetState::new(),
        &ApplyOptions {
            release_edited: true,
            ..ApplyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.released, vec![rel("s.json")]);
    assert_eq!(sys.text("s.json").unwrap(), edited);
    // A user's own item beside aiwg's is never taken for an edit of it.
    let sys = MemSystem::with_files(&[("s.json", user)]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    let theirs = sys
        .text("s.json")
        .unwrap()
        .replace("\"Bash\"", "\"Bash|Read\"");
    sys.put("s.json", theirs.as_bytes(), false);
    let engine = Engine::shared(&sys, Layout::project());
    let (p, _) = engine.plan(&t).unwrap();
    assert_eq!(p.items[0].state(), crate::State::Ok, "{:?}", p.items[0]);
}
