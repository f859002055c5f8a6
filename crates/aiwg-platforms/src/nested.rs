//! Monorepo packages: how each selected platform gets the rules of a package folder
//! (`packages` in `aiwg.toml`), decided from platform data alone — its rule place in project
//! scope, whether that place scopes by glob (`[rule.when.globs]`), and which instruction files
//! it reads in sub-folders (`[instructions] reads_nested`).

use std::collections::BTreeMap;

use aiwg_core::target::Scope;
use aiwg_core::Kind;

use crate::placement::{self, Place};
use crate::spec::PlatformSpec;

/// Where one platform gets a package's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageRoute {
    /// Root-level rule files whose globs are the package folder's (`apps/web/**`): the
    /// platform has glob-scoped rule files (Claude Code `paths:`, Cursor `globs:`, Copilot
    /// `applyTo:`) and no nested file written for another platform reaches it.
    Scoped,
    /// A managed section of `<package>/<file>`: the platform puts rules in its instruction
    /// file and reads that file in sub-folders (Codex's nested AGENTS.md).
    Nested {
        /// The instruction file name (`AGENTS.md`).
        file: String,
    },
    /// Nothing of its own: it reads `<package>/<file>`, written for `platforms` (Cursor reads
    /// the nested AGENTS.md written for Codex; a glob-scoped copy would show it twice).
    Served {
        /// The nested file it reads.
        file: String,
        /// The platforms it is written for.
        platforms: Vec<String>,
    },
    /// Neither a nested instruction file nor glob-scoped rules: not deployed, with a notice.
    Unsupported,
}

/// The route of every platform in `platforms` (by id), for any package (the routes depend on
/// the platforms only).
pub fn package_routes(platforms: &[&PlatformSpec]) -> BTreeMap<String, PackageRoute> {
    let mut routes = BTreeMap::new();
    // The nested files written: by the platforms whose only place for rules is their
    // instruction file, when they read it in sub-folders.
    let mut written: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in platforms {
        let place = placement::resolve(p, Scope::Project)
            .get(Kind::Rule)
            .place
            .clone();
        let route = match place {
            Place::Native { .. } if !p.rule.when.globs.is_empty() => PackageRoute::Scoped,
            Place::Section { file } if p.instructions.reads_nested.contains(&file) => {
                written.entry(file.clone()).or_default().push(p.id.clone());
                PackageRoute::Nested { file }
            }
            _ => PackageRoute::Unsupported,
        };
        routes.insert(p.id.clone(), route);
    }
    for p in platforms {
        if routes[&p.id] != PackageRoute::Scoped {
            continue;
        }
        let served = p
            .instructions
            .reads_nested
            .iter()
            .find_map(|f| written.get(f).map(|by| (f.clone(), by.clone())));
        if let Some((file, platforms)) = served {
            routes.insert(p.id.clone(), PackageRoute::Served { file, platforms });
        }
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;

    fn routes(ids: &[&str]) -> BTreeMap<String, PackageRoute> {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        package_routes(&Registry::builtin().resolve(&ids).unwrap())
    }

    #[test]
    fn routes_follow_the_platform_data() {
        let r = routes(&["claude-code", "codex", "cursor", "zed"]);
        assert_eq!(r["claude-code"], PackageRoute::Scoped);
        assert_eq!(
            r["codex"],
            PackageRoute::Nested {
                file: "AGENTS.md".into()
            }
        );
        // Cursor reads the nested AGENTS.md written for Codex.
        assert_eq!(
            r["cursor"],
            PackageRoute::Served {
                file: "AGENTS.md".into(),
                platforms: vec!["codex".into()]
            }
        );
        assert_eq!(r["zed"], PackageRoute::Unsupported);
        // Without a platform writing nested AGENTS.md, Cursor scopes its own rule files.
        assert_eq!(routes(&["cursor"])["cursor"], PackageRoute::Scoped);
    }

    #[test]
    fn every_platform_that_reads_nested_files_names_markdown_files() {
        for p in Registry::builtin().all() {
            for f in &p.instructions.reads_nested {
                assert!(f.ends_with(".md") && !f.contains('/'), "{}: {f}", p.id);
            }
        }
    }

    #[test]
    fn each_platform_alone_has_the_route_the_readme_names() {
        let scoped = [
            "antigravity",
            "claude-code",
            "cline",
            "continue",
            "copilot",
            "cursor",
            "kiro",
            "trae",
            "windsurf",
        ];
        let nested = [
            "agents-md",
            "amp",
            "codex",
            "factory",
            "gemini-cli",
            "hermes",
            "kilo",
            "kimi",
            "mistral-vibe",
            "opencode",
            "pi",
            "qwen",
            "warp",
        ];
        for p in Registry::builtin().all() {
            let got = &package_routes(&[p])[&p.id];
            let want = if scoped.contains(&p.id.as_str()) {
                "scoped"
            } else if nested.contains(&p.id.as_str()) {
                "nested"
            } else {
                "unsupported"
            };
            let is = match got {
                PackageRoute::Scoped => "scoped",
                PackageRoute::Nested { .. } => "nested",
                PackageRoute::Unsupported => "unsupported",
                PackageRoute::Served { .. } => "served",
            };
            assert_eq!(is, want, "{}", p.id);
        }
    }
}
