//! The stat cache of `aiwg check`, end to end: it is used when nothing changed, and every
//! change that can alter check's answer makes check read everything again and give the same
//! answer as a check without the cache.
//!
//! The racy window is shortened to [`RACY_MS`] (`AIWG_CHECK_RACY_MS`) and each change is
//! followed by [`settle`], which waits it out, instead of the real two seconds.

use std::path::Path;
use std::time::Duration;

use crate::support::{dead_pid, Test};

/// The racy window the tests run with.
const RACY_MS: u64 = 100;

/// Waits out the racy window (and any coarse file-system clock tick) after a change.
fn settle() {
    std::thread::sleep(Duration::from_millis(RACY_MS + 60));
}

/// A project with an agent, a skill with a script and a rule, deployed to Claude Code (whole
/// files) and Warp (sections of a shared `AGENTS.md` the user also writes in).
fn project() -> Test {
    let t = Test::new();
    t.write("aiwg.toml", CONFIG)
        .write(".aiwg/agents/reviewer.md", REVIEWER)
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
        .write("AGENTS.md", "# Notes\n\nMine.\n");
    t
}

const CONFIG: &str = "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"warp\"]\n";
const REVIEWER: &str = "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n";

/// What a command did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The cache's trace line (`cache hit`, `cache miss (<why>)`, `cache off (...)`).
    fn lookup(&self) -> &str {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("check: cache "))
            .find(|r| r.starts_with("hit") || r.starts_with("miss") || r.starts_with("off"))
            .unwrap_or("")
    }

    fn wrote_cache(&self) -> bool {
        self.stderr.lines().any(|l| l == "check: cache written")
    }
}

/// `aiwg <args>` with the cache traced; `no_cache` turns it off.
fn aiwg(t: &Test, args: &[&str], no_cache: bool) -> Run {
    aiwg_racy(t, args, no_cache, RACY_MS)
}

