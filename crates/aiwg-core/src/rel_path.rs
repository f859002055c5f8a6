//! `RelPath`: a normalised, forward-slash, relative path that cannot leave its root.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A relative path with `/` separators, no empty, `.` or `..` components, not absolute,
/// and no component that Windows reserves (`con`, `nul`, `com1`, ...). Built only through
/// [`RelPath::new`], so holding one proves it stays inside whatever root it is joined to.
/// Shared, not copied: the target state, the plan and the lock each hold every path (tens of
/// thousands at a time), and a clone is one count, not one allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelPath(Arc<str>);

/// Why a string is not a valid [`RelPath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelPathError {
    /// The input has no components (`""`, `.`, `./`).
    #[error("path is empty")]
    Empty,
    /// The input starts with `/` or a drive prefix (`C:`); holds the input.
    #[error("path `{0}` is absolute")]
    Absolute(String),
    /// A component is `..`; holds the input.
    #[error("path `{0}` leaves its folder (`..`)")]
    ParentComponent(String),
    /// A component is a Windows device name; holds the input and that component.
    #[error("path `{0}` has a component that Windows reserves (`{1}`)")]
    Reserved(String, String),
    /// A component holds NUL or another control character; holds the input.
    #[error("path `{0}` has a character that is not allowed in file names")]
    BadCharacter(String),
}

const WINDOWS_RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// True when `component` (one path segment) is a device name Windows will not create as a file,
/// with or without an extension (`con`, `CON.md`).
pub fn is_windows_reserved(component: &str) -> bool {
    let stem = component.split('.').next().unwrap_or(component);
    // Every name is three or four letters: most stems are refused by their length alone.
    (3..=4).contains(&stem.len())
        && WINDOWS_RESERVED
            .iter()
            .any(|name| stem.eq_ignore_ascii_case(name))
}

/// Whether the path component `component` names a git folder as Windows and macOS would
/// resolve it: `.git` or an 8.3 short name of it (`git~1`..`git~9999`, `GI7EBA~1`:
/// `short_name_of`), spelled any way [`same_name`] accepts
/// (`.GIT. `, `.git::$INDEX_ALLOCATION`, `.g\u{200c}it`). The one rule for the lock's reserved paths, the config's link check and the
/// package walk.
pub fn names_git_folder(component: &str) -> bool {
    same_name(component, ".git") || short_name_of(component, "git")
}

/// Whether `component` may be an NTFS 8.3 short name of the folder `.{base}` (`base` ASCII,
/// lowercase, at least two letters): its first letters (up to six) then `~` and a number
/// (`GIT~1`, `git~2`, up to eight characters), or the hashed form Windows falls back to once
/// those are taken, its first two letters, up to four hex digits, `~` and a number
/// (`GI7EBA~1`). The hash itself depends on the name and the volume and is not computed: the
/// whole pattern is refused, so a few names no one writes (`gi12~3`) are refused with it.
/// Trailing dots and spaces and a `:` stream suffix are cut, as [`same_name`] does.
fn short_name_of(component: &str, base: &str) -> bool {
    let c = component.split(':').next().unwrap_or(component);
    let c = c.trim_end_matches(['.', ' ']);
    if !c.is_ascii() || c.len() > 8 {
        return false;
    }
    let Some((stem, number)) = c.split_once('~') else {
        return false;
    };
    let number_ok = number.bytes().all(|b| b.is_ascii_digit())
        && number
            .as_bytes()
            .first()
            .is_some_and(|b| (b'1'..=b'9').contains(b));
    let basis = &base[..base.len().min(6)];
    let hashed = stem.len() <= 6
        && stem
            .get(..2)
            .is_some_and(|two| two.eq_ignore_ascii_case(&base[..2]))
        && stem[2..].bytes().all(|b| b.is_ascii_hexdigit());
    number_ok && (stem.eq_ignore_ascii_case(basis) || hashed)
}

/// Whether the path component `component` names aiwg's own folder `.aiwg` in a spelling a
/// case-insensitive file system resolves to it (any spelling [`same_name`] accepts, or an
/// 8.3 short name: `AIWG~1`, `AI3F2C~1`).
pub fn names_aiwg_folder(component: &str) -> bool {
    same_name(component, ".aiwg") || short_name_of(component, "aiwg")
}

