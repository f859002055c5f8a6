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
    let mut checked = Vec::new();
    for rel in files_under(&t.root()) {
        if !(rel.ends_with(".md") || rel.ends_with(".mdc")) || rel.starts_with(".git/") {
            continue;
        }
        let text = t.read(&rel);
        let split = aiwg_core::frontmatter::split(&text).unwrap();
        if let Some(yaml) = split.yaml {
            aiwg_core::frontmatter::parse(yaml, split.yaml_line)
                .unwrap_or_else(|e| panic!("{rel}: {e:?}\n{yaml}"));
            checked.push(rel);
        }
    }
    for dir in [
        ".claude/agents",
        ".claude/commands",
        ".github/prompts",
        ".cursor/agents",
    ] {
        for file in files_under(&t.root().join(dir)) {
            let rel = format!("{dir}/{file}");
            assert!(
                checked.contains(&rel),
                "{rel} has no frontmatter: {checked:?}"
            );
        }
    }
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
    // Codex and OpenCode both read the rules section of AGENTS.md, OpenCode no other place.
    let t = project_with(
        "sources = [\".aiwg\"]\nplatforms = [\"codex\", \"opencode\"]\n[platform.codex]\nexclude = [\"rule:style\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: `[platform.codex] exclude` leaves out rule `style`, but codex reads `AGENTS.md`, which holds it for opencode"),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: a platform that reads another's files needs the same `[platform.<id>] exclude`"
        ),
        "{err}"
    );
    assert!(!t.exists("AGENTS.md"));
    assert!(!t.exists(".codex"), "nothing written");
}

/// The per-platform exclude is planned with every platform's reader set in one render: the
/// grouped renders it replaced gave each group its own folders, so a platform reading both
/// groups' folders saw every other skill twice, with no warning.
#[test]
fn a_per_platform_exclude_keeps_each_platform_seeing_each_artifact_once() {
    // Codex and Cursor both read `.agents/skills`; Cursor also its own `.cursor/skills`,
    // which Codex never reads: the skill Codex leaves out goes there, the rest stay shared.
    let t = project_with(
        "sources = [\".aiwg\"]\nplatforms = [\"codex\", \"cursor\"]\n[platform.codex]\nexclude = [\"skill:pdf\"]\n",
    );
    t.write(
        ".aiwg/skills/lint/SKILL.md",
        "---\nname: lint\ndescription: Lints.\n---\n\nLint it.\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists(".cursor/skills/pdf/SKILL.md"), "{err}");
    assert!(!t.exists(".agents/skills/pdf"), "codex never reads pdf");
    assert!(t.exists(".agents/skills/lint/SKILL.md"));
    assert!(!t.exists(".cursor/skills/lint"), "cursor reads lint once");
    assert!(!err.contains("warning"), "{err}");
    // Claude Code leaves a skill out; Copilot reads `.claude/skills`: the other skills are
    // written there once for both, the left-out one only where Copilot alone reads.
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"copilot\"]\n[platform.claude-code]\nexclude = [\"skill:pdf\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists(".claude/skills/lint/SKILL.md"), "{err}");
    assert!(!t.exists(".claude/skills/pdf"));
    assert!(t.exists(".agents/skills/pdf/SKILL.md"));
    assert!(!t.exists(".agents/skills/lint"), "copilot sees lint once");
    assert!(!t.exists(".github/skills"));
    assert!(!t.exists(".cursor"), "the old platforms' files are gone");
    assert!(!err.contains("warning"), "{err}");
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
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
        errors[0]
            .contains(".aiwg/rules/ts.md:3: error: glob `src/[.ts` has a `[` that is never closed"),
        "{out}"
    );
    assert!(
        errors[1].contains("`src/**.{ts` has a `{` that is never closed"),
        "{out}"
    );
}

/// Writes `files` (path, text) into the project of `t`.
fn lay_out(t: &Test, files: &[(&str, &str)]) {
    for (path, text) in files {
        t.write(path, text);
    }
}