/// [`aiwg`] with a racy window of `racy_ms`.
fn aiwg_racy(t: &Test, args: &[&str], no_cache: bool, racy_ms: u64) -> Run {
    let mut cmd = t.aiwg(args);
    cmd.env("AIWG_CHECK_CACHE_TRACE", "1")
        .env("AIWG_CHECK_RACY_MS", racy_ms.to_string());
    if no_cache {
        cmd.env("AIWG_NO_CHECK_CACHE", "1");
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Applies, waits out the racy window, runs the check that records the cache and the one
/// that uses it.
fn primed() -> Test {
    let t = project();
    let applied = aiwg(&t, &["apply"], false);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    settle();
    let first = aiwg(&t, &["check"], false);
    assert_eq!((first.code, first.stdout.as_str()), (0, ""), "{first:?}");
    assert!(first.wrote_cache(), "{}", first.stderr);
    let hit = aiwg(&t, &["check"], false);
    assert_eq!((hit.code, hit.stdout.as_str()), (0, ""), "{hit:?}");
    assert_eq!(hit.lookup(), "hit", "{}", hit.stderr);
    t
}

/// After a change: a check with the cache must miss (with a reason containing `why`) and
/// answer what a check without the cache answers; returns that answer's stdout.
fn expect_miss(t: &Test, args: &[&str], why: &str) -> String {
    let cached = aiwg(t, args, false);
    let full = aiwg(t, args, true);
    assert!(
        cached.lookup().starts_with("miss") && cached.lookup().contains(why),
        "expected a miss ({why}): {}",
        cached.stderr
    );
    assert_eq!(
        full.lookup(),
        "off (AIWG_NO_CHECK_CACHE)",
        "{}",
        full.stderr
    );
    assert_eq!(
        (cached.code, &cached.stdout),
        (full.code, &full.stdout),
        "the cache changed the answer"
    );
    cached.stdout
}

fn cache_file(t: &Test) -> std::path::PathBuf {
    t.root().join(".aiwg/check-cache")
}

/// Replaces text line `n` of the cache (0-based; the header and key lines come first, before
/// the binary body) by `f(line)`.
fn edit_cache_line(t: &Test, n: usize, f: impl Fn(&str) -> String) {
    let bytes = std::fs::read(cache_file(t)).unwrap();
    let mut start = 0;
    for _ in 0..n {
        start += bytes[start..].iter().position(|&b| b == b'\n').unwrap() + 1;
    }
    let end = start + bytes[start..].iter().position(|&b| b == b'\n').unwrap();
    let line = std::str::from_utf8(&bytes[start..end]).unwrap();
    let mut out = bytes[..start].to_vec();
    out.extend_from_slice(f(line).as_bytes());
    out.extend_from_slice(&bytes[end..]);
    std::fs::write(cache_file(t), out).unwrap();
}

/// The bytes of a cache entry before its name (check_cache.rs's `ENTRY_HEAD`): kind, racy
/// flag and file type, then dev, ino, mode, size, mtime, ctime and the name's length.
const ENTRY_HEAD: usize = 3 + 8 + 8 + 4 + 8 + 8 + 8 + 2;

fn mtime(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn a_clean_project_is_answered_from_the_cache_with_the_same_output() {
    let t = primed();
    let hit = aiwg(&t, &["check", "--json"], false);
    let full = aiwg(&t, &["check", "--json"], true);
    assert_eq!(hit.lookup(), "hit", "{}", hit.stderr);
    assert_eq!((hit.code, &hit.stdout), (full.code, &full.stdout));
    assert!(hit.stdout.contains("\"clean\": true"), "{}", hit.stdout);
    // The cache is git-ignored like the history (no `.git` here: through `.gitignore`).
    let ignore = t.read(".gitignore");
    assert!(
        ignore.lines().any(|l| l == "/.aiwg/check-cache"),
        "{ignore}"
    );
    // Other commands never use it.
    for cmd in ["status", "diff", "plan"] {
        let run = aiwg(&t, &[cmd], false);
        assert_eq!(run.lookup(), "", "{cmd}: {}", run.stderr);
    }
}

#[test]
fn an_edit_with_the_same_size_and_mtime_is_caught_by_ctime() {
    let t = primed();
    let path = t.root().join(".claude/agents/reviewer.md");
    let before = std::fs::read(&path).unwrap();
    let old_mtime = mtime(&path);
    let mut after = before.clone();
    let last = after.len() - 2;
    after[last] = if after[last] == b'X' { b'Y' } else { b'X' };
    std::fs::write(&path, &after).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_times(std::fs::FileTimes::new().set_modified(old_mtime))
        .unwrap();
    drop(file);
    assert_eq!(mtime(&path), old_mtime);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len() as usize,
        before.len()
    );
    let out = expect_miss(&t, &["check"], "reviewer.md` changed");
    assert_eq!(out, "edited\t.claude/agents/reviewer.md\n");
}

#[test]
fn deleting_a_managed_file_is_caught() {
    let t = primed();
    std::fs::remove_file(t.root().join(".claude/agents/reviewer.md")).unwrap();
    let out = expect_miss(&t, &["check"], "reviewer.md` changed");
    assert_eq!(out, "missing\t.claude/agents/reviewer.md\n");
}

#[test]
fn a_new_source_file_is_caught() {
    let t = primed();
    t.write(
        ".aiwg/agents/writer.md",
        "---\nname: writer\ndescription: Writes docs\n---\nWrite.\n",
    );
    let out = expect_miss(&t, &["check"], ".aiwg/agents` changed");
    assert!(out.contains("missing\t.claude/agents/writer.md"), "{out}");
}

#[test]
fn an_edited_source_file_is_caught() {
    let t = primed();
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("code", "CODE"),
    );
    let out = expect_miss(&t, &["check"], "reviewer.md` changed");
    assert!(
        out.contains("outdated\t.claude/agents/reviewer.md"),
        "{out}"
    );
}

#[test]
fn a_renamed_source_file_is_caught() {
    let t = primed();
    std::fs::rename(
        t.root().join(".aiwg/agents/reviewer.md"),
        t.root().join(".aiwg/agents/critic.md"),
    )
    .unwrap();
    settle();
    let out = expect_miss(&t, &["check"], "changed");
    // The name comes from the frontmatter: the rename changes nothing deployed.
    assert_eq!(out, "");
    // Renamed into a folder the loader skips, it is gone.
    std::fs::create_dir_all(t.root().join(".aiwg/agents/old")).unwrap();
    std::fs::rename(
        t.root().join(".aiwg/agents/critic.md"),
        t.root().join(".aiwg/agents/old/critic.md"),
    )
    .unwrap();
    settle();
    let out = expect_miss(&t, &["check"], "changed");
    assert!(out.contains("stale\t.claude/agents/reviewer.md"), "{out}");
}

#[test]
fn a_changed_config_is_caught() {
    let t = primed();
    t.write(
        "aiwg.toml",
        &CONFIG.replace("\"warp\"", "\"warp\", \"cursor\""),
    );
    let out = expect_miss(&t, &["check"], "config differs");
    assert!(out.contains("missing\t.cursor/"), "{out}");
}

#[test]
fn platform_filters_and_scope_flags_share_or_separate_the_cache() {
    let t = primed();
    // `--platforms` narrows the run: a clean project is clean for any of its platforms.
    let filtered = aiwg(&t, &["check", "--platforms", "claude-code"], false);
    assert_eq!(
        (filtered.code, filtered.lookup()),
        (0, "hit"),
        "{filtered:?}"
    );
    // A filtered full check never records the cache (it read part of the project).
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("carefully", "twice"),
    );
    settle();
    let filtered = aiwg(&t, &["check", "--platforms", "warp"], false);
    assert!(!filtered.wrote_cache(), "{filtered:?}");
    let out = expect_miss(&t, &["check", "--platforms", "warp"], "changed");
    // Warp takes agents as skills: its copy of the reviewer is outdated, Claude's is not looked at.
    assert!(
        out.contains("outdated\t.agents/skills/reviewer/SKILL.md"),
        "{out}"
    );
    assert!(!out.contains(".claude"), "{out}");
    t.write(".aiwg/agents/reviewer.md", REVIEWER);
    settle();
    // User scope keeps its cache beside its lock in `AIWG_HOME`: there is none yet.
    t.user_config(&["claude-code"]);
    let out = expect_miss(&t, &["check", "--scope", "user"], "no cache");
    assert!(out.contains("missing\t"), "{out}");
    // The project's own cache is as the filtered run left it: stale (the reviewer was
    // rewritten), so a whole check reads everything, records it, and the next one hits.
    let whole = aiwg(&t, &["check"], false);
    assert!(
        whole.lookup().starts_with("miss") && whole.wrote_cache(),
        "{whole:?}"
    );
    assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit");
}

