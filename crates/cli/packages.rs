//! Monorepo packages: `packages = ["apps/web", "services/*"]` in the root `aiwg.toml`. Each
//! entry is resolved to folders below the root as hostile input (no `..`, no symlink leading
//! out, no git or aiwg state, a bounded count and listing); each package's own `.aiwg/` is a
//! source of rules, named `<package>-<rule>` (`apps-web-style`) so they cannot clash with the
//! root's or another package's. They render where each platform reads folder-scoped rules
//! (`aiwg_platforms::nested`): a section of `<package>/AGENTS.md` (or `CLAUDE.md`, ...) for a
//! platform that reads nested instruction files and has no glob-scoped rule files, root-level
//! rule files whose globs are the package's (`apps/web/**`) for one that has them, a notice
//! for one with neither. One plan and one `aiwg.lock` at the root cover everything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aiwg_core::config::CONFIG_FILE;
use aiwg_core::escape::escape;
use aiwg_core::exclude::ArtifactPattern;
use aiwg_core::package::{component_matcher, PackagePattern, MAX_PACKAGES};
use aiwg_core::source::{self, Loaded, SourceTree};
use aiwg_core::target::{Scope, TargetEntry};
use aiwg_core::{Artifact, Diagnostic, Kind, Model, RelPath};
use aiwg_platforms::nested::{package_routes, PackageRoute};
use aiwg_platforms::{Notice, NoticeLevel, PlatformSpec, RenderError, RenderOptions, Rendered};
use serde_json::Value;

use crate::error::UserError;
use crate::project::{self, Project, DEFAULT_SOURCE};

/// The most entries one folder listing may hold while a glob entry is matched.
const MAX_LISTING: usize = 10_000;

/// One package folder, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The folder, relative to the project root (`apps/web`).
    pub dir: RelPath,
    /// The line of the `packages` entry in `aiwg.toml` that named it.
    pub line: u32,
    /// The prefix of its artifact names (`apps-web`).
    pub slug: String,
    /// The source name its artifacts record: `<dir>/.aiwg`.
    pub source: String,
}

impl Package {
    /// The package's source folder (`<root>/<dir>/.aiwg`).
    pub fn source_folder(&self, root: &Path) -> PathBuf {
        self.dir.to_path(root).join(DEFAULT_SOURCE)
    }
}

/// The error for the `packages` entry on `line`, as `aiwg.toml:<line>: package ...`.
fn entry_error(project: &Project, line: u32, what: String, hint: &str) -> anyhow::Error {
    UserError::new(
        format!(
            "{}:{line}: {what}",
            project::display_relative(&project.config_path()).display()
        ),
        hint,
    )
    .into()
}

const OUTSIDE_HINT: &str = "a package is a folder inside the repository; name it by its real path (no `..`, no symlink leading out)";

