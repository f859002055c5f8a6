//! `aiwg adopt <path>`: a hand edit of a managed platform file taken back into its source —
//! the inverse of a conflict. The edited file is read back into source form through the
//! platform's own tables (`crate::import::convert`); the changed source is loaded and
//! rendered again, and adopt writes it only when that render gives exactly the edited bytes.
//! Otherwise it refuses and shows the first line that would differ.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use aiwg_core::escape::escape;
use aiwg_core::source::{SourceFile, SourceTree};
use aiwg_core::target::{Desired, Part};
use aiwg_core::{Artifact, Kind, Model, RelPath};
use aiwg_platforms::{PlatformSpec, Registry};
use anyhow::Context as _;
use serde_json::{Map, Value};

use crate::cli::TargetArgs;
use crate::commands::{Context, UserError};
use crate::import::convert;
use crate::pipeline::{self, Deployment};
use crate::project::{self, Project, ReadSource, SourceLocation};

/// Runs `aiwg adopt <path> [--dry-run]`.
pub fn run(ctx: &Context, path: &Path, dry_run: bool) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let target = TargetArgs {
        platforms: Vec::new(),
        scope: None,
    };
    let scope = pipeline::scope(&project, target.scope)?;
    let platforms = pipeline::platforms(&project, scope)?;
    let d = Deployment::open(&project, scope)?;
    let shown = path.display().to_string();
    let rel = d.rel_path(&ctx.cwd, path).ok_or_else(|| {
        UserError::new(
            format!("`{shown}` is outside `{}`", d.root.display()),
            "give a platform file inside the project",
        )
    })?;
    let lock = d.engine().read_lock().map_err(pipeline::explain)?;
    let Some(entry) = lock.get(&rel, &Part::Whole) else {
        let servers: Vec<&aiwg_deploy::LockEntry> = lock
            .entries_of(&rel)
            .filter(|e| e.origin.artifact.starts_with("mcp:") && !e.keys.is_empty())
            .collect();
        if !servers.is_empty() {
            return super::adopt_mcp::run(
                &project, &d, scope, &platforms, &rel, &shown, &servers, dry_run,
            );
        }
        let why = if lock.entries_of(&rel).next().is_some() {
            "aiwg owns only parts of it (a section or merged keys); edit the source of that part instead"
        } else {
            "aiwg did not write it (`aiwg import` turns files aiwg does not manage into sources)"
        };
        return Err(
            UserError::new(format!("`{shown}` is not a file aiwg manages whole"), why).into(),
        );
    };
    let edited =
        std::fs::read(rel.to_path(&d.root)).with_context(|| format!("cannot read `{shown}`"))?;
    let edited_text = String::from_utf8(edited.clone())
        .map_err(|_| UserError::new(format!("`{shown}` is not UTF-8"), "save it as UTF-8"))?;

    let Own {
        sources,
        index,
        source_root,
    } = own_source(&project, &entry.origin.source, &shown)?;
    let loaded = project::load_sources(sources.clone()).loaded;
    let Some(artifact) = loaded
        .artifacts
        .iter()
        .find(|a| a.id() == *entry.origin.artifact && a.source == *entry.origin.source)
    else {
        return Err(UserError::new(
            format!(
                "`{}` is no longer in source `{}`",
                entry.origin.artifact, entry.origin.source
            ),
            "`aiwg apply` retires the file",
        )
        .into());
    };
    let platform = entry
        .origin
        .platforms
        .iter()
        .filter_map(|id| Registry::builtin().get(id))
        .next()
        .ok_or_else(|| {
            UserError::new(
                format!("`{shown}`: the lock names no known platform"),
                "run `aiwg apply` first",
            )
        })?;
    let original = sources[index]
        .0
        .file(artifact.path.as_str())
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .unwrap_or_default();
    let tiers = crate::commands::import::tiers_by_id(&project);
    let (file, bytes) = source_change(
        platform,
        tiers.get(&platform.id),
        artifact,
        &original,
        &rel,
        &edited,
        &edited_text,
    )
    .map_err(|why| {
        UserError::new(
            format!("cannot adopt `{shown}`: {why}"),
            "make the change in the source instead",
        )
    })?;

    // The source with the change, loaded and rendered again: it must give the edited bytes.
    let tree = &sources[index].0;
    let mut files: Vec<SourceFile> = tree
        .files
        .iter()
        .filter(|f| f.path != file)
        .cloned()
        .collect();
    let executable = tree.file(file.as_str()).is_some_and(|f| f.executable);
    files.push(SourceFile {
        path: file.clone(),
        bytes: bytes.clone(),
        executable,
    });
    let changed = SourceTree::from_files(tree.name.clone(), tree.display_root.clone(), files);
    let mut with_change = sources;
    with_change[index].0 = changed;
    let rendered = render_changed(&project, with_change, &platforms, scope, &shown)?;
    let wanted = rendered
        .target
        .entries()
        .find(|e| e.path == rel && e.desired.part().is_whole())
        .map(|e| &e.desired);
    let rendered_bytes = match wanted {
        Some(Desired::File { bytes, .. }) => bytes.clone(),
        _ => Vec::new(),
    };
    if rendered_bytes != edited {
        return Err(UserError::new(
            format!(
                "cannot adopt `{shown}`: its source, written back, would render differently ({})",
                first_difference(&edited, &rendered_bytes)
            ),
            "the platform's format cannot say everything the edit says: make the change in the source instead",
        )
        .into());
    }
    let source_path = file.to_path(&source_root);
    let others = rendered
        .target
        .entries()
        .filter(|e| e.origin.artifact == entry.origin.artifact && e.path != rel)
        .count();
    let mut stderr = std::io::stderr().lock();
    if dry_run {
        let _ = writeln!(
            stderr,
            "would adopt `{shown}` into `{}`",
            project::display_relative(&source_path).display()
        );
        return Ok(0);
    }
    crate::config_edit::write_file(&source_path, &bytes)?;
    let _ = writeln!(
        stderr,
        "adopted `{shown}` into `{}`; `aiwg apply` brings {others} other platform file{} of `{}` up to date",
        project::display_relative(&source_path).display(),
        if others == 1 { "" } else { "s" },
        entry.origin.artifact
    );
    Ok(0)
}

