//! `exclude` and `[platform.<id>] exclude` of `aiwg.toml`: which artifacts each platform gets.
//!
//! The top-level `exclude` takes artifacts out of the model; the per-platform ones go to the
//! render as [`RenderOptions::exclude`], so placement plans every platform together as
//! without excludes. Where a platform would still read what it leaves out, in a file or
//! folder another platform needs (AGENTS.md, `.claude/skills`), the render refuses, naming
//! both, never a silent pick.

use std::collections::BTreeMap;

use aiwg_core::config::Config;
use aiwg_core::exclude::is_excluded;
use aiwg_core::target::Scope;
use aiwg_core::Model;
use aiwg_platforms::{
    render_bodies, Bodies, PlatformSpec, Registry, RenderError, RenderOptions, Rendered,
};

use crate::error::UserError;

const SHARED_HINT: &str = "a platform that reads another's files needs the same `[platform.<id>] exclude` for them: give both the pattern, or leave the artifact out for every platform (top-level `exclude`)";

/// Renders `model` for `platforms`, leaving out what `config` excludes, globally and per
/// platform, in one render. A `[platform.<id>]` naming no known platform is an error (a typo
/// must not deploy what it meant to leave out). `bodies` says what the render keeps of each
/// file's bytes; a streaming render is the second of a run and repeats no warning.
pub fn render_excluding(
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
    options: RenderOptions,
    config: Option<&Config>,
    bodies: Bodies<'_>,
) -> anyhow::Result<Rendered> {
    let warn = !matches!(bodies, Bodies::Stream(_));
    render_with(model, platforms, scope, options, config, warn, bodies)?.map_err(render_error)
}

/// [`render_excluding`], returning the render's own error (the monorepo render retries on
/// some); the patterns of `config` are added to those `options` already has, and `warn` says
/// whether to warn about a pattern that matches no artifact of `model`. An error outside the
/// render (an unknown platform id) is the outer one.
pub fn render_with(
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
    mut options: RenderOptions,
    config: Option<&Config>,
    warn: bool,
    bodies: Bodies<'_>,
) -> anyhow::Result<Result<Rendered, RenderError>> {
    let Some(config) = config else {
        return Ok(render_bodies(model, platforms, scope, &options, bodies));
    };
    let mut per_platform: BTreeMap<String, Vec<_>> = BTreeMap::new();
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
            .extend(table.exclude.iter().cloned());
    }
    if warn {
        warn_unmatched(model, config);
    }
    for (id, patterns) in per_platform {
        options.exclude.entry(id).or_default().extend(patterns);
    }
    // The model is copied only when something is left out of it.
    if !model
        .artifacts
        .iter()
        .any(|a| is_excluded(&config.exclude, a))
    {
        return Ok(render_bodies(model, platforms, scope, &options, bodies));
    }
    let kept = Model {
        artifacts: model
            .artifacts
            .iter()
            .filter(|a| !is_excluded(&config.exclude, a))
            .cloned()
            .collect(),
    };
    Ok(render_bodies(&kept, platforms, scope, &options, bodies))
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

/// A render error as the user reads it, with its hint.
pub fn render_error(e: RenderError) -> anyhow::Error {
    let hint = match &e {
        RenderError::Clash(_) => {
            "rename one of the artifacts, or leave one of the platforms out (`--platforms`)"
        }
        RenderError::BadPath { .. } => "rename the artifact",
        RenderError::Excluded { .. } | RenderError::SharedExclude { .. } => SHARED_HINT,
    };
    UserError::new(e.to_string(), hint).into()
}