/// The paths `aiwg plan --json` would touch (anything not `unchanged`), with their action.
fn planned(t: &Test) -> Vec<(String, String)> {
    let (code, out, err) = t.run(&["plan", "--json"]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_string(),
                i["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Imports the layout `files`, then checks the round trip: every file of the layout that the
/// plan does not touch is one aiwg now writes byte for byte (or leaves alone); the ones it
/// touches are exactly `differ` (each a conflict `aiwg diff` shows). A second import writes
/// nothing. Returns the test for more checks.
fn round_trip(files: &[(&str, &str)], from: &str, differ: &[&str]) -> Test {
    let t = git_repo();
    lay_out(&t, files);
    let (code, out, err) = t.run(&["import", "--from", from]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.lines().all(|l| l.starts_with("wrote\t.aiwg/")), "{out}");
    let touched = planned(&t);
    let mut conflicts: Vec<&str> = Vec::new();
    for (path, _) in files {
        if let Some((_, action)) = touched.iter().find(|(p, _)| p == path) {
            assert_eq!(action, "conflict", "{path}: {touched:?}");
            conflicts.push(path);
        }
    }
    assert_eq!(conflicts, differ, "{touched:?}\n{err}");
    let (_, diff, _) = t.run(&["diff"]);
    for path in differ {
        assert!(diff.contains(&format!("b/{path}")), "{path} not in\n{diff}");
    }
    // Import is idempotent: nothing new, nothing overwritten.
    let (code, out, err) = t.run(&["import", "--from", from]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().all(|l| l.starts_with("unchanged\t")), "{out}");
    assert!(err.contains(" 0 files to write"), "{err}");
    // After apply (forcing the files that differ), check is clean and import finds nothing
    // new: what aiwg manages now is left out.
    let (code, _, err) = t.run(&["apply", "--force"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t.run(&["import", "--from", from]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("wrote"), "{out}");
    t
}

const CLAUDE_LAYOUT: &[(&str, &str)] = &[
    (
        ".claude/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews changes before they merge.\ntools: Read, Grep, Glob\nmodel: sonnet\ncolor: blue\n---\n\nReview the change for bugs first, style last.\n",
    ),
    (
        // Keys in another order than aiwg writes them: imported, but not byte-identical.
        ".claude/agents/planner.md",
        "---\ndescription: Plans work in small steps.\nname: planner\nmodel: opus\n---\n\nPlan the work.\n",
    ),
    (
        ".claude/commands/ship.md",
        "---\ndescription: Cut a release\nargument-hint: <version>\nallowed-tools: Bash(git tag:*)\n---\n\nTag and release $ARGUMENTS.\n",
    ),
    (
        ".claude/skills/pdf-notes/SKILL.md",
        "---\nname: pdf-notes\ndescription: Summarises a PDF into notes. Use when given a PDF.\nallowed-tools: Read Bash\n---\n\nRun `scripts/extract.sh` on the file, then summarise.\n",
    ),
    (".claude/skills/pdf-notes/scripts/extract.sh", "#!/bin/sh\npdftotext \"$1\" -\n"),
    (
        ".claude/rules/typescript.md",
        "---\npaths: [src/**/*.ts]\n---\n\nUse strict TypeScript.\n",
    ),
    ("CLAUDE.md", "# Project\n\nWe use pnpm, never npm.\n"),
];

#[test]
fn import_round_trips_a_claude_code_layout() {
    let t = round_trip(CLAUDE_LAYOUT, "claude-code", &[".claude/agents/planner.md"]);
    assert_eq!(
        t.read(".aiwg/agents/reviewer.md"),
        CLAUDE_LAYOUT[0].1,
        "Claude Code files are sources as they are"
    );
    assert!(t
        .read(".aiwg/rules/claude-md.md")
        .contains("We use pnpm, never npm."));
    assert_eq!(
        t.read("CLAUDE.md"),
        CLAUDE_LAYOUT[6].1,
        "the user's file is left alone"
    );
    let config = t.read("aiwg.toml");
    assert!(config.contains("sources = [\".aiwg\"]"), "{config}");
    assert!(config.contains("platforms = [\"claude-code\"]"), "{config}");
}

const CURSOR_LAYOUT: &[(&str, &str)] = &[
    (
        ".cursor/rules/house-style.mdc",
        "---\ndescription: House style\nalwaysApply: true\n---\n\nWrite short sentences.\n",
    ),
    (
        ".cursor/rules/react.mdc",
        "---\ndescription: React components\nglobs: src/**/*.tsx\nalwaysApply: false\n---\n\nUse function components.\n",
    ),
    (
        ".cursor/agents/explainer.md",
        "---\nname: explainer\ndescription: Explains code to newcomers.\n---\n\nExplain the code simply.\n",
    ),
    (".cursor/commands/tidy.md", "Tidy the imports of $ARGUMENTS.\n"),
];

#[test]
fn import_round_trips_a_cursor_layout() {
    let t = round_trip(CURSOR_LAYOUT, "cursor", &[]);
    let rule = t.read(".aiwg/rules/react.md");
    assert!(rule.contains("globs: src/**/*.tsx"), "{rule}");
    assert!(
        !rule.contains("alwaysApply"),
        "activation comes from the globs: {rule}"
    );
    assert!(t
        .read(".aiwg/rules/house-style.md")
        .contains("always: true"));
}

const COPILOT_LAYOUT: &[(&str, &str)] = &[
    (
        ".github/instructions/python.instructions.md",
        "---\ndescription: Python code\napplyTo: \"**/*.py\"\n---\n\nUse type hints.\n",
    ),
    (
        ".github/prompts/explain.prompt.md",
        "---\ndescription: Explain a file\nagent: agent\n---\n\nExplain ${input:arguments} line by line.\n",
    ),
    (
        ".github/agents/auditor.agent.md",
        "---\nname: auditor\ndescription: Audits dependencies.\ntools: [read, execute]\n---\n\nAudit the lock file.\n",
    ),
    (
        ".github/copilot-instructions.md",
        "Answer in English.\n",
    ),
];

#[test]
fn import_round_trips_a_copilot_layout() {
    let t = round_trip(COPILOT_LAYOUT, "copilot", &[]);
    let prompt = t.read(".aiwg/commands/explain.md");
    assert!(
        prompt.contains("Explain $ARGUMENTS line by line."),
        "{prompt}"
    );
    assert!(
        !prompt.contains("agent: agent"),
        "a literal of the template is not a source key: {prompt}"
    );
    let agent = t.read(".aiwg/agents/auditor.md");
    assert!(
        agent.contains("tools: [Read, Bash]"),
        "tool names mapped back: {agent}"
    );
    assert!(t
        .read(".aiwg/rules/copilot-instructions-md.md")
        .contains("Answer in English."));
}

#[test]
fn import_takes_the_users_text_of_agents_md_not_aiwgs_sections() {
    let files: &[(&str, &str)] = &[(
        "AGENTS.md",
        "# Team notes\n\nRun `make test` before pushing.\n\n<!-- aiwg:begin sdlc:rules -->\nNot ours to import.\n<!-- aiwg:end sdlc:rules -->\n",
    )];
    let t = git_repo();
    lay_out(&t, files);
    let (code, out, err) = t.run(&["import", "--from", "codex"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "wrote\t.aiwg/rules/agents-md.md\n", "{err}");
    let rule = t.read(".aiwg/rules/agents-md.md");
    assert!(rule.contains("Run `make test` before pushing."), "{rule}");
    assert!(!rule.contains("Not ours"), "{rule}");
    assert!(err.contains("stays in `AGENTS.md` too"), "{err}");
}

const RULESYNC_LAYOUT: &[(&str, &str)] = &[
    (
        ".rulesync/rules/overview.md",
        "---\nroot: true\ntargets: [\"*\"]\ndescription: Project overview\nglobs: [\"**/*\"]\n---\n\nThis is a Rust workspace.\n",
    ),
    (
        ".rulesync/rules/tests.md",
        "---\ntargets: [claudecode, cursor]\ndescription: Test files\nglobs: [\"tests/**/*.rs\"]\n---\n\nName tests after what they prove.\n",
    ),
    (
        ".rulesync/subagents/planner.md",
        "---\nname: planner\ntargets: [\"*\"]\ndescription: Plans work\nclaudecode:\n  model: opus\n---\n\nPlan the work in steps.\n",
    ),
    (
        ".rulesync/commands/review.md",
        "---\ndescription: Review the diff\ntargets: [\"*\"]\n---\n\nReview $ARGUMENTS.\n",
    ),
    (
        ".rulesync/skills/changelog/SKILL.md",
        "---\nname: changelog\ndescription: Writes changelog entries. Use before a release.\n---\n\nWrite the entry.\n",
    ),
];

#[test]
fn import_reads_rulesync_sources() {
    let t = git_repo();
    lay_out(&t, RULESYNC_LAYOUT);
    let (code, out, err) = t.run(&["import", "--from", "rulesync"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 5, "{out}");
    assert!(t.read(".aiwg/rules/overview.md").contains("always: true"));
    let tests = t.read(".aiwg/rules/tests.md");
    assert!(tests.contains("globs: [tests/**/*.rs]"), "{tests}");
    assert!(!tests.contains("targets"), "{tests}");
    let planner = t.read(".aiwg/agents/planner.md");
    assert!(
        planner.contains("model: opus"),
        "claudecode keys lifted: {planner}"
    );
    assert!(
        err.contains("rulesync keys not imported") && err.contains("`targets`"),
        "{err}"
    );
    let (code, _, err) = t.run(&["validate"]);
    assert_eq!(code, 0, "{err}");
    // Deploys like any source; a second import changes nothing.
    let (code, _, err) = t.run(&["apply", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = t.run(&["import", "--from", "rulesync"]);
    assert_eq!((code, out.matches("unchanged").count()), (0, 5), "{out}");
}

#[test]
fn import_reads_ruler_sources() {
    let t = git_repo();
    lay_out(
        &t,
        &[
            (
                ".ruler/AGENTS.md",
                "# Conventions\n\nPrefer small pull requests.\n",
            ),
            (".ruler/style/naming.md", "Name things for what they do.\n"),
            (".ruler/ruler.toml", "default_agents = [\"claude\"]\n"),
        ],
    );
    let (code, out, err) = t.run(&["import", "--from", "ruler"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "wrote\t.aiwg/rules/agents.md\nwrote\t.aiwg/rules/naming.md\n",
        "{err}"
    );
    assert!(t
        .read(".aiwg/rules/naming.md")
        .starts_with("---\nalways: true\n---\n"));
    let (code, _, err) = t.run(&["apply", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    assert!(t
        .read(".claude/rules/naming.md")
        .contains("Name things for what they do."));
}

#[test]
fn the_same_artifact_on_several_platforms_is_one_source_and_differences_are_reported() {
    let t = git_repo();
    let body = "\nReview the change.\n";
    lay_out(
        &t,
        &[
            (
                ".claude/agents/reviewer.md",
                &format!("---\nname: reviewer\ndescription: Reviews changes.\ntools: Read, Grep\n---\n{body}"),
            ),
            (
                ".cursor/agents/reviewer.md",
                &format!("---\nname: reviewer\ndescription: Reviews changes.\n---\n{body}"),
            ),
            (
                ".github/agents/reviewer.agent.md",
                &format!("---\nname: reviewer\ndescription: Reviews every change.\ntools: [read, search]\n---\n{body}"),
            ),
        ],
    );
    let (code, out, err) = t.run(&["import"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "wrote\t.aiwg/agents/reviewer.md\n",
        "one source: {err}"
    );
    assert!(
        err.contains("warning: agent:reviewer: the copies differ")
            && err.contains("`description` is `Reviews changes.` in `.claude/agents/reviewer.md` but `Reviews every change.` in `.github/agents/reviewer.agent.md`"),
        "{err}"
    );
    // Copilot's `search` stands for Grep and Glob: not a difference worth reporting.
    assert!(!err.contains("`tools`"), "{err}");
    assert_eq!(
        t.read(".aiwg/agents/reviewer.md"),
        t.read(".claude/agents/reviewer.md")
    );
}

#[test]
fn clashes_are_reported_and_never_overwritten_and_managed_files_are_left_out() {
    let t = git_repo();
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Mine.\n---\n\nMine.\n",
    )
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    // The managed copy is not imported back; a hand-written skill clashes with an existing source.
    t.write(
        ".claude/skills/notes/SKILL.md",
        "---\nname: notes\ndescription: Takes notes.\n---\n\nTake notes.\n",
    )
    .write(
        ".aiwg/skills/notes/SKILL.md",
        "---\nname: notes\ndescription: Other.\n---\n\nOther.\n",
    );
    let (code, out, err) = t.run(&["import"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("clash: `.aiwg/skills/notes/SKILL.md` exists with other content"),
        "{err}"
    );
    assert!(
        err.contains("1 file aiwg manages (aiwg.lock) left out"),
        "{err}"
    );
    assert!(
        t.read(".aiwg/skills/notes/SKILL.md").contains("Other."),
        "not overwritten"
    );
}

#[cfg(unix)]
#[test]
fn import_treats_the_repository_as_hostile() {
    let t = git_repo();
    let outside = t.home().join("secret.md");
    std::fs::write(
        &outside,
        "---\nname: secret\ndescription: x\n---\n\nsecret\n",
    )
    .unwrap();
    std::fs::create_dir_all(t.root().join(".claude/agents")).unwrap();
    std::os::unix::fs::symlink(&outside, t.root().join(".claude/agents/secret.md")).unwrap();
    t.write(
        ".claude/agents/inside.md",
        "---\nname: inside\ndescription: In.\n---\n\nIn.\n",
    );
    std::os::unix::fs::symlink(
        t.root().join(".claude/agents/inside.md"),
        t.root().join(".claude/agents/alias.md"),
    )
    .unwrap();
    let huge = format!(
        "---\nname: huge\ndescription: x\n---\n{}",
        "a".repeat(2 << 20)
    );
    t.write(".claude/agents/huge.md", &huge);
    std::fs::write(
        t.root().join(".claude/agents/latin1.md"),
        b"---\nname: l\n---\n\xe9\n",
    )
    .unwrap();
    // A `.aiwg` that leads outside: nothing is written through it.
    std::fs::create_dir_all(t.home().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(t.home().join("elsewhere"), t.root().join(".aiwg")).unwrap();
    t.write(
        ".claude/agents/\u{1b}]52;c;eA==\u{7}.md",
        "---\nname: e\ndescription: e\n---\n\ne\n",
    );
    let (code, out, err) = t.run(&["import", "--from", "claude-code"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        !out.contains('\u{1b}') && !err.contains('\u{1b}'),
        "terminal controls escaped: {err:?}"
    );
    assert!(
        err.contains("skipped: `.claude/agents/secret.md`: symlink to"),
        "{err}"
    );
    assert!(err.contains("skipped: `.claude/agents/huge.md`"), "{err}");
    assert!(
        err.contains("skipped: `.claude/agents/latin1.md`: not UTF-8"),
        "{err}"
    );
    assert!(err.contains("leads outside the repository"), "{err}");
    assert!(files_under(&t.home().join("elsewhere")).is_empty());
    // With a real `.aiwg`, the link inside the repository is read, the rest still skipped.
    std::fs::remove_file(t.root().join(".aiwg")).unwrap();
    let (code, out, err) = t.run(&["import", "--from", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".aiwg/agents/inside.md"), "{out}");
    assert!(!out.contains("secret") && !out.contains("huge"), "{out}");
}

#[test]
fn adopt_takes_a_hand_edit_back_into_the_source() {
    let t = git_repo();
    let source = "---\nname: reviewer\ndescription: Reviews changes.\ntools: Read, Grep\n# the team's favourite\nmodel: sonnet\n---\n\nReview the change.\n";
    t.write(".aiwg/agents/reviewer.md", source).write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"cursor\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let edited = t
        .read(".claude/agents/reviewer.md")
        .replace("Review the change.", "Review the change, then the tests.");
    t.write(".claude/agents/reviewer.md", &edited);
    let (code, _, _) = t.run(&["apply"]);
    assert_eq!(code, 1, "an edit is a conflict");
    let (code, _, err) = t.run(&["adopt", ".claude/agents/reviewer.md", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        t.read(".aiwg/agents/reviewer.md"),
        source,
        "a dry run writes nothing"
    );
    let (code, _, err) = t.run(&["adopt", ".claude/agents/reviewer.md"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("into `.aiwg/agents/reviewer.md`"), "{err}");
    assert!(err.contains("1 other platform file"), "{err}");
    // The source keeps its own frontmatter lines (the comment too); only the body changed.
    assert_eq!(
        t.read(".aiwg/agents/reviewer.md"),
        source.replace("Review the change.", "Review the change, then the tests.")
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t
        .read(".cursor/agents/reviewer.md")
        .contains("then the tests."));
    assert_eq!(t.read(".claude/agents/reviewer.md"), edited);
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");

    // A frontmatter edit through another platform's tables: Cursor's `fast` is the haiku tier.
    let cursor = t.read(".cursor/agents/reviewer.md").replace(
        "description: Reviews changes.\n",
        "description: Reviews changes.\nmodel: fast\n",
    );
    t.write(".cursor/agents/reviewer.md", &cursor);
    let (code, _, err) = t.run(&["adopt", ".cursor/agents/reviewer.md"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.read(".aiwg/agents/reviewer.md").contains("model: haiku"));
    assert!(
        t.read(".aiwg/agents/reviewer.md")
            .contains("tools: Read, Grep"),
        "keys Cursor lacks stay"
    );
}

#[test]
fn adopt_refuses_when_the_mapping_back_is_not_exact() {
    let t = git_repo();
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews changes.\n---\n\nReview.\n",
    )
    .write(".aiwg/rules/style.md", "Short sentences.\n")
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"cursor\", \"codex\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let before = t.read(".aiwg/agents/reviewer.md");
    // A key Cursor's agent format does not carry.
    let edited = t
        .read(".cursor/agents/reviewer.md")
        .replace("---\n\n", "color: red\n---\n\n");
    t.write(".cursor/agents/reviewer.md", &edited);
    let (code, _, err) = t.run(&["adopt", ".cursor/agents/reviewer.md"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("would render differently (line 4: edited `color: red`"),
        "{err}"
    );
    assert_eq!(
        t.read(".aiwg/agents/reviewer.md"),
        before,
        "nothing written"
    );
    // A section of a shared file, and a file aiwg did not write.
    let (code, _, err) = t.run(&["adopt", "AGENTS.md"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("aiwg owns only parts of it"), "{err}");
    t.write("notes.md", "mine\n");
    let (code, _, err) = t.run(&["adopt", "notes.md"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a file aiwg manages whole"), "{err}");
}

#[test]
fn import_round_trips_codex_and_opencode_agents() {
    let files: &[(&str, &str)] = &[
        (
            ".codex/agents/migrator.toml",
            "name = \"migrator\"\ndescription = \"Moves code between APIs.\"\nmodel = \"gpt-5.5\"\ndeveloper_instructions = \"\"\"\nMove one call site at a time.\n\"\"\"\n",
        ),
        (
            ".opencode/agents/tester.md",
            "---\ndescription: Writes tests.\nmode: subagent\ntools: {bash: true, edit: false, read: true, grep: false, glob: false, lsp: false, webfetch: false, websearch: false, todowrite: false, task: false, skill: false, question: false}\n---\n\nWrite a failing test first.\n",
        ),
        (
            ".opencode/commands/lint.md",
            "---\ndescription: Lint the project\n---\n\nRun the linter on $ARGUMENTS.\n",
        ),
    ];
    let t = round_trip(files, "codex,opencode", &[]);
    let migrator = t.read(".aiwg/agents/migrator.md");
    assert!(
        migrator.contains("model: gpt-5.5"),
        "Codex has no tier map, so the id stays as written: {migrator}"
    );
    assert!(
        migrator.contains("\nMove one call site at a time.\n"),
        "{migrator}"
    );
    let tester = t.read(".aiwg/agents/tester.md");
    assert!(tester.contains("tools: [Bash, Read]"), "{tester}");
    assert!(
        !tester.contains("mode:"),
        "a literal of the template: {tester}"
    );
}

#[test]
fn import_round_trips_vibe_and_antigravity_agents() {
    let files: &[(&str, &str)] = &[
        (
            ".vibe/agents/auditor.toml",
            "description = \"Audits dependencies.\"\nagent_type = \"subagent\"\nenabled_tools = [\"read_file\", \"grep\", \"bash\"]\ninstructions = \"\"\"\nList every dependency and its licence.\n\"\"\"\n",
        ),
        (
            ".agents/agents/scout.md",
            "---\nname: scout\ndescription: Finds where things are.\ntools: [view_file, grep_search]\nsubagent: true\n---\n\nFind it.\n",
        ),
    ];
    let t = round_trip(files, "mistral-vibe,antigravity", &[]);
    let auditor = t.read(".aiwg/agents/auditor.md");
    assert!(auditor.contains("tools: [Read, Grep, Bash]"), "{auditor}");
    assert!(
        auditor.contains("\nList every dependency and its licence.\n"),
        "{auditor}"
    );
    assert!(
        !auditor.contains("agent_type"),
        "a fixed key of the format: {auditor}"
    );
    let scout = t.read(".aiwg/agents/scout.md");
    assert!(scout.contains("tools: [Read, Grep]"), "{scout}");
    assert!(
        !scout.contains("subagent"),
        "a literal of the template: {scout}"
    );
}

#[test]
fn import_reads_gemini_cli_files() {
    let t = git_repo();
    lay_out(
        &t,
        &[
            (
                ".gemini/commands/summarise.toml",
                "description = \"Summarise a file\"\nprompt = \"Summarise {{args}} in five bullets.\"\n",
            ),
            (
                ".gemini/agents/scout.md",
                "---\nname: scout\ndescription: Finds where things are.\ntools: [read_file, grep_search]\n---\n\nFind it.\n",
            ),
            ("GEMINI.md", "Use British spelling.\n"),
        ],
    );
    let (code, out, err) = t.run(&["import", "--from", "gemini-cli"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(t
        .read(".aiwg/commands/summarise.md")
        .contains("Summarise $ARGUMENTS in five bullets."));
    assert!(t
        .read(".aiwg/agents/scout.md")
        .contains("tools: [Read, Grep]"));
    assert!(t
        .read(".aiwg/rules/gemini-md.md")
        .contains("Use British spelling."));
    let (code, _, err) = t.run(&["validate"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn import_says_what_it_cannot_keep_as_it_is() {
    let t = git_repo();
    lay_out(
        &t,
        &[
            (
                ".claude/agents/old-name.md",
                "---\nname: New Name\ndescription: Renamed.\n---\n\nBody.\n",
            ),
            (
                ".claude/commands/git/commit.md",
                "---\ndescription: Commit\n---\n\nCommit.\n",
            ),
        ],
    );
    let (code, out, err) = t.run(&["import", "--from", "claude"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "wrote\t.aiwg/agents/new-name.md\n", "{err}");
    assert!(
        err.contains(
            "`.claude/agents/old-name.md` is named `new-name`: aiwg writes it as agent `new-name`"
        ),
        "{err}"
    );
    assert!(
        err.contains("skipped: `.claude/commands/git`: a folder in `.claude/commands`"),
        "{err}"
    );
    let (code, _, err) = t.run(&["import", "--from", "claud"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("claude"), "did you mean: {err}");
}

#[test]
fn import_dry_run_writes_nothing() {
    let t = git_repo();
    lay_out(&t, CLAUDE_LAYOUT);
    let (code, out, err) = t.run(&["import", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("would write\t.aiwg/"), "{out}");
    assert!(!t.exists(".aiwg") && !t.exists("aiwg.toml"), "{err}");
}

#[test]
fn adopt_takes_skill_edits_back_too() {
    let t = git_repo();
    t.write(
        ".aiwg/skills/notes/SKILL.md",
        "---\nname: notes\ndescription: Takes notes.\n---\n\nRun `scripts/n.sh`.\n",
    )
    .write(".aiwg/skills/notes/scripts/n.sh", "echo one\n")
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    t.write(".agents/skills/notes/scripts/n.sh", "echo two\n");
    let (code, _, err) = t.run(&["adopt", ".agents/skills/notes/scripts/n.sh"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".aiwg/skills/notes/scripts/n.sh"), "echo two\n");
    let skill = t
        .read(".claude/skills/notes/SKILL.md")
        .replace("Run `scripts/n.sh`.", "Run `scripts/n.sh` twice.");
    t.write(".claude/skills/notes/SKILL.md", &skill);
    let (code, _, err) = t.run(&["adopt", ".claude/skills/notes/SKILL.md"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.read(".aiwg/skills/notes/SKILL.md").contains("twice"));
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".claude/skills/notes/scripts/n.sh"), "echo two\n");
    assert!(t.read(".agents/skills/notes/SKILL.md").contains("twice"));
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn model_ids_map_back_through_the_projects_model_table() {
    let t = git_repo();
    let agent = "name = \"migrator\"\ndescription = \"Moves code between APIs.\"\nmodel = \"gpt-6.2-sol\"\ndeveloper_instructions = \"\"\"\nMove one call site at a time.\n\"\"\"\n";
    t.write(".codex/agents/migrator.toml", agent).write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"codex\"]\n\n[models.openai]\nopus = \"gpt-6.2-sol\"\n",
    );
    let (code, _, err) = t.run(&["import", "--from", "codex"]);
    assert_eq!(code, 0, "{err}");
    let source = t.read(".aiwg/agents/migrator.md");
    assert!(source.contains("model: opus"), "{source}");
    assert!(planned(&t).is_empty(), "codex gets back the same file");
}
