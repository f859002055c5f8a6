//! `aiwg.local.toml`: one person's overlay on `aiwg.toml` (more sources, platforms and
//! excludes), and the merge of the two into the config the overlay renders.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{Config, PlatformConfig};
use crate::exclude::ArtifactPattern;
use crate::Diagnostic;

/// The file name of the personal overlay.
pub const LOCAL_CONFIG_FILE: &str = "aiwg.local.toml";

/// The parsed `aiwg.local.toml`. It only adds: no `scope`, `history` or `models` (the team's
/// file decides those), and unknown keys are an error, so `scope = "user"` in a committed one
/// stops the command instead of being ignored or honoured.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// Sources deployed after `aiwg.toml`'s: a bundled framework name, a path or
    /// `name@path` (git sources belong in `aiwg.toml`).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Platform ids (or aliases) deployed on top of `aiwg.toml`'s.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Artifacts the overlay leaves out (`kind:glob`); the team's files are never touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub exclude: Vec<ArtifactPattern>,
    /// Per-platform excludes of the overlay: `[platform.<id>] exclude = [...]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub platform: BTreeMap<String, PlatformConfig>,
}

impl LocalConfig {
    /// Parses `text`, read from `path`; a syntax or schema error is a diagnostic with its line.
    pub fn parse(path: &Path, text: &str) -> Result<LocalConfig, Diagnostic> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() as u32 + 1);
            let message = e.message().trim().to_string();
            let hint = if ["scope", "history", "models"]
                .iter()
                .any(|k| message.contains(&format!("`{k}`")))
            {
                "`aiwg.local.toml` only adds `sources`, `platforms`, `exclude` and `[platform.<id>] exclude`; scope, history and model tiers are the team's, in `aiwg.toml`"
            } else {
                "see the `aiwg.local.toml` section of the README for the keys it takes"
            };
            Diagnostic::error(path, line, message).with_hint(hint)
        })
    }

    /// `team` with this overlay on top: sources and platforms appended (each once, in
    /// order), excludes added. `team_platforms` is what `team.platforms` stands for (its
    /// default set when it names none), so adding a platform never drops the defaults.
    pub fn merged_over(&self, team: &Config, team_platforms: &[String]) -> Config {
        let mut merged = team.clone();
        for s in &self.sources {
            if !merged.sources.contains(s) {
                merged.sources.push(s.clone());
            }
        }
        if !self.platforms.is_empty() {
            merged.platforms = team_platforms.to_vec();
            for p in &self.platforms {
                if !merged.platforms.contains(p) {
                    merged.platforms.push(p.clone());
                }
            }
        }
        let known: Vec<String> = merged.exclude.iter().map(|p| p.as_str().into()).collect();
        merged.exclude.extend(
            self.exclude
                .iter()
                .filter(|p| !known.iter().any(|k| k == p.as_str()))
                .cloned(),
        );
        for (id, local) in &self.platform {
            let entry = merged.platform.entry(id.clone()).or_default();
            entry.exclude.extend(local.exclude.iter().cloned());
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_sources_platforms_and_excludes_once() {
        let team = Config::parse(
            Path::new("aiwg.toml"),
            "sources = [\"sdlc\"]\nplatforms = [\"claude-code\"]\nexclude = [\"agent:a\"]\n",
        )
        .unwrap();
        let local = LocalConfig::parse(
            Path::new(LOCAL_CONFIG_FILE),
            "sources = [\"sdlc\", \"mine@../mine\"]\nplatforms = [\"codex\"]\nexclude = [\"agent:a\", \"skill:b\"]\n[platform.codex]\nexclude = [\"rule:c\"]\n",
        )
        .unwrap();
        let merged = local.merged_over(&team, &team.platforms);
        assert_eq!(merged.sources, vec!["sdlc", "mine@../mine"]);
        assert_eq!(merged.platforms, vec!["claude-code", "codex"]);
        let excludes: Vec<&str> = merged.exclude.iter().map(|p| p.as_str()).collect();
        assert_eq!(excludes, vec!["agent:a", "skill:b"]);
        assert_eq!(merged.platform["codex"].exclude[0].as_str(), "rule:c");
        // The team's defaults stay when it names no platform.
        let defaults = Config::default();
        let merged = local.merged_over(&defaults, &["claude-code".into(), "cursor".into()]);
        assert_eq!(merged.platforms, vec!["claude-code", "cursor", "codex"]);
    }

    #[test]
    fn scope_and_unknown_keys_are_errors_with_their_line() {
        let e = LocalConfig::parse(
            Path::new(LOCAL_CONFIG_FILE),
            "sources = []\nscope = \"user\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.hint.as_deref().unwrap().contains("team's"), "{e:?}");
        let e = LocalConfig::parse(Path::new(LOCAL_CONFIG_FILE), "trust = true\n").unwrap_err();
        assert!(e.message.contains("trust"), "{}", e.message);
    }
}
