//! The project a command runs in: its root folder, its `aiwg.toml`, and its sources resolved
//! to trees in memory (bundled frameworks by name, folders by path).

use std::path::{Path, PathBuf};

use aiwg_core::config::{Config, CONFIG_FILE};
use aiwg_core::source::{self, Loaded, SourceFile, SourceTree};
use aiwg_core::target::Scope;
use aiwg_core::{Artifact, Diagnostic, RelPath};
use anyhow::Context as _;

use crate::bundled::BUNDLED_FILES;
use crate::cli::ScopeArg;
use crate::error::UserError;

/// The folder a project keeps its own artifacts in when `aiwg.toml` names no sources.
pub const DEFAULT_SOURCE: &str = ".aiwg";

/// A project: the folder holding `aiwg.toml` (or the git root, or the current folder).
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    /// `None` when there is no `aiwg.toml` yet.
    pub config: Option<Config>,
    /// True for the user's own configuration in `$AIWG_HOME` (`--scope user`).
    pub user_scope: bool,
}

impl Project {
    /// The project a command works on: with `--scope user`, the project around `cwd` when its
    /// own `aiwg.toml` says `scope = "user"` (the flag agrees with the file: that project's
    /// deploy into the home folder), else the user's own configuration in `$AIWG_HOME` (its
    /// `aiwg.toml`, sources relative to it), the same from every folder; otherwise the
    /// project around `cwd` ([`Project::discover`]).
    pub fn open(cwd: &Path, scope: Option<ScopeArg>) -> anyhow::Result<Project> {
        match scope {
            Some(ScopeArg::User) => {
                let here = Project::discover(cwd)?;
                if here.config.as_ref().is_some_and(|c| c.scope == Scope::User) {
                    return Ok(here);
                }
                Ok(Project {
                    user_scope: true,
                    ..Project::load(aiwg_home()?)?
                })
            }
            _ => Project::discover(cwd),
        }
    }

    /// Finds the project for `cwd`: the nearest folder upwards with `aiwg.toml`, else the
    /// nearest with `.git`, else `cwd` itself. A broken `aiwg.toml` is an error.
    pub fn discover(cwd: &Path) -> anyhow::Result<Project> {
        let with_config = cwd.ancestors().find(|d| d.join(CONFIG_FILE).is_file());
        let root = with_config
            .or_else(|| cwd.ancestors().find(|d| d.join(".git").exists()))
            .unwrap_or(cwd)
            .to_path_buf();
        // Project scope only: user scope's `$AIWG_HOME/aiwg.toml` is the user's own, and may
        // well be a link into their dotfiles.
        crate::config_edit::refuse_link_out(&root, &root.join(CONFIG_FILE))?;
        Project::load(root)
    }

    /// The project rooted at `root`, with its `aiwg.toml` if there is one.
    pub fn load(root: PathBuf) -> anyhow::Result<Project> {
        let config_path = root.join(CONFIG_FILE);
        let config = if config_path.is_file() {
            let text = std::fs::read_to_string(&config_path)
                .with_context(|| format!("cannot read `{}`", config_path.display()))?;
            Some(Config::parse(&config_path, &text).map_err(|d| {
                UserError::new(
                    format!(
                        "{}:{}: {}",
                        display_relative(&d.path).display(),
                        d.line.unwrap_or(1),
                        d.message
                    ),
                    d.hint.unwrap_or_default(),
                )
            })?)
        } else {
            None
        };
        Ok(Project {
            root,
            config,
            user_scope: false,
        })
    }

    /// The path of this project's `aiwg.toml` (which may not exist yet).
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    /// True when the root's `.aiwg/` holds a source folder (`rules/`, `agents/` ...).
    fn has_own_source(&self) -> bool {
        let own = self.root.join(DEFAULT_SOURCE);
        source::SOURCE_FOLDERS.iter().any(|f| own.join(f).exists())
    }

    /// The sources to load: `aiwg.toml`'s list, or `.aiwg/` when there is none (none when
    /// the root of a monorepo has no `.aiwg/` of its own: its packages are the sources).
    pub fn source_specs(&self) -> Vec<String> {
        match &self.config {
            Some(c) if !c.sources.is_empty() => c.sources.clone(),
            // Its `.aiwg/` may hold only aiwg's history: a source when it has a source folder.
            Some(c) if !c.packages.is_empty() && !self.has_own_source() => Vec::new(),
            _ => vec![DEFAULT_SOURCE.to_string()],
        }
    }
}

/// The home folder, or an error saying how to name one.
pub fn home_dir() -> anyhow::Result<PathBuf> {
    Ok(dirs::home_dir().ok_or_else(|| {
        UserError::new(
            "cannot find the home folder",
            "set `HOME` to deploy with `--scope user`",
        )
    })?)
}

