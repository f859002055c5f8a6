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
/// resolve it: `.git` or its 8.3 short name `git~1`, in any case, trailing dots and spaces
/// dropped. The one rule for the lock's reserved paths, the config's link check and the
/// package walk.
pub fn names_git_folder(component: &str) -> bool {
    same_name(component, ".git") || same_name(component, "git~1")
}

/// Whether the path component `component` names aiwg's own folder `.aiwg` in a spelling a
/// case-insensitive file system resolves to it (any case, trailing dots and spaces dropped).
pub fn names_aiwg_folder(component: &str) -> bool {
    same_name(component, ".aiwg")
}

/// Whether `component` with its trailing dots and spaces cut is `name`, in any case (no name
/// ends in either): compared as bytes, as this runs for every component of every lock entry.
pub fn same_name(component: &str, name: &str) -> bool {
    let (c, n) = (component.as_bytes(), name.as_bytes());
    c.len() >= n.len()
        && c[..n.len()].eq_ignore_ascii_case(n)
        && c[n.len()..].iter().all(|&b| b == b'.' || b == b' ')
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
        self.0.rsplit_once('/').map(|(p, _)| RelPath(Arc::from(p)))
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
