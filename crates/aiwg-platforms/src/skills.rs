//! Placement by reader set: which places (skills folders, and for the other kinds file
//! patterns and instruction files) to write so every platform that needs an artifact sees it
//! exactly once.
//!
//! Each selected platform reads a set of folders (Copilot: `.github/skills`, `.claude/skills`,
//! `.agents/skills`; Claude Code: `.claude/skills` only). The planner picks the set of folders
//! to write that, in this order of importance:
//! 1. reaches every platform that needs the skill;
//! 2. shows it as few extra times as possible (a needing platform that reads two written
//!    folders sees it twice; a platform that does not need it, such as one with native
//!    commands seeing a command written as a skill for another platform, sees it once too often);
//! 3. writes as few folders as possible;
//! 4. prefers the shared `.agents/skills`;
//! 5. breaks ties by folder name, so the result is deterministic.
//!
//! Where no choice avoids a duplicate (Claude Code reads only `.claude/skills`, Codex only
//! `.agents/skills`, Copilot reads both), the caller reports it as a warning.
//!
//! Readers that must not see the artifact at all (a `[platform.<id>] exclude` leaves it out
//! for them) come right after coverage: a folder they read is chosen only when no other
//! reaches a needing platform, and the caller refuses that case.

use std::collections::{BTreeMap, BTreeSet};

/// The shared cross-platform skills folder.
pub const SHARED: &str = ".agents/skills";

/// Brute force over subsets up to this many candidate folders; greedy above it.
const EXACT_LIMIT: usize = 20;

/// One selected platform as a reader of one kind, in one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader<'a> {
    /// The platform id.
    pub platform: &'a str,
    /// The place the platform calls its own, if any.
    pub own: Option<&'a str>,
    /// Every place it reads from and can rely on (a copy there serves it).
    pub reads: Vec<&'a str>,
    /// Places it sees only sometimes or only as text: a copy there is never relied on, but
    /// counts as a duplicate.
    pub sometimes: Vec<&'a str>,
    /// It shows one copy per name however many of its places hold one (Warp's skills), so
    /// more copies are no duplicate for it.
    pub one_per_name: bool,
}

impl Reader<'_> {
    fn sees(&self, place: &str) -> bool {
        self.reads.contains(&place) || self.sometimes.contains(&place)
    }
}

/// The folders to write, and what each reader sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Folders to write, sorted.
    pub dirs: Vec<String>,
    /// For every reader, the written folders it reads (sorted by folder).
    pub seen: BTreeMap<String, Vec<String>>,
}

