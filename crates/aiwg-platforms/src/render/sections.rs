//! Managed sections of instruction files: the kinds a platform takes as a section (with the
//! runbook index pointing to skill copies), the AGENTS.md bridge, and read-limit warnings.

use std::collections::BTreeMap;

use aiwg_core::target::{Desired, Part, Scope};
use aiwg_core::{Artifact, Kind, RelPath};

use super::{NoticeLevel, RenderError, Renderer, BRIDGE_SECTION};
use crate::placement::{no_skills_folder, Place, Resolved};
use crate::spec::PlatformSpec;

#[cfg(test)]
thread_local! {
    /// How many section texts this thread's holding or digest renders made (tests count them).
    pub(super) static SECTIONS_MADE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Renderer<'_> {
    /// `items` of `kind` as managed sections of `file` (one per source). A runbook this
    /// render also writes as a skill is only indexed in the section (name, description, the
    /// path of its SKILL.md), so runbook sections are written after `skills`.
    pub(super) fn section(
        &mut self,
        p: &PlatformSpec,
        kind: Kind,
        items: &[&Artifact],
        file: &str,
    ) -> Result<(), RenderError> {
        if items.is_empty() {
            return Ok(());
        }
        let path = RelPath::new(file).expect("validated at load");
        let mut by_source: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
        for a in items {
            by_source.entry(&a.source).or_default().push(a);
        }
        let artifact = format!("section:{}", kind.folder());
        // A streaming render (the second of an apply) keeps no section text
        // ([`Renderer::insert`]): it is not made, megabytes for one section at scale.
        let streaming = matches!(self.bodies, super::Bodies::Stream(_));
        for (source, artifacts) in by_source {
            let id = format!("{source}:{}", kind.folder());
            // Another platform sharing the file (AGENTS.md) already has this section of the
            // same artifacts: its text would be the same (runbook sections are all made after
            // the skills, so with the same index), so it is not made again, megabytes at
            // scale; the section only serves this platform too, as an equal insert would.
            let kept = match streaming {
                true => None,
                false => self.rebase(p, path.clone()).ok().map(|at| {
                    let inputs: Vec<usize> = artifacts
                        .iter()
                        .map(|a| *a as *const Artifact as usize)
                        .collect();
                    ((at, id.clone()), inputs)
                }),
            };
            if let Some(((at, id), _)) = kept
                .as_ref()
                .filter(|(key, inputs)| self.section_inputs.get(key) == Some(inputs))
            {
                #[cfg(debug_assertions)]
                self.assert_same_section(at, id, kind, &artifacts);
                let origin = self.origin(source, &artifact, p);
                if self
                    .target
                    .serve_also_at(at, &Part::Section(id.clone()), &origin)
                {
                    continue;
                }
                // Not found (a section recorded as kept always is): made as below.
            }
            let text = match streaming {
                true => String::new(),
                false => {
                    let text = section_text(kind, &artifacts, &self.runbook_skills);
                    #[cfg(test)]
                    SECTIONS_MADE.with(|n| n.set(n.get() + 1));
                    if let super::Bodies::Hold(held) = &mut self.bodies {
                        held.charge(text.len());
                    }
                    text
                }
            };
            self.insert(
                path.clone(),
                Desired::Section { id, text },
                source,
                artifact.clone(),
                p,
            )?;
            if let Some((key, inputs)) = kept {
                self.section_inputs.insert(key, inputs);
            }
        }
        if kind != Kind::Runbook {
            let how = format!(
                "deployed as a section of `{file}` ({})",
                super::no_native(p, kind)
            );
            self.count(p, kind, &how, items.len());
            return Ok(());
        }
        let indexed = items
            .iter()
            .filter(|a| self.runbook_skills.contains_key(&a.name))
            .count();
        let why = no_skills_folder(p, self.scope, kind);
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
        Ok(())
    }

    /// Debug builds (every test) check that a section not made again is the one a render
    /// that makes it would compare equal.
    #[cfg(debug_assertions)]
    fn assert_same_section(&self, at: &RelPath, id: &str, kind: Kind, artifacts: &[&Artifact]) {
        let text = section_text(kind, artifacts, &self.runbook_skills);
        assert!(
            self.target.entries().any(|e| &e.path == at
                && matches!(&e.desired, Desired::Section { id: i, text: t } if i == id && *t == text)),
            "section `{id}` of `{at}` made again differs"
        );
    }

    /// The AGENTS.md import in the instruction file of a platform that does not read
    /// AGENTS.md (the `bridge` key), written only when it is needed: when AGENTS.md holds a
    /// section of a kind this render gives that platform nowhere else. (Claude Code takes every
    /// kind natively, so it never needs it; an import would only show it everything twice.)
    pub(super) fn bridge(
        &mut self,
        resolved: &[(&PlatformSpec, Resolved)],
    ) -> Result<(), RenderError> {
        if self.scope != Scope::Project {
            return Ok(());
        }
        let agents_md = RelPath::new("AGENTS.md").expect("valid");
        let in_agents_md: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| {
                self.target.entries().any(|e| {
                    e.path == agents_md
                        && matches!(&e.desired, Desired::Section { id, .. }
                            if id.ends_with(&format!(":{}", k.folder())))
                })
            })
            .collect();
        for (p, res) in resolved {
            let (Some(import), Some(file)) = (
                p.instructions.bridge.as_deref(),
                p.instructions.path(self.scope),
            ) else {
                continue;
            };
            let missing: Vec<&str> = in_agents_md
                .iter()
                .filter(|k| matches!(res.get(**k).place, Place::Skip { .. }))
                .map(|k| k.folder())
                .collect();
            if missing.is_empty() {
                continue;
            }
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
            self.notice(
                p,
                None,
                NoticeLevel::Info,
                format!(
                    "`{file}` imports `AGENTS.md` for the {} {} gets nowhere else",
                    missing.join(" and "),
                    p.name
                ),
            );
        }
        Ok(())
    }

    /// Warnings for instruction files that near or pass a platform's read limit.
    pub(super) fn limits(&mut self, platforms: &[&PlatformSpec]) {
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
            let file = match RelPath::new(file).map(|f| self.rebase(p, f)) {
                Ok(Ok(f)) => f.to_string(),
                _ => file.to_string(),
            };
            let file = file.as_str();
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
                    let limit = match &p.instructions.limit_note {
                        Some(note) => note.clone(),
                        None => format!("the {max} {unit} {} reads", p.name),
                    };
                    self.notice(p, None, NoticeLevel::Warning, format!(
                        "aiwg's sections in `{file}` are {used} {unit}, {how} {limit}; your own text there counts too (move rules or agents into skills)"
                    ));
                }
            }
        }
    }
}