#[test]
fn user_scope_keeps_its_cache_beside_its_lock() {
    let t = project();
    t.user_config(&["claude-code", "warp"]);
    assert_eq!(aiwg(&t, &["apply", "--scope", "user"], false).code, 0);
    settle();
    let first = aiwg(&t, &["check", "--scope", "user"], false);
    assert!(first.wrote_cache(), "{}", first.stderr);
    assert!(crate::support::user_state_dir(&t.home())
        .join("check-cache")
        .is_file());
    assert!(!cache_file(&t).exists() && !t.exists(".gitignore"));
    let hit = aiwg(&t, &["check", "--scope", "user"], false);
    assert_eq!((hit.code, hit.lookup()), (0, "hit"), "{}", hit.stderr);
    std::fs::remove_file(t.home().join(".claude/agents/reviewer.md")).unwrap();
    let out = expect_miss(&t, &["check", "--scope", "user"], "reviewer.md` changed");
    assert!(out.contains("missing\t"), "{out}");
}

#[test]
fn touching_the_lock_is_caught() {
    let t = primed();
    let lock = t.root().join("aiwg.lock");
    let file = std::fs::File::options().write(true).open(&lock).unwrap();
    file.set_times(std::fs::FileTimes::new().set_modified(mtime(&lock)))
        .unwrap();
    drop(file);
    expect_miss(&t, &["check"], "aiwg.lock` changed");
}