/// Chooses the places (folders, file patterns, instruction files) for an artifact needed by
/// `needers` (platform ids) among `readers`; `preferred` (the shared `.agents/skills` for
/// skills) wins ties and is a candidate whenever a needer reads it.
pub fn place(
    readers: &[Reader<'_>],
    needers: &BTreeSet<&str>,
    preferred: Option<&str>,
) -> Placement {
    place_avoiding(readers, needers, &BTreeSet::new(), preferred)
}

/// [`place`], where the readers in `avoid` (never needers) must not see the artifact.
pub fn place_avoiding(
    readers: &[Reader<'_>],
    needers: &BTreeSet<&str>,
    avoid: &BTreeSet<&str>,
    preferred: Option<&str>,
) -> Placement {
    let needing: Vec<&Reader> = readers
        .iter()
        .filter(|r| needers.contains(r.platform))
        .collect();
    // Candidates: every needer's own place, and the preferred one when a needer reads it.
    let mut candidates: Vec<&str> = Vec::new();
    if let Some(shared) = preferred {
        if needing.iter().any(|r| r.reads.contains(&shared)) {
            candidates.push(shared);
        }
    }
    for r in &needing {
        if let Some(own) = r.own {
            if !candidates.contains(&own) {
                candidates.push(own);
            }
        }
    }
    // Folders read by exactly the same platforms are interchangeable: keep the first.
    let reader_set = |dir: &str| -> Vec<(&str, bool)> {
        readers
            .iter()
            .filter(|r| r.sees(dir))
            .map(|r| (r.platform, r.reads.contains(&dir)))
            .collect()
    };
    let mut unique: Vec<&str> = Vec::new();
    for c in candidates {
        if !unique.iter().any(|u| reader_set(u) == reader_set(c)) {
            unique.push(c);
        }
    }
    // Sorted candidates make every subset's folder list sorted, for the tie-break.
    unique.sort_unstable();
    let chosen: Vec<&str> = if unique.len() <= EXACT_LIMIT {
        // Per reader, the candidates it relies on and the ones it sees, as bit masks.
        let mask_of = |f: &dyn Fn(&str) -> bool| {
            unique
                .iter()
                .enumerate()
                .filter(|(_, d)| f(d))
                .fold(0u32, |m, (i, _)| m | (1 << i))
        };
        let reads: Vec<Role> = readers
            .iter()
            .map(|r| Role {
                needs: needers.contains(r.platform),
                avoids: avoid.contains(r.platform),
                relied: mask_of(&|d| r.reads.contains(&d)),
                sees: mask_of(&|d| r.sees(d)),
                one_per_name: r.one_per_name,
            })
            .collect();
        let shared_bit = unique
            .iter()
            .position(|d| Some(*d) == preferred)
            .map_or(0, |i| 1u32 << i);
        best_mask(&reads, shared_bit, unique.len(), &|m| names(&unique, m))
            .map(|m| names(&unique, m))
            .unwrap_or_default()
    } else {
        let mut set: Vec<&str> = Vec::new();
        if let Some(shared) = preferred.filter(|s| unique.contains(s)) {
            set.push(shared);
        }
        for r in &needing {
            if !r.reads.iter().any(|d| set.contains(d)) {
                if let Some(own) = r.own {
                    set.push(own);
                }
            }
        }
        set.sort_unstable();
        set
    };
    let seen = readers
        .iter()
        .map(|r| {
            let mut dirs: Vec<String> = chosen
                .iter()
                .filter(|d| r.sees(d))
                .map(|d| d.to_string())
                .collect();
            dirs.sort();
            (r.platform.to_string(), dirs)
        })
        .collect();
    Placement {
        dirs: chosen.iter().map(|d| d.to_string()).collect(),
        seen,
    }
}

/// The non-empty mask of `n` candidates with the lowest [`Score`], ties broken by the names
/// (`names_of`): the same answer as trying all `2^n - 1` masks, found by a depth-first
/// search that decides the candidates one by one and drops a branch as soon as a lower bound
/// of its score is worse than the best found (with thirty platforms, `2^n` masks scored
/// by every reader were a third of a cold apply's user time).
fn best_mask<'a>(
    reads: &[Role],
    shared_bit: u32,
    n: usize,
    names_of: &dyn Fn(u32) -> Vec<&'a str>,
) -> Option<u32> {
    struct Search<'s, 'a> {
        reads: &'s [Role],
        shared_bit: u32,
        n: usize,
        names_of: &'s dyn Fn(u32) -> Vec<&'a str>,
        best: Option<(Score, u32)>,
    }
    impl Search<'_, '_> {
        /// Candidates below `i` are decided (`mask` holds the chosen ones), the rest are open.
        fn visit(&mut self, i: usize, mask: u32) {
            let open = if i >= 32 {
                0
            } else {
                (!0u32 << i) & low_bits(self.n)
            };
            if let Some((best, _)) = &self.best {
                if bound(self.reads, mask, open) > *best {
                    return;
                }
            }
            if i == self.n {
                if mask == 0 {
                    return;
                }
                let s = score(self.reads, self.shared_bit, mask);
                let better = match &self.best {
                    None => true,
                    Some((b, bm)) => {
                        s < *b || (s == *b && (self.names_of)(mask) < (self.names_of)(*bm))
                    }
                };
                if better {
                    self.best = Some((s, mask));
                }
                return;
            }
            self.visit(i + 1, mask | (1 << i));
            self.visit(i + 1, mask);
        }
    }
    // A first answer to bound the search from the start: the shared place when a needer
    // relies on it, then the first place of each needer still without one.
    let mut seed = 0u32;
    if reads.iter().any(|r| r.needs && r.relied & shared_bit != 0) {
        seed |= shared_bit;
    }
    for r in reads.iter().filter(|r| r.needs) {
        if r.relied & seed == 0 {
            seed |= r.relied & r.relied.wrapping_neg();
        }
    }
    let mut search = Search {
        reads,
        shared_bit,
        n,
        names_of,
        best: (seed != 0).then(|| (score(reads, shared_bit, seed), seed)),
    };
    search.visit(0, 0);
    search.best.map(|(_, m)| m)
}

/// The `n` lowest bits set.
fn low_bits(n: usize) -> u32 {
    if n >= 32 {
        !0
    } else {
        (1u32 << n) - 1
    }
}

/// A lower bound of the score of every mask that keeps `mask` and adds only bits of `open`:
/// adding a place never uncovers a reader nor takes a copy away, so the copies and folders
/// counted so far only grow; a needer none of whose places is chosen or open stays uncovered.
/// Its last field is `false`, below either value, so a bound never beats a score it equals.
fn bound(reads: &[Role], mask: u32, open: u32) -> Score {
    let mut s = score(reads, 0, mask);
    s.uncovered = reads
        .iter()
        .filter(|r| r.needs && r.relied & (mask | open) == 0)
        .count();
    s.without_shared = false;
    s
}

/// One reader as the exact search sees it: the candidate places as bit masks.
struct Role {
    needs: bool,
    /// Must not see the artifact (it excludes it).
    avoids: bool,
    /// Places it relies on.
    relied: u32,
    /// Places it sees.
    sees: u32,
    /// Shows one copy per name (see [`Reader::one_per_name`]).
    one_per_name: bool,
}

/// Lower is better; compared field by field.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    uncovered: usize,
    /// Copies seen by readers that exclude the artifact.
    leaks: usize,
    extra_copies: usize,
    folders: usize,
    without_shared: bool,
}

