//! Reader sets for agents, commands and rules: which platforms' own places (file patterns,
//! instruction files) to write so every selected platform sees each artifact once, using the
//! same planner as skills. A platform whose own place is left out is served by another
//! platform's copy it reads (Copilot reads `.claude/agents`); one that still sees an artifact
//! twice gets one warning naming the places and the platforms they were written for.

use std::collections::{BTreeMap, BTreeSet};

use aiwg_core::{Kind, Model};

use super::{sees_copies, sorted, NoticeLevel, RenderError, Renderer};
use crate::placement::{Place, Resolved};
use crate::skills::{self, Placement, Reader};
use crate::spec::PlatformSpec;

/// The kinds placed here (skills, runbooks and behaviors are placed elsewhere).
pub(super) const FILE_KINDS: [Kind; 3] = [Kind::Agent, Kind::Command, Kind::Rule];

/// Per file kind and group of artifacts the same platforms leave out, the chosen places and
/// who sees what.
#[derive(Debug, Default)]
pub(super) struct FilePlan {
    placements: BTreeMap<Kind, Vec<(BTreeSet<String>, usize, Placement)>>,
    /// What the whole files of these kinds will hold at least: each written file pattern
    /// once per artifact of its group, counting only the body (frontmatter, skills and
    /// sections come on top). What lets a render that holds its files give up before it
    /// starts when they cannot fit ([`super::Held::foresee`]).
    pub least_file_bytes: usize,
}

impl FilePlan {
    /// Whether `place` is written for the artifacts of `kind` that `excluders` leave out.
    pub(super) fn writes(&self, kind: Kind, excluders: &BTreeSet<String>, place: &str) -> bool {
        self.placements.get(&kind).is_some_and(|groups| {
            groups
                .iter()
                .any(|(e, _, p)| e == excluders && p.dirs.iter().any(|d| d == place))
        })
    }
}

/// A platform's own place for `kind` when it is a file pattern or a section.
fn own_file_place(res: &Resolved, kind: Kind) -> Option<&str> {
    match &res.get(kind).place {
        Place::Native { pattern } => Some(pattern),
        Place::Section { file } => Some(file),
        _ => None,
    }
}

/// Whether `place` is some selected platform's file pattern for `kind` (one file per artifact
/// there), not an instruction file its artifacts are sections of.
fn is_file_pattern(resolved: &[(&PlatformSpec, Resolved)], kind: Kind, place: &str) -> bool {
    resolved.iter().any(
        |(_, res)| matches!(&res.get(kind).place, Place::Native { pattern } if pattern == place),
    )
}

fn readers<'a>(resolved: &'a [(&PlatformSpec, Resolved)], kind: Kind) -> Vec<Reader<'a>> {
    resolved
        .iter()
        .map(|(p, res)| {
            let k = res.get(kind);
            Reader {
                platform: &p.id,
                own: own_file_place(res, kind),
                reads: k.reads.iter().map(String::as_str).collect(),
                sometimes: k.also_sees.iter().map(String::as_str).collect(),
                one_per_name: false,
            }
        })
        .collect()
}

impl Renderer<'_> {
    /// Chooses the places of every file kind with artifacts, per group of artifacts the same
    /// platforms leave out; refuses a choice where one of them reads a copy written for others.
    pub(super) fn plan_files(
        &mut self,
        model: &Model,
        platforms: &[&PlatformSpec],
        resolved: &[(&PlatformSpec, Resolved)],
    ) -> Result<FilePlan, RenderError> {
        let mut plan = FilePlan::default();
        for kind in FILE_KINDS {
            let readers = readers(resolved, kind);
            let items = sorted(model, kind);
            for group in self.groups(&items) {
                let needers: BTreeSet<&str> = readers
                    .iter()
                    .filter(|r| r.own.is_some() && !group.excluders.contains(r.platform))
                    .map(|r| r.platform)
                    .collect();
                if needers.is_empty() {
                    continue;
                }
                let avoid: BTreeSet<&str> = group.excluders.iter().map(String::as_str).collect();
                let placement = skills::place_avoiding(&readers, &needers, &avoid, None);
                self.refuse_leaks(kind, &group, &readers, &placement, platforms)?;
                let file_patterns = placement
                    .dirs
                    .iter()
                    .filter(|d| is_file_pattern(resolved, kind, d))
                    .count();
                let bodies: usize = group.items.iter().map(|a| a.body.len()).sum();
                plan.least_file_bytes = plan
                    .least_file_bytes
                    .saturating_add(file_patterns.saturating_mul(bodies));
                plan.placements.entry(kind).or_default().push((
                    group.excluders,
                    group.items.len(),
                    placement,
                ));
            }
        }
        Ok(plan)
    }

    /// Notices for the file kinds: platforms served by another platform's copy, and
    /// platforms that see an artifact more than once.
    pub(super) fn reader_notices(
        &mut self,
        resolved: &[(&PlatformSpec, Resolved)],
        plan: &FilePlan,
    ) {
        for kind in FILE_KINDS {
            for (excluders, n, placement) in plan.placements.get(&kind).into_iter().flatten() {
                let writes = |place: &str| placement.dirs.iter().any(|d| d == place);
                // Who each written place is written for.
                let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                for (p, res) in resolved {
                    if excluders.contains(&p.id) {
                        continue;
                    }
                    if let Some(own) = own_file_place(res, kind).filter(|o| writes(o)) {
                        owners.entry(own).or_default().push(&p.id);
                    }
                }
                let place_for = |place: &str| match owners.get(place) {
                    Some(ids) => format!("`{place}` (for {})", ids.join(", ")),
                    None => format!("`{place}`"),
                };
                for (p, res) in resolved {
                    if excluders.contains(&p.id) {
                        continue;
                    }
                    let seen = placement.seen.get(&p.id).map_or(&[][..], Vec::as_slice);
                    if let Some(own) = own_file_place(res, kind) {
                        if !writes(own) {
                            let via: Vec<String> = seen
                                .iter()
                                .filter(|s| res.get(kind).reads.contains(s))
                                .map(|s| place_for(s))
                                .collect();
                            let how = format!(
                                "not written to `{own}`: {} reads the copies in {}",
                                p.name,
                                via.join(" and ")
                            );
                            self.count(p, kind, &how, *n);
                        }
                    }
                    // A platform taking this kind as skills gets a skill copy besides.
                    let mut places: Vec<String> = seen.iter().map(|s| place_for(s)).collect();
                    if matches!(res.get(kind).place, Place::Skill { .. }) && !places.is_empty() {
                        places.insert(0, "its skills folder".to_string());
                    }
                    if places.len() > 1 {
                        self.duplicate_notice(p, res, kind, *n, seen, &places);
                    }
                }
            }
        }
    }

    fn duplicate_notice(
        &mut self,
        p: &PlatformSpec,
        res: &Resolved,
        kind: Kind,
        n: usize,
        seen: &[String],
        places: &[String],
    ) {
        let sometimes = seen.iter().any(|s| {
            res.get(kind).also_sees.contains(s) && p.instructions.sometimes(res.scope).contains(s)
        });
        let why = match (&p.instructions.sometimes_why, sometimes) {
            (Some(why), true) => format!(" ({why})"),
            _ => String::new(),
        };
        self.notice(
            p,
            Some(kind),
            NoticeLevel::Warning,
            format!(
                "{}, in {}{why}: no choice of places reaches every selected platform once",
                sees_copies(kind, n, places.len()),
                places.join(" and ")
            ),
        );
    }
}