#[test]
fn a_bad_cache_is_a_miss_never_an_error_and_is_rewritten() {
    let t = primed();
    // Another binary (its identity is the first key line).
    edit_cache_line(&t, 1, |l| l.replace("binary\t", "binary\t9"));
    expect_miss(&t, &["check"], "binary differs");
    assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit", "rewritten");
    // A newer format.
    edit_cache_line(&t, 0, |_| "aiwg-check-cache\t99".into());
    expect_miss(&t, &["check"], "another format");
    // Garbage, a truncated file, an entry that does not parse.
    for garbage in [&b"\xff\xfe garbage"[..], b"", b"aiwg-check-cache\t1\n"] {
        std::fs::write(cache_file(&t), garbage).unwrap();
        expect_miss(&t, &["check"], "");
    }
    assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit");
    let bytes = std::fs::read(cache_file(&t)).unwrap();
    std::fs::write(cache_file(&t), &bytes[..bytes.len() - 10]).unwrap();
    expect_miss(&t, &["check"], "corrupt cache (truncated)");
    let mut longer = bytes.clone();
    longer.push(b'f');
    std::fs::write(cache_file(&t), longer).unwrap();
    expect_miss(&t, &["check"], "corrupt cache (trailing bytes)");
    // A recorded stat that was changed by hand.
    assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit");
    let mut bytes = std::fs::read(cache_file(&t)).unwrap();
    let name = b"reviewer.md";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
    // The entry's name ends with it (it may be `agents/reviewer.md`): where its length says.
    let end = at + name.len();
    let start = (at.saturating_sub(200)..=at)
        .rev()
        .find(|&k| k >= 2 && u16::from_le_bytes([bytes[k - 2], bytes[k - 1]]) as usize == end - k)
        .unwrap();
    let flag = start - ENTRY_HEAD + 1;
    assert_eq!(
        bytes[flag], b'.',
        "the racy flag of the first reviewer.md entry"
    );
    bytes[flag] = b'r';
    std::fs::write(cache_file(&t), &bytes).unwrap();
    expect_miss(&t, &["check"], "racy entry");
    // Any recorded stat changed: a miss.
    bytes[flag] = b'.';
    bytes[flag + 2 + 8] ^= 1;
    std::fs::write(cache_file(&t), &bytes).unwrap();
    expect_miss(&t, &["check"], "reviewer.md` changed");
}

#[test]
fn files_written_within_the_racy_window_are_not_trusted() {
    let t = project();
    assert_eq!(aiwg(&t, &["apply"], false).code, 0);
    // No settle, and a long window: the files apply wrote are too new to trust.
    let first = aiwg_racy(&t, &["check"], false, 60_000);
    assert!(first.wrote_cache(), "{}", first.stderr);
    assert!(
        first.stderr.contains("cache entries are racy"),
        "{}",
        first.stderr
    );
    let second = aiwg_racy(&t, &["check"], false, 60_000);
    assert!(
        second.lookup().starts_with("miss (racy entry"),
        "{}",
        second.stderr
    );
    assert_eq!((second.code, second.stdout.as_str()), (0, ""));
}

#[test]
fn apply_records_the_cache_only_when_it_wrote_nothing_and_never_on_a_dry_run() {
    let t = primed();
    std::fs::remove_file(cache_file(&t)).unwrap();
    let dry = aiwg(&t, &["apply", "--dry-run"], false);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(!cache_file(&t).exists(), "a dry run wrote the cache");
    let noop = aiwg(&t, &["apply"], false);
    assert!(noop.wrote_cache(), "{}", noop.stderr);
    assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit");
    // An apply that writes does not record it (its files would all be racy).
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("code", "CODE"),
    );
    let wrote = aiwg(&t, &["apply"], false);
    assert_eq!(wrote.code, 0, "{}", wrote.stderr);
    assert!(!wrote.wrote_cache(), "{}", wrote.stderr);
    expect_miss(&t, &["check"], "changed");
}

#[test]
fn the_cache_can_be_turned_off_and_a_project_never_deployed_gets_none() {
    let t = project();
    let run = aiwg(&t, &["check"], false);
    assert_eq!(run.code, 1);
    assert!(!cache_file(&t).exists());
    assert_eq!(aiwg(&t, &["apply"], false).code, 0);
    settle();
    let off = aiwg(&t, &["check"], true);
    assert_eq!((off.code, off.lookup()), (0, "off (AIWG_NO_CHECK_CACHE)"));
    assert!(!cache_file(&t).exists(), "written while turned off");
}

#[cfg(unix)]
#[test]
fn a_symlink_in_a_source_means_no_cache() {
    let t = project();
    std::os::unix::fs::symlink("testing.md", t.root().join(".aiwg/rules/also.md")).unwrap();
    assert_eq!(aiwg(&t, &["apply"], false).code, 0);
    settle();
    let run = aiwg(&t, &["check"], false);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("cache not written (") && run.stderr.contains("symlink"),
        "{}",
        run.stderr
    );
    assert!(!cache_file(&t).exists());
}

