//! `render`: the model × the selected platforms × one scope → a `TargetState` and notices.
//!
//! Pure: it reads only the model and the platform specs, never the destination. Every
//! artifact goes to its native place where the platform has one in that scope; otherwise to
//! the platform's fallback (a command or agent becomes a skill, an agent or rule a managed
//! section of the instruction file) or nowhere, and a [`Notice`] says so, one line per
//! platform and kind. Runbook sections are written after the skills, so a runbook that also
//! has a skill copy is only indexed there (see `section_text`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use aiwg_core::model::ModelSpec;
use aiwg_core::rel_path::RelPathError;
use aiwg_core::target::{
    ConfigFormat, Desired, MergeEntry, Origin, Scope, TargetClash, TargetEntry, TargetState,
};
use aiwg_core::{Artifact, Kind, Model, RelPath};
use serde_json::{json, Map, Value};

use crate::skills::{self, Reader};
use crate::spec::{Fallback, Format, KindSpec, PlatformSpec, UnknownTools};
use crate::template::{self, Vars};
use crate::yaml;

/// Choices that come from `aiwg.toml` rather than the platform files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderOptions {
    /// `[models.<platform>] <tier> = "<id>"`: per-platform tier overrides (id or alias).
    pub model_overrides: BTreeMap<String, BTreeMap<String, String>>,
}

/// How much a [`Notice`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeLevel {
    /// A documented fallback or skip: the user should know, nothing is wrong.
    Info,
    /// Something will not work as written (a dropped model, a duplicate, a size limit).
    Warning,
}

/// One line for `aiwg apply` and `aiwg status` about one platform.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Notice {
    /// The id of the platform it is about.
    pub platform: String,
    /// The kind it is about, if one.
    pub kind: Option<Kind>,
    /// Whether it is a documented fallback or something that will not work as written.
    pub level: NoticeLevel,
    /// The text to show, without the platform id (`Display` puts that in front).
    pub message: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.platform, self.message)
    }
}

/// What the platforms want on disk, and what the user should be told about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// Every path and part the selected platforms want, relative to the scope root.
    pub target: TargetState,
    /// Sorted by platform, then kind, then message.
    pub notices: Vec<Notice>,
}

/// Why a render cannot produce a target state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// Two platforms (or artifacts) want one path with different content.
    #[error(transparent)]
    Clash(Box<TargetClash>),
    /// An artifact name makes a path that cannot be written.
    #[error("{platform}: cannot write `{artifact}`: {reason}")]
    BadPath {
        /// The id of the platform whose path pattern made the path.
        platform: String,
        /// The artifact's `kind:name`.
        artifact: String,
        /// Why the path is not a valid relative path.
        reason: RelPathError,
    },
    /// `[models.<platform>]` in `aiwg.toml` names something that is not a tier.
    #[error("`[models.{platform}]` sets `{tier}`, which is not a model tier (use opus, sonnet, haiku or inherit)")]
    ModelOverride {
        /// The platform key as written under `[models]`.
        platform: String,
        /// The key that is not `opus`, `sonnet`, `haiku` or `inherit`.
        tier: String,
    },
}

impl From<TargetClash> for RenderError {
    fn from(clash: TargetClash) -> Self {
        RenderError::Clash(Box::new(clash))
    }
}

/// Frontmatter keys aiwg reads itself; `passthrough` never copies them raw.
const CONSUMED_KEYS: &[&str] = &[
    "name",
    "description",
    "model",
    "tools",
    "globs",
    "paths",
    "applyTo",
    "always",
    "alwaysApply",
];

/// The Agent Skills specification's frontmatter keys, the only ones a shared SKILL.md carries.
pub const SPEC_SKILL_KEYS: &[&str] = &[
    "name",
    "description",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
];

/// The id of the CLAUDE.md section that imports AGENTS.md.
pub const BRIDGE_SECTION: &str = "agents-md-bridge";

/// Renders `model` for `platforms` in `scope`.
pub fn render(
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
    options: &RenderOptions,
) -> Result<Rendered, RenderError> {
    for (platform, tiers) in &options.model_overrides {
        if let Some(tier) = tiers
            .keys()
            .find(|t| !matches!(t.as_str(), "opus" | "sonnet" | "haiku" | "inherit"))
        {
            return Err(RenderError::ModelOverride {
                platform: platform.clone(),
                tier: tier.clone(),
            });
        }
    }
    let mut r = Renderer {
        scope,
        options,
        target: TargetState::new(),
        notices: BTreeSet::new(),
        tally: BTreeMap::new(),
        section_bytes: BTreeMap::new(),
        runbook_skills: BTreeMap::new(),
    };
    let mut platforms: Vec<&PlatformSpec> = platforms.to_vec();
    platforms.sort_by(|a, b| a.id.cmp(&b.id));
    platforms.dedup_by(|a, b| a.id == b.id);

    let mut skill_needers: BTreeSet<&str> = BTreeSet::new();
    let mut agent_skill_needers: BTreeSet<&str> = BTreeSet::new();
    let mut command_skill_needers: BTreeSet<&str> = BTreeSet::new();
    // Platforms whose runbooks become a section: written once the skills are placed, so the
    // section can point to a runbook's skill copy instead of repeating it.
    let mut runbook_sections: Vec<&PlatformSpec> = Vec::new();
    for p in &platforms {
        let has_skills = p.skill.own(scope).is_some();
        if has_skills {
            skill_needers.insert(&p.id);
        }
        if r.agents(model, p, has_skills)? {
            agent_skill_needers.insert(&p.id);
        }
        if r.commands(model, p, has_skills)? {
            command_skill_needers.insert(&p.id);
        }
        r.rules(model, p)?;
        if r.runbooks(model, p, has_skills)? {
            runbook_sections.push(p);
        }
        r.behaviors(model, p)?;
        if !has_skills {
            let n = model.of_kind(Kind::Skill).count();
            let how = format!("skipped: {}", r.no_skills_folder(p, Kind::Skill));
            r.count(p, Kind::Skill, &how, n);
        }
    }
    // In order of precedence: the first kind to claim a name takes its skill folder.
    let skill_kinds = [
        (Kind::Skill, &skill_needers),
        (Kind::Runbook, &skill_needers),
        (Kind::Agent, &agent_skill_needers),
        (Kind::Command, &command_skill_needers),
    ];
    r.skills(model, &platforms, &skill_kinds)?;
    let runbooks = sorted(model, Kind::Runbook);
    for p in runbook_sections {
        r.fallback(p, Kind::Runbook, &runbooks, Fallback::Section)?;
    }
    r.bridge(&platforms)?;
    r.limits(&platforms);
    r.flush_tally();
    Ok(Rendered {
        target: r.target,
        notices: r.notices.into_iter().collect(),
    })
}

