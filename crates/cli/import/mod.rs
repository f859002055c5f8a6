//! `aiwg import`: an existing repository's platform files (and the sources of rulesync and
//! ruler) turned into aiwg sources in `.aiwg/`.
//!
//! Where to look comes from the platforms' data (`platforms/*.toml`: each kind's path pattern,
//! skills folders, instruction file); [`convert`] turns each file back into source form.
//! Files aiwg manages (in `aiwg.lock`) and aiwg's own sections are left out. The same artifact
//! found for several platforms becomes one source; keys that differ between the copies are
//! reported (the first copy's value is kept, Claude Code's when it has one), never picked
//! silently. A source file that already exists is left alone: unchanged when it holds the same
//! bytes, a clash when it does not. The repository is read as hostile input ([`read`]).

pub mod convert;
pub mod mcp;
pub mod read;

use std::collections::BTreeMap;

use aiwg_core::Kind;
use aiwg_platforms::{PlatformSpec, Registry};
use serde_json::{Map, Value};

use convert::{Found, SOURCE_FORMAT_PLATFORM};
use read::Repo;

/// The peer tools whose source folders `import` reads.
pub const PEERS: [&str; 2] = ["rulesync", "ruler"];

/// Where to look: platforms (from `--from`, or all) and peers.
pub struct Readers<'a> {
    /// Platforms, Claude Code first (its files are already in source form).
    pub platforms: Vec<&'a PlatformSpec>,
    /// Peer tools (`rulesync`, `ruler`).
    pub peers: Vec<&'static str>,
}

impl Readers<'static> {
    /// `--from` values (platform ids or aliases, `rulesync`, `ruler`), or every reader.
    pub fn parse(from: &[String]) -> Result<Readers<'static>, aiwg_platforms::UnknownPlatform> {
        let registry = Registry::builtin();
        let (peers, ids): (Vec<&String>, Vec<&String>) =
            from.iter().partition(|f| PEERS.contains(&f.as_str()));
        let mut platforms = if from.is_empty() {
            registry.all().iter().collect()
        } else {
            registry.resolve(&ids)?
        };
        platforms.sort_by_key(|p| p.id != SOURCE_FORMAT_PLATFORM);
        let peers = if from.is_empty() {
            PEERS.to_vec()
        } else {
            PEERS
                .into_iter()
                .filter(|p| peers.iter().any(|f| f.as_str() == *p))
                .collect()
        };
        Ok(Readers { platforms, peers })
    }
}

/// What one import found and decided.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Source files to write: path under `.aiwg/`, bytes, executable.
    pub writes: Vec<(String, Vec<u8>, bool)>,
    /// Source files that already hold what import would write.
    pub unchanged: Vec<String>,
    /// `(source path, why)`: an existing source file that differs; not overwritten.
    pub clashes: Vec<(String, String)>,
    /// `kind:name` and what differed between the copies found.
    pub differences: Vec<(String, Vec<String>)>,
    /// Things worth saying once (keys not imported, text that stays where it is).
    pub notes: Vec<String>,
    /// `(path, why)`: files not read (symlinks out, too big, not UTF-8, unreadable format).
    pub skipped: Vec<(String, String)>,
    /// How many files aiwg manages and import therefore left out.
    pub managed: usize,
    /// The platform ids something was found for, in registry order.
    pub platforms: Vec<String>,
    /// How many artifacts were found, before merging copies.
    pub found: usize,
}