/// A tiny deterministic generator (xorshift), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One random change to the project (sources, config, deployed files, the lock), described.
fn random_change(t: &Test, rng: &mut Rng) -> String {
    let managed = [
        ".claude/agents/reviewer.md",
        ".claude/skills/release/SKILL.md",
        ".claude/skills/release/scripts/tag.sh",
        "AGENTS.md",
    ];
    match rng.below(10) {
        0 => {
            let path = managed[rng.below(managed.len())];
            if t.exists(path) {
                let mut text = t.read(path);
                text.push('x');
                t.write(path, &text);
            }
            format!("append to {path}")
        }
        1 => {
            let path = managed[rng.below(managed.len())];
            let _ = std::fs::remove_file(t.root().join(path));
            format!("delete {path}")
        }
        2 => {
            let path = managed[rng.below(managed.len())];
            if t.exists(path) {
                // The same bytes again: a new ctime, the same answer.
                let bytes = std::fs::read(t.root().join(path)).unwrap();
                std::fs::write(t.root().join(path), bytes).unwrap();
            }
            format!("rewrite {path} unchanged")
        }
        3 => {
            let word = ["code", "CODE", "Code"][rng.below(3)];
            t.write(".aiwg/agents/reviewer.md", &REVIEWER.replace("code", word));
            format!("reviewer says {word}")
        }
        4 => {
            let path = t.root().join(".aiwg/agents/writer.md");
            if path.exists() {
                std::fs::remove_file(path).unwrap();
                "remove writer".into()
            } else {
                t.write(
                    ".aiwg/agents/writer.md",
                    "---\nname: writer\ndescription: Writes\n---\nWrite.\n",
                );
                "add writer".into()
            }
        }
        5 => {
            let config = [
                CONFIG,
                "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
                "# a comment\nsources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"warp\"]\n",
            ][rng.below(3)];
            t.write("aiwg.toml", config);
            format!("config {config:?}")
        }
        6 | 7 => {
            let run = aiwg(t, &["apply", "--force"], false);
            assert!(run.code < 2, "{}", run.stderr);
            "apply --force".into()
        }
        8 => {
            let mut text = t.read("AGENTS.md");
            text = text.replacen("Mine.", "Mine!", 1);
            t.write("AGENTS.md", &text);
            "user edits AGENTS.md".into()
        }
        _ => {
            let _ = std::fs::remove_file(cache_file(t));
            "delete the cache".into()
        }
    }
}

#[test]
fn with_and_without_the_cache_check_always_agrees() {
    let seed = 0x5eed_cafe_u64;
    let mut rng = Rng(seed);
    let t = primed();
    let mut hits = 0;
    let mut steps = Vec::new();
    for _ in 0..16 {
        steps.push(random_change(&t, &mut rng));
        settle();
        for args in [&["check"][..], &["check", "--json"]] {
            let full = aiwg(&t, args, true);
            // Twice with the cache: the first may record it, the second may use it.
            for _ in 0..2 {
                let cached = aiwg(&t, args, false);
                hits += usize::from(cached.lookup() == "hit");
                assert_eq!(
                    (cached.code, &cached.stdout),
                    (full.code, &full.stdout),
                    "seed {seed:#x}, after {steps:?}: {}",
                    cached.stderr
                );
            }
        }
    }
    assert!(hits > 0, "the cache was never used: {steps:?}");
}

/// The cache file's identity, mtime and ctime: equal when nothing wrote it.
fn cache_stamp(t: &Test) -> (u64, std::time::SystemTime, i64) {
    let meta = std::fs::symlink_metadata(cache_file(t)).unwrap();
    #[cfg(unix)]
    let (ino, ctime) = {
        use std::os::unix::fs::MetadataExt as _;
        (meta.ino(), meta.ctime() * 1_000_000_000 + meta.ctime_nsec())
    };
    #[cfg(not(unix))]
    let (ino, ctime) = (0, 0);
    (ino, meta.modified().unwrap(), ctime)
}

