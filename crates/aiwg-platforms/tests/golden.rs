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
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let kinds: std::collections::BTreeSet<_> = loaded.artifacts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds.len(), 6, "the fixture has every kind");
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
            Desired::Merge { entries, .. } => {
                for m in entries {
                    serde_json::to_string(&m.value).expect("merge values serialise");
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