/// What the project already has: its lock's whole-file paths, and its sources' artifacts.
pub struct Existing {
    /// Paths (relative to the root) aiwg wrote whole: not imported.
    pub managed: std::collections::HashSet<String>,
    /// `kind:name` → the source it is in (`sdlc`, `.aiwg`) and its main file there.
    pub artifacts: BTreeMap<String, (String, String)>,
    /// The source folder import writes to, relative to the root (`.aiwg`).
    pub target: String,
    /// `[models.<platform>]` of `aiwg.toml`, by platform id: ids that map back to tiers.
    pub tiers: BTreeMap<String, aiwg_core::config::Tiers>,
    /// (path, dotted key) of every key aiwg merged into a shared file: not imported.
    pub managed_keys: std::collections::HashSet<(String, String)>,
    /// What the root is: the repository, or the home folder (then only the platforms' user
    /// MCP files are read).
    pub scope: aiwg_core::target::Scope,
    /// In user scope, each set client home variable's folder relative to home (`CODEX_HOME`).
    pub homes: BTreeMap<String, String>,
}

/// Finds every artifact `readers` see in `repo`, merges copies, and decides what to write
/// under `existing.target` (nothing is written here).
pub fn plan(repo: &mut Repo, readers: &Readers, existing: &Existing) -> Outcome {
    let mut outcome = Outcome::default();
    let mut found = Vec::new();
    let mut skills_read: Vec<String> = Vec::new();
    let mut instructions_read: Vec<String> = Vec::new();
    let mut mcp_read: Vec<(String, String)> = Vec::new();
    let user = existing.scope == aiwg_core::target::Scope::User;
    for &platform in &readers.platforms {
        let before = found.len();
        if user {
            mcp::scan(
                repo,
                platform,
                existing,
                &mut found,
                &mut outcome,
                &mut mcp_read,
            );
            if found.len() > before {
                outcome.platforms.push(platform.id.clone());
            }
            continue;
        }
        scan_platform(
            repo,
            platform,
            existing,
            &mut found,
            &mut outcome,
            &mut skills_read,
        );
        mcp::scan(
            repo,
            platform,
            existing,
            &mut found,
            &mut outcome,
            &mut mcp_read,
        );
        if let Some(file) = platform
            .instructions
            .path(aiwg_core::target::Scope::Project)
        {
            if !instructions_read.iter().any(|f| f == file) {
                instructions_read.push(file.to_string());
                instruction_file(repo, platform, file, &mut found, &mut outcome);
            }
        }
        if found.len() > before {
            outcome.platforms.push(platform.id.clone());
        }
    }
    for peer in readers.peers.iter().filter(|_| !user) {
        match *peer {
            "rulesync" => scan_rulesync(repo, &mut found, &mut outcome),
            _ => scan_ruler(repo, &mut found, &mut outcome),
        }
    }
    outcome.found = found.len();
    // Instruction files with the same text (CLAUDE.md and AGENTS.md often are) are one rule.
    let mut texts: Vec<(String, String)> = Vec::new();
    for f in found
        .iter_mut()
        .filter(|f| f.path.ends_with(".md") && f.kind == Kind::Rule)
    {
        if !f.reader.starts_with("instructions:") {
            continue;
        }
        let text = f.body.trim().to_string();
        match texts.iter().find(|(t, _)| *t == text) {
            Some((_, name)) => f.name = name.clone(),
            None => texts.push((text, f.name.clone())),
        }
    }
    let mut groups: BTreeMap<(Kind, String), Vec<Found>> = BTreeMap::new();
    for f in found {
        groups.entry((f.kind, f.name.clone())).or_default().push(f);
    }
    for ((kind, name), copies) in groups {
        let id = format!("{kind}:{name}");
        let wanted = copies[0].source_path();
        match existing.artifacts.get(&id) {
            // Already imported: `decide` compares the bytes.
            Some((source, path)) if *source == existing.target && *path == wanted => {}
            Some((source, path)) => {
                let paths: Vec<&str> = copies.iter().map(|c| c.path.as_str()).collect();
                outcome.notes.push(format!(
                    "{id} is already in source `{source}` (`{path}`): {} not imported",
                    paths.join(", ")
                ));
                continue;
            }
            None => {}
        }
        if !aiwg_core::validate::is_safe_name(&name) {
            for c in &copies {
                outcome
                    .skipped
                    .push((c.path.clone(), format!("name `{name}` is not a file name")));
            }
            continue;
        }
        let (merged, differences) = merge(copies);
        if !differences.is_empty() {
            outcome.differences.push((id.clone(), differences));
        }
        decide(repo, existing, &merged, &mut outcome);
    }
    outcome.skipped.append(&mut repo.skipped);
    outcome
}

