//! Native files: one file (or folder) per agent, command or rule at the platform's path
//! pattern, runbooks as rules for a platform without skills, and the formats data cannot
//! describe (Codex agent TOML, Mistral Vibe agent TOML, Gemini command TOML).

use aiwg_core::{Artifact, Kind};

use super::sections::applies_to;
use super::{markdown, NoticeLevel, RenderError, Renderer, Shared};
use crate::spec::{Format, PlatformSpec};

impl Renderer<'_> {
    /// Writes `items` of `kind` for `p` at `pattern`, in the kind's format: made on every
    /// core ([`Renderer::batches`]), inserted in `items`' order.
    pub(super) fn native(
        &mut self,
        p: &PlatformSpec,
        kind: Kind,
        items: &[&Artifact],
        pattern: &str,
    ) -> Result<(), RenderError> {
        self.native_files(p, items, pattern, |shared, a| match kind {
            Kind::Agent => shared.agent(p, a),
            Kind::Command => shared.command(p, a),
            _ => shared.rule_file(p, a),
        })?;
        if let Some(note) = p.kind(kind).and_then(|k| k.notice.clone()) {
            if !items.is_empty() {
                self.notice(p, Some(kind), NoticeLevel::Info, note);
            }
        }
        Ok(())
    }

    /// One file per artifact of `items` at `pattern`, its text from `text`.
    fn native_files(
        &mut self,
        p: &PlatformSpec,
        items: &[&Artifact],
        pattern: &str,
        text: impl Fn(&Shared<'_>, &Artifact) -> String + Sync,
    ) -> Result<(), RenderError> {
        let make = |shared: &Shared<'_>, a: &Artifact| {
            let path = shared.path(p, a, pattern)?;
            let text = text(shared, a);
            Ok::<_, RenderError>(shared.make(path, text.into_bytes(), false))
        };
        let insert = |r: &mut Self, a: &Artifact, made: Result<super::Made, RenderError>| {
            r.insert_made(&mut made?, &a.source, a.id(), p, true)
        };
        self.batches(items, make, insert)
    }

    /// Runbooks as rule files, for a platform with rules but no skills folder.
    pub(super) fn runbook_rules(
        &mut self,
        p: &PlatformSpec,
        runbooks: &[&Artifact],
        pattern: &str,
    ) -> Result<(), RenderError> {
        self.native_files(p, runbooks, pattern, |shared, a| shared.rule_file(p, a))?;
        self.count(
            p,
            Kind::Runbook,
            "deployed as rules (no skills folder)",
            runbooks.len(),
        );
        Ok(())
    }
}

impl Shared<'_> {
    fn agent(&self, p: &PlatformSpec, a: &Artifact) -> String {
        match p.agent.format {
            Format::CodexAgent => self.codex_agent(p, a),
            Format::VibeAgent => {
                let text = self.vibe_agent(p, a);
                self.check_size(p, a, &p.agent, &text);
                text
            }
            Format::Markdown | Format::GeminiCommand => {
                let fm = self.frontmatter(p, a, &p.agent);
                let text = markdown(&fm, &a.body);
                self.check_size(p, a, &p.agent, &text);
                text
            }
        }
    }

    fn command(&self, p: &PlatformSpec, a: &Artifact) -> String {
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
        text
    }

    fn rule_file(&self, p: &PlatformSpec, a: &Artifact) -> String {
        let fm = self.frontmatter(p, a, &p.rule);
        let text = match applies_to(a).filter(|_| p.rule.applies_line) {
            Some(line) => {
                // The platform loads every rule file, so the globs only advise the model.
                let how = format!(
                    "with globs loaded in every session ({} loads every rule file; an \"Applies to files matching\" line in each asks the model to keep to those files)",
                    p.name
                );
                self.count(p, a.kind, &how, 1);
                let body = format!("\n{line}\n\n{}", a.body.trim_start_matches('\n'));
                markdown(&fm, &body)
            }
            None => markdown(&fm, &a.body),
        };
        self.check_size(p, a, &p.rule, &text);
        text
    }

    fn codex_agent(&self, p: &PlatformSpec, a: &Artifact) -> String {
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
}

impl Shared<'_> {
    /// A Mistral Vibe agent profile. The file name is the agent's name; keys Vibe does not
    /// know would be read as config overrides, so only these four are written. No model: a
    /// profile names a model by its config alias, which differs per installation.
    fn vibe_agent(&self, p: &PlatformSpec, a: &Artifact) -> String {
        let mut t = toml::Table::new();
        let description = a.description();
        if !description.is_empty() {
            t.insert("description".into(), description.into());
        }
        t.insert("agent_type".into(), "subagent".into());
        let tools = self.tools(p, a);
        if !tools.is_empty() {
            t.insert(
                "enabled_tools".into(),
                toml::Value::Array(tools.into_iter().map(toml::Value::from).collect()),
            );
        }
        t.insert(
            "instructions".into(),
            a.body.trim_start_matches('\n').into(),
        );
        toml::to_string(&t).expect("plain strings always serialise")
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
