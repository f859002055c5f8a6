//! Reader sets for agents, commands and rules: which platforms' own places (file patterns,
//! instruction files) to write so every selected platform sees each artifact once, using the
//! same planner as skills. A platform whose own place is left out is served by another
//! platform's copy it reads (Copilot reads `.claude/agents`); one that still sees an artifact
//! twice gets one warning naming the places and the platforms they were written for.

use std::collections::{BTreeMap, BTreeSet};

use aiwg_core::Kind;

use super::{sees_copies, NoticeLevel, Renderer};
use crate::placement::{Place, Resolved};
use crate::skills::{self, Placement, Reader};
use crate::spec::PlatformSpec;

/// The kinds placed here (skills, runbooks and behaviors are placed elsewhere).
pub(super) const FILE_KINDS: [Kind; 3] = [Kind::Agent, Kind::Command, Kind::Rule];

/// Per file kind, the chosen places and who sees what.
#[derive(Debug, Default)]
pub(super) struct FilePlan {
    placements: BTreeMap<Kind, Placement>,
}

impl FilePlan {
    /// Whether `place` is written for `kind`.
    pub(super) fn writes(&self, kind: Kind, place: &str) -> bool {
        self.placements
            .get(&kind)
            .is_some_and(|p| p.dirs.iter().any(|d| d == place))
    }

    /// The written places of `kind` that `platform` sees.
    fn seen(&self, kind: Kind, platform: &str) -> &[String] {
        self.placements
            .get(&kind)
            .and_then(|p| p.seen.get(platform))
            .map_or(&[], Vec::as_slice)
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

/// Chooses the places of every file kind with artifacts (`counts`: artifacts per kind).
pub(super) fn plan(
    resolved: &[(&PlatformSpec, Resolved)],
    counts: &BTreeMap<Kind, usize>,
) -> FilePlan {
    let mut plan = FilePlan::default();
    for kind in FILE_KINDS {
        if counts.get(&kind).copied().unwrap_or(0) == 0 {
            continue;
        }
        let readers: Vec<Reader> = resolved
            .iter()
            .map(|(p, res)| {
                let k = res.get(kind);
                Reader {
                    platform: &p.id,
                    own: own_file_place(res, kind),
                    reads: k.reads.iter().map(String::as_str).collect(),
                    sometimes: k.also_sees.iter().map(String::as_str).collect(),
                }
            })
            .collect();
        let needers: BTreeSet<&str> = readers
            .iter()
            .filter(|r| r.own.is_some())
            .map(|r| r.platform)
            .collect();
        if needers.is_empty() {
            continue;
        }
        plan.placements
            .insert(kind, skills::place(&readers, &needers, None));
    }
    plan
}

impl Renderer<'_> {
    /// Notices for the file kinds: platforms served by another platform's copy, and
    /// platforms that see an artifact more than once.
    pub(super) fn reader_notices(
        &mut self,
        resolved: &[(&PlatformSpec, Resolved)],
        plan: &FilePlan,
        counts: &BTreeMap<Kind, usize>,
    ) {
        for kind in FILE_KINDS {
            let n = counts.get(&kind).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            // Who each written place is written for.
            let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (p, res) in resolved {
                if let Some(own) = own_file_place(res, kind).filter(|o| plan.writes(kind, o)) {
                    owners.entry(own).or_default().push(&p.id);
                }
            }
            let place_for = |place: &str| match owners.get(place) {
                Some(ids) => format!("`{place}` (for {})", ids.join(", ")),
                None => format!("`{place}`"),
            };
            for (p, res) in resolved {
                let seen = plan.seen(kind, &p.id);
                if let Some(own) = own_file_place(res, kind) {
                    if !plan.writes(kind, own) {
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
                        self.count(p, kind, &how, n);
                    }
                }
                // A platform taking this kind as skills gets a skill copy besides.
                let mut places: Vec<String> = seen.iter().map(|s| place_for(s)).collect();
                if matches!(res.get(kind).place, Place::Skill { .. }) && !places.is_empty() {
                    places.insert(0, "its skills folder".to_string());
                }
                if places.len() > 1 {
                    self.duplicate_notice(p, res, kind, n, seen, &places);
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
