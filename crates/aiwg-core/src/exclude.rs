//! Artifact patterns for `exclude` in `aiwg.toml`: `kind:glob` (`agent:legacy-*`), `*:glob`
//! or a bare `glob` for every kind, the glob (globset syntax) matched against the name.

use std::fmt;

use crate::model::{Artifact, Kind};

/// One `exclude` entry, checked when `aiwg.toml` is read.
#[derive(Debug, Clone)]
pub struct ArtifactPattern {
    text: String,
    kind: Option<Kind>,
    name: globset::GlobMatcher,
}

impl ArtifactPattern {
    /// Parses `kind:glob`, `*:glob` or `glob`; a kind aiwg does not know or a glob that is
    /// not one is an error saying why.
    pub fn parse(text: &str) -> Result<ArtifactPattern, String> {
        let (kind, glob) = match text.split_once(':') {
            Some(("*", glob)) => (None, glob),
            Some((kind, glob)) => (Some(kind.parse::<Kind>()?), glob),
            None => (None, text),
        };
        if glob.is_empty() {
            return Err(format!("`{text}` has no name pattern after the kind"));
        }
        let name = globset::Glob::new(glob)
            .map_err(|e| format!("`{glob}` is not a glob: {}", e.kind()))?
            .compile_matcher();
        Ok(ArtifactPattern {
            text: text.to_string(),
            kind,
            name,
        })
    }

    /// True when `artifact` is of the pattern's kind (any, for `*:`) and its name matches.
    pub fn matches(&self, artifact: &Artifact) -> bool {
        self.kind.is_none_or(|k| k == artifact.kind) && self.name.is_match(&artifact.name)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for ArtifactPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for ArtifactPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for ArtifactPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ArtifactPattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for ArtifactPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// True when any of `patterns` matches `artifact`.
pub fn is_excluded(patterns: &[ArtifactPattern], artifact: &Artifact) -> bool {
    patterns.iter().any(|p| p.matches(artifact))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(kind: Kind, name: &str) -> Artifact {
        Artifact {
            kind,
            name: name.into(),
            source: ".aiwg".into(),
            path: crate::RelPath::new("agents/x.md").unwrap(),
            frontmatter: Default::default(),
            body: String::new(),
            body_line: 1,
            assets: Vec::new(),
        }
    }

    #[test]
    fn patterns_match_kind_and_name() {
        let p = ArtifactPattern::parse("agent:legacy-*").unwrap();
        assert!(p.matches(&artifact(Kind::Agent, "legacy-reviewer")));
        assert!(!p.matches(&artifact(Kind::Skill, "legacy-reviewer")));
        assert!(!p.matches(&artifact(Kind::Agent, "reviewer")));
        let any = ArtifactPattern::parse("*-draft").unwrap();
        assert!(any.matches(&artifact(Kind::Skill, "pdf-draft")));
        let star = ArtifactPattern::parse("*:{a,b}").unwrap();
        assert!(star.matches(&artifact(Kind::Rule, "b")));
        assert!(
            ArtifactPattern::parse("skills:x").is_ok(),
            "plural kinds read too"
        );
    }

    #[test]
    fn bad_patterns_say_why() {
        let e = ArtifactPattern::parse("widget:x").unwrap_err();
        assert!(e.contains("unknown kind"), "{e}");
        let e = ArtifactPattern::parse("agent:[x").unwrap_err();
        assert!(e.contains("not a glob"), "{e}");
        assert!(ArtifactPattern::parse("agent:").is_err());
    }
}
