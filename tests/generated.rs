//! `generated = "ignore"` end to end in real git repositories (local only): a fresh clone
//! deploys itself on checkout and pull through the hooks the user installed and `git status`
//! stays clean; `aiwg check` in an undeployed clone checks the lock against the sources;
//! `aiwg generated ignore|commit` switches both ways losing nothing, shared files staying
//! tracked; a `.gitignore` symlink never redirects the write; a clone that needs consent
//! fails closed in the hook.

use std::path::{Path, PathBuf};

use crate::hook::{git, git_in};
use crate::support::Test;

const REVIEWER: &str = "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n";
const CONFIG: &str = "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"agents-md\"]\n";
const WHOLE: [&str; 2] = [".claude/agents/reviewer.md", ".claude/rules/helper.md"];

/// A committed repository deploying an agent and a rule: whole files in `.claude/`, a
/// section of the user's own `AGENTS.md`.
fn committed() -> Test {
    let t = Test::new();
    git(&t, &["init", "-q", "-b", "main"]);
    let (code, _, err) = t.run(&["new", "rule", "helper"]);
    assert_eq!(code, 0, "{err}");
    t.write("aiwg.toml", CONFIG)
        .write(".aiwg/agents/reviewer.md", REVIEWER)
        .write("AGENTS.md", "# Ours\n\nBuild with make.\n");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "init"]);
    t
}

