//! Frontmatter: model tiers, tool names and template variables for one artifact on one
//! platform, and how a rule switches on.

use aiwg_core::model::ModelSpec;
use aiwg_core::{Artifact, Kind};
use serde_json::{json, Map, Value};

use super::{NoticeLevel, Shared, CONSUMED_KEYS};
use crate::spec::{KindSpec, PlatformSpec, UnknownTools};
use crate::template::{self, Vars};

/// How a rule switches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Activation {
    Always,
    Globs,
    Model,
}

pub(super) fn activation(a: &Artifact) -> Activation {
    if a.frontmatter.always() {
        Activation::Always
    } else if !a.frontmatter.globs().is_empty() {
        Activation::Globs
    } else if a.kind == Kind::Rule {
        Activation::Model
    } else {
        // A runbook written as a rule is read when relevant.
        Activation::Model
    }
}

impl Shared<'_> {
    pub(super) fn model_id(&self, p: &PlatformSpec, a: &Artifact) -> Option<String> {
        let spec = a.frontmatter.model()?;
        let name = match &spec {
            ModelSpec::Concrete(id) => {
                if p.models
                    .accept
                    .iter()
                    .any(|prefix| id.starts_with(prefix.as_str()))
                {
                    return Some(id.clone());
                }
                // Suggest a tier only where one maps to a model here (or in aiwg.toml).
                let overrides = self
                    .options
                    .model_overrides
                    .iter()
                    .find(|(k, _)| **k == p.id || p.aliases.contains(k))
                    .map(|(_, tiers)| tiers);
                let hint = ["sonnet", "opus", "haiku"]
                    .into_iter()
                    .find(|t| {
                        p.models.tier(t).is_some() || overrides.is_some_and(|o| o.get(t).is_some())
                    })
                    .map(|t| format!(" (set a tier such as `{t}`)"))
                    .unwrap_or_default();
                self.notice(
                    p,
                    Some(a.kind),
                    NoticeLevel::Warning,
                    format!(
                        "{} `{}`: model `{id}` does not run on {}; left out, so the session's model is used{hint}",
                        a.kind, a.name, p.name
                    ),
                );
                return None;
            }
            ModelSpec::Inherit => "inherit",
            tier => tier.tier().unwrap_or("inherit"),
        };
        let over = self
            .options
            .model_overrides
            .iter()
            .find(|(k, _)| **k == p.id || p.aliases.contains(k))
            .and_then(|(_, tiers)| tiers.get(name).map(str::to_string));
        over.or_else(|| p.models.tier(name).map(str::to_string))
    }

    pub(super) fn tools(&self, p: &PlatformSpec, a: &Artifact) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for tool in a.frontmatter.tools() {
            let mapped = if p.tools.is_empty() {
                Some(tool.clone())
            } else {
                let base = tool.split('(').next().unwrap_or(&tool).trim();
                // Claude Code renamed `Task` to `Agent`; tool tables use the current name.
                let base = if base == "Task" { "Agent" } else { base };
                match p.tools.get(base) {
                    Some(m) if m.is_empty() => {
                        self.notice(
                            p,
                            Some(a.kind),
                            NoticeLevel::Warning,
                            format!(
                                "{} `{}`: {} has no `{base}` tool; left out",
                                a.kind, a.name, p.name
                            ),
                        );
                        None
                    }
                    Some(m) => Some(m.clone()),
                    None => {
                        let keep = p.unknown_tools == UnknownTools::Keep;
                        self.notice(
                            p,
                            Some(a.kind),
                            NoticeLevel::Warning,
                            format!(
                                "{} `{}`: tool `{tool}` has no known {} name; {}",
                                a.kind,
                                a.name,
                                p.name,
                                if keep {
                                    "passed through unchanged"
                                } else {
                                    "left out (unknown tool names break its agents)"
                                }
                            ),
                        );
                        keep.then(|| tool.clone())
                    }
                }
            };
            if let Some(m) = mapped {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out
    }

    fn vars(&self, p: &PlatformSpec, a: &Artifact) -> Vars {
        let mut v = Vars::default();
        v.set("name", json!(a.name));
        v.set("description", json!(a.description()));
        if let Some(m) = self.model_id(p, a) {
            v.set("model", json!(m));
        }
        let tools = self.tools(p, a);
        if !tools.is_empty() {
            let mut map = Map::new();
            for t in &p.tool_universe {
                map.insert(t.clone(), json!(tools.contains(t)));
            }
            for t in &tools {
                map.insert(t.clone(), json!(true));
            }
            v.set("tools_map", Value::Object(map));
        }
        v.set("tools_csv", json!(tools.join(", ")));
        v.set("tools_space", json!(tools.join(" ")));
        v.set("tools", json!(tools));
        let globs = a.frontmatter.globs();
        v.set("globs_csv", json!(globs.join(",")));
        v.set("globs", json!(globs));
        v.set(
            "argument_hint",
            json!(a.frontmatter.argument_hint().unwrap_or_default()),
        );
        for (k, val) in &a.frontmatter.entries {
            v.set(&format!("fm:{k}"), val.clone());
        }
        v
    }

    /// The frontmatter for `a` from `spec`'s template (and the rule activation table).
    pub(super) fn frontmatter(
        &self,
        p: &PlatformSpec,
        a: &Artifact,
        spec: &KindSpec,
    ) -> Map<String, Value> {
        let vars = self.vars(p, a);
        let mut out = Map::new();
        template::fill(&spec.frontmatter, &vars, &mut out);
        if matches!(a.kind, Kind::Rule | Kind::Runbook) {
            let when = match activation(a) {
                Activation::Always => &spec.when.always,
                Activation::Globs => &spec.when.globs,
                Activation::Model => &spec.when.model,
            };
            template::fill(when, &vars, &mut out);
        }
        if spec.passthrough {
            for (k, v) in &a.frontmatter.entries {
                if !out.contains_key(k) && !CONSUMED_KEYS.contains(&k.as_str()) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        out
    }
}
