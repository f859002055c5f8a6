//! `aiwg validate` and `aiwg list` end to end: the fixture with good and bad artifacts, the
//! fixture shaped like an aiwg Node framework folder, and a project's default sources.

use crate::support::{repo_root, Test};

const MIXED: &str = "tests/fixtures/mixed";
const FRAMEWORK: &str = "tests/fixtures/aiwg-framework";

/// Runs `aiwg args...` from the repository root (so fixture paths print as given).
fn at_repo_root(args: &[&str]) -> (i32, String, String) {
    let t = Test::new();
    let out = t
        .aiwg(args)
        .current_dir(repo_root())
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn validate_reports_every_problem_with_its_line() {
    let (code, stdout, stderr) = at_repo_root(&["validate", MIXED]);
    let expect = "\
tests/fixtures/mixed/agents/bad-yaml.md:5: error: invalid YAML: illegal placement of ':' indicator
  hint: quote a value that contains `: ` or ` #`, or starts with `[`, `{`, `*`, `&`, `!`, `|`, `>`, `%` or `@` (`description: \"Use: this\"`)
tests/fixtures/mixed/agents/good-agent.md:2: error: duplicate agent name `good-agent`: `tests/fixtures/mixed/agents/Good_Agent.md` and `tests/fixtures/mixed/agents/good-agent.md`
  hint: names are compared after lowercasing and turning spaces and `_` into `-`
tests/fixtures/mixed/agents/no-description.md:1: error: missing `description`
  hint: add `description:` to the frontmatter: what it does and when to use it
tests/fixtures/mixed/behaviors/broken/BEHAVIOR.md:4: error: hook event `posttooluse` is spelt `PostToolUse`
tests/fixtures/mixed/behaviors/broken/BEHAVIOR.md:5: error: `command` names `scripts/missing.sh`, which is not in `behaviors/broken/`
  hint: add the script, or fix the path (it is relative to the behavior folder)
tests/fixtures/mixed/commands/empty.md:4: error: body is empty
  hint: write the instructions below the frontmatter
tests/fixtures/mixed/rules/latin1.md:5: error: file is not UTF-8
  hint: save it as UTF-8
tests/fixtures/mixed/runbooks/deploy.md:6: warning: runbook has no `## Prerequisites` section
tests/fixtures/mixed/runbooks/deploy.md:6: warning: runbook has no `## Verification` section
tests/fixtures/mixed/runbooks/deploy.md:6: warning: runbook has no `## Agent Rules` section
tests/fixtures/mixed/runbooks/deploy.md:6: warning: runbook has no `## Audit Trail` section
tests/fixtures/mixed/runbooks/deploy.md:6: note: placeholders: {service_name}, {target_version}, {host}
tests/fixtures/mixed/runbooks/deploy.md:20: warning: stage `Stage 2: Restart` has no `**Gate**:` line
tests/fixtures/mixed/runbooks/deploy.md:24: warning: `## Rollback` has no `**Trigger**:` line saying when to roll back
tests/fixtures/mixed/skills/Bad_Name/SKILL.md:1: error: skill name `Bad_Name` may only hold lowercase letters, digits and `-` (Agent Skills spec)
  hint: rename it `bad-name` (the folder and the `name:`)
tests/fixtures/mixed/skills/mismatch/SKILL.md:2: error: skill name `other-name` does not match its folder `mismatch`
  hint: make the `name:` and the folder name the same
tests/fixtures/mixed/skills/report/SKILL.md:9: warning: names `templates/chart.md`, which the source does not have
  hint: add the file under the source's `templates/`, or fix the path
";
    assert_eq!(stdout, expect);
    assert_eq!(
        stderr,
        "validated 1 source, 11 artifacts: 9 errors, 7 warnings\n"
    );
    assert_eq!(code, 2);
}

#[test]
fn list_prints_every_artifact_cut_to_the_width() {
    let (code, stdout, stderr) = at_repo_root(&["list", MIXED]);
    let expect = "\
KIND      NAME            SOURCE                DESCRIPTION
agent     good-agent      tests/fixtures/mixed  The same agent again, under a name that normalises …
agent     no-description  tests/fixtures/mixed
skill     Bad_Name        tests/fixtures/mixed  A skill whose folder breaks the Agent Skills naming…
skill     other-name      tests/fixtures/mixed  A skill whose name differs from its folder.
skill     report          tests/fixtures/mixed  Writes a status report from the template. Use at th…
command   empty           tests/fixtures/mixed  A command with nothing to say.
command   review          tests/fixtures/mixed  Review the current change.
rule      style           tests/fixtures/mixed
behavior  broken          tests/fixtures/mixed  Names a script that is not there, on an event spelt…
behavior  guard           tests/fixtures/mixed  Blocks writes to generated files.
runbook   deploy          tests/fixtures/mixed  Deploys {service_name} to one host.
";
    assert_eq!(stdout, expect);
    assert!(stdout.lines().all(|l| l.chars().count() <= 100));
    assert_eq!(
        stderr,
        "warning: the sources have 9 errors; `aiwg validate` shows them\n"
    );
    assert_eq!(code, 0);
}

#[test]
fn list_json_and_kind_filter() {
    let (code, stdout, _) = at_repo_root(&["list", MIXED, "--kind", "behaviors", "--json"]);
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        rows,
        serde_json::json!([
            {
                "kind": "behavior",
                "name": "broken",
                "source": "tests/fixtures/mixed",
                "path": "tests/fixtures/mixed/behaviors/broken/BEHAVIOR.md",
                "description": "Names a script that is not there, on an event spelt wrong."
            },
            {
                "kind": "behavior",
                "name": "guard",
                "source": "tests/fixtures/mixed",
                "path": "tests/fixtures/mixed/behaviors/guard/BEHAVIOR.md",
                "description": "Blocks writes to generated files."
            }
        ])
    );
    let (code, stdout, stderr) = at_repo_root(&["list", MIXED, "--kind", "widget"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("error: unknown kind `widget`\n\nhint: kinds are agent, skill, command, rule, behavior, runbook, mcp; "),
        "{stderr}"
    );
}

#[test]
fn an_aiwg_framework_folder_loads_every_artifact() {
    let (code, stdout, stderr) = at_repo_root(&["validate", FRAMEWORK]);
    assert_eq!(
        stdout,
        "\
tests/fixtures/aiwg-framework/skills/project-status/SKILL.md:1: warning: no `description` in the frontmatter; the first paragraph is used
  hint: add `description:` to the frontmatter: what it does and when to use it
"
    );
    assert_eq!(
        stderr,
        "validated 1 source, 8 artifacts: 0 errors, 1 warning\n"
    );
    assert_eq!(code, 0);

    let (code, stdout, _) = at_repo_root(&["list", FRAMEWORK, "--json"]);
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["kind"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "agent:architect",
            "agent:test-writer",
            "skill:doc-check",
            "skill:project-status",
            "command:flow-gate-check",
            "command:handoff",
            "rule:no-attribution",
            "rule:token-security",
        ]
    );
    assert_eq!(
        rows[3]["description"],
        "Reports where the project stands: the current phase, open risks and the next gate."
    );
}

