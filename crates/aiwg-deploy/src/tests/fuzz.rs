//! Bounded fuzzing inside `cargo test` of the readers and editors a cloned repository feeds:
//! the section editor, the JSON(C) editor, the lock reader and the history-manifest reader.
//!
//! Each property runs a fixed number of seeded random inputs (the seed is in every failure
//! message) and asserts, per input, that nothing panics, that the time stays under a bound, and
//! that what an edit adds its inverse takes back byte for byte. `large_inputs_cost_linear_time`
//! feeds shapes that made a quadratic algorithm blow up; `large_inputs_stay_in_bounded_memory`
//! runs it again in a child process (`--ignored` test below) and asserts that process's peak
//! memory. What they found is kept as named regression inputs where the code is tested (a
//! lone CR before a section: `section.rs`; the quadratic shapes: `large_inputs`).

use std::time::{Duration, Instant};

use aiwg_core::target::{ConfigFormat, MergeEntry};
use serde_json::{json, Value};

use super::apply::run;
use super::random::Rng;
use super::*;
use crate::engine::Engine;
use crate::history;
use crate::jsonc::JsonDoc;
use crate::layout::Layout;
use crate::lock::Lock;
use crate::system::MemSystem;
use crate::ApplyOptions;

/// Random inputs per property of a parser or editor alone; `AIWG_FUZZ_CASES` sets another
/// number for a longer run (`AIWG_FUZZ_CASES=200000 cargo test -p aiwg-deploy fuzz`).
fn cases() -> u64 {
    std::env::var("AIWG_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

/// Random inputs of the manifest property, which runs applies and a rollback per input.
fn manifest_cases() -> u64 {
    (cases() / 10).max(1)
}
/// The most one small input may take (debug build, shared machine: generous, but a
/// quadratic or exponential path on a few KiB still trips it).
const PER_INPUT: Duration = Duration::from_millis(500);
/// The most one large input may take (quadratic on them takes minutes).
const PER_LARGE_INPUT: Duration = Duration::from_secs(8);

fn timed<T>(what: &str, seed: u64, limit: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < limit, "{what}, seed {seed}: took {took:?}");
    out
}

/// Text made of section markers (good and broken), line breaks of every kind and words.
fn marker_soup(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "<!-- aiwg:begin a -->\n",
        "<!-- aiwg:end a -->\n",
        "<!-- aiwg:begin b -->\r\n",
        "<!-- aiwg:end b -->\r\n",
        "<!-- aiwg:begin a -->",
        "<!-- aiwg:begin -->\n",
        "<!-- aiwg:end c d -->\n",
        "  <!-- aiwg:begin c -->  \n",
        "<!-- aiwg:end c -->\n",
        "text",
        "é ∑ 𝄞",
        "\n",
        "\r\n",
        "\r",
        "\n\n",
        " ",
        "\u{feff}",
        "<!-- aiwg:",
        "-->",
    ];
    let n = rng.below(24);
    (0..n).map(|_| rng.pick(PIECES)).collect()
}

