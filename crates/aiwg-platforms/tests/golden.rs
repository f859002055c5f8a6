//! Golden tests: one fixture source with every kind, rendered for every platform in both
//! scopes; each platform's whole output tree is one reviewable snapshot
//! (`tests/snapshots/golden__<platform>-<scope>.snap`). Every rendered TOML, JSON and YAML
//! file and every frontmatter block is parsed back before the snapshot is compared.
//!
//! Accept new or changed snapshots with `INSTA_UPDATE=always cargo test -p aiwg-platforms`
//! (or `cargo insta review`), then read the diff before committing.

use std::path::Path;

use aiwg_core::source::{load, SourceTree};
use aiwg_core::target::{Desired, Scope, TargetState};
use aiwg_core::Model;
use aiwg_platforms::{render, Notice, NoticeLevel, PlatformSpec, Registry, RenderOptions};

fn fixture() -> Model {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden-source");
    let (tree, diags) = SourceTree::read_dir("golden", &root);
    assert!(diags.is_empty(), "{diags:?}");
    let loaded = load(&tree);
    // Runbook lint warnings (an Audit Trail, an escalation rule) are not the render's business.
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity == aiwg_core::Severity::Warning
                && d.path.to_string_lossy().contains("runbooks")),
        "{:?}",
        loaded.diagnostics
    );
    let kinds: std::collections::BTreeSet<_> = loaded.artifacts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds.len(), 7, "the fixture has every kind");
    Model {
        artifacts: loaded.artifacts,
    }
}

/// Parses back every file whose format aiwg produced, failing with the path on error.
fn parse_back(target: &TargetState) {
    for e in target.entries() {
        let path = e.path.as_str();
        match &e.desired {
            Desired::File { bytes, .. } => {
                let Ok(text) = std::str::from_utf8(bytes) else {
                    continue;
                };
                if path.ends_with(".toml") {
                    toml::from_str::<toml::Table>(text)
                        .unwrap_or_else(|err| panic!("{path}: TOML does not parse: {err}"));
                } else if path.ends_with(".json") {
                    serde_json::from_str::<serde_json::Value>(text)
                        .unwrap_or_else(|err| panic!("{path}: JSON does not parse: {err}"));
                } else if path.ends_with(".yaml") || path.ends_with(".yml") {
                    aiwg_core::frontmatter::parse(text, 1)
                        .unwrap_or_else(|err| panic!("{path}: YAML does not parse: {err:?}"));
                } else if path.ends_with(".md") || path.ends_with(".mdc") {
                    let split = aiwg_core::frontmatter::split(text)
                        .unwrap_or_else(|err| panic!("{path}: frontmatter: {err:?}"));
                    if let Some(yaml) = split.yaml {
                        let fm = aiwg_core::frontmatter::parse(yaml, split.yaml_line)
                            .unwrap_or_else(|err| panic!("{path}: frontmatter YAML: {err:?}"));
                        assert!(!fm.entries.is_empty(), "{path}: empty frontmatter block");
                        // Single-line keys only (OpenClaw's loader reads nothing else).
                        assert!(
                            yaml.lines()
                                .all(|l| !l.starts_with(' ') && !l.starts_with('-')),
                            "{path}: frontmatter spans lines:\n{yaml}"
                        );
                    }
                }
            }
            Desired::Section { text, .. } => {
                assert!(
                    !text.contains("<!-- aiwg:"),
                    "{path}: section holds a marker"
                );
            }
            Desired::Digest { .. } => panic!("{path}: a held render keeps every byte"),
            Desired::Merge { entries, format } => {
                for m in entries {
                    let json = serde_json::to_string(&m.value).expect("merge values serialise");
                    serde_json::from_str::<serde_json::Value>(&json)
                        .unwrap_or_else(|err| panic!("{path}: merged JSON does not parse: {err}"));
                    if *format == aiwg_core::target::ConfigFormat::Toml {
                        let mut doc = toml::Table::new();
                        doc.insert(
                            m.key.join("."),
                            toml::Value::try_from(&m.value)
                                .unwrap_or_else(|err| panic!("{path}: not TOML: {err}")),
                        );
                        toml::from_str::<toml::Table>(&toml::to_string(&doc).unwrap())
                            .unwrap_or_else(|err| {
                                panic!("{path}: merged TOML does not parse: {err}")
                            });
                    }
                }
            }
        }
    }
}