/// The packages of `project`, in `aiwg.toml` order (each folder once). None without a
/// `packages` key. User scope has none: a package is a folder of the repository.
pub fn resolve(project: &Project) -> anyhow::Result<Vec<Package>> {
    let Some(config) = &project.config else {
        return Ok(Vec::new());
    };
    if config.packages.is_empty() {
        return Ok(Vec::new());
    }
    if project.user_scope || config.scope == Scope::User {
        return Err(entry_error(
            project,
            config.packages[0].line(),
            "`packages` deploy into the repository, not with `scope = \"user\"`".into(),
            "take `packages` out of this `aiwg.toml`, or deploy the project in project scope",
        ));
    }
    let root = std::fs::canonicalize(&project.root).map_err(|e| {
        UserError::new(
            format!("cannot read `{}`: {e}", project.root.display()),
            "run aiwg in an existing folder",
        )
    })?;
    let mut out: Vec<Package> = Vec::new();
    let mut canonical_seen = BTreeSet::new();
    for pattern in &config.packages {
        for (dir, canonical) in matches(project, &root, pattern)? {
            if !canonical_seen.insert(canonical) {
                continue;
            }
            let dir_shown = escape(dir.as_str()).into_owned();
            let folder = dir.to_path(&root);
            let source = folder.join(DEFAULT_SOURCE);
            match std::fs::symlink_metadata(&source) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) if meta.file_type().is_symlink() => {
                    let inside = std::fs::canonicalize(&source)
                        .ok()
                        .is_some_and(|c| c.starts_with(&folder) && c.is_dir());
                    if !inside {
                        return Err(entry_error(
                            project,
                            pattern.line(),
                            format!("package `{dir_shown}`: `{dir_shown}/.aiwg` is a symlink leading out of the package"),
                            OUTSIDE_HINT,
                        ));
                    }
                }
                // A glob names every folder that has a source; a folder named outright must.
                _ if pattern.is_glob() => continue,
                _ => {
                    return Err(entry_error(
                        project,
                        pattern.line(),
                        format!("package `{dir_shown}` has no `.aiwg/` folder"),
                        &format!("create `{dir_shown}/.aiwg/rules/<name>.md`, or take `{dir_shown}` out of `packages`"),
                    ))
                }
            }
            if folder.join(CONFIG_FILE).exists() {
                return Err(entry_error(
                    project,
                    pattern.line(),
                    format!("package `{dir_shown}` has its own `{CONFIG_FILE}`: it would be a second project writing the same files"),
                    &format!("delete `{dir_shown}/{CONFIG_FILE}` (the root's `aiwg.toml` deploys the package), or take `{dir_shown}` out of `packages`"),
                ));
            }
            let slug = slug(dir.as_str());
            if slug.is_empty() {
                return Err(entry_error(
                    project,
                    pattern.line(),
                    format!("package `{dir_shown}` has no letter or digit to name its rules by"),
                    "rename the folder",
                ));
            }
            if let Some(other) = out.iter().find(|p| p.slug == slug) {
                return Err(entry_error(
                    project,
                    pattern.line(),
                    format!(
                        "packages `{}` (line {}) and `{dir_shown}` both name their rules `{slug}-<name>`",
                        escape(other.dir.as_str()),
                        other.line
                    ),
                    "rename one of the folders",
                ));
            }
            out.push(Package {
                source: format!("{dir}/{DEFAULT_SOURCE}"),
                dir,
                line: pattern.line(),
                slug,
            });
            if out.len() > MAX_PACKAGES {
                return Err(entry_error(
                    project,
                    pattern.line(),
                    format!("more than {MAX_PACKAGES} packages"),
                    "split the repository, or name fewer folders",
                ));
            }
        }
    }
    for p in &out {
        if config.sources.iter().any(|s| {
            let folder = project::SourceSpec::parse(s)
                .folder()
                .trim_start_matches("./");
            folder.trim_end_matches('/') == p.source
        }) {
            return Err(entry_error(
                project,
                p.line,
                format!(
                    "`{}` is both a package's source and in `sources`",
                    escape(&p.source)
                ),
                "take it out of `sources`: a package's `.aiwg/` is read as the package's",
            ));
        }
    }
    Ok(out)
}

