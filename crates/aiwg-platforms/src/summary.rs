//! What each platform does with each kind in each scope — native, a fallback, or
//! unsupported — where it goes and where the client reads it, in table form: the resolved
//! placement ([`crate::placement`]) as `aiwg platforms` and the README table show it.

use aiwg_core::target::Scope;
use aiwg_core::Kind;

use crate::placement::{resolve, KindPlacement, Place};
use crate::skills::SHARED;
use crate::spec::PlatformSpec;
use crate::Registry;

/// How a platform takes a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Support {
    /// The platform reads this kind natively.
    Native,
    /// Deployed in another documented form (a command as a skill, a rule as a section).
    Fallback,
    /// Not deployed; `aiwg apply` says so.
    Unsupported,
}

/// One kind on one platform in one scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KindSupport {
    /// Native, a fallback, or unsupported.
    pub support: Support,
    /// The form it takes when not native: `skill`, `section`, `rule`.
    #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_: Option<&'static str>,
    /// Where it goes (`.claude/agents/{name}.md`), relative to the scope root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Why it is not deployed, when unsupported; why it takes a fallback, when the platform
    /// file says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Every place the client reads this kind from (see [`KindPlacement`]).
    pub reads: Vec<String>,
    /// Places where a copy would be a duplicate, not a substitute.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_sees: Vec<String>,
}

impl KindSupport {
    /// Short text for tables: `.claude/agents/{name}.md`, `skill: .agents/skills/`, `—`.
    pub fn short(&self) -> String {
        match (self.support, self.as_, &self.path) {
            (Support::Native, _, Some(p)) => format!("`{p}`"),
            (Support::Fallback, Some(as_), Some(p)) => format!("{as_} in `{p}`"),
            _ => "—".to_string(),
        }
    }
}

/// How `p` takes `kind` in `scope`: its resolved placement in table form.
pub fn kind_support(p: &PlatformSpec, kind: Kind, scope: Scope) -> KindSupport {
    let KindPlacement {
        place,
        reads,
        also_sees,
        ..
    } = resolve(p, scope).get(kind).clone();
    // Where a skill goes when this platform is deployed alone (with others selected, the
    // folder can change: see `skills::place`).
    let skill_dir = |own: &str| {
        let reader = crate::skills::Reader {
            platform: &p.id,
            own: Some(own),
            reads: p.skill.reads(scope),
            sometimes: Vec::new(),
            one_per_name: p.skill.one_per_name,
        };
        let placed = crate::skills::place(&[reader], &[p.id.as_str()].into(), Some(SHARED));
        let dir = placed.dirs.first().map(String::as_str).unwrap_or(own);
        format!("{dir}/{{name}}/")
    };
    let fallback_why = || p.kind(kind).and_then(|k| k.why.clone());
    let (support, as_, path, why) = match place {
        Place::Native { pattern } => (Support::Native, None, Some(pattern), None),
        Place::Hooks { settings, .. } => (Support::Native, None, Some(settings), None),
        Place::Config { files } => (Support::Native, None, Some(files.join(", ")), None),
        Place::Skill { folder, native } => {
            let dir = Some(skill_dir(&folder));
            if native {
                (Support::Native, None, dir, None)
            } else {
                (Support::Fallback, Some("skill"), dir, fallback_why())
            }
        }
        Place::Section { file } => (
            Support::Fallback,
            Some("section"),
            Some(file),
            fallback_why(),
        ),
        Place::Rule { pattern } => (
            Support::Fallback,
            Some("rule"),
            Some(pattern),
            fallback_why(),
        ),
        Place::Skip { why } => (Support::Unsupported, None, None, Some(why)),
    };
    KindSupport {
        support,
        as_,
        path,
        why,
        reads,
        also_sees,
    }
}

/// One kind on one platform, in both scopes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KindRow {
    /// The kind this row is about.
    pub kind: Kind,
    /// How the platform takes it in project scope.
    pub project: KindSupport,
    /// How the platform takes it in user scope.
    pub user: KindSupport,
}

/// One platform's row: ids and every kind in both scopes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlatformRow {
    /// The platform id (`claude-code`).
    pub id: String,
    /// The display name (`Claude Code`).
    pub name: String,
    /// Other names `--platforms` accepts.
    pub aliases: Vec<String>,
    /// The vendor documentation page the platform file follows.
    pub docs: String,
    /// Every kind, in `Kind::ALL` order.
    pub kinds: Vec<KindRow>,
    /// How a monorepo package's rules reach it when it is the only platform selected.
    pub packages: PackageSupport,
}

/// How a monorepo package's rules reach a platform (see [`crate::nested`]), on its own.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackageSupport {
    /// `scoped` (root-level rule files globbed to the package), `nested` (a section of the
    /// package's instruction file) or `unsupported`.
    #[serde(rename = "as")]
    pub as_: &'static str,
    /// The nested instruction file, for `nested`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Every instruction file name the client reads in sub-folders (`reads_nested`).
    pub reads_nested: Vec<String>,
}

