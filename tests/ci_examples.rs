//! The repository's `.pre-commit-hooks.yaml`, through the pre-commit framework itself, the
//! GitHub Actions example, by running its steps in a temp repository, and `aiwg.schema.json`,
//! through Taplo (the TOML checker behind editors' TOML support).

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::hook::{committed, git, git_in};
use crate::support::{repo_root, Test};

fn yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// `PATH` with the folder of the `aiwg` under test first.
fn path_with_aiwg() -> String {
    let bin = assert_cmd::cargo::cargo_bin("aiwg");
    let dir = bin.parent().unwrap().to_string_lossy().into_owned();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// The executable `name` on `PATH`, if installed. `.ci/run` installs it; a developer without
/// it is told the test did not run (and CI, where `CI` is set, fails instead).
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var("PATH").ok()?.split(':').find_map(|d| {
        let p = Path::new(d).join(name);
        p.is_file().then_some(p)
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed (`.ci/run` installs it)"
        );
        eprintln!("note: {name} is not installed: the test that needs it did not run");
    }
    found
}

fn pre_commit() -> Option<PathBuf> {
    tool("pre-commit")
}

/// Taplo checks a config against `aiwg.schema.json` as aiwg reads it: a full one passes, and
/// each mistake aiwg refuses (an unknown key, platform or scope, a wrong type) is an error.
#[test]
fn taplo_checks_aiwg_toml_against_the_schema_as_aiwg_does() {
    let Some(taplo) = tool("taplo") else { return };
    let t = Test::new();
    t.write(".aiwg/agents/a.md", "---\ndescription: d\n---\nA.\n");
    let schema = repo_root().join("aiwg.schema.json");
    let header = format!("#:schema {}\n", schema.display());
    let good = "sources = [\"sdlc\", \"mine@.aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n\
                exclude = [\"agent:legacy-*\"]\n[history]\nkeep = 3\n[models.codex]\nopus = \"o\"\n\
                [platform.codex]\nexclude = [\"rule:*\"]\n";
    let bad = [
        ("platfroms = [\"codex\"]\n", "'platfroms' was unexpected"),
        ("platforms = [\"codx\"]\n", "\"codx\" is not one of"),
        ("scope = \"home\"\n", "\"home\" is not valid"),
        (
            "[history]\nkeep = \"ten\"\n",
            "\"ten\" is not of type \"integer\"",
        ),
        ("[models.codx]\nopus = \"o\"\n", "\"codx\" is not one of"),
    ];
    let check = |text: &str| {
        t.write("aiwg.toml", &format!("{header}{text}"));
        let out = Command::new(&taplo)
            .args(["check", "aiwg.toml"])
            .current_dir(t.root())
            .env("HOME", t.home())
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), text)
    };
    let (code, err) = check(good);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, aiwg_err) = t.run(&["plan"]);
    assert_eq!(code, 0, "aiwg reads the full config too: {aiwg_err}");
    for (text, expected) in bad {
        let (code, err) = check(text);
        assert_eq!(code, Some(1), "{text}: {err}");
        assert!(err.contains(expected), "{text}: {err}");
        let (code, _, aiwg_err) = t.run(&["plan"]);
        assert_eq!(
            code, 2,
            "aiwg takes what the schema refuses: {text}{aiwg_err}"
        );
    }
}