/// The whole output tree as one document: notices, then every entry with its content.
fn document(title: &str, target: &TargetState, notices: &[Notice]) -> String {
    let mut out = format!("# {title}\n\n## notices\n");
    if notices.is_empty() {
        out.push_str("(none)\n");
    }
    for n in notices {
        let kind = n.kind.map(|k| format!(" [{k}]")).unwrap_or_default();
        let level = match n.level {
            NoticeLevel::Info => "info",
            NoticeLevel::Warning => "warning",
        };
        out.push_str(&format!("- {level}{kind}: {}\n", n.message));
    }
    out.push_str("\n## tree\n");
    for e in target.entries() {
        match &e.desired {
            Desired::File { bytes, executable } => {
                let exec = if *executable { ", executable" } else { "" };
                out.push_str(&format!("\n=== {} (file{exec})\n", e.path));
                out.push_str(&String::from_utf8_lossy(bytes));
            }
            Desired::Section { id, text } => {
                out.push_str(&format!("\n=== {} (section `{id}`)\n", e.path));
                out.push_str(text);
            }
            Desired::Digest { .. } => panic!("{}: a held render keeps every byte", e.path),
            Desired::Merge { format, entries } => {
                out.push_str(&format!("\n=== {} (merge {format:?})\n", e.path));
                for m in entries {
                    let op = if m.append { "append to" } else { "set" };
                    out.push_str(&format!(
                        "{op} {}: {}\n",
                        m.key.join("."),
                        serde_json::to_string(&m.value).unwrap()
                    ));
                }
            }
        }
    }
    out
}

fn render_one(
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
) -> (TargetState, Vec<Notice>) {
    let r = render(model, platforms, scope, &RenderOptions::default())
        .unwrap_or_else(|e| panic!("render failed: {e}"));
    parse_back(&r.target);
    (r.target, r.notices)
}

#[test]
fn every_platform_in_both_scopes() {
    let model = fixture();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for p in Registry::builtin().all() {
            for scope in [Scope::Project, Scope::User] {
                let (target, notices) = render_one(&model, &[p], scope);
                let title = format!("{} ({}), {scope} scope", p.name, p.id);
                insta::assert_snapshot!(
                    format!("{}-{scope}", p.id),
                    document(&title, &target, &notices)
                );
            }
        }
    });
}

/// Every platform at once: nothing clashes, and the tree shows the sharing (one
/// `.agents/skills` copy, one AGENTS.md section per purpose, the CLAUDE.md bridge).
#[test]
fn all_platforms_together() {
    let model = fixture();
    let all: Vec<&PlatformSpec> = Registry::builtin().all().iter().collect();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for scope in [Scope::Project, Scope::User] {
            let (target, notices) = render_one(&model, &all, scope);
            let mut out = format!(
                "# every platform, {scope} scope: paths and who wants them\n\n## notices\n"
            );
            for n in &notices {
                out.push_str(&format!("- {n}\n"));
            }
            out.push_str("\n## paths\n");
            for e in target.entries() {
                let part = e.desired.part();
                let part = if part.is_whole() {
                    String::new()
                } else {
                    format!(" [{part}]")
                };
                out.push_str(&format!(
                    "{}{part} <- {}\n",
                    e.path,
                    e.origin.platforms.join(", ")
                ));
            }
            insta::assert_snapshot!(format!("all-platforms-{scope}"), out);
        }
    });
}

#[test]
fn rendering_is_deterministic() {
    let model = fixture();
    let all: Vec<&PlatformSpec> = Registry::builtin().all().iter().collect();
    let mut reversed = all.clone();
    reversed.reverse();
    let a = render(&model, &all, Scope::Project, &RenderOptions::default()).unwrap();
    let b = render(&model, &reversed, Scope::Project, &RenderOptions::default()).unwrap();
    assert_eq!(a, b);
}

