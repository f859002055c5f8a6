//! Keeping platforms in sync without surprises: `--platforms` filters and never deletes what
//! it was not given, `remove --platform`, `-C` to a missing folder, a run without `aiwg.toml`,
//! and `aiwg.toml` edited only after a successful deploy.

use crate::support::Test;

/// A git project with one agent and one rule, deployed to Claude Code, Codex and Cursor.
fn project() -> Test {
    let t = Test::new();
    std::fs::create_dir_all(t.root().join(".git")).unwrap();
    t.write("aiwg.toml", CONFIG)
        .write(".aiwg/agents/reviewer.md", REVIEWER)
        .write(".aiwg/agents/planner.md", PLANNER)
        .write(
            ".aiwg/rules/testing.md",
            "---\ndescription: Tests\n---\nAlways add a test.\n",
        );
    t
}

const CONFIG: &str =
    "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\", \"cursor\"]\n";
const REVIEWER: &str = "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n";
const PLANNER: &str = "---\nname: planner\ndescription: Plans work\n---\nPlan first.\n";

fn applied() -> Test {
    let t = project();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    t
}

#[test]
fn platforms_filters_a_run_and_never_deletes_the_other_platforms_files() {
    let t = applied();
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    let plan = t.run(&["plan", "--platforms", "codex", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&plan.1).unwrap();
    assert_eq!(doc["summary"]["deleted"], 0, "{}", plan.1);
    let paths: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [".codex/agents/reviewer.toml"]);

    let (code, _, err) = t.run(&["apply", "--platforms", "codex"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.read(".codex/agents/reviewer.toml").contains("twice"));
    // The others are untouched (outdated, not gone), and a full check says so.
    assert!(t.read(".claude/agents/reviewer.md").contains("carefully"));
    assert!(t.exists(".cursor/agents/reviewer.md") && t.exists(".claude/rules/testing.md"));
    assert_eq!(t.run(&["check", "--platforms", "codex"]).0, 0);
    insta::assert_snapshot!(t.snap(&["check"]), @"
    exit 1
    --- stdout
    outdated	.claude/agents/reviewer.md
    outdated	.cursor/agents/reviewer.md
    --- stderr

    hint: `aiwg diff` shows the changes; `aiwg apply` makes them
    ");
}

#[test]
fn a_filtered_apply_deletes_only_the_stale_files_of_its_platforms() {
    let t = applied();
    std::fs::remove_file(t.root().join(".aiwg/agents/planner.md")).unwrap();
    let (code, _, err) = t.run(&["apply", "--platforms", "claude"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists(".claude/agents/planner.md"));
    assert!(t.exists(".cursor/agents/planner.md") && t.exists(".codex/agents/planner.toml"));
    insta::assert_snapshot!(t.snap(&["check"]), @"
    exit 1
    --- stdout
    stale	.codex/agents/planner.toml
    stale	.cursor/agents/planner.md
    --- stderr

    hint: `aiwg diff` shows the changes; `aiwg apply` makes them
    ");
}

#[test]
fn a_platform_outside_the_config_is_an_error_not_a_new_set() {
    let t = applied();
    insta::assert_snapshot!(t.snap(&["apply", "--platforms", "copilot"]), @"
    exit 2
    --- stdout
    --- stderr
    error: `copilot` is not one of this project's platforms (claude-code, codex, cursor)

    hint: `--platforms` only narrows a run; to add `copilot`, put it in `platforms` of `aiwg.toml` (or `aiwg use <source> --platforms copilot`)
    ");
    assert!(!t.exists(".github"));
    // The list of known platforms grows with `platforms/`: the snapshot shows it as `[IDS]`.
    let snap = t.snap(&["check", "--platforms", "cursr"]);
    let mut ids: Vec<String> = aiwg_platforms::Registry::builtin()
        .all()
        .iter()
        .map(|p| p.id.clone())
        .collect();
    ids.sort();
    insta::assert_snapshot!(snap.replace(&ids.join(", "), "[IDS]"), @"
    exit 2
    --- stdout
    --- stderr
    error: unknown platform `cursr` (did you mean `cursor`?)

    hint: known platforms: [IDS] (`aiwg platforms` shows what each one takes)
    ");
}

#[test]
fn remove_platform_edits_the_config_and_deletes_only_what_that_platform_read() {
    let t = applied();
    let before = t.read("aiwg.toml");
    let (code, _, err) = t.run(&["remove", "--platform", "cursor", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read("aiwg.toml"), before, "a dry run edited the config");
    assert!(t.exists(".cursor/agents/reviewer.md"));

    insta::assert_snapshot!(t.snap(&["remove", "--platform", "cursor"]), @"
    exit 0
    --- stdout
    --- stderr
    0 created, 0 updated, 2 deleted, 0 unchanged
    hint: `aiwg rollback` puts the files back
    removed `cursor` from `platforms` in `aiwg.toml`
    ");
    assert!(!t.exists(".cursor"));
    assert!(t.exists(".claude/agents/reviewer.md") && t.exists(".codex/agents/reviewer.toml"));
    assert_eq!(
        t.read("aiwg.toml"),
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n"
    );
    assert_eq!(t.run(&["check"]).0, 0);
    let (code, _, err) = t.run(&["remove", "--platform", "cursor"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not one of this project's platforms"), "{err}");
}

#[test]
fn directory_that_does_not_exist_is_an_error() {
    let t = applied();
    insta::assert_snapshot!(t.snap(&["-C", "nosuch", "check"]), @"
    exit 2
    --- stdout
    --- stderr
    error: cannot run in `nosuch`: no such folder

    hint: `-C` takes a folder that exists
    ");
    insta::assert_snapshot!(t.snap(&["-C", "nonex", "use", "sdlc", "--platforms", "claude"]), @"
    exit 2
    --- stdout
    --- stderr
    error: cannot run in `nonex`: no such folder

    hint: `-C` takes a folder that exists
    ");
    assert!(!t.exists("nonex"));
}

#[test]
fn no_config_and_no_sources_says_so() {
    let t = Test::new();
    for command in ["status", "apply", "check", "diff", "plan"] {
        let (code, _, err) = t.run(&[command]);
        assert_eq!(code, 2, "{command}: {err}");
        assert!(err.contains("no `aiwg.toml`"), "{command}: {err}");
        assert!(!err.contains("neither a folder"), "{command}: {err}");
    }
    insta::assert_snapshot!(t.snap(&["apply"]), @"
    exit 2
    --- stdout
    --- stderr
    error: no `aiwg.toml` here or above, and no `.aiwg` folder

    hint: `aiwg use sdlc` deploys the bundled SDLC framework (and creates `aiwg.toml`); `aiwg new agent my-agent` starts your own in `.aiwg/`
    ");
}

#[test]
fn apply_without_config_never_picks_platforms_itself() {
    let t = Test::new();
    t.write(".aiwg/agents/reviewer.md", REVIEWER);
    insta::assert_snapshot!(t.snap(&["apply"]), @"
    exit 2
    --- stdout
    --- stderr
    error: no `aiwg.toml` and no platform files (`.claude/`, `.cursor/`, `AGENTS.md` ...) here

    hint: `aiwg use .aiwg --platforms claude-code,codex` (or `aiwg use sdlc`) creates `aiwg.toml` naming the platforms
    ");
    std::fs::create_dir_all(t.root().join(".claude")).unwrap();
    insta::assert_snapshot!(t.snap(&["apply"]), @"
    exit 2
    --- stdout
    --- stderr
    error: no `aiwg.toml`: which platforms to deploy to is not recorded

    hint: `aiwg use .aiwg` creates `aiwg.toml` with the platforms found here (claude-code); or give `--platforms`
    ");
    assert!(!t.exists(".claude/agents") && !t.exists("AGENTS.md"));
    // Named on the command line, they are asked for.
    let (code, _, err) = t.run(&["apply", "--platforms", "claude"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists(".claude/agents/reviewer.md"));
    let mut top: Vec<String> = std::fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    // (`.gitignore` keeps `.aiwg/history/` out of git: the folder is no git repository.)
    assert_eq!(
        top,
        [".aiwg", ".claude", ".gitignore", "aiwg.lock"],
        "only Claude Code was deployed"
    );
}

#[test]
fn a_failed_use_leaves_the_config_as_it_was() {
    let t = applied();
    let before = t.read("aiwg.toml");
    t.write(
        "broken/agents/bad.md",
        "---\ndescription: *alias\n---\nBody.\n",
    );
    let (code, _, err) = t.run(&["use", "broken", "--platforms", "copilot"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(t.read("aiwg.toml"), before);
    assert!(!t.exists(".github"));
    // A first `use` that fails writes no config at all.
    let fresh = Test::new();
    fresh.write(
        "broken/agents/bad.md",
        "---\ndescription: *alias\n---\nBody.\n",
    );
    let (code, _, err) = fresh.run(&["use", "broken", "--platforms", "claude"]);
    assert_eq!(code, 2, "{err}");
    assert!(!fresh.exists("aiwg.toml"), "{err}");
}

/// Every file under `dir` with its bytes, `.git/` left out except `info/exclude` and hooks.
fn tree(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let in_git = rel.starts_with(".git/") || rel == ".git";
            if path.is_dir() {
                stack.push(path);
            } else if !in_git
                || rel == ".git/info/exclude"
                || rel.starts_with(".git/hooks/pre-commit")
            {
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn uninstall_leaves_nothing_of_aiwg_behind() {
    let t = Test::new();
    crate::hook::git(&t, &["init", "-q"]);
    t.write(".aiwg/agents/reviewer.md", REVIEWER)
        .write("CLAUDE.md", "# Mine\n\nBy hand.\n");
    let before = tree(&t.root());
    for args in [
        &["use", ".aiwg", "--platforms", "claude,codex"][..],
        &["hook", "install"],
        &["check"],
    ] {
        let (code, _, err) = t.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    assert!(t.exists(".aiwg/history") && t.exists(".aiwg/check-cache"));
    let dry = t.snap(&["uninstall", "--dry-run"]);
    assert!(dry.contains("would remove `.aiwg/history/`"), "{dry}");
    assert!(t.exists("aiwg.toml"));
    insta::assert_snapshot!(t.snap(&["uninstall"]), @"
    exit 0
    --- stdout
    --- stderr
    0 created, 0 updated, 2 deleted, 0 unchanged
    removed `.aiwg/history/`, `.aiwg/check-cache`, aiwg's lines in `.git/info/exclude`, aiwg's block in `.git/hooks/pre-commit`, `aiwg.toml`
    ");
    // The user's own sources and text are all that is left, byte for byte.
    assert_eq!(tree(&t.root()), before);
}

#[test]
fn uninstall_keep_config_keeps_only_the_config() {
    let t = applied();
    let (code, _, err) = t.run(&["uninstall", "--keep-config"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read("aiwg.toml"), CONFIG);
    assert!(!t.exists("aiwg.lock") && !t.exists(".aiwg/history") && !t.exists(".claude"));
    assert_eq!(t.run(&["apply"]).0, 0, "the kept config deploys again");
}

#[test]
fn read_only_commands_write_no_tracked_file() {
    let t = crate::hook::committed();
    for args in [
        &["check"][..],
        &["status"],
        &["diff"],
        &["plan"],
        &["doctor"],
        &["list"],
        &["validate"],
        &["check", "--staged"],
        &["apply", "--dry-run"],
        &["rollback", "--list"],
    ] {
        let (code, _, err) = t.run(args);
        assert!(code < 2, "{args:?}: {err}");
        assert_eq!(
            crate::hook::git(&t, &["status", "--porcelain"]),
            "",
            "{args:?} changed a tracked file"
        );
    }
}

/// The dry runs of `remove` and `uninstall` can say what would go as `--stat` or
/// `--name-only` instead of a diff of every deleted line; both flags need `--dry-run`.
#[test]
fn remove_and_uninstall_dry_runs_take_stat_and_name_only() {
    let t = applied();
    let before = tree(t.root().as_path());
    let (code, names, err) = t.run(&["uninstall", "--dry-run", "--name-only"]);
    assert_eq!(code, 0, "{err}");
    let names: Vec<&str> = names.lines().collect();
    assert!(names.contains(&".claude/agents/reviewer.md"), "{names:?}");
    assert!(names.iter().all(|p| t.exists(p)), "{names:?}");
    let (code, stat, err) = t.run(&["uninstall", "--dry-run", "--stat"]);
    assert_eq!(code, 0, "{err}");
    let total = stat.lines().last().unwrap();
    assert!(
        total.starts_with(&format!("{} paths changed, 0 lines added, ", names.len())),
        "{stat}"
    );
    assert!(
        stat.lines()
            .any(|l| l.starts_with(".claude/agents/reviewer.md ") && l.contains("| +0 -")),
        "{stat}"
    );
    let (code, stat, err) = t.run(&["remove", ".aiwg", "--dry-run", "--stat"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stat.lines().last().unwrap().contains(" paths changed, "),
        "{stat}"
    );
    assert_eq!(tree(t.root().as_path()), before, "a dry run wrote");
    let (code, _, err) = t.run(&["uninstall", "--stat"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--dry-run"), "{err}");
    assert!(t.exists("aiwg.lock"));
}

#[test]
fn directory_that_is_a_file_is_an_error_saying_so() {
    let t = applied();
    t.write("notes.txt", "x\n");
    let (code, _, err) = t.run(&["-C", "notes.txt", "status"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("error: cannot run in `notes.txt`: not a folder"),
        "{err}"
    );
}

#[test]
fn the_apply_summary_names_top_folders_also_with_c_elsewhere() {
    let t = Test::new();
    std::fs::create_dir_all(t.root().join("app")).unwrap();
    let (code, _, err) = t.run(&["-C", "app", "use", "sdlc", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    let line = err
        .lines()
        .find(|l| l.trim_start().starts_with("claude-code"))
        .unwrap_or_else(|| panic!("no summary line for claude-code: {err}"));
    assert!(line.contains(".claude/"), "{line}");
    assert!(
        !line.contains(" /"),
        "a place shown as the root folder: {line}"
    );
}
