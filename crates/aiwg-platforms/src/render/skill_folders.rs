//! Skill folders: every kind written as skills (skills, and runbooks, agents and commands
//! that fall back to skills), placed by reader set so each platform sees each once.

use std::collections::{BTreeMap, BTreeSet};

use aiwg_core::target::Scope;
use aiwg_core::{Artifact, Kind, Model};
use serde_json::{json, Map};

use super::{
    markdown, plural, sees_copies, sorted, Made, NoticeLevel, RenderError, Renderer, Shared,
    CONSUMED_KEYS, SPEC_SKILL_KEYS,
};
use crate::skills::{self, Placement, Reader};
use crate::spec::PlatformSpec;

impl Renderer<'_> {
    /// Writes every kind that goes to skills folders: `kinds` pairs each kind with the
    /// platforms that need it as skills, in order of precedence for a shared name.
    pub(super) fn skills(
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
                sometimes: Vec::new(),
                one_per_name: p.skill.one_per_name,
            })
            .collect();
        let by_id: BTreeMap<&str, &PlatformSpec> =
            platforms.iter().map(|p| (p.id.as_str(), *p)).collect();
        for (items, needers, kind) in self.claim_names(model, kinds, &by_id) {
            for group in self.groups(&items) {
                let needers: BTreeSet<&str> = needers
                    .iter()
                    .copied()
                    .filter(|id| !group.excluders.contains(*id))
                    .collect();
                if needers.is_empty() {
                    continue;
                }
                let avoid: BTreeSet<&str> = group.excluders.iter().map(String::as_str).collect();
                let placement =
                    skills::place_avoiding(&readers, &needers, &avoid, Some(skills::SHARED));
                self.refuse_leaks(kind, &group, &readers, &placement, platforms)?;
                self.write_placed(&group.items, &needers, &placement, &by_id)?;
                if kind == Kind::Runbook {
                    self.index_runbooks(&group.items, &placement);
                }
                let others = |id: &str| !avoid.contains(id);
                self.placement_notices(
                    kind,
                    group.items.len(),
                    &needers,
                    &placement,
                    &by_id,
                    others,
                );
            }
        }
        Ok(())
    }

    /// The artifacts of each kind that get a skill folder: a skill takes its name's folder; a
    /// runbook, agent or command written as a skill with the same name stays out of it (Claude
    /// Code, too, lets the skill win), with a warning. Among those, the earlier kind wins.
    fn claim_names<'m, 'n>(
        &mut self,
        model: &'m Model,
        kinds: &[(Kind, &'n BTreeSet<&'n str>)],
        by_id: &BTreeMap<&str, &PlatformSpec>,
    ) -> Vec<(Vec<&'m Artifact>, &'n BTreeSet<&'n str>, Kind)> {
        let mut taken: BTreeMap<&str, Kind> = BTreeMap::new();
        let mut groups = Vec::new();
        for &(kind, needers) in kinds {
            let mut items = Vec::new();
            for a in sorted(model, kind) {
                let Some(&owner) = taken.get(a.name.as_str()) else {
                    items.push(a);
                    continue;
                };
                let by = if owner == Kind::Skill {
                    "a skill of the same name takes its folder".to_string()
                } else {
                    format!(
                        "the {owner} of the same name, also written as a skill, takes its folder"
                    )
                };
                for id in needers.iter() {
                    self.notice(
                        by_id[id],
                        Some(kind),
                        NoticeLevel::Warning,
                        format!("{kind} `{}` is not written as a skill: {by}", a.name),
                    );
                }
            }
            if !needers.is_empty() {
                for a in &items {
                    taken.entry(a.name.as_str()).or_insert(kind);
                }
            }
            groups.push((items, needers, kind));
        }
        groups
    }

    /// Writes `items` into every placed folder, once per needing platform that sees it.
    fn write_placed(
        &mut self,
        items: &[&Artifact],
        needers: &BTreeSet<&str>,
        placement: &Placement,
        by_id: &BTreeMap<&str, &PlatformSpec>,
    ) -> Result<(), RenderError> {
        for dir in &placement.dirs {
            // The folder is a platform's own: its SKILL.md keeps that platform's keys.
            let passthrough = needers.iter().any(|id| {
                let p = by_id[id];
                p.skill.own(self.scope) == Some(dir.as_str()) && p.skill.passthrough
            });
            let seen_by: Vec<&str> = placement
                .seen
                .iter()
                .filter(|(id, d)| needers.contains(id.as_str()) && d.contains(dir))
                .map(|(id, _)| id.as_str())
                .collect();
            let Some(first) = seen_by.first() else {
                continue;
            };
            // The folder's files are the same for every platform that sees it: made once, on
            // every core ([`Renderer::batches`]), inserted in `items`' order.
            let make = |shared: &Shared<'_>, a: &Artifact| {
                shared.skill_folder(by_id[first], a, dir, passthrough)
            };
            let insert = |r: &mut Self, a: &Artifact, files: Result<Vec<Made>, RenderError>| {
                let mut files = files?;
                for (i, id) in seen_by.iter().enumerate() {
                    let last = i + 1 == seen_by.len();
                    for made in &mut files {
                        r.insert_made(made, &a.source, a.id(), by_id[id], last)?;
                    }
                }
                Ok(())
            };
            self.batches(items, make, insert)?;
        }
        Ok(())
    }

    /// Records the SKILL.md a runbook section's index points to: the shared folder when it
    /// is written.
    fn index_runbooks(&mut self, items: &[&Artifact], placement: &Placement) {
        let dir = placement
            .dirs
            .iter()
            .find(|d| *d == skills::SHARED)
            .or(placement.dirs.first());
        if let Some(dir) = dir {
            let home = if self.scope == Scope::User { "~/" } else { "" };
            for a in items {
                self.runbook_skills
                    .insert(a.name.clone(), format!("{home}{dir}/{}/SKILL.md", a.name));
            }
        }
    }

    /// A warning for each needing platform that sees the skills more than once, and a note
    /// for each other platform that sees them at all (among those `told` accepts: a platform
    /// that leaves them out gets `refuse_leaks` instead).
    fn placement_notices(
        &mut self,
        kind: Kind,
        n: usize,
        needers: &BTreeSet<&str>,
        placement: &Placement,
        by_id: &BTreeMap<&str, &PlatformSpec>,
        told: impl Fn(&str) -> bool,
    ) {
        for (id, dirs) in placement.seen.iter().filter(|(id, _)| told(id)) {
            let p = by_id[id.as_str()];
            let listed: Vec<String> = dirs.iter().map(|d| format!("`{d}`")).collect();
            if needers.contains(id.as_str()) && dirs.len() > 1 && !p.skill.one_per_name {
                self.notice(
                    p,
                    Some(kind),
                    NoticeLevel::Warning,
                    format!(
                        "{} (in {}): no single folder reaches every selected platform that needs it",
                        sees_copies(kind, n, dirs.len()),
                        listed.join(", "),
                    ),
                );
            } else if !needers.contains(id.as_str()) && !dirs.is_empty() {
                self.notice(
                    p,
                    Some(kind),
                    NoticeLevel::Info,
                    format!(
                        "also sees {n} {} as skills in {} (written for {})",
                        plural(kind, n),
                        listed.join(" and "),
                        needers.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }
}

impl Shared<'_> {
    /// `<dir>/<name>/SKILL.md` and the skill's assets (`p` names the platform in an error).
    fn skill_folder(
        &self,
        p: &PlatformSpec,
        a: &Artifact,
        dir: &str,
        passthrough: bool,
    ) -> Result<Vec<Made>, RenderError> {
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
        let mut files = vec![self.make(skill_md, text.into_bytes(), false)];
        for asset in &a.assets {
            let path = folder
                .join(asset.path.as_str())
                .expect("joined relative paths stay relative");
            files.push(self.make(path, asset.bytes.clone(), asset.executable));
        }
        Ok(files)
    }
}
