//! `PlatformSpec`: the shape of `platforms/<id>.toml`, read with serde and validated at load.
//!
//! A platform is data: per artifact kind and scope, a path pattern (`.claude/agents/{name}.md`),
//! a file format, a frontmatter template, and what to do when the platform has no native place
//! for the kind (the fallback). Model tiers and tool names map through tables. The schema is
//! documented key by key in `CONTRIBUTING.md`.

use std::collections::BTreeMap;

use aiwg_core::target::Scope;
use aiwg_core::{Kind, RelPath};
use serde::Deserialize;

use crate::template;

/// One platform, as `platforms/<id>.toml` describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    /// The id users type (`claude-code`): `[a-z0-9-]`, equal to the file stem.
    pub id: String,
    /// The display name (`Claude Code`).
    pub name: String,
    /// Other names `--platforms` accepts (`claude`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The vendor's documentation page this file follows.
    pub docs: String,
    /// Part of the set deployed when neither `--platforms` nor `aiwg.toml` names platforms
    /// and the repository shows none in use.
    #[serde(default)]
    pub default: bool,
    /// Files or folders (relative to the repository root) whose presence shows the
    /// repository uses this platform: `aiwg use` and a config-less `apply` deploy to those.
    #[serde(default)]
    pub detect: Vec<String>,
    /// The shared instruction file (AGENTS.md, CLAUDE.md, ...) that receives managed sections.
    #[serde(default)]
    pub instructions: Instructions,
    /// Model tiers to the platform's model ids.
    #[serde(default)]
    pub models: Models,
    /// Claude-style tool names (`Read`) to the platform's names; empty = Claude's names.
    /// An empty string value means the platform has no such tool (dropped with a warning).
    #[serde(default)]
    pub tools: BTreeMap<String, String>,
    /// Every tool the platform knows, for templates that write a `{tools_map}` of
    /// enabled/disabled tools (OpenCode).
    #[serde(default)]
    pub tool_universe: Vec<String>,
    /// What happens to a tool name the `tools` table does not know.
    #[serde(default)]
    pub unknown_tools: UnknownTools,
    /// `[agent]`: where and in which format agents are written.
    #[serde(default)]
    pub agent: KindSpec,
    /// `[command]`: where and in which format commands are written.
    #[serde(default)]
    pub command: KindSpec,
    /// `[rule]`: where and in which format rules are written.
    #[serde(default)]
    pub rule: KindSpec,
    /// `[skill]`: the skills folder the platform owns and the folders it reads.
    #[serde(default)]
    pub skill: SkillSpec,
    /// `[behavior]`: where hook scripts go and which settings file registers them.
    #[serde(default)]
    pub behavior: BehaviorSpec,
    /// `[home]`: the client's own variable for its user folder (`CODEX_HOME`).
    pub home: Option<HomeVar>,
    /// `[mcp]`: the MCP configuration files the platform reads and the shape of their entries.
    #[serde(default)]
    pub mcp: McpSpec,
}

/// `[mcp]`: where MCP servers go. One platform may have several clients reading different
/// files (Copilot in VS Code reads `.vscode/mcp.json`, Copilot CLI `.mcp.json`), so each
/// file is one `[[mcp.file]]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSpec {
    /// Every MCP configuration file aiwg merges servers into.
    #[serde(default)]
    pub file: Vec<McpFile>,
    /// Why there is none, for the skip notice (a place that could not be confirmed).
    pub why: Option<String>,
    /// Said once (as an info notice) whenever servers are written for this platform.
    pub notice: Option<String>,
    /// Other platforms' MCP files the client also reads in a project (Kilo reads OpenCode's
    /// `opencode.json`): a server it leaves out must not be there either.
    #[serde(default)]
    pub reads_project: Vec<String>,
    /// The same in user scope, relative to the home folder.
    #[serde(default)]
    pub reads_user: Vec<String>,
}

impl McpSpec {
    /// The other platforms' MCP files read in `scope`.
    pub fn reads(&self, scope: Scope) -> &[String] {
        match scope {
            Scope::Project => &self.reads_project,
            Scope::User => &self.reads_user,
        }
    }

    /// The files for `scope`, with their path there.
    pub fn files(&self, scope: Scope) -> Vec<(&str, &McpFile)> {
        self.file
            .iter()
            .filter_map(|f| Some((f.path(scope)?, f)))
            .collect()
    }
}

/// How a stdio server's program and arguments are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandShape {
    /// `command` (a string) and `args` (a list).
    #[default]
    String,
    /// `command` as one list: the program, then its arguments (OpenCode).
    Array,
}

