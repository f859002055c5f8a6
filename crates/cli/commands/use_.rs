//! `aiwg use <name|path|name@path>`: adds a framework or source to `aiwg.toml` (creating it
//! with the platforms found in the repository) and applies.

use std::path::Path;

use anyhow::Context as _;

use super::{Context, UserError};
use crate::cli::{ScopeArg, TargetArgs};
use crate::config_edit;
use crate::frameworks;
use crate::pipeline;
use crate::project::{self, Project};
use crate::trust;
use aiwg_core::config::{Config, CONFIG_FILE};
use aiwg_core::target::Scope;
use aiwg_platforms::Registry;

use crate::detect;

/// The source specs `spec` stands for: every bundled framework and extension for `all`, a
/// bundled name with what it requires, or a path (checked to be a folder). With `cwd` (user
/// scope, whose config lives in `$AIWG_HOME`), a path is taken relative to `cwd` and stored
/// absolute, so it means the same folder from anywhere.
pub fn expand_spec(spec: &str, root: &Path, cwd: Option<&Path>) -> anyhow::Result<Vec<String>> {
    if spec == "all" {
        return Ok(frameworks::bundled().into_iter().map(|f| f.name).collect());
    }
    if frameworks::bundled().iter().any(|f| f.name == spec) {
        return Ok(frameworks::with_requirements(spec));
    }
    // A git source is checked by parsing here and fetched by the apply that follows.
    if let Some(parsed) = crate::remote::parse(spec) {
        parsed.map_err(|why| {
            UserError::new(
                format!("`{}`: {why}", aiwg_core::escape::escape(spec)),
                "write it as `git+https://host/org/repo[@ref][#sub-folder]`, `git+ssh://…`, `file:///path` or `github:org/repo`",
            )
        })?;
        return Ok(vec![spec.to_string()]);
    }
    let parsed = project::SourceSpec::parse(spec);
    let path = parsed.folder();
    if let Some(cwd) = cwd.filter(|cwd| cwd.join(path).is_dir()) {
        let abs = std::path::absolute(cwd.join(path))?;
        let abs = abs.to_string_lossy();
        let name = parsed.name.trim_end_matches('/');
        return Ok(vec![format!("{name}@{abs}")]);
    }
    if !root.join(path).is_dir() {
        let known: Vec<String> = frameworks::bundled().into_iter().map(|f| f.name).collect();
        return Err(UserError::new(
            format!(
                "`{spec}` is neither a bundled framework nor a folder{}",
                crate::suggest::did_you_mean(spec, known.iter().map(String::as_str))
            ),
            format!(
                "bundled: {}, all; or give a path to a source folder",
                known.join(", ")
            ),
        )
        .into());
    }
    Ok(vec![spec.to_string()])
}

/// What `use` changes in `aiwg.toml`.
#[derive(Debug, PartialEq)]
pub struct ConfigChange {
    /// The new text of `aiwg.toml`, or `None` when it stays as it is.
    pub text: Option<String>,
    /// The config `apply` runs with.
    pub config: Config,
    /// One line each for the user, said before the deploy.
    pub notes: Vec<String>,
    /// What changes in `aiwg.toml`, one line each, said once it is written.
    pub edits: Vec<String>,
}

