//! Placement: a platform file lowered once, per scope, into where each kind goes and every
//! place the platform reads it from. `render`, `aiwg platforms`, the README table and the
//! notices all read this one value, so they cannot disagree.
//!
//! A *place* is a string: a path pattern with `{name}` (one file or folder per artifact,
//! `.claude/agents/{name}.md`), a skills folder (`.agents/skills`), an instruction file whose
//! managed sections hold artifacts (`AGENTS.md`), or a settings file holding hooks.

use aiwg_core::target::Scope;
use aiwg_core::Kind;

use crate::spec::{Fallback, PlatformSpec};

/// Where one kind goes on one platform in one scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "as", rename_all = "lowercase")]
pub enum Place {
    /// One file (or folder) per artifact at `pattern`, in the platform's format.
    Native {
        /// The path pattern, `{name}` being the artifact's name.
        pattern: String,
    },
    /// Skill folders (`<folder>/<name>/SKILL.md`); which of the platform's folders is chosen
    /// by reader set at render time. `native` is false for an agent, command or runbook that
    /// falls back to a skill.
    Skill {
        /// The platform's own skills folder.
        folder: String,
        /// Whether skills are this kind's native form (only for skills).
        native: bool,
    },
    /// A managed section of the instruction file.
    Section {
        /// The instruction file.
        file: String,
    },
    /// Runbooks as rule files, for a platform without skills.
    Rule {
        /// The rule path pattern.
        pattern: String,
    },
    /// Hooks merged into a settings file, their scripts copied next to it.
    Hooks {
        /// The settings file.
        settings: String,
        /// The folder pattern the scripts go to.
        scripts: String,
    },
    /// MCP servers merged as keys into each of these JSON or TOML files.
    Config {
        /// The files, in the order of the platform's `[[mcp.file]]`.
        files: Vec<String>,
    },
    /// Not deployed.
    Skip {
        /// Why, as the notice says it after "skipped: ".
        why: String,
    },
}

impl Place {
    /// The place string the planner compares (`None` when skipped; skills folders are chosen
    /// separately).
    pub fn own(&self) -> Option<&str> {
        match self {
            Place::Native { pattern } | Place::Rule { pattern } => Some(pattern),
            Place::Skill { folder, .. } => Some(folder),
            Place::Section { file } => Some(file),
            Place::Hooks { settings, .. } => Some(settings),
            Place::Config { files } => files.first().map(String::as_str),
            Place::Skip { .. } => None,
        }
    }
}

/// One kind on one platform in one scope: where it goes and where the client reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KindPlacement {
    /// The kind.
    pub kind: Kind,
    /// Where aiwg writes it for this platform.
    pub place: Place,
    /// Every place the client reads this kind from and can rely on, its own first: another
    /// platform's copy there serves it.
    pub reads: Vec<String>,
    /// Places it reads this kind from only sometimes, or only as text where it needs the real
    /// thing (an agent as a section of `AGENTS.md`): a copy there is a duplicate, never a
    /// substitute.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_sees: Vec<String>,
}

/// A platform resolved for one scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    /// The platform id.
    pub platform: String,
    /// The scope.
    pub scope: Scope,
    /// Every kind, in [`Kind::ALL`] order.
    pub kinds: Vec<KindPlacement>,
}

impl Resolved {
    /// The placement of `kind`.
    pub fn get(&self, kind: Kind) -> &KindPlacement {
        self.kinds
            .iter()
            .find(|k| k.kind == kind)
            .expect("every kind is resolved")
    }
}

/// Why `p` has no skills folder in `scope`, pointing to the other scope when it has one there
/// (Hermes has skills only under home); `kind` words it for skills or for a fallback.
pub fn no_skills_folder(p: &PlatformSpec, scope: Scope, kind: Kind) -> String {
    match (scope, p.skill.own(Scope::User)) {
        (Scope::Project, Some(dir)) => format!(
            "no skills folder in project scope (deploy with `--scope user` to get them{} in `~/{dir}`)",
            if kind == Kind::Skill { "" } else { " as skills" }
        ),
        _ => "no skills folder".to_string(),
    }
}

/// Lowers `p` for `scope`.
pub fn resolve(p: &PlatformSpec, scope: Scope) -> Resolved {
    Resolved {
        platform: p.id.clone(),
        scope,
        kinds: Kind::ALL
            .iter()
            .map(|&kind| {
                let place = place(p, kind, scope);
                let (reads, also_sees) = reads(p, kind, scope, &place);
                KindPlacement {
                    kind,
                    place,
                    reads,
                    also_sees,
                }
            })
            .collect(),
    }
}