/// `[[mcp.file]]`: one JSON, TOML or YAML file holding servers under `key`, and the spelling of
/// one server's entry there.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpFile {
    /// Relative to the repository root.
    pub project: Option<String>,
    /// Relative to the home folder.
    pub user: Option<String>,
    /// The user file on macOS, when it lives elsewhere there (an editor's
    /// `Library/Application Support/<app>` folder); `user` otherwise.
    pub user_macos: Option<String>,
    /// The user file on Windows (under `AppData/Roaming`, relative to the home folder).
    pub user_windows: Option<String>,
    /// The client that reads it, when the platform has several (`Copilot CLI`).
    pub client: Option<String>,
    /// The top-level key whose table holds one entry per server (`mcpServers`).
    pub key: String,
    /// How `command` and `args` are written.
    #[serde(default)]
    pub command: CommandShape,
    /// The key of a stdio server's program (Goose `cmd`).
    #[serde(default = "default_command_key")]
    pub command_key: String,
    /// The key that repeats the server's own name inside its entry (Goose `name`).
    pub name_key: Option<String>,
    /// `args` is written even when empty (Zed's parser requires it).
    #[serde(default)]
    pub args_required: bool,
    /// How a reference to the variable `NAME` is written (`${NAME}`, `${env:NAME}`); absent
    /// when the client expands none, so a reference can only be passed by `env_vars_key`.
    pub env_ref: Option<String>,
    /// The fields where the client expands `env_ref` (`command`, `args`, `env`, `cwd`, `url`,
    /// `headers`); absent = all of them.
    pub refs_in: Option<Vec<String>>,
    /// The key of a stdio server's environment table.
    #[serde(default = "default_env_key")]
    pub env_key: String,
    /// The key listing variables passed through from the client's environment, for a
    /// client without references (Codex `env_vars`).
    pub env_vars_key: Option<String>,
    /// The key of a remote server's literal headers.
    #[serde(default = "default_headers_key")]
    pub headers_key: String,
    /// The key of headers read from variables, header → variable (Codex `env_http_headers`).
    pub header_env_key: Option<String>,
    /// The key naming the variable that holds a bearer token (Codex `bearer_token_env_var`).
    pub bearer_env_key: Option<String>,
    /// The key of an SSE server's address, and of an HTTP one's unless `http_url_key` is set.
    #[serde(default = "default_url_key")]
    pub url_key: String,
    /// The key of a streamable-HTTP server's address when it differs (Gemini `httpUrl`).
    pub http_url_key: Option<String>,
    /// The key of a stdio server's working folder; absent when the client has none.
    pub cwd_key: Option<String>,
    /// The key naming the transport.
    #[serde(default = "default_type_key")]
    pub type_key: String,
    /// Transport (`stdio`, `http`, `sse`) → the value written at `type_key`; a transport the
    /// table does not list gets no type key.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// The transports the client supports.
    #[serde(default = "default_transports")]
    pub transports: Vec<String>,
    /// The key that switches a server off when false (`enabled`).
    pub enabled_key: Option<String>,
    /// The key that switches a server off when true (`disabled`).
    pub disabled_key: Option<String>,
    /// Keys every entry gets (Copilot CLI `tools = ["*"]`).
    #[serde(default)]
    pub extra: toml::Table,
}

fn default_command_key() -> String {
    "command".into()
}
fn default_env_key() -> String {
    "env".into()
}
fn default_headers_key() -> String {
    "headers".into()
}
fn default_url_key() -> String {
    "url".into()
}
fn default_type_key() -> String {
    "type".into()
}
fn default_transports() -> Vec<String> {
    ["stdio", "http", "sse"].map(String::from).to_vec()
}

/// The MCP transports aiwg knows.
pub const MCP_TRANSPORTS: &[&str] = &["stdio", "http", "sse"];

impl McpFile {
    /// The file for `scope` on the system aiwg runs on.
    pub fn path(&self, scope: Scope) -> Option<&str> {
        self.path_on(scope, std::env::consts::OS)
    }

    /// The file for `scope` on `os` (`std::env::consts::OS` spelling).
    pub fn path_on(&self, scope: Scope, os: &str) -> Option<&str> {
        let user = match os {
            "macos" => self.user_macos.as_ref().or(self.user.as_ref()),
            "windows" => self.user_windows.as_ref().or(self.user.as_ref()),
            _ => self.user.as_ref(),
        };
        match scope {
            Scope::Project => self.project.as_deref(),
            Scope::User => user.map(String::as_str),
        }
    }
}

/// `[home]`: a client that moves its user folder when a variable is set (`CODEX_HOME`): in
/// user scope, every path of this platform under `default` goes under the variable's folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeVar {
    /// The variable (`CODEX_HOME`).
    pub var: String,
    /// The folder it stands for when unset, relative to the home folder (`.codex`).
    pub default: String,
    /// Files directly under home that also move into the variable's folder when it is set
    /// (Claude Code keeps `~/.claude.json` as `$CLAUDE_CONFIG_DIR/.claude.json`).
    #[serde(default)]
    pub files: Vec<String>,
}

