//! Behaviors: hook scripts copied next to the platform's settings file and registered in it
//! as merged keys, with matchers in the platform's tool names.

use std::collections::BTreeSet;

use aiwg_core::target::{ConfigFormat, Desired, MergeEntry};
use aiwg_core::{Artifact, Kind, RelPath};
use serde_json::{json, Map, Value};

use super::{NoticeLevel, RenderError, Renderer};
use crate::spec::PlatformSpec;

impl Renderer<'_> {
    /// `behaviors` for `p`: scripts under `scripts`, hooks merged into `settings`.
    pub(super) fn behaviors(
        &mut self,
        p: &PlatformSpec,
        behaviors: &[&Artifact],
        settings: &str,
        scripts: &str,
    ) -> Result<(), RenderError> {
        if behaviors.is_empty() {
            return Ok(());
        }
        let mut entries: Vec<MergeEntry> = Vec::new();
        let mut sources: BTreeSet<&str> = BTreeSet::new();
        for a in behaviors {
            if let Some(entry) = self.hook(p, a, scripts)? {
                entries.push(entry);
                sources.insert(&a.source);
            }
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

    /// One behavior's scripts, copied under `scripts`, and its hook entry; `None` (with a
    /// warning) when the behavior cannot be a hook on `p`.
    fn hook(
        &mut self,
        p: &PlatformSpec,
        a: &Artifact,
        scripts: &str,
    ) -> Result<Option<MergeEntry>, RenderError> {
        let (Some(event), Some(command)) =
            (a.frontmatter.str("event"), a.frontmatter.str("command"))
        else {
            let why = "needs `event` and `command` in its frontmatter; skipped";
            self.notice(
                p,
                Some(Kind::Behavior),
                NoticeLevel::Warning,
                format!("behavior `{}` {why}", a.name),
            );
            return Ok(None);
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
            return Ok(None);
        }
        let Some(command_path) = RelPath::new(&command)
            .ok()
            .filter(|c| a.assets.iter().any(|f| &f.path == c))
        else {
            self.notice(p, Some(Kind::Behavior), NoticeLevel::Warning, format!("behavior `{}`: command `{command}` is not a file in the behavior's folder; skipped", a.name));
            return Ok(None);
        };
        let dir = self.path(p, a, scripts)?;
        for asset in &a.assets {
            let path = dir
                .join(asset.path.as_str())
                .expect("joined relative paths stay relative");
            let executable = asset.executable || asset.path == command_path;
            let desired = Desired::File {
                bytes: asset.bytes.clone(),
                executable,
            };
            self.insert(path, desired, &a.source, a.id(), p)?;
        }
        let mut hook = Map::new();
        if let Some(matcher) = a.frontmatter.str("matcher") {
            hook.insert("matcher".into(), json!(self.matcher(p, &matcher)));
        }
        let run = format!(
            "{}{}/{command_path}",
            p.behavior.command_prefix.get(self.scope),
            self.rebase(p, dir.clone())?,
        );
        hook.insert("hooks".into(), json!([{"type": "command", "command": run}]));
        let event = p.behavior.event_names.get(&event).cloned().unwrap_or(event);
        Ok(Some(MergeEntry {
            key: vec!["hooks".into(), event],
            value: Value::Object(hook),
            append: true,
        }))
    }

    /// A `Write|Edit` matcher in the platform's tool names.
    fn matcher(&self, p: &PlatformSpec, matcher: &str) -> String {
        let plain = matcher
            .split('|')
            .all(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        let table = p.behavior.matchers.as_ref().unwrap_or(&p.tools);
        if table.is_empty() || !plain {
            return matcher.to_string();
        }
        let mut out: Vec<&str> = Vec::new();
        for t in matcher.split('|') {
            let t = if t == "Task" { "Agent" } else { t };
            let m = table
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
}