/// Whether `component` is `name` as NTFS and HFS+ open it: in any case, trailing dots and
/// spaces cut, up to a `:` (NTFS reads `.git::$INDEX_ALLOCATION` as the folder `.git`), and
/// without the code points HFS+ ignores in names (`.g\u{200c}it` is `.git` there; the list
/// is git's, `is_hfs_dotgit` in its `utf8.c`). Compared as bytes when the name is ASCII, as
/// this runs for every component of every lock entry.
pub fn same_name(component: &str, name: &str) -> bool {
    let n = name.as_bytes();
    let same = |c: &[u8]| {
        c.len() >= n.len()
            && c[..n.len()].eq_ignore_ascii_case(n)
            && c[n.len()..].iter().all(|&b| b == b'.' || b == b' ')
    };
    let c = component.split(':').next().unwrap_or(component);
    if c.is_ascii() {
        return same(c.as_bytes());
    }
    let kept: String = c.chars().filter(|&ch| !hfs_ignored(ch)).collect();
    same(kept.as_bytes())
}

/// The code points HFS+ drops when it compares names.
fn hfs_ignored(c: char) -> bool {
    matches!(c, '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}')
}

impl RelPath {
    /// Parses and normalises `s` (`\` is read as `/`, `./` and doubled slashes are dropped).
    pub fn new(s: &str) -> Result<Self, RelPathError> {
        // Already normal (what aiwg writes, what most sources hold): each component is checked
        // in place, in the same order as below, and the string copied once.
        let normal = !s.is_empty()
            && !s.contains('\\')
            && s.as_bytes().get(1) != Some(&b':')
            && s.split('/').all(|part| !matches!(part, "" | "." | ".."));
        if normal {
            for part in s.split('/') {
                Self::check_part(s, part)?;
            }
            return Ok(RelPath(Arc::from(s)));
        }
        let unified = s.replace('\\', "/");
        if unified.starts_with('/') || unified.as_bytes().get(1) == Some(&b':') {
            return Err(RelPathError::Absolute(s.to_string()));
        }
        let mut parts = Vec::new();
        for part in unified.split('/') {
            match part {
                "" | "." => continue,
                ".." => return Err(RelPathError::ParentComponent(s.to_string())),
                _ => {
                    Self::check_part(s, part)?;
                    parts.push(part);
                }
            }
        }
        if parts.is_empty() {
            return Err(RelPathError::Empty);
        }
        Ok(RelPath(Arc::from(parts.join("/"))))
    }

    /// One component `part` of input `s` that is not empty, `.` or `..`: no control
    /// character, no Windows device name.
    fn check_part(s: &str, part: &str) -> Result<(), RelPathError> {
        if part.chars().any(|c| c == '\0' || c.is_control()) {
            return Err(RelPathError::BadCharacter(s.to_string()));
        }
        if is_windows_reserved(part) {
            return Err(RelPathError::Reserved(s.to_string(), part.to_string()));
        }
        Ok(())
    }

    /// The path as a `/`-separated string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self/child`; fails when `child` is not itself a valid relative path.
    pub fn join(&self, child: &str) -> Result<RelPath, RelPathError> {
        RelPath::new(&format!("{}/{}", self.0, child))
    }

    /// The folder holding this path, or `None` at the top level.
    pub fn parent(&self) -> Option<RelPath> {
        self.parent_str().map(|p| RelPath(Arc::from(p)))
    }

    /// The text of [`RelPath::parent`], borrowed (nothing allocated).
    pub fn parent_str(&self) -> Option<&str> {
        self.0.rsplit_once('/').map(|(p, _)| p)
    }

    /// The last component.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The components, first to last.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// True when `self` is `prefix` or lies inside it.
    pub fn starts_with(&self, prefix: &RelPath) -> bool {
        self.0 == prefix.0 || self.0.starts_with(&format!("{}/", prefix.0))
    }

    /// This path under `root` on the local file system.
    pub fn to_path(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(self.components());
        p
    }
}

impl TryFrom<String> for RelPath {
    type Error = RelPathError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RelPath::new(&s)
    }
}

impl From<RelPath> for String {
    fn from(p: RelPath) -> String {
        p.0.to_string()
    }
}

