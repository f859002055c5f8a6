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

/// A project with two agents, a skill and a rule in `.aiwg/`, and `aiwg.toml` = `config`.
fn project_with(config: &str) -> Test {
    let t = git_repo();
    t.write(
        ".aiwg/agents/legacy-old.md",
        "---\nname: legacy-old\ndescription: The old reviewer.\n---\n\nReview the old way.\n",
    )
    .write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews changes.\n---\n\nReview the change.\n",
    )
    .write(
        ".aiwg/skills/pdf/SKILL.md",
        "---\nname: pdf\ndescription: Reads PDF files.\n---\n\nRead the PDF.\n",
    )
    .write(
        ".aiwg/rules/style.md",
        "---\ndescription: House style.\n---\n\nWrite short sentences.\n",
    )
    .write("aiwg.toml", config);
    t
}

#[test]
fn excludes_leave_artifacts_out_globally_and_per_platform() {
    let t = project_with(
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\nexclude = [\"agent:legacy-*\"]\n\n[platform.openai]\nexclude = [\"skill:pdf\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists(".claude/agents/reviewer.md"), "{err}");
    assert!(t.exists(".codex/agents/reviewer.toml"), "{err}");
    assert!(!t.exists(".claude/agents/legacy-old.md"));
    assert!(!t.exists(".codex/agents/legacy-old.toml"));
    assert!(
        t.exists(".claude/skills/pdf/SKILL.md"),
        "claude-code keeps the skill"
    );
    assert!(
        !t.exists(".agents/skills/pdf/SKILL.md"),
        "codex (alias openai) does not"
    );
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
    // Dropping the exclude deploys it: the config is read every run.
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n",
    );
    let (code, _, _) = t.run(&["check"]);
    assert_eq!(code, 1);
    t.run(&["apply"]);
    assert!(t.exists(".claude/agents/legacy-old.md"));
    assert!(t.exists(".agents/skills/pdf/SKILL.md"));
}

#[test]
fn bad_excludes_are_errors_with_their_line_and_unmatched_ones_warnings() {
    let base = "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n";
    let t = project_with(&format!("{base}exclude = [\"agent:[legacy\"]\n"));
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("aiwg.toml:3: "), "{err}");
    assert!(err.contains("`[legacy` is not a glob"), "{err}");
    assert!(!t.exists(".claude"), "nothing deployed");

    t.write("aiwg.toml", &format!("{base}exclude = [\"widget:x\"]\n"));
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown kind `widget`"), "{err}");

    t.write(
        "aiwg.toml",
        &format!("{base}[platform.codx]\nexclude = [\"agent:x\"]\n"),
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`[platform.codx]`") && err.contains("codex"),
        "{err}"
    );

    t.write(
        "aiwg.toml",
        &format!("{base}exclude = [\"agent:nothing-*\"]\n"),
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: aiwg.toml: `agent:nothing-*` in `exclude` matches no artifact"),
        "{err}"
    );
}

#[test]
fn a_per_platform_exclude_on_a_shared_file_is_refused_not_picked() {
    // Codex and OpenCode both read the rules section of AGENTS.md.
    let t = project_with(
        "sources = [\".aiwg\"]\nplatforms = [\"codex\", \"opencode\"]\n[platform.codex]\nexclude = [\"rule:style\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("AGENTS.md"), "{err}");
    assert!(err.contains("same excludes"), "{err}");
    assert!(!t.exists("AGENTS.md"));
    // Codex and Cursor both read `.agents/skills`.
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"codex\", \"cursor\"]\n[platform.codex]\nexclude = [\"skill:pdf\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`.agents/skills/pdf/SKILL.md`"), "{err}");
    assert!(!t.exists(".agents"));
}

#[test]
fn rule_globs_are_checked() {
    let t = git_repo();
    t.write(
        ".aiwg/rules/ts.md",
        "---\ndescription: TS rules.\nglobs: [\"src/[.ts\", \"src/**.{ts\", \"src/*.{ts,tsx}\"]\n---\n\nUse strict mode.\n",
    )
    .write(
        ".aiwg/rules/cursor-style.md",
        "---\ndescription: Cursor style, one line.\nglobs: src/*.{ts,tsx}, lib/**\n---\n\nFine.\n",
    );
    let (code, out, _) = t.run(&["validate"]);
    assert_eq!(code, 2, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 2, "{out}");
    assert!(
        errors[0].contains(".aiwg/rules/ts.md:3: error: `globs` glob `src/[.ts` is not a glob"),
        "{out}"
    );
    assert!(errors[1].contains("`src/**.{ts` is not a glob"), "{out}");
}
