//! The file-system guard end to end, on real git repositories that are built, committed and
//! cloned as a hostile one would be: no route (a committed symlink, `--force`, a lock entry)
//! writes into a git directory or through a symlink at a managed path.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use crate::support::Test;

/// Runs git in `dir` with a config of its own (never the real user's).
fn git(t: &Test, dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "init.defaultBranch=main", "-c", "core.hooksPath="])
        .args(args)
        .current_dir(dir)
        .env("HOME", t.home())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file and link below `dir`: bytes, or the link's target.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(rel, format!("-> {}", target.display()).into_bytes());
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// Builds the repository with `setup` in a folder beside the project, commits it and clones
/// it into the (empty) project folder: what the victim gets.
fn cloned(t: &Test, setup: impl FnOnce(&Path)) {
    let hostile = t.home().join("hostile");
    std::fs::create_dir_all(&hostile).unwrap();
    git(t, &hostile, &["init", "-q"]);
    setup(&hostile);
    git(t, &hostile, &["add", "-A"]);
    git(t, &hostile, &["commit", "-qm", "hostile"]);
    let project = t.root();
    git(
        t,
        t.home().as_path(),
        &[
            "clone",
            "-q",
            hostile.to_str().unwrap(),
            project.to_str().unwrap(),
        ],
    );
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// One agent in `.aiwg`, deployed to Claude Code.
fn agent_source(dir: &Path) {
    write(
        dir,
        ".aiwg/agents/a1.md",
        "---\ndescription: An agent.\n---\n\nBody.\n",
    );
    claude_code_config(dir);
}

fn claude_code_config(dir: &Path) {
    write(
        dir,
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
}

fn skill_source(dir: &Path, asset: &str, asset_text: &str) {
    write(
        dir,
        ".aiwg/skills/x/SKILL.md",
        "---\nname: x\ndescription: Formats code.\n---\n\n# X\n\nDo things.\n",
    );
    write(dir, &format!(".aiwg/skills/x/{asset}"), asset_text);
    claude_code_config(dir);
}

#[test]
fn a_committed_symlink_into_git_hooks_is_never_written_through_even_forced() {
    let t = Test::new();
    cloned(&t, |dir| {
        skill_source(
            dir,
            "pre-commit",
            "#!/bin/sh\necho PWNED > \"$HOME/pwned\"\n",
        );
        std::fs::create_dir_all(dir.join(".claude/skills")).unwrap();
        symlink("../../.git/hooks", dir.join(".claude/skills/x")).unwrap();
    });
    let git_before = tree(&t.root().join(".git"));
    for args in [&["apply"][..], &["apply", "--force"]] {
        let (code, _, err) = t.run(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(
            err.contains(
                "`.claude/skills/x/pre-commit`: resolves to `.git/hooks/pre-commit`, inside git's directory"
            ),
            "{args:?}: {err}"
        );
        assert!(err.contains("cannot be forced"), "{err}");
    }
    assert_eq!(tree(&t.root().join(".git")), git_before, ".git changed");
    assert!(!t.root().join(".git/hooks/pre-commit").exists());
}

#[test]
fn a_committed_symlink_to_the_git_dir_cannot_replace_its_config_even_forced() {
    let t = Test::new();
    cloned(&t, |dir| {
        skill_source(
            dir,
            "config",
            "[core]\n\tfsmonitor = \"echo PWNED > $HOME/pwned3; false\"\n",
        );
        std::fs::create_dir_all(dir.join(".claude/skills")).unwrap();
        symlink("../../.git", dir.join(".claude/skills/x")).unwrap();
    });
    let git_before = tree(&t.root().join(".git"));
    let (code, _, err) = t.run(&["apply", "--force"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "`.claude/skills/x/config`: resolves to `.git/config`, inside git's directory"
        ),
        "{err}"
    );
    assert_eq!(tree(&t.root().join(".git")), git_before, ".git changed");
}

#[test]
fn a_symlink_at_a_managed_path_is_its_own_conflict_and_force_replaces_only_the_link() {
    let t = Test::new();
    cloned(&t, |dir| {
        write(dir, "README.md", "MY README\n");
        agent_source(dir);
    });
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(t.root().join(".claude/agents/a1.md")).unwrap();
    symlink("../../README.md", t.root().join(".claude/agents/a1.md")).unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`.claude/agents/a1.md`: is a symlink (to `../../README.md`)"),
        "{err}"
    );
    let (code, _, err) = t.run(&["apply", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read("README.md"), "MY README\n", "wrote through the link");
    let meta = std::fs::symlink_metadata(t.root().join(".claude/agents/a1.md")).unwrap();
    assert!(meta.is_file(), "the link is replaced by the file");
    assert!(t.read(".claude/agents/a1.md").contains("Body."));
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_committed_lock_entry_naming_git_files_never_deletes_them() {
    let t = Test::new();
    cloned(&t, |dir| {
        agent_source(dir);
    });
    // The lock claims `.git/HEAD` with the hash of its bytes: stale, unedited, "safe to delete".
    let head = std::fs::read(t.root().join(".git/HEAD")).unwrap();
    let sha = aiwg_deploy::hash::sha256_hex(&head);
    write(
        &t.root(),
        "aiwg.lock",
        &format!(
            "version = 1\n\n[[file]]\npath = \".git/HEAD\"\nmode = \"file\"\nsha256 = \"{sha}\"\nsize = {}\nsource = \".aiwg\"\nartifact = \"agent:a1\"\n",
            head.len()
        ),
    );
    let git_before = tree(&t.root().join(".git"));
    for args in [&["apply"][..], &["apply", "--force"], &["uninstall"]] {
        let (code, _, err) = t.run(args);
        assert_ne!(code, 0, "{args:?}: {err}");
        assert!(err.contains(".git/HEAD"), "{args:?}: {err}");
    }
    assert_eq!(tree(&t.root().join(".git")), git_before, ".git changed");
}

#[test]
fn a_git_dir_elsewhere_in_the_tree_is_found_through_the_pointer_file_and_protected() {
    let t = Test::new();
    let root = t.root();
    // The victim's own layout: the repository's git dir lives inside the work tree under
    // another name, `.git` is a pointer file (as for worktrees and submodules).
    git(
        &t,
        &root,
        &[
            "init",
            "-q",
            "--separate-git-dir",
            root.join("store").to_str().unwrap(),
        ],
    );
    assert!(root.join(".git").is_file());
    skill_source(&root, "pre-commit", "#!/bin/sh\necho PWNED\n");
    std::fs::create_dir_all(root.join(".claude/skills")).unwrap();
    symlink("../../store/hooks", root.join(".claude/skills/x")).unwrap();
    let store_before = tree(&root.join("store"));
    let (code, _, err) = t.run(&["apply", "--force"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("resolves to `store/hooks/pre-commit`, inside git's directory"),
        "{err}"
    );
    assert_eq!(tree(&root.join("store")), store_before);
}

#[test]
fn a_symlinked_folder_inside_the_project_is_followed_and_check_is_clean() {
    let t = Test::new();
    t.write(
        ".aiwg/skills/x/SKILL.md",
        "---\nname: x\ndescription: Formats code.\n---\n\nDo things.\n",
    )
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n",
    );
    std::fs::create_dir_all(t.root().join(".claude/skills")).unwrap();
    std::fs::create_dir_all(t.root().join(".agents")).unwrap();
    symlink("../.claude/skills", t.root().join(".agents/skills")).unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(std::fs::symlink_metadata(t.root().join(".agents/skills"))
        .unwrap()
        .is_symlink());
}

#[test]
fn a_committed_history_generation_never_restores_into_git() {
    let t = Test::new();
    cloned(&t, |dir| {
        agent_source(dir);
        write(dir, ".aiwg/history/1/blobs/0", "#!/bin/sh\necho PWNED\n");
        write(
            dir,
            ".aiwg/history/1/manifest.toml",
            "version = 1\ngeneration = 1\ncommand = \"apply\"\ntime = 1700000000\nlock_before = false\n\n[[path]]\npath = \".git/hooks/pre-commit\"\nbefore = \"blobs/0\"\nbefore_executable = true\n",
        );
    });
    let git_before = tree(&t.root().join(".git"));
    t.run(&["apply"]);
    let git_after_apply = tree(&t.root().join(".git"));
    // Whatever each answers (the foreign generation is ignored; the victim's own apply may
    // be rolled back), nothing reaches into `.git`.
    for args in [
        &["rollback"][..],
        &["rollback", "--force"],
        &["rollback", "--to", "1"],
    ] {
        t.run(args);
    }
    assert!(!t.root().join(".git/hooks/pre-commit").exists());
    let mut after = tree(&t.root().join(".git"));
    // Apply may add aiwg's lines to `.git/info/exclude`, the one file it edits there.
    after.remove("info/exclude");
    let mut before = git_before;
    before.remove("info/exclude");
    assert_eq!(after, before, ".git changed");
    assert_eq!(
        tree(&t.root().join(".git")).get("info/exclude"),
        git_after_apply.get("info/exclude")
    );
}

/// The pid of a process that has ended.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn temp_files_of_a_killed_run_are_reported_by_check_and_removed_by_apply() {
    let t = Test::new();
    agent_source(&t.root());
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let dead = dead_pid();
    let live = std::process::id();
    let debris = [
        format!(".claude/agents/.a1.md.aiwg-tmp.{dead}.3"),
        format!(".aiwg.lock.aiwg-tmp.{dead}.9"),
        format!(".aiwg/history/.x.aiwg-tmp.{dead}.1"),
    ];
    for path in &debris {
        t.write(path, "half");
    }
    let alive = format!(".claude/agents/.b.md.aiwg-tmp.{live}.1");
    t.write(&alive, "in progress");
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 1, "{out}{err}");
    for path in &debris {
        assert!(out.contains(&format!("stray\t{path}")), "{path}: {out}");
    }
    assert!(
        !out.contains(".b.md"),
        "a live writer's temp file is not debris: {out}"
    );
    assert!(err.contains("temp files a killed aiwg left"), "{err}");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    for path in &debris {
        assert!(!t.exists(path), "{path} was left");
    }
    assert!(t.exists(&alive));
    std::fs::remove_file(t.root().join(&alive)).unwrap();
    let (code, out, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Every path below `dir` (outside `.git`) whose name marks an aiwg temp file.
fn temp_files(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_keys()
        .filter(|p| !p.starts_with(".git/") && p.contains(".aiwg-tmp."))
        .collect()
}

#[test]
fn sigkill_at_random_points_converges_and_leaves_no_temp_files() {
    let t = Test::new();
    t.write(
        "aiwg.toml",
        "sources = [\"sdlc\"]\nplatforms = [\"claude-code\", \"codex\", \"cursor\", \"copilot\", \"opencode\", \"agents-md\"]\n",
    );
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Kill points spread over one whole apply, timed here on this machine.
    let started = std::time::Instant::now();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let span = (started.elapsed().as_millis() as u64).max(5);
    let (code, _, err) = t.run(&["uninstall", "--keep-config"]);
    assert_eq!(code, 0, "{err}");
    for round in 0..12 {
        // Alternate a first deploy with a re-deploy after a source change, so kills land in
        // creates, updates and deletes.
        if round % 2 == 1 {
            let (code, _, err) = t.run(&["uninstall", "--keep-config"]);
            assert_eq!(code, 0, "seed {seed} round {round}: {err}");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_aiwg"))
            .arg("apply")
            .current_dir(t.root())
            .env("HOME", t.home())
            .env("AIWG_HOME", t.home())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(next() % span));
        let _ = child.kill();
        let _ = child.wait();
        let (code, _, err) = t.run(&["apply"]);
        assert_eq!(code, 0, "seed {seed} round {round}: {err}");
        assert_eq!(
            temp_files(&t.root()),
            Vec::<String>::new(),
            "seed {seed} round {round}"
        );
        let (code, out, err) = t.run(&["check"]);
        assert_eq!(code, 0, "seed {seed} round {round}: {out}{err}");
    }
}

#[test]
fn user_scope_never_writes_into_aiwg_home_through_a_symlinked_client_folder() {
    // The tests' `AIWG_HOME` is the home folder itself: its trust records, per-project state
    // and history key sit beside the clients' folders and must stay out of reach.
    let t = Test::new();
    let home = t.home();
    // User scope reads `$AIWG_HOME/aiwg.toml`; its `.aiwg` source is the user's own.
    agent_source(&home);
    std::fs::create_dir_all(home.join("trust")).unwrap();
    std::fs::write(home.join("trust/keep.toml"), "kept\n").unwrap();
    symlink("trust", home.join(".claude")).unwrap();
    let (code, _, err) = t.run(&["apply", "--scope", "user", "--force"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("resolves to `trust/agents/a1.md`, inside aiwg's own state"),
        "{err}"
    );
    assert_eq!(
        tree(&home.join("trust")),
        BTreeMap::from([("keep.toml".to_string(), b"kept\n".to_vec())])
    );
}