/// A render that keeps only digests, or streams each file to a sink, gives the held render's
/// target state with each file's bytes replaced by their digest, and streams each whole file
/// exactly once with those bytes.
#[test]
fn digest_and_streamed_renders_match_the_held_render() {
    use aiwg_platforms::{render_bodies, Bodies};
    let model = fixture();
    let all: Vec<&PlatformSpec> = Registry::builtin().all().iter().collect();
    // Client home variables set: a folder several platforms read lands in a different place
    // for the one whose home moved (each platform's copy is rebased on its own).
    let mut moved = RenderOptions::default();
    for (var, to) in [
        ("CLAUDE_CONFIG_DIR", "cfg/claude"),
        ("COPILOT_HOME", "cfg/copilot"),
        ("CODEX_HOME", ""),
    ] {
        moved.homes.insert(var.into(), to.into());
    }
    let cases = [
        (Scope::Project, RenderOptions::default()),
        (Scope::User, RenderOptions::default()),
        (Scope::User, moved),
    ];
    for (scope, options) in cases {
        let held = render(&model, &all, scope, &options).unwrap();
        let mut want = TargetState::new();
        for e in held.target.entries() {
            let mut e = e.clone();
            e.desired = e.desired.digested();
            want.insert(e).unwrap();
        }
        let digest = render_bodies(&model, &all, scope, &options, Bodies::Digest).unwrap();
        assert_eq!(digest.target, want, "{scope}");
        assert_eq!(digest.notices, held.notices, "{scope}");
        let mut streamed = std::collections::BTreeMap::new();
        let mut order = Vec::new();
        let mut sink = |path: &aiwg_core::RelPath, bytes: &[u8], executable: bool| {
            let file = (bytes.to_vec(), executable);
            // A path wanted by several platforms comes once for each, with the same bytes.
            match streamed.get(path.as_str()) {
                Some(first) => assert_eq!(*first, file, "`{path}` streamed with other bytes"),
                None => {
                    let sha = aiwg_core::target::sha256_hex(bytes);
                    order.push((path.clone(), sha, file.0.clone(), executable));
                    streamed.insert(path.to_string(), file);
                }
            }
        };
        let r = render_bodies(&model, &all, scope, &options, Bodies::Stream(&mut sink)).unwrap();
        // A streaming render keeps no whole file: only merged keys, and where each section
        // goes without its text (the plan of the first render writes it).
        let parts: Vec<_> = want
            .entries()
            .filter(|e| !e.desired.part().is_whole())
            .map(|e| match &e.desired {
                Desired::Section { id, .. } => aiwg_core::target::TargetEntry {
                    desired: Desired::Section {
                        id: id.clone(),
                        text: String::new(),
                    },
                    ..e.clone()
                },
                _ => e.clone(),
            })
            .collect();
        assert!(
            parts
                .iter()
                .any(|e| matches!(e.desired, Desired::Section { .. })),
            "{scope}: sections to compare"
        );
        assert!(
            r.target.entries().eq(parts.iter()),
            "{scope}: a streaming render keeps no whole file and no section text"
        );
        let files: std::collections::BTreeMap<String, (Vec<u8>, bool)> = held
            .target
            .entries()
            .filter_map(|e| match &e.desired {
                Desired::File { bytes, executable } => {
                    Some((e.path.to_string(), (bytes.clone(), *executable)))
                }
                _ => None,
            })
            .collect();
        assert!(files.len() > 50, "{scope}: {} files", files.len());
        assert_eq!(streamed, files, "{scope}");
        // A render that holds what fits its budget: the digest render's target, and, when the
        // whole output fits, the files the streamed render hands out, in the same order.
        // The budget is one ceiling for the held files and the model beside them: what a
        // render without limit used fits, the output with the model's bytes less one does not.
        let total: usize = order.iter().map(|(_, _, bytes, _)| bytes.len()).sum();
        let model_bytes: usize = model
            .artifacts
            .iter()
            .map(|a| a.body.len() + a.assets.iter().map(|x| x.bytes.len()).sum::<usize>())
            .sum();
        let mut unlimited = aiwg_platforms::Held::new(usize::MAX);
        render_bodies(&model, &all, scope, &options, Bodies::Hold(&mut unlimited)).unwrap();
        let used = unlimited.used();
        assert!(used >= total + model_bytes, "{scope}: {used}");
        let under = total + model_bytes - 1;
        for (budget, fits) in [(used, true), (under, false), (total, false), (0, false)] {
            let mut kept = aiwg_platforms::Held::new(budget);
            let r = render_bodies(&model, &all, scope, &options, Bodies::Hold(&mut kept)).unwrap();
            assert_eq!(r.target, want, "{scope}, budget {budget}");
            assert_eq!(r.notices, held.notices, "{scope}, budget {budget}");
            let got: Option<Vec<_>> = kept.files().map(|files| {
                files
                    .map(|(p, sha, bytes, x)| (p.clone(), sha.to_string(), bytes.to_vec(), x))
                    .collect()
            });
            match fits {
                true => {
                    assert_eq!(got.as_ref(), Some(&order), "{scope}");
                    assert!(kept.used() <= budget, "{scope}: {} > {budget}", kept.used());
                }
                false => assert!(got.is_none(), "{scope}, budget {budget}"),
            }
        }
    }
}