/// Where user scope keeps its configuration, lock and history: `$AIWG_HOME`, default `~/.aiwg`.
pub fn aiwg_home() -> anyhow::Result<PathBuf> {
    match crate::trust::aiwg_home() {
        Some(dir) => Ok(dir),
        None => Ok(home_dir()?.join(".aiwg")),
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

/// One source read into memory, with the problems met while reading it.
pub type ReadSource = (SourceTree, Vec<Diagnostic>);

/// Resolves one source spec of `aiwg.toml`, relative to `base`: `name@path`, a bundled
/// name, or a path. Files are named in messages relative to the current folder.
pub fn resolve(spec: &str, base: &Path) -> anyhow::Result<ReadSource> {
    read_located(locate(spec, base), spec, base)
}

/// Where a source spec of `aiwg.toml` points, before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceLocation<'a> {
    /// A bundled framework or extension, embedded in the binary.
    Bundled(&'a str),
    /// A folder (which may not exist), and the name its artifacts record.
    Folder { name: &'a str, path: PathBuf },
    /// A git repository (`git+https://…`, `github:org/repo` …), read from its pinned commit.
    Git(crate::remote::GitSpec),
    /// A git spec that does not parse: why.
    BadGit { spec: &'a str, why: String },
}

/// A source as `aiwg.toml` or the command line names it, split once: `name@path` (a folder
/// with the name its artifacts record), or one word, a bundled framework's name or a folder
/// path that is also its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSpec<'a> {
    /// The name artifacts record (`vendor` in `vendor@third_party/agents`).
    pub name: &'a str,
    /// The folder given after `@`, if any.
    pub path: Option<&'a str>,
}

impl<'a> SourceSpec<'a> {
    /// Splits `spec` at its first `@`.
    pub fn parse(spec: &'a str) -> SourceSpec<'a> {
        match spec.split_once('@') {
            Some((name, path)) => SourceSpec {
                name,
                path: Some(path),
            },
            None => SourceSpec {
                name: spec,
                path: None,
            },
        }
    }

    /// The folder it names, if it is one: the path of `name@path`, else the word itself.
    pub fn folder(&self) -> &'a str {
        self.path.unwrap_or(self.name)
    }
}

/// Where `spec` points, relative to `base`: `name@path` is a folder, a bundled name is the
/// embedded tree, anything else a folder. The check cache uses it to know which folders a
/// check read.
pub fn locate<'a>(spec: &'a str, base: &Path) -> SourceLocation<'a> {
    match crate::remote::parse(spec) {
        Some(Ok(git)) => return SourceLocation::Git(git),
        Some(Err(why)) => return SourceLocation::BadGit { spec, why },
        None => {}
    }
    let parsed = SourceSpec::parse(spec);
    if let Some(path) = parsed.path {
        return SourceLocation::Folder {
            name: parsed.name,
            path: base.join(path),
        };
    }
    if bundled_names().iter().any(|(name, _)| name == spec) {
        return SourceLocation::Bundled(spec);
    }
    SourceLocation::Folder {
        name: spec,
        path: base.join(spec),
    }
}

/// The name a source spec gives its artifacts: `name` of `name@path` or `name@git+…`, a git
/// spec's whole text, else the spec.
pub fn spec_name(spec: &str) -> &str {
    match crate::remote::parse(spec) {
        Some(Ok(git)) if git.name != spec => spec.split_once('@').map_or(spec, |(n, _)| n),
        Some(_) => spec,
        None => spec.split_once('@').map_or(spec, |(name, _)| name),
    }
}

/// Reads the source `spec` located at `location` (see [`locate`]); `root` is the project
/// root (where the lock that pins git sources is).
pub fn read_located(
    location: SourceLocation<'_>,
    spec: &str,
    root: &Path,
) -> anyhow::Result<ReadSource> {
    Ok(read_located_at(location, spec, root)?.0)
}

/// [`read_located`], also returning the folder that was read (a git source's checkout).
pub fn read_located_at(
    location: SourceLocation<'_>,
    spec: &str,
    root: &Path,
) -> anyhow::Result<(ReadSource, Option<PathBuf>)> {
    let (name, path) = match location {
        SourceLocation::Bundled(name) => match bundled_tree(name) {
            Some(tree) => return Ok(((tree, Vec::new()), None)),
            None => (name, PathBuf::from(name)),
        },
        SourceLocation::Folder { name, path } => (name, path),
        SourceLocation::BadGit { spec, why } => {
            return Err(UserError::new(
                format!("git source `{}` in `aiwg.toml`: {why}", aiwg_core::escape::escape(spec)),
                "write it as `git+https://host/org/repo[@ref][#sub-folder]`, `git+ssh://…`, `file:///path` or `github:org/repo`",
            )
            .into())
        }
        SourceLocation::Git(git) => {
            let checkout = crate::remote::checkout(&git, root)?;
            let read = SourceTree::read_dir_as(&git.name, &checkout.folder, &checkout.display_root);
            return Ok((read, Some(checkout.folder)));
        }
    };
    let read = read_folder(name, &path, &display_relative(&path), spec)?;
    Ok((read, Some(path)))
}

/// Resolves a source given on the command line: a folder relative to `cwd` (named and shown
/// as given), else a bundled framework name.
pub fn resolve_arg(arg: &Path, cwd: &Path) -> anyhow::Result<ReadSource> {
    let path = cwd.join(arg);
    let shown = arg.to_string_lossy();
    if !path.is_dir() {
        if let Some(tree) = bundled_tree(&shown) {
            return Ok((tree, Vec::new()));
        }
    }
    if path.is_file() {
        return Err(UserError::new(
            format!("`{shown}` is a file; a source is a folder"),
            "give the folder that holds `agents/`, `skills/` ... (the source root)",
        )
        .into());
    }
    read_folder(&shown, &path, arg, &shown)
}

/// The sources a command works on: `paths` (relative to `cwd`) when there are any, else the
/// project's sources from `aiwg.toml` (and `aiwg.local.toml`), else `.aiwg/`.
pub fn command_sources(cwd: &Path, paths: &[PathBuf]) -> anyhow::Result<Vec<ReadSource>> {
    if !paths.is_empty() {
        return paths.iter().map(|p| resolve_arg(p, cwd)).collect();
    }
    let project = Project::discover(cwd)?;
    // The personal overlay's sources are the project's too (validate and list what apply
    // deploys).
    let project = match crate::overlay::load(&project, Scope::Project)? {
        Some(overlay) => overlay.merged,
        None => project,
    };
    let has_sources = project
        .config
        .as_ref()
        .is_some_and(|c| !c.sources.is_empty() || !c.packages.is_empty());
    if !has_sources && !project.root.join(DEFAULT_SOURCE).is_dir() {
        return Err(UserError::new(
            format!(
                "no sources: `aiwg.toml` names none and `{}` does not exist",
                display_relative(&project.root.join(DEFAULT_SOURCE)).display()
            ),
            "give a folder (`aiwg validate path/to/source`), add a framework with `aiwg use sdlc`, or create an artifact with `aiwg new agent my-agent`",
        )
        .into());
    }
    // Nothing outside the project is read without consent (a folder given on the command
    // line, above, is consent).
    crate::trust::require(&project, crate::trust::outside_sources(&project))?;
    crate::trust::require(&project, crate::trust::git_sources(&project))?;
    project
        .source_specs()
        .iter()
        .map(|spec| resolve(spec, &project.root))
        .collect()
}

/// [`command_sources`], loaded, with the project's packages (`packages` in `aiwg.toml`) when
/// no path is given: their rules named as they deploy (`apps-web-style`).
pub fn command_sources_loaded(cwd: &Path, paths: &[PathBuf]) -> anyhow::Result<LoadedSources> {
    let mut sources = load_sources(command_sources(cwd, paths)?);
    if !paths.is_empty() {
        return Ok(sources);
    }
    let project = Project::discover(cwd)?;
    let packages = crate::packages::resolve(&project)?;
    let mut trees = Vec::with_capacity(packages.len());
    for (tree, diags) in crate::packages::read(&project, &packages) {
        sources.loaded.diagnostics.extend(diags);
        sources
            .roots
            .push((tree.name.clone(), tree.display_root.clone()));
        trees.push(tree);
    }
    let more = crate::packages::load(&trees, &packages, &sources.loaded.artifacts);
    sources.loaded.diagnostics.extend(more.diagnostics);
    sources.loaded.artifacts.extend(more.artifacts);
    sources.packages = packages.len();
    Ok(sources)
}

fn read_folder(name: &str, path: &Path, shown: &Path, spec: &str) -> anyhow::Result<ReadSource> {
    if !path.is_dir() {
        let known: Vec<String> = bundled_names().into_iter().map(|(n, _)| n).collect();
        return Err(UserError::new(
            format!("source `{spec}` is neither a folder nor a bundled framework"),
            format!(
                "bundled frameworks: {}; or give a path to a folder",
                known.join(", ")
            ),
        )
        .into());
    }
    Ok(SourceTree::read_dir_as(name, path, shown))
}

/// "here" for the current folder, else "in `<path>`" (relative to it), for messages.
pub fn in_folder(path: &Path) -> String {
    match display_relative(path) {
        p if p == Path::new(".") => "here".to_string(),
        p => format!("in `{}`", p.display()),
    }
}

/// `path` relative to the current folder, for messages: `.aiwg/x.md`, `../.aiwg/x.md`,
/// `.` for the folder itself; absolute when the two share nothing but the root.
pub fn display_relative(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) => relative_to(path, &cwd),
        Err(_) => path.to_path_buf(),
    }
}

