//! Defects found by acting as a user (QA pass), each pinned by the test that first failed:
//! `use` recording what it was asked, bad names and bad files refused before anything is
//! written, messages that name paths as the user typed them.

use crate::support::Test;

/// A project with one agent in `.aiwg/`.
fn project() -> Test {
    let t = Test::new();
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n",
    );
    t
}

#[test]
fn use_with_scope_user_records_the_scope_so_later_commands_check_the_same_place() {
    let t = project();
    let (code, _, err) = t.run(&[
        "use",
        ".aiwg",
        "--scope",
        "user",
        "--platforms",
        "claude-code",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(t.home().join(".claude/agents/reviewer.md").is_file());
    assert!(
        t.read("aiwg.toml").contains("scope = \"user\""),
        "{}",
        t.read("aiwg.toml")
    );
    // Without `--scope`, check looks where `use` deployed: nothing is missing.
    let (code, out, err) = t.run(&["check"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[test]
fn use_with_an_unknown_platform_writes_no_config() {
    let t = project();
    let (code, _, err) = t.run(&["use", ".aiwg", "--platforms", "claude-code,cursr"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `cursor`"), "{err}");
    assert!(
        !t.exists("aiwg.toml"),
        "a config naming `cursr` was left behind"
    );
    assert!(!t.exists(".claude"), "{err}");

    // Nor is a typo added to an existing config.
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
    let (code, _, err) = t.run(&["use", ".aiwg", "--platforms", "codexx"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        t.read("aiwg.toml"),
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n"
    );
}

#[test]
fn new_refuses_names_windows_reserves() {
    let t = Test::new();
    for name in ["con", "nul", "lpt1", "aux"] {
        let (code, _, err) = t.run(&["new", "agent", name]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("hint:"), "{err}");
    }
    assert!(!t.exists(".aiwg"));
}

#[test]
fn a_bad_aiwg_toml_is_named_relative_to_the_current_folder() {
    let t = project();
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatfroms = [\"codex\"]\n",
    );
    std::fs::create_dir_all(t.root().join("sub/deep")).unwrap();
    let out = t
        .aiwg(&["check"])
        .current_dir(t.root().join("sub/deep"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: ../../aiwg.toml:2: unknown field `platfroms`"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn an_apply_that_changes_nothing_says_so_in_two_lines_not_one_per_notice() {
    let t = Test::new();
    let (code, _, first) = t.run(&["use", "sdlc"]);
    assert_eq!(code, 0, "{first}");
    // The first deploy explains every fallback and skip, in one line per platform.
    let notes: Vec<&str> = first.lines().filter(|l| l.starts_with("note: ")).collect();
    assert!(notes.len() >= 10, "{first}");
    for id in aiwg_platforms::Registry::builtin()
        .defaults()
        .iter()
        .map(|p| &p.id)
    {
        let lines = notes
            .iter()
            .filter(|l| l.starts_with(&format!("note: {id}: ")))
            .count();
        assert!(lines <= 1, "{id} has {lines} note lines:\n{first}");
    }
    let (code, _, again) = t.run(&["apply"]);
    assert_eq!(code, 0, "{again}");
    assert!(
        again.lines().count() <= 2,
        "a no-op apply repeats every notice:\n{again}"
    );
    assert!(again.contains("0 created, 0 updated, 0 deleted"), "{again}");
    assert!(again.contains("`aiwg status`"), "{again}");
    // `aiwg status` still lists them.
    let (_, _, status) = t.run(&["status"]);
    assert_eq!(
        status.lines().filter(|l| l.starts_with("note: ")).count(),
        notes.len()
    );
}

#[test]
fn a_corrupt_lock_is_named_path_colon_line_with_a_hint() {
    let t = project();
    t.write("aiwg.lock", "version = 1\n[[file]\n");
    let (code, _, err) = t.run(&["apply", "--platforms", "claude-code"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error: aiwg.lock:2: "), "{err}");
    assert!(err.contains("\nhint: restore it"), "{err}");
}

#[test]
fn source_errors_get_yaml_hints_and_are_listed_by_file_and_line() {
    let t = project();
    t.write(
        ".aiwg/agents/b.md",
        "---\nname: b\ndescription: B\ntools: [Read: this\n---\nBody\n",
    );
    t.write(".aiwg/agents/a.md", "---\nname: a\ndescription: x\n");
    t.write(".aiwg/rules/0.md", "---\n- not a map\n---\n");
    // A second source, listed first: its errors still come after `.aiwg/`'s.
    t.write("zz/agents/z.md", "---\nname: z\ntools: [x\n---\n");
    t.write(
        "aiwg.toml",
        "sources = [\"zz\", \".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("hint: quote a value that contains `: `"),
        "{err}"
    );
    let named: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(": error: "))
        .map(|l| l.split(": ").next().unwrap())
        .collect();
    let mut sorted = named.clone();
    sorted.sort();
    assert_eq!(named, sorted, "{err}");
    assert_eq!(named.len(), 4, "{err}");
}

#[test]
fn a_runbook_value_that_is_an_array_is_named_with_an() {
    let t = project();
    t.write(
        ".aiwg/runbooks/r.md",
        "---\nname: r\ndescription: R.\n---\n\n# R {x}\n",
    );
    t.write("values.toml", "x = [1]\n");
    let (code, _, err) = t.run(&["runbook", "render", "r", "--values", "values.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is an array, not a single value"), "{err}");
}

#[test]
fn user_scope_paths_are_shown_under_the_home_folder_as_tilde() {
    let t = project();
    let (code, _, err) = t.run(&["apply", "--scope", "user", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t.run(&["status", "--scope", "user", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("~/.claude/agents/reviewer.md"), "{out}");
    assert!(!out.contains("../"), "{out}");
}

#[test]
fn a_mistyped_models_platform_is_an_error_not_ignored() {
    let t = Test::new();
    t.write(
        ".aiwg/agents/a.md",
        "---\nname: a\ndescription: d\nmodel: opus\n---\nx\n",
    );
    t.write(
        "aiwg.toml",
        "platforms = [\"codex\"]\n[models.codx]\nopus = \"o3\"\n",
    );
    let out = t.aiwg(&["apply"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "`[models.codx]` in `aiwg.toml`: unknown platform `codx` (did you mean `codex`?)"
        ),
        "{err}"
    );
    assert!(!t.exists(".codex"));
}

#[test]
fn completions_into_a_closed_pipe_is_not_a_panic() {
    let t = Test::new();
    // A pipe whose reading end is already closed: every write fails with a broken pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("aiwg"))
        .args(["completions", "bash"])
        .env("HOME", t.home())
        .env("AIWG_HOME", t.home())
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    let (code, script, _) = t.run(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(script.contains("_aiwg()"), "{script}");
}
