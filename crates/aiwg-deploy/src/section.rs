//! Section ownership: aiwg owns the text between `<!-- aiwg:begin <id> -->` and
//! `<!-- aiwg:end <id> -->` (each on its own line) in a shared Markdown file, and nothing else.
//!
//! Text before, between and after sections is kept byte for byte, marker lines included.
//! Several sections (different ids) may share a file; a new one is appended at the end after
//! one blank line, or, when the file's last line has no newline, right after the newline that
//! ends it. So what aiwg added is known from the text alone, and removing a section gives back
//! the exact bytes it was added to. A file whose markers are unbalanced, nested, mismatched or
//! duplicated is a conflict that `--force` does not resolve: guessing which text is whose could
//! lose some. Removing the last section of a file that holds nothing else deletes it.

use aiwg_core::target::{Desired, Part, TargetEntry};
use aiwg_core::RelPath;

use crate::decision::{
    all_parts_in_conflict, lock_entry_for, matches_lock, Action, ConflictKind, NextLock, PartPlan,
    State,
};
use crate::hash::sha256_hex;
use crate::lock::{LockEntry, Mode};
use crate::system::FileData;

const BEGIN: &str = "<!-- aiwg:begin ";
const END: &str = "<!-- aiwg:end ";
const CLOSE: &str = " -->";

/// One well-formed section of a file, as byte offsets into its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The section id from the markers.
    pub id: String,
    /// Start of the begin marker line.
    pub start: usize,
    /// Start of the first line inside.
    pub inner_start: usize,
    /// Start of the end marker line.
    pub inner_end: usize,
    /// Just after the end marker line (its newline included).
    pub end: usize,
}

/// `(begin, id)` when `line` is a marker line; `Err` for a line that looks like a marker but
/// is not one.
fn marker(line: &str) -> Option<Result<(bool, &str), ()>> {
    let t = line.trim();
    let (begin, rest) = if let Some(rest) = t.strip_prefix(BEGIN) {
        (true, rest)
    } else if let Some(rest) = t.strip_prefix(END) {
        (false, rest)
    } else if t.starts_with("<!-- aiwg:begin") || t.starts_with("<!-- aiwg:end") {
        return Some(Err(()));
    } else {
        return None;
    };
    match rest.strip_suffix(CLOSE) {
        Some(id) if !id.is_empty() && !id.contains(char::is_whitespace) => Some(Ok((begin, id))),
        _ => Some(Err(())),
    }
}

/// Every section of `text`, in order, or why the markers cannot be trusted (`line N: ...`).
pub fn parse(text: &str) -> Result<Vec<Block>, String> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut open: Option<(String, usize, usize, usize)> = None; // id, start, inner_start, line
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let n = index + 1;
        let next = offset + line.len();
        match marker(line) {
            None => {}
            Some(Err(())) => {
                return Err(format!("line {n}: malformed aiwg marker `{}`", line.trim()))
            }
            Some(Ok((true, id))) => {
                if let Some((open_id, _, _, open_line)) = &open {
                    return Err(format!(
                        "line {n}: section `{id}` begins inside section `{open_id}` (opened on line {open_line})"
                    ));
                }
                if seen.contains(id) {
                    return Err(format!("line {n}: section `{id}` appears twice"));
                }
                open = Some((id.to_string(), offset, next, n));
            }
            Some(Ok((false, id))) => match open.take() {
                Some((open_id, start, inner_start, _)) if open_id == id => {
                    seen.insert(open_id.clone());
                    blocks.push(Block {
                        id: open_id,
                        start,
                        inner_start,
                        inner_end: offset,
                        end: next,
                    })
                }
                Some((open_id, _, _, _)) => {
                    return Err(format!(
                        "line {n}: section `{open_id}` is closed by an end marker for `{id}`"
                    ))
                }
                None => return Err(format!("line {n}: end of section `{id}` without a begin")),
            },
        }
        offset = next;
    }
    if let Some((id, _, _, line)) = open {
        return Err(format!("line {line}: section `{id}` is never closed"));
    }
    Ok(blocks)
}