impl HomeVar {
    /// `path` (relative to home) moved under `to` (the variable's folder, relative to home,
    /// `""` for home itself) when it lies in `default`; `None` when it does not.
    pub fn rebase(&self, path: &str, to: &str) -> Option<String> {
        if self.files.iter().any(|f| f == path) {
            return Some(if to.is_empty() {
                path.to_string()
            } else {
                format!("{to}/{path}")
            });
        }
        let rest = if path == self.default {
            ""
        } else {
            path.strip_prefix(&self.default)?.strip_prefix('/')?
        };
        Some(match (to.is_empty(), rest.is_empty()) {
            (true, _) => rest.to_string(),
            (false, true) => to.to_string(),
            (false, false) => format!("{to}/{rest}"),
        })
    }
}

/// What to do with a tool name a platform's `tools` table does not list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownTools {
    /// Pass it through unchanged, with a warning.
    #[default]
    Keep,
    /// Leave it out, with a warning (for platforms where an invalid name breaks the agent).
    Drop,
}

/// `[instructions]`: the platform's always-loaded Markdown file, per scope.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instructions {
    /// Relative to the repository root (`AGENTS.md`).
    pub project: Option<String>,
    /// Relative to the home folder (`.codex/AGENTS.md`).
    pub user: Option<String>,
    /// The platform stops reading the file after this many bytes (Codex: 32 KiB).
    pub max_bytes: Option<usize>,
    /// The platform truncates the file after this many characters (Hermes: 20,000).
    pub max_chars: Option<usize>,
    /// How the size warning names the limit when it is not a plain number ("the 20,000 or
    /// more characters Hermes Agent reads ..."); default `"the <max> <unit> <name> reads"`.
    pub limit_note: Option<String>,
    /// For a platform that does not always read `AGENTS.md` (Claude Code): the import line
    /// (`@AGENTS.md`) written as a managed section of its project instruction file when the
    /// project's `AGENTS.md` holds a kind the platform gets nowhere else.
    pub bridge: Option<String>,
    /// Other instruction files the client always loads in a repository (Copilot: `AGENTS.md`,
    /// `CLAUDE.md`): every managed section in them reaches it.
    #[serde(default)]
    pub reads_project: Vec<String>,
    /// Other instruction files it always loads under home.
    #[serde(default)]
    pub reads_user: Vec<String>,
    /// Instruction files it loads only in some cases (Claude Code reads `AGENTS.md` when there
    /// is no `CLAUDE.md`): counted when looking for duplicates, never relied on.
    #[serde(default)]
    pub sometimes_project: Vec<String>,
    /// The same under home.
    #[serde(default)]
    pub sometimes_user: Vec<String>,
    /// When the client reads the `sometimes_*` files, for the duplicate notice.
    pub sometimes_why: Option<String>,
    /// Instruction file names it reads in sub-folders too (`AGENTS.md` in `apps/web/`), where
    /// a monorepo package's rules go when the platform has no glob-scoped rule files.
    #[serde(default)]
    pub reads_nested: Vec<String>,
}

/// The project or the user list of a per-scope pair of list keys (`reads_project`, ...).
pub(crate) fn list_for_scope<'a>(
    scope: Scope,
    project: &'a [String],
    user: &'a [String],
) -> &'a [String] {
    match scope {
        Scope::Project => project,
        Scope::User => user,
    }
}

/// The project or the user value of a per-scope pair of keys (`project = ...`, `user = ...`),
/// the shape every per-scope table of a platform file shares.
fn for_scope<'a>(
    scope: Scope,
    project: &'a Option<String>,
    user: &'a Option<String>,
) -> Option<&'a str> {
    match scope {
        Scope::Project => project.as_deref(),
        Scope::User => user.as_deref(),
    }
}

impl Instructions {
    /// The file for `scope`, if the platform has one there.
    pub fn path(&self, scope: Scope) -> Option<&str> {
        for_scope(scope, &self.project, &self.user)
    }

    /// Every instruction file the client always loads in `scope`, its own first.
    pub fn reads(&self, scope: Scope) -> Vec<&str> {
        let mut all: Vec<&str> = self.path(scope).into_iter().collect();
        for f in list_for_scope(scope, &self.reads_project, &self.reads_user) {
            if !all.contains(&f.as_str()) {
                all.push(f);
            }
        }
        all
    }

    /// The instruction files the client loads only sometimes in `scope`.
    pub fn sometimes(&self, scope: Scope) -> &[String] {
        list_for_scope(scope, &self.sometimes_project, &self.sometimes_user)
    }
}