/// Looked up by its text (a set of folders asked about a path's parent without making one):
/// it compares, orders and hashes as its text does.
impl std::borrow::Borrow<str> for RelPath {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spellings NTFS or HFS+ open as `.git` (or `.aiwg`): an alternate data stream after
    /// the name (`.git::$INDEX_ALLOCATION` is the folder itself, CVE-2019-1352), and code
    /// points HFS+ ignores in names (git's `is_hfs_dotgit` lists them).
    #[test]
    fn every_spelling_of_git_s_and_aiwg_s_folder_is_named() {
        for name in [
            ".git",
            ".GIT. ",
            "git~1",
            ".git::$INDEX_ALLOCATION",
            ".git . :$DATA",
            "git~1:x",
            ".g\u{200c}it",
            "\u{feff}.git",
            ".gi\u{206f}t\u{200e}.",
            // Every 8.3 short name NTFS may give `.git` (git itself names only `git~1`).
            "git~2",
            "GIT~4",
            "git~9. ",
            "git~10",
            "GI7EBA~1",
            "gi3f2c~9",
            "gi3f2~12",
            "GI7EBA~1:$DATA",
        ] {
            assert!(names_git_folder(name), "{name:?}");
        }
        for name in [
            ".aiwg:s",
            ".a\u{200d}iwg",
            ".AIWG. :x",
            "AIWG~1",
            "aiwg~3",
            "AI12CD~1",
        ] {
            assert!(names_aiwg_folder(name), "{name:?}");
        }
        for name in [
            ".gitx",
            ".git-x:y",
            "x.git",
            ".gi",
            "git~2x",
            ".g\u{e9}it",
            ":.git",
            "git~0",
            "git~",
            "gitx~1",
            "gi7ebg~1",
            "gi7eba~12",
            "GI7EBAA~1",
            "ab7eba~1",
            "docs~1",
        ] {
            assert!(!names_git_folder(name), "{name:?}");
        }
        for name in ["aiwgx~1", "ai~", ".aiwgx", "ab12cd~1"] {
            assert!(!names_aiwg_folder(name), "{name:?}");
        }
    }

    /// A path already in normal form is checked in place; the same path spelled `./path`
    /// takes the normalising way: both give the same path or the same kind of error.
    #[test]
    fn a_normal_path_is_checked_as_a_normalised_one_is() {
        let kind = |r: Result<RelPath, RelPathError>| {
            r.map(|p| p.to_string())
                .map_err(|e| std::mem::discriminant(&e))
        };
        for s in [
            "a/b.md",
            "skills/x/SKILL.md",
            "con.md",
            "x/CON",
            "x/Lpt9.txt/y",
            "com10/x",
            "auxiliary",
            "a\u{1}b",
            "a/\u{85}",
            "caf\u{e9}/\u{fc}",
            "a/..",
        ] {
            assert_eq!(
                kind(RelPath::new(s)),
                kind(RelPath::new(&format!("./{s}"))),
                "{s:?}"
            );
        }
    }

    fn check(input: &str, expect: Result<&str, &str>) {
        let got = RelPath::new(input)
            .map(|p| p.to_string())
            .map_err(|e| e.to_string());
        assert_eq!(
            got.as_deref().map_err(|e| e.as_ref()),
            expect,
            "input {input:?}"
        );
    }

    #[test]
    fn normalises_and_refuses() {
        check("a/b.md", Ok("a/b.md"));
        check("./a//b/", Ok("a/b"));
        check("a\\b", Ok("a/b"));
        check("", Err("path is empty"));
        check("./", Err("path is empty"));
        check("/etc/passwd", Err("path `/etc/passwd` is absolute"));
        check("C:/x", Err("path `C:/x` is absolute"));
        check("a/../b", Err("path `a/../b` leaves its folder (`..`)"));
        check(
            "rules/con.md",
            Err("path `rules/con.md` has a component that Windows reserves (`con.md`)"),
        );
        check(
            "LPT1",
            Err("path `LPT1` has a component that Windows reserves (`LPT1`)"),
        );
        check("console.md", Ok("console.md"));
    }

    #[test]
    fn parent_join_and_prefix() {
        let p = RelPath::new(".claude/skills/x/SKILL.md").unwrap();
        assert_eq!(p.parent().unwrap().as_str(), ".claude/skills/x");
        assert_eq!(p.file_name(), "SKILL.md");
        assert!(p.starts_with(&RelPath::new(".claude/skills").unwrap()));
        assert!(!p.starts_with(&RelPath::new(".claude/sk").unwrap()));
        assert!(p.parent().unwrap().join("../../etc").is_err());
    }
}
