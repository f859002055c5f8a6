//! The deploy commands end to end: apply, diff, check, status, plan, rollback, remove,
//! uninstall and hook, on real temp folders through the binary.

use std::path::Path;

use crate::support::{user_state_dir, Test};

/// A project with one agent, one skill (with an executable script) and one rule, deployed to
/// Claude Code (whole files) and Warp (sections of the shared `AGENTS.md`, which the user also
/// writes in).
fn project() -> Test {
    let t = Test::new();
    t.write("aiwg.toml", PLATFORMS)
        .write(
            ".aiwg/agents/reviewer.md",
            "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n",
        )
        .write(
            ".aiwg/skills/release/SKILL.md",
            "---\nname: release\ndescription: Cuts a release\n---\nSteps.\n",
        )
        .write(
            ".aiwg/skills/release/scripts/tag.sh",
            "#!/bin/sh\ngit tag\n",
        )
        .write(
            ".aiwg/rules/testing.md",
            "---\ndescription: Tests\n---\nAlways add a test.\n",
        )
        .write("AGENTS.md", USER_TEXT);
    set_executable(&t.root().join(".aiwg/skills/release/scripts/tag.sh"));
    t
}

#[cfg(unix)]
fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn set_executable(_: &Path) {}

/// Every file under the project, with its bytes (for "nothing was written" checks).
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

const PLATFORMS: &str = "platforms = [\"claude-code\", \"warp\"]\n";
const USER_TEXT: &str = "# Project notes\n\nWritten by hand.\n";

/// The summary line of stderr (`N created, N updated, ...`).
fn summary(err: &str) -> &str {
    err.lines()
        .rev()
        .find(|l| l.contains(" created, ") || l.starts_with("nothing to change: "))
        .unwrap_or("")
}