/// The config after adding `specs` (and `platforms`, when given) to `existing`, or a new
/// config when there is none, with the platforms detected under `detect_root` (the folder the
/// scope deploys into) and `scope` (the `--scope` given, else project), so later commands
/// deploy and check the same place. `root` holds `aiwg.toml`.
pub fn change_config(
    root: &Path,
    detect_root: &Path,
    existing: Option<&str>,
    specs: &[String],
    platforms: &[String],
    scope: Option<Scope>,
) -> anyhow::Result<ConfigChange> {
    let path = root.join(CONFIG_FILE);
    let mut notes = Vec::new();
    let mut edits = Vec::new();
    let text = match existing {
        None => {
            let chosen: Vec<String> = if !platforms.is_empty() {
                platforms.to_vec()
            } else {
                let found = detect::platforms(detect_root);
                if found.is_empty() {
                    let defaults: Vec<String> = Registry::builtin()
                        .defaults()
                        .iter()
                        .map(|p| p.id.clone())
                        .collect();
                    notes.push(format!(
                        "no platform files found: deploying to all {} ({})",
                        defaults.len(),
                        defaults.join(", ")
                    ));
                    defaults
                } else {
                    notes.push(format!(
                        "found files of {}: deploying to them",
                        found.join(", ")
                    ));
                    found
                }
            };
            Some(config_edit::new_config_text(
                specs,
                &chosen,
                scope.unwrap_or(Scope::Project),
            ))
        }
        Some(text) => {
            let (with_sources, added) = config_edit::add_to_array(&path, text, "sources", specs)?;
            let (with_platforms, added_platforms) =
                config_edit::add_to_array(&path, &with_sources, "platforms", platforms)?;
            for s in &added {
                edits.push(format!("added `{s}` to `sources` in `{CONFIG_FILE}`"));
            }
            for p in &added_platforms {
                edits.push(format!("added `{p}` to `platforms` in `{CONFIG_FILE}`"));
            }
            (with_platforms != text).then_some(with_platforms)
        }
    };
    let effective = text.as_deref().or(existing).unwrap_or_default();
    let config = Config::parse(&path, effective)
        .map_err(|d| UserError::new(d.to_string(), "fix `aiwg.toml`"))?;
    if let (Some(_), Some(asked)) = (existing, scope) {
        if asked != config.scope {
            notes.push(format!(
                "note: `{CONFIG_FILE}` keeps `scope = \"{}\"`: give `--scope {}` to later commands too, or change it there",
                scope_name(config.scope),
                scope_name(asked)
            ));
        }
    }
    Ok(ConfigChange {
        text,
        config,
        notes,
        edits,
    })
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Project => "project",
        Scope::User => "user",
    }
}

/// Runs `aiwg use`. `aiwg.toml` is written only after the deploy succeeded: a source that
/// fails to load or a conflict leaves it as it was.
pub fn run(
    ctx: &Context,
    spec: &str,
    target: &TargetArgs,
    how: super::apply::Run,
) -> anyhow::Result<u8> {
    let dry_run = how.dry_run;
    let scope = target.scope.map(|s| match s {
        ScopeArg::Project => Scope::Project,
        ScopeArg::User => Scope::User,
    });
    let user = scope == Some(Scope::User);
    // `aiwg.toml` is read and rewritten under the process lock of the scope whose config it
    // is, and the apply runs under it too: two `use` at once each keep the other's edit (R6).
    let lock_scope = if user { Scope::User } else { Scope::Project };
    let found = Project::open(&ctx.cwd, target.scope)?;
    let deployment = pipeline::Deployment::open(&found, lock_scope)?;
    let _guard = (!dry_run).then(|| deployment.lock()).transpose()?;
    let mut project = Project::open(&ctx.cwd, target.scope)?;
    let specs = expand_spec(
        spec,
        &project.root,
        project.user_scope.then_some(ctx.cwd.as_path()),
    )?;
    let config_path = project.config_path();
    let existing = match config_path.is_file() {
        true => Some(
            std::fs::read_to_string(&config_path)
                .with_context(|| format!("cannot read `{}`", config_path.display()))?,
        ),
        false => None,
    };
    let detect_root = if user {
        project::home_dir()?
    } else {
        project.root.clone()
    };
    let change = change_config(
        &project.root,
        &detect_root,
        existing.as_deref(),
        &specs,
        &target.platforms,
        scope,
    )?;
    // Every platform the new config names must resolve before anything is deployed: a
    // typo left in `aiwg.toml` would break every later command.
    project.config = Some(change.config.clone());
    pipeline::platforms(&project, pipeline::scope(&project, target.scope)?)?;
    for note in &change.notes {
        crate::printer::say!("{note}");
    }
    // What the user typed is consent: a source outside the project named on this command
    // line, and `--scope user` written into a new `aiwg.toml`.
    let typed = typed_consent(&project, &specs, existing.is_none());
    // Typing a git URL is consent to fetch it; the commit it pins is recorded after the apply.
    let urls: Vec<String> = specs
        .iter()
        .filter_map(|s| crate::remote::parse(s).and_then(Result::ok))
        .map(|g| g.url)
        .collect();
    trust::allow_git_urls_for_run(&urls);
    if dry_run {
        trust::allow_for_run(&typed);
    } else {
        trust::grant(&project, &typed)?;
    }
    let apply_target = TargetArgs {
        platforms: Vec::new(),
        scope: target.scope,
    };
    let how = super::apply::Run {
        held: (!dry_run).then_some(lock_scope),
        show_diff: false,
        ..how
    };
    let outcome = super::apply::execute(ctx, &project, &apply_target, how)?;
    let code = outcome.code;
    let mut report = outcome.report;
    let print = |report: &crate::json::DeployReport| match how.json {
        true => crate::json::print(report),
        false => Ok(()),
    };
    let Some(text) = &change.text else {
        print(&report)?;
        return Ok(code);
    };
    let shown = project::display_relative(&config_path);
    if dry_run {
        let verb = if existing.is_some() {
            "changed"
        } else {
            "created"
        };
        crate::printer::say!("dry run: `{}` would be {verb}", shown.display());
    } else if code == 0 {
        if let Some(dir) = config_path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        config_edit::write_config(&config_path, text)?;
        if existing.is_none() {
            crate::printer::say!("created `{}`", shown.display());
        }
        for edit in &change.edits {
            crate::printer::say!("{edit}");
        }
    } else {
        crate::printer::say!("`{}` was left as it was", shown.display());
    }
    report.config = Some(crate::json::ConfigChange {
        path: shown.display().to_string(),
        created: existing.is_none(),
        written: !dry_run && code == 0,
    });
    print(&report)?;
    Ok(code)
}