/// The project's sources, read once, and the folder source an artifact came from.
pub(super) struct Own {
    pub sources: Vec<ReadSource>,
    pub index: usize,
    pub source_root: PathBuf,
}

/// Reads the project's sources as every deploy command loads them (consent for folders
/// outside the repository, no errors) and finds `source`, which must be a folder aiwg may
/// write into (not a git cache, not bundled).
pub(super) fn own_source(project: &Project, source: &str, shown: &str) -> anyhow::Result<Own> {
    // The sources as every deploy command loads them: consent for folders outside the
    // repository (`aiwg trust`), and no errors.
    pipeline::load_model(project)?;
    // The project's sources, read once; the artifact's own must be a folder.
    let mut sources = Vec::new();
    let mut own = None;
    let specs = project.source_specs();
    for spec in &specs {
        let location = project::locate(spec, &project.root);
        let read = project::read_located(location.clone(), spec, &project.root)?;
        if read.0.name == source {
            own = Some((sources.len(), location));
        }
        sources.push(read);
    }
    let Some((index, location)) = own else {
        let packages = crate::packages::resolve(project)?;
        if let Some(p) = packages.iter().find(|p| p.source == source) {
            return Err(UserError::new(
                format!(
                    "`{shown}` is a rule of package `{}`, rendered scoped to its folder; `aiwg adopt` does not take it back",
                    escape(p.dir.as_str())
                ),
                format!(
                    "make the change in `{}` (the rule named without the `{}-` prefix), then `aiwg apply --force`",
                    escape(&p.source),
                    p.slug
                ),
            )
            .into());
        }
        return Err(UserError::new(
            format!(
                "`{shown}` came from source `{}`, which `aiwg.toml` no longer names",
                source
            ),
            "add the source back, or let `aiwg apply` retire the file",
        )
        .into());
    };
    if let SourceLocation::Git(git) = &location {
        return Err(UserError::new(
            format!(
                "`{shown}` came from the git source `{}`, pinned in `aiwg.lock`; aiwg does not write into its cache",
                git.name
            ),
            "make the change in that repository, then `aiwg update` pins it here",
        )
        .into());
    }
    let SourceLocation::Folder {
        path: source_root, ..
    } = location
    else {
        return Err(UserError::new(
            format!("`{shown}` came from `{}`, which is bundled in aiwg and cannot be edited", source),
            "copy the artifact into `.aiwg/` (`aiwg import` after `aiwg remove` does it), then adopt",
        )
        .into());
    };
    Ok(Own {
        sources,
        index,
        source_root: source_root.to_path_buf(),
    })
}

/// The sources with an adopted change, loaded and rendered again as every deploy renders
/// them; a change that makes them fail to load is refused, naming `shown` and each error.
pub(super) fn render_changed(
    project: &Project,
    sources: Vec<(SourceTree, Vec<aiwg_core::Diagnostic>)>,
    platforms: &[&PlatformSpec],
    scope: aiwg_core::target::Scope,
    shown: &str,
) -> anyhow::Result<aiwg_platforms::Rendered> {
    let reloaded = project::load_sources(sources).loaded;
    let errors: Vec<String> = reloaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(UserError::new(
            format!(
                "cannot adopt `{shown}`: the source would not load:\n{}",
                errors.join("\n")
            ),
            "make the change in the source instead",
        )
        .into());
    }
    let model = Model {
        artifacts: reloaded.artifacts,
    };
    pipeline::render_model(project, &model, platforms, scope)
}

