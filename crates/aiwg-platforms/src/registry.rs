//! The registry: every platform spec, embedded from `platforms/*.toml` at build time, and
//! resolution of the ids and aliases users type.

use std::sync::OnceLock;

use crate::spec::{PlatformSpec, SpecError};

/// A platform file's names and detection markers as the build read them: (id, aliases,
/// default, detect).
type BuiltHead = (
    &'static str,
    &'static [&'static str],
    bool,
    &'static [&'static str],
);

include!(concat!(env!("OUT_DIR"), "/platform_files.rs"));

/// Every known platform, sorted by id. The built-in one parses a platform's file only when
/// that platform is asked for (names, aliases and detection markers come from the build).
#[derive(Debug, Clone)]
pub struct Registry {
    heads: Vec<Head>,
    /// Every spec, in `heads` order, once [`Registry::all`] was asked (or when loaded from files).
    all: OnceLock<Vec<PlatformSpec>>,
}

/// What resolution and detection need of one platform, and its spec once parsed.
#[derive(Debug, Clone)]
struct Head {
    id: String,
    aliases: Vec<String>,
    default: bool,
    detect: Vec<String>,
    /// The built-in file (name, text) to parse on first use; `None` when loaded from files.
    file: Option<(&'static str, &'static str)>,
    spec: OnceLock<PlatformSpec>,
}

/// An id or alias that names no platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform `{given}`{}", did_you_mean.as_ref().map(|d| format!(" (did you mean `{d}`?)")).unwrap_or_default())]
pub struct UnknownPlatform {
    /// What the user typed.
    pub given: String,
    /// The closest id or alias, when one is close.
    pub did_you_mean: Option<String>,
    /// Every id, sorted, for the `hint:` line.
    pub known: Vec<String>,
}

impl UnknownPlatform {
    /// The `hint:` line: every known id, and where to see more.
    pub fn hint(&self) -> String {
        format!(
            "known platforms: {} (`aiwg platforms` shows what each one takes)",
            self.known.join(", ")
        )
    }
}

/// Why the platform files cannot be loaded (one file is broken, or two claim one name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// A platform file does not parse or fails validation.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Two platform files claim the same id or alias.
    #[error("`{name}` is claimed by both `platforms/{first}.toml` and `platforms/{second}.toml`")]
    DuplicateName {
        /// The id or alias claimed twice.
        name: String,
        /// The id of the platform that claimed it first, in id order.
        first: String,
        /// The id of the platform that claimed it again.
        second: String,
    },
}