#[test]
fn the_section_parser_and_editor_never_panic_and_removal_restores_the_bytes() {
    for seed in 0..cases() {
        let mut rng = Rng::new(seed);
        let user = marker_soup(&mut rng);
        let parsed = timed("section::parse", seed, PER_INPUT, || {
            crate::section::parse(&user)
        });
        if let Ok(blocks) = &parsed {
            let mut at = 0;
            for b in blocks {
                assert!(
                    at <= b.start && b.start < b.inner_start && b.inner_start <= b.inner_end,
                    "seed {seed}: {b:?}"
                );
                assert!(
                    b.inner_end < b.end && b.end <= user.len(),
                    "seed {seed}: {b:?}"
                );
                assert!(user.is_char_boundary(b.start) && user.is_char_boundary(b.end));
                at = b.end;
            }
        }
        let sys = MemSystem::with_files(&[("CLAUDE.md", &user)]);
        let inner = rng
            .pick(&["Z\n", "", "two\nlines", "crlf\r\nin it\r\n"])
            .to_string();
        let t = target(vec![section("CLAUDE.md", "z", &inner)]);
        let applied = timed("section apply", seed, PER_INPUT, || {
            run(&sys, &t, &ApplyOptions::default())
        });
        match (&parsed, applied) {
            (Ok(_), Ok(_)) => {
                let with = sys.text("CLAUDE.md").unwrap();
                assert!(
                    with.contains("<!-- aiwg:begin z -->"),
                    "seed {seed}: {with:?}"
                );
                let engine = Engine::shared(&sys, Layout::project());
                assert!(
                    engine.plan(&t).unwrap().0.is_empty(),
                    "seed {seed}: {with:?}"
                );
                timed("section removal", seed, PER_INPUT, || {
                    run(&sys, &TargetState::new(), &ApplyOptions::default())
                })
                .unwrap_or_else(|e| panic!("seed {seed}: {user:?} {with:?}: {e:?}"));
                let back = sys.text("CLAUDE.md");
                if user.is_empty() {
                    assert_eq!(back, None, "seed {seed}");
                } else {
                    assert_eq!(
                        back.as_deref(),
                        Some(user.as_str()),
                        "seed {seed}: {with:?}"
                    );
                }
            }
            // Broken markers: an unforceable conflict, the file untouched.
            (Err(_), Err(crate::DeployError::Conflicts { .. })) => {
                assert_eq!(sys.text("CLAUDE.md").unwrap(), user, "seed {seed}");
            }
            (parsed, applied) => panic!("seed {seed}: {user:?}: {parsed:?} then {applied:?}"),
        }
    }
}

/// A random JSON value printed with random (valid) layout, comments and trailing commas.
fn jsonc_text(rng: &mut Rng, depth: usize, out: &mut String) {
    let space = |rng: &mut Rng, out: &mut String| {
        let pieces = [
            "",
            " ",
            "\n",
            "\r\n",
            "\t",
            "  ",
            "// c\n",
            "/* c */",
            " /* x\n y */ ",
        ];
        out.push_str(pieces[rng.below(pieces.len())]);
    };
    let kind = if depth >= 4 { 2 } else { rng.below(4) };
    match kind {
        0 | 1 => {
            let (open, close) = if kind == 0 { ('{', '}') } else { ('[', ']') };
            out.push(open);
            let n = rng.below(5);
            for i in 0..n {
                space(rng, out);
                if kind == 0 {
                    out.push_str(&format!("\"k{i}\""));
                    space(rng, out);
                    out.push(':');
                    space(rng, out);
                }
                jsonc_text(rng, depth + 1, out);
                space(rng, out);
                if i + 1 < n || rng.chance(30) {
                    out.push(',');
                }
            }
            space(rng, out);
            out.push(close);
        }
        _ => {
            let scalars = [
                "1",
                "-2.5e3",
                "true",
                "null",
                "\"s\"",
                "\"q\\\"\"",
                "\"é\"",
                "\"//\"",
            ];
            out.push_str(scalars[rng.below(scalars.len())]);
        }
    }
}

fn key(k: &str) -> Vec<String> {
    k.split('.').map(str::to_string).collect()
}

#[test]
fn the_jsonc_editor_never_panics_and_every_edit_has_an_exact_inverse() {
    for seed in 0..cases() {
        let mut rng = Rng::new(seed);
        let mut text = String::new();
        if rng.chance(70) {
            // An object root, the shape aiwg merges into.
            let mut inner = String::new();
            jsonc_text(&mut rng, 1, &mut inner);
            text.push_str(&format!("{{\n  \"user\": {inner},\n  \"arr\": [1]\n}}\n"));
            if rng.chance(30) {
                text = text.replace('\n', "\r\n");
            }
        } else {
            jsonc_text(&mut rng, 0, &mut text);
        }
        // Sometimes damaged: a byte dropped or doubled.
        if rng.chance(25) && !text.is_empty() {
            let at = rng.below(text.len());
            if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                text.remove(at);
            }
        }
        let Ok(doc) = timed("JsonDoc::parse", seed, PER_INPUT, || JsonDoc::parse(&text)) else {
            continue;
        };
        let value = json!({"command": "aiwg", "n": [1, {"x": null}]});
        for k in ["aiwg", "aiwg.deep.key", "user", "arr"] {
            let mut edited = doc.clone();
            let set = timed("JsonDoc::set", seed, PER_INPUT, || {
                edited.set(&key(k), &value)
            });
            if set.is_err() {
                assert_eq!(
                    edited.text(),
                    doc.text(),
                    "seed {seed}: a failed set changed it"
                );
                continue;
            }
            assert_eq!(edited.get(&key(k)), Some(value.clone()), "seed {seed} {k}");
            JsonDoc::parse(edited.text()).unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
            // Removing the last key of an empty root gives `{}` back, whatever whitespace the
            // braces held (the engine deletes such a file: ARCHITECTURE.md's departure).
            if doc.get(&key(k)).is_none() && !doc.is_empty() {
                edited.remove(&key(k)).unwrap();
                assert_eq!(edited.text(), doc.text(), "seed {seed}: remove {k}");
            }
        }
        let mut edited = doc.clone();
        // (An array the user had empty goes with aiwg's last item: the same departure.)
        let had_empty = doc.get(&key("arr")) == Some(json!([]));
        if !doc.is_empty() && !had_empty && edited.push_item(&key("arr"), &value).is_ok() {
            let items = match edited.get(&key("arr")) {
                Some(Value::Array(items)) => items,
                other => panic!("seed {seed}: {other:?}"),
            };
            edited.remove_item(&key("arr"), items.len() - 1).unwrap();
            assert_eq!(edited.text(), doc.text(), "seed {seed}: push then remove");
        }
    }
}

