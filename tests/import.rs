//! Moving to aiwg: the Node aiwg framework's real-world frontmatter loads whole, and the
//! deployed copies are strict YAML.

use std::path::Path;

use crate::support::{repo_root, Test};

const ODDITIES: &str = "tests/fixtures/node-aiwg-frontmatter";

fn git_repo() -> Test {
    let t = Test::new();
    std::fs::create_dir_all(t.root().join(".git")).unwrap();
    t
}

/// Every file under `dir` (relative to it), sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn node_aiwg_frontmatter_oddities_load_with_a_warning_and_a_fix_each() {
    let t = Test::new();
    let out = t
        .aiwg(&["validate", ODDITIES])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.lines().all(|l| !l.contains(": error:")), "{stdout}");
    for (file, text) in [
        ("quoted-hint.md:4", "read as the text `<topic> [--deep] [--guidance \"text\"]`"),
        ("quoted-plain.md:4", "read as the text `<feature description> [output-path] [--guidance \"text\"]`"),
        ("bracket-words.md:4", "read as the text `[change-kind] [change-id] [--guidance \"text\"] [--interactive]`"),
        ("one-item-list.md:4", "is a list in strict YAML; read as the text `[project-directory --interactive --guidance \"text\"]`"),
        ("order-after-hint.md:5", "read as the text `[project-directory] [--iteration N] [--guidance \"text\"]`"),
        ("tool-patterns.md:4", "read as the text `[--commit <sha>] [--since <count>] [--dry-run]`"),
    ] {
        let line = stdout
            .lines()
            .position(|l| l.contains(file) && l.contains(text))
            .unwrap_or_else(|| panic!("no warning `{file}: ... {text}` in\n{stdout}"));
        let hint = stdout.lines().nth(line + 1).unwrap_or_default();
        // The fix is strict YAML that reads as the same text.
        let fix = hint
            .strip_prefix("  hint: write `")
            .and_then(|h| h.strip_suffix("` so every YAML reader agrees"))
            .unwrap_or_else(|| panic!("{hint}"));
        let fm = aiwg_core::frontmatter::parse(fix, 1).unwrap();
        let want = text.rsplit_once("read as the text `").unwrap().1;
        assert_eq!(fm.str("argument-hint").as_deref(), want.strip_suffix('`'));
    }
    assert!(stderr.contains("11 artifacts: 0 errors"), "{stderr}");
}

#[test]
fn the_node_aiwg_oddities_deploy_whole_as_strict_yaml() {
    let t = git_repo();
    let fixture = repo_root().join(ODDITIES);
    let spec = format!("node@{}", fixture.display());
    let (code, _, err) = t.run(&[
        "use",
        &spec,
        "--platforms",
        "claude-code,cursor,copilot,codex",
    ]);
    assert_eq!(code, 0, "{err}");
    let claude = t.root().join(".claude");
    let count = |kind: &str| files_under(&claude.join(kind)).len();
    assert_eq!(
        (
            count("agents"),
            count("commands"),
            count("skills"),
            count("rules")
        ),
        (2, 6, 1, 2),
        "{:?}",
        files_under(&claude)
    );
    let hint = t.read(".claude/commands/quoted-hint.md");
    assert!(
        hint.contains("argument-hint: <topic> [--deep] [--guidance \"text\"]\n"),
        "{hint}"
    );
    // Every Markdown file aiwg wrote has frontmatter strict YAML reads.
    let mut checked = 0;
    for rel in files_under(&t.root()) {
        if !(rel.ends_with(".md") || rel.ends_with(".mdc")) || rel.starts_with(".git") {
            continue;
        }
        let text = t.read(&rel);
        let split = aiwg_core::frontmatter::split(&text).unwrap();
        if let Some(yaml) = split.yaml {
            aiwg_core::frontmatter::parse(yaml, split.yaml_line)
                .unwrap_or_else(|e| panic!("{rel}: {e:?}\n{yaml}"));
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
}
