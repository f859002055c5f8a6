//! `aiwg.toml`: which sources a project deploys, to which platforms, in which scope.

use std::collections::BTreeMap;
use std::path::Path;

use crate::exclude::ArtifactPattern;
use crate::package::{PackagePattern, MAX_PACKAGES};
use crate::target::Scope;
use crate::Diagnostic;

/// The file name of the project configuration.
pub const CONFIG_FILE: &str = "aiwg.toml";

/// The parsed `aiwg.toml`. Unknown keys are an error (a typo must not be silently ignored).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Sources in deploy order: a bundled framework name (`sdlc`), a path (`.aiwg`,
    /// `./vendor/x`), or `name@path` to give a path source a name.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Platform ids (or aliases) to deploy to.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Where to deploy: `project` (the repository, the default) or `user` (the home folder).
    #[serde(default)]
    pub scope: Scope,
    /// The `[history]` table: how many apply generations to keep.
    #[serde(default)]
    pub history: History,
    /// Per-platform model tier overrides: `[models.codex] opus = "..."`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, Tiers>,
    /// Artifacts no platform gets: `kind:glob` patterns (`agent:legacy-*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub exclude: Vec<ArtifactPattern>,
    /// Per-platform settings: `[platform.<id>] exclude = [...]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub platform: BTreeMap<String, PlatformConfig>,
    /// Monorepo packages: folders below the root (or one-level globs, `services/*`), each
    /// with its own `.aiwg/` whose rules deploy scoped to that folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub packages: Vec<PackagePattern>,
    /// Whether the files aiwg generates are committed (`commit`, the default) or kept out of
    /// git (`ignore`: a block of exact paths in `.gitignore`, re-deployed by the post-checkout
    /// and post-merge hooks). Project scope only.
    #[serde(default, skip_serializing_if = "Generated::is_commit")]
    pub generated: Generated,
}

/// `generated`: what git does with the files aiwg writes.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Generated {
    /// Committed with the sources (the default).
    #[default]
    Commit,
    /// Kept out of git: every file aiwg owns whole is listed in aiwg's block of `.gitignore`;
    /// shared files (sections, merged keys) hold the user's content too and stay committed.
    Ignore,
}

impl Generated {
    /// True for the default, `commit`.
    pub fn is_commit(&self) -> bool {
        *self == Generated::Commit
    }
}

/// `[platform.<id>]`: what one platform leaves out.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// Artifacts this platform does not get, on top of the top-level `exclude`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub exclude: Vec<ArtifactPattern>,
}

/// `[models.<platform>]`: the model id per tier. A key that is not a tier is a parse error with
/// its line, never silently ignored.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    /// The id for the `opus` tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opus: Option<String>,
    /// The id for the `sonnet` tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sonnet: Option<String>,
    /// The id for the `haiku` tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub haiku: Option<String>,
    /// What `model: inherit` becomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherit: Option<String>,
}

impl Tiers {
    /// The id set for `tier` (`opus`, `sonnet`, `haiku`, `inherit`), if any.
    pub fn get(&self, tier: &str) -> Option<&str> {
        match tier {
            "opus" => self.opus.as_deref(),
            "sonnet" => self.sonnet.as_deref(),
            "haiku" => self.haiku.as_deref(),
            "inherit" => self.inherit.as_deref(),
            _ => None,
        }
    }
}

/// `[history]`: how many apply generations `.aiwg/history/` keeps.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// How many complete apply generations to keep: 10 when unset; 0 is treated as 1.
    #[serde(default = "default_keep")]
    pub keep: usize,
}

fn default_keep() -> usize {
    10
}

