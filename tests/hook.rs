//! The git pre-commit hook end to end, in real git repositories: `check` mode blocks a
//! commit whose staged sources and platform copies disagree (whatever the work tree holds)
//! and fails loudly when `aiwg` cannot be found; `apply` mode re-syncs and stages; the hook
//! goes where git runs hooks (`core.hooksPath`).

use std::path::Path;
use std::process::Output;

use crate::support::Test;

const REVIEWER: &str = "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n";

/// Runs git in `dir` with the test's fake home (so no real config is read).
pub fn git_in(t: &Test, dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", t.home())
        .env("AIWG_HOME", t.home())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("NO_COLOR", "1")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap()
}

/// Runs git in the project and asserts it succeeded.
pub fn git(t: &Test, args: &[&str]) -> String {
    let out = git_in(t, &t.root(), args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A git repository deploying one agent to Claude Code, everything committed.
pub fn committed() -> Test {
    let t = Test::new();
    git(&t, &["init", "-q"]);
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    )
    .write(".aiwg/agents/reviewer.md", REVIEWER)
    .write("README.md", "# x\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "init"]);
    t
}

fn commit(t: &Test) -> Output {
    git_in(t, &t.root(), &["commit", "-qm", "change"])
}

#[test]
fn check_mode_blocks_a_staged_drift_and_passes_a_clean_commit() {
    let t = committed();
    let (code, _, err) = t.run(&["hook", "install"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("installed `aiwg check --staged`"), "{err}");

    // A source change staged without its platform copy: blocked.
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    git(&t, &["add", ".aiwg"]);
    let out = commit(&t);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a drifted commit passed: {stderr}");
    assert!(
        stderr.contains("outdated\t.claude/agents/reviewer.md")
            || String::from_utf8_lossy(&out.stdout)
                .contains("outdated\t.claude/agents/reviewer.md"),
        "{stderr}"
    );
    assert!(stderr.contains("the commit is stopped"), "{stderr}");

    // The work tree in sync is not enough: the platform copy must be staged too.
    assert_eq!(t.run(&["apply"]).0, 0);
    assert_eq!(t.run(&["check"]).0, 0);
    assert!(
        !commit(&t).status.success(),
        "the unstaged copy let the commit pass"
    );

    // Staged together: the commit goes through.
    git(&t, &["add", "-A"]);
    let out = commit(&t);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An unrelated commit with a hand edit left unstaged in the work tree passes: what is
    // committed is in sync.
    std::fs::write(t.root().join(".claude/agents/reviewer.md"), "edited\n").unwrap();
    t.write("README.md", "# y\n");
    git(&t, &["add", "README.md"]);
    let out = commit(&t);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_mode_fails_loudly_when_aiwg_cannot_be_found() {
    let t = committed();
    // Installed from a copy of the binary that is then deleted, with no `aiwg` on PATH.
    let copy = t.home().join("bin/aiwg");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(assert_cmd::cargo::cargo_bin("aiwg"), &copy).unwrap();
    // Another test thread forking while the copy was open for writing keeps it "busy" for a
    // moment (ETXTBSY): try again briefly.
    let mut tries = 0;
    let out = loop {
        let run = std::process::Command::new(&copy)
            .args(["hook", "install"])
            .current_dir(t.root())
            .env("HOME", t.home())
            .output();
        match run {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.unwrap(),
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&copy).unwrap();
    t.write("README.md", "# changed\n");
    git(&t, &["add", "README.md"]);
    let path = std::env::var("PATH").unwrap_or_default();
    let without_aiwg: Vec<&str> = path
        .split(':')
        .filter(|d| !Path::new(d).join("aiwg").exists())
        .collect();
    let out = std::process::Command::new("git")
        .args(["commit", "-qm", "x"])
        .current_dir(t.root())
        .env("HOME", t.home())
        .env("PATH", without_aiwg.join(":"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the commit passed without aiwg: {stderr}"
    );
    assert!(stderr.contains("aiwg: cannot find aiwg"), "{stderr}");
    assert!(stderr.contains("--no-verify"), "{stderr}");
}

#[test]
fn apply_mode_resyncs_and_stages_the_platform_copies() {
    let t = committed();
    let (code, _, err) = t.run(&["hook", "install", "--mode", "apply"]);
    assert_eq!(code, 0, "{err}");
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    git(&t, &["add", ".aiwg"]);
    let out = commit(&t);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = git(&t, &["show", "HEAD:.claude/agents/reviewer.md"]);
    assert!(committed.contains("twice"), "{committed}");
    assert_eq!(git(&t, &["status", "--porcelain"]), "");
}

#[test]
fn the_hook_goes_where_git_runs_hooks() {
    let t = committed();
    // `hookspath` under another section is not git's setting (R19).
    git(&t, &["config", "alias.hookspath", "!echo nope"]);
    git(&t, &["config", "core.hooksPath", "my-hooks"]);
    let (code, _, err) = t.run(&["hook", "install"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists("my-hooks/pre-commit"), "{err}");
    assert!(!t.exists(".git/hooks/pre-commit") && !t.exists("!echo nope"));
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    git(&t, &["add", ".aiwg"]);
    assert!(
        !commit(&t).status.success(),
        "the hook in core.hooksPath did not run"
    );
    let (code, _, err) = t.run(&["hook", "uninstall"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists("my-hooks/pre-commit"));
}

#[test]
fn an_existing_shell_hook_keeps_its_lines_and_gets_the_block_first() {
    let t = committed();
    t.write(".git/hooks/pre-commit", "#!/bin/sh\necho mine\n");
    assert_eq!(t.run(&["hook", "install"]).0, 0);
    let hook = t.read(".git/hooks/pre-commit");
    assert!(
        hook.starts_with("#!/bin/sh\n# aiwg:begin pre-commit\n"),
        "{hook}"
    );
    assert!(
        hook.ends_with("# aiwg:end pre-commit\necho mine\n"),
        "{hook}"
    );
    assert_eq!(t.run(&["hook", "uninstall"]).0, 0);
    assert_eq!(t.read(".git/hooks/pre-commit"), "#!/bin/sh\necho mine\n");
}

#[test]
fn staged_check_with_nothing_of_aiwg_committed_passes() {
    let t = Test::new();
    git(&t, &["init", "-q"]);
    t.write("README.md", "x\n");
    git(&t, &["add", "README.md"]);
    insta::assert_snapshot!(t.snap(&["check", "--staged"]), @"
    exit 0
    --- stdout
    --- stderr
    ");
}