/// One source from the copies of an artifact: the first copy (Claude Code's when found),
/// with keys only other copies have added; every key two copies disagree on, and a body that
/// differs, is a difference.
fn merge(mut copies: Vec<Found>) -> (Found, Vec<String>) {
    let mut base = copies.remove(0);
    let mut differences = Vec::new();
    let mut added = false;
    for other in copies {
        for (key, value) in &other.frontmatter {
            match base.frontmatter.get(key) {
                None => {
                    base.frontmatter.insert(key.clone(), value.clone());
                    added = true;
                }
                Some(_) if other.lossy.contains(&key.as_str()) => {}
                // An MCP server's per-platform keys: each copy adds its platform's table.
                Some(Value::Object(_)) if base.kind == Kind::Mcp && key == "platform" => {
                    if let (Some(Value::Object(mine)), Value::Object(theirs)) =
                        (base.frontmatter.get_mut(key), value)
                    {
                        for (id, table) in theirs {
                            mine.entry(id.clone()).or_insert_with(|| table.clone());
                        }
                        added = true;
                    }
                }
                Some(mine) if base.lossy.contains(&key.as_str()) => {
                    if mine != value {
                        base.frontmatter.insert(key.clone(), value.clone());
                        base.lossy.retain(|k| k != key);
                        added = true;
                    }
                }
                Some(mine) if same_value(key, mine, value) => {}
                Some(mine) => differences.push(format!(
                    "`{key}` is {} in `{}` but {} in `{}`",
                    short(mine),
                    base.path,
                    short(value),
                    other.path
                )),
            }
        }
        if other.body.trim() != base.body.trim() {
            differences.push(format!(
                "the text differs between `{}` and `{}`",
                base.path, other.path
            ));
        }
        for (path, bytes, _) in &other.assets {
            match base.assets.iter().find(|(p, _, _)| p == path) {
                Some((_, mine, _)) if mine != bytes => differences.push(format!(
                    "`{path}` differs between `{}` and `{}`",
                    base.path, other.path
                )),
                Some(_) => {}
                None => differences.push(format!(
                    "`{path}` is in `{}` but not in `{}`",
                    other.path, base.path
                )),
            }
        }
    }
    if added {
        base.verbatim = None;
    }
    (base, differences)
}

/// Two values of `key` mean the same: names compare as aiwg normalises them, lists and
/// comma-separated text item by item.
fn same_value(key: &str, a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let items = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or(i.to_string(), |s| s.trim().to_string()))
                .collect(),
            Value::String(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
            other => vec![other.to_string()],
        }
    };
    match key {
        "name" => {
            let norm = |v: &Value| v.as_str().map(aiwg_core::validate::normalise_name);
            norm(a) == norm(b)
        }
        "tools" | "globs" | "paths" | "applyTo" | "allowed-tools" => items(a) == items(b),
        _ => false,
    }
}

