//! A small deterministic generator of targets and disks (no property-testing crate: a seeded
//! xorshift is enough and costs no compile time).

use aiwg_core::target::{ConfigFormat, MergeEntry};
use serde_json::json;

use super::*;
use crate::system::MemSystem;

/// xorshift64*: deterministic, seeded.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const FILES: [&str; 6] = ["a.md", "b.md", "d/c.md", "d/e/f.md", "g/h.sh", "k/l/m/n.md"];
const TEXTS: [&str; 6] = [
    "one\n",
    "two\n",
    "three lines\nof\ntext\n",
    "",
    "no newline",
    "one\ntwo\n",
];

/// A random target: some whole files, sections of `AGENTS.md`, keys of `cfg/settings.json`.
pub fn target_of(rng: &mut Rng) -> TargetState {
    let mut entries = Vec::new();
    for path in FILES {
        if rng.chance(60) {
            let mut e = file(path, rng.pick(&TEXTS));
            if let Desired::File { executable, .. } = &mut e.desired {
                *executable = rng.chance(20);
            }
            entries.push(e);
        }
    }
    for id in ["s1", "s2"] {
        if rng.chance(50) {
            entries.push(section("AGENTS.md", id, rng.pick(&TEXTS)));
        }
    }
    let mut keys = Vec::new();
    if rng.chance(50) {
        keys.push(MergeEntry {
            key: vec!["aiwg".into(), "k".into()],
            value: json!(rng.below(3)),
            append: false,
        });
    }
    if rng.chance(50) {
        keys.push(MergeEntry {
            key: vec!["arr".into()],
            value: json!({"id": rng.below(3)}),
            append: true,
        });
    }
    if !keys.is_empty() {
        entries.push(TargetEntry {
            path: rel("cfg/settings.json"),
            desired: Desired::Merge {
                format: ConfigFormat::Json,
                entries: keys,
            },
            origin: origin("src"),
        });
    }
    target(entries)
}

/// Random user files on `sys`: some in aiwg's way, some beside, text around sections, keys.
pub fn disk_of(rng: &mut Rng, sys: &MemSystem) {
    sys.put("user.md", b"mine\n", false);
    for path in FILES {
        if rng.chance(25) {
            sys.put(path, rng.pick(&TEXTS).as_bytes(), rng.chance(20));
        }
    }
    if rng.chance(50) {
        sys.put(
            "AGENTS.md",
            rng.pick(&["# Mine\n", "text", "\n\n", "a\r\nb\r\n"])
                .as_bytes(),
            false,
        );
    }
    if rng.chance(50) {
        let doc = if rng.chance(50) {
            json!({"user": rng.below(9)})
        } else {
            json!({"user": 1, "arr": [{"id": "users"}]})
        };
        sys.put("cfg/settings.json", doc.to_string().as_bytes(), false);
    }
    if rng.chance(30) {
        sys.put("d/user-owned.md", b"keep me\n", false);
    }
}