fn relative_to(path: &Path, base: &Path) -> PathBuf {
    use std::path::Component;
    if !path.is_absolute() || !base.is_absolute() {
        return path.to_path_buf();
    }
    let path_parts: Vec<Component> = path.components().collect();
    let base_parts: Vec<Component> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let shares_only_root = path_parts[..common]
        .iter()
        .all(|c| matches!(c, Component::RootDir | Component::Prefix(_)));
    if shares_only_root {
        return path.to_path_buf();
    }
    let mut rel = PathBuf::new();
    for _ in common..base_parts.len() {
        rel.push("..");
    }
    rel.extend(&path_parts[common..]);
    if rel.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        rel
    }
}

/// Sources loaded together: their artifacts and diagnostics, and where each source is shown.
#[derive(Debug)]
pub struct LoadedSources {
    pub loaded: Loaded,
    /// Each source's name and display root, in load order (packages last).
    roots: Vec<(String, PathBuf)>,
    /// How many of the sources are monorepo packages.
    pub packages: usize,
}

impl LoadedSources {
    /// How many sources were loaded.
    pub fn count(&self) -> usize {
        self.roots.len()
    }

    /// The main file of `artifact` as diagnostics name it (`.aiwg/agents/x.md`).
    pub fn display_path(&self, artifact: &Artifact) -> PathBuf {
        match self.roots.iter().find(|(name, _)| *name == artifact.source) {
            Some((_, root)) => artifact.path.to_path(root),
            None => PathBuf::from(artifact.path.as_str()),
        }
    }
}