/// What a run printed on stderr, without the cache's trace lines.
fn said(run: &Run) -> String {
    run.stderr
        .lines()
        .filter(|l| !l.starts_with("check: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_no_change_apply_the_cache_vouches_for_writes_nothing_and_says_the_same() {
    let t = primed();
    let before = cache_stamp(&t);
    // An apply that does not ask the cache (`--force`) records the same bytes: left alone.
    let forced = aiwg(&t, &["apply", "--force"], false);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(
        forced.stderr.lines().any(|l| l == "check: cache unchanged"),
        "{}",
        forced.stderr
    );
    assert_eq!(cache_stamp(&t), before, "the cache file was rewritten");
    // A cache recorded by check does not vouch for apply: the first plain apply runs in
    // full and records that it found nothing to do.
    let full = aiwg(&t, &["apply"], false);
    assert_eq!(full.code, 0, "{}", full.stderr);
    assert!(
        full.stderr.contains("cache hit, recorded by check"),
        "{}",
        full.stderr
    );
    assert!(full.wrote_cache(), "{}", full.stderr);
    let recorded = cache_stamp(&t);
    // The next one answers from the cache, with the same words, and touches nothing.
    let fast = aiwg(&t, &["apply"], false);
    assert_eq!(fast.code, 0, "{}", fast.stderr);
    assert_eq!(
        fast.lookup(),
        "hit (apply: nothing to change)",
        "{}",
        fast.stderr
    );
    assert_eq!((said(&fast), &fast.stdout), (said(&full), &full.stdout));
    assert!(
        said(&fast).starts_with("nothing to change: "),
        "{}",
        fast.stderr
    );
    assert_eq!(cache_stamp(&t), recorded);
    assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit");
    // Flags that change what apply does, and a filter, always run in full.
    for args in [
        &["apply", "--dry-run"][..],
        &["apply", "--json"],
        &["apply", "--platforms", "warp"],
    ] {
        let run = aiwg(&t, args, false);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            !run.lookup().starts_with("hit (apply"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // After an edit, apply runs in full and writes.
    t.write(
        ".aiwg/agents/reviewer.md",
        &REVIEWER.replace("code", "CODE"),
    );
    settle();
    let wrote = aiwg(&t, &["apply"], false);
    assert_eq!(wrote.code, 0, "{}", wrote.stderr);
    assert!(wrote.lookup().starts_with("miss"), "{}", wrote.stderr);
    assert!(t.read(".claude/agents/reviewer.md").contains("CODE"));
    // A managed file edited by hand: apply runs in full and stops on it.
    settle();
    assert_eq!(aiwg(&t, &["apply"], false).code, 0);
    settle();
    assert_eq!(
        aiwg(&t, &["apply"], false).lookup(),
        "hit (apply: nothing to change)"
    );
    t.write(".claude/agents/reviewer.md", "mine\n");
    settle();
    let stopped = aiwg(&t, &["apply"], false);
    assert_eq!(stopped.code, 1, "{}", stopped.stderr);
    assert_eq!(t.read(".claude/agents/reviewer.md"), "mine\n");
}

/// A project whose deployed agents share one folder (the cache stats them through one
/// folder handle): every kind of change to one of them is caught.
#[test]
fn every_kind_of_change_in_a_folder_of_many_entries_is_caught() {
    let t = project();
    for i in 0..6 {
        t.write(
            &format!(".aiwg/agents/agent-{i}.md"),
            &format!("---\nname: agent-{i}\ndescription: Agent {i}\n---\nBody {i}.\n"),
        );
    }
    assert_eq!(aiwg(&t, &["apply"], false).code, 0);
    settle();
    let prime = |t: &Test| {
        let first = aiwg(t, &["check"], false);
        assert_eq!(first.code, 0, "{first:?}");
        assert_eq!(aiwg(t, &["check"], false).lookup(), "hit");
    };
    prime(&t);
    let target = t.root().join(".claude/agents/agent-3.md");
    // Same size, another byte.
    let bytes = std::fs::read(&target).unwrap();
    let mut other = bytes.clone();
    *other.last_mut().unwrap() = b'!';
    std::fs::write(&target, &other).unwrap();
    settle();
    let out = expect_miss(&t, &["check"], "agent-3.md` changed");
    assert_eq!(out, "edited\t.claude/agents/agent-3.md\n");
    std::fs::write(&target, &bytes).unwrap();
    settle();
    prime(&t);
    // Its mode.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        settle();
        expect_miss(&t, &["check"], "agent-3.md` changed");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        settle();
        prime(&t);
        // Replaced by a symlink to a file with the same bytes.
        std::fs::write(t.root().join("copy.md"), &bytes).unwrap();
        std::fs::remove_file(&target).unwrap();
        std::os::unix::fs::symlink(t.root().join("copy.md"), &target).unwrap();
        settle();
        expect_miss(&t, &["check"], "agent-3.md` changed");
        std::fs::remove_file(&target).unwrap();
        std::fs::write(&target, &bytes).unwrap();
        settle();
        prime(&t);
        // The folder moved away and a symlink to it put in its place: every file in it is
        // the same inode, untouched, yet the folder on the way is not the one recorded.
        let agents = t.root().join(".claude/agents");
        let moved = t.root().join(".claude/agents-moved");
        std::fs::rename(&agents, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &agents).unwrap();
        settle();
        expect_miss(&t, &["check"], "changed");
        std::fs::remove_file(&agents).unwrap();
        std::fs::rename(&moved, &agents).unwrap();
        settle();
        prime(&t);
    }
    // A file added beside them in the source folder, and one removed.
    t.write(
        ".aiwg/agents/agent-9.md",
        "---\nname: agent-9\ndescription: Nine\n---\nNine.\n",
    );
    settle();
    let out = expect_miss(&t, &["check"], ".aiwg/agents` changed");
    assert!(out.contains("missing\t.claude/agents/agent-9.md"), "{out}");
    std::fs::remove_file(t.root().join(".aiwg/agents/agent-9.md")).unwrap();
    std::fs::remove_file(t.root().join(".aiwg/agents/agent-1.md")).unwrap();
    settle();
    let out = expect_miss(&t, &["check"], "changed");
    assert!(out.contains("stale\t.claude/agents/agent-1.md"), "{out}");
}

/// A temp file a killed aiwg left (a rollback killed before its first rename, a second
/// check killed while saving the cache, a pull that brings one) makes a full check say
/// `stray` and a full apply remove it, wherever check looks for one: beside a managed file,
/// in the project root, beside the cache, in the history folder. The cache must not hide it
/// from check, nor let apply skip removing it.
#[test]
fn a_stray_temp_file_is_caught_wherever_check_looks_for_one() {
    let t = primed();
    assert_eq!(aiwg(&t, &["apply"], false).code, 0);
    settle();
    let dead = dead_pid();
    for (n, place) in [".claude/agents/", "", ".aiwg/", ".aiwg/history/"]
        .iter()
        .enumerate()
    {
        // Cached again (a settled apply), then the stray file appears.
        assert_eq!(aiwg(&t, &["apply"], false).code, 0);
        settle();
        assert_eq!(
            aiwg(&t, &["apply"], false).lookup(),
            "hit (apply: nothing to change)",
            "{place}"
        );
        std::fs::create_dir_all(t.root().join(place)).unwrap();
        let stray = format!("{place}.x{n}.md.aiwg-tmp.{dead}.1");
        t.write(&stray, "half");
        settle();
        let out = expect_miss(&t, &["check"], "");
        assert!(out.contains(&format!("stray\t{stray}")), "{place}: {out}");
        let applied = aiwg(&t, &["apply"], false);
        assert_eq!(applied.code, 0, "{}", applied.stderr);
        assert!(!t.root().join(&stray).exists(), "{stray} left by apply");
        settle();
    }
}

/// A committed `.aiwg/check-cache` is never this machine's cache, but reading it must stay
/// bounded: a symlink to `/dev/zero` (which git stores as a link) is a miss, not a read
/// without end (and a huge file of zeros, which git stores compressed, costs one read of
/// its head).
/// Run under a memory limit, so a read of `/dev/zero` fails instead of filling the machine.
#[cfg(unix)]
#[test]
fn a_committed_cache_that_never_ends_is_read_no_further_than_its_head() {
    let t = project();
    assert_eq!(aiwg(&t, &["apply"], false).code, 0);
    settle();
    std::os::unix::fs::symlink("/dev/zero", cache_file(&t)).unwrap();
    for args in [&["check"][..], &["apply"]] {
        // The test's own homes, and a memory limit the read of `/dev/zero` would hit.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 1000000; exec \"$0\" \"$@\"")
            .arg(assert_cmd::cargo::cargo_bin("aiwg"))
            .args(args)
            .current_dir(t.root())
            .env("HOME", t.home())
            .env("AIWG_HOME", t.home())
            .env("AIWG_CHECK_CACHE_TRACE", "1")
            .env("AIWG_CHECK_RACY_MS", RACY_MS.to_string())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(
            stderr.contains("check: cache miss (cannot read the cache:"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("out of memory"), "{args:?}: {stderr}");
        // The clean run replaced the link by its own cache; plant it again.
        let _ = std::fs::remove_file(cache_file(&t));
        std::os::unix::fs::symlink("/dev/zero", cache_file(&t)).unwrap();
    }
}

/// In the committed mode a plain apply removes aiwg's block from `.gitignore` (one a pull
/// brought, a branch that used `generated = "ignore"`): an apply the cache vouches for must
/// not skip that.
#[test]
fn a_settled_apply_still_removes_a_gitignore_block_that_appeared() {
    let t = primed();
    for _ in 0..2 {
        assert_eq!(aiwg(&t, &["apply"], false).code, 0);
        settle();
    }
    assert_eq!(
        aiwg(&t, &["apply"], false).lookup(),
        "hit (apply: nothing to change)"
    );
    t.write(
        ".gitignore",
        "target/\n# aiwg:begin generated\n/.claude/agents/reviewer.md\n# aiwg:end generated\n",
    );
    settle();
    let applied = aiwg(&t, &["apply"], false);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(
        applied
            .stderr
            .contains("removed aiwg's block from `.gitignore`"),
        "{}",
        applied.stderr
    );
    assert_eq!(t.read(".gitignore"), "target/\n");
}

/// A folder with few recorded entries (a skill's, its `scripts/`) has no handle of its own in
/// the cache: its entries are stat'ed from an ancestor's handle by a longer name
/// (`release/scripts/tag.sh`). Every change below such a folder is still caught: a folder on
/// the way replaced by a symlink to a moved copy (every file the same inode), a temp file
/// beside a managed file, a file added in the source's nested folder, an edit in place.
#[cfg(unix)]
#[test]
fn changes_below_a_folder_stated_from_its_ancestor_are_caught() {
    let t = primed();
    let bytes = std::fs::read(cache_file(&t)).unwrap();
    let folded = |name: &[u8]| bytes.windows(name.len()).any(|w| w == name);
    assert!(
        folded(b"release/scripts/tag.sh"),
        "the skill's folders are stat'ed from an ancestor's handle"
    );
    let skill = t.root().join(".claude/skills/release");
    for place in [skill.join("scripts"), skill.clone()] {
        let moved = place.with_extension("moved");
        std::fs::rename(&place, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &place).unwrap();
        settle();
        expect_miss(&t, &["check"], "changed");
        std::fs::remove_file(&place).unwrap();
        std::fs::rename(&moved, &place).unwrap();
        settle();
        assert_eq!(aiwg(&t, &["check"], false).code, 0);
        assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit", "{place:?}");
    }
    let stray = format!(
        ".claude/skills/release/scripts/.tag.sh.aiwg-tmp.{}.1",
        dead_pid()
    );
    t.write(&stray, "half");
    settle();
    let out = expect_miss(&t, &["check"], "scripts` changed");
    assert!(out.contains(&format!("stray\t{stray}")), "{out}");
    std::fs::remove_file(t.root().join(&stray)).unwrap();
    settle();
    assert_eq!(aiwg(&t, &["check"], false).code, 0);
    assert_eq!(aiwg(&t, &["check"], false).lookup(), "hit");
    let script = skill.join("scripts/tag.sh");
    let before = std::fs::read(&script).unwrap();
    let mut edited = before.clone();
    edited[0] = b'%';
    std::fs::write(&script, &edited).unwrap();
    settle();
    let out = expect_miss(&t, &["check"], "tag.sh` changed");
    assert!(out.contains("scripts/tag.sh"), "{out}");
    std::fs::write(&script, &before).unwrap();
    t.write(".aiwg/skills/release/scripts/notes.txt", "new asset\n");
    settle();
    let out = expect_miss(&t, &["check"], "changed");
    assert!(out.contains("scripts/notes.txt"), "{out}");
}
