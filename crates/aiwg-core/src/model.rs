//! The artifact model: seven kinds, each artifact with its frontmatter, body and assets.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::RelPath;

/// The seven kinds of artifact a source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A subagent definition: `agents/<name>.md`.
    Agent,
    /// An Agent Skills folder: `skills/<name>/SKILL.md` and the files beside it.
    Skill,
    /// A slash command: `commands/**/<name>.md`.
    Command,
    /// Instructions for every request or for files matching `globs`: `rules/<name>.md`.
    Rule,
    /// An event hook with its scripts: `behaviors/<name>/BEHAVIOR.md` and the files beside it.
    Behavior,
    /// An operational procedure with `{placeholder}` variables: `runbooks/<name>.md`.
    Runbook,
    /// An MCP server: `mcp/<name>.toml` or `mcp/<name>.json` (see [`crate::mcp`]).
    Mcp,
}

impl Kind {
    /// Every kind, in the order listings use.
    pub const ALL: [Kind; 7] = [
        Kind::Agent,
        Kind::Skill,
        Kind::Command,
        Kind::Rule,
        Kind::Behavior,
        Kind::Runbook,
        Kind::Mcp,
    ];

    /// The singular lowercase name (`agent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Skill => "skill",
            Kind::Command => "command",
            Kind::Rule => "rule",
            Kind::Behavior => "behavior",
            Kind::Runbook => "runbook",
            Kind::Mcp => "mcp",
        }
    }

    /// The folder of a source that holds this kind (`agents`).
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Agent => "agents",
            Kind::Skill => "skills",
            Kind::Command => "commands",
            Kind::Rule => "rules",
            Kind::Behavior => "behaviors",
            Kind::Runbook => "runbooks",
            Kind::Mcp => "mcp",
        }
    }

    /// True for kinds that are a folder with a main file and assets (skill, behavior).
    pub fn is_folder(self) -> bool {
        matches!(self, Kind::Skill | Kind::Behavior)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.strip_suffix('s').unwrap_or(&s);
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown kind `{s}` (expected one of agent, skill, command, rule, behavior, runbook, mcp)"))
    }
}

/// A model as an artifact names it: a portable tier, mapped per platform, or a concrete id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    /// `opus`: the most capable tier.
    Opus,
    /// `sonnet`: the balanced tier.
    Sonnet,
    /// `haiku`: the fast, cheap tier.
    Haiku,
    /// `inherit`: use whatever the session uses.
    Inherit,
    /// Any other string: a platform-specific model id, passed through only where it can work.
    Concrete(String),
}

impl ModelSpec {
    /// Reads a frontmatter `model` value.
    pub fn parse(s: &str) -> ModelSpec {
        match s.trim().to_ascii_lowercase().as_str() {
            "opus" => ModelSpec::Opus,
            "sonnet" => ModelSpec::Sonnet,
            "haiku" => ModelSpec::Haiku,
            "inherit" => ModelSpec::Inherit,
            _ => ModelSpec::Concrete(s.trim().to_string()),
        }
    }

    /// The tier name (`opus`, `sonnet`, `haiku`), or `None` for `inherit` and concrete ids.
    pub fn tier(&self) -> Option<&'static str> {
        match self {
            ModelSpec::Opus => Some("opus"),
            ModelSpec::Sonnet => Some("sonnet"),
            ModelSpec::Haiku => Some("haiku"),
            _ => None,
        }
    }
}

/// The YAML frontmatter of an artifact: every key in file order (platforms need the unknown
/// ones too), with typed access to the keys aiwg knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frontmatter {
    /// Every key, in the order of the file, as JSON-shaped values.
    pub entries: Map<String, Value>,
    /// The 1-based line of the file where the YAML starts (the line after the opening `---`),
    /// or 0 when the file has no frontmatter.
    pub first_line: u32,
}

