//! Monorepo packages in `aiwg.toml` (`packages = ["apps/web", "services/*"]`): a folder below
//! the project root, or a one-level glob of them, whose own `.aiwg/` source deploys rules
//! scoped to that folder. Only the text is checked here (when `aiwg.toml` is parsed, so a bad
//! entry is an error with its line); the CLI resolves it against the disk.

use std::fmt;

use crate::RelPath;

/// The most `packages` entries (and, in the CLI, resolved package folders) one project has.
pub const MAX_PACKAGES: usize = 256;
/// The longest `packages` entry, in bytes.
const MAX_LEN: usize = 256;

/// One `packages` entry of `aiwg.toml`, checked when the file is read.
#[derive(Debug, Clone)]
pub struct PackagePattern {
    text: String,
    /// The 1-based line of `aiwg.toml` it is on (0 until `Config::parse` sets it).
    pub(crate) line: u32,
    /// Its byte offset in `aiwg.toml`, from which `Config::parse` computes the line.
    pub(crate) offset: usize,
    /// Why the text is not a package entry: reported by `Config::parse` with this entry's own
    /// line (a serde error would name the line of `packages = [`).
    pub(crate) error: Option<String>,
}

impl PackagePattern {
    /// Checks `text`: a relative path below the root, `/`-separated, without `.`, `..`, `~`,
    /// `\`, a `.git` or `.aiwg` component, and whose glob components (`*`, `?`, `[...]`) each
    /// match one folder name (no `**`).
    pub fn parse(text: &str) -> Result<PackagePattern, String> {
        let shown = crate::escape::escape(text);
        if text.len() > MAX_LEN {
            return Err(format!("package `{shown}` is longer than {MAX_LEN} bytes"));
        }
        if text.contains('\\') {
            return Err(format!(
                "package `{shown}` holds `\\`; write folders with `/`"
            ));
        }
        if text.starts_with('~') || text.starts_with('/') {
            return Err(format!(
                "package `{shown}` is not a folder below the project root"
            ));
        }
        let trimmed = text.trim_end_matches('/');
        for part in trimmed.split('/') {
            match part {
                "" | "." => {
                    return Err(format!(
                        "package `{shown}` has an empty or `.` component; the project root itself is not a package"
                    ))
                }
                ".." => return Err(format!("package `{shown}` leaves the project root (`..`)")),
                _ => {}
            }
            if crate::rel_path::names_git_folder(part) || crate::rel_path::names_aiwg_folder(part) {
                return Err(format!(
                    "package `{shown}` is inside `{part}`, which holds git's or aiwg's own state"
                ));
            }
            if part.contains("**") {
                return Err(format!(
                    "package `{shown}`: `**` is not allowed; a `*` matches one folder name (`apps/*`)"
                ));
            }
            if is_glob(part) {
                globset::GlobBuilder::new(part)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        format!("package `{shown}`: `{part}` is not a glob: {}", e.kind())
                    })?;
            }
        }
        RelPath::new(trimmed).map_err(|e| format!("package `{shown}`: {e}"))?;
        Ok(PackagePattern {
            text: trimmed.to_string(),
            line: 0,
            offset: 0,
            error: None,
        })
    }

    /// The entry as written (without a trailing `/`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The 1-based line of `aiwg.toml` it is on (0 when the config was not parsed from text).
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The `/`-separated components; a glob component holds `*`, `?` or `[`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.text.split('/')
    }

    /// True when any component is a glob.
    pub fn is_glob(&self) -> bool {
        self.components().any(is_glob)
    }
}

/// True when `component` is a glob (holds `*`, `?` or `[`).
pub fn is_glob(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

/// A matcher for one glob component of a package pattern (already checked by `parse`).
pub fn component_matcher(component: &str) -> Option<globset::GlobMatcher> {
    globset::GlobBuilder::new(component)
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

impl PartialEq for PackagePattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for PackagePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for PackagePattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = toml::Spanned::<String>::deserialize(d)?;
        let offset = spanned.span().start;
        let text = spanned.into_inner();
        Ok(match PackagePattern::parse(&text) {
            Ok(p) => PackagePattern { offset, ..p },
            Err(why) => PackagePattern {
                text,
                line: 0,
                offset,
                error: Some(why),
            },
        })
    }
}

impl serde::Serialize for PackagePattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_entries_are_checked() {
        let ok = |t: &str, glob: bool| {
            let p = PackagePattern::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(p.is_glob(), glob, "{t}");
        };
        ok("apps/web", false);
        ok("apps/web/", false);
        ok("services/*", true);
        ok("libs/[ab]*", true);
        let bad = |t: &str, why: &str| {
            let e = PackagePattern::parse(t).unwrap_err();
            assert!(e.contains(why), "{t}: {e}");
        };
        bad("../elsewhere", "`..`");
        bad("apps/../../x", "`..`");
        bad("/abs", "below the project root");
        bad("~/x", "below the project root");
        bad(".", "project root itself");
        bad("", "project root itself");
        bad("apps//web", "empty");
        bad("a\\b", "`\\`");
        bad(".git/hooks", "git's or aiwg's own state");
        bad("x/.GIT./y", "git's or aiwg's own state");
        bad(".aiwg", "git's or aiwg's own state");
        for spelling in [
            "git~1",
            "GIT~1/x",
            "a/.Git",
            ".git. /x",
            ".AIWG",
            "a/.aiwg./b",
            ".aiwg ",
        ] {
            bad(spelling, "git's or aiwg's own state");
        }
        bad("apps/**", "`**`");
        bad("apps/[x", "not a glob");
        bad("apps/con", "Windows reserves");
        bad(&"a/".repeat(200), "longer than");
    }
}