/// `[models]`: tier names to model ids, and which concrete ids the platform can run.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Models {
    /// The model id for the `opus` tier; absent = no model key (unless `aiwg.toml` sets one).
    pub opus: Option<String>,
    /// The model id for the `sonnet` tier; absent = no model key (unless `aiwg.toml` sets one).
    pub sonnet: Option<String>,
    /// The model id for the `haiku` tier; absent = no model key (unless `aiwg.toml` sets one).
    pub haiku: Option<String>,
    /// What `model: inherit` becomes; absent = the key is left out (the platform's default).
    pub inherit: Option<String>,
    /// Prefixes of concrete model ids that work on this platform (`claude-`); any other
    /// concrete id is dropped with a warning.
    #[serde(default)]
    pub accept: Vec<String>,
}

impl Models {
    /// The id for a tier name (`opus`).
    pub fn tier(&self, tier: &str) -> Option<&str> {
        match tier {
            "opus" => self.opus.as_deref(),
            "sonnet" => self.sonnet.as_deref(),
            "haiku" => self.haiku.as_deref(),
            "inherit" => self.inherit.as_deref(),
            _ => None,
        }
    }
}

/// How a file-per-artifact kind is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Markdown with a YAML frontmatter block built from the `frontmatter` template.
    #[default]
    Markdown,
    /// Codex custom agent: TOML with `name`, `description`, `model`, `developer_instructions`.
    CodexAgent,
    /// Gemini CLI custom command: TOML with `description` and `prompt` (`{{args}}`).
    GeminiCommand,
    /// Mistral Vibe agent profile: TOML with `description`, `agent_type = "subagent"`, the
    /// tool list as `enabled_tools` and the body as `instructions`.
    VibeAgent,
}

/// What a platform does with a kind it has no native place for (in a scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// Deploy as a skill folder (agents, commands; runbooks always are where a platform has
    /// skills).
    Skill,
    /// Deploy as a managed section of the platform's instruction file (agents, rules).
    Section,
    /// Do not deploy; say so.
    Skip,
}

impl Fallback {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::Skill => "skill",
            Fallback::Section => "section",
            Fallback::Skip => "skip",
        }
    }
}

/// `[agent]`, `[command]`, `[rule]`: where one file per artifact goes, in which format.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// The file format; Markdown with frontmatter when unset.
    #[serde(default)]
    pub format: Format,
    /// Path pattern relative to the repository root; `{name}` is the artifact name.
    pub project: Option<String>,
    /// Path pattern relative to the home folder.
    pub user: Option<String>,
    /// What to do in a scope with no path (default: agents and rules become sections,
    /// commands become skills; agents may become skills too).
    pub fallback: Option<Fallback>,
    /// Why the platform has no native place for this kind (in a scope without a path): said
    /// in the fallback notice and by `aiwg platforms` instead of "no native ... here".
    pub why: Option<String>,
    /// Copy every source frontmatter key the template does not set (Claude Code keeps its
    /// own keys).
    #[serde(default)]
    pub passthrough: bool,
    /// Frontmatter keys in output order; values are literals or `{variable}` templates.
    #[serde(default)]
    pub frontmatter: toml::Table,
    /// Rules only: extra frontmatter by activation (always, globs, model-decided).
    #[serde(default)]
    pub when: When,
    /// The platform reads at most this many characters of one file: warn above it.
    pub max_chars: Option<usize>,
    /// What `$ARGUMENTS` in a command body becomes (`{{args}}`); absent = unchanged.
    pub arguments: Option<String>,
    /// Said once (as an info notice) whenever artifacts of this kind are written to the
    /// native path (Codex ignores `.codex/agents` in a project it does not trust).
    pub notice: Option<String>,
    /// Commands: also write each one as a skill where the native place reaches only part of
    /// the platform's clients (Copilot CLI ignores the prompt files VS Code reads).
    pub also_skill: Option<AlsoSkill>,
    /// Rules: a rule with globs starts its body with "Applies to files matching ...", for a
    /// platform that loads every rule file whatever its frontmatter says (Roo, Cline).
    #[serde(default)]
    pub applies_line: bool,
    /// Other platforms' path patterns the client also reads this kind from, natively
    /// (Copilot reads `.claude/agents/{name}.md`), in a repository.
    #[serde(default)]
    pub reads_project: Vec<String>,
    /// The same under home.
    #[serde(default)]
    pub reads_user: Vec<String>,
}

impl KindSpec {
    /// The path pattern for `scope`.
    pub fn path(&self, scope: Scope) -> Option<&str> {
        for_scope(scope, &self.project, &self.user)
    }

    /// The other platforms' patterns read in `scope`.
    pub fn reads(&self, scope: Scope) -> &[String] {
        list_for_scope(scope, &self.reads_project, &self.reads_user)
    }
}

/// `[command.also_skill]`: a skill copy besides the native file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlsoSkill {
    /// Why, as the notice says it after "also deployed as skills: ".
    pub why: String,
    /// Another platform's native places that already serve the clients the copy is for
    /// (Copilot CLI reads `.claude/commands`): no copy when one of them is written.
    #[serde(default)]
    pub unless: Vec<String>,
}