impl Default for History {
    fn default() -> Self {
        History {
            keep: default_keep(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sources: Vec::new(),
            platforms: Vec::new(),
            scope: Scope::Project,
            history: History::default(),
            models: BTreeMap::new(),
            exclude: Vec::new(),
            platform: BTreeMap::new(),
            packages: Vec::new(),
            generated: Generated::Commit,
        }
    }
}

impl Config {
    /// Parses `text`, read from `path`; a syntax or schema error is a diagnostic with its line.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Diagnostic> {
        let line_at =
            |offset: usize| text[..offset.min(text.len())].matches('\n').count() as u32 + 1;
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| line_at(span.start));
            Diagnostic::error(path, line, e.message().trim().to_string())
                .with_hint("see the `aiwg.toml` section of the README for the keys it takes")
        })?;
        for p in &mut config.packages {
            p.line = line_at(p.offset);
            if let Some(why) = p.error.take() {
                return Err(Diagnostic::error(path, Some(p.line), why).with_hint(
                    "a package is a folder below the project root: a `/`-separated path (`apps/web`) or a one-level glob (`services/*`)",
                ));
            }
        }
        if config.packages.len() > MAX_PACKAGES {
            let line = config.packages[MAX_PACKAGES].line;
            return Err(Diagnostic::error(
                path,
                Some(line),
                format!("more than {MAX_PACKAGES} `packages` entries"),
            )
            .with_hint("name package folders with a glob (`apps/*`)"));
        }
        Ok(config)
    }

    /// The TOML text of this config.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a Config always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_defaults_and_reports_bad_keys_with_line() {
        let c = Config::parse(Path::new("aiwg.toml"), "sources = [\"sdlc\"]\n").unwrap();
        assert_eq!(c.sources, vec!["sdlc"]);
        assert_eq!(c.history.keep, 10);
        assert_eq!(c.scope, Scope::Project);
        let e =
            Config::parse(Path::new("aiwg.toml"), "sources = []\nplatfroms = []\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("platfroms"), "{}", e.message);
    }

    #[test]
    fn model_tiers_are_checked_at_parse_time_with_the_line() {
        let c = Config::parse(
            Path::new("aiwg.toml"),
            "[models.codex]\nopus = \"gpt-6.2-sol\"\n",
        )
        .unwrap();
        assert_eq!(c.models["codex"].get("opus"), Some("gpt-6.2-sol"));
        assert_eq!(c.models["codex"].get("haiku"), None);
        let e =
            Config::parse(Path::new("aiwg.toml"), "[models.codex]\n\nhuge = \"x\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("`huge`"), "{}", e.message);
    }

    #[test]
    fn packages_are_checked_with_their_line() {
        let text = "platforms = [\"codex\"]\npackages = [\n  \"apps/web\",\n  \"services/*\",\n]\n";
        let c = Config::parse(Path::new("aiwg.toml"), text).unwrap();
        let got: Vec<(&str, u32)> = c.packages.iter().map(|p| (p.as_str(), p.line())).collect();
        assert_eq!(got, [("apps/web", 3), ("services/*", 4)]);
        let e = Config::parse(
            Path::new("aiwg.toml"),
            "packages = [\n\"apps/web\",\n\"../x\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        assert!(e.message.contains("`..`"), "{}", e.message);
        let many: Vec<String> = (0..=MAX_PACKAGES).map(|i| format!("\"p{i}\"")).collect();
        let text = format!("packages = [\n{}\n]\n", many.join(",\n"));
        let e = Config::parse(Path::new("aiwg.toml"), &text).unwrap_err();
        assert!(e.message.contains("more than"), "{}", e.message);
        assert_eq!(e.line, Some(MAX_PACKAGES as u32 + 2));
    }

    #[test]
    fn excludes_are_checked_with_their_line() {
        let text = "exclude = [\"agent:legacy-*\"]\n[platform.codex]\nexclude = [\"skill:[x\"]\n";
        let e = Config::parse(Path::new("aiwg.toml"), text).unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        assert!(e.message.contains("not a glob"), "{}", e.message);
        let ok = "exclude = [\"agent:legacy-*\"]\n[platform.codex]\nexclude = [\"skill:x\"]\n";
        let c = Config::parse(Path::new("aiwg.toml"), ok).unwrap();
        assert_eq!(c.exclude[0].as_str(), "agent:legacy-*");
        assert_eq!(c.platform["codex"].exclude[0].as_str(), "skill:x");
        let e =
            Config::parse(Path::new("aiwg.toml"), "[platform.codex]\nexlude = []\n").unwrap_err();
        assert!(e.message.contains("exlude"), "{}", e.message);
    }
}
