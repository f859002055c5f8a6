//! `aiwg use <name|path|name@path>`: adds a framework or source to `aiwg.toml` (creating it
//! with the platforms found in the repository) and applies.

use std::path::Path;

use anyhow::Context as _;

use super::{Context, UserError};
use crate::cli::{ScopeArg, TargetArgs};
use crate::config_edit;
use crate::frameworks;
use crate::pipeline;
use crate::project::Project;
use crate::trust;
use aiwg_core::config::{Config, CONFIG_FILE};
use aiwg_core::target::Scope;
use aiwg_platforms::Registry;

/// The platforms whose `detect` markers (in `platforms/*.toml`) exist under `root`, by id.
/// `.github/` alone is not a sign of Copilot (most repositories have workflows there), so
/// Copilot's markers are its own files under it.
pub fn detect_platforms(root: &Path) -> Vec<String> {
    Registry::builtin()
        .detect(|marker| root.join(marker).exists())
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

/// The source specs `spec` stands for: every bundled framework and extension for `all`, a
/// bundled name with what it requires, or a path (checked to be a folder).
pub fn expand_spec(spec: &str, root: &Path) -> anyhow::Result<Vec<String>> {
    if spec == "all" {
        return Ok(frameworks::bundled().into_iter().map(|f| f.name).collect());
    }
    if frameworks::bundled().iter().any(|f| f.name == spec) {
        return Ok(frameworks::with_requirements(spec));
    }
    let path = crate::project::SourceSpec::parse(spec).path;
    if !root.join(path).is_dir() {
        let known: Vec<String> = frameworks::bundled().into_iter().map(|f| f.name).collect();
        return Err(UserError::new(
            format!("`{spec}` is neither a bundled framework nor a folder"),
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
    /// One line each for the user.
    pub notes: Vec<String>,
}

/// The config after adding `specs` (and `platforms`, when given) to `existing`, or a new
/// config when there is none, with the platforms detected under `root` and `scope` (the
/// `--scope` given, else project), so later commands deploy and check the same place.
pub fn change_config(
    root: &Path,
    existing: Option<&str>,
    specs: &[String],
    platforms: &[String],
    scope: Option<Scope>,
) -> anyhow::Result<ConfigChange> {
    let path = root.join(CONFIG_FILE);
    let mut notes = Vec::new();
    let text = match existing {
        None => {
            let chosen: Vec<String> = if !platforms.is_empty() {
                platforms.to_vec()
            } else {
                let found = detect_platforms(root);
                if found.is_empty() {
                    let defaults: Vec<String> = Registry::builtin()
                        .defaults()
                        .iter()
                        .map(|p| p.id.clone())
                        .collect();
                    notes.push(format!(
                        "no platform files found in the repository: deploying to all {} ({})",
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
            notes.push(format!("created `{CONFIG_FILE}`"));
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
                notes.push(format!("added `{s}` to `sources` in `{CONFIG_FILE}`"));
            }
            for p in &added_platforms {
                notes.push(format!("added `{p}` to `platforms` in `{CONFIG_FILE}`"));
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
    })
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Project => "project",
        Scope::User => "user",
    }
}

/// Runs `aiwg use`.
pub fn run(
    ctx: &Context,
    spec: &str,
    target: &TargetArgs,
    dry_run: bool,
    force: bool,
) -> anyhow::Result<u8> {
    // `aiwg.toml` is read and rewritten under the project's process lock, and the apply runs
    // under it too: two `use` at once each keep the other's edit (R6).
    let found = Project::discover(&ctx.cwd)?;
    let deployment = pipeline::Deployment::open(&found, Scope::Project)?;
    let _guard = (!dry_run).then(|| deployment.lock()).transpose()?;
    let mut project = Project::discover(&ctx.cwd)?;
    let specs = expand_spec(spec, &project.root)?;
    let config_path = project.root.join(CONFIG_FILE);
    let existing = match config_path.is_file() {
        true => Some(
            std::fs::read_to_string(&config_path)
                .with_context(|| format!("cannot read `{}`", config_path.display()))?,
        ),
        false => None,
    };
    let change = change_config(
        &project.root,
        existing.as_deref(),
        &specs,
        &target.platforms,
        target.scope.map(|s| match s {
            ScopeArg::Project => Scope::Project,
            ScopeArg::User => Scope::User,
        }),
    )?;
    // Every platform the new config names must resolve before the config is written: a
    // typo left in `aiwg.toml` would break every later command.
    project.config = Some(change.config.clone());
    pipeline::platforms(&project, &[])?;
    for note in &change.notes {
        eprintln!("{note}");
    }
    if let (Some(text), false) = (&change.text, dry_run) {
        config_edit::write_config(&config_path, text)?;
    }
    // What the user typed is consent: a source outside the project named on this command
    // line, and `--scope user` written into a new `aiwg.toml`.
    let typed = typed_consent(&project, &specs, existing.is_none());
    if dry_run {
        trust::allow_for_run(&typed);
    } else {
        trust::grant(&project, &typed)?;
    }
    let apply_target = TargetArgs {
        platforms: Vec::new(),
        scope: target.scope,
    };
    let held = (!dry_run).then_some(Scope::Project);
    super::apply::execute_with(ctx, &project, &apply_target, dry_run, force, held)
}

/// The consent items `aiwg use` was given on its command line: the outside sources among
/// `specs`, and user scope when it creates `aiwg.toml` with it.
fn typed_consent(project: &Project, specs: &[String], created: bool) -> Vec<trust::Item> {
    let mut items: Vec<trust::Item> = trust::outside_sources(project)
        .into_iter()
        .filter(|i| matches!(i, trust::Item::OutsideSource { spec, .. } if specs.contains(spec)))
        .collect();
    if created {
        items.extend(trust::user_scope_item(project));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_platform_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(detect_platforms(dir.path()).is_empty());
        std::fs::create_dir_all(dir.path().join(".cursor")).unwrap();
        std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "x").unwrap();
        assert_eq!(detect_platforms(dir.path()), vec!["agents-md", "cursor"]);
        std::fs::create_dir_all(dir.path().join(".kiro/steering")).unwrap();
        assert_eq!(
            detect_platforms(dir.path()),
            vec!["agents-md", "cursor", "kiro"]
        );
    }

    #[test]
    fn new_config_takes_every_platform_when_none_found() {
        let dir = tempfile::tempdir().unwrap();
        let change = change_config(dir.path(), None, &["sdlc".into()], &[], None).unwrap();
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
        let first =
            change_config(dir.path(), None, &["sdlc".into()], &["codex".into()], None).unwrap();
        let text = first.text.unwrap();
        let again = change_config(
            dir.path(),
            Some(&text),
            &["sdlc".into()],
            &["codex".into()],
            None,
        )
        .unwrap();
        assert_eq!(again.text, None);
        assert!(again.notes.is_empty());
    }

    #[test]
    fn extension_brings_its_framework_and_unknown_names_fail() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            expand_spec("stream", dir.path()).unwrap(),
            vec!["sdlc", "stream"]
        );
        let err = expand_spec("nope", dir.path()).unwrap_err();
        assert!(err.to_string().contains("`nope`"), "{err}");
    }
}
