//! The bundled content and the commands around it: every bundled artifact validates and
//! lints clean, `aiwg new` scaffolds what `validate` accepts, `aiwg runbook render` fills or
//! fails without writing, and `aiwg list --frameworks` names them.

use crate::support::Test;

#[test]
fn every_bundled_artifact_validates_and_lints_clean() {
    let t = Test::new();
    let (code, stdout, stderr) = t.run(&["validate", "sdlc", "stream"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let problems: Vec<&str> = stdout.lines().filter(|l| !l.contains(": note: ")).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(stderr.ends_with(": 0 errors, 0 warnings\n"), "{stderr}");

    let (code, stdout, stderr) = t.run(&["runbook", "lint"]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    assert!(stderr.contains("0 problems"), "{stderr}");
}

#[test]
fn bundled_content_has_what_the_frameworks_promise() {
    let t = Test::new();
    let (_, stdout, _) = t.run(&["list", "sdlc", "stream", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let count = |kind: &str| rows.iter().filter(|r| r["kind"] == kind).count();
    assert!(count("agent") >= 10, "agents: {}", count("agent"));
    assert!(count("command") >= 10, "commands: {}", count("command"));
    assert!(count("rule") >= 4 && count("skill") >= 4 && count("runbook") >= 2);
    let has = |kind: &str, name: &str| rows.iter().any(|r| r["kind"] == kind && r["name"] == name);
    for (kind, name) in [
        ("skill", "service-deploy"),
        ("runbook", "service-deployment"),
        ("skill", "stream-deploy"),
        ("rule", "stream-pipeline-gates"),
        ("behavior", "secret-guard"),
    ] {
        assert!(has(kind, name), "missing {kind} {name}");
    }
}

#[test]
fn list_frameworks_names_each_with_a_line() {
    let t = Test::new();
    let (code, stdout, _) = t.run(&["list", "--frameworks"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("sdlc ") && l.contains("framework")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("stream ") && l.contains("(needs sdlc)")),
        "{stdout}"
    );
}

#[test]
fn new_scaffolds_every_kind_and_validate_accepts_them() {
    let t = Test::new();
    for kind in ["agent", "skill", "command", "rule", "behavior", "runbook"] {
        let (code, stdout, stderr) = t.run(&["new", kind, &format!("my-{kind}")]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.starts_with(".aiwg/"), "{stdout}");
    }
    assert!(t.exists(".aiwg/skills/my-skill/SKILL.md"));
    assert!(t.exists(".aiwg/behaviors/my-behavior/scripts/my-behavior.sh"));
    let (code, stdout, stderr) = t.run(&["validate"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("6 artifacts: 0 errors, 0 warnings"),
        "{stderr}"
    );

    let (code, _, stderr) = t.run(&["new", "agent", "my-agent"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
    let (code, _, stderr) = t.run(&["new", "widget", "x"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown kind `widget`"), "{stderr}");
    let (code, _, stderr) = t.run(&["new", "skill", "Bad_Name"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("hint:"), "{stderr}");
}

const RUNBOOK: &str = "---
name: restart
description: Restart a service safely.
---

# Restart {service_name}

## Purpose

Restart {service_name} on {host}.

## Prerequisites

- Access to {host}

## Procedure

### Stage 1: Restart

1. `systemctl restart {service_name}` (not `${SHELL_VAR}` nor `{{args}}`)

**Gate**: {service_name} is active.

## Verification

- It answers.

## Rollback

**Trigger**: it does not answer.

1. Start the old version.

## Agent Rules

1. Stop when a gate fails.
";

#[test]
fn render_fills_from_values_and_set() {
    let t = Test::new();
    t.write(".aiwg/runbooks/restart.md", RUNBOOK);
    t.write(
        "values.toml",
        "service_name = \"billing\"\nhost = \"web-1\"\n",
    );
    let (code, stdout, stderr) = t.run(&[
        "runbook",
        "render",
        "restart",
        "--values",
        "values.toml",
        "--set",
        "host=web-2",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("\n# Restart billing\n"), "{stdout}");
    assert!(stdout.contains("Restart billing on web-2."), "{stdout}");
    assert!(stdout.contains("`${SHELL_VAR}` nor `{{args}}`"), "{stdout}");
    assert!(
        !stdout.contains("name: restart"),
        "the frontmatter is not part of the document"
    );

    let (code, _, stderr) = t.run(&[
        "runbook",
        "render",
        ".aiwg/runbooks/restart.md",
        "--values",
        "values.toml",
        "-o",
        "out/restart.md",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(t
        .read("out/restart.md")
        .contains("Restart billing on web-1."));
}

#[test]
fn render_fails_listing_every_unfilled_placeholder_and_writes_nothing() {
    let t = Test::new();
    t.write(".aiwg/runbooks/restart.md", RUNBOOK);
    t.write("out.md", "before\n");
    let (code, stdout, stderr) = t.run(&["runbook", "render", "restart", "-o", "out.md"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(
            "2 placeholders of `.aiwg/runbooks/restart.md` have no value: `service_name`, `host`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: give each with `--set service_name=...`"),
        "{stderr}"
    );
    assert_eq!(t.read("out.md"), "before\n");
    let leftovers: Vec<_> = std::fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temp file left: {leftovers:?}");

    let (code, _, stderr) = t.run(&["runbook", "render", "nope"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no runbook named `nope`") && stderr.contains("restart"),
        "{stderr}"
    );
}

#[test]
fn lint_reports_structure_with_lines() {
    let t = Test::new();
    t.write(
        ".aiwg/runbooks/thin.md",
        "---\nname: thin\ndescription: A thin runbook.\n---\n# Thin\n\n## Purpose\n\nx\n\n## Procedure\n\n### Stage 1: Go\n\nDo it.\n",
    );
    let (code, stdout, _) = t.run(&["runbook", "lint", "thin"]);
    assert_eq!(code, 2);
    assert_eq!(
        stdout,
        "\
.aiwg/runbooks/thin.md:5: warning: runbook has no `## Prerequisites` section
.aiwg/runbooks/thin.md:5: warning: runbook has no `## Verification` section
.aiwg/runbooks/thin.md:5: warning: runbook has no `## Rollback` section
.aiwg/runbooks/thin.md:5: warning: runbook has no `## Agent Rules` section
.aiwg/runbooks/thin.md:5: warning: runbook has no `## Audit Trail` section
.aiwg/runbooks/thin.md:13: warning: stage `Stage 1: Go` has no `**Gate**:` line
"
    );
}

#[test]
fn render_takes_defaults_reports_unused_keys_and_quotes_shell_values() {
    let t = Test::new();
    t.write(
        ".aiwg/runbooks/restart.md",
        &RUNBOOK
            .replace(
                "1. `systemctl restart {service_name}`",
                "```sh\nfor h in {hosts}; do ssh \"$h\" systemctl restart {service_name}; done\n```\n\n1. `systemctl restart {service_name}`",
            )
            .replace("on {host}.", "on {host}, {batch|1} at a time."),
    );
    let (code, stdout, stderr) = t.run(&[
        "runbook",
        "render",
        "restart",
        "--set",
        "service_name=billing",
        "--set",
        "host=web-1",
        "--set",
        "hosts=web-2; rm -rf /",
        "--set",
        "servce_name=typo",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("on web-1, 1 at a time."), "{stdout}");
    assert!(
        stdout
            .contains("for h in 'web-2; rm -rf /'; do ssh \"$h\" systemctl restart billing; done"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: `servce_name` from `--set` is unused: it is not a placeholder of `.aiwg/runbooks/restart.md`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: `batch` has no value; it takes its default `1`"),
        "{stderr}"
    );
}
