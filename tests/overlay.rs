//! The personal overlay (issue 14): `aiwg.local.toml` merged over `aiwg.toml`, deployed by a
//! second pass with its own lock in `.aiwg/local/`, kept out of git by one block in the
//! exclude file git names. A teammate's clone and hostile committed overlays are in
//! `hostile::consent_overlay`.

use crate::hook::git;
use crate::support::Test;

const TEAM: &str = "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n";
const BEGIN: &str = "# aiwg: personal overlay (aiwg.local.toml), never committed: begin";

/// A git repository whose team deploys one agent to Claude Code, and a folder `../mine`
/// beside it holding one personal agent.
fn team() -> Test {
    let t = Test::new();
    git(&t, &["init", "-q"]);
    t.write("aiwg.toml", TEAM).write(
        ".aiwg/agents/team.md",
        "---\ndescription: The team's reviewer.\n---\nReview.\n",
    );
    let mine = t.root().join("../mine/agents");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(
        mine.join("mine.md"),
        "---\ndescription: My own helper.\n---\nHelp me.\n",
    )
    .unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    t
}

fn ok(t: &Test, args: &[&str]) -> (String, String) {
    let (code, out, err) = t.run(args);
    assert_eq!(code, 0, "aiwg {args:?}\n{out}{err}");
    (out, err)
}

/// Everything `git status` would show as untracked or changed, one path a line.
fn visible_to_git(t: &Test) -> String {
    git(t, &["status", "--porcelain", "-uall"])
}

#[test]
fn the_overlay_adds_a_platform_and_a_source_with_a_lock_of_its_own() {
    let t = team();
    let (team_lock, team_config) = (t.read("aiwg.lock"), t.read("aiwg.toml"));
    let (_, err) = ok(&t, &["use", "--local", "../mine", "--platforms", "codex"]);
    assert!(err.contains("created `aiwg.local.toml`"), "{err}");
    // The local source for the team's platform, both sources for the local platform.
    for path in [
        ".claude/agents/mine.md",
        ".codex/agents/mine.toml",
        ".codex/agents/team.toml",
    ] {
        assert!(t.exists(path), "{path} missing\n{err}");
    }
    // The team's files, lock and config are byte for byte what they were.
    assert_eq!(t.read("aiwg.lock"), team_lock);
    assert_eq!(t.read("aiwg.toml"), team_config);
    let local = t.read(".aiwg/local/aiwg.lock");
    assert!(local.contains(".claude/agents/mine.md"), "{local}");
    assert!(local.contains(".codex/agents/team.toml"), "{local}");
    assert!(!local.contains(".claude/agents/team.md"), "{local}");
    let config = t.read("aiwg.local.toml");
    assert!(
        config.contains("sources = [\"../mine\"]") && config.contains("platforms = [\"codex\"]"),
        "{config}"
    );
    // Both passes are checked and shown.
    let (out, _) = ok(&t, &["check"]);
    assert_eq!(out, "");
    let (out, _) = ok(&t, &["status"]);
    assert!(
        out.lines()
            .any(|l| l.contains(".codex/agents/mine.toml") && l.contains("aiwg.local.toml")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains(".claude/agents/team.md") && !l.contains("aiwg.local.toml")),
        "{out}"
    );
    // Drift in the overlay is drift.
    t.write(".codex/agents/mine.toml", "edited = true\n");
    let (code, out, _) = t.run(&["check"]);
    assert_eq!(
        (code, out.as_str()),
        (1, "edited\t.codex/agents/mine.toml\n")
    );
    let (code, out, _) = t.run(&["diff", "--name-only"]);
    assert_eq!((code, out.as_str()), (0, ".codex/agents/mine.toml\n"));
    // Git sees the team's files and none of the overlay's.
    let seen = visible_to_git(&t);
    for path in ["aiwg.toml", "aiwg.lock", ".claude/agents/team.md"] {
        assert!(seen.contains(path), "{path} hidden:\n{seen}");
    }
    for path in ["aiwg.local.toml", ".aiwg/local", "mine.md", ".codex/"] {
        assert!(!seen.contains(path), "{path} visible:\n{seen}");
    }
    assert!(!t.exists(".gitignore"));
    let (_, out, _) = t.run(&["doctor"]);
    assert!(
        out.contains(
            "`aiwg.local.toml`: 1 source and 1 platform on top of `aiwg.toml`, ignored by git"
        ),
        "{out}"
    );
    git(&t, &["add", "-f", "aiwg.local.toml"]);
    let (_, out, _) = t.run(&["doctor"]);
    assert!(out.contains("`aiwg.local.toml` is committed"), "{out}");
}