/// Taplo checks `aiwg.local.toml` against `aiwg.local.schema.json`: what the overlay takes
/// passes, a key only the team's file has (`scope`) is an error, as aiwg makes it.
#[test]
fn taplo_checks_aiwg_local_toml_against_its_schema() {
    let Some(taplo) = tool("taplo") else { return };
    let t = Test::new();
    let schema = repo_root().join("aiwg.local.schema.json");
    let header = format!("#:schema {}\n", schema.display());
    let check = |text: &str| {
        t.write("aiwg.local.toml", &format!("{header}{text}"));
        let out = Command::new(&taplo)
            .args(["check", "aiwg.local.toml"])
            .current_dir(t.root())
            .env("HOME", t.home())
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let good = "sources = [\"mine@../mine\"]\nplatforms = [\"codex\"]\nexclude = [\"agent:x\"]\n\
                [platform.codex]\nexclude = [\"rule:*\"]\n";
    let (code, err) = check(good);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = check("scope = \"user\"\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("'scope' was unexpected"), "{err}");
    let (code, err) = check("platforms = [\"codx\"]\n");
    assert_eq!(code, Some(1), "{err}");
}

#[test]
fn the_hooks_file_declares_aiwg_check_on_the_staged_index() {
    let hooks = yaml(&repo_root().join(".pre-commit-hooks.yaml"));
    let check = &hooks[0];
    assert_eq!(check["id"].as_str(), Some("aiwg-check"));
    assert_eq!(check["entry"].as_str(), Some("aiwg check --staged"));
    assert_eq!(check["language"].as_str(), Some("system"));
    assert_eq!(check["pass_filenames"].as_bool(), Some(false));
    assert_eq!(check["always_run"].as_bool(), Some(true));
}

#[test]
fn pre_commit_framework_blocks_a_drift_and_passes_a_clean_commit() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let t = committed();
    // The hooks repository: this repository's `.pre-commit-hooks.yaml`, committed.
    let hooks_repo = t.home().join("aiwg-hooks");
    std::fs::create_dir_all(&hooks_repo).unwrap();
    std::fs::copy(
        repo_root().join(".pre-commit-hooks.yaml"),
        hooks_repo.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &["commit", "-qm", "hooks"],
    ] {
        assert!(git_in(&t, &hooks_repo, args).status.success());
    }
    let rev = String::from_utf8(git_in(&t, &hooks_repo, &["rev-parse", "HEAD"]).stdout).unwrap();
    t.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks: [{{ id: aiwg-check }}]\n",
            hooks_repo.display(),
            rev.trim()
        ),
    );
    git(&t, &["add", ".pre-commit-config.yaml"]);
    let run = |args: &[&str]| {
        Command::new(&pre_commit)
            .args(args)
            .current_dir(t.root())
            .env("HOME", t.home())
            .env("PRE_COMMIT_HOME", t.home().join("pre-commit-cache"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PATH", path_with_aiwg())
            .output()
            .unwrap()
    };
    let installed = run(&["install"]);
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let commit = || {
        Command::new("git")
            .args(["commit", "-qm", "change"])
            .current_dir(t.root())
            .env("HOME", t.home())
            .env("PRE_COMMIT_HOME", t.home().join("pre-commit-cache"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("PATH", path_with_aiwg())
            .output()
            .unwrap()
    };
    // A clean commit (the config itself) passes through the hook.
    let out = commit();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A source change staged without its platform copy is stopped.
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nReview twice.\n",
    );
    git(&t, &["add", ".aiwg"]);
    let out = commit();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "a drifted commit passed: {shown}");
    assert!(
        shown.contains("aiwg check") && shown.contains("outdated"),
        "{shown}"
    );
    // Applied and staged: it passes.
    assert_eq!(t.run(&["apply"]).0, 0);
    git(&t, &["add", "-A"]);
    let out = commit();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `run:` steps of the example workflow's job, by name.
fn workflow_steps() -> Vec<(String, String, Option<String>)> {
    let workflow = yaml(&repo_root().join("examples/github-actions/aiwg-check.yml"));
    let steps = workflow["jobs"]["check"]["steps"].as_vec().unwrap().clone();
    steps
        .iter()
        .filter_map(|s| {
            let run = s["run"].as_str()?;
            Some((
                s["name"].as_str().unwrap_or("").to_string(),
                run.to_string(),
                s["if"].as_str().map(str::to_string),
            ))
        })
        .collect()
}

/// Runs the workflow's steps after the install as the runner would (in order, `bash -e`;
/// `if: failure()` steps only after a failure); returns whether the job passed and what it
/// printed.
fn run_workflow(t: &Test) -> (bool, String) {
    let mut failed = false;
    let mut shown = String::new();
    for (name, run, condition) in workflow_steps() {
        if name == "Install aiwg" {
            continue; // needs the network; the binary under test is on PATH instead
        }
        if condition.as_deref() == Some("failure()") && !failed {
            continue;
        }
        let out = Command::new("bash")
            .args(["-e", "-c", &run])
            .current_dir(t.root())
            .env("HOME", t.home())
            .env("AIWG_HOME", t.home())
            .env("NO_COLOR", "1")
            .env("PATH", path_with_aiwg())
            .output()
            .unwrap();
        shown.push_str(&String::from_utf8_lossy(&out.stdout));
        shown.push_str(&String::from_utf8_lossy(&out.stderr));
        failed |= !out.status.success();
    }
    (!failed, shown)
}

#[test]
fn github_actions_example_fails_on_drift_and_passes_when_clean() {
    let names: Vec<String> = workflow_steps().into_iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            "Install aiwg",
            "Check the platform copies",
            "Show the drift"
        ]
    );
    let t = committed();
    let (passed, shown) = run_workflow(&t);
    assert!(passed, "{shown}");
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nReview twice.\n",
    );
    let (passed, shown) = run_workflow(&t);
    assert!(!passed, "{shown}");
    assert!(
        shown.contains("outdated\t.claude/agents/reviewer.md"),
        "{shown}"
    );
    assert!(
        shown.contains("+Review twice."),
        "the diff step did not run: {shown}"
    );
}