/// The source file (relative to the source root) and its new bytes for an edit of `rel`.
fn source_change(
    platform: &PlatformSpec,
    tiers: Option<&aiwg_core::config::Tiers>,
    artifact: &Artifact,
    original: &str,
    rel: &RelPath,
    edited: &[u8],
    edited_text: &str,
) -> Result<(RelPath, Vec<u8>), String> {
    let main = artifact.path.clone();
    if artifact.kind.is_folder() {
        // A skill's SKILL.md or one of its files: the path below the skill folder.
        let name = &artifact.name;
        let inner = rel
            .as_str()
            .split_once(&format!("/{name}/"))
            .map(|(_, inner)| inner.to_string())
            .ok_or_else(|| format!("`{rel}` is not inside the folder of `{}`", artifact.id()))?;
        let folder = main.as_str().rsplit_once('/').map_or("", |(dir, _)| dir);
        let file = RelPath::new(&format!("{folder}/{inner}")).map_err(|e| e.to_string())?;
        if file != main {
            return Ok((file, edited.to_vec()));
        }
        let (fm, body) = convert::split(edited_text)?;
        let merged = overlay(artifact, original, &fm, &[])?;
        return Ok((main, source_text(original, &merged, &body)?.into_bytes()));
    }
    let spec = match artifact.kind {
        Kind::Agent => &platform.agent,
        Kind::Command => &platform.command,
        Kind::Rule => &platform.rule,
        kind => return Err(format!("a {kind} is not written as a file of its own")),
    };
    if !convert::readable(spec) || spec.path(aiwg_core::target::Scope::Project).is_none() {
        return Err(format!(
            "{} writes {}s in a form aiwg cannot read back (a fallback or another format)",
            platform.id, artifact.kind
        ));
    }
    let mut found = convert::from_file(
        platform,
        artifact.kind,
        spec,
        rel.as_str(),
        &artifact.name,
        edited_text,
    )?;
    convert::tiers_back(&mut found, tiers);
    if found.name != artifact.name {
        return Err(format!(
            "the edit renames it to `{}`; rename the source instead",
            found.name
        ));
    }
    let merged = overlay(artifact, original, &found.frontmatter, &found.lossy)?;
    Ok((
        main,
        source_text(original, &merged, &found.body)?.into_bytes(),
    ))
}

/// The source's own frontmatter with the values the edited file gives: a key the source
/// does not write and whose value is what loading gave it anyway (a description taken from
/// the body, the name) stays unwritten; keys the platform cannot carry exactly (`lossy`) and
/// keys it does not carry at all stay as the source has them.
fn overlay(
    artifact: &Artifact,
    original: &str,
    edited: &Map<String, Value>,
    lossy: &[&str],
) -> Result<Map<String, Value>, String> {
    let (mut merged, _) = convert::split(original)?;
    for (k, v) in edited {
        if lossy.contains(&k.as_str()) {
            continue;
        }
        let loaded = artifact.frontmatter.get(k);
        let is_name = k == "name" && v.as_str() == Some(artifact.name.as_str());
        if !merged.contains_key(k) && (loaded == Some(v) || is_name) {
            continue;
        }
        merged.insert(k.clone(), v.clone());
    }
    Ok(merged)
}

/// The source file with frontmatter `fm` and `body`: the frontmatter lines as the author
/// wrote them when they did not change (comments, quoting, order), else written again as
/// strict YAML.
fn source_text(original: &str, fm: &Map<String, Value>, body: &str) -> Result<String, String> {
    let (before, _) = convert::split(original)?;
    if *fm == before {
        let split = aiwg_core::frontmatter::split(original).map_err(|e| e.message)?;
        let head = &original[..original.len() - split.body.len()];
        return Ok(format!("{head}{body}"));
    }
    let block = aiwg_platforms::yaml::frontmatter_block(fm);
    Ok(if block.is_empty() {
        body.trim_start_matches(['\n', '\r']).to_string()
    } else {
        format!("{block}{body}")
    })
}

/// `line N: ...` of the first line where `a` and `b` differ.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let mut la = a.lines();
    let mut lb = b.lines();
    for n in 1.. {
        match (la.next(), lb.next()) {
            (None, None) => return "line endings differ".into(),
            (x, y) if x == y => continue,
            (x, y) => {
                return format!(
                    "line {n}: edited `{}`, would be `{}`",
                    x.unwrap_or("<end>"),
                    y.unwrap_or("<end>")
                )
            }
        }
    }
    unreachable!()
}