/// The folders `pattern` names below `root` (canonical), with their canonical paths. A
/// symlink on the way must stay inside the root and out of git's and aiwg's state.
fn matches(
    project: &Project,
    root: &Path,
    pattern: &PackagePattern,
) -> anyhow::Result<Vec<(RelPath, PathBuf)>> {
    let shown = escape(pattern.as_str()).into_owned();
    let mut current: Vec<String> = vec![String::new()];
    let components: Vec<&str> = pattern.components().collect();
    // A glob names what exists; a folder named outright must exist, every folder on the way.
    for component in &components {
        let mut next = Vec::new();
        for dir in &current {
            let base = if dir.is_empty() {
                root.to_path_buf()
            } else {
                root.join(dir)
            };
            let names: Vec<String> = if aiwg_core::package::is_glob(component) {
                let matcher = component_matcher(component).expect("checked when parsed");
                let Ok(listing) = std::fs::read_dir(&base) else {
                    continue;
                };
                let mut names = Vec::new();
                for (n, entry) in listing.enumerate() {
                    if n >= MAX_LISTING {
                        return Err(entry_error(
                            project,
                            pattern.line(),
                            format!(
                                "package `{shown}`: `{}` holds more than {MAX_LISTING} entries",
                                escape(dir)
                            ),
                            "name the package folders more precisely",
                        ));
                    }
                    let Ok(entry) = entry else { continue };
                    let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                        continue;
                    };
                    // Hidden folders (`.git`, `.aiwg`, `.claude`) and other names of git's
                    // folder (`GIT~1`) are never packages.
                    if !name.starts_with('.')
                        && !aiwg_core::rel_path::names_git_folder(&name)
                        && matcher.is_match(&name)
                    {
                        names.push(name);
                    }
                }
                names.sort();
                names
            } else {
                vec![component.to_string()]
            };
            for name in names {
                let rel = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                let path = root.join(&rel);
                let Ok(meta) = std::fs::symlink_metadata(&path) else {
                    if !pattern.is_glob() {
                        return Err(entry_error(
                            project,
                            pattern.line(),
                            format!("package `{shown}` does not exist"),
                            "create the folder, or take it out of `packages`",
                        ));
                    }
                    continue;
                };
                if meta.file_type().is_symlink() {
                    let target = std::fs::canonicalize(&path).ok();
                    let inside = target.as_ref().and_then(|t| t.strip_prefix(root).ok());
                    let Some(inside) = inside else {
                        return Err(entry_error(
                            project,
                            pattern.line(),
                            format!(
                                "package `{shown}`: `{}` is a symlink leading out of the project root",
                                escape(&rel)
                            ),
                            OUTSIDE_HINT,
                        ));
                    };
                    let reserved = inside.components().any(|c| {
                        let c = c.as_os_str().to_string_lossy();
                        aiwg_core::rel_path::names_git_folder(&c)
                            || aiwg_core::rel_path::names_aiwg_folder(&c)
                    });
                    if reserved || inside.as_os_str().is_empty() {
                        return Err(entry_error(
                            project,
                            pattern.line(),
                            format!(
                                "package `{shown}`: `{}` is a symlink to `{}`, which is not a package folder",
                                escape(&rel),
                                escape(&inside.display().to_string())
                            ),
                            OUTSIDE_HINT,
                        ));
                    }
                }
                if !path.is_dir() {
                    if !pattern.is_glob() {
                        return Err(entry_error(
                            project,
                            pattern.line(),
                            format!("package `{shown}` is not a folder"),
                            "name a folder",
                        ));
                    }
                    continue;
                }
                next.push(rel);
            }
        }
        current = next;
        if current.len() > MAX_PACKAGES {
            return Err(entry_error(
                project,
                pattern.line(),
                format!("package `{shown}` matches more than {MAX_PACKAGES} folders"),
                "name the package folders more precisely",
            ));
        }
    }
    let mut out = Vec::new();
    for rel in current {
        let canonical = std::fs::canonicalize(root.join(&rel)).unwrap_or_else(|_| root.join(&rel));
        let rel = RelPath::new(&rel).map_err(|e| {
            entry_error(
                project,
                pattern.line(),
                format!("package `{shown}`: {e}"),
                "rename the folder",
            )
        })?;
        out.push((rel, canonical));
    }
    Ok(out)
}