/// The text aiwg puts inside a section: `text`, ending with a newline unless empty.
pub fn normalize(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// `text` with a new section appended: after one blank line when `text` ends with a newline,
/// after the newline that ends its last line when it does not, at the start when it is empty;
/// in the text's own line ending ([`crate::eol::of`]). `cut` takes back exactly that newline.
pub fn append(text: &str, id: &str, inner: &str) -> String {
    let mut out = text.to_string();
    append_to(&mut out, crate::eol::of(text), id, inner);
    out
}

fn append_to(out: &mut String, eol: &str, id: &str, inner: &str) {
    if !out.is_empty() {
        out.push_str(eol);
    }
    // The whole block, with `eol` line breaks (`inner` has LF ones), written in place: a
    // section can be megabytes.
    for piece in [
        BEGIN,
        id,
        CLOSE,
        eol,
        &crate::eol::with_eol(inner, eol),
        END,
        id,
        CLOSE,
        eol,
    ] {
        out.push_str(piece);
    }
}

/// The length of the line break `eol` when `s` ends with it, else 0.
fn trailing_break(s: &str, eol: &str) -> usize {
    if s.ends_with(eol) {
        eol.len()
    } else {
        0
    }
}

/// The length of the line break `eol` when `s` starts with it, else 0.
fn leading_break(s: &[u8], eol: &str) -> usize {
    if s.starts_with(eol.as_bytes()) {
        eol.len()
    } else {
        0
    }
}

/// Where [`cut`] leaves the text around a removed block: how many bytes to drop from the end
/// of the text before it and from the start of the text after it (`after_head` is its first
/// bytes, empty when nothing follows). What it drops is the line break `eol` (the file's own,
/// which [`append`] used) added before the block: the blank line before it, or the break that
/// ended a last line that had none. Only a whole `eol` counts, so a user's lone CR before an
/// LF aiwg added stays.
fn cut_edges(before: &str, after_head: &[u8], eol: &str) -> (usize, usize) {
    let after_break = leading_break(after_head, eol);
    if before.is_empty() {
        return (0, after_break);
    }
    let last = trailing_break(before, eol);
    let blank_before = last > 0 && trailing_break(&before[..before.len() - last], eol) > 0;
    if blank_before && (after_head.is_empty() || after_break > 0) {
        (last, 0)
    } else if after_break > 0 {
        // Attached to a last line without newline, and followed by another section's blank
        // line: that blank line now separates the text from the next section.
        (0, after_break)
    } else if after_head.is_empty() {
        (last, 0)
    } else {
        (0, 0)
    }
}

/// `text` without the block at `start..end` (see [`cut_edges`]).
#[cfg(test)]
fn cut(text: &str, start: usize, end: usize) -> String {
    let eol = crate::eol::of(text);
    let (drop_before, drop_after) = cut_edges(&text[..start], &text.as_bytes()[end..], eol);
    format!(
        "{}{}",
        &text[..start - drop_before],
        &text[end + drop_after..]
    )
}

/// Applies non-overlapping `edits` to `text` in one pass from the end, so each removal sees
/// the original text before it and the edited text after it, as applying them one by one from
/// the end would, in time linear in the text (a lock can name thousands of sections).
fn apply_edits(text: &str, mut edits: Vec<Edit>, eol: &str) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.start()));
    // The edited text after `hi`, as pieces in reverse order.
    let mut pieces: Vec<String> = Vec::new();
    let mut hi = text.len();
    // No piece is ever empty, so looking at the first bytes after an edit touches two at most.
    let push = |pieces: &mut Vec<String>, piece: String| {
        if !piece.is_empty() {
            pieces.push(piece);
        }
    };
    for edit in edits {
        let (start, end) = (edit.start(), edit.end().min(hi));
        push(&mut pieces, text[end..hi].to_string());
        match edit {
            Edit::Replace { inner, .. } => {
                push(&mut pieces, crate::eol::with_eol(&inner, eol).into_owned());
                hi = start;
            }
            Edit::Remove { .. } => {
                let mut head = Vec::with_capacity(2);
                for piece in pieces.iter().rev() {
                    head.extend(piece.bytes().take(2 - head.len()));
                    if head.len() == 2 {
                        break;
                    }
                }
                let (drop_before, mut drop_after) = cut_edges(&text[..start], &head, eol);
                while drop_after > 0 {
                    let Some(piece) = pieces.last_mut() else {
                        break;
                    };
                    let n = drop_after.min(piece.len());
                    piece.drain(..n);
                    drop_after -= n;
                    if piece.is_empty() {
                        pieces.pop();
                    }
                }
                hi = start - drop_before;
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..hi]);
    for piece in pieces.iter().rev() {
        out.push_str(piece);
    }
    out
}

/// The section id of a lock part (`section:<id>`); `None` for a whole file or merged keys.
fn id_of(part: &Part) -> Option<&str> {
    match part {
        Part::Section(id) => Some(id),
        Part::Whole | Part::Merge(_) => None,
    }
}

enum Edit {
    Replace {
        start: usize,
        end: usize,
        inner: String,
    },
    Remove {
        start: usize,
        end: usize,
    },
}

