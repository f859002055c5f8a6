//! `exclude` and `[platform.<id>] exclude` of `aiwg.toml`: which artifacts each platform gets.
//!
//! Platforms with the same excludes are rendered together (so skill placement and shared
//! files are decided for them as one set, as without excludes); each other set is rendered on
//! its own and the target states joined. A path one set leaves out but another still writes
//! (AGENTS.md, `.agents/skills/<name>/`, read by several platforms), or one wanted with
//! different content by two sets, is an error naming the path, never a silent pick.

use std::collections::{BTreeMap, HashSet};

use aiwg_core::config::Config;
use aiwg_core::exclude::{is_excluded, ArtifactPattern};
use aiwg_core::target::{Part, Scope, TargetState};
use aiwg_core::{Model, RelPath};
use aiwg_platforms::{render, PlatformSpec, Registry, RenderError, RenderOptions, Rendered};

use crate::commands::UserError;

const SHARED_HINT: &str = "platforms that read one file need the same `[platform.<id>] exclude`: give them the same excludes, or leave the artifact out for every platform (top-level `exclude`)";

/// Renders `model` for `platforms`, leaving out what `config` excludes, globally and per
/// platform. A `[platform.<id>]` naming no known platform is an error (a typo must not
/// deploy what it meant to leave out).
pub fn render_excluding(
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
    options: &RenderOptions,
    config: Option<&Config>,
) -> anyhow::Result<Rendered> {
    let Some(config) = config else {
        return render(model, platforms, scope, options).map_err(render_error);
    };
    let mut per_platform: BTreeMap<String, Vec<&ArtifactPattern>> = BTreeMap::new();
    for (key, table) in &config.platform {
        let spec = match Registry::builtin().resolve(&[key]) {
            Ok(specs) => specs[0],
            Err(unknown) => {
                return Err(UserError::new(
                    format!("`[platform.{key}]` in `aiwg.toml`: {unknown}"),
                    unknown.hint(),
                )
                .into())
            }
        };
        per_platform
            .entry(spec.id.clone())
            .or_default()
            .extend(&table.exclude);
    }
    warn_unmatched(model, config);
    let kept = Model {
        artifacts: model
            .artifacts
            .iter()
            .filter(|a| !is_excluded(&config.exclude, a))
            .cloned()
            .collect(),
    };
    // Platforms grouped by their own excludes, in the order given.
    let mut groups: Vec<(Vec<&ArtifactPattern>, Vec<&PlatformSpec>)> = Vec::new();
    for &p in platforms {
        let own = per_platform.get(&p.id).cloned().unwrap_or_default();
        match groups.iter_mut().find(|(patterns, _)| *patterns == own) {
            Some((_, members)) => members.push(p),
            None => groups.push((own, vec![p])),
        }
    }
    if groups.len() <= 1 && groups.first().is_none_or(|(p, _)| p.is_empty()) {
        return render(&kept, platforms, scope, options).map_err(render_error);
    }
    let mut target = TargetState::new();
    let mut notices = Vec::new();
    // What each set would have got without its own excludes: if another set still writes
    // one of those paths, this set reads the excluded artifact there.
    let mut left_out: Vec<(RelPath, Part, Vec<&PlatformSpec>)> = Vec::new();
    for (patterns, members) in groups {
        let model = Model {
            artifacts: kept
                .artifacts
                .iter()
                .filter(|a| !patterns.iter().any(|p| p.matches(a)))
                .cloned()
                .collect(),
        };
        let rendered = render(&model, &members, scope, options).map_err(render_error)?;
        if !patterns.is_empty() {
            let own: HashSet<(&RelPath, Part)> = rendered
                .target
                .entries()
                .map(|e| (&e.path, e.desired.part()))
                .collect();
            let full = render(&kept, &members, scope, options).map_err(render_error)?;
            for e in full.target.entries() {
                if !own.contains(&(&e.path, e.desired.part())) {
                    left_out.push((e.path.clone(), e.desired.part(), members.clone()));
                }
            }
        }
        for entry in rendered.target.entries() {
            target
                .insert(entry.clone())
                .map_err(|clash| UserError::new(clash.to_string(), SHARED_HINT))?;
        }
        notices.extend(rendered.notices);
    }
    let wanted: HashSet<(&RelPath, Part)> = target
        .entries()
        .map(|e| (&e.path, e.desired.part()))
        .collect();
    for (path, part, members) in &left_out {
        if wanted.contains(&(path, part.clone())) {
            let ids: Vec<&str> = members.iter().map(|p| p.id.as_str()).collect();
            let part = if part.is_whole() {
                String::new()
            } else {
                format!(" ({part})")
            };
            return Err(UserError::new(
                format!(
                    "`{path}`{part} holds an artifact that `[platform.<id>] exclude` leaves out for {}, but other platforms that share the file get it",
                    ids.join(", ")
                ),
                SHARED_HINT,
            )
            .into());
        }
    }
    notices.sort();
    Ok(Rendered { target, notices })
}

/// A pattern that matches no artifact is probably a typo: said once, on stderr.
fn warn_unmatched(model: &Model, config: &Config) {
    let all = config
        .exclude
        .iter()
        .map(|p| (p, "exclude".to_string()))
        .chain(config.platform.iter().flat_map(|(id, t)| {
            t.exclude
                .iter()
                .map(move |p| (p, format!("[platform.{id}] exclude")))
        }));
    for (pattern, place) in all {
        if !model.artifacts.iter().any(|a| pattern.matches(a)) {
            crate::printer::say!(
                "warning: aiwg.toml: `{pattern}` in `{place}` matches no artifact (`aiwg list` shows their kinds and names)"
            );
        }
    }
}

fn render_error(e: RenderError) -> anyhow::Error {
    let hint = match &e {
        RenderError::Clash(_) => {
            "rename one of the artifacts, or leave one of the platforms out (`--platforms`)"
        }
        RenderError::BadPath { .. } => "rename the artifact",
    };
    UserError::new(e.to_string(), hint).into()
}
