//! Renders the aiwg model into each AI platform's native paths and formats.
//!
//! Most of a platform is data: `platforms/<id>.toml` (embedded at build time, see
//! [`Registry::builtin`]) says per kind and scope where files go, in which format, with which
//! frontmatter, and what happens when the platform has no native place for a kind. This
//! crate reads that data and turns a [`Model`](aiwg_core::Model) into a
//! [`TargetState`](aiwg_core::target::TargetState) with [`fn@render`]. It never reads the
//! destination and never prints.
//!
//! - [`spec`]: the schema of a platform file and its validation.
//! - [`nested`]: how each platform gets a monorepo package's rules (nested instruction file,
//!   glob-scoped rule files, or neither).
//! - [`placement`]: a platform lowered once per scope: where each kind goes, every place the
//!   client reads it from.
//! - [`registry`]: the built-in platforms, id and alias resolution with did-you-mean.
//! - [`render()`]: model × platforms × scope → target state + notices.
//! - [`skills`]: which skills folders to write (dedupe by reader set).
//! - [`summary`]: per platform and kind, native / fallback / unsupported and where it goes
//!   (for `aiwg platforms` and the README table).
//! - [`template`], [`yaml`]: frontmatter templates and YAML output.
//!
//! # Rules across platforms
//!
//! - **Skills are written once per reader set.** Each platform reads skills from a set of
//!   folders; [`skills::place`] picks the folders so every platform that needs a skill sees it
//!   exactly once when that is possible, preferring the shared `.agents/skills`. Where it is
//!   not possible (Claude Code reads only `.claude/skills`, Codex only `.agents/skills`,
//!   Copilot both), the copy is still written and the platform that sees it twice gets a
//!   warning notice.
//! - **Frontmatter of SKILL.md.** A copy in a folder that is a selected platform's *own*
//!   folder carries that platform's keys (Claude Code's copy in `.claude/skills` keeps
//!   `argument-hint`, `disable-model-invocation`, ...). Other platforms that read the same
//!   folder (Copilot, Cursor, OpenCode read `.claude/skills`) see those keys too: Agent Skills
//!   clients ignore keys they do not know, and writing a second, filtered copy would show the
//!   skill twice, which is worse. Every other copy (`.agents/skills` above all) carries only
//!   the Agent Skills spec keys: name, description, license, compatibility, metadata,
//!   allowed-tools.
//! - **Agents and commands as skills.** A platform without agent or command files can take
//!   them as skills (`fallback = "skill"`); they go through the same placement as skills, and
//!   a name keeps one folder: a skill wins, then a runbook, then an agent, then a command; the
//!   ones left out get a warning. An agent's SKILL.md carries only `name` and `description`.
//! - **Shared instruction files** (AGENTS.md, CLAUDE.md, copilot-instructions.md) get managed
//!   sections with ids `<source>:agents`, `<source>:rules`, `<source>:runbooks`; their text
//!   does not depend on the platform, so platforms sharing a file write one section.
//! - **Runbook sections index the skill copies.** When a platform without a skills folder
//!   (Hermes and the AGENTS.md standard in a repository) gets runbooks as a section, and the
//!   same render writes them as skills for other platforms, the section lists each runbook's
//!   name, description and SKILL.md path (the shared `.agents/skills` when it is written)
//!   instead of its full text; with no skill copy the full text stays.
//! - **Shared config files** (`.claude/settings.json`) get merged keys, never whole files.
//! - **Reader sets for every kind.** Agents, commands and rules are placed like skills: each
//!   selected platform's own place (a file pattern or an instruction file) is written only
//!   where no other written copy already serves it (Copilot reads `.claude/agents` and
//!   `.claude/rules`; Cursor, Kiro, Roo read the rules in AGENTS.md), and a platform that
//!   still sees an artifact twice gets one warning naming the places and whom they serve.
//! - **Claude Code and AGENTS.md.** Claude Code reads AGENTS.md only when there is no
//!   CLAUDE.md; the `@AGENTS.md` import (section `agents-md-bridge`) is written only when
//!   AGENTS.md holds a kind Claude Code gets nowhere else, which its native places never leave.

// No unsafe code here at all (the workspace only denies it: the binary's `tune_allocator`
// is its one allowed place).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod nested;
pub mod placement;
pub mod registry;
pub mod render;
pub mod skills;
pub mod spec;
pub mod summary;
pub mod template;
pub mod yaml;

pub use registry::{Registry, RegistryError, UnknownPlatform};
pub use render::{
    render, render_bodies, Bodies, Held, Notice, NoticeLevel, RenderError, RenderOptions, Rendered,
    Sink,
};
pub use spec::PlatformSpec;