struct Renderer<'o> {
    scope: Scope,
    options: &'o RenderOptions,
    target: TargetState,
    notices: BTreeSet<Notice>,
    /// (platform, kind, what happened) → count, flushed as one line each.
    tally: BTreeMap<(String, Kind, String), usize>,
    /// (platform, instruction file) → bytes and characters of aiwg's sections in it.
    section_bytes: BTreeMap<(String, String), (usize, usize)>,
    /// Runbook name → its SKILL.md as a section's index shows it, for every runbook this
    /// render writes as a skill (filled by `skills`).
    runbook_skills: BTreeMap<String, String>,
}

/// Frontmatter and body as one Markdown file; without frontmatter the body's leading blank
/// lines go too.
fn markdown(fm: &Map<String, Value>, body: &str) -> String {
    let block = yaml::frontmatter_block(fm);
    if block.is_empty() {
        body.trim_start_matches(['\n', '\r']).to_string()
    } else {
        format!("{block}{body}")
    }
}

/// A kind's place on a platform in a scope.
enum Mode<'a> {
    Native(&'a str),
    Fallback(Fallback),
}

fn mode<'a>(kind: Kind, spec: &'a KindSpec, scope: Scope) -> Mode<'a> {
    match spec.path(scope) {
        Some(p) => Mode::Native(p),
        None => Mode::Fallback(spec.fallback.unwrap_or(match kind {
            Kind::Command => Fallback::Skill,
            _ => Fallback::Section,
        })),
    }
}

/// How a rule switches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    Always,
    Globs,
    Model,
}

