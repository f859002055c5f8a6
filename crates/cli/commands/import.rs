//! `aiwg import`: turn the platform files a repository already has into sources in `.aiwg/`
//! (the work is in `crate::import`; this prints, writes and edits `aiwg.toml`).

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::path::Path;

use aiwg_core::config::CONFIG_FILE;
use aiwg_core::escape::escape;
use aiwg_core::target::Scope;
use anyhow::Context as _;

use crate::cli::ScopeArg;
use crate::commands::{Context, UserError};
use crate::config_edit;
use crate::import::{self, read::Repo, Existing, Outcome, Readers};
use crate::pipeline::Deployment;
use crate::project::{self, Project, DEFAULT_SOURCE};

/// Runs `aiwg import [--from ...] [--dry-run] [--json]`: exit 0, or 1 when a source file that
/// exists with other content was left alone.
pub fn run(
    ctx: &Context,
    from: &[String],
    dry_run: bool,
    json: bool,
    scope: Option<ScopeArg>,
) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let readers = Readers::parse(from).map_err(|unknown| {
        UserError::new(
            unknown.to_string(),
            format!("{}; or `rulesync`, `ruler`", unknown.hint()),
        )
    })?;
    let scope = match scope {
        Some(ScopeArg::User) => Scope::User,
        _ => Scope::Project,
    };
    let mut existing = existing(&project, scope)?;
    // User scope reads the home folder (the platforms' user MCP files, moved by a client's
    // home variable such as CODEX_HOME as a deploy would); the sources still go to `.aiwg/`.
    let root = match scope {
        Scope::Project => project.root.clone(),
        Scope::User => {
            existing.homes = crate::pipeline::client_homes(&readers.platforms)?;
            dirs::home_dir()
                .ok_or_else(|| UserError::new("cannot find the home folder", "set `HOME`"))?
        }
    };
    let mut repo = Repo::new(&root).with_context(|| format!("cannot read `{}`", root.display()))?;
    let outcome = import::plan(&mut repo, &readers, &existing);
    report(&outcome, dry_run, json);
    if !dry_run {
        for (rel, bytes, exec) in &outcome.writes {
            write_source(&project.root, rel, bytes, *exec)?;
        }
        if !outcome.writes.is_empty() || !outcome.unchanged.is_empty() {
            update_config(&project, &outcome, scope)?;
        }
    }
    if json {
        crate::json::print(&json_report(&outcome, dry_run))?;
    }
    Ok(u8::from(!outcome.clashes.is_empty()))
}

/// The `--json` document of `o`.
fn json_report(o: &Outcome, dry_run: bool) -> crate::json::ImportReport {
    use crate::json::{ImportDifference, ImportReport, PathWhy};
    let path_why = |list: &[(String, String)]| {
        list.iter()
            .map(|(path, why)| PathWhy {
                path: path.clone(),
                why: why.clone(),
            })
            .collect()
    };
    ImportReport {
        version: crate::json::VERSION,
        dry_run,
        platforms: o.platforms.clone(),
        found: o.found,
        written: o.writes.iter().map(|(p, _, _)| p.clone()).collect(),
        unchanged: o.unchanged.clone(),
        clashes: path_why(&o.clashes),
        differences: o
            .differences
            .iter()
            .map(|(artifact, differences)| ImportDifference {
                artifact: artifact.clone(),
                differences: differences.clone(),
            })
            .collect(),
        skipped: path_why(&o.skipped),
        notes: o.notes.clone(),
        managed: o.managed,
    }
}

/// What the project already has: the paths its lock records whole, and the artifacts of its
/// sources (a source that cannot be read has none).
fn existing(project: &Project, scope: Scope) -> anyhow::Result<Existing> {
    let deployment = Deployment::open(project, scope)?;
    let lock = deployment
        .engine()
        .read_lock()
        .map_err(crate::pipeline::explain)?;
    let managed: HashSet<String> = lock
        .entries()
        .filter(|e| e.part.is_whole())
        .map(|e| e.path.to_string())
        .collect();
    // Bundled sources and folders inside the repository: a folder outside it is not read
    // without consent (`aiwg trust`), and import needs only the names in it.
    let root = std::fs::canonicalize(&project.root)?;
    let mut sources = Vec::new();
    for spec in project.source_specs() {
        let location = project::locate(&spec, &project.root);
        match &location {
            project::SourceLocation::Folder { path, .. } => {
                let inside = std::fs::canonicalize(path).is_ok_and(|p| p.starts_with(&root));
                if !inside {
                    continue;
                }
            }
            // A git source is not fetched for this: its consent is its own.
            project::SourceLocation::Git(_) | project::SourceLocation::BadGit { .. } => continue,
            project::SourceLocation::Bundled(_) => {}
        }
        if let Ok(read) = project::read_located(location, &spec, &project.root) {
            sources.push(read);
        }
    }
    let loaded = project::load_sources(sources).loaded;
    let artifacts: BTreeMap<String, (String, String)> = loaded
        .artifacts
        .iter()
        .map(|a| (a.id(), (a.source.clone(), a.path.to_string())))
        .collect();
    let managed_keys = lock
        .entries()
        .filter(|e| e.mode == aiwg_deploy::lock::Mode::Merge)
        .flat_map(|e| {
            e.keys
                .iter()
                .map(move |k| (e.path.to_string(), k.key.join(".")))
        })
        .collect();
    Ok(Existing {
        managed_keys,
        managed,
        artifacts,
        target: DEFAULT_SOURCE.to_string(),
        tiers: tiers_by_id(project),
        scope,
        homes: BTreeMap::new(),
    })
}