/// The bundled frameworks render for every platform at once in both scopes: no clash, every
/// produced file parses back.
#[test]
fn bundled_content_renders_for_every_platform() {
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
    let mut artifacts = Vec::new();
    for (name, dir) in [("sdlc", "frameworks/sdlc"), ("stream", "extensions/stream")] {
        let (tree, _) = SourceTree::read_dir(name, &content.join(dir));
        let loaded = load(&tree);
        assert!(
            loaded.diagnostics.iter().all(|d| !d.is_error()),
            "{:?}",
            loaded.diagnostics
        );
        artifacts.extend(loaded.artifacts);
    }
    assert!(artifacts.len() > 20, "the bundled content is there");
    let model = Model { artifacts };
    let all: Vec<&PlatformSpec> = Registry::builtin().all().iter().collect();
    for scope in [Scope::Project, Scope::User] {
        let (target, _) = render_one(&model, &all, scope);
        assert!(target.len() > 100, "{scope}: {}", target.len());
    }
}

/// How many copies of `a` sit in `place` (a `{name}` pattern, an instruction file holding
/// sections, or a skills folder). A runbook's index entry in a section is not a copy.
fn copies_in(target: &TargetState, a: &aiwg_core::Artifact, place: &str) -> usize {
    let id = a.id();
    if a.kind == aiwg_core::Kind::Mcp && !place.contains("{name}") {
        // An MCP server is a merged key `<servers key>.<name>` in the file (or, in a
        // `{name}` place, a whole file of its own).
        return target
            .entries()
            .filter(|e| e.path.as_str() == place)
            .map(|e| match &e.desired {
                Desired::Merge { entries, .. } => entries
                    .iter()
                    .filter(|m| m.key.last() == Some(&a.name))
                    .count(),
                _ => 0,
            })
            .sum();
    }
    if place.contains("{name}") {
        let path = place.replace("{name}", &a.name);
        let hit = target.entries().any(|e| {
            *e.origin.artifact == *id
                && (e.path.as_str() == path || e.path.as_str().starts_with(&format!("{path}/")))
        });
        return usize::from(hit);
    }
    let title = match a.kind {
        aiwg_core::Kind::Agent => "Agent",
        aiwg_core::Kind::Rule => "Rule",
        aiwg_core::Kind::Runbook => "Runbook",
        aiwg_core::Kind::Command => "Command",
        _ => "",
    };
    let heading = format!("## {title}: {}\n\n", a.name);
    let mut n = 0;
    for e in target.entries() {
        match &e.desired {
            Desired::Section { id: section, text }
                if e.path.as_str() == place
                    && section.ends_with(&format!(":{}", a.kind.folder())) =>
            {
                if let Some(at) = text.find(&heading) {
                    let rest = &text[at + heading.len()..];
                    let entry = rest.split("\n## ").next().unwrap_or(rest);
                    if !entry
                        .contains("before carrying out this procedure: it holds the full runbook")
                    {
                        n += 1;
                    }
                }
            }
            _ if e.path.as_str() == format!("{place}/{}/SKILL.md", a.name)
                && *e.origin.artifact == *id =>
            {
                n += 1
            }
            _ => {}
        }
    }
    n
}