/// The way out of most YAML errors in frontmatter written by hand. (Added here, where every
/// command's diagnostics pass, rather than in `aiwg_core::source`, which another change owns.)
const YAML_HINT: &str = "quote a value that contains `: ` or ` #`, or starts with `[`, `{`, `*`, `&`, `!`, `|`, `>`, `%` or `@` (`description: \"Use: this\"`)";

/// Loads sources already read, in order: every artifact, and every diagnostic of reading and
/// loading (a source without any artifact is a warning: probably the wrong folder).
pub fn load_sources(sources: Vec<ReadSource>) -> LoadedSources {
    let mut diagnostics = Vec::new();
    let mut trees = Vec::with_capacity(sources.len());
    for (tree, diags) in sources {
        diagnostics.extend(diags);
        trees.push(tree);
    }
    let mut loaded = source::load_all(&mut trees);
    for tree in &trees {
        if !loaded.artifacts.iter().any(|a| a.source == tree.name) {
            diagnostics.push(
                Diagnostic::warning(&tree.display_root, None, "no artifacts found")
                    .with_hint("a source holds `agents/*.md`, `commands/*.md`, `skills/<name>/SKILL.md`, `rules/*.md`, `behaviors/<name>/BEHAVIOR.md`, `runbooks/*.md` or `mcp/<name>.toml`"),
            );
        }
    }
    diagnostics.append(&mut loaded.diagnostics);
    for d in &mut diagnostics {
        if d.hint.is_none() && d.message.starts_with("invalid YAML") {
            d.hint = Some(YAML_HINT.into());
        }
    }
    loaded.diagnostics = diagnostics;
    let roots = trees
        .into_iter()
        .map(|t| (t.name, t.display_root))
        .collect();
    LoadedSources {
        loaded,
        roots,
        packages: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_specs_split_once() {
        let check = |spec: &str, name: &str, path: Option<&str>, folder: &str| {
            let parsed = SourceSpec::parse(spec);
            assert_eq!(
                (parsed.name, parsed.path, parsed.folder()),
                (name, path, folder)
            );
        };
        check("sdlc", "sdlc", None, "sdlc");
        check(".aiwg", ".aiwg", None, ".aiwg");
        check(
            "vendor@third_party/agents",
            "vendor",
            Some("third_party/agents"),
            "third_party/agents",
        );
        check("a@b@c", "a", Some("b@c"), "b@c");
    }

    #[test]
    fn paths_relative_to_a_folder() {
        let check = |path: &str, base: &str, expect: &str| {
            assert_eq!(
                relative_to(Path::new(path), Path::new(base)),
                Path::new(expect)
            )
        };
        check("/p/.aiwg/a.md", "/p", ".aiwg/a.md");
        check("/p/.aiwg/a.md", "/p/src/x", "../../.aiwg/a.md");
        check("/p", "/p", ".");
        check("/other/a.md", "/p/src", "/other/a.md");
        check("rel/a.md", "/p", "rel/a.md");
    }
}