/// The folders of `unique` selected by `mask`, in order.
fn names<'a>(unique: &[&'a str], mask: u32) -> Vec<&'a str> {
    (0..unique.len())
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| unique[i])
        .collect()
}

/// Scores the places selected by `mask`.
fn score(reads: &[Role], shared_bit: u32, mask: u32) -> Score {
    let mut uncovered = 0;
    let mut leaks = 0;
    let mut extra_copies = 0;
    for r in reads {
        let mut seen = (r.sees & mask).count_ones() as usize;
        if r.one_per_name {
            seen = seen.min(1);
        }
        if r.needs {
            if r.relied & mask == 0 {
                uncovered += 1;
            }
            extra_copies += seen.saturating_sub(1);
        } else if r.avoids {
            leaks += seen;
        } else {
            extra_copies += seen;
        }
    }
    Score {
        uncovered,
        leaks,
        extra_copies,
        folders: mask.count_ones() as usize,
        without_shared: mask & shared_bit == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader<'a>(platform: &'a str, own: &'a str, reads: &[&'a str]) -> Reader<'a> {
        Reader {
            platform,
            own: Some(own),
            reads: reads.to_vec(),
            sometimes: Vec::new(),
            one_per_name: false,
        }
    }

    fn claude() -> Reader<'static> {
        reader("claude-code", ".claude/skills", &[".claude/skills"])
    }
    fn codex() -> Reader<'static> {
        reader("codex", SHARED, &[SHARED])
    }
    fn copilot() -> Reader<'static> {
        reader(
            "copilot",
            ".github/skills",
            &[".github/skills", ".claude/skills", SHARED],
        )
    }
    fn factory() -> Reader<'static> {
        reader("factory", ".factory/skills", &[".factory/skills"])
    }

    /// Places a skill needed by every reader and compares the folders and duplicate readers.
    fn check(readers: Vec<Reader<'static>>, dirs: &[&str], seen_twice: &[&str]) {
        let needers: BTreeSet<&str> = readers.iter().map(|r| r.platform).collect();
        let p = place(&readers, &needers, Some(SHARED));
        assert_eq!(p.dirs, dirs, "{readers:?}");
        let twice: Vec<&str> = p
            .seen
            .iter()
            .filter(|(_, d)| d.len() > 1)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(twice, seen_twice);
        assert!(p.seen.values().all(|d| !d.is_empty()), "everyone sees it");
    }

    #[test]
    fn placements() {
        check(vec![codex()], &[SHARED], &[]);
        check(vec![claude()], &[".claude/skills"], &[]);
        check(vec![codex(), copilot()], &[SHARED], &[]);
        // Copilot reads Claude's folder: one copy there serves both.
        check(vec![claude(), copilot()], &[".claude/skills"], &[]);
        check(vec![claude(), codex()], &[SHARED, ".claude/skills"], &[]);
        // Unavoidable: Copilot reads both folders the other two need.
        check(
            vec![claude(), codex(), copilot()],
            &[SHARED, ".claude/skills"],
            &["copilot"],
        );
        check(
            vec![claude(), factory(), codex()],
            &[SHARED, ".claude/skills", ".factory/skills"],
            &[],
        );
    }

    #[test]
    fn non_needers_are_spared_when_possible() {
        // A command written as a skill for Codex: Copilot has native commands and reads the
        // shared folder, so it sees the extra skill; nothing avoids that, but nothing more.
        let readers = vec![codex(), copilot()];
        let needers: BTreeSet<&str> = ["codex"].into();
        let p = place(&readers, &needers, Some(SHARED));
        assert_eq!(p.dirs, [SHARED]);
        assert_eq!(p.seen["copilot"], [SHARED]);
        // Factory needs it, Claude does not: Factory's own folder, which Claude never reads.
        let readers = vec![claude(), factory()];
        let needers: BTreeSet<&str> = ["factory"].into();
        let p = place(&readers, &needers, Some(SHARED));
        assert_eq!(p.dirs, [".factory/skills"]);
        assert!(p.seen["claude-code"].is_empty());
    }

    #[test]
    fn a_reader_that_excludes_it_is_kept_out_where_a_place_allows() {
        // Claude Code leaves the skill out: Copilot's own folder, which Claude never reads,
        // instead of `.claude/skills`, which serves Copilot too but leaks to Claude.
        let readers = vec![claude(), copilot()];
        let needers: BTreeSet<&str> = ["copilot"].into();
        let avoid: BTreeSet<&str> = ["claude-code"].into();
        let p = place_avoiding(&readers, &needers, &avoid, Some(SHARED));
        assert_eq!(p.dirs, [SHARED]);
        assert!(p.seen["claude-code"].is_empty());
        // Copilot leaves it out and only Claude's folder reaches Claude: it leaks, and the
        // caller refuses it; coverage still comes first.
        let needers: BTreeSet<&str> = ["claude-code"].into();
        let avoid: BTreeSet<&str> = ["copilot"].into();
        let p = place_avoiding(&readers, &needers, &avoid, Some(SHARED));
        assert_eq!(p.dirs, [".claude/skills"]);
        assert_eq!(p.seen["copilot"], [".claude/skills"]);
    }

    /// Every mask tried, as the search did before it was bounded.
    fn brute_force(reads: &[Role], shared_bit: u32, unique: &[&str]) -> Option<u32> {
        let mut best: Option<(Score, u32)> = None;
        for mask in 1u32..(1u32 << unique.len()) {
            let s = score(reads, shared_bit, mask);
            let better = match &best {
                None => true,
                Some((b, bm)) => s < *b || (s == *b && names(unique, mask) < names(unique, *bm)),
            };
            if better {
                best = Some((s, mask));
            }
        }
        best.map(|(_, m)| m)
    }

    #[test]
    fn the_bounded_search_finds_what_trying_every_mask_finds() {
        const NAMES: [&str; 12] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..3000 {
            let n = 1 + (next() % NAMES.len() as u64) as usize;
            let unique = &NAMES[..n];
            let readers = 1 + (next() % 12) as usize;
            let reads: Vec<Role> = (0..readers)
                .map(|_| {
                    let relied = (next() as u32) & low_bits(n) & (next() as u32);
                    let sometimes =
                        (next() as u32) & low_bits(n) & (next() as u32) & (next() as u32);
                    let role = next() % 4;
                    Role {
                        needs: role < 2,
                        avoids: role == 2,
                        relied,
                        sees: relied | sometimes,
                        one_per_name: next() % 5 == 0,
                    }
                })
                .collect();
            let shared_bit = match next() % 3 {
                0 => 0,
                _ => 1 << (next() % n as u64),
            };
            let bounded = best_mask(&reads, shared_bit, n, &|m| names(unique, m));
            assert_eq!(
                bounded,
                brute_force(&reads, shared_bit, unique),
                "round {round}: {n} places, shared bit {shared_bit:#b}"
            );
        }
    }
}