/// The planner's guarantee, over random platform selections: no selected platform's declared
/// reader set (`reads` and `also_sees` of its resolved placement) holds an artifact twice
/// unless a warning about that platform and kind says so. Every other round one selected
/// platform leaves a random artifact out (`[platform.<id>] exclude`): then that platform holds
/// no copy of it in the places it relies on (or the render refuses), and the others still see
/// everything once or are told.
#[test]
fn each_selected_platform_sees_each_artifact_once_or_is_told() {
    let model = fixture();
    let all: Vec<&PlatformSpec> = Registry::builtin().all().iter().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut planned, mut refused, mut servers_seen) = (0, 0, 0);
    for round in 0..300 {
        let size = 1 + (next() % 8) as usize;
        let mut chosen: Vec<&PlatformSpec> = Vec::new();
        while chosen.len() < size {
            let p = all[(next() % all.len() as u64) as usize];
            if !chosen.iter().any(|c| c.id == p.id) {
                chosen.push(p);
            }
        }
        let scope = if round % 2 == 0 {
            Scope::Project
        } else {
            Scope::User
        };
        let mut options = RenderOptions::default();
        let mut left_out: Option<(&str, &aiwg_core::Artifact)> = None;
        if round % 4 >= 2 {
            let p = chosen[(next() % chosen.len() as u64) as usize];
            let a = &model.artifacts[(next() % model.artifacts.len() as u64) as usize];
            let pattern = format!("{}:{}", a.kind, a.name);
            options.exclude.insert(
                p.id.clone(),
                vec![aiwg_core::exclude::ArtifactPattern::parse(&pattern).unwrap()],
            );
            left_out = Some((p.id.as_str(), a));
        }
        let r = match render(&model, &chosen, scope, &options) {
            Ok(r) => r,
            Err(e @ aiwg_platforms::RenderError::Excluded { .. }) => {
                refused += 1;
                // The refusal names a place the excluding platform relies on.
                let (id, a) = left_out.expect("only an exclude is refused");
                let aiwg_platforms::RenderError::Excluded {
                    platform, place, ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!(platform, id, "{e}");
                let resolved =
                    aiwg_platforms::placement::resolve(Registry::builtin().get(id).unwrap(), scope);
                // Its places for the kind, or its skills folders for a copy written as a skill.
                let reads = &resolved.get(a.kind).reads;
                let skills = &resolved.get(aiwg_core::Kind::Skill).reads;
                assert!(
                    reads.contains(place) || skills.contains(place),
                    "{e}: {reads:?} {skills:?}"
                );
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        if let Some((id, a)) = left_out {
            planned += 1;
            let p = Registry::builtin().get(id).unwrap();
            let resolved = aiwg_platforms::placement::resolve(p, scope);
            let skills = &resolved.get(aiwg_core::Kind::Skill).reads;
            if a.kind != aiwg_core::Kind::Behavior {
                for place in resolved.get(a.kind).reads.iter().chain(skills) {
                    assert_eq!(
                        copies_in(&r.target, a, place),
                        0,
                        "{scope}: {id} leaves out {} but reads it in `{place}`",
                        a.id()
                    );
                }
            }
        }
        for p in &chosen {
            let resolved = aiwg_platforms::placement::resolve(p, scope);
            for a in &model.artifacts {
                if a.kind == aiwg_core::Kind::Behavior
                    || left_out.is_some_and(|(id, l)| id == p.id && l.id() == a.id())
                {
                    continue;
                }
                let k = resolved.get(a.kind);
                let places: Vec<(&str, usize)> = k
                    .reads
                    .iter()
                    .chain(&k.also_sees)
                    .map(|place| (place.as_str(), copies_in(&r.target, a, place)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                if a.kind == aiwg_core::Kind::Mcp {
                    // Each MCP file belongs to one client of the platform (Copilot in VS Code
                    // reads `.vscode/mcp.json`, Copilot CLI `.mcp.json`): once per file.
                    assert!(
                        places.iter().all(|(_, n)| *n == 1),
                        "{scope}: {} has {} more than once in {places:?}",
                        p.id,
                        a.id()
                    );
                    servers_seen += places.len();
                    continue;
                }
                // A platform that shows one skill per name counts its skills folders once.
                let skill_dirs = &resolved.get(aiwg_core::Kind::Skill).reads;
                let in_skills: usize = places
                    .iter()
                    .filter(|(place, _)| skill_dirs.iter().any(|d| d == place))
                    .map(|(_, n)| n)
                    .sum();
                let elsewhere: usize = places.iter().map(|(_, n)| n).sum::<usize>() - in_skills;
                let total = if p.skill.one_per_name {
                    elsewhere + in_skills.min(1)
                } else {
                    elsewhere + in_skills
                };
                if total > 1 {
                    let told = r.notices.iter().any(|n| {
                        n.platform == p.id
                            && n.kind == Some(a.kind)
                            && n.level == NoticeLevel::Warning
                            && (n.message.contains("twice") || n.message.contains("times"))
                    });
                    let ids: Vec<&str> = chosen.iter().map(|c| c.id.as_str()).collect();
                    assert!(
                        told,
                        "{scope} {ids:?}: {} sees {} {total} times in {places:?} and no warning says so:\n{:#?}",
                        p.id,
                        a.id(),
                        r.notices
                    );
                }
            }
        }
    }
    // Both outcomes happen, so neither branch above is vacuous.
    assert!(
        planned > 50 && refused > 0 && servers_seen > 0,
        "{planned} planned, {refused} refused, {servers_seen} MCP servers seen"
    );
    eprintln!("300 rounds: {planned} with an exclude planned, {refused} refused");
}