/// `[rule.when.*]`: frontmatter added by how a rule activates.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// `always: true` in the source.
    #[serde(default)]
    pub always: toml::Table,
    /// The source names `globs`.
    #[serde(default)]
    pub globs: toml::Table,
    /// Neither: the agent decides from the description.
    #[serde(default)]
    pub model: toml::Table,
}

/// `[skill]`: the platform's own skills folder and every folder it reads skills from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillSpec {
    /// The platform's own folder in the repository (`.claude/skills`).
    pub project: Option<String>,
    /// The platform's own folder under home.
    pub user: Option<String>,
    /// Every project folder the platform reads skills from (default: its own).
    #[serde(default)]
    pub reads_project: Vec<String>,
    /// Every user folder the platform reads skills from (default: its own).
    #[serde(default)]
    pub reads_user: Vec<String>,
    /// SKILL.md in the platform's own folder keeps every source key (Claude Code), not only
    /// the Agent Skills spec keys.
    #[serde(default)]
    pub passthrough: bool,
    /// The client shows one skill per name however many of its folders hold it (Warp), so a
    /// copy in each of two folders it reads is no duplicate for it.
    #[serde(default)]
    pub one_per_name: bool,
}

impl SkillSpec {
    /// The own folder for `scope`.
    pub fn own(&self, scope: Scope) -> Option<&str> {
        for_scope(scope, &self.project, &self.user)
    }

    /// Every folder read in `scope` (the own folder included).
    pub fn reads(&self, scope: Scope) -> Vec<&str> {
        let listed = match scope {
            Scope::Project => &self.reads_project,
            Scope::User => &self.reads_user,
        };
        let mut all: Vec<&str> = listed.iter().map(String::as_str).collect();
        if let Some(own) = self.own(scope) {
            if !all.contains(&own) {
                all.insert(0, own);
            }
        }
        all
    }
}

/// How behaviors (event hooks) are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BehaviorFormat {
    /// Claude Code's `hooks` key in a settings JSON file (also Factory's).
    #[default]
    ClaudeHooks,
}

/// `[behavior]`: where hook scripts go and which settings file registers them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviorSpec {
    /// How hooks are registered; Claude-style `hooks` is the only format today.
    #[serde(default)]
    pub format: BehaviorFormat,
    /// The settings file in the repository whose `hooks` key aiwg merges into.
    pub project: Option<String>,
    /// The settings file under home.
    pub user: Option<String>,
    /// Folder pattern the behavior's files are copied to (`.claude/hooks/{name}`).
    pub scripts: Option<String>,
    /// Put before the script path in the hook command, per scope.
    #[serde(default)]
    pub command_prefix: ScopedText,
    /// Hook events the platform supports; empty = any.
    #[serde(default)]
    pub events: Vec<String>,
    /// Claude hook event names → the platform's (Gemini CLI: `PreToolUse` → `BeforeTool`);
    /// an event not listed keeps its name.
    #[serde(default)]
    pub event_names: BTreeMap<String, String>,
    /// Claude tool names in a hook's `matcher` → the names the platform's hooks see; unset =
    /// the `[tools]` table; an empty table keeps Claude's names (Codex reports `Bash`).
    pub matchers: Option<BTreeMap<String, String>>,
    /// Said once (as an info notice) whenever behaviors are written for this platform.
    pub notice: Option<String>,
    /// Other platforms' settings files whose hooks the client also runs (Copilot CLI runs
    /// `.claude/settings.json`), in a repository.
    #[serde(default)]
    pub reads_project: Vec<String>,
    /// The same under home.
    #[serde(default)]
    pub reads_user: Vec<String>,
}

impl BehaviorSpec {
    /// The settings file for `scope`.
    pub fn path(&self, scope: Scope) -> Option<&str> {
        for_scope(scope, &self.project, &self.user)
    }

    /// Every settings file whose hooks the client runs in `scope`, its own first.
    pub fn reads(&self, scope: Scope) -> Vec<&str> {
        let mut all: Vec<&str> = self.path(scope).into_iter().collect();
        for f in list_for_scope(scope, &self.reads_project, &self.reads_user) {
            if !all.contains(&f.as_str()) {
                all.push(f);
            }
        }
        all
    }
}

/// A text per scope.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopedText {
    /// The text in project scope; empty when unset.
    #[serde(default)]
    pub project: String,
    /// The text in user scope; empty when unset.
    #[serde(default)]
    pub user: String,
}

impl ScopedText {
    /// The text for `scope`.
    pub fn get(&self, scope: Scope) -> &str {
        match scope {
            Scope::Project => &self.project,
            Scope::User => &self.user,
        }
    }
}