impl Registry {
    /// The platforms built into the binary. The files are validated by a test, so a broken
    /// one never ships; this panics only on a build made from broken files.
    pub fn builtin() -> &'static Registry {
        static BUILTIN: OnceLock<Registry> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let invalid = |e: RegistryError| panic!("built-in platform data is invalid: {e}");
            if PLATFORM_HEADS.iter().any(Option::is_none) {
                // A file the build could not read: parsing them all names it.
                return Registry::from_files(PLATFORM_FILES).unwrap_or_else(invalid);
            }
            let mut heads: Vec<Head> = PLATFORM_FILES
                .iter()
                .zip(PLATFORM_HEADS.iter().flatten())
                .map(|(file, (id, aliases, default, detect))| Head {
                    id: id.to_string(),
                    aliases: aliases.iter().map(|a| a.to_string()).collect(),
                    default: *default,
                    detect: detect.iter().map(|d| d.to_string()).collect(),
                    file: Some(*file),
                    spec: OnceLock::new(),
                })
                .collect();
            heads.sort_by(|a, b| a.id.cmp(&b.id));
            Registry::checked(heads, OnceLock::new()).unwrap_or_else(invalid)
        })
    }

    /// Loads and validates platform files given as (file name, text).
    pub fn from_files(files: &[(&str, &str)]) -> Result<Registry, RegistryError> {
        let mut platforms = Vec::with_capacity(files.len());
        for (name, text) in files {
            platforms.push(PlatformSpec::parse(name, text)?);
        }
        platforms.sort_by(|a, b| a.id.cmp(&b.id));
        let heads = platforms
            .iter()
            .map(|p| Head {
                id: p.id.clone(),
                aliases: p.aliases.clone(),
                default: p.default,
                detect: p.detect.clone(),
                file: None,
                spec: OnceLock::new(),
            })
            .collect();
        Registry::checked(heads, OnceLock::from(platforms))
    }

    /// The registry of `heads` (sorted by id), unless two claim one name.
    fn checked(
        heads: Vec<Head>,
        all: OnceLock<Vec<PlatformSpec>>,
    ) -> Result<Registry, RegistryError> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for p in &heads {
            for name in std::iter::once(&p.id).chain(&p.aliases) {
                if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
                    return Err(RegistryError::DuplicateName {
                        name: name.clone(),
                        first: first.to_string(),
                        second: p.id.clone(),
                    });
                }
                seen.push((name, &p.id));
            }
        }
        Ok(Registry { heads, all })
    }

    /// The spec of `heads[i]`, parsed on first use.
    fn spec(&self, i: usize) -> &PlatformSpec {
        if let Some(all) = self.all.get() {
            return &all[i];
        }
        let head = &self.heads[i];
        head.spec.get_or_init(|| match head.file {
            Some((name, text)) => PlatformSpec::parse(name, text)
                .unwrap_or_else(|e| panic!("built-in platform data is invalid: {e}")),
            // Loaded from files: `all` is always set.
            None => unreachable!("a registry loaded from files holds every spec"),
        })
    }

    /// Every platform, sorted by id.
    pub fn all(&self) -> &[PlatformSpec] {
        self.all.get_or_init(|| {
            (0..self.heads.len())
                .map(|i| self.spec(i).clone())
                .collect()
        })
    }

    /// The platforms marked `default = true`, sorted by id.
    pub fn defaults(&self) -> Vec<&PlatformSpec> {
        (0..self.heads.len())
            .filter(|&i| self.heads[i].default)
            .map(|i| self.spec(i))
            .collect()
    }

    /// The platforms one of whose `detect` markers `exists` (a path relative to the
    /// repository root), sorted by id.
    pub fn detect(&self, exists: impl Fn(&str) -> bool) -> Vec<&PlatformSpec> {
        (0..self.heads.len())
            .filter(|&i| self.heads[i].detect.iter().any(|m| exists(m)))
            .map(|i| self.spec(i))
            .collect()
    }

    /// What a repository without a platform list deploys to: the platforms it shows in use
    /// ([`Registry::detect`]), else the defaults. The flag says whether any was detected.
    pub fn detect_or_defaults(&self, exists: impl Fn(&str) -> bool) -> (Vec<&PlatformSpec>, bool) {
        let found = self.detect(exists);
        if found.is_empty() {
            (self.defaults(), false)
        } else {
            (found, true)
        }
    }

    /// The platform with this id or alias (case-insensitive).
    pub fn get(&self, id_or_alias: &str) -> Option<&PlatformSpec> {
        let wanted = id_or_alias.trim().to_ascii_lowercase();
        let i = self
            .heads
            .iter()
            .position(|p| p.id == wanted || p.aliases.contains(&wanted))?;
        Some(self.spec(i))
    }

    /// Resolves ids and aliases to platforms, in the order given, without repeats.
    /// `all` selects every platform.
    pub fn resolve<S: AsRef<str>>(&self, ids: &[S]) -> Result<Vec<&PlatformSpec>, UnknownPlatform> {
        let mut out: Vec<&PlatformSpec> = Vec::new();
        for id in ids {
            let id = id.as_ref();
            if id.trim().eq_ignore_ascii_case("all") {
                for i in 0..self.heads.len() {
                    let p = self.spec(i);
                    if !out.iter().any(|o| o.id == p.id) {
                        out.push(p);
                    }
                }
                continue;
            }
            let p = self.get(id).ok_or_else(|| self.unknown(id))?;
            if !out.iter().any(|o| o.id == p.id) {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn unknown(&self, given: &str) -> UnknownPlatform {
        let lower = given.trim().to_ascii_lowercase();
        let did_you_mean = self
            .heads
            .iter()
            .flat_map(|p| std::iter::once(&p.id).chain(&p.aliases))
            .map(|name| (edit_distance(&lower, name), name))
            .filter(|(d, name)| *d <= 2.max(name.len() / 3) || name.starts_with(&lower))
            .min_by_key(|(d, name)| (*d, name.len()))
            .map(|(_, name)| name.clone());
        UnknownPlatform {
            given: given.to_string(),
            did_you_mean,
            known: self.heads.iter().map(|p| p.id.clone()).collect(),
        }
    }
}

/// Levenshtein distance between two short ASCII-ish strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_platform_file_loads() {
        let r = Registry::from_files(PLATFORM_FILES).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.all().len(), PLATFORM_FILES.len());
        assert!(
            r.all().len() >= 12,
            "the first twelve platforms are built in"
        );
        assert!(
            !r.defaults().is_empty(),
            "some platforms are the default set"
        );
        for p in r.all() {
            assert!(
                !p.detect.is_empty(),
                "{}: every platform can be detected",
                p.id
            );
        }
    }

    #[test]
    fn the_built_heads_match_the_parsed_files() {
        let parsed = Registry::from_files(PLATFORM_FILES).unwrap_or_else(|e| panic!("{e}"));
        let lazy = Registry::builtin();
        assert_eq!(lazy.heads.len(), parsed.all().len());
        for (head, spec) in lazy.heads.iter().zip(parsed.all()) {
            assert_eq!(
                (&head.id, &head.aliases, head.default, &head.detect),
                (&spec.id, &spec.aliases, spec.default, &spec.detect),
            );
        }
        // A fresh built-in registry parses only what is asked for.
        let fresh = Registry::checked(lazy.heads.clone(), OnceLock::new()).unwrap();
        let fresh = Registry {
            heads: fresh
                .heads
                .into_iter()
                .map(|h| Head {
                    spec: OnceLock::new(),
                    ..h
                })
                .collect(),
            all: OnceLock::new(),
        };
        assert_eq!(fresh.get("claude").unwrap().id, "claude-code");
        let parsed_now = fresh
            .heads
            .iter()
            .filter(|h| h.spec.get().is_some())
            .count();
        assert_eq!(parsed_now, 1, "only the platform asked for is parsed");
        assert_eq!(fresh.all().len(), lazy.heads.len());
        assert_eq!(fresh.get("codex").unwrap().id, "codex");
    }

    #[test]
    fn detection_reads_the_markers() {
        let r = Registry::builtin();
        let ids = |found: Vec<&PlatformSpec>| -> Vec<String> {
            found.iter().map(|p| p.id.clone()).collect()
        };
        assert_eq!(ids(r.detect(|m| m == ".clinerules")), ["cline"]);
        assert_eq!(
            ids(r.detect(|m| m == "CLAUDE.md" || m == ".cursor")),
            ["claude-code", "cursor"]
        );
        let (none, detected) = r.detect_or_defaults(|_| false);
        assert!(!detected);
        assert_eq!(ids(none), ids(r.defaults()));
    }

    #[test]
    fn resolves_ids_aliases_and_all() {
        let r = Registry::builtin();
        let ids = |given: &[&str]| -> Vec<String> {
            r.resolve(given)
                .unwrap()
                .iter()
                .map(|p| p.id.clone())
                .collect()
        };
        assert_eq!(
            ids(&["codex", "openai", "Claude-Code"]),
            ["codex", "claude-code"]
        );
        assert_eq!(ids(&["devin"]), ["windsurf"]);
        assert_eq!(ids(&["gemini"]), ["gemini-cli"]);
        assert_eq!(ids(&["agy"]), ["antigravity"]);
        assert_eq!(ids(&["all"]).len(), r.all().len());
    }

    fn check_unknown(given: &str, suggestion: Option<&str>) {
        let e = Registry::builtin().resolve(&[given]).unwrap_err();
        assert_eq!(e.did_you_mean.as_deref(), suggestion, "{given}");
        assert!(e.known.contains(&"codex".to_string()));
    }

    #[test]
    fn unknown_ids_suggest_the_closest() {
        check_unknown("cursr", Some("cursor"));
        check_unknown("claude-cod", Some("claude-code"));
        check_unknown("copliot", Some("copilot"));
        check_unknown("xyzzy-frobnicator", None);
        let e = Registry::builtin().resolve(&["cursr"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown platform `cursr` (did you mean `cursor`?)"
        );
    }

    #[test]
    fn duplicate_names_are_refused() {
        let a = "id = \"a\"\nname = \"A\"\ndocs = \"https://a\"\naliases = [\"x\"]\n";
        let b = "id = \"b\"\nname = \"B\"\ndocs = \"https://b\"\naliases = [\"x\"]\n";
        let e = Registry::from_files(&[("a.toml", a), ("b.toml", b)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`x` is claimed by both `platforms/a.toml` and `platforms/b.toml`"
        );
    }
}