fn place(p: &PlatformSpec, kind: Kind, scope: Scope) -> Place {
    let skills = p.skill.own(scope);
    let as_skill = |native: bool, why: String| match skills {
        Some(folder) => Place::Skill {
            folder: folder.to_string(),
            native,
        },
        None => Place::Skip { why },
    };
    let section = |kind: Kind| match p.instructions.path(scope) {
        Some(file) => Place::Section {
            file: file.to_string(),
        },
        None => Place::Skip {
            why: format!(
                "no native {}s and no instruction file in {scope} scope",
                kind.as_str()
            ),
        },
    };
    match kind {
        Kind::Mcp => {
            let files: Vec<String> = p
                .mcp
                .files(scope)
                .into_iter()
                .map(|(path, _)| path.to_string())
                .collect();
            if files.is_empty() {
                let why = match (&p.mcp.why, p.mcp.file.is_empty()) {
                    (Some(why), _) => why.clone(),
                    (None, false) => {
                        format!("{} has no MCP configuration file in {scope} scope", p.name)
                    }
                    (None, true) => {
                        format!("{} has no MCP configuration file aiwg can write", p.name)
                    }
                };
                Place::Skip { why }
            } else {
                Place::Config { files }
            }
        }
        Kind::Skill => as_skill(true, no_skills_folder(p, scope, kind)),
        Kind::Behavior => match (p.behavior.path(scope), &p.behavior.scripts) {
            (Some(settings), Some(scripts)) => Place::Hooks {
                settings: settings.to_string(),
                scripts: scripts.clone(),
            },
            _ => Place::Skip {
                why: format!("{} has no hooks aiwg can write", p.name),
            },
        },
        Kind::Runbook => match (skills, p.rule.path(scope)) {
            (Some(_), _) => as_skill(false, String::new()),
            (None, Some(pattern)) => Place::Rule {
                pattern: pattern.to_string(),
            },
            (None, None) => match p.rule.fallback.unwrap_or(Fallback::Section) {
                Fallback::Section => section(kind),
                _ => Place::Skip {
                    why: "no skills folder and no rules".into(),
                },
            },
        },
        Kind::Agent | Kind::Command | Kind::Rule => {
            let spec = p.kind(kind).expect("file kinds have a spec");
            if let Some(pattern) = spec.path(scope) {
                return Place::Native {
                    pattern: pattern.to_string(),
                };
            }
            let default = if kind == Kind::Command {
                Fallback::Skill
            } else {
                Fallback::Section
            };
            match spec.fallback.unwrap_or(default) {
                Fallback::Skill => as_skill(
                    false,
                    format!(
                        "no native {}s and {}",
                        kind.as_str(),
                        no_skills_folder(p, scope, kind)
                    ),
                ),
                Fallback::Section => section(kind),
                Fallback::Skip => Place::Skip {
                    why: spec
                        .why
                        .clone()
                        .unwrap_or_else(|| format!("{} has no {}s", p.name, kind.as_str())),
                },
            }
        }
    }
}

/// (reads, also_sees) of `kind` for `p`, given where it goes.
fn reads(p: &PlatformSpec, kind: Kind, scope: Scope, place: &Place) -> (Vec<String>, Vec<String>) {
    let mut reads: Vec<String> = Vec::new();
    let mut also: Vec<String> = Vec::new();
    let push = |list: &mut Vec<String>, s: &str| {
        if !list.iter().any(|x| x == s) {
            list.push(s.to_string());
        }
    };
    let files = p.instructions.reads(scope);
    let sometimes = p.instructions.sometimes(scope);
    match kind {
        Kind::Skill => {
            for d in p.skill.reads(scope) {
                push(&mut reads, d);
            }
        }
        Kind::Behavior => {
            for f in p.behavior.reads(scope) {
                push(&mut reads, f);
            }
        }
        Kind::Mcp => {
            if let Place::Config { files } = place {
                for f in files {
                    push(&mut reads, f);
                }
                for f in p.mcp.reads(scope) {
                    push(&mut reads, f);
                }
            }
        }
        Kind::Agent | Kind::Command | Kind::Rule | Kind::Runbook => {
            if let Some(own) = place.own() {
                push(&mut reads, own);
            }
            if let Place::Skill { .. } = place {
                for d in p.skill.reads(scope) {
                    push(&mut reads, d);
                }
            }
            if let Some(spec) = p.kind(kind) {
                for pattern in spec.reads(scope) {
                    push(&mut reads, pattern);
                }
            }
            // A section is the real thing for a rule (instructions are text) and for a kind
            // this platform takes as a section; an agent or command in a section is only text
            // to a platform that has the real thing.
            let text_serves = kind == Kind::Rule || matches!(place, Place::Section { .. });
            for f in files {
                if text_serves {
                    push(&mut reads, f);
                } else if !reads.iter().any(|r| r == f) {
                    push(&mut also, f);
                }
            }
        }
    }
    if !matches!(kind, Kind::Skill | Kind::Behavior | Kind::Mcp) {
        for f in sometimes {
            if !reads.contains(f) {
                push(&mut also, f);
            }
        }
    }
    (reads, also)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;

    fn placement(id: &str, kind: Kind, scope: Scope) -> KindPlacement {
        resolve(Registry::builtin().get(id).unwrap(), scope)
            .get(kind)
            .clone()
    }

    #[test]
    fn rules_without_a_folder_or_section_are_skipped_everywhere() {
        // The disagreement the resolved placement removes: with no skills folder, no rule path
        // and `rule.fallback = "skip"`, runbooks are skipped (render and summary both say so).
        let text = "id = \"demo\"\nname = \"Demo\"\ndocs = \"https://x\"\n[instructions]\nproject = \"AGENTS.md\"\n[rule]\nfallback = \"skip\"\n";
        let p = PlatformSpec::parse("demo.toml", text).unwrap();
        let r = resolve(&p, Scope::Project);
        assert_eq!(
            r.get(Kind::Runbook).place,
            Place::Skip {
                why: "no skills folder and no rules".into()
            }
        );
        assert!(matches!(
            crate::summary::kind_support(&p, Kind::Runbook, Scope::Project).support,
            crate::summary::Support::Unsupported
        ));
    }

    #[test]
    fn agents_in_a_section_are_only_text_to_a_platform_with_native_agents() {
        let codex = placement("codex", Kind::Agent, Scope::Project);
        assert_eq!(codex.reads, [".codex/agents/{name}.toml"]);
        assert_eq!(codex.also_sees, ["AGENTS.md"]);
        let rules = placement("codex", Kind::Rule, Scope::Project);
        assert_eq!(rules.reads, ["AGENTS.md"]);
    }
}