fn package_support(p: &PlatformSpec) -> PackageSupport {
    use crate::nested::{package_routes, PackageRoute};
    let (as_, file) = match package_routes(&[p]).remove(&p.id) {
        Some(PackageRoute::Scoped) => ("scoped", None),
        Some(PackageRoute::Nested { file }) => ("nested", Some(file)),
        // Alone, no other platform writes a nested file for it to read.
        Some(PackageRoute::Served { .. } | PackageRoute::Unsupported) | None => {
            ("unsupported", None)
        }
    };
    PackageSupport {
        as_,
        file,
        reads_nested: p.instructions.reads_nested.clone(),
    }
}

/// Every platform of `registry`, sorted by id.
pub fn rows(registry: &Registry) -> Vec<PlatformRow> {
    registry
        .all()
        .iter()
        .map(|p| PlatformRow {
            id: p.id.clone(),
            name: p.name.clone(),
            aliases: p.aliases.clone(),
            docs: p.docs.clone(),
            kinds: Kind::ALL
                .iter()
                .map(|k| KindRow {
                    kind: *k,
                    project: kind_support(p, *k, Scope::Project),
                    user: kind_support(p, *k, Scope::User),
                })
                .collect(),
            packages: package_support(p),
        })
        .collect()
}

/// The Markdown table of the README: one row per platform, project scope, with a mark per
/// kind (✓ native, ↪ fallback, — none).
pub fn markdown_table(registry: &Registry) -> String {
    let mut out = String::from(
        "| Platform | id (aliases) | Agents | Skills | Commands | Rules | Behaviors | Runbooks | MCP |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows(registry) {
        let ids = if row.aliases.is_empty() {
            format!("`{}`", row.id)
        } else {
            format!(
                "`{}` ({})",
                row.id,
                row.aliases
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let cells: Vec<String> = row
            .kinds
            .iter()
            .map(|k| &k.project)
            .map(|s| match s.support {
                Support::Native => format!("✓ {}", s.short()),
                Support::Fallback => format!("↪ {}", s.short()),
                Support::Unsupported => "—".to_string(),
            })
            .collect();
        out.push_str(&format!(
            "| [{}]({}) | {ids} | {} |\n",
            row.name,
            row.docs,
            cells.join(" | ")
        ));
    }
    out.push_str("\n✓ native, ↪ deployed in another documented form, — not deployed (`aiwg apply` says so). Project scope shown; `aiwg platforms` lists user scope too.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, kind: Kind, scope: Scope, expect: &str) {
        let p = Registry::builtin().get(id).unwrap();
        let s = kind_support(p, kind, scope);
        assert_eq!(
            format!("{:?} {}", s.support, s.short()),
            expect,
            "{id} {kind} {scope}"
        );
    }

    #[test]
    fn support_per_kind_and_scope() {
        check(
            "copilot",
            Kind::Mcp,
            Scope::Project,
            "Native `.vscode/mcp.json, .mcp.json`",
        );
        check(
            "zed",
            Kind::Mcp,
            Scope::User,
            "Native `.config/zed/settings.json`",
        );
        check("warp", Kind::Mcp, Scope::User, "Unsupported —");
        check(
            "claude-code",
            Kind::Agent,
            Scope::Project,
            "Native `.claude/agents/{name}.md`",
        );
        check(
            "codex",
            Kind::Command,
            Scope::Project,
            "Fallback skill in `.agents/skills/{name}/`",
        );
        check(
            "codex",
            Kind::Rule,
            Scope::User,
            "Fallback section in `.codex/AGENTS.md`",
        );
        check("agents-md", Kind::Command, Scope::Project, "Unsupported —");
        check(
            "agents-md",
            Kind::Runbook,
            Scope::Project,
            "Fallback section in `AGENTS.md`",
        );
        check("cursor", Kind::Rule, Scope::User, "Unsupported —");
        check(
            "warp",
            Kind::Agent,
            Scope::Project,
            "Fallback skill in `.agents/skills/{name}/`",
        );
        check("hermes", Kind::Agent, Scope::Project, "Unsupported —");
        check(
            "hermes",
            Kind::Agent,
            Scope::User,
            "Fallback skill in `.hermes/skills/{name}/`",
        );
        check(
            "openclaw",
            Kind::Agent,
            Scope::User,
            "Fallback skill in `.agents/skills/{name}/`",
        );
        check("agents-md", Kind::Agent, Scope::Project, "Unsupported —");
        check("hermes", Kind::Skill, Scope::Project, "Unsupported —");
        check(
            "hermes",
            Kind::Skill,
            Scope::User,
            "Native `.hermes/skills/{name}/`",
        );
        check(
            "factory",
            Kind::Behavior,
            Scope::Project,
            "Native `.factory/settings.json`",
        );
    }

    #[test]
    fn readme_table_has_a_row_per_platform() {
        let table = markdown_table(Registry::builtin());
        for p in Registry::builtin().all() {
            assert!(table.contains(&format!("`{}`", p.id)), "{}", p.id);
        }
    }
}