fn short(v: &Value) -> String {
    let text = match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}…`")
    } else {
        text
    }
}

/// Adds the source files of `found` to the outcome: new ones to write, the same bytes as
/// unchanged, different bytes as a clash.
fn decide(repo: &mut Repo, existing: &Existing, found: &Found, outcome: &mut Outcome) {
    let mut files = vec![(found.source_path(), found.source_text().into_bytes(), false)];
    if found.kind == Kind::Skill {
        let dir = format!("skills/{}", found.name);
        for (path, bytes, exec) in &found.assets {
            files.push((format!("{dir}/{path}"), bytes.clone(), *exec));
        }
    }
    for (rel, bytes, exec) in files {
        let path = format!("{}/{rel}", existing.target);
        if repo.is_dir(&path) {
            outcome.clashes.push((
                path,
                format!("a folder is there; `{}` not imported", found.path),
            ));
            continue;
        }
        let cap = aiwg_core::source::MAX_ASSET_BYTES;
        match repo.is_file(&path).then(|| repo.read(&path, cap)).flatten() {
            Some(current) if current == bytes => outcome.unchanged.push(path),
            Some(_) => outcome.clashes.push((
                path,
                format!("exists with other content; `{}` not imported", found.path),
            )),
            None if repo.is_file(&path) => outcome
                .clashes
                .push((path, "exists and cannot be read; not overwritten".into())),
            None => outcome.writes.push((path, bytes, exec)),
        }
    }
}

/// The agents, commands, rules and skills of one platform.
fn scan_platform(
    repo: &mut Repo,
    platform: &PlatformSpec,
    existing: &Existing,
    found: &mut Vec<Found>,
    outcome: &mut Outcome,
    skills_read: &mut Vec<String>,
) {
    let scope = aiwg_core::target::Scope::Project;
    for (kind, spec) in convert::file_kinds(platform) {
        let Some(pattern) = spec.path(scope) else {
            continue;
        };
        let Some((prefix, suffix)) = pattern.split_once("{name}") else {
            continue;
        };
        let Some(dir) = prefix.strip_suffix('/') else {
            continue;
        };
        if !repo.is_dir(dir) {
            continue;
        }
        if !convert::readable(spec) {
            outcome.notes.push(format!(
                "{}: {kind}s in `{dir}` are in a format import does not read yet; not imported",
                platform.id
            ));
            continue;
        }
        for entry in repo.list(dir) {
            if entry.is_dir && !suffix.starts_with('/') {
                outcome.skipped.push((
                    entry.rel.clone(),
                    format!("a folder in `{dir}`: aiwg writes {kind}s flat, so import reads only the files directly in it"),
                ));
                continue;
            }
            let (stem, main) = match suffix.strip_prefix('/') {
                Some(file) if entry.is_dir => (entry.name.clone(), format!("{}/{file}", entry.rel)),
                None if !entry.is_dir => match entry.name.strip_suffix(suffix) {
                    Some(stem) if !stem.is_empty() => (stem.to_string(), entry.rel.clone()),
                    _ => continue,
                },
                _ => continue,
            };
            if existing.managed.contains(&main) {
                outcome.managed += 1;
                continue;
            }
            let Some(text) = repo.read_text(&main) else {
                continue;
            };
            let result =
                convert::from_file(platform, kind, spec, &main, &stem, &text).map(|mut f| {
                    convert::tiers_back(&mut f, existing.tiers.get(&platform.id));
                    f
                });
            match result {
                Ok(f) => {
                    if f.name != convert::source_name(kind, &stem) {
                        outcome.notes.push(format!(
                            "`{main}` is named `{}`: aiwg writes it as {kind} `{}`, and the file by its old name stays (delete it after `aiwg apply`)",
                            f.name, f.name
                        ));
                    }
                    found.push(f);
                }
                Err(why) => outcome.skipped.push((main, why)),
            }
        }
    }
    for dir in platform.skill.reads(scope) {
        if skills_read.iter().any(|d| d == dir) {
            continue;
        }
        skills_read.push(dir.to_string());
        for entry in repo.list(dir) {
            if !entry.is_dir {
                continue;
            }
            let main = format!("{}/SKILL.md", entry.rel);
            if !repo.is_file(&main) {
                continue;
            }
            if existing.managed.contains(&main) {
                outcome.managed += 1;
                continue;
            }
            if let Some(f) = skill(
                repo,
                &platform.id,
                &entry.rel,
                &entry.name,
                &mut outcome.skipped,
            ) {
                found.push(f);
            }
        }
    }
}

/// A skill folder (`<dir>/SKILL.md` and its files) in source form: SKILL.md is already the
/// source format everywhere.
fn skill(
    repo: &mut Repo,
    reader: &str,
    dir: &str,
    name: &str,
    skipped: &mut Vec<(String, String)>,
) -> Option<Found> {
    let main = format!("{dir}/SKILL.md");
    let text = repo.read_text(&main)?;
    let (frontmatter, body) = match convert::split(&text) {
        Ok(split) => split,
        Err(why) => {
            skipped.push((main, why));
            return None;
        }
    };
    let assets = repo
        .read_tree(dir)
        .into_iter()
        .filter(|(p, _, _)| p.as_str() != "SKILL.md")
        .collect();
    Some(Found {
        kind: Kind::Skill,
        name: name.to_string(),
        reader: reader.to_string(),
        path: main,
        frontmatter,
        body,
        assets,
        verbatim: Some(text),
        lossy: Vec::new(),
    })
}

/// The user's own text of an instruction file (AGENTS.md, CLAUDE.md ...): everything outside
/// aiwg's marked sections, less the `@AGENTS.md` import line, as one rule that always applies.
fn instruction_file(
    repo: &mut Repo,
    platform: &PlatformSpec,
    file: &str,
    found: &mut Vec<Found>,
    outcome: &mut Outcome,
) {
    if !repo.is_file(file) {
        return;
    }
    let Some(text) = repo.read_text(file) else {
        return;
    };
    let blocks = match aiwg_deploy::section::parse(&text) {
        Ok(blocks) => blocks,
        Err(why) => {
            outcome
                .skipped
                .push((file.to_string(), format!("aiwg markers: {why}")));
            return;
        }
    };
    let mut own = String::new();
    let mut at = 0;
    for b in &blocks {
        own.push_str(&text[at..b.start]);
        at = b.end;
    }
    own.push_str(&text[at..]);
    let bridge = platform.instructions.bridge.as_deref();
    let own: Vec<&str> = own.lines().filter(|l| Some(l.trim()) != bridge).collect();
    let own = own.join("\n");
    if own.trim().is_empty() {
        return;
    }
    let stem = file.rsplit('/').next().unwrap_or(file);
    let name = aiwg_core::validate::normalise_name(&stem.replace('.', "-"));
    outcome.notes.push(format!(
        "the text of `{file}` becomes rule `{name}`; it stays in `{file}` too: delete it there after `aiwg apply`, or the platforms read it twice"
    ));
    let mut frontmatter = Map::new();
    frontmatter.insert(
        "description".into(),
        Value::String(format!("The project instructions from {stem}")),
    );
    frontmatter.insert("always".into(), Value::Bool(true));
    let reader = format!("instructions:{}", platform.id);
    let body = format!("\n{}\n", own.trim());
    found.push(Found::new(
        Kind::Rule,
        &name,
        reader,
        file,
        frontmatter,
        body,
    ));
}

/// rulesync's `.rulesync/{rules,commands,subagents,skills}`: its generic keys kept, its
/// `claudecode:` block lifted to the top (those are Claude Code's own keys, which aiwg keeps),
/// `root`/`globs: ["**/*"]` read as a rule that always applies; `targets` and other tools'
/// blocks are not imported (said once).
fn scan_rulesync(repo: &mut Repo, found: &mut Vec<Found>, outcome: &mut Outcome) {
    let mut dropped: Vec<String> = Vec::new();
    for (folder, kind) in [
        (".rulesync/rules", Kind::Rule),
        (".rulesync/commands", Kind::Command),
        (".rulesync/subagents", Kind::Agent),
    ] {
        for entry in repo.list(folder) {
            let Some(stem) = entry.name.strip_suffix(".md").filter(|_| !entry.is_dir) else {
                continue;
            };
            let Some(text) = repo.read_text(&entry.rel) else {
                continue;
            };
            let (fm, body) = match convert::split(&text) {
                Ok(split) => split,
                Err(why) => {
                    outcome.skipped.push((entry.rel, why));
                    continue;
                }
            };
            let fm = rulesync_keys(kind, fm, &mut dropped);
            let raw = fm
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(stem)
                .to_string();
            found.push(Found::new(kind, &raw, "rulesync", entry.rel, fm, body));
        }
    }
    for entry in repo.list(".rulesync/skills") {
        if entry.is_dir && repo.is_file(&format!("{}/SKILL.md", entry.rel)) {
            if let Some(mut f) = skill(
                repo,
                "rulesync",
                &entry.rel,
                &entry.name,
                &mut outcome.skipped,
            ) {
                f.frontmatter = rulesync_keys(Kind::Skill, f.frontmatter, &mut dropped);
                f.verbatim = None;
                found.push(f);
            }
        }
    }
    if !dropped.is_empty() {
        dropped.sort();
        dropped.dedup();
        outcome.notes.push(format!(
            "rulesync keys not imported (aiwg deploys every artifact to every selected platform; `exclude` in aiwg.toml leaves some out): {}",
            dropped.join(", ")
        ));
    }
}

/// rulesync frontmatter in aiwg's terms (see [`scan_rulesync`]).
fn rulesync_keys(
    kind: Kind,
    fm: Map<String, Value>,
    dropped: &mut Vec<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let mut always = false;
    for (key, value) in fm {
        match key.as_str() {
            "name"
            | "description"
            | "argument-hint"
            | "license"
            | "compatibility"
            | "metadata"
            | "allowed-tools"
            | "disable-model-invocation"
            | "user-invocable" => {
                out.insert(key, value);
            }
            "root" if kind == Kind::Rule => always |= value == Value::Bool(true),
            "globs" if kind == Kind::Rule => {
                let globs: Vec<&str> = value
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if globs.is_empty() || globs == ["**/*"] {
                    always = true;
                } else {
                    out.insert(key, value);
                }
            }
            "claudecode" => {
                if let Value::Object(block) = value {
                    for (k, v) in block {
                        out.entry(k).or_insert(v);
                    }
                }
            }
            _ => dropped.push(format!("`{key}`")),
        }
    }
    if always {
        out.insert("always".into(), Value::Bool(true));
    }
    out
}

/// ruler's `.ruler/`: every Markdown file (at any depth, `skills/` aside) is a rule for every
/// request, as ruler concatenates them; `.ruler/skills/<name>/` are skills.
fn scan_ruler(repo: &mut Repo, found: &mut Vec<Found>, outcome: &mut Outcome) {
    let mut pending = vec![".ruler".to_string()];
    while let Some(dir) = pending.pop() {
        for entry in repo.list(&dir) {
            if entry.is_dir {
                if entry.rel == ".ruler/skills" {
                    for skill_dir in repo.list(&entry.rel) {
                        let main = format!("{}/SKILL.md", skill_dir.rel);
                        if skill_dir.is_dir && repo.is_file(&main) {
                            if let Some(f) = skill(
                                repo,
                                "ruler",
                                &skill_dir.rel,
                                &skill_dir.name,
                                &mut outcome.skipped,
                            ) {
                                found.push(f);
                            }
                        }
                    }
                } else if entry.rel.matches('/').count() < 8 {
                    pending.push(entry.rel);
                }
                continue;
            }
            let Some(stem) = entry.name.strip_suffix(".md") else {
                continue;
            };
            let Some(text) = repo.read_text(&entry.rel) else {
                continue;
            };
            let (mut fm, body) = match convert::split(&text) {
                Ok(split) => split,
                Err(why) => {
                    outcome.skipped.push((entry.rel, why));
                    continue;
                }
            };
            if !fm.contains_key("globs") {
                fm.insert("always".into(), Value::Bool(true));
            }
            found.push(Found::new(Kind::Rule, stem, "ruler", entry.rel, fm, body));
        }
    }
}
