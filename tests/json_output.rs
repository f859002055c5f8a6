//! Every `--json` document, parsed: `apply`, `use`, `diff`, `remove`, `uninstall`,
//! `rollback --list` and `validate`, each with `version` 1 and the documented keys; and
//! `diff --stat`, `--name-only`, `rollback --to N`.

use serde_json::Value;

use crate::support::Test;

const REVIEWER: &str = "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n";

fn project() -> Test {
    let t = Test::new();
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n",
    )
    .write(".aiwg/agents/reviewer.md", REVIEWER)
    .write(
        ".aiwg/commands/ship.md",
        "---\ndescription: Ships it\n---\nShip.\n",
    );
    t
}

/// Runs `args`, expects `code`, and parses stdout as JSON.
fn doc(t: &Test, args: &[&str], code: i32) -> Value {
    let (got, out, err) = t.run(args);
    assert_eq!(got, code, "{args:?}: {err}");
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"));
    assert_eq!(doc["version"], 1, "{args:?}: {out}");
    doc
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn apply_and_use_report_what_they_did() {
    let t = project();
    let dry = doc(&t, &["apply", "--dry-run", "--json"], 0);
    assert_eq!(
        keys(&dry),
        [
            "version",
            "command",
            "dry_run",
            "applied",
            "summary",
            "generation",
            "changes",
            "conflicts",
            "notices"
        ]
    );
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["applied"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(!t.exists(".claude"), "a dry run wrote");
    let applied = doc(&t, &["apply", "--json"], 0);
    assert_eq!(applied["command"], "apply");
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["generation"], 1);
    let created = applied["summary"]["created"].as_u64().unwrap();
    assert_eq!(
        created as usize,
        applied["changes"].as_array().unwrap().len()
    );
    let changes = applied["changes"].as_array().unwrap();
    let change = changes
        .iter()
        .find(|c| c["path"] == ".claude/agents/reviewer.md")
        .unwrap();
    assert_eq!(keys(change), ["path", "action", "mode", "platforms"]);
    assert_eq!(change["path"], ".claude/agents/reviewer.md");
    assert_eq!(change["action"], "create");
    assert_eq!(change["platforms"], serde_json::json!(["claude-code"]));
    // Codex takes commands as skills: a note says so.
    let notice = &applied["notices"][0];
    assert_eq!(keys(notice), ["platform", "level", "message"]);
    assert_eq!(
        (notice["platform"].as_str(), notice["level"].as_str()),
        (Some("codex"), Some("note"))
    );

    // A conflict: not applied, exit 1, the path and whether --force helps.
    std::fs::write(t.root().join(".claude/agents/reviewer.md"), "mine\n").unwrap();
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    let stopped = doc(&t, &["apply", "--json"], 1);
    assert_eq!(stopped["applied"], false);
    assert_eq!(
        stopped["conflicts"][0],
        serde_json::json!({"path": ".claude/agents/reviewer.md", "reason": "edited since aiwg wrote it", "forceable": true})
    );

    let fresh = Test::new();
    fresh.write("src/agents/a.md", REVIEWER);
    let used = doc(
        &fresh,
        &["use", "src", "--platforms", "claude", "--json"],
        0,
    );
    assert_eq!(used["command"], "use");
    assert_eq!(
        used["config"],
        serde_json::json!({"path": "aiwg.toml", "created": true, "written": true})
    );
}

#[test]
fn diff_in_four_shapes() {
    let t = project();
    assert_eq!(t.run(&["apply"]).0, 0);
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    let d = doc(&t, &["diff", "--json"], 0);
    let files = d["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        keys(&files[0]),
        ["path", "action", "added", "removed", "patch"]
    );
    assert_eq!(
        (files[0]["added"].as_u64(), files[0]["removed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(files[0]["patch"]
        .as_str()
        .unwrap()
        .contains("+Review twice."));
    insta::assert_snapshot!(t.snap(&["diff", "--stat"]), @"
    exit 0
    --- stdout
    .claude/agents/reviewer.md  | +1 -1
    .codex/agents/reviewer.toml | +1 -1
    2 paths changed, 2 lines added, 2 removed
    --- stderr
    ");
    insta::assert_snapshot!(t.snap(&["diff", "--name-only"]), @"
    exit 0
    --- stdout
    .claude/agents/reviewer.md
    .codex/agents/reviewer.toml
    --- stderr
    ");
}

#[test]
fn remove_uninstall_and_rollback_list() {
    let t = project();
    assert_eq!(t.run(&["apply"]).0, 0);
    let dry = doc(&t, &["remove", ".aiwg", "--dry-run", "--json"], 0);
    assert_eq!(dry["command"], "remove");
    let deleted = dry["summary"]["deleted"].as_u64().unwrap();
    assert!(deleted >= 3, "{dry}");
    assert!(t.exists(".claude/agents/reviewer.md"));
    let list = doc(&t, &["rollback", "--list", "--json"], 0);
    let generations = list["generations"].as_array().unwrap();
    assert_eq!(generations.len(), 1);
    assert_eq!(
        keys(&generations[0]),
        ["generation", "time", "command", "paths"]
    );
    assert_eq!(generations[0]["command"], "apply");
    let gone = doc(&t, &["uninstall", "--json"], 0);
    assert_eq!(
        (gone["command"].as_str(), gone["applied"].as_bool()),
        (Some("uninstall"), Some(true))
    );
    assert_eq!(gone["changes"].as_array().unwrap().len() as u64, deleted);
    // Nothing of aiwg is left, its history included.
    assert!(!t.exists(".aiwg/history") && !t.exists("aiwg.toml"));
}

#[test]
fn validate_reports_counts_and_problems() {
    let t = project();
    t.write(".aiwg/agents/bad.md", "---\nname: [bad\n---\nBody.\n");
    let v = doc(&t, &["validate", "--json"], 2);
    assert_eq!(
        keys(&v),
        [
            "version",
            "sources",
            "artifacts",
            "errors",
            "warnings",
            "diagnostics"
        ]
    );
    assert_eq!(v["errors"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(keys(d), ["path", "line", "level", "message", "hint"]);
    assert_eq!(d["level"], "error");
    assert_eq!(d["path"], ".aiwg/agents/bad.md");
}

#[test]
fn rollback_to_n_is_the_state_right_after_generation_n() {
    let t = project();
    assert_eq!(t.run(&["apply"]).0, 0); // generation 1: the reviewer, version 1
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    assert_eq!(t.run(&["apply"]).0, 0); // 2
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "thrice"),
    );
    assert_eq!(t.run(&["apply"]).0, 0); // 3
    insta::assert_snapshot!(t.snap(&["rollback", "--to", "1"]), @"
    exit 0
    --- stdout
    --- stderr
    rolled back generations 2, 3: 2 paths restored (recorded as generation 4; `aiwg rollback` again redoes)
    ");
    assert!(t.read(".claude/agents/reviewer.md").contains("carefully"));
    insta::assert_snapshot!(t.snap(&["rollback", "--to", "9"]), @"
    exit 2
    --- stdout
    --- stderr
    error: there is no generation 9

    hint: the generations are 1, 2, 3, 4 (`aiwg rollback --list`); `--to 0` goes back to before the first
    ");
    let (code, _, err) = t.run(&["rollback", "--to", "0"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists(".claude/agents/reviewer.md"));
}

/// The ```json blocks of the README's "JSON output" section, in order, parsed.
fn readme_examples() -> Vec<Value> {
    let readme = std::fs::read_to_string(crate::support::repo_root().join("README.md")).unwrap();
    let section = &readme[readme.find("## JSON output").unwrap()..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .split("```json\n")
        .skip(1)
        .map(|block| {
            let text = &block[..block.find("```").unwrap()];
            serde_json::from_str(text).unwrap_or_else(|e| panic!("README example: {e}: {text}"))
        })
        .collect()
}

/// The keys of `v` and of the first element of each array in it, one level down.
fn shape(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in v.as_object().unwrap() {
        out.push(key.clone());
        if let Some(first) = value.as_array().and_then(|a| a.first()) {
            if let Some(obj) = first.as_object() {
                out.extend(obj.keys().map(|k| format!("{key}[].{k}")));
            }
        }
        if let Some(obj) = value.as_object() {
            out.extend(obj.keys().map(|k| format!("{key}.{k}")));
        }
    }
    out.sort();
    out
}

#[test]
fn the_readme_documents_every_json_document_as_it_is() {
    let examples = readme_examples();
    assert_eq!(
        examples.len(),
        8,
        "check, status, plan, apply, diff, rollback --list, validate, import"
    );
    // Every array the README shows with an element must have one here too.
    let t = Test::new();
    t.write("src/agents/reviewer.md", REVIEWER)
        .write(
            "src/commands/ship.md",
            "---\ndescription: Ships it\n---\nShip.\n",
        )
        .write("CLAUDE.md", "# mine\n");
    let used = doc(
        &t,
        &["use", "src", "--platforms", "claude,codex", "--json"],
        0,
    );
    t.write(
        "src/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    std::fs::write(t.root().join(".claude/agents/reviewer.md"), "edited\n").unwrap();
    let status = doc(&t, &["status", "--json"], 0);
    let check = doc(&t, &["check", "--json"], 1);
    let plan = doc(&t, &["plan", "--json"], 0);
    let diff = doc(&t, &["diff", "--json"], 0);
    let mut apply = doc(&t, &["apply", "--json"], 1);
    // The README shows one document for apply and use: apply's keys plus `use`'s `config`.
    apply["config"] = used["config"].clone();
    let list = doc(&t, &["rollback", "--list", "--json"], 0);
    t.write("src/agents/bad.md", "---\nname: [bad\n---\nBody.\n");
    let validate = doc(&t, &["validate", "src", "--json"], 2);
    let import = import_doc();
    let real = [check, status, plan, apply, diff, list, validate, import];
    for (example, real) in examples.iter().zip(&real) {
        assert_eq!(
            shape(example),
            shape(real),
            "README:\n{example:#}\nreal:\n{real:#}"
        );
    }
}

/// `import --json` on a repository with a copy that differs between two platforms, a source
/// file in the way and a file that is not UTF-8; `--dry-run` says the same and writes nothing.
fn import_doc() -> Value {
    let t = Test::new();
    t.write(
        ".claude/agents/a.md",
        "---\nname: a\ndescription: Reviews\n---\nBody A.\n",
    )
    .write(
        ".cursor/agents/a.md",
        "---\nname: a\ndescription: Reviews code\n---\nBody A.\n",
    )
    .write(
        ".claude/agents/b.md",
        "---\nname: b\ndescription: B\n---\nB.\n",
    )
    .write(
        ".aiwg/agents/b.md",
        "---\nname: b\ndescription: other\n---\nmine\n",
    );
    std::fs::write(t.root().join(".claude/agents/bin.md"), b"\xff\xfe").unwrap();
    let dry = doc(&t, &["import", "--dry-run", "--json"], 1);
    assert!(!t.exists(".aiwg/agents/a.md"));
    let real = doc(&t, &["import", "--json"], 1);
    assert_eq!(real["written"], serde_json::json!([".aiwg/agents/a.md"]));
    assert_eq!(dry["written"], real["written"]);
    assert_eq!(
        (dry["dry_run"].clone(), real["dry_run"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    assert!(t.exists(".aiwg/agents/a.md"));
    assert_eq!(
        t.read(".aiwg/agents/b.md"),
        "---\nname: b\ndescription: other\n---\nmine\n"
    );
    real
}