#[test]
fn the_exclude_file_gets_exactly_one_block_and_a_second_run_adds_nothing() {
    let t = team();
    ok(&t, &["use", "--local", "../mine", "--platforms", "codex"]);
    let exclude = t.read(".git/info/exclude");
    assert_eq!(exclude.matches(BEGIN).count(), 1, "{exclude}");
    let block: Vec<&str> = exclude
        .lines()
        .skip_while(|l| *l != BEGIN)
        .skip(1)
        .take_while(|l| l.starts_with('/'))
        .collect();
    assert_eq!(
        block,
        [
            "/aiwg.local.toml",
            "/.aiwg/local/",
            "/.claude/agents/mine.md",
            "/.codex/agents/mine.toml",
            "/.codex/agents/team.toml"
        ]
    );
    ok(&t, &["apply"]);
    ok(&t, &["use", "--local", "../mine"]);
    assert_eq!(t.read(".git/info/exclude"), exclude);
    // Dropping the platform drops its lines: the block lists what the lock holds.
    t.write("aiwg.local.toml", "sources = [\"../mine\"]\n");
    ok(&t, &["apply"]);
    let now = t.read(".git/info/exclude");
    assert_eq!(now.matches(BEGIN).count(), 1, "{now}");
    assert!(!now.contains(".codex"), "{now}");
    assert!(now.contains("/.claude/agents/mine.md"), "{now}");
    assert!(!t.exists(".gitignore"));
}

#[test]
fn in_a_worktree_the_block_goes_where_git_reads_excludes() {
    let t = team();
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "team"]);
    let wt = t.root().join("../wt");
    git(&t, &["worktree", "add", "-q", wt.to_str().unwrap()]);
    let out = t
        .aiwg(&["-C", "../wt", "use", "--local", "../mine"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(wt.join(".claude/agents/mine.md").exists(), "{err}");
    // `.git` is a file in a worktree: the block is in the exclude file git names, and no
    // `.gitignore` of the team's is written.
    assert!(!wt.join(".gitignore").exists());
    let exclude = t.read(".git/info/exclude");
    assert!(exclude.contains("/.claude/agents/mine.md"), "{exclude}");
    let status = crate::hook::git_in(&t, &wt, &["status", "--porcelain", "-uall"]);
    let seen = String::from_utf8_lossy(&status.stdout);
    assert!(
        !seen.contains("mine") && !seen.contains("aiwg.local"),
        "{seen}"
    );
}

#[test]
fn a_path_the_team_deploys_is_never_taken_over() {
    // The team deploys rules to Claude Code and Codex; Codex reads them in `AGENTS.md`.
    let t = Test::new();
    git(&t, &["init", "-q"]);
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n",
    )
    .write(
        ".aiwg/rules/kind.md",
        "---\ndescription: Be kind.\n---\nBe kind.\n",
    );
    ok(&t, &["apply"]);
    let agents = t.read("AGENTS.md");
    let rules = t.root().join("../mine/rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("brief.md"),
        "---\ndescription: Be brief.\n---\nBe brief.\n",
    )
    .unwrap();
    let (_, err) = ok(&t, &["use", "--local", "../mine"]);
    // Claude Code gets the personal rule in a file of its own; `AGENTS.md` is the team's.
    assert!(t.exists(".claude/rules/brief.md"), "{err}");
    assert_eq!(t.read("AGENTS.md"), agents);
    for needle in [
        "warning: overlay: `AGENTS.md`",
        "is the team's",
        "from `.aiwg`",
        "from `../mine` for codex",
        "hint:",
    ] {
        assert!(err.contains(needle), "{needle}:\n{err}");
    }
    assert!(!t.read(".aiwg/local/aiwg.lock").contains("AGENTS.md"));
    // Leaving it out for Codex silences it.
    t.write(
        "aiwg.local.toml",
        "sources = [\"../mine\"]\n[platform.codex]\nexclude = [\"rule:brief\"]\n",
    );
    let (_, err) = ok(&t, &["apply"]);
    assert!(!err.contains("warning: overlay"), "{err}");
    assert!(t.exists(".claude/rules/brief.md"));
}

