//! A platform's file back into aiwg's source form: the inverse of a platform's
//! `[<kind>.frontmatter]` template (and rule activation tables), model tiers and tool names
//! mapped back through its tables, `$ARGUMENTS` put back where the platform has its own
//! placeholder. Used by `aiwg import` (files aiwg did not write) and `aiwg adopt` (a managed
//! file edited by hand).

use aiwg_core::{lenient, Kind, RelPath};
use aiwg_platforms::spec::{Format, KindSpec};
use aiwg_platforms::PlatformSpec;
use serde_json::{Map, Value};

/// The platform whose files are already in aiwg's source format (the source layout follows
/// Claude Code's: `agents/x.md`, `commands/x.md`, `skills/x/SKILL.md`, `rules/x.md` with the
/// same frontmatter keys), so its files can become sources byte for byte.
pub const SOURCE_FORMAT_PLATFORM: &str = "claude-code";

/// One artifact found in a platform's (or a peer tool's) files, in source form.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its kind.
    pub kind: Kind,
    /// The name it goes by (file stem, folder, or frontmatter `name`, normalised).
    pub name: String,
    /// The platform id or peer tool (`rulesync`) it was found for.
    pub reader: String,
    /// Where it was found, relative to the repository root.
    pub path: String,
    /// Source frontmatter, in order.
    pub frontmatter: Map<String, Value>,
    /// Source body (what follows the frontmatter).
    pub body: String,
    /// Skill files beside SKILL.md, relative to the skill folder.
    pub assets: Vec<(RelPath, Vec<u8>, bool)>,
    /// The whole main file, when it is already in source form and can be kept byte for byte.
    pub verbatim: Option<String>,
    /// Keys this reader cannot carry exactly (a many-to-one tool table): not compared.
    pub lossy: Vec<&'static str>,
}

impl Found {
    /// An agent, command or rule called `raw_name` (normalised here), with no assets, not
    /// verbatim and nothing lossy: the common case.
    pub fn new(
        kind: Kind,
        raw_name: &str,
        reader: impl Into<String>,
        path: impl Into<String>,
        frontmatter: Map<String, Value>,
        body: String,
    ) -> Found {
        Found {
            kind,
            name: source_name(kind, raw_name),
            reader: reader.into(),
            path: path.into(),
            frontmatter,
            body,
            assets: Vec::new(),
            verbatim: None,
            lossy: Vec::new(),
        }
    }

    /// The main file as a source file: the file as found when it is already in source form,
    /// else the frontmatter (strict YAML) and the body.
    pub fn source_text(&self) -> String {
        if let Some(text) = &self.verbatim {
            return text.clone();
        }
        if self.kind == Kind::Mcp {
            return crate::import::mcp::toml_text(&self.frontmatter);
        }
        let block = aiwg_platforms::yaml::frontmatter_block(&self.frontmatter);
        if block.is_empty() {
            self.body.trim_start_matches(['\n', '\r']).to_string()
        } else if self.body.starts_with('\n') || self.body.is_empty() {
            format!("{block}{}", self.body)
        } else {
            format!("{block}\n{}", self.body)
        }
    }

    /// The source path of the main file, relative to the source root.
    pub fn source_path(&self) -> String {
        match self.kind {
            Kind::Skill => format!("skills/{}/SKILL.md", self.name),
            Kind::Mcp => format!("mcp/{}.toml", self.name),
            kind => format!("{}/{}.md", kind.folder(), self.name),
        }
    }
}

/// The frontmatter and body of `text`, read leniently as the loader does; `Err` says why not.
pub fn split(text: &str) -> Result<(Map<String, Value>, String), String> {
    let split = aiwg_core::frontmatter::split(text).map_err(|e| e.message)?;
    let fm = match split.yaml {
        None => Map::new(),
        Some(yaml) => {
            lenient::parse(yaml, split.yaml_line)
                .map_err(|e| format!("line {}: {}", e.line, e.message))?
                .0
                .entries
        }
    };
    Ok((fm, split.body.to_string()))
}