impl Edit {
    fn start(&self) -> usize {
        match self {
            Edit::Replace { start, .. } | Edit::Remove { start, .. } => *start,
        }
    }

    fn end(&self) -> usize {
        match self {
            Edit::Replace { end, .. } | Edit::Remove { end, .. } => *end,
        }
    }
}

/// Plans the sections of one shared file; returns the new file (or `None`: delete it) and a
/// plan per section.
pub(crate) fn plan(
    _path: &RelPath,
    wants: &[&TargetEntry],
    locked: &[&LockEntry],
    old: Option<&FileData>,
) -> (Option<FileData>, Vec<PartPlan>) {
    let locked: Vec<&LockEntry> = locked
        .iter()
        .copied()
        .filter(|l| l.mode == Mode::Section)
        .collect();
    let text = match old.map(|f| std::str::from_utf8(&f.bytes)) {
        None => Ok(""),
        Some(Ok(text)) => Ok(text),
        Some(Err(_)) => {
            Err("the file is not UTF-8 text, so its sections cannot be found".to_string())
        }
    };
    let parsed = text.and_then(|t| {
        parse(t)
            .map(|blocks| (t, blocks))
            .map_err(|e| format!("section markers are broken ({e})"))
    });
    let (text, blocks) = match parsed {
        Ok(parsed) => parsed,
        // Every section of a file that cannot be edited safely is an unforceable conflict.
        Err(why) => {
            let conflict = ConflictKind::Unsafe(why);
            return (
                old.cloned(),
                all_parts_in_conflict(wants, &locked, &conflict),
            );
        }
    };
    let by_id: std::collections::HashMap<&str, &Block> =
        blocks.iter().map(|b| (b.id.as_str(), b)).collect();
    let lock_of: std::collections::HashMap<&Part, &LockEntry> =
        locked.iter().map(|l| (&l.part, *l)).collect();
    let mut parts = Vec::new();
    let mut wanted_parts = std::collections::HashSet::new();
    let mut edits = Vec::new();
    let mut appends = Vec::new();
    for want in wants {
        let Desired::Section { id, text: wanted } = &want.desired else {
            continue;
        };
        // LF inside the lock's hash; written in the file's own line ending.
        let mut inner = crate::eol::to_lf(&normalize(wanted)).into_owned();
        let next_lock = NextLock::Write(lock_entry_for(
            want,
            sha256_hex(inner.as_bytes()),
            inner.len() as u64,
        ));
        let part = want.desired.part();
        let lock = lock_of.get(&part);
        let block = by_id.get(id.as_str());
        let (action, conflict, state) = match block {
            None => {
                appends.push((id.clone(), std::mem::take(&mut inner)));
                (Action::Create, None, State::Missing)
            }
            Some(b) => {
                let current = &text[b.inner_start..b.inner_end];
                // A CRLF checkout of what aiwg wrote is unchanged, and still aiwg's.
                let current_lf = crate::eol::to_lf(current);
                let ours = |l: &&LockEntry| {
                    matches_lock(l, current.as_bytes()) || matches_lock(l, current_lf.as_bytes())
                };
                let verdict = if current_lf == inner {
                    (Action::Unchanged, None, State::Ok)
                } else if lock.is_some_and(ours) {
                    (Action::Update, None, State::Outdated)
                } else if lock.is_some() {
                    (Action::Conflict, Some(ConflictKind::Edited), State::Edited)
                } else {
                    (
                        Action::Conflict,
                        Some(ConflictKind::Unmanaged),
                        State::Conflict,
                    )
                };
                if verdict.0 != Action::Unchanged {
                    edits.push(Edit::Replace {
                        start: b.inner_start,
                        end: b.inner_end,
                        inner: std::mem::take(&mut inner),
                    });
                }
                verdict
            }
        };
        wanted_parts.insert(part.clone());
        parts.push(PartPlan {
            part,
            mode: Mode::Section,
            action,
            conflict,
            state,
            origin: want.origin.clone(),
            next_lock,
        });
    }
    let mut removed_any = false;
    for lock in &locked {
        if wanted_parts.contains(&lock.part) {
            continue;
        }
        let block = id_of(&lock.part).and_then(|id| by_id.get(id));
        let (action, conflict, state) = match block {
            None => (Action::Drop, None, State::Gone),
            Some(b)
                if matches_lock(lock, &text.as_bytes()[b.inner_start..b.inner_end])
                    || matches_lock(
                        lock,
                        crate::eol::to_lf(&text[b.inner_start..b.inner_end]).as_bytes(),
                    ) =>
            {
                edits.push(Edit::Remove {
                    start: b.start,
                    end: b.end,
                });
                removed_any = true;
                (Action::Delete, None, State::Stale)
            }
            Some(_) => (
                Action::Conflict,
                Some(ConflictKind::EditedStale),
                State::Edited,
            ),
        };
        parts.push(PartPlan {
            part: lock.part.clone(),
            mode: Mode::Section,
            action,
            conflict,
            state,
            origin: lock.origin(),
            next_lock: NextLock::Remove,
        });
    }
    let eol = crate::eol::of(text);
    let mut new_text = apply_edits(text, edits, eol);
    // Room for every block at once (one copy, not one per doubling); what is left over goes
    // before the text is kept in the plan.
    let markers = 2 * (BEGIN.len() + CLOSE.len()) + 3 * eol.len();
    new_text.reserve(
        (appends.iter())
            .map(|(id, inner)| markers + 2 * id.len() + inner.len() + inner.len() / 16)
            .sum(),
    );
    for (id, inner) in appends {
        append_to(&mut new_text, eol, &id, &inner);
    }
    new_text.shrink_to_fit();
    let executable = old.is_some_and(|f| f.executable);
    // Only a file aiwg created comes back empty (a user's whitespace comes back as it was).
    let new = if new_text.is_empty() && (old.is_none() || removed_any) {
        None
    } else {
        Some(FileData::new(new_text.into_bytes(), executable))
    };
    (new, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(text: &str, expect: Result<&[&str], &str>) {
        let got = parse(text).map(|bs| {
            bs.iter()
                .map(|b| format!("{}={}", b.id, &text[b.inner_start..b.inner_end]))
                .collect::<Vec<_>>()
        });
        match expect {
            Ok(ids) => assert_eq!(got.unwrap(), ids, "{text:?}"),
            Err(e) => {
                let err = got.unwrap_err();
                assert!(err.contains(e), "{text:?}: {err}");
            }
        }
    }

    #[test]
    fn parses_and_refuses_broken_markers() {
        check_parse("# x\n", Ok(&[]));
        check_parse(
            "a\n<!-- aiwg:begin s1 -->\nX\n<!-- aiwg:end s1 -->\nb\n  <!-- aiwg:begin s2 -->  \r\n<!-- aiwg:end s2 -->",
            Ok(&["s1=X\n", "s2="]),
        );
        check_parse(
            "<!-- aiwg:begin a -->\n",
            Err("line 1: section `a` is never closed"),
        );
        check_parse(
            "<!-- aiwg:end a -->\n",
            Err("line 1: end of section `a` without a begin"),
        );
        check_parse(
            "<!-- aiwg:begin a -->\n<!-- aiwg:begin b -->\n",
            Err("line 2: section `b` begins inside section `a`"),
        );
        check_parse(
            "<!-- aiwg:begin a -->\n<!-- aiwg:end b -->\n",
            Err("closed by an end marker for `b`"),
        );
        check_parse(
            "<!-- aiwg:begin a -->\n<!-- aiwg:end a -->\n<!-- aiwg:begin a -->\n<!-- aiwg:end a -->\n",
            Err("line 3: section `a` appears twice"),
        );
        check_parse(
            "<!-- aiwg:begin -->\n",
            Err("line 1: malformed aiwg marker"),
        );
        check_parse("<!-- aiwg:begin a b -->\n", Err("malformed"));
    }

    #[test]
    fn append_then_cut_is_identity() {
        for user in [
            "",
            "x",
            "x\n",
            "x\n\n",
            "# T\n\ntext\n",
            " ",
            "\n",
            "a\r\nb",
            "x\r\n",
            "x\r\n\r\n",
            "# T\r\n\r\ntext\r\n",
            "\r\n",
            // Found by tests/fuzz.rs: a lone CR before the LF aiwg adds is the user's.
            "--><!-- aiwg:\r",
            "x\r",
        ] {
            let one = append(user, "a", "A\n");
            let two = append(&one, "b", "B\n");
            // What is added is in the text's own line ending.
            if crate::eol::of(user) == "\r\n" {
                assert_eq!(crate::eol::of(&two), "\r\n", "{user:?}: {two:?}");
            }
            let blocks = parse(&two).unwrap();
            let b = &blocks[1];
            assert_eq!(cut(&two, b.start, b.end), one, "{user:?}");
            let a = &parse(&one).unwrap()[0];
            assert_eq!(cut(&one, a.start, a.end), user, "{user:?}");
            // The first of two sections goes first: the second takes its place.
            let a = &parse(&two).unwrap()[0];
            assert_eq!(
                cut(&two, a.start, a.end),
                append(user, "b", "B\n"),
                "{user:?}"
            );
        }
    }
}