fn activation(a: &Artifact) -> Activation {
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

fn sorted(model: &Model, kind: Kind) -> Vec<&Artifact> {
    let mut v: Vec<&Artifact> = model.of_kind(kind).collect();
    v.sort_by(|a, b| (&a.source, &a.name).cmp(&(&b.source, &b.name)));
    v
}

fn plural(kind: Kind, n: usize) -> String {
    if n == 1 {
        kind.as_str().to_string()
    } else {
        format!("{}s", kind.as_str())
    }
}

impl Renderer<'_> {
    fn notice(
        &mut self,
        p: &PlatformSpec,
        kind: Option<Kind>,
        level: NoticeLevel,
        message: String,
    ) {
        self.notices.insert(Notice {
            platform: p.id.clone(),
            kind,
            level,
            message,
        });
    }

    /// Counts `n` artifacts of `kind` that went `how` on `p`; one notice line per group.
    fn count(&mut self, p: &PlatformSpec, kind: Kind, how: &str, n: usize) {
        if n > 0 {
            *self
                .tally
                .entry((p.id.clone(), kind, how.to_string()))
                .or_default() += n;
        }
    }

    fn flush_tally(&mut self) {
        for ((platform, kind, how), n) in std::mem::take(&mut self.tally) {
            self.notices.insert(Notice {
                platform,
                kind: Some(kind),
                level: NoticeLevel::Info,
                message: format!("{n} {} {how}", plural(kind, n)),
            });
        }
    }

    fn path(&self, p: &PlatformSpec, a: &Artifact, pattern: &str) -> Result<RelPath, RenderError> {
        RelPath::new(&pattern.replace("{name}", &a.name)).map_err(|reason| RenderError::BadPath {
            platform: p.id.clone(),
            artifact: a.id(),
            reason,
        })
    }

    fn insert(
        &mut self,
        path: RelPath,
        desired: Desired,
        source: &str,
        artifact: String,
        p: &PlatformSpec,
    ) -> Result<(), RenderError> {
        self.target.insert(TargetEntry {
            path,
            desired,
            origin: Origin {
                source: source.to_string(),
                artifact,
                platforms: vec![p.id.clone()],
            },
        })?;
        Ok(())
    }

    fn file(
        &mut self,
        p: &PlatformSpec,
        a: &Artifact,
        path: RelPath,
        text: String,
    ) -> Result<(), RenderError> {
        self.insert(
            path,
            Desired::File {
                bytes: text.into_bytes(),
                executable: false,
            },
            &a.source,
            a.id(),
            p,
        )
    }

    fn check_size(&mut self, p: &PlatformSpec, a: &Artifact, spec: &KindSpec, text: &str) {
        if let Some(max) = spec.max_chars {
            let n = text.chars().count();
            if n > max {
                self.notice(
                    p,
                    Some(a.kind),
                    NoticeLevel::Warning,
                    format!(
                        "{} `{}` is {n} characters; {} reads at most {max}, so the rest is ignored (shorten it; aiwg does not truncate)",
                        a.kind, a.name, p.name
                    ),
                );
            }
        }
    }

    // ----- model and tools -----

    fn model_id(&mut self, p: &PlatformSpec, a: &Artifact) -> Option<String> {
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
                self.notice(
                    p,
                    Some(a.kind),
                    NoticeLevel::Warning,
                    format!(
                        "{} `{}`: model `{id}` does not run on {}; left out, so the session's model is used (set a tier such as `sonnet`)",
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
            .and_then(|(_, tiers)| tiers.get(name).cloned());
        over.or_else(|| p.models.tier(name).map(str::to_string))
    }

    fn tools(&mut self, p: &PlatformSpec, a: &Artifact) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for tool in a.frontmatter.tools() {
            let mapped = if p.tools.is_empty() {
                Some(tool.clone())
            } else {
                let base = tool.split('(').next().unwrap_or(&tool).trim();
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

    fn vars(&mut self, p: &PlatformSpec, a: &Artifact) -> Vars {
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
    fn frontmatter(
        &mut self,
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

    // ----- kinds -----

    /// Returns true when the platform needs agents as skills.
    fn agents(
        &mut self,
        model: &Model,
        p: &PlatformSpec,
        has_skills: bool,
    ) -> Result<bool, RenderError> {
        let agents = sorted(model, Kind::Agent);
        match mode(Kind::Agent, &p.agent, self.scope) {
            Mode::Native(pattern) => {
                for a in agents {
                    let path = self.path(p, a, pattern)?;
                    match p.agent.format {
                        Format::CodexAgent => {
                            let text = self.codex_agent(p, a);
                            self.file(p, a, path, text)?;
                        }
                        Format::AntigravityAgent => self.antigravity_agent(p, a, &path)?,
                        Format::Markdown | Format::GeminiCommand => {
                            let fm = self.frontmatter(p, a, &p.agent);
                            let text = markdown(&fm, &a.body);
                            self.check_size(p, a, &p.agent, &text);
                            self.file(p, a, path, text)?;
                        }
                    }
                }
                Ok(false)
            }
            Mode::Fallback(Fallback::Skill) => {
                Ok(self.as_skills(p, Kind::Agent, agents.len(), has_skills))
            }
            Mode::Fallback(f) => {
                self.fallback(p, Kind::Agent, &agents, f)?;
                Ok(false)
            }
        }
    }

    /// Counts `n` artifacts of `kind` that `p` takes as skills (written with the skills, see
    /// `skills`), or skips for want of a skills folder. Returns true when they are written.
    fn as_skills(&mut self, p: &PlatformSpec, kind: Kind, n: usize, has_skills: bool) -> bool {
        if has_skills {
            let how = format!("deployed as skills (no native {}s here)", kind.as_str());
            self.count(p, kind, &how, n);
            return n > 0;
        }
        let how = format!(
            "skipped: no native {}s and {}",
            kind.as_str(),
            self.no_skills_folder(p, kind)
        );
        self.count(p, kind, &how, n);
        false
    }

    /// Says that `p` has no skills folder in this scope, and where it has one when that is
    /// only under home (Hermes), for a notice about artifacts of `kind` it does not get as skills.
    fn no_skills_folder(&self, p: &PlatformSpec, kind: Kind) -> String {
        match (self.scope, p.skill.own(Scope::User)) {
            (Scope::Project, Some(dir)) => format!(
                "no skills folder in project scope (deploy with `--scope user` to get them{} in `~/{dir}`)",
                if kind == Kind::Skill { "" } else { " as skills" }
            ),
            _ => "no skills folder".to_string(),
        }
    }

    /// Returns true when the platform needs commands as skills.
    fn commands(
        &mut self,
        model: &Model,
        p: &PlatformSpec,
        has_skills: bool,
    ) -> Result<bool, RenderError> {
        let commands = sorted(model, Kind::Command);
        match mode(Kind::Command, &p.command, self.scope) {
            Mode::Native(pattern) => {
                for a in commands {
                    let path = self.path(p, a, pattern)?;
                    let body = match &p.command.arguments {
                        Some(with) => a.body.replace("$ARGUMENTS", with),
                        None => a.body.clone(),
                    };
                    let text = match p.command.format {
                        Format::GeminiCommand => gemini_command(&a.description(), &body),
                        _ => {
                            let fm = self.frontmatter(p, a, &p.command);
                            markdown(&fm, &body)
                        }
                    };
                    self.check_size(p, a, &p.command, &text);
                    self.file(p, a, path, text)?;
                }
                Ok(false)
            }
            Mode::Fallback(Fallback::Skill) => {
                Ok(self.as_skills(p, Kind::Command, commands.len(), has_skills))
            }
            Mode::Fallback(f) => {
                self.fallback(p, Kind::Command, &commands, f)?;
                Ok(false)
            }
        }
    }

    fn rules(&mut self, model: &Model, p: &PlatformSpec) -> Result<(), RenderError> {
        let rules = sorted(model, Kind::Rule);
        match mode(Kind::Rule, &p.rule, self.scope) {
            Mode::Native(pattern) => {
                for a in rules {
                    self.rule_file(p, a, pattern)?;
                }
                Ok(())
            }
            Mode::Fallback(f) => self.fallback(p, Kind::Rule, &rules, f),
        }
    }

    fn rule_file(
        &mut self,
        p: &PlatformSpec,
        a: &Artifact,
        pattern: &str,
    ) -> Result<(), RenderError> {
        let path = self.path(p, a, pattern)?;
        let fm = self.frontmatter(p, a, &p.rule);
        let text = markdown(&fm, &a.body);
        self.check_size(p, a, &p.rule, &text);
        self.file(p, a, path, text)
    }

    /// Returns true when the runbooks become a section of the instruction file, which the
    /// caller writes after the skills (see `fallback`).
    fn runbooks(
        &mut self,
        model: &Model,
        p: &PlatformSpec,
        has_skills: bool,
    ) -> Result<bool, RenderError> {
        let runbooks = sorted(model, Kind::Runbook);
        if has_skills || runbooks.is_empty() {
            // Written with the skills (see `skills`).
            self.count(p, Kind::Runbook, "deployed as skills", runbooks.len());
            return Ok(false);
        }
        match mode(Kind::Rule, &p.rule, self.scope) {
            Mode::Native(pattern) => {
                for a in &runbooks {
                    self.rule_file(p, a, pattern)?;
                }
                self.count(
                    p,
                    Kind::Runbook,
                    "deployed as rules (no skills folder)",
                    runbooks.len(),
                );
                Ok(false)
            }
            Mode::Fallback(Fallback::Section) => Ok(true),
            Mode::Fallback(_) => {
                self.count(
                    p,
                    Kind::Runbook,
                    "skipped: no skills folder and no rules",
                    runbooks.len(),
                );
                Ok(false)
            }
        }
    }

    /// A kind without a native place: a managed section of the instruction file, or skipped.
    /// A runbook this render also writes as a skill is only indexed in the section (name,
    /// description, the path of its SKILL.md), so called after `skills`.
    fn fallback(
        &mut self,
        p: &PlatformSpec,
        kind: Kind,
        items: &[&Artifact],
        f: Fallback,
    ) -> Result<(), RenderError> {
        if items.is_empty() {
            return Ok(());
        }
        let instructions = p.instructions.path(self.scope);
        match (f, instructions) {
            (Fallback::Section, Some(file)) => {
                let path = RelPath::new(file).expect("validated at load");
                let mut by_source: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
                for a in items {
                    by_source.entry(&a.source).or_default().push(a);
                }
                for (source, artifacts) in by_source {
                    let id = format!("{source}:{}", kind.folder());
                    let text = section_text(kind, &artifacts, &self.runbook_skills);
                    let key = (p.id.clone(), file.to_string());
                    let entry = self.section_bytes.entry(key).or_default();
                    entry.0 += text.len();
                    entry.1 += text.chars().count();
                    self.insert(
                        path.clone(),
                        Desired::Section { id, text },
                        source,
                        format!("section:{}", kind.folder()),
                        p,
                    )?;
                }
                if kind == Kind::Runbook {
                    let indexed = items
                        .iter()
                        .filter(|a| self.runbook_skills.contains_key(&a.name))
                        .count();
                    let why = self.no_skills_folder(p, kind);
                    self.count(
                        p,
                        kind,
                        &format!("indexed in a section of `{file}`, each pointing to its skill copy: {why}"),
                        indexed,
                    );
                    self.count(
                        p,
                        kind,
                        &format!("deployed as a section of `{file}`: {why}"),
                        items.len() - indexed,
                    );
                } else {
                    self.count(
                        p,
                        kind,
                        &format!(
                            "deployed as a section of `{file}` (no native {}s here)",
                            kind.as_str()
                        ),
                        items.len(),
                    );
                }
            }
            (Fallback::Section, None) => {
                self.count(
                    p,
                    kind,
                    &format!(
                        "skipped: no native {}s and no instruction file in {} scope",
                        kind.as_str(),
                        self.scope
                    ),
                    items.len(),
                );
            }
            (_, _) => {
                self.count(
                    p,
                    kind,
                    &format!("skipped: {} has no {}s", p.name, kind.as_str()),
                    items.len(),
                );
            }
        }
        Ok(())
    }

    fn behaviors(&mut self, model: &Model, p: &PlatformSpec) -> Result<(), RenderError> {
        let behaviors = sorted(model, Kind::Behavior);
        if behaviors.is_empty() {
            return Ok(());
        }
        let (Some(settings), Some(scripts)) =
            (p.behavior.path(self.scope), p.behavior.scripts.as_deref())
        else {
            self.count(
                p,
                Kind::Behavior,
                &format!("skipped: {} has no hooks aiwg can write", p.name),
                behaviors.len(),
            );
            return Ok(());
        };
        let mut entries: Vec<MergeEntry> = Vec::new();
        let mut sources: BTreeSet<&str> = BTreeSet::new();
        for a in behaviors {
            let (Some(event), Some(command)) =
                (a.frontmatter.str("event"), a.frontmatter.str("command"))
            else {
                self.notice(
                    p,
                    Some(Kind::Behavior),
                    NoticeLevel::Warning,
                    format!(
                        "behavior `{}` needs `event` and `command` in its frontmatter; skipped",
                        a.name
                    ),
                );
                continue;
            };
            if !p.behavior.events.is_empty() && !p.behavior.events.contains(&event) {
                self.notice(
                    p,
                    Some(Kind::Behavior),
                    NoticeLevel::Warning,
                    format!(
                        "behavior `{}`: {} has no `{event}` hook event; skipped",
                        a.name, p.name
                    ),
                );
                continue;
            }
            let command_path = RelPath::new(&command).ok();
            if !a
                .assets
                .iter()
                .any(|f| Some(&f.path) == command_path.as_ref())
            {
                self.notice(p, Some(Kind::Behavior), NoticeLevel::Warning, format!("behavior `{}`: command `{command}` is not a file in the behavior's folder; skipped", a.name));
                continue;
            }
            let dir = self.path(p, a, scripts)?;
            for asset in &a.assets {
                let path = dir
                    .join(asset.path.as_str())
                    .expect("joined relative paths stay relative");
                let executable = asset.executable || Some(&asset.path) == command_path.as_ref();
                self.insert(
                    path,
                    Desired::File {
                        bytes: asset.bytes.clone(),
                        executable,
                    },
                    &a.source,
                    a.id(),
                    p,
                )?;
            }
            let mut hook = Map::new();
            if let Some(matcher) = a.frontmatter.str("matcher") {
                hook.insert("matcher".into(), json!(self.matcher(p, &matcher)));
            }
            let run = format!(
                "{}{}/{}",
                p.behavior.command_prefix.get(self.scope),
                dir,
                command_path.expect("checked above")
            );
            hook.insert("hooks".into(), json!([{"type": "command", "command": run}]));
            entries.push(MergeEntry {
                key: vec!["hooks".into(), event],
                value: Value::Object(hook),
                append: true,
            });
            sources.insert(&a.source);
        }
        if !entries.is_empty() {
            if let Some(note) = &p.behavior.notice {
                self.notice(p, Some(Kind::Behavior), NoticeLevel::Info, note.clone());
            }
            let path = RelPath::new(settings).expect("validated at load");
            let source = sources.into_iter().collect::<Vec<_>>().join(",");
            self.insert(
                path,
                Desired::Merge {
                    format: ConfigFormat::Json,
                    entries,
                },
                &source,
                "hooks:behaviors".into(),
                p,
            )?;
        }
        Ok(())
    }

    /// A `Write|Edit` matcher in the platform's tool names.
    fn matcher(&self, p: &PlatformSpec, matcher: &str) -> String {
        let plain = matcher
            .split('|')
            .all(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        if p.tools.is_empty() || !plain {
            return matcher.to_string();
        }
        let mut out: Vec<&str> = Vec::new();
        for t in matcher.split('|') {
            let m = p
                .tools
                .get(t)
                .map(String::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or(t);
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out.join("|")
    }

    /// Writes every kind that goes to skills folders: `kinds` pairs each kind with the
    /// platforms that need it as skills, in order of precedence for a shared name.
    fn skills(
        &mut self,
        model: &Model,
        platforms: &[&PlatformSpec],
        kinds: &[(Kind, &BTreeSet<&str>)],
    ) -> Result<(), RenderError> {
        let scope = self.scope;
        let readers: Vec<Reader> = platforms
            .iter()
            .filter(|p| p.skill.own(scope).is_some())
            .map(|p| Reader {
                platform: &p.id,
                own: p.skill.own(scope),
                reads: p.skill.reads(scope),
            })
            .collect();
        let by_id: BTreeMap<&str, &PlatformSpec> =
            platforms.iter().map(|p| (p.id.as_str(), *p)).collect();
        // A skill takes its name's folder; a runbook, agent or command written as a skill with
        // the same name stays out of it (Claude Code, too, lets the skill win). Among those, the
        // earlier kind in `kinds` wins.
        let mut taken: BTreeMap<&str, Kind> = BTreeMap::new();
        let mut groups: Vec<(Vec<&Artifact>, &BTreeSet<&str>, Kind)> = Vec::new();
        for &(kind, needers) in kinds {
            let mut items = Vec::new();
            for a in sorted(model, kind) {
                if let Some(&owner) = taken.get(a.name.as_str()) {
                    let by = if owner == Kind::Skill {
                        "a skill of the same name takes its folder".to_string()
                    } else {
                        format!("the {owner} of the same name, also written as a skill, takes its folder")
                    };
                    for id in needers.iter() {
                        self.notice(
                            by_id[id],
                            Some(kind),
                            NoticeLevel::Warning,
                            format!("{kind} `{}` is not written as a skill: {by}", a.name),
                        );
                    }
                    continue;
                }
                items.push(a);
            }
            if !needers.is_empty() {
                for a in &items {
                    taken.entry(a.name.as_str()).or_insert(kind);
                }
            }
            groups.push((items, needers, kind));
        }
        for (items, needers, kind) in groups {
            if items.is_empty() || needers.is_empty() {
                continue;
            }
            let placement = skills::place(&readers, needers);
            for dir in &placement.dirs {
                // The folder is a platform's own: its SKILL.md keeps that platform's keys.
                let passthrough = needers.iter().any(|id| {
                    let p = by_id[id];
                    p.skill.own(scope) == Some(dir.as_str()) && p.skill.passthrough
                });
                let seen_by: Vec<&str> = placement
                    .seen
                    .iter()
                    .filter(|(id, d)| needers.contains(id.as_str()) && d.contains(dir))
                    .map(|(id, _)| id.as_str())
                    .collect();
                for a in &items {
                    for id in &seen_by {
                        self.skill_folder(by_id[id], a, dir, passthrough)?;
                    }
                }
            }
            if kind == Kind::Runbook {
                // The copy a section's index points to: the shared folder when it is written.
                let dir = placement
                    .dirs
                    .iter()
                    .find(|d| *d == skills::SHARED)
                    .or(placement.dirs.first());
                if let Some(dir) = dir {
                    let home = if scope == Scope::User { "~/" } else { "" };
                    for a in &items {
                        self.runbook_skills
                            .insert(a.name.clone(), format!("{home}{dir}/{}/SKILL.md", a.name));
                    }
                }
            }
            for (id, dirs) in &placement.seen {
                let p = by_id[id.as_str()];
                let n = items.len();
                if needers.contains(id.as_str()) && dirs.len() > 1 {
                    let times = if dirs.len() == 2 {
                        "twice".to_string()
                    } else {
                        format!("{} times", dirs.len())
                    };
                    let what = if n == 1 {
                        format!("the {kind}")
                    } else {
                        format!("each of the {n} {}", plural(kind, n))
                    };
                    self.notice(p, Some(kind), NoticeLevel::Warning, format!(
                        "sees {what} {times} (in {}): no single folder reaches every selected platform that needs it",
                        dirs.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", "),
                    ));
                } else if !needers.contains(id.as_str()) && !dirs.is_empty() {
                    self.notice(
                        p,
                        Some(kind),
                        NoticeLevel::Info,
                        format!(
                            "also sees {n} {} as skills in {} (written for {})",
                            plural(kind, n),
                            dirs.iter()
                                .map(|d| format!("`{d}`"))
                                .collect::<Vec<_>>()
                                .join(" and "),
                            needers.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// Writes `<dir>/<name>/SKILL.md` and the skill's assets for platform `p`.
    fn skill_folder(
        &mut self,
        p: &PlatformSpec,
        a: &Artifact,
        dir: &str,
        passthrough: bool,
    ) -> Result<(), RenderError> {
        let folder = self.path(p, a, &format!("{dir}/{{name}}"))?;
        let mut fm = Map::new();
        fm.insert("name".into(), json!(a.name));
        let description = a.description();
        if !description.is_empty() {
            fm.insert("description".into(), json!(description));
        }
        if a.kind == Kind::Skill {
            for (k, v) in &a.frontmatter.entries {
                let keep = SPEC_SKILL_KEYS.contains(&k.as_str())
                    || (passthrough && !CONSUMED_KEYS.contains(&k.as_str()));
                if keep && !fm.contains_key(k) {
                    fm.insert(k.clone(), v.clone());
                }
            }
        } else if a.kind == Kind::Command && passthrough {
            if let Some(hint) = a.frontmatter.argument_hint() {
                fm.insert("argument-hint".into(), json!(hint));
            }
        }
        // An agent as a skill: the spec keys only (an agent's model and tools mean nothing in
        // SKILL.md), and one line that says whose instructions these are.
        let text = if a.kind == Kind::Agent {
            let body = format!(
                "\nAct as the `{}` agent for this task.\n\n{}",
                a.name,
                a.body.trim_start_matches('\n')
            );
            markdown(&fm, &body)
        } else {
            markdown(&fm, &a.body)
        };
        let skill_md = folder.join("SKILL.md").expect("fixed name");
        self.insert(
            skill_md,
            Desired::File {
                bytes: text.into_bytes(),
                executable: false,
            },
            &a.source,
            a.id(),
            p,
        )?;
        for asset in &a.assets {
            let path = folder
                .join(asset.path.as_str())
                .expect("joined relative paths stay relative");
            self.insert(
                path,
                Desired::File {
                    bytes: asset.bytes.clone(),
                    executable: asset.executable,
                },
                &a.source,
                a.id(),
                p,
            )?;
        }
        Ok(())
    }

    /// The AGENTS.md import in the instruction file of platforms that do not read AGENTS.md,
    /// when this render manages the project's AGENTS.md.
    fn bridge(&mut self, platforms: &[&PlatformSpec]) -> Result<(), RenderError> {
        if self.scope != Scope::Project {
            return Ok(());
        }
        let agents_md = RelPath::new("AGENTS.md").expect("valid");
        if !self.target.entries().any(|e| e.path == agents_md) {
            return Ok(());
        }
        for p in platforms {
            let (Some(import), Some(file)) = (
                p.instructions.bridge.as_deref(),
                p.instructions.path(self.scope),
            ) else {
                continue;
            };
            let path = RelPath::new(file).expect("validated at load");
            self.insert(
                path,
                Desired::Section {
                    id: BRIDGE_SECTION.into(),
                    text: format!("{import}\n"),
                },
                "aiwg",
                "bridge:agents-md".into(),
                p,
            )?;
            self.notice(p, None, NoticeLevel::Info, format!("`{file}` imports `AGENTS.md` ({} does not read it), so it also sees what other platforms get there", p.name));
        }
        Ok(())
    }

    /// Warnings for instruction files that near or pass a platform's read limit.
    fn limits(&mut self, platforms: &[&PlatformSpec]) {
        // Every section in a file counts for every platform reading that file.
        let mut per_file: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for e in self.target.entries() {
            if let Desired::Section { text, .. } = &e.desired {
                let t = per_file.entry(e.path.to_string()).or_default();
                t.0 += text.len();
                t.1 += text.chars().count();
            }
        }
        for p in platforms {
            let Some(file) = p.instructions.path(self.scope) else {
                continue;
            };
            let Some((bytes, chars)) = per_file.get(file).copied() else {
                continue;
            };
            for (used, max, unit) in [
                (bytes, p.instructions.max_bytes, "bytes"),
                (chars, p.instructions.max_chars, "characters"),
            ] {
                let Some(max) = max else { continue };
                if used * 4 >= max * 3 {
                    let how = if used > max {
                        "already over"
                    } else {
                        "close to"
                    };
                    self.notice(p, None, NoticeLevel::Warning, format!(
                        "aiwg's sections in `{file}` are {used} {unit}, {how} the {max} {unit} {} reads; your own text there counts too (move rules or agents into skills)",
                        p.name
                    ));
                }
            }
        }
    }

    // ----- formats data cannot express -----

    fn codex_agent(&mut self, p: &PlatformSpec, a: &Artifact) -> String {
        #[derive(serde::Serialize)]
        struct CodexAgent<'a> {
            name: &'a str,
            description: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            model: Option<String>,
            developer_instructions: &'a str,
        }
        let model = self.model_id(p, a);
        let tools = a.frontmatter.tools();
        if !tools.is_empty() {
            self.count(
                p,
                Kind::Agent,
                "written without their tool lists (Codex agents have none)",
                1,
            );
        }
        let agent = CodexAgent {
            name: &a.name,
            description: a.description(),
            model,
            developer_instructions: a.body.trim_start_matches('\n'),
        };
        toml::to_string(&agent).expect("plain strings always serialise")
    }

    fn antigravity_agent(
        &mut self,
        p: &PlatformSpec,
        a: &Artifact,
        dir: &RelPath,
    ) -> Result<(), RenderError> {
        let manifest = json!({
            "name": a.name,
            "description": a.description(),
            "configPath": {"relativePathToConfig": "config.yaml"},
        });
        let tools = self.tools(p, a);
        let mut agent = Map::new();
        agent.insert(
            "system_prompt_sections".into(),
            json!([{"title": a.name, "content": a.body.trim_start_matches('\n')}]),
        );
        if !tools.is_empty() {
            agent.insert("tool_names".into(), json!(tools));
        }
        let config = yaml::emit_document(&json!({"custom_agent": agent}));
        let mut manifest_text = serde_json::to_string_pretty(&manifest).expect("json");
        manifest_text.push('\n');
        self.file(
            p,
            a,
            dir.join("agent.json").expect("fixed name"),
            manifest_text,
        )?;
        self.file(p, a, dir.join("config.yaml").expect("fixed name"), config)
    }
}

/// A Gemini CLI command file: `description` and `prompt`.
fn gemini_command(description: &str, body: &str) -> String {
    let mut t = toml::Table::new();
    if !description.is_empty() {
        t.insert("description".into(), description.into());
    }
    t.insert("prompt".into(), body.trim_start_matches('\n').into());
    toml::to_string(&t).expect("plain strings always serialise")
}

/// The text of a managed section holding every artifact of one kind from one source. The
/// same for every platform, so platforms sharing a file write it once. A runbook named in
/// `runbook_skills` (name → its SKILL.md) gets an index entry pointing there, not its text.
fn section_text(
    kind: Kind,
    artifacts: &[&Artifact],
    runbook_skills: &BTreeMap<String, String>,
) -> String {
    let title = match kind {
        Kind::Agent => "Agent",
        Kind::Rule => "Rule",
        Kind::Runbook => "Runbook",
        Kind::Command => "Command",
        Kind::Skill => "Skill",
        Kind::Behavior => "Behavior",
    };
    let mut out = String::new();
    for (i, a) in artifacts.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("## {title}: {}\n\n", a.name));
        let description = a.description();
        if let Some(skill_md) = runbook_skills
            .get(&a.name)
            .filter(|_| kind == Kind::Runbook)
        {
            if !description.is_empty() {
                out.push_str(&format!("{description}\n\n"));
            }
            out.push_str(&format!(
                "Read `{skill_md}` before carrying out this procedure: it holds the full runbook.\n"
            ));
            continue;
        }
        if kind == Kind::Agent && !description.is_empty() {
            out.push_str(&format!("Use when: {description}\n\n"));
        }
        if kind == Kind::Rule {
            let globs = a.frontmatter.globs();
            if !a.frontmatter.always() && !globs.is_empty() {
                let list: Vec<String> = globs.iter().map(|g| format!("`{g}`")).collect();
                out.push_str(&format!(
                    "Applies to files matching {}.\n\n",
                    list.join(", ")
                ));
            }
        }
        let body = demote_headings(a.body.trim_matches('\n'));
        out.push_str(&body);
        out.push('\n');
    }
    out
}

/// Pushes Markdown headings down two levels (`#` → `###`) so an artifact's headings nest
/// under its `##` title; fenced code is left alone.
fn demote_headings(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 64);
    let mut fence: Option<&str> = None;
    for line in body.split('\n') {
        let trimmed = line.trim_start();
        if let Some(f) = fence {
            if trimmed.starts_with(f) {
                fence = None;
            }
        } else if trimmed.starts_with("```") {
            fence = Some("```");
        } else if trimmed.starts_with("~~~") {
            fence = Some("~~~");
        } else if line.starts_with('#') {
            let level = line.bytes().take_while(|b| *b == b'#').count();
            if level < 6 && line.as_bytes().get(level) == Some(&b' ') {
                out.push_str(&"#".repeat((level + 2).min(6)));
                out.push_str(&line[level..]);
                out.push('\n');
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;
    use aiwg_core::source::{load, SourceFile, SourceTree};

    /// A model from `(path, text)` files of one source named `src`.
    fn model(files: &[(&str, &str)]) -> Model {
        let files = files
            .iter()
            .map(|(p, t)| SourceFile {
                path: RelPath::new(p).unwrap(),
                bytes: t.as_bytes().to_vec(),
                executable: false,
            })
            .collect();
        let loaded = load(&SourceTree::from_files("src", "src", files));
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        Model {
            artifacts: loaded.artifacts,
        }
    }

    fn run(m: &Model, ids: &[&str], scope: Scope, options: &RenderOptions) -> Rendered {
        let platforms = Registry::builtin().resolve(ids).unwrap();
        render(m, &platforms, scope, options).unwrap()
    }

    fn file_text(r: &Rendered, path: &str) -> String {
        let e = r
            .target
            .entries()
            .find(|e| e.path.as_str() == path)
            .unwrap_or_else(|| panic!("no `{path}`"));
        match &e.desired {
            Desired::File { bytes, .. } => String::from_utf8(bytes.clone()).unwrap(),
            Desired::Section { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn has_notice(r: &Rendered, platform: &str, part: &str) -> bool {
        r.notices
            .iter()
            .any(|n| n.platform == platform && n.message.contains(part))
    }

    const AGENT: &str = "---\nname: a\ndescription: d\nmodel: opus\n---\nbody\n";

    #[test]
    fn model_tiers_map_and_overrides_win() {
        let m = model(&[("agents/a.md", AGENT)]);
        let r = run(&m, &["codex"], Scope::Project, &RenderOptions::default());
        assert!(file_text(&r, ".codex/agents/a.toml").contains("model = \"gpt-5.5\""));
        let mut options = RenderOptions::default();
        options.model_overrides.insert(
            "openai".into(),
            [("opus".to_string(), "o3".to_string())].into(),
        );
        let r = run(&m, &["codex"], Scope::Project, &options);
        assert!(file_text(&r, ".codex/agents/a.toml").contains("model = \"o3\""));
        options.model_overrides.insert(
            "codex".into(),
            [("huge".to_string(), "x".to_string())].into(),
        );
        let platforms = Registry::builtin().resolve(&["codex"]).unwrap();
        let e = render(&m, &platforms, Scope::Project, &options).unwrap_err();
        assert!(e.to_string().contains("`huge`"), "{e}");
    }

    #[test]
    fn codex_warns_near_its_agents_md_cap() {
        let big = format!(
            "---\ndescription: big\nalways: true\n---\n{}\n",
            "x".repeat(30_000)
        );
        let m = model(&[("rules/big.md", &big)]);
        let r = run(&m, &["codex"], Scope::Project, &RenderOptions::default());
        assert!(
            has_notice(&r, "codex", "close to the 32768 bytes"),
            "{:?}",
            r.notices
        );
        let small = model(&[("rules/s.md", "---\nalways: true\n---\nshort\n")]);
        let r = run(
            &small,
            &["codex"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert!(!r.notices.iter().any(|n| n.level == NoticeLevel::Warning));
    }

    #[test]
    fn windsurf_warns_on_long_workflows_without_truncating() {
        let body = "y".repeat(12_500);
        let m = model(&[(
            "commands/long.md",
            &format!("---\ndescription: l\n---\n{body}\n"),
        )]);
        let r = run(&m, &["devin"], Scope::Project, &RenderOptions::default());
        assert!(
            has_notice(&r, "windsurf", "reads at most 12000"),
            "{:?}",
            r.notices
        );
        assert!(file_text(&r, ".windsurf/workflows/long.md").contains(&body));
    }

    #[test]
    fn claude_imports_agents_md_only_when_aiwg_manages_it() {
        let m = model(&[("rules/r.md", "---\nalways: true\n---\nr\n")]);
        let r = run(
            &m,
            &["claude-code"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert!(!r.target.entries().any(|e| e.path.as_str() == "CLAUDE.md"));
        let r = run(
            &m,
            &["claude-code", "agents-md"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert_eq!(file_text(&r, "CLAUDE.md"), "@AGENTS.md\n");
        let r = run(
            &m,
            &["claude-code", "agents-md"],
            Scope::User,
            &RenderOptions::default(),
        );
        assert!(!r
            .target
            .entries()
            .any(|e| e.path.as_str() == ".claude/CLAUDE.md"));
    }

    #[test]
    fn foreign_models_and_unknown_tools_are_reported() {
        let m = model(&[(
            "agents/a.md",
            "---\nname: a\ndescription: d\nmodel: gpt-5.5\ntools: Read, Zap\n---\nb\n",
        )]);
        let r = run(
            &m,
            &["claude-code", "copilot", "antigravity"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert!(has_notice(
            &r,
            "claude-code",
            "model `gpt-5.5` does not run on Claude Code"
        ));
        assert!(!file_text(&r, ".claude/agents/a.md").contains("gpt-5.5"));
        assert!(has_notice(
            &r,
            "copilot",
            "tool `Zap` has no known GitHub Copilot name; passed through"
        ));
        assert!(file_text(&r, ".github/agents/a.agent.md").contains("tools: [read, Zap]"));
        assert!(has_notice(
            &r,
            "antigravity",
            "tool `Zap` has no known Google Antigravity name; left out"
        ));
        assert!(!file_text(&r, ".agents/agents/a/config.yaml").contains("Zap"));
    }

    #[test]
    fn a_skill_wins_over_a_command_of_the_same_name() {
        let m = model(&[
            (
                "commands/deploy.md",
                "---\ndescription: c\n---\ncommand body\n",
            ),
            (
                "skills/deploy/SKILL.md",
                "---\nname: deploy\ndescription: s\n---\nskill body\n",
            ),
        ]);
        let r = run(
            &m,
            &["codex", "claude-code"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert!(file_text(&r, ".agents/skills/deploy/SKILL.md").contains("skill body"));
        assert!(file_text(&r, ".claude/commands/deploy.md").contains("command body"));
        assert!(has_notice(
            &r,
            "codex",
            "command `deploy` is not written as a skill"
        ));
    }

    /// Every path `r` writes, sorted.
    fn paths(r: &Rendered) -> Vec<&str> {
        r.target.entries().map(|e| e.path.as_str()).collect()
    }

    const RICH_AGENT: &str = "---\nname: reviewer\ndescription: Reviews changes\nmodel: opus\ntools: Read, Grep\ncolor: blue\n---\n\nYou review.\n";

    #[test]
    fn an_agent_becomes_one_spec_only_skill_per_reader_set() {
        let m = model(&[("agents/reviewer.md", RICH_AGENT)]);
        let r = run(
            &m,
            &["warp", "openclaw", "claude-code", "agents-md"],
            Scope::Project,
            &RenderOptions::default(),
        );
        // Warp and OpenClaw both read `.agents/skills`: one copy, for both.
        let skill = ".agents/skills/reviewer/SKILL.md";
        assert_eq!(
            file_text(&r, skill),
            "---\nname: reviewer\ndescription: Reviews changes\n---\n\nAct as the `reviewer` agent for this task.\n\nYou review.\n"
        );
        let entry = r
            .target
            .entries()
            .find(|e| e.path.as_str() == skill)
            .unwrap();
        assert_eq!(entry.origin.platforms, ["openclaw", "warp"]);
        // Claude Code keeps its native agent and does not read `.agents/skills`; AGENTS.md
        // gets no agents section.
        assert_eq!(
            paths(&r),
            [
                ".agents/skills/reviewer/SKILL.md",
                ".claude/agents/reviewer.md"
            ]
        );
        assert!(has_notice(&r, "warp", "1 agent deployed as skills"));
        assert!(has_notice(
            &r,
            "agents-md",
            "1 agent skipped: AGENTS.md standard has no agents"
        ));
        // Warp alone in user scope: its own or the shared folder under home.
        let r = run(&m, &["warp"], Scope::User, &RenderOptions::default());
        assert_eq!(paths(&r), [".agents/skills/reviewer/SKILL.md"]);
    }

    #[test]
    fn hermes_takes_agents_as_skills_only_under_home() {
        let m = model(&[("agents/reviewer.md", RICH_AGENT)]);
        let r = run(&m, &["hermes"], Scope::Project, &RenderOptions::default());
        assert!(paths(&r).is_empty(), "{:?}", paths(&r));
        assert!(
            has_notice(
                &r,
                "hermes",
                "deploy with `--scope user` to get them as skills in `~/.hermes/skills`"
            ),
            "{:?}",
            r.notices
        );
        let r = run(&m, &["hermes"], Scope::User, &RenderOptions::default());
        assert_eq!(paths(&r), [".hermes/skills/reviewer/SKILL.md"]);
    }

    #[test]
    fn a_skill_wins_over_an_agent_and_an_agent_over_a_command_of_the_same_name() {
        let m = model(&[
            (
                "agents/deploy.md",
                "---\nname: deploy\ndescription: a\n---\nagent body\n",
            ),
            (
                "skills/deploy/SKILL.md",
                "---\nname: deploy\ndescription: s\n---\nskill body\n",
            ),
            (
                "agents/triage.md",
                "---\nname: triage\ndescription: a\n---\nagent body\n",
            ),
            (
                "commands/triage.md",
                "---\ndescription: c\n---\ncommand body\n",
            ),
        ]);
        let r = run(
            &m,
            &["warp", "claude-code"],
            Scope::Project,
            &RenderOptions::default(),
        );
        // The skill goes where both read it; Warp would see the agent as a second `deploy`.
        assert!(file_text(&r, ".claude/skills/deploy/SKILL.md").contains("skill body"));
        assert!(!paths(&r).contains(&".agents/skills/deploy/SKILL.md"));
        assert!(file_text(&r, ".claude/agents/deploy.md").contains("agent body"));
        assert!(has_notice(
            &r,
            "warp",
            "agent `deploy` is not written as a skill: a skill of the same name takes its folder"
        ));
        assert!(file_text(&r, ".agents/skills/triage/SKILL.md").contains("agent body"));
        assert!(has_notice(
            &r,
            "warp",
            "command `triage` is not written as a skill: the agent of the same name, also written as a skill, takes its folder"
        ));
        assert!(!has_notice(&r, "claude-code", "not written as a skill"));
    }

    #[test]
    fn fallbacks_are_reported_per_platform_and_kind() {
        let m = model(&[
            ("commands/c.md", "---\ndescription: c\n---\nc\n"),
            ("commands/d.md", "---\ndescription: d\n---\nd\n"),
        ]);
        let r = run(
            &m,
            &["codex", "agents-md"],
            Scope::Project,
            &RenderOptions::default(),
        );
        let lines: Vec<String> = r.notices.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            lines,
            [
                "agents-md: 2 commands skipped: AGENTS.md standard has no commands",
                "codex: 2 commands deployed as skills (no native commands here)",
            ]
        );
    }

    const RUNBOOK: &str = "---\nname: service-deployment\ndescription: Staged rollout\n---\n\n# Deploy\n\n## Purpose\n\nShip it.\n\n## Prerequisites\n\n- Staging passed.\n\n## Procedure\n\n### Stage 1: canary\n\n**Gate**: healthy.\n\n## Verification\n\n- Done.\n\n## Rollback\n\n**Trigger**: a gate fails.\n\n## Agent Rules\n\n1. Never skip a gate.\n2. Escalate when a gate fails.\n\n## Audit Trail\n\n- Run by: {operator|}\n";

    /// The runbooks section of `AGENTS.md` when `ids` render the runbook in project scope.
    fn runbooks_section(ids: &[&str]) -> String {
        let m = model(&[("runbooks/service-deployment.md", RUNBOOK)]);
        let r = run(&m, ids, Scope::Project, &RenderOptions::default());
        file_text(&r, "AGENTS.md")
    }

    #[test]
    fn a_runbook_with_a_skill_copy_is_only_indexed_in_the_section() {
        let index = |dir: &str| {
            format!(
                "## Runbook: service-deployment\n\nStaged rollout\n\nRead `{dir}/service-deployment/SKILL.md` before carrying out this procedure: it holds the full runbook.\n"
            )
        };
        for (ids, dir) in [
            (&["agents-md", "codex"][..], ".agents/skills"),
            (&["hermes", "claude-code"][..], ".claude/skills"),
            // Written to both folders: the index points to the shared one.
            (&["claude-code", "codex", "agents-md"][..], ".agents/skills"),
        ] {
            assert_eq!(runbooks_section(ids), index(dir), "{ids:?}");
        }
        let m = model(&[("runbooks/service-deployment.md", RUNBOOK)]);
        let r = run(
            &m,
            &["hermes", "agents-md", "codex"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert!(file_text(&r, ".agents/skills/service-deployment/SKILL.md").contains("Ship it."));
        assert!(
            has_notice(
                &r,
                "hermes",
                "1 runbook indexed in a section of `AGENTS.md`, each pointing to its skill copy: no skills folder in project scope (deploy with `--scope user` to get them as skills in `~/.hermes/skills`)"
            ),
            "{:?}",
            r.notices
        );
        assert!(has_notice(
            &r,
            "agents-md",
            "1 runbook indexed in a section of `AGENTS.md`, each pointing to its skill copy: no skills folder"
        ));
    }

    #[test]
    fn a_runbook_without_a_skill_copy_keeps_its_full_text_in_the_section() {
        for ids in [&["agents-md"][..], &["hermes"], &["hermes", "agents-md"]] {
            let section = runbooks_section(ids);
            assert!(
                section.starts_with(
                    "## Runbook: service-deployment\n\n### Deploy\n\n#### Purpose\n\nShip it.\n"
                ) && section.ends_with("- Run by: {operator|}\n")
                    && !section.contains("SKILL.md"),
                "{ids:?}: {section}"
            );
        }
        // A skill of the same name takes the folder: the runbook has no copy to point to.
        let m = model(&[
            ("runbooks/service-deployment.md", RUNBOOK),
            (
                "skills/service-deployment/SKILL.md",
                "---\nname: service-deployment\ndescription: s\n---\nskill body\n",
            ),
        ]);
        let r = run(
            &m,
            &["agents-md", "codex"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert!(file_text(&r, "AGENTS.md").contains("Ship it."));
        assert!(has_notice(
            &r,
            "agents-md",
            "1 runbook deployed as a section of `AGENTS.md`: no skills folder"
        ));
    }

    #[test]
    fn hermes_says_how_to_get_skills_in_project_scope() {
        let m = model(&[(
            "skills/s/SKILL.md",
            "---\nname: s\ndescription: d\n---\nb\n",
        )]);
        let r = run(&m, &["hermes"], Scope::Project, &RenderOptions::default());
        let lines: Vec<String> = r.notices.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            lines,
            ["hermes: 1 skill skipped: no skills folder in project scope (deploy with `--scope user` to get them in `~/.hermes/skills`)"]
        );
        let r = run(
            &m,
            &["agents-md"],
            Scope::Project,
            &RenderOptions::default(),
        );
        assert!(has_notice(
            &r,
            "agents-md",
            "1 skill skipped: no skills folder"
        ));
        assert!(!has_notice(&r, "agents-md", "--scope user"));
    }

    #[test]
    fn the_runbook_index_does_not_depend_on_platform_order() {
        let m = model(&[
            ("runbooks/service-deployment.md", RUNBOOK),
            ("agents/reviewer.md", RICH_AGENT),
            ("rules/r.md", "---\nalways: true\n---\nr\n"),
        ]);
        let ids = ["hermes", "agents-md", "claude-code", "codex", "copilot"];
        let first = run(&m, &ids, Scope::Project, &RenderOptions::default());
        let runbooks = first.target.entries().find_map(|e| match &e.desired {
            Desired::Section { id, text } if id == "src:runbooks" => Some(text),
            _ => None,
        });
        assert!(
            runbooks
                .is_some_and(|t| t.contains("Read `.agents/skills/service-deployment/SKILL.md`")),
            "{runbooks:?}"
        );
        // Every rotation, forwards and backwards.
        for k in 0..ids.len() {
            let mut order = ids.to_vec();
            order.rotate_left(k);
            let r = run(&m, &order, Scope::Project, &RenderOptions::default());
            assert_eq!(r, first, "{order:?}");
            order.reverse();
            let r = run(&m, &order, Scope::Project, &RenderOptions::default());
            assert_eq!(r, first, "{order:?}");
        }
    }

    #[test]
    fn headings_nest_under_the_section_title() {
        assert_eq!(
            demote_headings("# A\ntext\n## B\n```\n# not\n```\n#tag"),
            "### A\ntext\n#### B\n```\n# not\n```\n#tag"
        );
        assert_eq!(
            demote_headings("##### Deep\n###### Deepest"),
            "###### Deep\n###### Deepest"
        );
    }
}