/// Prints what import found: one `wrote`/`unchanged` line per source file on stdout (unless
/// `json`: the document is the data then), and the messages on stderr; a clash is said even
/// with `-q` (it is what makes the exit code 1).
fn report(o: &Outcome, dry_run: bool, json: bool) {
    if !json {
        let mut out = std::io::stdout().lock();
        let verb = if dry_run { "would write" } else { "wrote" };
        for (path, _, _) in &o.writes {
            let _ = writeln!(out, "{verb}\t{}", escape(path));
        }
        for path in &o.unchanged {
            let _ = writeln!(out, "unchanged\t{}", escape(path));
        }
    }
    // Paths, names and values come from the repository: every line is escaped for the terminal.
    let mut lines: Vec<String> = Vec::new();
    for (id, differences) in &o.differences {
        lines.push(format!(
            "warning: {id}: the copies differ; the first is imported: {}",
            differences.join("; ")
        ));
    }
    for (path, why) in &o.clashes {
        lines.push(format!("clash: `{path}` {why}"));
    }
    for (path, why) in &o.skipped {
        lines.push(format!("skipped: `{path}`: {why}"));
    }
    for note in &o.notes {
        lines.push(format!("note: {note}"));
    }
    if o.managed > 0 {
        lines.push(format!(
            "note: {} file{} aiwg manages (aiwg.lock) left out",
            o.managed,
            plural(o.managed, "s")
        ));
    }
    lines.push(format!(
        "{} artifact{} found ({}); {} file{} to write, {} unchanged, {} clash{}",
        o.found,
        plural(o.found, "s"),
        if o.platforms.is_empty() {
            "no platform files".to_string()
        } else {
            o.platforms.join(", ")
        },
        o.writes.len(),
        plural(o.writes.len(), "s"),
        o.unchanged.len(),
        o.clashes.len(),
        plural(o.clashes.len(), "es"),
    ));
    if !o.clashes.is_empty() {
        lines.push("hint: a clash is a source file that already holds something else: compare the two, then move or delete one and import again".into());
    } else if !dry_run && !o.writes.is_empty() {
        lines.push("hint: `aiwg diff` shows what `aiwg apply` would change on each platform; files it would write as they are get adopted".into());
    }
    for line in lines {
        if line.starts_with("clash: ") || line.starts_with("hint: a clash") {
            crate::printer::shout!("{}", escape(&line));
        } else {
            crate::printer::say!("{}", escape(&line));
        }
    }
}

fn plural(n: usize, suffix: &'static str) -> &'static str {
    if n == 1 {
        ""
    } else {
        suffix
    }
}

/// Writes `root/rel` (a new file: import never overwrites), refusing a folder on the way that
/// leads outside the repository (a symlinked `.aiwg`).
fn write_source(root: &Path, rel: &str, bytes: &[u8], executable: bool) -> anyhow::Result<()> {
    let path = root.join(rel);
    let parent = path.parent().expect("a source path has a folder");
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create `{}`", parent.display()))?;
    let canonical_root = std::fs::canonicalize(root)?;
    let canonical_parent = std::fs::canonicalize(parent)?;
    if !canonical_parent.starts_with(&canonical_root) {
        return Err(UserError::new(
            format!(
                "`{}` leads outside the repository; nothing written there",
                parent.display()
            ),
            "make the source folder a real folder inside the repository",
        )
        .into());
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}

/// Makes `aiwg.toml` name `.aiwg` as a source and the platforms files were found for (a new
/// file names exactly those).
fn update_config(project: &Project, o: &Outcome, scope: Scope) -> anyhow::Result<()> {
    let path = project.root.join(CONFIG_FILE);
    let mut stderr = std::io::stderr().lock();
    let source = vec![DEFAULT_SOURCE.to_string()];
    let text = match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = writeln!(stderr, "created `{CONFIG_FILE}`");
            config_edit::new_config_text(&source, &o.platforms, scope)
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
        Ok(text) => {
            let config = project.config.as_ref();
            let mut new = text.clone();
            if config.is_some_and(|c| !c.sources.is_empty()) {
                let (with, added) = config_edit::add_to_array(&path, &new, "sources", &source)?;
                new = with;
                for s in added {
                    let _ = writeln!(stderr, "added `{s}` to `sources` in `{CONFIG_FILE}`");
                }
            }
            if let Some(listed) = config.map(|c| &c.platforms).filter(|p| !p.is_empty()) {
                let known: Vec<String> = aiwg_platforms::Registry::builtin()
                    .resolve(listed)
                    .map(|specs| specs.iter().map(|s| s.id.clone()).collect())
                    .unwrap_or_default();
                let missing: Vec<String> = o
                    .platforms
                    .iter()
                    .filter(|p| !known.contains(p))
                    .cloned()
                    .collect();
                let (with, added) = config_edit::add_to_array(&path, &new, "platforms", &missing)?;
                new = with;
                for p in added {
                    let _ = writeln!(stderr, "added `{p}` to `platforms` in `{CONFIG_FILE}`");
                }
            }
            if new == text {
                return Ok(());
            }
            new
        }
    };
    // Atomically, as every other edit of the config (`config_edit`): a killed import never
    // leaves a half-written aiwg.toml.
    config_edit::write_config(&path, &text)
}

/// `[models.<platform>]` of `aiwg.toml`, keyed by platform id (an alias resolved; an unknown
/// one, which every deploy command reports, is left out here).
pub fn tiers_by_id(project: &Project) -> BTreeMap<String, aiwg_core::config::Tiers> {
    let mut out = BTreeMap::new();
    for (key, tiers) in project.config.iter().flat_map(|c| &c.models) {
        if let Some(spec) = aiwg_platforms::Registry::builtin().get(key) {
            out.insert(spec.id.clone(), tiers.clone());
        }
    }
    out
}