#[test]
fn apply_then_check_is_clean_and_plan_is_empty() {
    let t = project();
    let (code, out, _) = t.run(&["check"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("missing\t")), "{out}");
    for path in [
        ".claude/agents/reviewer.md",
        ".claude/skills/release/scripts/tag.sh",
        "AGENTS.md",
    ] {
        assert!(
            lines.contains(&format!("missing\t{path}").as_str()),
            "{out}"
        );
    }

    let (code, out, err) = t.run(&["apply"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert_eq!(
        summary(&err),
        format!(
            "{} created, 1 updated, 0 deleted, 0 unchanged",
            lines.len() - 1
        )
    );
    assert!(t
        .read(".claude/agents/reviewer.md")
        .contains("Review carefully.\n"));
    let shared = t.read("AGENTS.md");
    assert!(
        shared.starts_with(&format!("{USER_TEXT}\n<!-- aiwg:begin .aiwg:")),
        "{shared}"
    );
    assert!(shared.contains("Always add a test.\n"), "{shared}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let script = t.root().join(".claude/skills/release/scripts/tag.sh");
        let mode = std::fs::metadata(script).unwrap().permissions().mode();
        assert_ne!(mode & 0o111, 0, "the script stays executable");
    }
    let (code, out, err) = t.run(&["check"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, out, _) = t.run(&["plan"]);
    assert_eq!((code, out.as_str()), (0, ""));

    // A second apply changes nothing, not even the lock.
    let lock = std::fs::metadata(t.root().join("aiwg.lock"))
        .unwrap()
        .modified()
        .unwrap();
    let (_, _, err) = t.run(&["apply"]);
    assert_eq!(
        summary(&err),
        format!("nothing to change: {} files up to date", lines.len())
    );
    let again = std::fs::metadata(t.root().join("aiwg.lock"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(lock, again);
    assert!(t.read("aiwg.lock").starts_with("# aiwg.lock"));
}

#[test]
fn an_apply_writes_the_same_tree_from_held_bytes_as_from_a_second_render() {
    // Default: the output fits the hold budget and is written from the first render's bytes;
    // budget 0: nothing is held and the files come from a second, streaming render; a budget
    // no allocation could hold is never reserved up front, so it holds as the default does,
    // and a budget of less than the sources' bytes holds nothing (the model counts first).
    let trees: Vec<Vec<(String, Vec<u8>)>> = ["", "0", "18446744073709551615", "100"]
        .iter()
        .map(|budget| {
            let t = project();
            let mut apply = t.aiwg(&["apply"]);
            if !budget.is_empty() {
                apply.env("AIWG_HOLD_BUDGET_BYTES", budget);
            }
            let out = apply.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let mut tree = snapshot(&t.root());
            tree.retain(|(path, _)| !path.starts_with(".aiwg/history"));
            tree
        })
        .collect();
    assert!(trees[0].iter().any(|(p, _)| p == "aiwg.lock"));
    for tree in &trees[1..] {
        assert_eq!(&trees[0], tree);
    }
}

#[test]
fn dry_run_writes_nothing_and_prints_what_diff_prints() {
    let t = project();
    t.run(&["apply"]);
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nReview twice.\n",
    );
    std::fs::remove_file(t.root().join(".aiwg/rules/testing.md")).unwrap();
    t.write(
        ".aiwg/commands/ship.md",
        "---\ndescription: Ship\n---\nShip it.\n",
    );
    let before = snapshot(&t.root());
    let (code, dry, err) = t.run(&["apply", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(snapshot(&t.root()), before, "dry run wrote something");
    let (code, diff, _) = t.run(&["diff"]);
    assert_eq!(code, 0);
    assert_eq!(dry, diff);
    assert!(diff.contains("+++ b/.claude/commands/ship.md"), "{diff}");
    assert!(
        diff.contains("-Review carefully.\n+Review twice.\n"),
        "{diff}"
    );
    assert!(diff.contains("-<!-- aiwg:begin .aiwg:rules -->"), "{diff}");
    assert_eq!(t.run(&["diff", "--exit-code"]).0, 1);
    let (_, only, _) = t.run(&["diff", ".claude/commands"]);
    assert!(
        only.starts_with("diff --aiwg a/.claude/commands/ship.md"),
        "{only}"
    );
    assert_eq!(only.matches("diff --aiwg").count(), 1, "{only}");

    t.run(&["apply"]);
    assert!(!t.read("AGENTS.md").contains("aiwg:begin .aiwg:rules"));
    assert!(t.read(".claude/agents/reviewer.md").contains("twice"));
    assert!(t.exists(".claude/commands/ship.md"));
    let (code, out, _) = t.run(&["diff", "--exit-code"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn an_edit_is_a_conflict_force_backs_it_up_and_rollback_restores_it() {
    let t = project();
    t.run(&["apply"]);
    let edited = "---\nname: reviewer\n---\nMy own version.\n";
    t.write(".claude/agents/reviewer.md", edited);
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nNew text.\n",
    );
    let before = snapshot(&t.root());
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("conflict: `.claude/agents/reviewer.md`: edited since aiwg wrote it"),
        "{err}"
    );
    assert!(err.contains("hint: `aiwg diff`"), "{err}");
    assert!(err.contains("hint: `aiwg apply --force`"), "{err}");
    assert_eq!(
        snapshot(&t.root()),
        before,
        "a stopped apply wrote something"
    );
    let (code, out, _) = t.run(&["check"]);
    assert_eq!(code, 1);
    assert!(
        out.lines()
            .any(|l| l == "edited\t.claude/agents/reviewer.md"),
        "{out}"
    );

    let (code, _, err) = t.run(&["apply", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("overwrote `.claude/agents/reviewer.md`"),
        "{err}"
    );
    assert!(summary(&err).starts_with("0 created, "), "{err}");
    assert!(t.read(".claude/agents/reviewer.md").contains("New text."));

    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/agents/reviewer.md"), edited);
    let (_, list, _) = t.run(&["rollback", "--list"]);
    assert!(
        list.lines().nth(1).unwrap().contains("rollback 2"),
        "{list}"
    );
}

#[test]
fn apply_then_rollback_is_the_identity() {
    let t = project();
    let before = snapshot(&t.root());
    t.run(&["apply"]);
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    let after: Vec<_> = snapshot(&t.root())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".aiwg/history") && p != ".gitignore")
        .collect();
    assert_eq!(after, before);
    assert!(!t.exists(".claude"), "emptied folders are removed");
}

#[test]
fn status_shows_every_state() {
    let t = project();
    t.write(".aiwg/agents/gone.md", "---\nname: gone\n---\nx\n");
    t.write(".aiwg/commands/deleted.md", "---\ndescription: d\n---\nx\n");
    t.run(&["apply"]);
    // outdated: the source changed.
    t.write(
        ".aiwg/skills/release/SKILL.md",
        "---\nname: release\ndescription: Cuts\n---\nNew.\n",
    );
    // edited: changed on disk.
    t.write(".claude/agents/reviewer.md", "mine\n");
    // missing: deleted on disk.
    std::fs::remove_file(t.root().join(".claude/commands/deleted.md")).unwrap();
    // stale: no longer in the sources.
    std::fs::remove_file(t.root().join(".aiwg/agents/gone.md")).unwrap();
    // conflict: a file aiwg never wrote is in the way.
    t.write(".aiwg/agents/new.md", "---\nname: new\n---\nx\n");
    t.write(".claude/agents/new.md", "someone else's\n");
    let (code, out, err) = t.run(&["status"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let state_of = |path: &str| {
        rows.iter()
            .find(|r| r[1] == path)
            .map(|r| r[0])
            .unwrap_or("-")
    };
    assert_eq!(rows[0], ["STATE", "PATH", "ORIGIN"]);
    assert_eq!(state_of(".claude/agents/reviewer.md"), "edited");
    assert_eq!(state_of(".claude/skills/release/SKILL.md"), "outdated");
    assert_eq!(state_of(".claude/skills/release/scripts/tag.sh"), "ok");
    assert_eq!(state_of(".claude/commands/deleted.md"), "missing");
    assert_eq!(state_of(".claude/agents/gone.md"), "stale");
    assert_eq!(
        state_of(".agents/skills/gone/SKILL.md"),
        "stale",
        "Warp's copy of the agent, as a skill"
    );
    assert_eq!(state_of(".claude/agents/new.md"), "conflict");

    let (_, json, _) = t.run(&["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entry = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "AGENTS.md" && e["part"] == "section:.aiwg:rules")
        .unwrap();
    assert_eq!(entry["mode"], "section");
    assert_eq!(entry["state"], "ok");
    assert_eq!(doc["scope"], "project");

    let (code, json, _) = t.run(&["check", "--json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["clean"], false);
    let drifted: Vec<&str> = doc["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for path in [
        ".claude/agents/reviewer.md",
        ".claude/skills/release/SKILL.md",
        ".claude/commands/deleted.md",
        ".claude/agents/gone.md",
        ".agents/skills/gone/SKILL.md",
        ".claude/agents/new.md",
    ] {
        assert!(drifted.contains(&path), "{path}: {drifted:?}");
    }
}

#[test]
fn remove_deletes_only_what_aiwg_wrote_for_that_source() {
    let t = project();
    t.write(
        "aiwg.toml",
        &format!("# mine\nsources = [\".aiwg\", \"extra@vendor/extra\"] # both\n{PLATFORMS}"),
    );
    t.write(
        "vendor/extra/agents/helper.md",
        "---\nname: helper\n---\nHelp.\n",
    );
    t.write(
        "vendor/extra/agents/tweaked.md",
        "---\nname: tweaked\n---\nT.\n",
    );
    t.write(
        "vendor/extra/rules/style.md",
        "---\ndescription: s\n---\nBe terse.\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t
        .read("AGENTS.md")
        .contains("<!-- aiwg:begin extra:rules -->"));
    t.write(".claude/agents/tweaked.md", "edited by hand\n");
    t.write(".claude/agents/notes.md", "not aiwg's\n");

    let (code, _, err) = t.run(&["remove", "extra"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("kept `.claude/agents/tweaked.md`"), "{err}");
    assert!(!t.exists(".claude/agents/helper.md"));
    assert_eq!(t.read(".claude/agents/tweaked.md"), "edited by hand\n");
    assert_eq!(t.read(".claude/agents/notes.md"), "not aiwg's\n");
    assert!(t.exists(".claude/agents/reviewer.md"));
    let shared = t.read("AGENTS.md");
    assert!(!shared.contains("extra:"), "{shared}");
    assert!(!shared.contains("Be terse."), "{shared}");
    assert!(
        shared.contains("<!-- aiwg:begin .aiwg:rules -->"),
        "{shared}"
    );
    assert!(shared.starts_with(USER_TEXT), "{shared}");
    assert_eq!(
        t.read("aiwg.toml"),
        format!("# mine\nsources = [\".aiwg\"] # both\n{PLATFORMS}")
    );
    let (code, out, _) = t.run(&["check"]);
    assert_eq!((code, out.as_str()), (0, ""));

    let (code, _, err) = t.run(&["remove", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`nope` is not a source of this project"),
        "{err}"
    );
}

#[test]
fn uninstall_leaves_only_the_users_files() {
    let t = project();
    let before = snapshot(&t.root());
    t.run(&["apply"]);
    t.write(".claude/agents/notes.md", "not aiwg's\n");
    let (code, _, err) = t.run(&["uninstall"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists("aiwg.lock"));
    assert_eq!(t.read("AGENTS.md"), USER_TEXT);
    assert!(!t.exists(".claude/skills"), "emptied folders are removed");
    assert_eq!(t.read(".claude/agents/notes.md"), "not aiwg's\n");
    // aiwg's history, its `.gitignore` lines and `aiwg.toml` go too.
    let after: Vec<_> = snapshot(&t.root())
        .into_iter()
        .filter(|(p, _)| p != ".claude/agents/notes.md")
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| p != "aiwg.toml")
        .collect();
    assert_eq!(after, before);
}

#[test]
fn a_corrupt_lock_is_an_error_not_a_reset() {
    let t = project();
    t.write("aiwg.lock", "version = 9\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2);
    assert!(err.contains("`aiwg.lock` has format version 9"), "{err}");
    assert!(
        err.contains("hint: this project was deployed by a newer aiwg"),
        "{err}"
    );
    assert_eq!(t.read("aiwg.lock"), "version = 9\n");
    assert!(!t.exists(".claude"));
}

#[test]
fn unknown_platforms_are_refused() {
    let t = project();
    let (code, _, err) = t.run(&["check", "--platforms", "claudcode"]);
    assert_eq!(code, 2);
    assert!(err.contains("`claudcode`"), "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_second_process_waits_then_fails_and_a_dead_holders_lock_is_recovered() {
    let t = project();
    // `flock` (util-linux) holds the same kind of lock aiwg takes, as another aiwg would.
    t.write(".aiwg/lock.pid", "4242\n");
    let mut holder = std::process::Command::new("flock")
        .args(["--exclusive", "--no-fork", ".aiwg/lock.pid", "sleep", "30"])
        .current_dir(t.root())
        .spawn()
        .unwrap();
    // Wait until the holder has the lock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::process::Command::new("flock")
        .args(["--nonblock", ".aiwg/lock.pid", "true"])
        .current_dir(t.root())
        .status()
        .unwrap()
        .success()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "flock never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let started = std::time::Instant::now();
    let out = t
        .aiwg(&["apply"])
        .env("AIWG_LOCK_TIMEOUT_MS", "300")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("another aiwg is working here (pid 4242)"),
        "{err}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert!(err.contains("hint: wait for the other aiwg"), "{err}");
    assert!(!t.exists(".claude"));
    holder.kill().unwrap();
    holder.wait().unwrap();
    // The holder died without cleaning up: the OS released its lock, the file is taken over.
    assert!(t.exists(".aiwg/lock.pid"));
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists(".aiwg/lock.pid"), "the lock is released");
}

#[test]
fn concurrent_applies_take_turns() {
    let t = project();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("aiwg"))
                .arg("apply")
                .current_dir(t.root())
                .env("HOME", t.home())
                .env("AIWG_HOME", t.home())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, out, _) = t.run(&["check"]);
    assert_eq!((code, out.as_str()), (0, ""));
    let (_, list, _) = t.run(&["rollback", "--list"]);
    assert_eq!(
        list.lines().count(),
        2,
        "exactly one apply changed files: {list}"
    );
}

#[test]
fn user_scope_deploys_into_home_with_its_lock_in_aiwg_home() {
    let t = project();
    t.user_config(&["claude-code"]);
    let (code, _, err) = t.run(&["apply", "--scope", "user"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.home().join(".claude/agents/reviewer.md").is_file());
    assert!(user_state_dir(&t.home()).join("aiwg.lock").is_file());
    assert!(!t.home().join("aiwg.lock").exists());
    assert!(!t.exists(".claude"));
    let (code, out, _) = t.run(&["check", "--scope", "user"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn user_scope_conflict_lines_name_the_file_as_the_user_writes_it() {
    // The engine names target-relative paths; in user scope every command that reports a
    // conflict shows `~/…`, never a path that reads as if it were in the project.
    let t = project();
    t.user_config(&["claude-code"]);
    let mine = t.home().join(".claude/agents/reviewer.md");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, "my own reviewer\n").unwrap();
    // `status` reports and exits 0; `apply` stops and `check` fails on the conflict.
    for (args, want) in [
        (&["apply", "--scope", "user"][..], 1),
        (&["check", "--scope", "user"], 1),
        (&["status", "--scope", "user"], 0),
        (&["plan", "--scope", "user"], 0),
    ] {
        let (code, out, err) = t.run(args);
        let said = format!("{out}{err}");
        assert_eq!(code, want, "{args:?}: {said}");
        assert!(
            said.contains("~/.claude/agents/reviewer.md"),
            "{args:?} does not name the file as `~/…`: {said}"
        );
        assert_eq!(
            said.matches(".claude/agents/reviewer.md").count(),
            said.matches("~/.claude/agents/reviewer.md").count(),
            "{args:?} names it once as if it were in the project: {said}"
        );
    }
    // A patch keeps its headers relative to the home folder (`git apply` there takes it), and
    // its `# conflict:` line names the file as `~/…`, as `--stat` does.
    for args in [
        &["diff", "--scope", "user"][..],
        &["apply", "--dry-run", "--scope", "user"],
        &["diff", "--stat", "--scope", "user"],
    ] {
        let (code, out, err) = t.run(args);
        let said = format!("{out}{err}");
        assert!(code < 2, "{args:?}: {said}");
        assert!(
            said.contains("~/.claude/agents/reviewer.md"),
            "{args:?} does not name the file as `~/…`: {said}"
        );
        assert!(
            !said.contains("`.claude/agents/reviewer.md`"),
            "{args:?} names it as if it were in the project: {said}"
        );
    }
    let (_, patch, _) = t.run(&["diff", "--scope", "user"]);
    assert!(
        patch.contains("# conflict: `~/.claude/agents/reviewer.md`: not written by aiwg"),
        "{patch}"
    );
    assert!(
        patch.contains("--- a/.claude/agents/reviewer.md\n+++ b/.claude/agents/reviewer.md"),
        "{patch}"
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my own reviewer\n");
}

#[test]
fn an_apply_opens_its_deployment_once_and_says_the_old_user_lock_note_once() {
    // The check cache's lookup and the full run share one `Deployment` (before, the plain
    // apply opened it twice, and said this note twice).
    let t = project();
    t.user_config(&["claude-code"]);
    std::fs::write(t.home().join("aiwg.lock"), "").unwrap();
    let (code, _, err) = t.run(&["apply", "--scope", "user"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("is no longer read").count(), 1, "{err}");
}

#[test]
fn read_only_commands_and_dry_runs_leave_no_trace_in_user_scope() {
    let t = project();
    t.user_config(&["claude-code"]);
    let state = t.home().join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::rename(t.home().join("aiwg.toml"), state.join("aiwg.toml")).unwrap();
    for args in [
        &["apply", "--dry-run", "--scope", "user"][..],
        &["check", "--scope", "user"],
        &["status", "--scope", "user"],
        &["diff", "--scope", "user"],
        &["plan", "--scope", "user"],
    ] {
        let out = t.aiwg(args).env("AIWG_HOME", &state).output().unwrap();
        assert!(
            out.status.code().unwrap() < 2,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let left: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["aiwg.toml"],
        "a read-only command wrote into `AIWG_HOME`"
    );
    assert!(!t.home().join(".claude").exists());
    let out = t
        .aiwg(&["apply", "--scope", "user"])
        .env("AIWG_HOME", &state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = user_state_dir(&state);
    assert!(state.join("aiwg.lock").is_file());
    assert!(state.join("history/1/manifest.toml").is_file());
}

#[cfg(unix)]
#[test]
fn a_symlink_leading_out_of_the_project_is_never_followed() {
    let t = project();
    let outside = t.home().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, t.root().join(".claude")).unwrap();
    for force in [false, true] {
        let args: &[&str] = if force {
            &["apply", "--force"]
        } else {
            &["apply"]
        };
        let (code, _, err) = t.run(args);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(
                "conflict: `.claude/agents/reviewer.md`: a symlink leads outside the root"
            ),
            "{err}"
        );
        assert!(err.contains("cannot be forced"), "{err}");
    }
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "wrote outside the root"
    );
    assert!(!t.exists("aiwg.lock"));
}

#[cfg(unix)]
#[test]
fn a_symlinked_platform_folder_inside_the_project_is_never_taken_for_aiwgs() {
    // `.claude -> shared/claude` (the user's own link, inside the root): apply writes through
    // it, and neither the link nor the folder it leads to is recorded as a folder aiwg made,
    // so removing everything leaves both.
    let t = project();
    std::fs::create_dir_all(t.root().join("shared/claude")).unwrap();
    std::os::unix::fs::symlink("shared/claude", t.root().join(".claude")).unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists("shared/claude/agents/reviewer.md"));
    let lock = t.read("aiwg.lock");
    let dirs = lock.lines().find(|l| l.starts_with("dirs")).unwrap_or("");
    assert!(!dirs.contains("\".claude\""), "{dirs}");
    let (code, _, err) = t.run(&["uninstall"]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::symlink_metadata(t.root().join(".claude"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(t.root().join("shared/claude").is_dir());
}

#[test]
fn diff_is_coloured_only_when_asked() {
    let t = project();
    let (_, plain, _) = t.run(&["diff"]);
    assert!(!plain.contains('\x1b'));
    let (_, coloured, _) = t.run(&["diff", "--color", "always"]);
    assert!(
        coloured.contains("\x1b[32m+Review carefully.\x1b[0m"),
        "{coloured}"
    );
}

#[test]
fn hook_install_and_uninstall() {
    let t = project();
    let (code, _, err) = t.run(&["hook", "install"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not in a git work tree"), "{err}");
    crate::hook::git(&t, &["init", "-q"]);
    let (code, _, err) = t.run(&["hook", "install"]);
    assert_eq!(code, 0, "{err}");
    let hook = t.read(".git/hooks/pre-commit");
    assert!(
        hook.starts_with("#!/bin/sh\n# aiwg:begin pre-commit\n"),
        "{hook}"
    );
    assert!(hook.contains(" check --staged ||"), "{hook}");
    t.run(&["hook", "uninstall"]);
    assert!(!t.exists(".git/hooks/pre-commit"));

    // An existing shell hook gets the block; uninstall gives it back unchanged.
    let theirs = "#!/usr/bin/env bash\nnpm test\n";
    t.write(".git/hooks/pre-commit", theirs);
    t.run(&["hook", "install"]);
    let hook = t.read(".git/hooks/pre-commit");
    assert!(
        hook.starts_with("#!/usr/bin/env bash\n# aiwg:begin"),
        "{hook}"
    );
    assert!(hook.ends_with("npm test\n"), "{hook}");
    t.run(&["hook", "uninstall"]);
    assert_eq!(t.read(".git/hooks/pre-commit"), theirs);

    // Any other hook is left alone.
    t.write(".git/hooks/pre-commit", "#!/usr/bin/env python3\nprint()\n");
    let (code, _, err) = t.run(&["hook", "install"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a shell script"), "{err}");
}

/// The history keeps copies of the files an apply replaces, some private to their owner
/// (an MCP config with a token, mode 0600): its folder is owner-only, also when an older
/// aiwg made it readable by all.
#[cfg(unix)]
#[test]
fn the_history_folder_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let t = project();
    t.run(&["apply"]);
    let history = t.root().join(".aiwg/history");
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode(&history) & 0o777, 0o700, "made owner-only");
    std::fs::set_permissions(&history, std::fs::Permissions::from_mode(0o755)).unwrap();
    let deployed = t.root().join(".claude/agents/reviewer.md");
    std::fs::set_permissions(&deployed, std::fs::Permissions::from_mode(0o600)).unwrap();
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nv2\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        mode(&history) & 0o777,
        0o700,
        "the copy of a private file is not readable by others"
    );
}

#[test]
fn a_hand_edited_history_manifest_is_ignored_with_a_warning() {
    let t = project();
    t.run(&["apply"]);
    t.write(
        ".aiwg/history/1/manifest.toml",
        "version = 1\n[[entry]]\npath = 3\n",
    );
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("there is nothing to roll back"), "{err}");
    assert!(
        err.contains("warning: `.aiwg/history/1` is ignored, never rolled back"),
        "{err}"
    );
    assert!(
        t.exists(".claude/agents/reviewer.md"),
        "nothing was rolled back"
    );
    // It never blocks an apply either.
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nv2\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    // The apply that wrote a generation warns of it once, from its own prune's listing.
    assert_eq!(
        err.matches("warning: `.aiwg/history/1` is ignored, never rolled back")
            .count(),
        1,
        "{err}"
    );
}

#[test]
#[cfg(unix)]
fn apply_force_deletes_nothing_through_the_link_it_replaces() {
    // aiwg's folder `ref/` was swapped for a link to the user's `docs/`, which holds files of
    // the same bytes; `ref` is now wanted as a file. `--force` replaces the link, but its
    // deletes of `ref/guide.md` and `ref/deep/more.md` went through it first, into `docs/`.
    let t = project();
    t.write(".aiwg/skills/release/ref/guide.md", "a\n");
    t.write(".aiwg/skills/release/ref/deep/more.md", "b\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(t.root().join(".aiwg/skills/release/ref")).unwrap();
    t.write(".aiwg/skills/release/ref", "now one file\n");
    std::fs::remove_dir_all(t.root().join(".claude/skills/release/ref")).unwrap();
    t.write("docs/guide.md", "a\n");
    t.write("docs/deep/more.md", "b\n");
    std::os::unix::fs::symlink("../../../docs", t.root().join(".claude/skills/release/ref"))
        .unwrap();
    // check and status name the deletes `--force` refuses, as apply does (they used to show
    // only the link's conflict); every command deletes nothing.
    let refused =
        "reached through the symlink `.claude/skills/release/ref`, which `--force` replaces";
    for args in [
        &["apply", "--force"][..],
        &["apply"],
        &["check"],
        &["status"],
    ] {
        let (code, out, err) = t.run(args);
        assert!(code != 0 || args == ["status"], "{args:?}: {out}{err}");
        for path in ["ref/guide.md", "ref/deep/more.md"] {
            assert!(
                err.contains(&format!(
                    "conflict: `.claude/skills/release/{path}`: {refused}"
                )),
                "{args:?}: {err}"
            );
        }
        assert_eq!(t.read("docs/guide.md"), "a\n");
        assert_eq!(t.read("docs/deep/more.md"), "b\n");
    }
}

#[test]
fn a_skill_folder_that_becomes_a_file_is_replaced_in_one_apply_and_rolled_back() {
    // `ref/` (aiwg's own files, unchanged) becomes the file `ref`: apply deletes the files,
    // removes the emptied folders and writes the file, instead of stopping on "a folder is in
    // the way" (review of session 19, left alone).
    let t = project();
    t.write(".aiwg/skills/release/ref/guide.md", "a folder\n");
    t.write(".aiwg/skills/release/ref/deep/more.md", "deeper\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let to_file = |t: &Test| {
        std::fs::remove_dir_all(t.root().join(".aiwg/skills/release/ref")).unwrap();
        t.write(".aiwg/skills/release/ref", "now one file\n");
    };
    to_file(&t);
    // check, status and diff say what apply does: the file created, the old files deleted.
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(!format!("{out}{err}").contains("conflict"), "{out}{err}");
    let (code, out, err) = t.run(&["status"]);
    assert_eq!(code, 0, "{err}");
    assert!(!format!("{out}{err}").contains("conflict"), "{out}{err}");
    let (_, out, err) = t.run(&["diff"]);
    assert!(!format!("{out}{err}").contains("conflict"), "{out}{err}");
    assert!(
        out.contains("b/.claude/skills/release/ref\n")
            && out.contains("a/.claude/skills/release/ref/deep/more.md"),
        "{out}"
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/skills/release/ref"), "now one file\n");
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{out}{err}");
    // Undone byte for byte: the folder and its files come back.
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/skills/release/ref/guide.md"), "a folder\n");
    assert_eq!(
        t.read(".claude/skills/release/ref/deep/more.md"),
        "deeper\n"
    );
    // And redone: the folder goes again, the file comes back.
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/skills/release/ref"), "now one file\n");
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{out}{err}");

    // The folder holds a file of the user's, or an edited one of aiwg's: a conflict naming
    // it, with a hint, in apply, check and status; a plain apply deletes nothing, and
    // `apply --force` backs the file up in its generation, deletes it, removes the folder and
    // writes the file; rollback brings the folder back, the file of the user's in it.
    std::fs::remove_file(t.root().join(".aiwg/skills/release/ref")).unwrap();
    t.write(".aiwg/skills/release/ref/guide.md", "a folder\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    for (extra, edited, why) in [
        ("notes.md", false, "which aiwg did not write"),
        (
            "guide.md",
            true,
            "no longer wanted, but edited since aiwg wrote it",
        ),
    ] {
        let extra_path = format!(".claude/skills/release/ref/{extra}");
        t.write(&extra_path, "the user's\n");
        to_file(&t);
        let before = t.read(".claude/skills/release/ref/guide.md");
        for args in [&["apply"][..], &["check"], &["status"]] {
            let (code, out, err) = t.run(args);
            let all = format!("{out}{err}");
            // `status` lists; the others stop (or report drift).
            assert!(code != 0 || args == ["status"], "{args:?}: {all}");
            assert!(
                all.contains(&format!(
                    "a folder is in the way, holding `{extra_path}`, {why}"
                )),
                "{args:?}: {all}"
            );
            assert!(
                all.contains("hint: `aiwg apply --force` clears a folder in the way"),
                "{args:?}: {all}"
            );
        }
        assert_eq!(
            t.read(&extra_path),
            "the user's\n",
            "a plain apply deletes nothing"
        );
        assert_eq!(t.read(".claude/skills/release/ref/guide.md"), before);
        let (code, out, err) = t.run(&["apply", "--force"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            format!("{out}{err}").contains(&format!(
                "deleted `{extra_path}` from the folder in the way (its bytes are in generation"
            )),
            "{out}{err}"
        );
        assert_eq!(t.read(".claude/skills/release/ref"), "now one file\n");
        let (code, out, err) = t.run(&["check"]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, _, err) = t.run(&["rollback"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(t.read(&extra_path), "the user's\n", "rolled back");
        if !edited {
            assert_eq!(t.read(".claude/skills/release/ref/guide.md"), "a folder\n");
        }
        // Back to the folder the sources want.
        std::fs::remove_file(t.root().join(".aiwg/skills/release/ref")).unwrap();
        t.write(".aiwg/skills/release/ref/guide.md", "a folder\n");
        if !edited {
            std::fs::remove_file(t.root().join(&extra_path)).unwrap();
        } else {
            t.write(&extra_path, "a folder\n");
        }
        let (code, _, err) = t.run(&["apply"]);
        assert_eq!(code, 0, "{err}");
    }
}

#[test]
#[cfg(unix)]
fn apply_force_never_clears_a_folder_in_the_way_holding_a_link_or_an_odd_name() {
    // A symlink (to the user's folder) in the folder, an empty folder, or a name the path join
    // would read as another path (`a\b` is `a/b`): `--force` deletes nothing, and says what
    // to move.
    let t = project();
    t.write(".aiwg/skills/release/ref/guide.md", "a folder\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(t.root().join(".aiwg/skills/release/ref")).unwrap();
    t.write(".aiwg/skills/release/ref", "now one file\n");
    t.write("docs/keep.md", "the user's\n");
    t.write(".claude/skills/release/ref/notes.md", "the user's\n");
    let dir = t.root().join(".claude/skills/release/ref");
    type Plant = fn(&Path);
    let plants: [(Plant, &str, &str); 3] = [
        (
            |dir| std::os::unix::fs::symlink("../../../../docs", dir.join("docs")).unwrap(),
            "docs",
            "which is not a file (a symlink?)",
        ),
        (
            |dir| std::fs::create_dir(dir.join("empty")).unwrap(),
            "",
            "the empty folder `.claude/skills/release/ref/empty/`",
        ),
        (
            |dir| std::fs::write(dir.join("a\\b"), "odd\n").unwrap(),
            "a\\b",
            "which aiwg did not write (a name aiwg does not back up)",
        ),
    ];
    for (plant, name, why) in plants {
        plant(&dir);
        let (code, out, err) = t.run(&["apply", "--force"]);
        assert_ne!(code, 0, "{name}: {out}{err}");
        assert!(err.contains(why), "{name}: {err}");
        assert!(
            err.contains("hint: move what is named out of the folder"),
            "{err}"
        );
        assert_eq!(
            t.read(".claude/skills/release/ref/notes.md"),
            "the user's\n"
        );
        assert_eq!(t.read(".claude/skills/release/ref/guide.md"), "a folder\n");
        assert_eq!(t.read("docs/keep.md"), "the user's\n");
        let planted = dir.join(if name.is_empty() { "empty" } else { name });
        if planted.is_dir() && !planted.is_symlink() {
            std::fs::remove_dir(&planted).unwrap();
        } else {
            std::fs::remove_file(&planted).unwrap();
        }
    }
    // With only the user's file left, `--force` clears it.
    let (code, out, err) = t.run(&["apply", "--force"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(t.read(".claude/skills/release/ref"), "now one file\n");
    assert_eq!(t.read("docs/keep.md"), "the user's\n");
}

#[test]
fn a_skill_file_that_becomes_a_folder_is_replaced_and_rolled_back() {
    // `ref` (aiwg's own, unchanged) becomes `ref/guide.md`: the plan deletes the file before
    // it writes into the folder, instead of stopping on "a file is where its folder goes".
    let t = project();
    t.write(".aiwg/skills/release/ref", "one file\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/skills/release/ref"), "one file\n");
    std::fs::remove_file(t.root().join(".aiwg/skills/release/ref")).unwrap();
    t.write(".aiwg/skills/release/ref/guide.md", "now a folder\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        t.read(".claude/skills/release/ref/guide.md"),
        "now a folder\n"
    );
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
    // Undone byte for byte: the folder aiwg made goes, the file comes back.
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/skills/release/ref"), "one file\n");
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 1, "the sources still want the folder: {err}");
    // A file of the user's in the way is still a conflict, never deleted.
    std::fs::remove_file(t.root().join(".aiwg/skills/release/ref/guide.md")).unwrap();
    std::fs::remove_dir(t.root().join(".aiwg/skills/release/ref")).unwrap();
    t.write(".aiwg/skills/release/docs/guide.md", "elsewhere\n");
    t.write(".claude/skills/release/docs", "the user's\n");
    let (code, _, err) = t.run(&["apply", "--force"]);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("the file `.claude/skills/release/docs` is where its folder goes"),
        "{err}"
    );
    assert_eq!(t.read(".claude/skills/release/docs"), "the user's\n");
}

#[test]
fn rolling_back_the_apply_that_made_a_skill_file_and_the_one_that_made_it_a_folder() {
    // Generation 1 made `ref` (a file), generation 2 replaced it by the folder `ref/`. Undoing
    // both wants nothing at `ref`: the folder aiwg made goes, and no file comes back (review19:
    // the folder was planned as a file to delete, and the delete stopped on it).
    let t = project();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    t.write(".aiwg/skills/release/ref", "one file\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(t.root().join(".aiwg/skills/release/ref")).unwrap();
    t.write(".aiwg/skills/release/ref/guide.md", "now a folder\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = t.run(&["rollback", "--to", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.root().join(".claude/skills/release/ref").exists());
    assert_eq!(
        t.read(".claude/skills/release/SKILL.md").lines().next(),
        Some("---")
    );
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 1, "the sources still want the folder: {out}{err}");
    // And rolled forward again: the rollback is undone byte for byte.
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        t.read(".claude/skills/release/ref/guide.md"),
        "now a folder\n"
    );
}

#[test]
fn an_apply_killed_after_it_made_a_skill_file_a_folder_converges() {
    // Killed after the writes (the folder `ref/` where aiwg's file `ref` was) and before the
    // lock: the lock still names `ref` as aiwg's file, the generation is not done. The next
    // apply finishes it instead of stopping on "a folder is in the way" (review19).
    let t = project();
    t.write(".aiwg/skills/release/ref", "one file\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let lock_before = t.read("aiwg.lock");
    std::fs::remove_file(t.root().join(".aiwg/skills/release/ref")).unwrap();
    t.write(".aiwg/skills/release/ref/guide.md", "now a folder\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let lock_after = t.read("aiwg.lock");
    t.write("aiwg.lock", &lock_before);
    std::fs::remove_file(t.root().join(".aiwg/history/2/done")).unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read("aiwg.lock"), lock_after);
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
    // The finished apply undoes as one: the file comes back, the folder aiwg made goes.
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/skills/release/ref"), "one file\n");
}
