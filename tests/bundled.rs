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
        ("behavior", "destructive-guard"),
        ("runbook", "kubernetes-deployment"),
        ("skill", "kubernetes-deploy"),
        ("skill", "database-migration"),
        ("skill", "systematic-debugging"),
        ("skill", "ci-failure-triage"),
        ("skill", "dependency-upgrade"),
        ("skill", "pull-request"),
        ("skill", "architecture-decision"),
        ("rule", "verification-before-completion"),
        ("skill", "stream-key-rotation"),
        ("skill", "stream-health"),
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

/// `-o` naming a committed symlink to a file outside the project: the link is replaced by the
/// rendered runbook, the file it named is left alone, and no temp file is written through a
/// link either (review19).
#[cfg(unix)]
#[test]
fn render_replaces_a_symlink_at_its_output_never_writes_through_it() {
    let t = Test::new();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("notes.md");
    std::fs::write(&victim, "mine\n").unwrap();
    t.write(".aiwg/runbooks/restart.md", RUNBOOK);
    std::os::unix::fs::symlink(&victim, t.root().join("out.md")).unwrap();
    let (code, _, stderr) = t.run(&[
        "runbook",
        "render",
        "restart",
        "--set",
        "service_name=billing",
        "--set",
        "host=web-1",
        "-o",
        "out.md",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine\n");
    let out = t.root().join("out.md");
    assert!(std::fs::symlink_metadata(&out).unwrap().is_file());
    assert!(t.read("out.md").contains("Restart billing on web-1."));
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

/// Every bundled runbook renders with its values file in `tests/fixtures/runbook-values/`,
/// leaving no placeholder and no unused value (a stale values file fails too).
#[test]
fn every_bundled_runbook_renders_with_its_values_file() {
    let t = Test::new();
    let (_, stdout, _) = t.run(&["list", "sdlc", "stream", "--kind", "runbook", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert!(rows.len() >= 3, "{stdout}");
    for row in rows {
        let name = row["name"].as_str().unwrap();
        let values = crate::support::repo_root()
            .join("tests/fixtures/runbook-values")
            .join(format!("{name}.toml"));
        assert!(values.is_file(), "no values file for runbook `{name}`");
        let values = values.to_str().unwrap();
        let (code, rendered, stderr) = t.run(&["runbook", "render", name, "--values", values]);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(!stderr.contains("warning:"), "{name}: {stderr}");
        let left = aiwg_core::runbook::parse_body(&rendered, 1);
        assert!(
            left.placeholders.is_empty(),
            "{name}: left {:?}",
            left.placeholders
        );
    }
}

/// Every shell script in the bundle passes shellcheck. `.ci/run` installs shellcheck and sets
/// `AIWG_REQUIRE_SHELLCHECK`, so CI always runs this; elsewhere, without shellcheck, the test
/// says so and checks only that each script is executable and POSIX (`#!/bin/sh`).
#[test]
fn every_bundled_script_is_posix_and_shellcheck_clean() {
    fn scripts(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scripts(&path, out);
            } else if path.extension().is_some_and(|e| e == "sh") {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    scripts(&crate::support::repo_root().join("content"), &mut all);
    assert!(all.len() >= 7, "{all:?}");
    for script in &all {
        let text = std::fs::read_to_string(script).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{}", script.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(script).unwrap().permissions().mode();
            assert!(mode & 0o111 != 0, "{} is not executable", script.display());
        }
    }
    let Ok(out) = std::process::Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style"])
        .args(&all)
        .output()
    else {
        // `.ci/run` installs shellcheck and sets this, so CI can never skip the lint.
        assert!(
            std::env::var_os("AIWG_REQUIRE_SHELLCHECK").is_none(),
            "AIWG_REQUIRE_SHELLCHECK is set but shellcheck is not installed"
        );
        eprintln!(
            "shellcheck is not installed: {} scripts not linted (CI installs it)",
            all.len()
        );
        return;
    };
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The CI triage skill's digest finds the failing tests of each runner, the first errors
/// and the exit line, with colours and CI timestamps stripped.
#[test]
fn ci_log_digest_names_failing_tests_errors_and_the_exit_line() {
    let script = crate::support::repo_root()
        .join("content/frameworks/sdlc/skills/ci-failure-triage/scripts/ci-log-digest.sh");
    let dir = tempfile::tempdir().unwrap();
    let digest = |log: &str| {
        let path = dir.path().join("job.log");
        std::fs::write(&path, log).unwrap();
        let out = std::process::Command::new("sh")
            .arg(&script)
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let check = |log: &str, tests: &[&str], exit: &str| {
        let out = digest(log);
        let listed = format!(
            "failing tests ({}):\n{}",
            tests.len(),
            tests.iter().map(|t| format!("  {t}\n")).collect::<String>()
        );
        assert!(out.contains(&listed), "{out}");
        assert!(out.contains(exit), "{out}");
        assert!(
            !out.contains('\u{1b}') && !out.contains("2026-01-05T"),
            "{out}"
        );
    };
    check(
        "2026-01-05T10:00:00.1234567Z \u{1b}[1mrunning 2 tests\u{1b}[0m\ntest parse::empty ... FAILED\ntest parse::ok ... ok\nthread 'parse::empty' panicked at src/parse.rs:9:5:\nerror: test failed, to rerun pass `--lib`\n##[error]Process completed with exit code 101.\n",
        &["parse::empty"],
        "Process completed with exit code 101",
    );
    check(
        "============ FAILURES ============\nE   AssertionError: 3 != 4\nFAILED tests/test_math.py::test_add - AssertionError\nFAILED tests/test_io.py::test_read\nError: Process completed with exit code 1.\n",
        &["tests/test_math.py::test_add", "tests/test_io.py::test_read"],
        "exit code 1",
    );
    check(
        "--- FAIL: TestParse (0.00s)\n    parse_test.go:12: got 3\nFAIL\nexit status 1\n",
        &["TestParse"],
        "exit status 1",
    );
    check(
        "FAIL src/app.test.ts\n  ✕ renders the title (12 ms)\nnpm ERR! Test failed.\n",
        &["src/app.test.ts", "renders the title (12 ms)"],
        "exit: no exit line found",
    );
    let out = digest("all good\n");
    assert!(
        out.contains("failing tests (0):") && out.contains("first error lines (0 shown)"),
        "{out}"
    );
    let missing = std::process::Command::new("sh")
        .arg(&script)
        .arg(dir.path().join("nope.log"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// The changelog skill's script groups commits into Keep a Changelog sections in the
/// skill's order, keeps scopes, lists breaking changes first and drops no commit silently.
#[test]
fn changelog_script_groups_commits_in_the_skills_order() {
    let script = crate::support::repo_root()
        .join("content/frameworks/sdlc/skills/changelog/scripts/changelog-from-git.sh");
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    for subject in [
        "feat(cli): json output",
        "fix: crash on empty input",
        "docs: explain scopes",
        "feat!: drop the v1 API",
        "security(auth): rotate tokens",
        "chore: bump",
        "deps: update serde",
    ] {
        git(&["commit", "-q", "--allow-empty", "-m", subject]);
    }
    let out = std::process::Command::new("sh")
        .arg(&script)
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("#")).collect();
    assert_eq!(
        headings,
        [
            "## [Unreleased]",
            "### Breaking changes",
            "### Security",
            "### Added",
            "### Fixed",
            "### Other"
        ],
        "{text}"
    );
    for line in [
        "- **auth**: rotate tokens",
        "- **cli**: json output",
        "- drop the v1 API",
        "- explain scopes",
        "- update serde",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert!(!text.contains("bump"), "{text}");
}

#[test]
fn render_refuses_a_value_that_could_change_a_quoted_remote_command() {
    let t = Test::new();
    t.write(
        ".aiwg/runbooks/restart.md",
        &RUNBOOK.replace(
            "1. `systemctl restart {service_name}`",
            "```sh\nssh web-1 'systemctl restart {service_name}'\n```\n\n1. `systemctl restart {service_name}`",
        ),
    );
    t.write("out.md", "before\n");
    let (code, stdout, stderr) = t.run(&[
        "runbook",
        "render",
        "restart",
        "--set",
        "service_name=api'; rm -rf /; '",
        "--set",
        "host=web-1",
        "-o",
        "out.md",
    ]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains(
            ".aiwg/runbooks/restart.md:21: the value of `service_name` holds shell characters"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert_eq!(t.read("out.md"), "before\n");
}

/// The two seed documents the bundled content replaces (a systemd service-deployment runbook
/// and a stream-deploy skill, kept outside this repository) have every step covered: each
/// step of the seed, in the seed's order, is named here with text the bundled artifact must
/// hold for it, so deleting or reordering a step fails.
#[test]
fn the_seed_documents_are_covered_step_by_step() {
    let root = crate::support::repo_root().join("content");
    let check = |file: &str, steps: &[(&str, &[&str])]| {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let mut at = 0;
        for (step, needles) in steps {
            for needle in *needles {
                let Some(found) = text[at..].find(needle) else {
                    panic!("{file}: seed step `{step}`: no `{needle}` after byte {at}");
                };
                if needle == &needles[0] {
                    at += found;
                }
            }
        }
    };
    check(
        "frameworks/sdlc/runbooks/service-deployment.md",
        &[
            ("purpose", &["## Purpose"]),
            ("topology", &["## System Topology", "{dashboard_url}"]),
            ("prerequisites", &["## Prerequisites", "down-migration"]),
            (
                "pre-flight: health, version, artifact, config snapshot, disk",
                &[
                    "### Stage 1: Pre-flight checks",
                    "--version",
                    "docker pull",
                    "{config_path}.bak.{deploy_id}",
                    "df -Pm",
                ],
            ),
            (
                "canary: migrations, graceful stop, install, start, wait for health",
                &[
                    "### Stage 2: Canary deployment",
                    "migrate --dry-run",
                    "systemctl stop {service_name}",
                    "apt-get install",
                    "docker compose",
                    "systemctl start {service_name}",
                    "**Gate**",
                ],
            ),
            (
                "canary soak: logs during the soak",
                &[
                    "### Stage 3: Canary soak",
                    "journalctl -u {service_name}",
                    "**Gate**",
                ],
            ),
            (
                "remaining hosts, one at a time, health on each",
                &[
                    "### Stage 4: Remaining hosts",
                    "for host in {remaining_hosts}",
                    "**Gate**",
                ],
            ),
            (
                "post-deployment: smoke test, error rates, backup clean-up later",
                &[
                    "### Stage 5: Post-deployment validation",
                    "{smoke_test_command}",
                    "{dashboard_url}",
                    "# rm {install_path}.bak.{deploy_id}",
                ],
            ),
            (
                "verification: running, version, health endpoints, no error spike",
                &[
                    "## Verification",
                    "systemctl is-active",
                    "Version correct everywhere",
                    "{health_path}",
                    "grep -c -i error",
                ],
            ),
            (
                "rollback: stop, binary, configuration, migrations, start, verify",
                &[
                    "## Rollback",
                    "systemctl stop {service_name}",
                    "previous binary",
                    "previous configuration",
                    "migrate rollback",
                    "systemctl start {service_name}",
                ],
            ),
            ("troubleshooting", &["## Troubleshooting"]),
            ("what not to fix", &["## What Not to Fix"]),
            (
                "agent rules",
                &["## Agent Rules", "Escalate to `{escalation_contact}`"],
            ),
            ("audit trail", &["## Audit Trail"]),
        ],
    );
    check(
        "extensions/stream/skills/stream-deploy/SKILL.md",
        &[
            (
                "1 read the current configuration",
                &[
                    "### Stage 1: Read the current configuration",
                    "systemctl show {unit_name}",
                ],
            ),
            (
                "2 validate the new configuration",
                &["### Stage 2: Validate", "scripts/validate-staged.sh"],
            ),
            ("3 deploy to test mode", &["### Stage 3: Test mode"]),
            (
                "4 test stream and 5 quality metrics",
                &[
                    "### Stage 4: Synthetic test stream and quality check",
                    "scripts/test-stream.sh",
                    "scripts/quality-gate.sh",
                ],
            ),
            ("6 OpsGate approval", &["### Stage 5: OpsGate", "**Gate**"]),
            (
                "7 apply to production",
                &["### Stage 6: Apply to production"],
            ),
            (
                "8 verify production health",
                &["### Stage 7: Verify production health", "quality-gate.sh"],
            ),
            (
                "9 update the documentation",
                &["### Stage 8: Record the deployment"],
            ),
            ("rollback", &["## Rollback", "STREAM-ROLLBACK"]),
            ("output", &["## What you report"]),
        ],
    );
}