/// A platform file that cannot be used, with the line of the problem when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct SpecError {
    /// `platforms/<file>`.
    pub file: String,
    /// The 1-based line for a TOML syntax or schema error; `None` for a failed validation.
    pub line: Option<u32>,
    /// What is wrong: the TOML parser's message, or the first validation problem.
    pub message: String,
}

impl PlatformSpec {
    /// Parses and validates `text`, read from `platforms/<file_name>`.
    pub fn parse(file_name: &str, text: &str) -> Result<PlatformSpec, SpecError> {
        let file = format!("platforms/{file_name}");
        let spec: PlatformSpec = toml::from_str(text).map_err(|e| SpecError {
            file: file.clone(),
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1),
            message: e.message().trim().to_string(),
        })?;
        let problems = spec.problems(file_name);
        match problems.into_iter().next() {
            None => Ok(spec),
            Some(message) => Err(SpecError {
                file,
                line: None,
                message,
            }),
        }
    }

    /// The rule for `kind` (agent, command, rule); `None` for skills, behaviors, runbooks.
    pub fn kind(&self, kind: Kind) -> Option<&KindSpec> {
        match kind {
            Kind::Agent => Some(&self.agent),
            Kind::Command => Some(&self.command),
            Kind::Rule => Some(&self.rule),
            _ => None,
        }
    }

    /// Everything wrong with this spec, for the file `file_name`.
    fn problems(&self, file_name: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !is_id(&self.id) {
            out.push(format!("id `{}` must be `[a-z0-9-]`", self.id));
        }
        if file_name.strip_suffix(".toml") != Some(self.id.as_str()) {
            out.push(format!(
                "id `{}` must match the file name `{file_name}`",
                self.id
            ));
        }
        for alias in &self.aliases {
            if !is_id(alias) {
                out.push(format!("alias `{alias}` must be `[a-z0-9-]`"));
            }
        }
        if let Some(h) = &self.home {
            if h.var.is_empty()
                || !h
                    .var
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                out.push(format!("home.var `{}` must be `[A-Z0-9_]`", h.var));
            }
            check_path(&mut out, "home.default", Scope::User, &h.default, false);
            for f in &h.files {
                check_path(&mut out, "home.files", Scope::User, f, false);
            }
        }
        for marker in &self.detect {
            if let Err(e) = RelPath::new(marker) {
                out.push(format!("detect `{marker}`: {e}"));
            }
        }
        for f in &self.instructions.reads_nested {
            // A file name, joined to each package folder: no folder part, Markdown.
            if f.contains('/') || !f.ends_with(".md") || RelPath::new(f).is_err() {
                out.push(format!(
                    "instructions.reads_nested `{f}` must be a Markdown file name without a folder"
                ));
            }
        }
        if !self.docs.starts_with("https://") {
            out.push(format!("docs `{}` must be an https:// address", self.docs));
        }
        for scope in [Scope::Project, Scope::User] {
            if let Some(p) = self.instructions.path(scope) {
                check_path(&mut out, "instructions", scope, p, false);
                // Sections are marked with HTML comments: Markdown, or a plain text file the
                // platform reads as Markdown (`.goosehints`).
                if !(p.ends_with(".md") || p.ends_with("hints")) {
                    out.push(format!(
                        "instructions.{scope} `{p}` must be a Markdown file (sections are Markdown comments)"
                    ));
                }
            }
            for (label, kind) in [
                ("agent", &self.agent),
                ("command", &self.command),
                ("rule", &self.rule),
            ] {
                if let Some(p) = kind.path(scope) {
                    check_path(&mut out, label, scope, p, true);
                }
            }
            for f in self.instructions.reads(scope).into_iter().chain(
                self.instructions
                    .sometimes(scope)
                    .iter()
                    .map(String::as_str),
            ) {
                check_path(&mut out, "instructions.reads", scope, f, false);
            }
            for (label, kind) in [
                ("agent.reads", &self.agent),
                ("command.reads", &self.command),
                ("rule.reads", &self.rule),
            ] {
                for p in kind.reads(scope) {
                    check_path(&mut out, label, scope, p, true);
                }
            }
            for f in self.behavior.reads(scope) {
                check_path(&mut out, "behavior.reads", scope, f, false);
            }
            if let Some(own) = self.skill.own(scope) {
                check_path(&mut out, "skill", scope, own, false);
            }
            for dir in self.skill.reads(scope) {
                check_path(&mut out, "skill.reads", scope, dir, false);
            }
            if let Some(p) = self.behavior.path(scope) {
                check_path(&mut out, "behavior", scope, p, false);
                if !p.ends_with(".json") {
                    out.push(format!(
                        "behavior.{scope} `{p}` must be a JSON settings file"
                    ));
                }
                if self.behavior.scripts.is_none() {
                    out.push("behavior needs `scripts`, the folder hook files go to".into());
                }
            }
        }
        if let Some(s) = &self.behavior.scripts {
            check_path(&mut out, "behavior.scripts", Scope::Project, s, true);
        }
        for (label, kind, allowed) in [
            (
                "agent",
                &self.agent,
                &[Fallback::Skill, Fallback::Section, Fallback::Skip][..],
            ),
            (
                "command",
                &self.command,
                &[Fallback::Skill, Fallback::Section, Fallback::Skip][..],
            ),
            ("rule", &self.rule, &[Fallback::Section, Fallback::Skip][..]),
        ] {
            if let Some(f) = kind.fallback {
                if !allowed.contains(&f) {
                    out.push(format!(
                        "{label}.fallback `{}` is not possible for this kind (use one of {})",
                        f.as_str(),
                        allowed
                            .iter()
                            .map(|f| format!("`{}`", f.as_str()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            let tables = [
                ("frontmatter", &kind.frontmatter),
                ("when.always", &kind.when.always),
                ("when.globs", &kind.when.globs),
                ("when.model", &kind.when.model),
            ];
            for (table_name, table) in tables {
                for (key, value) in table.iter() {
                    if let Err(e) = template::check(value) {
                        out.push(format!("{label}.{table_name}.{key}: {e}"));
                    }
                }
            }
            if kind.why.is_some() && kind.project.is_some() && kind.user.is_some() {
                out.push(format!(
                    "{label}.why is for a kind without a native place in some scope"
                ));
            }
            let format_ok = match kind.format {
                Format::Markdown => true,
                Format::CodexAgent | Format::VibeAgent => label == "agent",
                Format::GeminiCommand => label == "command",
            };
            if !format_ok {
                out.push(format!("{label}.format does not apply to {label}s"));
            }
        }
        self.mcp_problems(&mut out);
        if label_has_when(&self.agent) || label_has_when(&self.command) {
            out.push("`when` tables apply to rules only".into());
        }
        out
    }
}

impl PlatformSpec {
    fn mcp_problems(&self, out: &mut Vec<String>) {
        for f in &self.mcp.file {
            let paths = [Scope::Project, Scope::User]
                .into_iter()
                .flat_map(|scope| {
                    ["linux", "macos", "windows"]
                        .into_iter()
                        .filter_map(move |os| Some((scope, f.path_on(scope, os)?)))
                })
                .collect::<Vec<_>>();
            for (scope, p) in paths {
                // A `{name}` path is one whole YAML file per server (Continue's blocks);
                // anything else is a JSON or TOML file aiwg merges a key into.
                let per_server = p.contains("{name}");
                check_path(out, "mcp.file", scope, p, per_server);
                if per_server && !p.ends_with(".yaml") {
                    out.push(format!(
                        "mcp.file.{scope} `{p}`: a file per server is a YAML block (`.yaml`)"
                    ));
                } else if !(per_server
                    || p.ends_with(".json")
                    || p.ends_with(".jsonc")
                    || p.ends_with(".toml")
                    || p.ends_with(".yaml")
                    || p.ends_with(".yml"))
                {
                    out.push(format!(
                        "mcp.file.{scope} `{p}` must be a JSON, TOML or YAML file (aiwg merges keys into those)"
                    ));
                }
            }
            if f.user.is_none() && (f.user_macos.is_some() || f.user_windows.is_some()) {
                out.push(
                    "mcp.file.user_macos and user_windows need `user` (the file elsewhere)".into(),
                );
            }
            if f.project.is_none() && f.user.is_none() {
                out.push("mcp.file needs `project` or `user`".into());
            }
            if f.key.is_empty() {
                out.push("mcp.file.key must not be empty".into());
            }
            if let Some(r) = &f.env_ref {
                if !r.contains("NAME") {
                    out.push(format!("mcp.file.env_ref `{r}` must contain `NAME`"));
                }
            }
            for t in f.types.keys().chain(&f.transports) {
                if !MCP_TRANSPORTS.contains(&t.as_str()) {
                    out.push(format!(
                        "mcp.file: unknown transport `{t}` (use stdio, http, sse)"
                    ));
                }
            }
        }
        for scope in [Scope::Project, Scope::User] {
            for p in self.mcp.reads(scope) {
                check_path(out, "mcp.reads", scope, p, false);
            }
        }
        if !self.mcp.file.is_empty() && self.mcp.why.is_some() {
            out.push("mcp.why is for a platform without `[[mcp.file]]`".into());
        }
    }
}

fn label_has_when(kind: &KindSpec) -> bool {
    kind.when != When::default()
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks a path pattern: a valid relative path once `{name}` is filled, with `{name}` when
/// the kind is one file per artifact.
fn check_path(out: &mut Vec<String>, label: &str, scope: Scope, pattern: &str, per_name: bool) {
    if per_name != pattern.contains("{name}") {
        out.push(if per_name {
            format!("{label}.{scope} `{pattern}` needs `{{name}}`")
        } else {
            format!("{label}.{scope} `{pattern}` cannot hold `{{name}}`")
        });
    }
    if let Err(e) = RelPath::new(&pattern.replace("{name}", "x")) {
        out.push(format!("{label}.{scope}: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: Result<(), &str>) {
        let got = PlatformSpec::parse("demo.toml", text)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            got.as_ref().map(|_| ()).map_err(String::as_str),
            expect,
            "{text}"
        );
    }

    #[test]
    fn a_home_variable_moves_its_folder_and_listed_files() {
        let h = HomeVar {
            var: "CLAUDE_CONFIG_DIR".into(),
            default: ".claude".into(),
            files: vec![".claude.json".into()],
        };
        assert_eq!(
            h.rebase(".claude/agents/x.md", "cfg").as_deref(),
            Some("cfg/agents/x.md")
        );
        assert_eq!(
            h.rebase(".claude.json", "cfg").as_deref(),
            Some("cfg/.claude.json")
        );
        assert_eq!(
            h.rebase(".claude.json", "").as_deref(),
            Some(".claude.json")
        );
        assert_eq!(h.rebase(".claude.jsonx", "cfg"), None);
    }

    #[test]
    fn a_user_mcp_file_can_live_elsewhere_per_system() {
        let copilot = crate::Registry::builtin().get("copilot").unwrap();
        let vscode = &copilot.mcp.file[0];
        assert_eq!(
            vscode.path_on(Scope::User, "linux"),
            Some(".config/Code/User/mcp.json")
        );
        assert_eq!(
            vscode.path_on(Scope::User, "macos"),
            Some("Library/Application Support/Code/User/mcp.json")
        );
        assert_eq!(
            vscode.path_on(Scope::User, "windows"),
            Some("AppData/Roaming/Code/User/mcp.json")
        );
        assert_eq!(
            vscode.path_on(Scope::Project, "macos"),
            Some(".vscode/mcp.json")
        );
        let cli = &copilot.mcp.file[1];
        assert_eq!(
            cli.path_on(Scope::User, "macos"),
            Some(".copilot/mcp-config.json"),
            "no per-system path: `user` everywhere"
        );
        let parse = |file: &str| {
            PlatformSpec::parse(
                "demo.toml",
                &format!("id = \"demo\"\nname = \"Demo\"\ndocs = \"https://x\"\n[[mcp.file]]\nkey = \"s\"\n{file}"),
            )
            .unwrap_err()
            .to_string()
        };
        let alone = parse("project = \"a.json\"\nuser_windows = \"b.json\"\n");
        assert!(alone.contains("need `user`"), "{alone}");
        let out = parse("user = \"a.json\"\nuser_macos = \"../b.json\"\n");
        assert!(out.contains("`../b.json` leaves its folder"), "{out}");
    }

    const HEAD: &str = "id = \"demo\"\nname = \"Demo\"\ndocs = \"https://example.org\"\n";

    #[test]
    fn valid_and_invalid_specs() {
        check(HEAD, Ok(()));
        check(
            &format!("{HEAD}[agent]\nproject = \".demo/agents/{{name}}.md\"\n"),
            Ok(()),
        );
        check(
            &format!("{HEAD}[agent]\nproject = \".demo/agents/x.md\"\n"),
            Err("platforms/demo.toml: agent.project `.demo/agents/x.md` needs `{name}`"),
        );
        check(
            &format!("{HEAD}[agent]\nproject = \"../{{name}}.md\"\n"),
            Err("platforms/demo.toml: agent.project: path `../x.md` leaves its folder (`..`)"),
        );
        check(&format!("{HEAD}[agent]\nfallback = \"skill\"\n"), Ok(()));
        check(
            &format!("{HEAD}[rule]\nfallback = \"skill\"\n"),
            Err("platforms/demo.toml: rule.fallback `skill` is not possible for this kind (use one of `section`, `skip`)"),
        );
        check(
            &format!("{HEAD}[rule.frontmatter]\npaths = \"{{globz}}\"\n"),
            Err("platforms/demo.toml: rule.frontmatter.paths: unknown variable `{globz}`"),
        );
        check(
            &format!("{HEAD}colour = 1\n"),
            Err("platforms/demo.toml:4: unknown field `colour`, expected one of `id`, `name`, `aliases`, `docs`, `default`, `detect`, `instructions`, `models`, `tools`, `tool_universe`, `unknown_tools`, `agent`, `command`, `rule`, `skill`, `behavior`, `home`, `mcp`"),
        );
        check(
            "id = \"other\"\nname = \"x\"\ndocs = \"https://x\"\n",
            Err("platforms/demo.toml: id `other` must match the file name `demo.toml`"),
        );
    }
}
