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
fn use_with_scope_user_writes_its_own_config_found_from_any_folder() {
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
    // User scope has its own config in `AIWG_HOME`; the project's folder gets none.
    let config = std::fs::read_to_string(t.home().join("aiwg.toml")).unwrap();
    assert!(config.contains("scope = \"user\""), "{config}");
    assert!(!t.exists("aiwg.toml"));
    // It is found from any folder, and the source path means the same folder from there.
    let elsewhere = t.home().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = t
        .aiwg(&["check", "--scope", "user"])
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        (out.status.code(), out.stdout.len()),
        (Some(0), 0),
        "{stderr}"
    );
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
fn an_apply_that_changes_nothing_says_so_in_one_line_not_one_per_notice() {
    let t = Test::new();
    let (code, _, first) = t.run(&["use", "sdlc", "-v"]);
    assert_eq!(code, 0, "{first}");
    // With `-v` the first deploy explains every fallback and skip, in one line per platform.
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
        again.starts_with("nothing to change: ") && again.lines().count() == 1,
        "{again}"
    );
    // `aiwg status` counts them and `aiwg status --notes` lists them.
    let (_, _, status) = t.run(&["status"]);
    assert!(
        status.contains("(`aiwg status --notes` lists them)"),
        "{status}"
    );
    let (_, _, status) = t.run(&["status", "--notes"]);
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
    t.user_config(&["claude-code", "warp"]);
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

#[test]
fn a_mistyped_name_gets_the_nearest_one_and_a_stranger_gets_the_list() {
    let t = project();
    let cases: [(&[&str], &str); 4] = [
        (
            &["use", "sdcl"],
            "`sdcl` is neither a bundled framework nor a folder (did you mean `sdlc`?)",
        ),
        (
            &["new", "agnet", "x"],
            "unknown kind `agnet` (did you mean `agent`?)",
        ),
        (
            &["list", "--kind", "skil"],
            "unknown kind `skil` (did you mean `skill`?)",
        ),
        (&["list", "--kind", "widget"], "unknown kind `widget`\n"),
    ];
    for (args, expected) in cases {
        let (code, _, err) = t.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("error: {expected}")),
            "{args:?}: {err}"
        );
        assert!(err.contains("hint:"), "{args:?}: {err}");
    }
    let (_, _, err) = t.run(&["list", "--kind", "widget"]);
    assert!(
        err.contains("hint: kinds are agent, skill, command"),
        "{err}"
    );
    // remove knows the project's own sources.
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
    let (code, _, err) = t.run(&["remove", ".aiwgg"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: `.aiwgg` is not a source of this project (did you mean `.aiwg`?)"),
        "{err}"
    );
    assert!(!t.exists(".aiwg/agents/x.md"));
}

/// `--color always` colours the states of `status` and `check` (an edit red, ok green);
/// without it, in a pipe or with `NO_COLOR`, the same lines carry no escape codes.
#[test]
fn status_and_check_colour_their_states_when_asked() {
    let t = project();
    let (code, _, err) = t.run(&["use", ".aiwg", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(t.root().join(".claude/agents/reviewer.md"), "edited\n").unwrap();
    let (code, out, _) = t.run(&["check", "--color", "always"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("\x1b[1m\x1b[31medited\x1b[0m\t.claude/agents/reviewer.md"),
        "{out:?}"
    );
    let (_, out, _) = t.run(&["status", "--color", "always"]);
    assert!(
        out.contains("\x1b[1m\x1b[31medited\x1b[0m  .claude/agents/reviewer.md"),
        "{out:?}"
    );
    for args in [&["check"][..], &["status"]] {
        let (_, out, _) = t.run(args);
        assert!(!out.contains('\x1b'), "{args:?}: {out:?}");
    }
}

/// A platform's own folder named as a source would have every apply rewrite its own source:
/// refused before anything is written (the config too); deploying it to another platform, or
/// a source at the project root whose outputs land outside its kind folders, is fine.
#[test]
fn a_source_that_aiwg_would_write_into_is_refused() {
    let t = Test::new();
    t.write(
        ".claude/agents/a.md",
        "---\nname: a\ndescription: d\n---\nA.\n",
    );
    let (code, _, err) = t.run(&["use", "claude@.claude", "--platforms", "claude-code"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: source `.claude` is a folder aiwg writes into (`.claude/agents/a.md`, for claude-code)"),
        "{err}"
    );
    assert!(err.contains("hint: `aiwg import`"), "{err}");
    assert!(!t.exists("aiwg.toml") && !t.exists("aiwg.lock"));
    let (code, _, err) = t.run(&["use", "claude@.claude", "--platforms", "codex"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists(".codex/agents/a.toml"));

    let root = Test::new();
    root.write("agents/b.md", "---\nname: b\ndescription: d\n---\nB.\n")
        .write(
            "aiwg.toml",
            "sources = [\".\"]\nplatforms = [\"claude-code\"]\n",
        );
    let (code, _, err) = root.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(root.exists(".claude/agents/b.md"));
}
