//! A bounded SIGKILL loop on the real binary in a clone: `apply` and `rollback` are killed at
//! random points, and the next plain run of the same command must converge to exactly the tree
//! an uninterrupted run leaves (byte for byte, modes included), with no temp file left and
//! nothing outside the work tree touched. (The apply-only loop of `fs_guard` covers `check`.)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::repo::{walk, Hostile, Snapshot};

const PLATFORMS: &str =
    "[\"claude-code\", \"codex\", \"cursor\", \"copilot\", \"opencode\", \"agents-md\", \"warp\"]";
const ROUNDS: u64 = 8;

/// The work tree without `.git/` and `.aiwg/` (aiwg's history differs by design: an
/// interrupted run leaves a generation the finishing run resumes). Temp files aiwg writes in
/// `.aiwg/` are looked for separately.
fn tree(h: &Hostile) -> Snapshot {
    let mut snap = Snapshot::new();
    walk(&h.victim(), &mut snap);
    let root = h.victim();
    snap.retain(|p, _| !p.starts_with(root.join(".git")) && !p.starts_with(root.join(".aiwg")));
    snap
}

/// Temp files anywhere in the clone but `.git/`.
fn temp_files(h: &Hostile) -> Vec<String> {
    let mut snap = Snapshot::new();
    walk(&h.victim(), &mut snap);
    snap.keys()
        .filter(|p| !p.starts_with(h.victim().join(".git")))
        .map(|p| p.display().to_string())
        .filter(|p| p.contains(".aiwg-tmp."))
        .collect()
}

/// Starts `aiwg args` in the clone and kills it after `delay`.
fn killed(h: &Hostile, args: &[&str], delay: Duration) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aiwg"))
        .args(args)
        .current_dir(h.victim())
        .env("HOME", h.home())
        .env("AIWG_HOME", h.aiwg_home())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

fn ok(h: &Hostile, args: &[&str], context: &str) {
    let out = h.run(args);
    assert_eq!(out.code, 0, "{context}: {args:?}: {}", out.stderr);
}

#[test]
fn sigkill_during_apply_and_rollback_converges_to_the_uninterrupted_tree() {
    let h = Hostile::new();
    h.write(
        "aiwg.toml",
        format!("sources = [\"sdlc\"]\nplatforms = {PLATFORMS}\n"),
    )
    .write("AGENTS.md", "# Ours\n\nKeep this.\n")
    .write(
        ".claude/settings.json",
        "{\n  // mine\n  \"theme\": \"dark\",\n}\n",
    );
    h.clone_as_teammate(&[]);
    let outside = h.outside();
    let before = tree(&h);
    // The two trees every interrupted run must converge to, and the time one run takes.
    let started = Instant::now();
    ok(&h, &["apply"], "reference apply");
    let span = started.elapsed().as_millis().max(5) as u64;
    let applied = tree(&h);
    ok(&h, &["rollback"], "reference rollback");
    assert_eq!(tree(&h), before, "rollback is the identity");
    let seed = Instant::now().elapsed().subsec_nanos() as u64
        ^ std::process::id() as u64
        ^ span.rotate_left(17);
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % span
    };
    for round in 0..ROUNDS {
        let context = format!("seed {seed} round {round}");
        killed(&h, &["apply"], Duration::from_millis(next()));
        ok(&h, &["apply"], &context);
        let now = tree(&h);
        assert_eq!(temp_files(&h), Vec::<String>::new(), "{context}");
        assert_eq!(now, applied, "{context}: apply did not converge");
        ok(&h, &["check"], &context);
        killed(&h, &["rollback"], Duration::from_millis(next()));
        // The killed rollback either finished, or left an interrupted rollback that the next
        // `rollback` finishes; or it was killed before it began, and `rollback` does it all.
        let out = h.run(&["rollback", "--list"]);
        let finished = out
            .stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("rollback") && !l.contains("interrupted"));
        if !finished || tree(&h) != before {
            ok(&h, &["rollback"], &context);
        }
        let now = tree(&h);
        assert_eq!(temp_files(&h), Vec::<String>::new(), "{context}");
        assert_eq!(now, before, "{context}: rollback did not converge");
    }
    h.assert_contained(&outside);
}
