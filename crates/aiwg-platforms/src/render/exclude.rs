//! Per-platform excludes (`[platform.<id>] exclude`, [`RenderOptions::exclude`]): which
//! artifacts each platform leaves out, the groups of artifacts the same platforms leave out
//! (each group is placed on its own, with those platforms as readers that must not see it),
//! and the refusals where a platform would still see what it leaves out, because it reads a
//! file or folder written for another platform.
//!
//! [`RenderOptions::exclude`]: super::RenderOptions::exclude

use std::collections::{BTreeMap, BTreeSet};

use aiwg_core::target::TargetClash;
use aiwg_core::{Artifact, Kind, Model};

use super::{RenderError, Renderer, Shared};
use crate::placement::{Place, Resolved};
use crate::skills::{Placement, Reader};
use crate::spec::PlatformSpec;

/// Artifacts of one kind that exactly the same selected platforms leave out.
pub(super) struct Group<'m> {
    /// The ids of the selected platforms that leave these out (empty for most artifacts).
    pub excluders: BTreeSet<String>,
    pub items: Vec<&'m Artifact>,
}

impl Shared<'_> {
    /// Whether `[platform.<platform>] exclude` leaves `a` out.
    pub(super) fn excluded(&self, platform: &str, a: &Artifact) -> bool {
        self.excludes
            .get(platform)
            .is_some_and(|patterns| patterns.iter().any(|p| p.matches(a)))
    }

    /// The selected platforms that leave `a` out.
    pub(super) fn excluders(&self, a: &Artifact) -> BTreeSet<String> {
        self.excludes
            .keys()
            .filter(|id| self.excluded(id, a))
            .cloned()
            .collect()
    }

    /// `items` split by the selected platforms that leave them out, in a fixed order; without
    /// excludes, one group holding everything.
    pub(super) fn groups<'m>(&self, items: &[&'m Artifact]) -> Vec<Group<'m>> {
        let mut by: BTreeMap<BTreeSet<String>, Vec<&'m Artifact>> = BTreeMap::new();
        for a in items {
            by.entry(self.excluders(a)).or_default().push(a);
        }
        by.into_iter()
            .map(|(excluders, items)| Group { excluders, items })
            .collect()
    }
}

impl Renderer<'_> {
    /// Refuses a placement in which a platform that leaves the group out relies on a place
    /// written for others (it would read the artifact there); one it only sometimes reads
    /// gets a warning.
    pub(super) fn refuse_leaks(
        &mut self,
        kind: Kind,
        group: &Group<'_>,
        readers: &[Reader<'_>],
        placement: &Placement,
        platforms: &[&PlatformSpec],
    ) -> Result<(), RenderError> {
        for r in readers
            .iter()
            .filter(|r| group.excluders.contains(r.platform))
        {
            let seen = placement
                .seen
                .get(r.platform)
                .map_or(&[][..], Vec::as_slice);
            let written_for: Vec<String> = readers
                .iter()
                .filter(|o| !group.excluders.contains(o.platform))
                .filter(|o| o.own.is_some_and(|own| seen.iter().any(|s| s == own)))
                .map(|o| o.platform.to_string())
                .collect();
            let a = group.items[0];
            if let Some(place) = seen.iter().find(|s| r.reads.contains(&s.as_str())) {
                return Err(RenderError::Excluded {
                    platform: r.platform.to_string(),
                    artifact: artifact_list(kind, &group.items),
                    place: place.clone(),
                    written_for,
                });
            }
            let p = platforms.iter().find(|p| p.id == r.platform);
            if let (Some(place), Some(p)) = (seen.first(), p) {
                self.notice(
                    p,
                    Some(kind),
                    super::NoticeLevel::Warning,
                    format!(
                        "`[platform.{}] exclude` leaves {kind} `{}` out, but {} sometimes reads `{place}`, where it is written for {}",
                        p.id,
                        a.name,
                        p.name,
                        written_for.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    /// Refuses an excluded artifact that another platform writes to a file, hook settings
    /// file or MCP file the excluding platform reads (Copilot runs the hooks of
    /// `.claude/settings.json`): what the placement planners do not decide (hooks, runbooks as
    /// rule files, MCP servers, whose files are fixed per platform).
    pub(super) fn refuse_unplanned_leaks(
        &self,
        model: &Model,
        resolved: &[(&PlatformSpec, Resolved)],
    ) -> Result<(), RenderError> {
        if self.excludes.is_empty() {
            return Ok(());
        }
        let artifacts: BTreeMap<String, &Artifact> =
            model.artifacts.iter().map(|a| (a.id(), a)).collect();
        let by_id: BTreeMap<&str, &Resolved> =
            resolved.iter().map(|(p, r)| (p.id.as_str(), r)).collect();
        for e in self.target.entries() {
            let Some(a) = artifacts.get(&*e.origin.artifact) else {
                continue;
            };
            for (p, res) in resolved {
                if !self.excluded(&p.id, a) {
                    continue;
                }
                let reads = &res.get(a.kind).reads;
                let through = e.origin.platforms.iter().find_map(|q| {
                    let place = &by_id.get(q.as_str())?.get(a.kind).place;
                    let own = match place {
                        Place::Hooks { settings, .. } => settings,
                        Place::Rule { pattern } | Place::Native { pattern } => pattern,
                        // Each MCP file is a place of its own (`.mcp.json`, read by Claude
                        // Code and Copilot CLI): the one this entry merges into.
                        Place::Config { files } => files.iter().find(|f| *f == e.path.as_str())?,
                        _ => return None,
                    };
                    reads.contains(own).then(|| (own.clone(), q.clone()))
                });
                if let Some((place, q)) = through {
                    return Err(RenderError::Excluded {
                        platform: p.id.clone(),
                        artifact: artifact_list(a.kind, &[a]),
                        place,
                        written_for: vec![q],
                    });
                }
            }
        }
        Ok(())
    }

    /// A clash between platforms whose excludes differ is their excludes' doing: said so.
    pub(super) fn clash_error(&self, clash: TargetClash) -> RenderError {
        let patterns = |id: &String| self.excludes.get(id.as_str()).copied().unwrap_or(&[]);
        let pair = clash.first.platforms.iter().find_map(|a| {
            clash
                .second
                .platforms
                .iter()
                .find(|b| patterns(a) != patterns(b))
                .map(|b| (a.clone(), b.clone()))
        });
        match pair {
            Some((first, second)) => RenderError::SharedExclude {
                path: clash.path.to_string(),
                first,
                second,
            },
            None => clash.into(),
        }
    }
}

/// "skill `pdf`", "skills `a`, `b`".
fn artifact_list(kind: Kind, items: &[&Artifact]) -> String {
    let names: Vec<String> = items.iter().map(|a| format!("`{}`", a.name)).collect();
    format!("{} {}", super::plural(kind, items.len()), names.join(", "))
}