/// A random lock, as aiwg writes it.
fn random_lock(rng: &mut Rng) -> Lock {
    let mut lock = Lock::new();
    for i in 0..rng.below(6) {
        let mut entry = lock_files(&[(&format!("d{}/f{i}.md", rng.below(3)), "x")])
            .entries()
            .next()
            .unwrap()
            .clone();
        entry.executable = rng.chance(20);
        let artifact = rng.pick(&["agent:a", "skill:\"q\"", "tab\there", "é"]);
        entry.origin = Origin::new(
            &entry.origin.source,
            artifact,
            entry.origin.platforms.to_vec(),
        );
        lock.insert(entry);
    }
    lock
}

/// `text` damaged in one of several ways: a line dropped, doubled or swapped, a byte
/// changed, a fragment inserted, or the text cut short.
fn damage(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    const FRAGMENTS: &[&str] = &[
        "[[file]]\n",
        "[[file.keys]]\n",
        "[[path]]\n",
        "path = \".git/HEAD\"\n",
        "version = 99\n",
        "size = -1\n",
        "key = [\"a\", 3]\n",
        "\"\n",
        "x = '''\n",
        "<<<<<<< HEAD\n",
        "\0",
        "path = \"../../etc/passwd\"\n",
        "generation = 18446744073709551615\n",
    ];
    match rng.below(6) {
        0 if !lines.is_empty() => {
            lines.remove(rng.below(lines.len()));
        }
        1 if !lines.is_empty() => {
            let at = rng.below(lines.len());
            lines.insert(at, lines[at]);
        }
        2 if lines.len() > 1 => {
            let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(a, b);
        }
        3 => {
            let at = rng.below(lines.len() + 1);
            lines.insert(at, rng.pick(FRAGMENTS));
        }
        4 if !text.is_empty() => {
            let mut cut = rng.below(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            return text[..cut].to_string();
        }
        _ => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let at = rng.below(bytes.len());
                bytes[at] = rng.pick(&["\"", "=", "]", "\n", "x"]).as_bytes()[0];
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    lines.concat()
}

#[test]
fn the_lock_reader_never_panics_names_a_line_and_round_trips() {
    for seed in 0..cases() {
        let mut rng = Rng::new(seed);
        let lock = random_lock(&mut rng);
        let text = lock.to_toml();
        assert_eq!(
            Lock::parse("aiwg.lock", &text).unwrap(),
            lock,
            "seed {seed}"
        );
        let damaged = damage(&mut rng, &text);
        let lines = damaged.lines().count().max(1) + 1;
        match timed("Lock::parse", seed, PER_INPUT, || {
            Lock::parse("aiwg.lock", &damaged)
        }) {
            Ok(read) => {
                let again = Lock::parse("aiwg.lock", &read.to_toml()).unwrap();
                assert_eq!(again, read, "seed {seed}: {damaged:?}");
            }
            Err(crate::lock::LockError::Corrupt { line, .. })
            | Err(crate::lock::LockError::Reserved { line, .. }) => {
                assert!((1..=lines).contains(&line), "seed {seed}: line {line}");
            }
            Err(_) => {}
        }
    }
}

#[test]
fn the_manifest_reader_never_panics_and_replays_nothing_it_cannot_verify() {
    for seed in 0..manifest_cases() {
        let mut rng = Rng::new(seed);
        let sys = MemSystem::new();
        run(
            &sys,
            &target(vec![file("a.md", "A")]),
            &ApplyOptions::default(),
        )
        .unwrap();
        let t = target(vec![file("a.md", "B"), file("b.md", "b")]);
        run(&sys, &t, &ApplyOptions::default()).unwrap();
        let path = ".aiwg/history/2/manifest.toml";
        let text = sys.text(path).unwrap();
        let damaged = damage(&mut rng, &text);
        sys.put(path, damaged.as_bytes(), false);
        let engine = Engine::shared(&sys, Layout::project());
        let listing = timed("history::list", seed, PER_INPUT, || history::list(&engine))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let listed: Vec<u64> = listing.generations.iter().map(|g| g.generation).collect();
        if damaged == text {
            assert_eq!(listed, vec![1, 2], "seed {seed}");
        } else {
            assert_eq!(
                listed,
                vec![1],
                "seed {seed}: a changed manifest verifies: {damaged:?}"
            );
            assert_eq!(listing.ignored.len(), 1, "seed {seed}");
        }
        // Rollback undoes only what verified, and a later apply still works.
        let rolled = crate::rollback::rollback(
            &engine,
            &crate::rollback::RollbackOptions {
                to: None,
                force: true,
                keep: 10,
            },
        );
        assert!(rolled.is_ok(), "seed {seed}: {rolled:?}");
        run(&sys, &t, &ApplyOptions::default()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

/// The large inputs: shapes a hostile repository can commit that once cost quadratic time.
fn large_inputs() {
    let n = 20_000;
    // JSON: many small containers on one line, and many keys in one object.
    let one_line = format!("{{\"a\": [{}]}}", vec!["{}"; n].join(","));
    let many_keys = format!(
        "{{{}}}",
        (0..n)
            .map(|i| format!("\"k{i}\": {i}"))
            .collect::<Vec<_>>()
            .join(",\n")
    );
    for (what, text) in [("one-line JSON", &one_line), ("many keys", &many_keys)] {
        let mut doc = timed(what, 0, PER_LARGE_INPUT, || JsonDoc::parse(text)).unwrap();
        timed(what, 0, PER_LARGE_INPUT, || {
            doc.set(&key("aiwg.x"), &json!(1)).unwrap();
            doc.remove(&key("aiwg.x")).unwrap();
        });
        assert_eq!(doc.text(), text.as_str());
    }
    // Sections: a file of many sections, each named by a stale lock entry.
    let mut text = String::from("# Mine\n");
    let mut lock = Lock::new();
    for i in 0..n {
        text.push_str(&format!(
            "\n<!-- aiwg:begin s{i} -->\nx\n<!-- aiwg:end s{i} -->\n"
        ));
    }
    let sys = MemSystem::with_files(&[("AGENTS.md", &text)]);
    for i in 0..n {
        let entry = TargetEntry {
            path: rel("AGENTS.md"),
            desired: Desired::Section {
                id: format!("s{i}"),
                text: "x\n".into(),
            },
            origin: origin("src"),
        };
        lock.insert(crate::decision::lock_entry_full(
            &entry,
            crate::hash::sha256_hex(b"x\n"),
            2,
        ));
    }
    let lock_text = lock.to_toml();
    sys.put("aiwg.lock", lock_text.as_bytes(), false);
    let read = timed("large lock", 0, PER_LARGE_INPUT, || {
        Lock::parse("aiwg.lock", &lock_text).unwrap()
    });
    assert_eq!(read.len(), n);
    let engine = Engine::shared(&sys, Layout::project());
    let (p, lock) = timed("plan of many stale sections", 0, PER_LARGE_INPUT, || {
        engine.plan(&TargetState::new()).unwrap()
    });
    timed("apply of many stale sections", 0, PER_LARGE_INPUT, || {
        engine.apply(&p, &lock, &ApplyOptions::default()).unwrap()
    });
    assert_eq!(sys.text("AGENTS.md").unwrap(), "# Mine\n");
    // Many merged array items aiwg owns in one settings file. Each edit re-parses the
    // document, so keys per file are capped (`MAX_MERGE_KEYS`) and arrays too
    // (`MAX_MERGE_ITEMS`): at the caps it stays fast; past them the file is a conflict.
    let merge = |n: usize| TargetEntry {
        path: rel(".claude/settings.json"),
        desired: Desired::Merge {
            format: ConfigFormat::Json,
            entries: (0..n)
                .map(|i| MergeEntry {
                    key: key("hooks.PreToolUse"),
                    value: json!({"matcher": format!("m{i}")}),
                    append: true,
                })
                .collect(),
        },
        origin: origin("src"),
    };
    let sys = MemSystem::new();
    timed("many merged items", 0, PER_LARGE_INPUT, || {
        run(
            &sys,
            &target(vec![merge(crate::merge::MAX_MERGE_KEYS)]),
            &ApplyOptions::default(),
        )
        .unwrap()
    });
    let sys = MemSystem::new();
    let over = timed("too many merged items", 0, PER_LARGE_INPUT, || {
        run(
            &sys,
            &target(vec![merge(crate::merge::MAX_MERGE_KEYS + 1)]),
            &ApplyOptions::default(),
        )
    });
    assert!(
        matches!(over, Err(crate::DeployError::Conflicts { .. })),
        "{over:?}"
    );
    // A hostile lock naming the most keys in a settings file of the longest array, none of
    // them matching (each a position to check for an edit), then all of them matching (each
    // a removal): a pass over the hashes per key, not a parse and a hash of every item.
    let items: Vec<String> = (0..crate::merge::MAX_MERGE_ITEMS)
        .map(|i| format!("{{\"matcher\": \"W{i}\", \"hooks\": []}}"))
        .collect();
    let settings = format!(
        "{{\"hooks\": {{\"PreToolUse\": [\n{}\n]}}}}\n",
        items.join(",\n")
    );
    for matching in [false, true] {
        let keys: Vec<crate::lock::LockedKey> = (0..crate::merge::MAX_MERGE_KEYS)
            .map(|i| crate::lock::LockedKey {
                key: key("hooks.PreToolUse"),
                append: true,
                sha256: if matching {
                    crate::merge::hash_value(&serde_json::from_str(&items[i]).unwrap())
                } else {
                    format!("{i:064x}")
                },
                at: Some(i as u64),
                others: Some("00".into()),
            })
            .collect();
        let mut entry = crate::decision::lock_entry_full(&merge(1), String::new(), 0);
        entry.keys = keys;
        let mut lock = Lock::new();
        lock.insert(entry);
        let sys = MemSystem::with_files(&[(".claude/settings.json", &settings)]);
        sys.put("aiwg.lock", lock.to_toml().as_bytes(), false);
        let engine = Engine::shared(&sys, Layout::project());
        let (p, lock) = timed("hostile merge lock", 0, PER_LARGE_INPUT, || {
            engine.plan(&TargetState::new()).unwrap()
        });
        if matching {
            timed("hostile merge lock, apply", 0, PER_LARGE_INPUT, || {
                engine.apply(&p, &lock, &ApplyOptions::default()).unwrap()
            });
            let left = sys.text(".claude/settings.json").unwrap();
            assert_eq!(
                left.matches("matcher").count(),
                items.len() - crate::merge::MAX_MERGE_KEYS
            );
        }
    }
}

#[test]
fn large_inputs_cost_linear_time() {
    large_inputs();
}

/// The peak memory (`VmHWM`) of this process in KiB (Linux).
#[cfg(target_os = "linux")]
#[allow(clippy::disallowed_methods)] // a kernel file about this process, not a project file
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Run alone in a child process by [`large_inputs_stay_in_bounded_memory`], so that its peak
/// memory is its own.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "run in a child process by large_inputs_stay_in_bounded_memory"]
fn large_inputs_child() {
    large_inputs();
    let peak = peak_kib();
    println!("peak {peak} KiB");
    assert!(peak < 512 * 1024, "peak memory {peak} KiB");
}

#[cfg(target_os = "linux")]
#[test]
fn large_inputs_stay_in_bounded_memory() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::fuzz::large_inputs_child",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if let Some(at) = stdout.find("peak ") {
        let peak = stdout[at..].lines().next().unwrap_or_default();
        eprintln!("large inputs, child process: {peak}");
    }
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