impl Frontmatter {
    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.get(key)
    }

    /// `key` as a string, when it is one (numbers and booleans are shown as text).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.entries.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// `key` as a list of strings: a YAML list, or a comma-separated string (`Read, Grep`).
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.entries.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                })
                .filter(|s| !s.is_empty())
                .collect(),
            Some(Value::String(s)) => split_list(s),
            _ => Vec::new(),
        }
    }

    /// `name`.
    pub fn name(&self) -> Option<String> {
        self.str("name")
    }

    /// `description`.
    pub fn description(&self) -> Option<String> {
        self.str("description")
    }

    /// `model`, as a tier or a concrete id.
    pub fn model(&self) -> Option<ModelSpec> {
        self.str("model").map(|m| ModelSpec::parse(&m))
    }

    /// `tools` (Claude-style names), also read from `allowed-tools` for skills.
    pub fn tools(&self) -> Vec<String> {
        let tools = self.list("tools");
        if tools.is_empty() {
            // Agent Skills spells it `allowed-tools`, space-separated.
            self.allowed_tools()
        } else {
            tools
        }
    }

    /// `globs` (also `paths`, `applyTo`): the files a rule applies to.
    pub fn globs(&self) -> Vec<String> {
        ["globs", "paths", "applyTo"]
            .iter()
            .map(|k| self.list(k))
            .find(|l| !l.is_empty())
            .unwrap_or_default()
    }

    /// `always` (or Cursor's `alwaysApply`): a rule that applies to every request.
    pub fn always(&self) -> bool {
        ["always", "alwaysApply"]
            .iter()
            .any(|k| matches!(self.entries.get(*k), Some(Value::Bool(true))))
    }

    /// `argument-hint`.
    pub fn argument_hint(&self) -> Option<String> {
        self.str("argument-hint")
    }

    /// `license` (Agent Skills spec).
    pub fn license(&self) -> Option<String> {
        self.str("license")
    }

    /// `compatibility` (Agent Skills spec): what the skill needs from its environment.
    pub fn compatibility(&self) -> Option<String> {
        self.str("compatibility")
    }

    /// `metadata` (Agent Skills spec): a map of extra string properties.
    pub fn metadata(&self) -> Option<&Map<String, Value>> {
        self.entries.get("metadata")?.as_object()
    }

    /// `allowed-tools` (Agent Skills spec) as written: a space-separated string or a list.
    pub fn allowed_tools(&self) -> Vec<String> {
        match self.entries.get("allowed-tools") {
            Some(Value::String(s)) if !s.contains(',') => {
                s.split_whitespace().map(str::to_string).collect()
            }
            _ => self.list("allowed-tools"),
        }
    }

    /// `event` of a behavior: the Claude Code hook event that runs it (`PreToolUse`).
    pub fn event(&self) -> Option<String> {
        self.str("event")
    }

    /// `matcher` of a behavior: which tools (or sources) the event fires for (`Write|Edit`).
    pub fn matcher(&self) -> Option<String> {
        self.str("matcher")
    }

    /// `command` of a behavior: its script, relative to the behavior's folder.
    pub fn command(&self) -> Option<String> {
        self.str("command")
    }
}

/// `s` split at the commas that are not inside `(...)`, `[...]` or `{...}`, each part trimmed,
/// empty ones left out: `Bash(git *, gh *), Read` is two tools, `src/*.{ts,tsx}, lib/**` two
/// globs.
pub fn split_list(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (at, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&s[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// A file that travels with a folder artifact (skill or behavior), relative to its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Path relative to the artifact's folder (`scripts/check.sh`).
    pub path: RelPath,
    /// The file's content.
    pub bytes: Vec<u8>,
    /// The file has an executable bit, which deployment keeps.
    pub executable: bool,
}

/// One agent, skill, command, rule, behavior, runbook or MCP server, loaded and parsed. An
/// MCP server's file is TOML or JSON: its keys are the `frontmatter` and its body is empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Which of the seven kinds this is.
    pub kind: Kind,
    /// The name used for file names on every platform: always one safe path component
    /// (no `/`, `..` or Windows device name), and `[a-z0-9-]`, 1..=64, unless loading
    /// reported an error for it.
    pub name: String,
    /// The source it came from (`sdlc`, `.aiwg`, a path as given).
    pub source: String,
    /// The main file, relative to the source root (`skills/x/SKILL.md`).
    pub path: RelPath,
    /// The parsed YAML frontmatter; no entries when the file has none.
    pub frontmatter: Frontmatter,
    /// The Markdown after the frontmatter.
    pub body: String,
    /// The 1-based line where `body` starts in the file.
    pub body_line: u32,
    /// Files beside the main file (skills, behaviors), and source files a skill names
    /// (`templates/...`, `runbooks/...`), relative to the artifact's folder.
    pub assets: Vec<Asset>,
}

impl Artifact {
    /// The description, or an empty string.
    pub fn description(&self) -> String {
        self.frontmatter.description().unwrap_or_default()
    }

    /// `kind:name`, the id used in the lock file and in messages.
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind, self.name)
    }
}

/// Every artifact of every loaded source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// Every artifact, in load order: sources in the order given, then by path within a source.
    pub artifacts: Vec<Artifact>,
}

impl Model {
    /// The artifacts of one kind, in load order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Artifact> {
        self.artifacts.iter().filter(move |a| a.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fm(v: Value) -> Frontmatter {
        Frontmatter {
            entries: v.as_object().unwrap().clone(),
            first_line: 2,
        }
    }

    #[test]
    fn typed_access() {
        let f = fm(
            json!({"name": "x", "tools": "Read, Grep", "globs": ["*.rs"], "alwaysApply": true, "model": "opus"}),
        );
        assert_eq!(f.tools(), vec!["Read", "Grep"]);
        assert_eq!(f.globs(), vec!["*.rs"]);
        assert!(f.always());
        assert_eq!(f.model(), Some(ModelSpec::Opus));
        let f = fm(json!({"tools": "Bash(git *, gh *), Read", "globs": "src/*.{ts,tsx}, lib/**"}));
        assert_eq!(f.tools(), vec!["Bash(git *, gh *)", "Read"]);
        assert_eq!(f.globs(), vec!["src/*.{ts,tsx}", "lib/**"]);
        let s = fm(json!({"allowed-tools": "Bash(git:*) Read"}));
        assert_eq!(s.tools(), vec!["Bash(git:*)", "Read"]);
        assert_eq!(
            ModelSpec::parse("claude-opus-4-1"),
            ModelSpec::Concrete("claude-opus-4-1".into())
        );
    }

    #[test]
    fn kind_parses_plural() {
        assert_eq!("Skills".parse::<Kind>(), Ok(Kind::Skill));
        assert!("widget".parse::<Kind>().is_err());
    }
}