#[test]
fn a_path_the_team_starts_deploying_is_handed_over_not_deleted() {
    let t = team();
    ok(&t, &["use", "--local", ".aiwg", "--platforms", "codex"]);
    let codex = t.read(".codex/agents/team.toml");
    // A teammate adds Codex to `aiwg.toml`: the overlay's file is the team's now.
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n",
    );
    let (_, err) = ok(&t, &["apply"]);
    assert!(
        err.contains("`.codex/agents/team.toml` is deployed by `aiwg.toml` now"),
        "{err}"
    );
    assert_eq!(t.read(".codex/agents/team.toml"), codex);
    assert!(t.read("aiwg.lock").contains(".codex/agents/team.toml"));
    assert!(
        !t.exists(".aiwg/local/aiwg.lock") || !t.read(".aiwg/local/aiwg.lock").contains("codex")
    );
    assert!(!t.read(".git/info/exclude").contains(".codex"));
    let (out, _) = ok(&t, &["check"]);
    assert_eq!(out, "");
}

#[test]
fn removing_the_overlay_leaves_the_teams_files() {
    let t = team();
    ok(&t, &["use", "--local", "../mine", "--platforms", "codex"]);
    let team_file = t.read(".claude/agents/team.md");
    let team_lock = t.read("aiwg.lock");
    // One source of the overlay: its files go, the overlay's platform stays.
    let (_, err) = ok(&t, &["remove", "--local", "../mine"]);
    assert!(
        err.contains("removed `../mine` from `aiwg.local.toml`"),
        "{err}"
    );
    assert!(err.contains("`aiwg rollback --local`"), "{err}");
    assert!(!t.exists(".claude/agents/mine.md") && !t.exists(".codex/agents/mine.toml"));
    assert!(t.exists(".codex/agents/team.toml"));
    assert_eq!(t.read(".claude/agents/team.md"), team_file);
    assert_eq!(t.read("aiwg.lock"), team_lock);
    // The overlay's history is its own: rolling it back restores its files alone.
    let (out, _) = ok(&t, &["rollback", "--list", "--local"]);
    assert!(out.contains("remove --local ../mine"), "{out}");
    let (out, _) = ok(&t, &["rollback", "--list"]);
    assert!(!out.contains("--local"), "{out}");
    ok(&t, &["rollback", "--local"]);
    assert!(t.exists(".claude/agents/mine.md"));
    // The whole overlay: every file it deployed, its state, the file and the block.
    let (code, _, err) = t.run(&["remove", "--local", "nope"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`nope` is not a source of `aiwg.local.toml`"),
        "{err}"
    );
    let (_, err) = ok(&t, &["uninstall", "--local"]);
    assert!(err.contains("`aiwg.local.toml`"), "{err}");
    for path in [
        ".claude/agents/mine.md",
        ".codex",
        ".aiwg/local",
        "aiwg.local.toml",
    ] {
        assert!(!t.exists(path), "{path} left");
    }
    assert!(!t.read(".git/info/exclude").contains(BEGIN));
    assert_eq!(t.read(".claude/agents/team.md"), team_file);
    assert_eq!(t.read("aiwg.lock"), team_lock);
    let (out, _) = ok(&t, &["check"]);
    assert_eq!(out, "");
}

#[test]
fn frozen_deploys_the_team_alone_and_says_so() {
    let t = team();
    ok(&t, &["use", "--local", "../mine"]);
    std::fs::remove_file(t.root().join(".claude/agents/mine.md")).unwrap();
    let (code, out, _) = t.run(&["check"]);
    assert_eq!(
        (code, out.as_str()),
        (1, "missing\t.claude/agents/mine.md\n")
    );
    let (code, out, err) = t.run(&["check", "--frozen"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("--frozen deploys `aiwg.toml` alone"), "{err}");
    // Ignored means not read: a broken file does not stop a frozen run either.
    t.write("aiwg.local.toml", "scope = \"user\"\n");
    let (code, out, err) = t.run(&["check", "--frozen"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[test]
fn a_bad_overlay_is_an_error_naming_its_file_and_line() {
    let t = team();
    t.write("aiwg.local.toml", "sources = []\nscope = \"user\"\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("aiwg.local.toml:2:") && err.contains("`scope`"),
        "{err}"
    );
    assert!(err.contains("hint:") && err.contains("the team's"), "{err}");
    t.write(
        "aiwg.local.toml",
        "sources = []\n[platform.codx]\nexclude = [\"x\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("aiwg.local.toml:2: unknown platform `codx`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean") || err.contains("codex"),
        "{err}"
    );
    t.write("aiwg.local.toml", "sources = [\"github:org/repo\"]\n");
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("aiwg.local.toml:1: git source `github:org/repo`"),
        "{err}"
    );
    assert!(err.contains("folders and bundled frameworks only"), "{err}");
    // Without the team's file there is nothing to overlay.
    std::fs::remove_file(t.root().join("aiwg.local.toml")).unwrap();
    std::fs::remove_file(t.root().join("aiwg.toml")).unwrap();
    let (code, _, err) = t.run(&["use", "--local", "../mine"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no `aiwg.toml`"), "{err}");
    assert!(!t.exists("aiwg.local.toml"));
}

#[test]
fn the_check_cache_never_hides_the_overlays_drift() {
    let t = team();
    let traced = |t: &Test| {
        let out = t
            .aiwg(&["check"])
            .env("AIWG_CHECK_CACHE_TRACE", "1")
            .env("AIWG_CHECK_RACY_MS", "100")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The team's clean check is cached (once the racy window after the apply is over).
    std::thread::sleep(std::time::Duration::from_millis(160));
    traced(&t);
    let (code, _, err) = traced(&t);
    assert_eq!(code, 0);
    assert!(err.contains("cache hit"), "{err}");
    ok(&t, &["use", "--local", "../mine"]);
    std::fs::remove_file(t.root().join(".claude/agents/mine.md")).unwrap();
    let (code, out, err) = traced(&t);
    assert_eq!(
        (code, out.as_str()),
        (1, "missing\t.claude/agents/mine.md\n"),
        "{err}"
    );
    assert!(
        err.contains("`aiwg.local.toml` is checked in full"),
        "{err}"
    );
}

#[test]
fn a_broken_overlay_lock_is_an_error_with_a_hint_of_its_own() {
    let t = team();
    ok(&t, &["use", "--local", "../mine"]);
    let lock = t.read(".aiwg/local/aiwg.lock");
    t.write(".aiwg/local/aiwg.lock", &format!("{lock}garbage [[\n"));
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".aiwg/local/aiwg.lock:"), "{err}");
    assert!(err.contains("the overlay's own lock"), "{err}");
    assert!(t.exists(".claude/agents/mine.md"));
}

#[test]
fn apply_stage_stages_the_teams_files_never_the_overlays() {
    let t = team();
    ok(&t, &["use", "--local", "../mine"]);
    t.write(
        ".aiwg/agents/team.md",
        "---\ndescription: The team's reviewer.\n---\nReview twice.\n",
    );
    std::fs::write(
        t.root().join("../mine/agents/mine.md"),
        "---\ndescription: My own helper.\n---\nHelp me more.\n",
    )
    .unwrap();
    ok(&t, &["apply", "--stage"]);
    assert!(t.read(".claude/agents/mine.md").contains("more"));
    let staged = git(&t, &["diff", "--cached", "--name-only"]);
    assert!(staged.contains(".claude/agents/team.md"), "{staged}");
    assert!(staged.contains("aiwg.lock"), "{staged}");
    assert!(
        !staged.contains("mine") && !staged.contains("local"),
        "{staged}"
    );
}