#[test]
fn default_source_is_dot_aiwg() {
    let t = Test::new();
    t.write(
        ".aiwg/agents/helper.md",
        "---\ndescription: Helps\n---\nHelp.\n",
    )
    .write(".aiwg/rules/bad.md", "---\nalways: maybe\n---\nBody\n")
    .write(".git/HEAD", "ref: refs/heads/main\n")
    .write("src/lib.rs", "");
    let out = t
        .aiwg(&["validate"])
        .current_dir(t.root().join("src"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "../.aiwg/rules/bad.md:2: error: `always` must be `true` or `false`\n"
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "validated 1 source, 2 artifacts: 1 error, 0 warnings\n"
    );
    assert_eq!(out.status.code(), Some(2));

    let out = t.aiwg(&["list"]).output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "KIND   NAME    SOURCE  DESCRIPTION\nagent  helper  .aiwg   Helps\nrule   bad     .aiwg\n"
    );
}

#[test]
fn sources_come_from_aiwg_toml_and_clash_across_sources() {
    let t = Test::new();
    t.write("aiwg.toml", "sources = [\"mine\", \"team@vendor/team\"]\n")
        .write(
            "mine/agents/helper.md",
            "---\ndescription: Mine\n---\nMine.\n",
        )
        .write(
            "vendor/team/agents/Helper.md",
            "---\ndescription: Theirs\n---\nTheirs.\n",
        )
        .write(
            "vendor/team/commands/go.md",
            "---\ndescription: Go\n---\nGo.\n",
        );
    let out = t.aiwg(&["validate"]).output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "vendor/team/agents/Helper.md:1: error: duplicate agent name `helper`: `mine/agents/helper.md` and `vendor/team/agents/Helper.md`\n  hint: rename one of them, or drop one of the sources\n"
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "validated 2 sources, 2 artifacts: 1 error, 0 warnings\n"
    );
    let out = t.aiwg(&["list", "--json"]).output().unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let sources: Vec<&str> = rows.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["mine", "team"]);
}

#[test]
fn missing_sources_are_errors_with_a_hint() {
    let t = Test::new();
    let out = t.aiwg(&["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: no sources: `aiwg.toml` names none and `.aiwg` does not exist\n\nhint: give a folder"),
        "{stderr}"
    );
    let out = t.aiwg(&["list", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: source `nowhere` is neither a folder nor a bundled framework\n"),
        "{stderr}"
    );
    t.write("empty/docs/x.md", "# not a source\n");
    let out = t.aiwg(&["validate", "empty"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("empty: warning: no artifacts found\n  hint: a source holds"),);
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_source_is_refused() {
    let t = Test::new();
    t.write(
        "outside/secret.md",
        "---\ndescription: secret\n---\nSecret.\n",
    )
    .write("src/agents/ok.md", "---\ndescription: ok\n---\nOk.\n");
    std::os::unix::fs::symlink(
        t.root().join("outside/secret.md"),
        t.root().join("src/agents/leak.md"),
    )
    .unwrap();
    let out = t.aiwg(&["list", "src", "--json"]).output().unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "ok");
    let out = t.aiwg(&["validate", "src"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("src/agents/leak.md: error: symlink points outside the source (to `"),
        "{stdout}"
    );
}