/// The source name of an artifact called `raw` (frontmatter `name`, file stem or folder).
pub fn source_name(kind: Kind, raw: &str) -> String {
    match kind {
        Kind::Skill => raw.to_string(),
        _ => aiwg_core::validate::normalise_name(raw),
    }
}

/// A Markdown agent, command or rule file of `platform` (written per `spec`) in source form.
pub fn from_markdown(
    platform: &PlatformSpec,
    kind: Kind,
    spec: &KindSpec,
    path: &str,
    stem: &str,
    text: &str,
) -> Result<Found, String> {
    let (fm, body) = split(text)?;
    let mut out = Map::new();
    let mut lossy = Vec::new();
    let mut consumed: Vec<&str> = Vec::new();
    let mut tables: Vec<&toml::Table> = vec![&spec.frontmatter];
    if kind == Kind::Rule {
        tables.extend([&spec.when.globs, &spec.when.always, &spec.when.model]);
    }
    for table in &tables {
        for (key, template) in table.iter() {
            consumed.push(key);
            let (Some(value), Some(var)) = (fm.get(key), template.as_str().and_then(variable))
            else {
                continue;
            };
            match var {
                "name" => set(&mut out, "name", value.clone()),
                "description" => set(&mut out, "description", value.clone()),
                "argument_hint" => set(&mut out, "argument-hint", value.clone()),
                "globs" | "globs_csv" => set(&mut out, "globs", value.clone()),
                "model" => {
                    let (model, exact) = model_back(platform, value);
                    if !exact {
                        lossy.push("model");
                    }
                    set(&mut out, "model", model);
                }
                "tools_map" => {
                    // `{read: true, edit: false, ...}`: the tools set to true.
                    let on: Vec<Value> = value
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .filter(|(_, v)| **v == Value::Bool(true))
                                .map(|(k, _)| Value::String(k.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let (tools, exact) = tools_back(platform, &Value::Array(on), false);
                    if !exact {
                        lossy.push("tools");
                    }
                    set(&mut out, "tools", tools);
                }
                "tools" | "tools_csv" | "tools_space" => {
                    let (tools, exact) = tools_back(platform, value, var == "tools_space");
                    if !exact {
                        lossy.push("tools");
                    }
                    set(&mut out, "tools", tools);
                }
                other => {
                    if let Some(key) = other.strip_prefix("fm:") {
                        set(&mut out, key, value.clone());
                    }
                }
            }
        }
    }
    if kind == Kind::Rule && !out.contains_key("globs") && is_always(spec, &fm) {
        out.insert("always".into(), Value::Bool(true));
    }
    if spec.passthrough {
        for (key, value) in &fm {
            if !consumed.contains(&key.as_str()) && !out.contains_key(key) {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    let body = match (&spec.arguments, kind) {
        (Some(placeholder), Kind::Command) => body.replace(placeholder.as_str(), "$ARGUMENTS"),
        _ => body,
    };
    let raw_name = out
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(stem)
        .to_string();
    let verbatim = (platform.id == SOURCE_FORMAT_PLATFORM).then(|| text.to_string());
    Ok(Found {
        kind,
        name: source_name(kind, &raw_name),
        reader: platform.id.clone(),
        path: path.to_string(),
        frontmatter: out,
        body,
        assets: Vec::new(),
        verbatim,
        lossy,
    })
}

/// A file of `platform` written per `spec` (Markdown, Codex or Vibe agent TOML, Gemini command TOML)
/// in source form.
pub fn from_file(
    platform: &PlatformSpec,
    kind: Kind,
    spec: &KindSpec,
    path: &str,
    stem: &str,
    text: &str,
) -> Result<Found, String> {
    match spec.format {
        Format::CodexAgent => from_codex_agent(platform, path, stem, text),
        Format::VibeAgent => from_vibe_agent(platform, path, stem, text),
        Format::GeminiCommand => from_gemini_command(platform, spec, path, stem, text),
        _ => from_markdown(platform, kind, spec, path, stem, text),
    }
}

/// A Gemini CLI command TOML (`description`, and a `prompt` with the platform's argument
/// placeholder, `{{args}}`) in source form.
fn from_gemini_command(
    platform: &PlatformSpec,
    spec: &KindSpec,
    path: &str,
    stem: &str,
    text: &str,
) -> Result<Found, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let prompt = table
        .get("prompt")
        .and_then(|v| v.as_str())
        .ok_or("no `prompt`")?;
    let mut fm = Map::new();
    if let Some(d) = table.get("description").and_then(|v| v.as_str()) {
        fm.insert("description".into(), Value::String(d.to_string()));
    }
    let prompt = match &spec.arguments {
        Some(placeholder) => prompt.replace(placeholder.as_str(), "$ARGUMENTS"),
        None => prompt.to_string(),
    };
    Ok(Found::new(
        Kind::Command,
        stem,
        platform.id.clone(),
        path,
        fm,
        format!("\n{prompt}"),
    ))
}

/// A Codex agent TOML (`name`, `description`, `model`, `developer_instructions`) in source form.
fn from_codex_agent(
    platform: &PlatformSpec,
    path: &str,
    stem: &str,
    text: &str,
) -> Result<Found, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let text_of = |key: &str| table.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let mut fm = Map::new();
    let raw_name = text_of("name").unwrap_or_else(|| stem.to_string());
    fm.insert("name".into(), Value::String(raw_name.clone()));
    if let Some(d) = text_of("description") {
        fm.insert("description".into(), Value::String(d));
    }
    let mut lossy = Vec::new();
    if let Some(m) = text_of("model") {
        let (model, exact) = model_back(platform, &Value::String(m));
        if !exact {
            lossy.push("model");
        }
        fm.insert("model".into(), model);
    }
    // Codex agents carry no tool list: the source's is not known here.
    lossy.push("tools");
    let instructions = text_of("developer_instructions").unwrap_or_default();
    Ok(Found {
        kind: Kind::Agent,
        name: source_name(Kind::Agent, &raw_name),
        reader: platform.id.clone(),
        path: path.to_string(),
        frontmatter: fm,
        body: format!("\n{instructions}"),
        assets: Vec::new(),
        verbatim: None,
        lossy,
    })
}

/// A Mistral Vibe agent profile (`description`, `enabled_tools`, `instructions`; the file name
/// is the agent's name) in source form. Other keys are Vibe config overrides with no source
/// equivalent, and are left out.
fn from_vibe_agent(
    platform: &PlatformSpec,
    path: &str,
    stem: &str,
    text: &str,
) -> Result<Found, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let instructions = table
        .get("instructions")
        .and_then(|v| v.as_str())
        .ok_or("no `instructions`")?;
    let mut fm = Map::new();
    fm.insert("name".into(), Value::String(stem.to_string()));
    if let Some(d) = table.get("description").and_then(|v| v.as_str()) {
        fm.insert("description".into(), Value::String(d.to_string()));
    }
    let mut lossy = Vec::new();
    if let Some(tools) = table.get("enabled_tools").and_then(|v| v.as_array()) {
        let names: Vec<Value> = tools
            .iter()
            .filter_map(|t| t.as_str().map(|s| Value::String(s.to_string())))
            .collect();
        let (tools, exact) = tools_back(platform, &Value::Array(names), false);
        if !exact {
            lossy.push("tools");
        }
        fm.insert("tools".into(), tools);
    }
    Ok(Found {
        kind: Kind::Agent,
        name: source_name(Kind::Agent, stem),
        reader: platform.id.clone(),
        path: path.to_string(),
        frontmatter: fm,
        body: format!("\n{instructions}"),
        assets: Vec::new(),
        verbatim: None,
        lossy,
    })
}

/// The kinds a platform writes one file per artifact for, with their spec.
pub fn file_kinds(platform: &PlatformSpec) -> [(Kind, &KindSpec); 3] {
    [
        (Kind::Agent, &platform.agent),
        (Kind::Command, &platform.command),
        (Kind::Rule, &platform.rule),
    ]
}

/// True when `spec` writes files this module can read back.
pub fn readable(spec: &KindSpec) -> bool {
    matches!(
        spec.format,
        Format::Markdown | Format::CodexAgent | Format::VibeAgent | Format::GeminiCommand
    )
}

fn set(out: &mut Map<String, Value>, key: &str, value: Value) {
    if !out.contains_key(key) {
        out.insert(key.to_string(), value);
    }
}

/// `name` when `template` is exactly `{name}`.
fn variable(template: &str) -> Option<&str> {
    template.strip_prefix('{')?.strip_suffix('}')
}

/// The rule's frontmatter shows every literal of the platform's `always` table.
fn is_always(spec: &KindSpec, fm: &Map<String, Value>) -> bool {
    !spec.when.always.is_empty()
        && spec.when.always.iter().all(|(key, literal)| {
            let want = serde_json::to_value(literal).unwrap_or(Value::Null);
            fm.get(key) == Some(&want)
        })
}

/// `model` mapped back through the project's `[models.<platform>]` ids too: the tier whose
/// id it is, when exactly one is (the platform's own table was tried first).
pub fn tiers_back(found: &mut Found, tiers: Option<&aiwg_core::config::Tiers>) {
    let (Some(tiers), Some(Value::String(id))) = (tiers, found.frontmatter.get("model")) else {
        return;
    };
    let matching: Vec<&str> = ["opus", "sonnet", "haiku", "inherit"]
        .into_iter()
        .filter(|t| tiers.get(t) == Some(id.as_str()))
        .collect();
    match matching.as_slice() {
        [tier] => {
            found
                .frontmatter
                .insert("model".into(), Value::String(tier.to_string()));
        }
        [] => {}
        _ => found.lossy.push("model"),
    }
}

/// A platform model id back to its tier, when exactly one tier maps to it.
fn model_back(platform: &PlatformSpec, value: &Value) -> (Value, bool) {
    let Some(id) = value.as_str() else {
        return (value.clone(), true);
    };
    let tiers: Vec<&str> = ["opus", "sonnet", "haiku", "inherit"]
        .into_iter()
        .filter(|t| platform.models.tier(t) == Some(id))
        .collect();
    match tiers.as_slice() {
        [] => (value.clone(), true),
        [tier] => (Value::String(tier.to_string()), true),
        [first, ..] => (Value::String(first.to_string()), false),
    }
}

/// Claude Code's everyday tools, in the order a many-to-one tool table maps back to them.
const COMMON_TOOLS: [&str; 10] = [
    "Read",
    "Edit",
    "Write",
    "Bash",
    "Grep",
    "Glob",
    "WebFetch",
    "WebSearch",
    "Task",
    "TodoWrite",
];

/// A platform's tool names back to the source's (Claude-style) names through its `tools`
/// table; `exact` is false when one platform name stands for several source names.
fn tools_back(platform: &PlatformSpec, value: &Value, space_separated: bool) -> (Value, bool) {
    let names: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Value::String(s) if space_separated => s.split_whitespace().map(str::to_string).collect(),
        Value::String(s) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        other => return (other.clone(), true),
    };
    if platform.tools.is_empty() {
        return (value.clone(), true);
    }
    let mut exact = true;
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let mut sources: Vec<&String> = platform
            .tools
            .iter()
            .filter(|(_, v)| **v == name)
            .map(|(k, _)| k)
            .collect();
        exact &= sources.len() <= 1;
        // Of several, the everyday one: `read` is Read, not NotebookRead.
        sources.sort_by_key(|s| {
            COMMON_TOOLS
                .iter()
                .position(|c| c == s)
                .unwrap_or(COMMON_TOOLS.len())
        });
        let back = sources.first().map_or(name.clone(), |s| (*s).clone());
        if !out.contains(&back) {
            out.push(back);
        }
    }
    (
        Value::Array(out.into_iter().map(Value::String).collect()),
        exact,
    )
}
