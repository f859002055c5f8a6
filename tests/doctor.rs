//! `aiwg doctor` end to end: a healthy repository is all `ok`; each problem is one line with
//! a hint, and an error makes it exit 1. It writes nothing.

use crate::hook::{committed, git};
use crate::support::Test;

#[test]
fn a_healthy_repository_is_all_ok() {
    let t = committed();
    assert_eq!(t.run(&["hook", "install"]).0, 0);
    let before = git(&t, &["status", "--porcelain", "--ignored"]);
    insta::assert_snapshot!(t.snap(&["doctor"]), @"
    exit 0
    --- stdout
    ok      config     `aiwg.toml`: 1 source, 1 platform
    ok      lock       1 managed part recorded
    ok      sources    1 artifact valid
    ok      trust      nothing here needs consent (no hook of its own, no user scope, no source outside)
    ok      folders    1 platform folder writable
    ok      managed    1 file as aiwg wrote them
    ok      hook       installed in `.git/hooks/pre-commit`; aiwg is reachable
    ok      line ends  git does not convert line endings here
    ok      history    `.aiwg/history/` is ignored by git (or not there yet)
    --- stderr
    0 errors, 0 warnings
    ");
    assert_eq!(
        git(&t, &["status", "--porcelain", "--ignored"]),
        before,
        "doctor wrote a file"
    );
}

#[test]
fn each_problem_is_one_line_with_a_hint_and_an_error_exits_1() {
    let t = committed();
    std::fs::write(t.root().join(".claude/agents/reviewer.md"), "edited\n").unwrap();
    git(&t, &["config", "core.autocrlf", "true"]);
    t.write(".aiwg/rules/empty.md", "---\ndescription: x\n---\n");
    insta::assert_snapshot!(t.snap(&["doctor"]), @"
    exit 1
    --- stdout
    ok      config     `aiwg.toml`: 1 source, 1 platform
    ok      lock       1 managed part recorded
    error   sources    1 error, 0 warnings in 2 artifacts
                       hint: `aiwg validate` lists them
    warning hook       no pre-commit hook (`.git/hooks/pre-commit`)
                       hint: `aiwg hook install` stops commits whose platform copies drift
    warning line ends  `core.autocrlf = true` checks managed files out with CRLF: they will read as edited
                       hint: add `* text=auto eol=lf` (or a line per platform folder) to `.gitattributes`
    ok      history    `.aiwg/history/` is ignored by git (or not there yet)
    --- stderr
    1 error, 2 warnings
    ");
    std::fs::remove_file(t.root().join(".aiwg/rules/empty.md")).unwrap();
    insta::assert_snapshot!(t.snap(&["doctor"]), @"
    exit 1
    --- stdout
    ok      config     `aiwg.toml`: 1 source, 1 platform
    ok      lock       1 managed part recorded
    ok      sources    1 artifact valid
    ok      trust      nothing here needs consent (no hook of its own, no user scope, no source outside)
    ok      folders    1 platform folder writable
    error   managed    1 file edited by hand or in the way: `.claude/agents/reviewer.md`
                       hint: `aiwg diff` shows each edit; move it into the source, or `aiwg apply --force` (a backup is kept)
    warning hook       no pre-commit hook (`.git/hooks/pre-commit`)
                       hint: `aiwg hook install` stops commits whose platform copies drift
    warning line ends  `core.autocrlf = true` checks managed files out with CRLF: they will read as edited
                       hint: add `* text=auto eol=lf` (or a line per platform folder) to `.gitattributes`
    ok      history    `.aiwg/history/` is ignored by git (or not there yet)
    --- stderr
    1 error, 2 warnings
    ");
}

#[test]
fn a_hook_that_cannot_find_aiwg_is_an_error() {
    let t = committed();
    t.write(
        ".git/hooks/pre-commit",
        "#!/bin/sh\n# aiwg:begin pre-commit\naiwg_bin=$(command -v aiwg 2>/dev/null) || aiwg_bin='/nowhere/aiwg'\n# aiwg:end pre-commit\n",
    );
    // No `aiwg` on PATH either (a developer may have one installed).
    let path = std::env::var("PATH").unwrap_or_default();
    let without: Vec<&str> = path
        .split(':')
        .filter(|d| !std::path::Path::new(d).join("aiwg").exists())
        .collect();
    let out = t
        .aiwg(&["doctor"])
        .env("PATH", without.join(":"))
        .output()
        .unwrap();
    let (code, out) = (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error   hook"), "{out}");
    assert!(out.contains("cannot find aiwg"), "{out}");
}

#[test]
fn no_config_is_an_error_with_the_way_in() {
    let t = Test::new();
    insta::assert_snapshot!(t.snap(&["doctor"]), @"
    exit 1
    --- stdout
    error   config  no `aiwg.toml` here
                    hint: `aiwg use sdlc` (or `aiwg use .aiwg`) creates it
    --- stderr
    1 error, 0 warnings
    ");
}

/// The trust line: a hook of the project's own that the user has not allowed is a warning
/// naming it; once `aiwg trust` allowed it, ok. doctor never asks and records nothing.
#[test]
fn a_hook_waiting_for_consent_is_a_warning_and_an_allowed_one_ok() {
    let t = committed();
    t.write(
        ".aiwg/behaviors/fmt/BEHAVIOR.md",
        "---\nname: fmt\ndescription: Formats\nevent: PreToolUse\nmatcher: Write\ncommand: scripts/fmt.sh\n---\nFormats.\n",
    )
    .write(".aiwg/behaviors/fmt/scripts/fmt.sh", "#!/bin/sh\nexit 0\n");
    let (_, out, err) = t.run(&["doctor"]);
    let line = |out: &str| {
        out.lines()
            .find(|l| l.contains(" trust "))
            .map(str::to_string)
    };
    let trust = line(&out).unwrap_or_else(|| panic!("no trust line: {out}{err}"));
    assert!(
        trust.starts_with("warning trust      needs your consent: ")
            && trust.contains("hook `fmt`"),
        "{out}"
    );
    assert!(out.contains("hint: `aiwg trust` shows"), "{out}");
    let (_, again, _) = t.run(&["doctor"]);
    assert_eq!(line(&again), Some(trust), "doctor recorded consent");
    assert_eq!(t.run(&["trust"]).0, 0);
    let (_, out, _) = t.run(&["doctor"]);
    assert_eq!(
        line(&out).as_deref(),
        Some("ok      trust      1 item allowed"),
        "{out}"
    );
}

/// doctor is read-only and never asks, so what waits for consent is not read either: a
/// source outside the project is a warning line, not loaded (its broken file is not seen),
/// and `scope = "user"` stops the checks with an error; `--trust` for one run reads both.
#[test]
fn what_waits_for_consent_is_named_and_not_read() {
    let t = committed();
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\", \"../outside\"]\nplatforms = [\"claude-code\"]\n",
    );
    let outside = t.root().parent().unwrap().join("outside/agents");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("bad.md"),
        "---\ndescription: *alias\n---\nB.\n",
    )
    .unwrap();
    let (_, out, err) = t.run(&["doctor"]);
    assert!(
        out.contains(
            "warning sources    not read: aiwg.toml:1: source `../outside` is outside the project"
        ),
        "{out}{err}"
    );
    assert!(
        !out.contains("error   sources"),
        "doctor read the outside source: {out}"
    );
    let (code, out, _) = t.run(&["doctor", "--trust"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error   sources    1 error"), "{out}");

    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\nscope = \"user\"\n",
    );
    let (code, out, err) = t.run(&["doctor"]);
    assert_eq!(code, 1, "{out}{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error   trust ")
            && first.ends_with("not checked further: aiwg.toml:3: `scope = \"user\"` deploys into your home folder, where every project's platforms read it"),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| !l.starts_with(' ')).count(),
        1,
        "{out}"
    );
    assert!(!t.home().join(".claude").exists());
}