fn run_in(t: &Test, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = t.aiwg(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn git_ok(t: &Test, dir: &Path, args: &[&str]) -> String {
    let out = git_in(t, dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn block(paths: &[&str]) -> String {
    let mut out = "# aiwg:begin generated\n# The files aiwg generates (`generated = \"ignore\"` in aiwg.toml); `aiwg apply` rewrites this block.\n".to_string();
    for p in paths {
        out.push_str(&format!("/{p}\n"));
    }
    out + "# aiwg:end generated\n"
}

fn files(root: &Path, paths: &[&str]) -> Vec<(String, Option<Vec<u8>>)> {
    paths
        .iter()
        .map(|p| (p.to_string(), std::fs::read(root.join(p)).ok()))
        .collect()
}

#[test]
fn switching_both_ways_loses_nothing_and_shared_files_stay_tracked() {
    let t = committed();
    let all = [WHOLE[0], WHOLE[1], "AGENTS.md", "aiwg.lock"];
    let before = files(&t.root(), &all);

    let (code, _, err) = t.run(&["generated", "ignore"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("untracked 2 generated files"), "{err}");
    assert!(err.contains("1 shared file stay"), "{err}");
    assert!(err.contains("hint: `aiwg hook install`"), "{err}");
    assert_eq!(files(&t.root(), &all), before, "a working file changed");
    assert_eq!(t.read(".gitignore"), block(&WHOLE));
    assert!(t.read("aiwg.toml").contains("generated = \"ignore\""));
    // What `git status` shows: the whole files leave the index, nothing else changes.
    assert_eq!(
        git(&t, &["status", "--porcelain"]),
        format!(
            "D  {}\nD  {}\n M aiwg.toml\n?? .gitignore\n",
            WHOLE[0], WHOLE[1]
        )
    );
    // The shared file and the lock stay tracked.
    let tracked = git(&t, &["ls-files"]);
    assert!(
        tracked.contains("AGENTS.md\n") && tracked.contains("aiwg.lock\n"),
        "{tracked}"
    );
    assert!(!tracked.contains(".claude/"), "{tracked}");
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "ignore"]);
    assert_eq!(git(&t, &["status", "--porcelain"]), "");

    // A second apply changes nothing; a new artifact joins the block in order, a removed
    // one leaves it.
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(".gitignore"), "{err}");
    t.write(
        ".aiwg/agents/auditor.md",
        &REVIEWER.replace("reviewer", "auditor"),
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3 generated files kept out of git"), "{err}");
    assert_eq!(
        t.read(".gitignore"),
        block(&[".claude/agents/auditor.md", WHOLE[0], WHOLE[1]])
    );
    // A rollback takes the undone file's line out (it renders nothing, so it adds none).
    let (code, _, err) = t.run(&["rollback"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists(".claude/agents/auditor.md"));
    assert_eq!(t.read(".gitignore"), block(&WHOLE));
    std::fs::remove_file(t.root().join(".aiwg/agents/auditor.md")).unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".gitignore"), block(&WHOLE));
    assert_eq!(git(&t, &["status", "--porcelain"]), "");

    // The pre-commit check of what is staged works the same: the ignored files are not in
    // the index, the staged lock must say what the staged sources render.
    let (code, _, err) = t.run(&["hook", "install"]);
    assert_eq!(code, 0, "{err}");
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    git(&t, &["add", ".aiwg"]);
    let out = git_in(&t, &t.root(), &["commit", "-qm", "source only"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("outdated\t{}", WHOLE[0])),
        "{stderr}"
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    git(&t, &["add", "aiwg.lock"]);
    git(&t, &["commit", "-qm", "source and lock"]);
    assert_eq!(git(&t, &["status", "--porcelain"]), "");
    let before = files(&t.root(), &all);

    // Back to commit: the block goes, the files are untracked for the user to add.
    let (code, _, err) = t.run(&["generated", "commit"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 generated files are now untracked"), "{err}");
    assert_eq!(files(&t.root(), &all), before, "a working file changed");
    assert!(!t.exists(".gitignore"));
    assert_eq!(t.read("aiwg.toml"), CONFIG);
    assert_eq!(
        git(&t, &["status", "--porcelain", "-uall"]),
        format!(
            " D .gitignore\n M aiwg.toml\n?? {}\n?? {}\n",
            WHOLE[0], WHOLE[1]
        )
    );
    git(&t, &["add", "-A"]);
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_fresh_clone_deploys_itself_on_checkout_and_pull_and_stays_clean() {
    let t = committed();
    let (code, _, err) = t.run(&["generated", "ignore"]);
    assert_eq!(code, 0, "{err}");
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "ignore"]);
    let clone: PathBuf = t.home().join("clone");
    git_ok(
        &t,
        &t.home(),
        &["clone", "-q", t.root().to_str().unwrap(), "clone"],
    );
    for p in WHOLE {
        assert!(!clone.join(p).exists(), "{p} came with the clone");
    }
    // CI in ignore mode: nothing deployed, and the committed lock matches the sources.
    let (code, out, err) = run_in(&t, &clone, &["check"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");

    let (_, out, _) = run_in(&t, &clone, &["doctor"]);
    assert!(
        out.contains("no post-checkout and post-merge hooks"),
        "{out}"
    );
    let (code, _, err) = run_in(&t, &clone, &["hook", "install"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("installed `aiwg apply -q` in `.git/hooks/post-checkout`"),
        "{err}"
    );
    assert!(err.contains("post-merge"), "{err}");
    let (_, out, _) = run_in(&t, &clone, &["doctor"]);
    assert!(
        out.contains("the post-checkout and post-merge hooks deploy them"),
        "{out}"
    );
    // A file checkout does not deploy; a branch checkout does.
    git_ok(&t, &clone, &["checkout", "-q", "--", "AGENTS.md"]);
    assert!(!clone.join(WHOLE[0]).exists());
    git_ok(&t, &clone, &["checkout", "-q", "-b", "feature"]);
    assert_eq!(
        files(&clone, &WHOLE),
        files(&t.root(), &WHOLE),
        "the checkout did not deploy"
    );
    assert_eq!(git_ok(&t, &clone, &["status", "--porcelain", "-uall"]), "");

    // A pull that brings a new artifact deploys it (post-merge), still clean.
    t.write(
        ".aiwg/agents/auditor.md",
        &REVIEWER.replace("reviewer", "auditor"),
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "auditor"]);
    git_ok(&t, &clone, &["pull", "-q", "--no-rebase", "origin", "main"]);
    assert!(clone.join(".claude/agents/auditor.md").is_file());
    assert_eq!(git_ok(&t, &clone, &["status", "--porcelain", "-uall"]), "");
    let (code, out, err) = run_in(&t, &clone, &["check"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");

    // Uninstall leaves nothing of aiwg: no block, no hook blocks.
    let (code, _, err) = run_in(&t, &clone, &["uninstall", "--keep-config"]);
    assert_eq!(code, 0, "{err}");
    assert!(!clone.join(".gitignore").exists(), "{err}");
    for hook in ["pre-commit", "post-checkout", "post-merge"] {
        assert!(
            !clone.join(".git/hooks").join(hook).exists(),
            "{hook}: {err}"
        );
    }
}

#[test]
fn check_in_an_undeployed_clone_reports_a_lock_behind_its_sources() {
    let t = committed();
    let (code, _, err) = t.run(&["generated", "ignore"]);
    assert_eq!(code, 0, "{err}");
    // A source changed and committed without `aiwg apply`: the lock no longer says what the
    // sources render, and a clone (where nothing is deployed) sees it.
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "edit"]);
    let clone = t.home().join("clone");
    git_ok(
        &t,
        &t.home(),
        &["clone", "-q", t.root().to_str().unwrap(), "clone"],
    );
    let (code, out, _) = run_in(&t, &clone, &["check"]);
    assert_eq!(code, 1);
    assert_eq!(out, format!("outdated\t{}\n", WHOLE[0]));
    // The pre-commit hook in apply mode stages the lock and `.gitignore`, never an ignored file.
    let (code, _, err) = t.run(&["hook", "install", "--mode", "apply"]);
    assert_eq!(code, 0, "{err}");
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "thrice"),
    );
    t.write(
        ".aiwg/agents/auditor.md",
        &REVIEWER.replace("reviewer", "auditor"),
    );
    git(&t, &["add", ".aiwg"]);
    git_ok(&t, &t.root(), &["commit", "-qm", "more"]);
    let shown = git(&t, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        shown,
        ".aiwg/agents/auditor.md\n.aiwg/agents/reviewer.md\n.gitignore\naiwg.lock\n"
    );
    assert_eq!(git(&t, &["status", "--porcelain", "-uall"]), "");
    // Removing the source removes its files and their lines: the block, then `.gitignore`.
    let (code, _, err) = t.run(&["remove", ".aiwg"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("removed aiwg's block from `.gitignore`"),
        "{err}"
    );
    assert!(!t.exists(".gitignore") && !t.exists(WHOLE[0]));
}

#[test]
fn a_symlinked_gitignore_is_never_written_through() {
    let t = committed();
    let outside = t.home().join("victim.txt");
    std::fs::write(&outside, "mine\n").unwrap();
    std::fs::write(
        t.root().join("aiwg.toml"),
        format!("{CONFIG}generated = \"ignore\"\n"),
    )
    .unwrap();
    for target in [
        outside.to_str().unwrap(),
        ".git/info/exclude",
        ".git/hooks/post-checkout",
    ] {
        let _ = std::fs::remove_file(t.root().join(".gitignore"));
        std::os::unix::fs::symlink(target, t.root().join(".gitignore")).unwrap();
        std::fs::remove_file(t.root().join(WHOLE[0])).unwrap();
        let exclude = std::fs::read(t.root().join(".git/info/exclude")).ok();
        let (code, _, err) = t.run(&["apply"]);
        assert_eq!(code, 2, "{target}: {err}");
        assert!(
            err.contains("`.gitignore` is a symlink") && err.contains("hint:"),
            "{err}"
        );
        // Stopped before any write: the removed file is not back, nothing behind the link.
        assert!(!t.exists(WHOLE[0]), "{target}: apply wrote before refusing");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "mine\n");
        assert_eq!(
            std::fs::read(t.root().join(".git/info/exclude")).ok(),
            exclude
        );
        assert!(!t.root().join(".git/hooks/post-checkout").exists());
        assert!(std::fs::symlink_metadata(t.root().join(".gitignore"))
            .unwrap()
            .file_type()
            .is_symlink());
        let (code, _, err) = t.run(&["generated", "ignore"]);
        assert_eq!(code, 2, "{err}");
        // In commit mode aiwg has nothing to write there, and leaves the link alone.
        let (code, _, err) = t.run(&["generated", "commit"]);
        assert_eq!(code, 0, "{err}");
        assert!(t.exists(WHOLE[0]));
        std::fs::write(
            t.root().join("aiwg.toml"),
            format!("{CONFIG}generated = \"ignore\"\n"),
        )
        .unwrap();
    }
}

#[test]
fn a_broken_block_is_refused_naming_its_line_before_anything_is_written() {
    let t = committed();
    t.write(
        ".gitignore",
        "target/\n# aiwg:begin generated\n/src/main.rs\n",
    );
    let (code, _, err) = t.run(&["generated", "ignore"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 2: `# aiwg:begin generated` has no `# aiwg:end generated`"),
        "{err}"
    );
    assert!(
        !t.read("aiwg.toml").contains("generated"),
        "aiwg.toml was written"
    );
    assert!(
        git(&t, &["ls-files"]).contains(WHOLE[0]),
        "a file was untracked"
    );
}

#[test]
fn a_hook_in_a_clone_that_needs_consent_fails_closed_and_says_so() {
    let t = committed();
    t.write(
        ".aiwg/behaviors/fmt/BEHAVIOR.md",
        "---\nname: fmt\ndescription: Formats code after each edit.\nevent: PreToolUse\nmatcher: Write|Edit\ncommand: scripts/fmt.sh\n---\n\n# fmt\n\nFormats.\n",
    )
    .write(".aiwg/behaviors/fmt/scripts/fmt.sh", "#!/bin/sh\ntouch pwned\n");
    let script = t.root().join(".aiwg/behaviors/fmt/scripts/fmt.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, _, err) = t.run(&["--allow-hooks", "generated", "ignore"]);
    assert_eq!(code, 0, "{err}");
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-qm", "hooks"]);
    let clone = t.home().join("clone");
    git_ok(
        &t,
        &t.home(),
        &["clone", "-q", t.root().to_str().unwrap(), "clone"],
    );
    let (code, _, err) = run_in(&t, &clone, &["hook", "install"]);
    assert_eq!(code, 0, "{err}");
    let out = git_in(&t, &clone, &["checkout", "-q", "-b", "feature"]);
    let err = String::from_utf8_lossy(&out.stderr);
    // git's checkout succeeds; aiwg deploys nothing and says why.
    assert!(out.status.success(), "{err}");
    assert!(err.contains("--allow-hooks"), "{err}");
    assert!(
        err.contains("the generated files were not deployed after post-checkout"),
        "{err}"
    );
    assert!(!clone.join(WHOLE[0]).exists());
    // The settings file is shared (merged keys) and stays committed; the script its entry
    // names is a whole file, ignored, and not deployed without consent.
    assert!(git_ok(&t, &clone, &["ls-files"]).contains(".claude/settings.json"));
    let script = git(
        &t,
        &[
            "ls-files",
            "--others",
            "--ignored",
            "--exclude-standard",
            ".claude",
        ],
    );
    let script = script
        .lines()
        .find(|l| l.contains("fmt.sh"))
        .expect("the script is ignored");
    assert!(t.exists(script) && !clone.join(script).exists(), "{script}");
}