/// Runs `aiwg use --local`: adds the source (and `--platforms`) to `aiwg.local.toml`,
/// creating it ignored by git (the exclude block is written before the file exists), and
/// applies both passes. `aiwg.toml` is never changed; the local file is written only after
/// the deploy succeeded.
pub fn run_local(
    ctx: &Context,
    spec: &str,
    target: &TargetArgs,
    how: super::apply::Run,
) -> anyhow::Result<u8> {
    use aiwg_core::local::LOCAL_CONFIG_FILE;
    let dry_run = how.dry_run;
    let found = Project::open(&ctx.cwd, None)?;
    if found.config.is_none() {
        return Err(UserError::new(
            format!(
                "`--local` adds to `{LOCAL_CONFIG_FILE}`, an overlay on `{CONFIG_FILE}`, and there is no `{CONFIG_FILE}` {}",
                project::in_folder(&found.root)
            ),
            format!("`aiwg use {spec}` (without `--local`) creates `{CONFIG_FILE}`"),
        )
        .into());
    }
    if crate::remote::is_git_spec(spec) {
        return Err(UserError::new(
            format!(
                "`{}`: the overlay takes folders and bundled frameworks only",
                aiwg_core::escape::escape(spec)
            ),
            "a git source is pinned in the team's `aiwg.lock`: `aiwg use` it without `--local`, or clone it and `aiwg use --local ../clone`",
        )
        .into());
    }
    let deployment = pipeline::Deployment::open(&found, Scope::Project)?;
    let _guard = (!dry_run).then(|| deployment.lock()).transpose()?;
    let project = Project::open(&ctx.cwd, None)?;
    if project
        .config
        .as_ref()
        .is_some_and(|c| c.scope == Scope::User)
    {
        return Err(UserError::new(
            "`--local` adds to the project's overlay, and this project deploys in user scope",
            format!("the overlay works with `scope = \"project\"` in `{CONFIG_FILE}`"),
        )
        .into());
    }
    let specs = expand_spec(spec, &project.root, None)?;
    let path = crate::overlay::path(&project.root);
    crate::overlay::refuse_link_out(&project.root, &path)?;
    let existing = match path.is_file() {
        true => Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?,
        ),
        false => None,
    };
    let start = existing.clone().unwrap_or_else(|| {
        "# aiwg: your own sources and platforms on top of aiwg.toml. Kept out of git\n# (.git/info/exclude); what it deploys is in .aiwg/local/.\n\nsources = []\nplatforms = []\n".to_string()
    });
    let (text, added) = config_edit::add_to_array(&path, &start, "sources", &specs)?;
    let (text, added_platforms) =
        config_edit::add_to_array(&path, &text, "platforms", &target.platforms)?;
    let local = crate::overlay::parse(&path, &text)?;
    // Every platform it names must resolve before anything is deployed.
    Registry::builtin()
        .resolve(&local.platforms)
        .map_err(|unknown| UserError::new(unknown.to_string(), unknown.hint()))?;
    let overlay = crate::overlay::with_config(&project, Scope::Project, local.clone())?
        .ok_or_else(|| {
            UserError::new(
                "--frozen deploys `aiwg.toml` alone, so it cannot add to the overlay",
                "run `aiwg use --local` without --frozen",
            )
        })?;
    // What the user typed is consent for that source (as `aiwg use ../fw`).
    let typed: Vec<trust::Item> = trust::outside_sources(&overlay.merged)
        .into_iter()
        .filter(|i| matches!(i, trust::Item::OutsideSource { spec, .. } if specs.contains(spec)))
        .collect();
    if dry_run {
        trust::allow_for_run(&typed);
    } else {
        trust::grant(&project, &typed)?;
        // Created ignored: git is told before the file exists.
        let lock = deployment
            .overlay_engine()
            .read_lock()
            .map_err(pipeline::explain)?;
        crate::overlay::ensure_git_exclude(&project.root, &crate::overlay::ignored_paths(&lock))?;
    }
    crate::overlay::set_pending(local);
    let apply_target = TargetArgs {
        platforms: Vec::new(),
        scope: None,
    };
    let how = super::apply::Run {
        held: (!dry_run).then_some(Scope::Project),
        show_diff: false,
        ..how
    };
    let outcome = super::apply::execute(ctx, &project, &apply_target, how)?;
    let code = outcome.code;
    let mut report = outcome.report;
    let changed = existing.as_deref() != Some(text.as_str());
    let shown = project::display_relative(&path);
    if changed && dry_run {
        let verb = if existing.is_some() {
            "changed"
        } else {
            "created"
        };
        crate::printer::say!("dry run: `{}` would be {verb}", shown.display());
    } else if changed && code == 0 {
        config_edit::write_config(&path, &text)?;
        if existing.is_none() {
            crate::printer::say!("created `{}` (git ignores it)", shown.display());
        }
        for s in &added {
            crate::printer::say!("added `{s}` to `sources` in `{LOCAL_CONFIG_FILE}`");
        }
        for p in &added_platforms {
            crate::printer::say!("added `{p}` to `platforms` in `{LOCAL_CONFIG_FILE}`");
        }
    } else if changed {
        crate::printer::say!("`{}` was left as it was", shown.display());
    }
    if changed {
        report.config = Some(crate::json::ConfigChange {
            path: shown.display().to_string(),
            created: existing.is_none(),
            written: !dry_run && code == 0,
        });
    }
    if how.json {
        crate::json::print(&report)?;
    }
    Ok(code)
}