/// The text of a managed section holding every artifact of one kind from one source. The
/// same for every platform, so platforms sharing a file write it once. A runbook named in
/// `runbook_skills` (name → its SKILL.md) gets an index entry pointing there, not its text.
pub(super) fn section_text(
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
        Kind::Mcp => "MCP server",
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
        if let Some(line) = applies_to(a).filter(|_| kind == Kind::Rule) {
            out.push_str(&format!("{line}\n\n"));
        }
        let body = demote_headings(a.body.trim_matches('\n'));
        out.push_str(&body);
        out.push('\n');
    }
    // Kept in the target state (and the plan's new text is made from it): a section of
    // every artifact of a kind is megabytes at scale, and its growth left up to as much again
    // unused.
    out.shrink_to_fit();
    out
}

/// Pushes Markdown headings down two levels (`#` → `###`) so an artifact's headings nest
/// under its `##` title; fenced code is left alone.
pub(super) fn demote_headings(body: &str) -> String {
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

/// "Applies to files matching `a`, `b`." for a rule scoped by globs (not `always`): what keeps
/// a glob rule advisory where the platform cannot scope it.
pub(super) fn applies_to(a: &Artifact) -> Option<String> {
    let globs = a.frontmatter.globs();
    if a.frontmatter.always() || globs.is_empty() {
        return None;
    }
    let list: Vec<String> = globs.iter().map(|g| format!("`{g}`")).collect();
    Some(format!("Applies to files matching {}.", list.join(", ")))
}
