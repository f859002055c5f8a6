//! The project a command runs in: its root folder, its `aiwg.toml`, and its sources resolved
//! to trees in memory (bundled frameworks by name, folders by path).

use std::path::{Path, PathBuf};

use aiwg_core::config::{Config, CONFIG_FILE};
use aiwg_core::source::{self, Loaded, SourceFile, SourceTree};
use aiwg_core::{Diagnostic, RelPath};
use anyhow::Context as _;

use crate::bundled::BUNDLED_FILES;
use crate::commands::UserError;

/// The folder a project keeps its own artifacts in when `aiwg.toml` names no sources.
pub const DEFAULT_SOURCE: &str = ".aiwg";

/// A project: the folder holding `aiwg.toml` (or the git root, or the current folder).
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    /// `None` when there is no `aiwg.toml` yet.
    pub config: Option<Config>,
}

impl Project {
    /// Finds the project for `cwd`: the nearest folder upwards with `aiwg.toml`, else the
    /// nearest with `.git`, else `cwd` itself. A broken `aiwg.toml` is an error.
    pub fn discover(cwd: &Path) -> anyhow::Result<Project> {
        let with_config = cwd.ancestors().find(|d| d.join(CONFIG_FILE).is_file());
        let root = with_config
            .or_else(|| cwd.ancestors().find(|d| d.join(".git").exists()))
            .unwrap_or(cwd)
            .to_path_buf();
        let config_path = root.join(CONFIG_FILE);
        let config = if config_path.is_file() {
            let text = std::fs::read_to_string(&config_path)
                .with_context(|| format!("cannot read `{}`", config_path.display()))?;
            Some(Config::parse(&config_path, &text).map_err(|d| {
                UserError::new(
                    format!(
                        "{}:{}: {}",
                        d.path.display(),
                        d.line.unwrap_or(1),
                        d.message
                    ),
                    d.hint.unwrap_or_default(),
                )
            })?)
        } else {
            None
        };
        Ok(Project { root, config })
    }

    /// The sources to load: `aiwg.toml`'s list, or `.aiwg/` when there is none.
    pub fn source_specs(&self) -> Vec<String> {
        match &self.config {
            Some(c) if !c.sources.is_empty() => c.sources.clone(),
            _ => vec![DEFAULT_SOURCE.to_string()],
        }
    }
}

/// The names of the bundled frameworks and extensions: the folders under
/// `content/frameworks/` and `content/extensions/`.
pub fn bundled_names() -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = BUNDLED_FILES
        .iter()
        .filter_map(|(path, _, _)| {
            let mut parts = path.split('/');
            let group = parts.next()?;
            let name = parts.next()?;
            parts.next()?;
            matches!(group, "frameworks" | "extensions")
                .then(|| (name.to_string(), format!("{group}/{name}")))
        })
        .collect();
    names.dedup();
    names
}

/// The embedded tree of a bundled framework or extension, if `name` is one.
pub fn bundled_tree(name: &str) -> Option<SourceTree> {
    let (_, prefix) = bundled_names().into_iter().find(|(n, _)| n == name)?;
    let prefix = format!("{prefix}/");
    let files = BUNDLED_FILES
        .iter()
        .filter_map(|(path, bytes, exec)| {
            let rel = path.strip_prefix(&prefix)?;
            Some(SourceFile {
                path: RelPath::new(rel).ok()?,
                bytes: bytes.to_vec(),
                executable: *exec,
            })
        })
        .collect();
    Some(SourceTree::from_files(
        name,
        format!("<bundled>/{name}"),
        files,
    ))
}

/// Resolves one source spec, relative to `base`: `name@path`, a bundled name, or a path.
pub fn resolve(spec: &str, base: &Path) -> anyhow::Result<(SourceTree, Vec<Diagnostic>)> {
    if let Some((name, path)) = spec.split_once('@') {
        return read_folder(name, &base.join(path), spec);
    }
    if let Some(tree) = bundled_tree(spec) {
        return Ok((tree, Vec::new()));
    }
    read_folder(spec, &base.join(spec), spec)
}

fn read_folder(
    name: &str,
    path: &Path,
    spec: &str,
) -> anyhow::Result<(SourceTree, Vec<Diagnostic>)> {
    if !path.is_dir() {
        let known: Vec<String> = bundled_names().into_iter().map(|(n, _)| n).collect();
        return Err(UserError::new(
            format!("source `{spec}` is neither a bundled framework nor a folder"),
            format!(
                "bundled frameworks: {}; or give a path to a folder",
                known.join(", ")
            ),
        )
        .into());
    }
    let (tree, diags) = SourceTree::read_dir(name, &display_relative(path));
    Ok((tree, diags))
}

/// `path` relative to the current folder when it lies below it, for messages.
pub fn display_relative(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
}

/// Loads every source in `specs` (relative to `base`) into one set of artifacts.
pub fn load_all(specs: &[String], base: &Path) -> anyhow::Result<Loaded> {
    let mut all = Loaded::default();
    for spec in specs {
        let (tree, diags) = resolve(spec, base)?;
        let loaded = source::load(&tree);
        all.diagnostics.extend(diags);
        all.diagnostics.extend(loaded.diagnostics);
        all.artifacts.extend(loaded.artifacts);
    }
    Ok(all)
}