/// The consent items `aiwg use` was given on its command line: the outside sources among
/// `specs`, and user scope when it creates `aiwg.toml` with it.
fn typed_consent(project: &Project, specs: &[String], created: bool) -> Vec<trust::Item> {
    let mut items: Vec<trust::Item> = trust::outside_sources(project)
        .into_iter()
        .filter(|i| matches!(i, trust::Item::OutsideSource { spec, .. } if specs.contains(spec)))
        .collect();
    items.extend(
        trust::git_sources(project)
            .into_iter()
            .filter(|i| matches!(i, trust::Item::GitSource { name, commit: None, .. } if specs.iter().any(|s| crate::project::spec_name(s) == name))),
    );
    if created {
        items.extend(trust::user_scope_item(project));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_config_takes_every_platform_when_none_found() {
        let dir = tempfile::tempdir().unwrap();
        let change =
            change_config(dir.path(), dir.path(), None, &["sdlc".into()], &[], None).unwrap();
        let defaults = Registry::builtin().defaults().len();
        assert_eq!(change.config.platforms.len(), defaults);
        assert!(
            change.notes[0].contains(&format!("all {defaults}")),
            "{:?}",
            change.notes
        );
    }

    #[test]
    fn second_use_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let first = change_config(
            dir.path(),
            dir.path(),
            None,
            &["sdlc".into()],
            &["codex".into()],
            None,
        )
        .unwrap();
        let text = first.text.unwrap();
        let again = change_config(
            dir.path(),
            dir.path(),
            Some(&text),
            &["sdlc".into()],
            &["codex".into()],
            None,
        )
        .unwrap();
        assert_eq!(again.text, None);
        assert!(again.notes.is_empty() && again.edits.is_empty());
    }

    #[test]
    fn extension_brings_its_framework_and_unknown_names_fail() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            expand_spec("stream", dir.path(), None).unwrap(),
            vec!["sdlc", "stream"]
        );
        let err = expand_spec("nope", dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("`nope`"), "{err}");
    }
}