/// `apps/web` → `apps-web`: lowercase letters and digits, anything else one `-`.
fn slug(dir: &str) -> String {
    let mut out = String::new();
    for c in dir.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Reads each package's source (files are named relative to the current folder). All
/// packages together share one source's byte cap: past it, reading stops with an error on the
/// package that crossed it (256 packages must not cost 256 sources' worth of memory).
pub fn read(project: &Project, packages: &[Package]) -> Vec<(SourceTree, Vec<Diagnostic>)> {
    let mut total = 0u64;
    let mut out = Vec::with_capacity(packages.len());
    for p in packages {
        let folder = p.source_folder(&project.root);
        let shown = project::display_relative(&folder);
        let (tree, mut diags) = SourceTree::read_dir_as(p.source.clone(), &folder, &shown);
        total += tree.files.iter().map(|f| f.bytes.len() as u64).sum::<u64>();
        let over = total > source::MAX_SOURCE_BYTES;
        if over {
            diags.push(
                Diagnostic::error(
                    &shown,
                    None,
                    format!(
                        "the packages' sources hold more than {} MiB together; reading stopped here",
                        source::MAX_SOURCE_BYTES >> 20
                    ),
                )
                .with_hint("keep large files out of the packages' `.aiwg/` folders"),
            );
        }
        out.push((tree, diags));
        if over {
            break;
        }
    }
    out
}

/// Loads package trees (each on its own, so a rule named like a root rule is no duplicate),
/// names each rule `<slug>-<name>` and checks the result: a package holds rules only, and a
/// name must be 64 characters at most and clash with no root artifact or other package's.
pub fn load(trees: &[SourceTree], packages: &[Package], root: &[Artifact]) -> Loaded {
    let mut out = Loaded::default();
    let mut names: BTreeMap<String, PathBuf> = root
        .iter()
        .filter(|a| a.kind == Kind::Rule)
        .map(|a| (a.name.clone(), PathBuf::from(a.path.as_str())))
        .collect();
    for (tree, package) in trees.iter().zip(packages) {
        let loaded = source::load(tree);
        out.diagnostics.extend(loaded.diagnostics);
        if loaded.artifacts.is_empty() {
            out.diagnostics.push(
                Diagnostic::warning(&tree.display_root, None, "no artifacts found")
                    .with_hint("a package's `.aiwg/` holds `rules/*.md`"),
            );
        }
        for mut a in loaded.artifacts {
            let shown = tree.display_path(&a.path);
            if a.kind != Kind::Rule {
                out.diagnostics.push(
                    Diagnostic::error(
                        &shown,
                        None,
                        format!(
                            "package `{}` holds {} `{}`; a package deploys rules only (scoped to its folder)",
                            escape(package.dir.as_str()),
                            a.kind,
                            escape(&a.name)
                        ),
                    )
                    .with_hint(format!(
                        "{}s are project-wide on every platform: move it to the root's source (`.aiwg/{}/`)",
                        a.kind,
                        a.kind.folder()
                    )),
                );
                continue;
            }
            let name = format!("{}-{}", package.slug, a.name);
            if name.len() > 64 {
                out.diagnostics.push(
                    Diagnostic::error(&shown, None, format!("rule `{}` of package `{}` would be named `{name}`, longer than 64 characters", a.name, escape(package.dir.as_str())))
                        .with_hint("give the rule a shorter name"),
                );
                continue;
            }
            if let Some(first) = names.get(&name) {
                out.diagnostics.push(
                    Diagnostic::error(
                        &shown,
                        None,
                        format!(
                            "rule `{}` of package `{}` is deployed as `{name}`, the name of `{}`",
                            a.name,
                            escape(package.dir.as_str()),
                            first.display()
                        ),
                    )
                    .with_hint("rename one of them"),
                );
                continue;
            }
            names.insert(name.clone(), shown);
            a.name = name;
            out.artifacts.push(a);
        }
    }
    out
}

/// `a` (a package rule) as a root-level rule scoped to `dir`: its globs below the folder
/// (`**/*.ts` → `apps/web/**/*.ts`), and `apps/web/**` for a rule that applied everywhere or
/// was left to the agent, so it never reaches files outside the package.
fn scoped(a: &Artifact, dir: &RelPath) -> Artifact {
    let mut a = a.clone();
    let globs = a.frontmatter.globs();
    let scoped: Vec<Value> = if globs.is_empty() {
        vec![Value::String(format!("{dir}/**"))]
    } else {
        globs
            .iter()
            .map(|g| {
                let (neg, g) = match g.strip_prefix('!') {
                    Some(rest) => ("!", rest),
                    None => ("", g.as_str()),
                };
                let g = g.trim_start_matches("./").trim_start_matches('/');
                Value::String(format!("{neg}{dir}/{g}"))
            })
            .collect()
    };
    for key in ["globs", "paths", "applyTo", "always", "alwaysApply"] {
        a.frontmatter.entries.remove(key);
    }
    a.frontmatter
        .entries
        .insert("globs".into(), Value::Array(scoped));
    a
}

/// Renders `model` (root and package artifacts) for `platforms` in project scope: package
/// rules scoped to their folders, everything else as without packages. `render` is the one
/// render with the project's excludes ([`crate::exclude::render_with`]); `warn` is false
/// for the nested renders, whose models hold only package rules.
pub fn render(
    model: &Model,
    packages: &[Package],
    platforms: &[&PlatformSpec],
    options: RenderOptions,
    render: impl Fn(
        &Model,
        &[&PlatformSpec],
        RenderOptions,
        bool,
    ) -> anyhow::Result<Result<Rendered, RenderError>>,
) -> anyhow::Result<Rendered> {
    let error = crate::exclude::render_error;
    let routes = package_routes(platforms);
    let of_package = |a: &Artifact| packages.iter().find(|p| p.source == a.source);
    let mut root = Model::default();
    let mut per_package: BTreeMap<&str, Vec<Artifact>> = BTreeMap::new();
    let mut pkg_rules: Vec<ArtifactPattern> = Vec::new();
    for a in &model.artifacts {
        match of_package(a) {
            Some(p) => {
                root.artifacts.push(scoped(a, &p.dir));
                per_package
                    .entry(p.dir.as_str())
                    .or_default()
                    .push(a.clone());
                // Loading refused any name that is not `[a-z0-9-]`, so this is the name itself.
                let pattern = ArtifactPattern::parse(&format!("rule:{}", a.name))
                    .map_err(|why| anyhow::anyhow!("rule `{}`: {why}", escape(&a.name)))?;
                pkg_rules.push(pattern);
            }
            None => root.artifacts.push(a.clone()),
        }
    }
    // Every platform but the glob-scoped ones leaves the scoped copies out. One that would
    // still read a copy written for another (Copilot reads `.claude/rules`) keeps them: it
    // sees the rule there (said below when that is twice).
    let mut leave_out: BTreeSet<String> = routes
        .iter()
        .filter(|(_, r)| **r != PackageRoute::Scoped)
        .map(|(id, _)| id.clone())
        .collect();
    if pkg_rules.is_empty() {
        leave_out.clear();
    }
    let mut kept_reading: BTreeMap<String, String> = BTreeMap::new();
    let mut rendered = loop {
        let mut opts = options.clone();
        for id in &leave_out {
            opts.exclude
                .entry(id.clone())
                .or_default()
                .extend(pkg_rules.iter().cloned());
        }
        match render(&root, platforms, opts, true)? {
            Ok(r) => break r,
            Err(RenderError::Excluded {
                platform, place, ..
            }) if leave_out.remove(&platform) => {
                kept_reading.insert(platform, place);
            }
            Err(RenderError::SharedExclude {
                first,
                second,
                path,
            }) if leave_out.contains(&first) || leave_out.contains(&second) => {
                let id = if leave_out.contains(&first) {
                    first
                } else {
                    second
                };
                leave_out.remove(&id);
                kept_reading.insert(id, path);
            }
            Err(e) => return Err(error(e)),
        }
    };
    // The nested files, per package, for the platforms that read them.
    let nested: Vec<&PlatformSpec> = platforms
        .iter()
        .copied()
        .filter(|p| matches!(routes.get(&p.id), Some(PackageRoute::Nested { .. })))
        .collect();
    let mut notices = std::mem::take(&mut rendered.notices);
    if !nested.is_empty() {
        for p in packages {
            let Some(rules) = per_package.get(p.dir.as_str()) else {
                continue;
            };
            let model = Model {
                artifacts: rules.clone(),
            };
            let mut opts = options.clone();
            opts.homes.clear();
            let inner = render(&model, &nested, opts, false)?.map_err(error)?;
            notices.extend(inner.notices);
            for entry in inner.target.into_entries() {
                let path = RelPath::new(&format!("{}/{}", p.dir, entry.path))
                    .expect("a folder and a relative path join to one");
                rendered
                    .target
                    .insert(TargetEntry { path, ..entry })
                    .map_err(|c| error(RenderError::Clash(Box::new(c))))?;
            }
        }
    }
    if !pkg_rules.is_empty() {
        for p in platforms {
            let (level, message) = match (&routes[&p.id], kept_reading.get(&p.id)) {
                (PackageRoute::Nested { file }, None) => (NoticeLevel::Info, format!("package rules go to each package's `{file}`")),
                (PackageRoute::Served { file, platforms }, None) => (NoticeLevel::Info, format!("package rules reach it through each package's `{file}` (written for {})", platforms.join(", "))),
                (PackageRoute::Unsupported, None) => (NoticeLevel::Warning, format!("{} reads no instruction file in sub-folders and has no glob-scoped rule files: package rules are not deployed to it", p.name)),
                (PackageRoute::Unsupported, Some(place)) => (NoticeLevel::Info, format!("package rules reach it through `{place}`, written for other platforms")),
                (_, Some(place)) => (NoticeLevel::Warning, format!("{} sees package rules twice: in `{place}`, written for other platforms, and in each package's nested instruction file", p.name)),
                (PackageRoute::Scoped, None) => continue,
            };
            notices.push(Notice {
                platform: p.id.clone(),
                kind: Some(Kind::Rule),
                level,
                message,
            });
        }
    }
    notices.extend(chain_limits(&rendered.target, packages, &nested));
    notices
        .sort_by(|a, b| (&a.platform, a.kind, &a.message).cmp(&(&b.platform, b.kind, &b.message)));
    notices.dedup();
    rendered.notices = notices;
    Ok(rendered)
}

/// Codex reads the instruction files from the root down to the working folder until their
/// sum reaches its limit (`max_bytes`): per package, aiwg's sections in the root's file and
/// the package's count together.
fn chain_limits(
    target: &aiwg_core::target::TargetState,
    packages: &[Package],
    nested: &[&PlatformSpec],
) -> Vec<Notice> {
    let sections = |path: &str| -> usize {
        target
            .entries()
            .filter(|e| e.path.as_str() == path)
            .map(|e| match &e.desired {
                aiwg_core::target::Desired::Section { text, .. } => text.len(),
                _ => 0,
            })
            .sum()
    };
    let mut out = Vec::new();
    for p in nested {
        let (Some(max), Some(file)) = (
            p.instructions.max_bytes,
            p.instructions.path(Scope::Project),
        ) else {
            continue;
        };
        let root = sections(file);
        for package in packages {
            let path = format!("{}/{file}", package.dir);
            let own = sections(&path);
            let used = root + own;
            if own == 0 || used * 4 < max * 3 {
                continue;
            }
            let how = if used > max {
                "already over"
            } else {
                "close to"
            };
            out.push(Notice {
                platform: p.id.clone(),
                kind: None,
                level: NoticeLevel::Warning,
                message: format!(
                    "aiwg's sections in `{file}` and `{}` are {used} bytes together, {how} the {max} bytes {} reads from the root down to a package; your own text there counts too",
                    escape(&path),
                    p.name
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_names() {
        assert_eq!(slug("apps/web"), "apps-web");
        assert_eq!(slug("Services/API_v2"), "services-api-v2");
        assert_eq!(slug("a//b--c"), "a-b-c");
        assert_eq!(slug("__"), "");
    }

    #[test]
    fn scoped_rules_apply_below_their_folder_only() {
        let dir = RelPath::new("apps/web").unwrap();
        let rule = |fm: serde_json::Value| Artifact {
            kind: Kind::Rule,
            name: "r".into(),
            source: "apps/web/.aiwg".into(),
            path: RelPath::new("rules/r.md").unwrap(),
            frontmatter: aiwg_core::Frontmatter {
                entries: fm.as_object().unwrap().clone(),
                first_line: 2,
            },
            body: "x".into(),
            body_line: 4,
            assets: Vec::new(),
        };
        let globs = |fm| scoped(&rule(fm), &dir).frontmatter.globs();
        assert_eq!(globs(serde_json::json!({})), ["apps/web/**"]);
        assert_eq!(globs(serde_json::json!({"always": true})), ["apps/web/**"]);
        assert_eq!(
            globs(serde_json::json!({"globs": ["**/*.ts", "./src/*.css", "!gen/**"]})),
            ["apps/web/**/*.ts", "apps/web/src/*.css", "!apps/web/gen/**"]
        );
        assert_eq!(
            globs(serde_json::json!({"paths": "/x.md"})),
            ["apps/web/x.md"]
        );
        assert!(
            !scoped(&rule(serde_json::json!({"alwaysApply": true})), &dir)
                .frontmatter
                .always()
        );
    }
}
