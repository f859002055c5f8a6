//! The bundled frameworks and extensions: their `framework.toml` manifests, for
//! `aiwg list --frameworks`, `aiwg use all` and the `requires` of an extension.

use crate::bundled::BUNDLED_FILES;

/// A bundled framework or extension, from its `framework.toml`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub name: String,
    pub description: String,
    /// `framework` or `extension`.
    pub kind: String,
    /// Frameworks this one builds on, deployed with it.
    #[serde(default)]
    pub requires: Vec<String>,
}

/// Every bundled framework and extension, frameworks first, each group by name.
/// A manifest that does not parse is a build defect, caught by a test.
pub fn bundled() -> Vec<Framework> {
    let mut all: Vec<Framework> = BUNDLED_FILES
        .iter()
        .filter(|(path, _, _)| {
            let parts: Vec<&str> = path.split('/').collect();
            parts.len() == 3 && parts[2] == "framework.toml"
        })
        .filter_map(|(_, bytes, _)| toml::from_str(std::str::from_utf8(bytes).ok()?).ok())
        .collect();
    all.sort_by(|a, b| (a.kind != "framework", &a.name).cmp(&(b.kind != "framework", &b.name)));
    all
}

/// `name` with everything it requires, dependencies first, each once.
pub fn with_requirements(name: &str) -> Vec<String> {
    fn visit(name: &str, all: &[Framework], out: &mut Vec<String>) {
        if out.iter().any(|n| n == name) {
            return;
        }
        if let Some(f) = all.iter().find(|f| f.name == name) {
            for req in &f.requires {
                visit(req, all, out);
            }
        }
        out.push(name.to_string());
    }
    let all = bundled();
    let mut out = Vec::new();
    visit(name, &all, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_manifest_parses_and_matches_its_folder() {
        let manifests = BUNDLED_FILES
            .iter()
            .filter(|(p, _, _)| p.split('/').count() == 3 && p.ends_with("/framework.toml"));
        for (path, bytes, _) in manifests {
            let f: Framework = toml::from_str(std::str::from_utf8(bytes).unwrap())
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(path.split('/').nth(1), Some(f.name.as_str()), "{path}");
            assert!(
                matches!(f.kind.as_str(), "framework" | "extension"),
                "{path}"
            );
            for req in &f.requires {
                assert!(
                    bundled().iter().any(|g| &g.name == req),
                    "{path} requires unknown `{req}`"
                );
            }
        }
    }
}
