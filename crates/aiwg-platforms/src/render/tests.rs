//! Unit tests of the render phases on small models.

use super::sections::demote_headings;
use super::*;
use crate::Registry;
use aiwg_core::config::Tiers;
use aiwg_core::source::{load, SourceFile, SourceTree};
use std::sync::Arc;

/// A model from `(path, text)` files of one source named `src`.
fn model(files: &[(&str, &str)]) -> Model {
    let files = files
        .iter()
        .map(|(p, t)| SourceFile {
            path: RelPath::new(p).unwrap(),
            bytes: t.as_bytes().to_vec(),
            executable: false,
        })
        .collect();
    let loaded = load(&SourceTree::from_files("src", "src", files));
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    Model {
        artifacts: loaded.artifacts,
    }
}

fn run(m: &Model, ids: &[&str], scope: Scope, options: &RenderOptions) -> Rendered {
    let platforms = Registry::builtin().resolve(ids).unwrap();
    render(m, &platforms, scope, options).unwrap()
}

fn file_text(r: &Rendered, path: &str) -> String {
    let e = r
        .target
        .entries()
        .find(|e| e.path.as_str() == path)
        .unwrap_or_else(|| panic!("no `{path}`"));
    match &e.desired {
        Desired::File { bytes, .. } => String::from_utf8(bytes.clone()).unwrap(),
        Desired::Section { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    }
}

fn has_notice(r: &Rendered, platform: &str, part: &str) -> bool {
    r.notices
        .iter()
        .any(|n| n.platform == platform && n.message.contains(part))
}

const AGENT: &str = "---\nname: a\ndescription: d\nmodel: opus\n---\nbody\n";

#[test]
fn model_tiers_map_and_overrides_win() {
    let m = model(&[("agents/a.md", AGENT)]);
    let r = run(
        &m,
        &["claude-code"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(file_text(&r, ".claude/agents/a.md").contains("model: opus"));
    // Codex has no tier map (a stale id is worse than none): the agent inherits the session's.
    let r = run(&m, &["codex"], Scope::Project, &RenderOptions::default());
    assert!(!file_text(&r, ".codex/agents/a.toml").contains("model"));
    let mut options = RenderOptions::default();
    options.model_overrides.insert(
        "openai".into(),
        Tiers {
            opus: Some("o3".into()),
            ..Tiers::default()
        },
    );
    let r = run(&m, &["codex"], Scope::Project, &options);
    assert!(file_text(&r, ".codex/agents/a.toml").contains("model = \"o3\""));
}

#[test]
fn codex_warns_near_its_agents_md_cap() {
    let big = format!(
        "---\ndescription: big\nalways: true\n---\n{}\n",
        "x".repeat(30_000)
    );
    let m = model(&[("rules/big.md", &big)]);
    let r = run(&m, &["codex"], Scope::Project, &RenderOptions::default());
    assert!(
        has_notice(&r, "codex", "close to the 32768 bytes"),
        "{:?}",
        r.notices
    );
    let small = model(&[("rules/s.md", "---\nalways: true\n---\nshort\n")]);
    let r = run(
        &small,
        &["codex"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(!r.notices.iter().any(|n| n.level == NoticeLevel::Warning));
}

#[test]
fn windsurf_warns_on_long_workflows_without_truncating() {
    let body = "y".repeat(12_500);
    let m = model(&[(
        "commands/long.md",
        &format!("---\ndescription: l\n---\n{body}\n"),
    )]);
    let r = run(&m, &["devin"], Scope::Project, &RenderOptions::default());
    assert!(
        has_notice(&r, "windsurf", "reads at most 12000"),
        "{:?}",
        r.notices
    );
    assert!(file_text(&r, ".windsurf/workflows/long.md").contains(&body));
}

#[test]
fn claude_does_not_import_agents_md_it_does_not_need() {
    let m = model(&[("rules/r.md", "---\nalways: true\n---\nr\n")]);
    for scope in [Scope::Project, Scope::User] {
        let r = run(
            &m,
            &["claude-code", "agents-md"],
            scope,
            &RenderOptions::default(),
        );
        assert!(!r
            .target
            .entries()
            .any(|e| e.path.as_str().ends_with("CLAUDE.md")));
    }
    // Claude Code keeps its native rule and may read AGENTS.md too: one warning says so.
    let r = run(
        &m,
        &["claude-code", "agents-md"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(file_text(&r, ".claude/rules/r.md").contains('r'));
    assert!(has_notice(&r, "claude-code", "sees the rule twice, in `.claude/rules/{name}.md` (for claude-code) and `AGENTS.md` (for agents-md) (Claude Code reads `AGENTS.md` when the repository has no `CLAUDE.md`)"), "{:?}", r.notices);
}

#[test]
fn copilot_reads_claude_codes_agents_and_rules_so_they_are_written_once() {
    let m = model(&[
        ("agents/a.md", AGENT),
        (
            "rules/r.md",
            "---\ndescription: d\nglobs: [\"**/*.rs\"]\n---\nr\n",
        ),
    ]);
    let r = run(
        &m,
        &["claude-code", "copilot"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let written = paths(&r);
    assert!(written.contains(&".claude/agents/a.md"), "{written:?}");
    assert!(written.contains(&".claude/rules/r.md"), "{written:?}");
    assert!(
        !written.iter().any(|p| p.starts_with(".github/")),
        "{written:?}"
    );
    assert!(has_notice(&r, "copilot", "1 agent not written to `.github/agents/{name}.agent.md`: GitHub Copilot reads the copies in `.claude/agents/{name}.md` (for claude-code)"), "{:?}", r.notices);
    assert!(
        !r.notices.iter().any(|n| n.level == NoticeLevel::Warning),
        "{:?}",
        r.notices
    );
    // Alone, Copilot keeps its own places.
    let r = run(&m, &["copilot"], Scope::Project, &RenderOptions::default());
    assert!(paths(&r).contains(&".github/agents/a.agent.md"));
    // Copilot reads AGENTS.md: with Codex, the rules go there once, not also as instructions.
    let r = run(
        &m,
        &["codex", "copilot"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(!paths(&r)
        .iter()
        .any(|p| p.starts_with(".github/instructions")));
    assert!(file_text(&r, "AGENTS.md").contains("Applies to files matching `**/*.rs`."));
}

#[test]
fn foreign_models_and_unknown_tools_are_reported() {
    let m = model(&[(
        "agents/a.md",
        "---\nname: a\ndescription: d\nmodel: gpt-5.5\ntools: Read, Zap\n---\nb\n",
    )]);
    let r = run(
        &m,
        &["claude-code", "copilot", "antigravity"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(has_notice(
        &r,
        "claude-code",
        "model `gpt-5.5` does not run on Claude Code"
    ));
    assert!(!file_text(&r, ".claude/agents/a.md").contains("gpt-5.5"));
    // Copilot alone, so it writes its own agent file rather than reading Claude Code's.
    let r = run(
        &m,
        &["copilot", "antigravity"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(has_notice(
        &r,
        "copilot",
        "tool `Zap` has no known GitHub Copilot name; passed through"
    ));
    assert!(file_text(&r, ".github/agents/a.agent.md").contains("tools: [read, Zap]"));
    assert!(has_notice(
        &r,
        "antigravity",
        "tool `Zap` has no known Google Antigravity name; left out"
    ));
    let agy = file_text(&r, ".agents/agents/a.md");
    assert!(agy.contains("tools: [view_file]"), "{agy}");
    assert!(!agy.contains("Zap"));
}

#[test]
fn a_skill_wins_over_a_command_of_the_same_name() {
    let m = model(&[
        (
            "commands/deploy.md",
            "---\ndescription: c\n---\ncommand body\n",
        ),
        (
            "skills/deploy/SKILL.md",
            "---\nname: deploy\ndescription: s\n---\nskill body\n",
        ),
    ]);
    let r = run(
        &m,
        &["codex", "claude-code"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(file_text(&r, ".agents/skills/deploy/SKILL.md").contains("skill body"));
    assert!(file_text(&r, ".claude/commands/deploy.md").contains("command body"));
    assert!(has_notice(
        &r,
        "codex",
        "command `deploy` is not written as a skill"
    ));
}

/// Every path `r` writes, sorted.
fn paths(r: &Rendered) -> Vec<&str> {
    r.target.entries().map(|e| e.path.as_str()).collect()
}

const RICH_AGENT: &str = "---\nname: reviewer\ndescription: Reviews changes\nmodel: opus\ntools: Read, Grep\ncolor: blue\n---\n\nYou review.\n";

#[test]
fn an_agent_becomes_one_spec_only_skill_per_reader_set() {
    let m = model(&[("agents/reviewer.md", RICH_AGENT)]);
    let r = run(
        &m,
        &["warp", "openclaw", "claude-code", "agents-md"],
        Scope::Project,
        &RenderOptions::default(),
    );
    // Warp and OpenClaw both read `.agents/skills`: one copy, for both.
    let skill = ".agents/skills/reviewer/SKILL.md";
    assert_eq!(
        file_text(&r, skill),
        "---\nname: reviewer\ndescription: Reviews changes\n---\n\nAct as the `reviewer` agent for this task.\n\nYou review.\n"
    );
    let entry = r
        .target
        .entries()
        .find(|e| e.path.as_str() == skill)
        .unwrap();
    assert_eq!(*entry.origin.platforms, ["openclaw", "warp"]);
    // Claude Code keeps its native agent and does not read `.agents/skills`; AGENTS.md
    // gets no agents section.
    assert_eq!(
        paths(&r),
        [
            ".agents/skills/reviewer/SKILL.md",
            ".claude/agents/reviewer.md"
        ]
    );
    assert!(has_notice(&r, "warp", "1 agent deployed as skills"));
    assert!(has_notice(
        &r,
        "agents-md",
        "1 agent skipped: AGENTS.md standard has no agents"
    ));
    // Warp alone in user scope: its own or the shared folder under home.
    let r = run(&m, &["warp"], Scope::User, &RenderOptions::default());
    assert_eq!(paths(&r), [".agents/skills/reviewer/SKILL.md"]);
}

#[test]
fn hermes_takes_agents_as_skills_only_under_home() {
    // Hermes Agent 0.19.0 reads no agent files (`cargo xtask interop`): agents are skills.
    let m = model(&[("agents/reviewer.md", RICH_AGENT)]);
    let r = run(&m, &["hermes"], Scope::Project, &RenderOptions::default());
    assert!(paths(&r).is_empty(), "{:?}", paths(&r));
    assert!(
        has_notice(
            &r,
            "hermes",
            "deploy with `--scope user` to get them as skills in `~/.hermes/skills`"
        ),
        "{:?}",
        r.notices
    );
    let r = run(&m, &["hermes"], Scope::User, &RenderOptions::default());
    assert_eq!(paths(&r), [".hermes/skills/reviewer/SKILL.md"]);
}

#[test]
fn a_skill_wins_over_an_agent_and_an_agent_over_a_command_of_the_same_name() {
    let m = model(&[
        (
            "agents/deploy.md",
            "---\nname: deploy\ndescription: a\n---\nagent body\n",
        ),
        (
            "skills/deploy/SKILL.md",
            "---\nname: deploy\ndescription: s\n---\nskill body\n",
        ),
        (
            "agents/triage.md",
            "---\nname: triage\ndescription: a\n---\nagent body\n",
        ),
        (
            "commands/triage.md",
            "---\ndescription: c\n---\ncommand body\n",
        ),
    ]);
    let r = run(
        &m,
        &["warp", "claude-code"],
        Scope::Project,
        &RenderOptions::default(),
    );
    // The skill goes where both read it; Warp would see the agent as a second `deploy`.
    assert!(file_text(&r, ".claude/skills/deploy/SKILL.md").contains("skill body"));
    assert!(!paths(&r).contains(&".agents/skills/deploy/SKILL.md"));
    assert!(file_text(&r, ".claude/agents/deploy.md").contains("agent body"));
    assert!(has_notice(
        &r,
        "warp",
        "agent `deploy` is not written as a skill: a skill of the same name takes its folder"
    ));
    assert!(file_text(&r, ".agents/skills/triage/SKILL.md").contains("agent body"));
    assert!(has_notice(
        &r,
        "warp",
        "command `triage` is not written as a skill: the agent of the same name, also written as a skill, takes its folder"
    ));
    assert!(!has_notice(&r, "claude-code", "not written as a skill"));
}

#[test]
fn fallbacks_are_reported_per_platform_and_kind() {
    let m = model(&[
        ("commands/c.md", "---\ndescription: c\n---\nc\n"),
        ("commands/d.md", "---\ndescription: d\n---\nd\n"),
    ]);
    let r = run(
        &m,
        &["codex", "agents-md"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let lines: Vec<String> = r.notices.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        lines,
        [
            "agents-md: 2 commands skipped: AGENTS.md standard has no commands",
            "codex: 2 commands deployed as skills (no native commands here)",
        ]
    );
}

const RUNBOOK: &str = "---\nname: service-deployment\ndescription: Staged rollout\n---\n\n# Deploy\n\n## Purpose\n\nShip it.\n\n## Prerequisites\n\n- Staging passed.\n\n## Procedure\n\n### Stage 1: canary\n\n**Gate**: healthy.\n\n## Verification\n\n- Done.\n\n## Rollback\n\n**Trigger**: a gate fails.\n\n## Agent Rules\n\n1. Never skip a gate.\n2. Escalate when a gate fails.\n\n## Audit Trail\n\n- Run by: {operator|}\n";

/// The runbooks section of `AGENTS.md` when `ids` render the runbook in project scope.
fn runbooks_section(ids: &[&str]) -> String {
    let m = model(&[("runbooks/service-deployment.md", RUNBOOK)]);
    let r = run(&m, ids, Scope::Project, &RenderOptions::default());
    file_text(&r, "AGENTS.md")
}

#[test]
fn a_runbook_with_a_skill_copy_is_only_indexed_in_the_section() {
    let index = |dir: &str| {
        format!(
            "## Runbook: service-deployment\n\nStaged rollout\n\nRead `{dir}/service-deployment/SKILL.md` before carrying out this procedure: it holds the full runbook.\n"
        )
    };
    for (ids, dir) in [
        (&["agents-md", "codex"][..], ".agents/skills"),
        (&["hermes", "claude-code"][..], ".claude/skills"),
        // Written to both folders: the index points to the shared one.
        (&["claude-code", "codex", "agents-md"][..], ".agents/skills"),
    ] {
        assert_eq!(runbooks_section(ids), index(dir), "{ids:?}");
    }
    let m = model(&[("runbooks/service-deployment.md", RUNBOOK)]);
    let r = run(
        &m,
        &["hermes", "agents-md", "codex"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(file_text(&r, ".agents/skills/service-deployment/SKILL.md").contains("Ship it."));
    assert!(
        has_notice(
            &r,
            "hermes",
            "1 runbook indexed in a section of `AGENTS.md`, each pointing to its skill copy: no skills folder in project scope (deploy with `--scope user` to get them as skills in `~/.hermes/skills`)"
        ),
        "{:?}",
        r.notices
    );
    assert!(has_notice(
        &r,
        "agents-md",
        "1 runbook indexed in a section of `AGENTS.md`, each pointing to its skill copy: no skills folder"
    ));
}

#[test]
fn a_runbook_without_a_skill_copy_keeps_its_full_text_in_the_section() {
    for ids in [&["agents-md"][..], &["hermes"], &["hermes", "agents-md"]] {
        let section = runbooks_section(ids);
        assert!(
            section.starts_with(
                "## Runbook: service-deployment\n\n### Deploy\n\n#### Purpose\n\nShip it.\n"
            ) && section.ends_with("- Run by: {operator|}\n")
                && !section.contains("SKILL.md"),
            "{ids:?}: {section}"
        );
    }
    // A skill of the same name takes the folder: the runbook has no copy to point to.
    let m = model(&[
        ("runbooks/service-deployment.md", RUNBOOK),
        (
            "skills/service-deployment/SKILL.md",
            "---\nname: service-deployment\ndescription: s\n---\nskill body\n",
        ),
    ]);
    let r = run(
        &m,
        &["agents-md", "codex"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(file_text(&r, "AGENTS.md").contains("Ship it."));
    assert!(has_notice(
        &r,
        "agents-md",
        "1 runbook deployed as a section of `AGENTS.md`: no skills folder"
    ));
}

#[test]
fn hermes_says_how_to_get_skills_in_project_scope() {
    let m = model(&[(
        "skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nb\n",
    )]);
    let r = run(&m, &["hermes"], Scope::Project, &RenderOptions::default());
    let lines: Vec<String> = r.notices.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        lines,
        ["hermes: 1 skill skipped: no skills folder in project scope (deploy with `--scope user` to get them in `~/.hermes/skills`)"]
    );
    let r = run(
        &m,
        &["agents-md"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(has_notice(
        &r,
        "agents-md",
        "1 skill skipped: no skills folder"
    ));
    assert!(!has_notice(&r, "agents-md", "--scope user"));
}

#[test]
fn the_runbook_index_does_not_depend_on_platform_order() {
    let m = model(&[
        ("runbooks/service-deployment.md", RUNBOOK),
        ("agents/reviewer.md", RICH_AGENT),
        ("rules/r.md", "---\nalways: true\n---\nr\n"),
    ]);
    let ids = ["hermes", "agents-md", "claude-code", "codex", "copilot"];
    let first = run(&m, &ids, Scope::Project, &RenderOptions::default());
    let runbooks = first.target.entries().find_map(|e| match &e.desired {
        Desired::Section { id, text } if id == "src:runbooks" => Some(text),
        _ => None,
    });
    assert!(
        runbooks.is_some_and(|t| t.contains("Read `.agents/skills/service-deployment/SKILL.md`")),
        "{runbooks:?}"
    );
    // Every rotation, forwards and backwards.
    for k in 0..ids.len() {
        let mut order = ids.to_vec();
        order.rotate_left(k);
        let r = run(&m, &order, Scope::Project, &RenderOptions::default());
        assert_eq!(r, first, "{order:?}");
        order.reverse();
        let r = run(&m, &order, Scope::Project, &RenderOptions::default());
        assert_eq!(r, first, "{order:?}");
    }
}

#[test]
fn headings_nest_under_the_section_title() {
    assert_eq!(
        demote_headings("# A\ntext\n## B\n```\n# not\n```\n#tag"),
        "### A\ntext\n#### B\n```\n# not\n```\n#tag"
    );
    assert_eq!(
        demote_headings("##### Deep\n###### Deepest"),
        "###### Deep\n###### Deepest"
    );
}

#[test]
fn hermes_words_its_context_limit_as_the_client_computes_it() {
    let big = format!(
        "---\ndescription: big\nalways: true\n---\n{}\n",
        "x".repeat(21_000)
    );
    let m = model(&[("rules/big.md", &big)]);
    let r = run(&m, &["hermes"], Scope::Project, &RenderOptions::default());
    assert!(
        has_notice(&r, "hermes", "already over the at least 20,000 characters Hermes Agent reads (more with a large context window"),
        "{:?}",
        r.notices
    );
}

#[test]
fn user_scope_follows_the_clients_home_variable() {
    let m = model(&[
        ("agents/a.md", AGENT),
        ("rules/r.md", "---\nalways: true\n---\nr\n"),
    ]);
    let mut options = RenderOptions::default();
    options
        .homes
        .insert("CODEX_HOME".into(), "state/codex".into());
    let r = run(&m, &["codex"], Scope::User, &options);
    let written = paths(&r);
    assert!(
        written.contains(&"state/codex/agents/a.toml"),
        "{written:?}"
    );
    assert!(written.contains(&"state/codex/AGENTS.md"), "{written:?}");
    assert!(
        !written.iter().any(|p| p.starts_with(".codex/")),
        "{written:?}"
    );
    // Project scope and other platforms are untouched.
    let r = run(&m, &["codex"], Scope::Project, &options);
    assert!(paths(&r).contains(&".codex/agents/a.toml"));
    let r = run(&m, &["claude-code"], Scope::User, &options);
    assert!(paths(&r).contains(&".claude/agents/a.md"));
    // The variable naming home itself.
    options.homes.insert("CODEX_HOME".into(), String::new());
    let r = run(&m, &["codex"], Scope::User, &options);
    assert!(paths(&r).contains(&"agents/a.toml"), "{:?}", paths(&r));
}

fn excluding(pairs: &[(&str, &str)]) -> RenderOptions {
    let mut options = RenderOptions::default();
    for (id, pattern) in pairs {
        options
            .exclude
            .entry(id.to_string())
            .or_default()
            .push(aiwg_core::exclude::ArtifactPattern::parse(pattern).unwrap());
    }
    options
}

const SKILL_A: &str = "---\nname: a\ndescription: d\n---\nA\n";
const SKILL_B: &str = "---\nname: b\ndescription: d\n---\nB\n";

#[test]
fn a_per_platform_exclude_is_planned_with_every_reader_in_one_render() {
    // Copilot reads `.claude/skills`: one copy there serves both, except `a`, which Claude
    // Code leaves out, so it goes where only Copilot reads.
    let m = model(&[
        ("skills/a/SKILL.md", SKILL_A),
        ("skills/b/SKILL.md", SKILL_B),
    ]);
    let ids = ["claude-code", "copilot"];
    let r = run(
        &m,
        &ids,
        Scope::Project,
        &excluding(&[("claude-code", "skill:a")]),
    );
    let written = paths(&r);
    assert!(
        written.contains(&".claude/skills/b/SKILL.md"),
        "{written:?}"
    );
    assert!(
        written.contains(&".agents/skills/a/SKILL.md"),
        "{written:?}"
    );
    assert!(
        !written.contains(&".claude/skills/a/SKILL.md"),
        "{written:?}"
    );
    // Copilot sees each once (no `.agents/skills/b` beside `.claude/skills/b`).
    assert!(
        !written.contains(&".agents/skills/b/SKILL.md"),
        "{written:?}"
    );
    assert!(
        !r.notices.iter().any(|n| n.level == NoticeLevel::Warning),
        "{:?}",
        r.notices
    );
    // The same for agents: Copilot reads `.claude/agents`, so only the one Claude Code leaves
    // out gets Copilot's own file.
    let m = model(&[
        ("agents/a.md", AGENT),
        ("agents/b.md", "---\nname: b\ndescription: d\n---\nb\n"),
    ]);
    let r = run(
        &m,
        &ids,
        Scope::Project,
        &excluding(&[("claude-code", "agent:a")]),
    );
    let written = paths(&r);
    assert!(written.contains(&".claude/agents/b.md"), "{written:?}");
    assert!(
        written.contains(&".github/agents/a.agent.md"),
        "{written:?}"
    );
    assert!(
        !written.contains(&".github/agents/b.agent.md"),
        "{written:?}"
    );
    assert!(!written.contains(&".claude/agents/a.md"), "{written:?}");
}

#[test]
fn a_platform_never_reads_what_it_leaves_out_in_a_file_written_for_another() {
    // Copilot leaves skill `a` out, but reads `.claude/skills`, the only folder Claude Code
    // reads: refused, naming both.
    let m = model(&[
        ("skills/a/SKILL.md", SKILL_A),
        ("skills/b/SKILL.md", SKILL_B),
    ]);
    let platforms = Registry::builtin()
        .resolve(&["claude-code", "copilot"])
        .unwrap();
    let err = render(
        &m,
        &platforms,
        Scope::Project,
        &excluding(&[("copilot", "skill:a")]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`[platform.copilot] exclude` leaves out skill `a`, but copilot reads `.claude/skills`, which holds it for claude-code"
    );
    // Codex and OpenCode share AGENTS.md for rules.
    let m = model(&[("rules/r.md", "---\ndescription: d\n---\nr\n")]);
    let platforms = Registry::builtin().resolve(&["codex", "opencode"]).unwrap();
    let err = render(
        &m,
        &platforms,
        Scope::Project,
        &excluding(&[("codex", "rule:r")]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, RenderError::Excluded { platform, place, .. } if platform == "codex" && place == "AGENTS.md"),
        "{err}"
    );
    // Copilot runs the hooks of `.claude/settings.json`.
    let m = model(&[
        (
            "behaviors/guard/BEHAVIOR.md",
            "---\nname: guard\ndescription: d\nevent: PreToolUse\ncommand: run.sh\n---\nb\n",
        ),
        ("behaviors/guard/run.sh", "#!/bin/sh\nexit 0\n"),
    ]);
    let err = render(
        &m,
        &platforms_of(&["claude-code", "copilot"]),
        Scope::Project,
        &excluding(&[("copilot", "behavior:guard")]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, RenderError::Excluded { place, written_for, .. } if place == ".claude/settings.json" && written_for == &["claude-code"]),
        "{err}"
    );
    // An exclude for a platform that is not selected changes nothing.
    let alone = run(
        &m,
        &["claude-code"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let other = run(
        &m,
        &["claude-code"],
        Scope::Project,
        &excluding(&[("copilot", "behavior:guard")]),
    );
    assert_eq!(alone, other);
}

fn platforms_of(ids: &[&str]) -> Vec<&'static crate::PlatformSpec> {
    Registry::builtin().resolve(ids).unwrap()
}

#[test]
fn an_mcp_server_left_out_is_refused_in_a_config_file_written_for_another() {
    // Copilot CLI reads `.mcp.json`, Claude Code's only project MCP file: a server Copilot
    // leaves out would still reach it there.
    let m = model(&[(
        "mcp/docs.toml",
        "description = \"d\"\ncommand = \"npx\"\nargs = [\"docs\"]\n",
    )]);
    let ids = ["claude-code", "copilot"];
    let err = render(
        &m,
        &platforms_of(&ids),
        Scope::Project,
        &excluding(&[("copilot", "mcp:docs")]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`[platform.copilot] exclude` leaves out MCP server `docs`, but copilot reads `.mcp.json`, which holds it for claude-code"
    );
    // In user scope the two files differ: honoured, Copilot's own file without the server.
    let r = run(
        &m,
        &ids,
        Scope::User,
        &excluding(&[("copilot", "mcp:docs")]),
    );
    let written = paths(&r);
    assert!(written.contains(&".claude.json"), "{written:?}");
    assert!(
        !written.contains(&".copilot/mcp-config.json"),
        "{written:?}"
    );
    // Claude Code leaving it out: Copilot still gets it in `.vscode/mcp.json` and `.mcp.json`,
    // which Claude Code reads: refused the same way.
    let err = render(
        &m,
        &platforms_of(&ids),
        Scope::Project,
        &excluding(&[("claude-code", "mcp:docs")]),
    )
    .unwrap_err();
    assert!(
        matches!(&err, RenderError::Excluded { platform, place, written_for, .. } if platform == "claude-code" && place == ".mcp.json" && written_for == &["copilot"]),
        "{err}"
    );
}

#[test]
fn a_glob_rule_where_every_rule_file_loads_says_so_once() {
    let glob = |n: &str| {
        (
            format!("rules/{n}.md"),
            "---\ndescription: d\nglobs: \"**/*.rs\"\n---\nbody\n".to_string(),
        )
    };
    let files = [
        glob("a"),
        glob("b"),
        (
            "rules/c.md".into(),
            "---\ndescription: d\nalwaysApply: true\n---\nbody\n".into(),
        ),
    ];
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let r = run(
        &model(&files),
        &["roo"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let said: Vec<_> = r
        .notices
        .iter()
        .filter(|n| n.message.contains("loads every rule file"))
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].starts_with("2 rules with globs"), "{said:?}");
    assert!(file_text(&r, ".roo/rules/a.md").contains("Applies to files matching `**/*.rs`"));
    // A platform that scopes rules by their frontmatter says nothing of the kind.
    let r = run(
        &model(&files),
        &["cursor"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(!r
        .notices
        .iter()
        .any(|n| n.message.contains("loads every rule file")));
}

#[test]
fn a_vibe_agent_is_a_subagent_profile_with_only_keys_vibe_reads() {
    let m = model(&[(
        "agents/a.md",
        "---\nname: a\ndescription: d\nmodel: opus\ntools: Read, Bash, Glob\n---\nbody \"quoted\"\n",
    )]);
    let r = run(
        &m,
        &["mistral-vibe"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let text = file_text(&r, ".vibe/agents/a.toml");
    let t: toml::Table = toml::from_str(&text).unwrap();
    let keys: Vec<&str> = t.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["description", "agent_type", "enabled_tools", "instructions"]
    );
    assert_eq!(t["agent_type"].as_str(), Some("subagent"));
    assert_eq!(t["instructions"].as_str(), Some("body \"quoted\"\n"));
    let tools: Vec<&str> = t["enabled_tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(tools, ["read_file", "bash"]);
    assert!(has_notice(&r, "mistral-vibe", "has no `Glob` tool"));
}

#[test]
fn a_platform_that_shows_one_skill_per_name_is_not_warned_of_copies() {
    let m = model(&[(
        "skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nbody\n",
    )]);
    // Claude Code reads only `.claude/skills`, Codex only `.agents/skills`: both get a copy,
    // and Warp and OpenCode read both folders.
    let r = run(
        &m,
        &["claude-code", "codex", "warp", "opencode"],
        Scope::Project,
        &RenderOptions::default(),
    );
    assert!(file_text(&r, ".claude/skills/s/SKILL.md").contains("body"));
    assert!(file_text(&r, ".agents/skills/s/SKILL.md").contains("body"));
    // OpenCode keeps one per name too but logs each further copy as a duplicate skill name,
    // so it is still warned; Warp shows one, silently.
    assert!(has_notice(&r, "opencode", "sees the skill twice"));
    assert!(!r
        .notices
        .iter()
        .any(|n| n.platform == "warp" && n.message.contains("twice")));
}

/// A budget no allocation could hold (`AIWG_HOLD_BUDGET_BYTES` set too high) reserves
/// nothing up front, so it holds what is offered like any budget the output fits, and a
/// growth no allocation can give is a budget the output is over, never an abort.
#[test]
fn a_budget_too_large_to_reserve_reserves_nothing_and_does_not_abort() {
    for budget in [usize::MAX, isize::MAX as usize, 1 << 60] {
        let mut held = Held::new(budget);
        held.offer(RelPath::new("a.md").unwrap(), Sha256([0; 32]), b"a", false);
        assert_eq!(held.files().unwrap().count(), 1, "budget {budget}");
        assert!(held.used() <= 2 * 4096, "budget {budget}: {}", held.used());
    }
    let mut v: Vec<u64> = Vec::new();
    assert!(!super::grow(&mut v, usize::MAX / 4, usize::MAX));
    assert!(!super::grow(&mut v, isize::MAX as usize / 16, usize::MAX));
    assert_eq!(v.capacity(), 0);
}

/// The held files never reserve their whole budget, grow at most [`HOLD_STEP`] ahead of
/// what they hold, and never past the budget; one file more than fits drops everything.
#[test]
fn held_files_grow_in_steps_and_never_past_the_budget() {
    use super::HOLD_STEP;
    let budget = 16 << 20;
    let mut held = Held::new(budget);
    let file = vec![7u8; 3000];
    let mut n = 0;
    loop {
        let before = held.used();
        held.offer(
            RelPath::new(&format!("f{n}.md")).unwrap(),
            Sha256([0; 32]),
            &file,
            n % 2 == 0,
        );
        let Some(files) = held.files() else { break };
        n += 1;
        assert_eq!(files.count(), n);
        assert!(held.used() <= budget, "{n}: {} > {budget}", held.used());
        let holds = n * (file.len() + std::mem::size_of::<super::HeldFile>());
        assert!(
            held.used() <= holds + 2 * HOLD_STEP,
            "{n}: {} reserved for {holds} held",
            held.used()
        );
        assert!(
            held.used() - before <= HOLD_STEP + file.len(),
            "{n}: one step"
        );
    }
    assert!(
        n * file.len() > budget - 2 * HOLD_STEP,
        "only {n} files held"
    );
    assert_eq!(held.used(), 0, "everything dropped once over");
    // Nothing more is kept, even what would fit now.
    held.offer(RelPath::new("b.md").unwrap(), Sha256([0; 32]), b"b", false);
    assert!(held.files().is_none());
    assert_eq!(held.used(), 0);
}

/// What the render holds anyway is charged against the same budget: held bytes that would
/// pass it beside the charge are not kept, and a charge past it drops what is held.
#[test]
fn charged_bytes_count_against_the_hold_budget() {
    let mut held = Held::new(1 << 20);
    held.charge(1000 << 10);
    held.offer(
        RelPath::new("a.md").unwrap(),
        Sha256([0; 32]),
        &[1; 10 << 10],
        false,
    );
    assert_eq!(held.files().unwrap().count(), 1);
    assert!(held.used() <= 1 << 20);
    held.offer(
        RelPath::new("b.md").unwrap(),
        Sha256([0; 32]),
        &[1; 30 << 10],
        false,
    );
    assert!(held.files().is_none(), "30 KiB more is past the budget");

    let mut held = Held::new(1 << 20);
    held.offer(
        RelPath::new("a.md").unwrap(),
        Sha256([0; 32]),
        &[1; 10 << 10],
        false,
    );
    held.charge(1 << 20);
    assert!(
        held.files().is_none(),
        "a charge past the budget drops what is held"
    );
    assert_eq!(held.used(), 0);
}

/// The bytes of every section text a render keeps.
fn section_bytes(r: &Rendered) -> usize {
    r.target
        .entries()
        .filter_map(|e| match &e.desired {
            aiwg_core::target::Desired::Section { text, .. } => Some(text.len()),
            _ => None,
        })
        .sum()
}

/// A holding render charges the model's bodies and assets and the section texts it keeps:
/// a budget the output alone would fit, but not beside the model, holds nothing.
#[test]
fn a_holding_render_charges_the_model_and_its_sections() {
    let big = format!(
        "---\nname: a\ndescription: d\n---\n{}\n",
        "x".repeat(40_000)
    );
    let m = model(&[
        ("agents/a.md", &big),
        ("rules/r.md", "---\nalwaysApply: true\n---\nrule body\n"),
    ]);
    let platforms = platforms_of(&["claude-code", "codex", "cursor", "opencode"]);
    let options = RenderOptions::default();
    let hold = |budget: usize| {
        let mut held = Held::new(budget);
        let r = render_bodies(
            &m,
            &platforms,
            Scope::Project,
            &options,
            Bodies::Hold(&mut held),
        )
        .unwrap();
        (r, held)
    };
    let (r, held) = hold(usize::MAX);
    let output: usize = held.files().unwrap().map(|(_, _, b, _)| b.len()).sum();
    let model_bytes: usize = m.artifacts.iter().map(super::source_bytes).sum();
    let sections = section_bytes(&r);
    assert!(
        output > 40_000 && model_bytes > 40_000,
        "{output} {model_bytes}"
    );
    assert!(sections > 0, "{:?}", paths(&r));
    assert!(
        held.used() >= output + model_bytes + sections,
        "{} < {output} + {model_bytes} + {sections}",
        held.used()
    );
    // The budget it used holds the same files; less than output, model and sections does not.
    let need = held.used();
    let (r2, fits) = hold(need);
    assert_eq!(r2, r);
    assert!(fits.used() <= need);
    assert!(fits.files().unwrap().eq(held.files().unwrap()));
    for budget in [
        output + model_bytes + sections - 1,
        output + model_bytes - 1,
        output,
    ] {
        let (r3, over) = hold(budget);
        assert_eq!(r3, r, "budget {budget}");
        assert!(over.files().is_none(), "budget {budget}");
    }
}

/// A render whose whole files cannot fit beside the model gives up before it holds any
/// (the file kinds' least output is known once their places are chosen), and the estimate
/// never makes one give up that fits: for each platform alone and for all of them, the
/// budget a render used holds its files again.
#[test]
fn a_render_gives_up_holding_before_it_starts_when_its_files_cannot_fit() {
    let body = "x".repeat(20_000);
    let agent = |name: &str| format!("---\nname: {name}\ndescription: d\n---\n{body}\n");
    let command = format!("---\ndescription: c\n---\n{body}\n");
    let rule = format!("---\nalwaysApply: true\n---\n{body}\n");
    let skill = format!("---\nname: s\ndescription: d\n---\n{body}\n");
    let m = model(&[
        ("agents/a.md", &agent("a")),
        ("agents/b.md", &agent("b")),
        ("commands/c.md", &command),
        ("rules/r.md", &rule),
        ("skills/s/SKILL.md", &skill),
    ]);
    let options = RenderOptions::default();
    let hold = |platforms: &[&PlatformSpec], budget: usize| {
        let mut held = Held::new(budget);
        let r = render_bodies(
            &m,
            platforms,
            Scope::Project,
            &options,
            Bodies::Hold(&mut held),
        )
        .unwrap();
        (r, held)
    };
    let registry = Registry::builtin();
    let every: Vec<&PlatformSpec> = registry.all().iter().collect();
    let mut sets: Vec<Vec<&PlatformSpec>> = every.iter().map(|p| vec![*p]).collect();
    sets.push(every.clone());
    for platforms in &sets {
        let (r, held) = hold(platforms, usize::MAX);
        let need = held.used();
        let (again, fits) = hold(platforms, need);
        assert_eq!(again, r);
        assert!(
            fits.files().unwrap().eq(held.files().unwrap()),
            "{}: the budget it used ({need}) no longer holds its files",
            platforms[0].id
        );
    }
    // Every platform's files (several copies of each agent) cannot fit in a budget that
    // leaves room beside the model and the sections for one: nothing is ever held (without
    // the estimate, the first files were held until the budget ran out).
    let model_bytes: usize = m.artifacts.iter().map(super::source_bytes).sum();
    let (all, _) = hold(&every, usize::MAX);
    let sections = section_bytes(&all);
    let (_, over) = hold(&every, model_bytes + sections + 30_000);
    assert!(over.files().is_none());
    assert_eq!(over.most_reserved, 0, "held files before giving up");
    // One platform's files fit such a budget and are held.
    let claude = registry.resolve(&["claude-code"]).unwrap();
    let (_, one) = hold(&claude, usize::MAX);
    let (_, fits) = hold(&claude, one.used());
    assert!(fits.files().is_some());
}

/// Platforms sharing AGENTS.md get one section of each kind and source, made once: the
/// entry names every platform, as when each made the same text and the target state merged
/// them (debug builds also make it again and compare), and its text is made once.
#[test]
fn a_shared_section_serves_every_platform_sharing_its_file() {
    let m = model(&[
        ("rules/r.md", "---\nalwaysApply: true\n---\nrule body\n"),
        ("agents/a.md", AGENT),
    ]);
    super::sections::SECTIONS_MADE.with(|n| n.set(0));
    let r = run(
        &m,
        &["codex", "amp", "crush", "goose", "junie"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let shared: Vec<_> = r
        .target
        .entries()
        .filter(|e| {
            e.path.as_str() == "AGENTS.md"
                && matches!(&e.desired, aiwg_core::target::Desired::Section { .. })
        })
        .collect();
    assert!(!shared.is_empty(), "{:?}", paths(&r));
    let most = shared.iter().map(|e| e.origin.platforms.len()).max();
    assert!(
        most >= Some(3),
        "{:?}",
        shared
            .iter()
            .map(|e| e.origin.to_string())
            .collect::<Vec<_>>()
    );
    let sections = r
        .target
        .entries()
        .filter(|e| matches!(&e.desired, aiwg_core::target::Desired::Section { .. }))
        .count();
    let made = super::sections::SECTIONS_MADE.with(|n| n.get());
    assert_eq!(made, sections, "each section's text made once");
}

/// Memory per file: a render of tens of thousands of files holds one origin per entry, so
/// its texts are made once and shared, never allocated per file.
#[test]
fn origins_share_their_texts_across_entries() {
    let other = AGENT.replace("name: a", "name: b");
    let m = model(&[("agents/a.md", AGENT), ("agents/b.md", &other)]);
    let r = run(
        &m,
        &["claude-code", "cursor"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let origins: Vec<&Origin> = r.target.entries().map(|e| &e.origin).collect();
    assert!(origins.len() >= 4, "{:?}", paths(&r));
    let mut shared_artifacts = 0;
    for (i, a) in origins.iter().enumerate() {
        for b in &origins[i + 1..] {
            assert!(Arc::ptr_eq(&a.source, &b.source), "{a} / {b}");
            if a.artifact == b.artifact {
                assert!(Arc::ptr_eq(&a.artifact, &b.artifact), "{a} / {b}");
                shared_artifacts += 1;
            }
            if a.platforms == b.platforms {
                assert!(Arc::ptr_eq(&a.platforms, &b.platforms), "{a} / {b}");
            }
        }
    }
    assert!(
        shared_artifacts > 0,
        "each agent is written for both platforms"
    );
}

/// Memory per file: every entry of one artifact for the same platforms holds the same shared
/// name and list, merged entries (a skill folder several `.agents/` readers share) too.
#[test]
fn entries_of_an_artifact_share_one_origin_merged_or_not() {
    let m = model(&[
        ("skills/a/SKILL.md", SKILL_A),
        ("skills/a/references/one.md", "one\n"),
        ("skills/a/references/two.md", "two\n"),
        ("skills/b/SKILL.md", SKILL_B),
        ("skills/b/references/three.md", "three\n"),
    ]);
    let r = run(
        &m,
        &["amp", "claude-code", "codex", "cursor"],
        Scope::Project,
        &RenderOptions::default(),
    );
    let mut by_origin: BTreeMap<&Origin, Vec<&Origin>> = BTreeMap::new();
    for e in r.target.entries() {
        by_origin.entry(&e.origin).or_default().push(&e.origin);
    }
    let mut merged = 0;
    for (origin, all) in &by_origin {
        assert!(
            all.iter().all(|o| Arc::ptr_eq(o.name(), all[0].name())
                && Arc::ptr_eq(&o.platforms, &all[0].platforms)),
            "{origin}: {} entries, not one name and list",
            all.len()
        );
        if origin.platforms.len() > 1 && all.len() > 1 {
            merged += 1;
        }
    }
    assert!(merged >= 2, "{:?}", by_origin.keys().collect::<Vec<_>>());
    // And one name per artifact, for all its platforms and files.
    let mut names = BTreeMap::new();
    for e in r.target.entries() {
        let first = names.entry(&*e.origin.artifact).or_insert(e.origin.name());
        assert!(Arc::ptr_eq(first, e.origin.name()), "{}", e.origin);
    }
    assert!(names.len() >= 2, "{names:?}");
    assert!(by_origin.len() >= 4, "{:?}", paths(&r));
}

/// Everything a render gives, in every `Bodies` mode: the target state and notices (or the
/// error), each whole file a streaming render hands out in order (a path several platforms
/// want comes once per platform), and the files a holding render keeps, in order.
type Everything = Vec<(
    Result<Rendered, RenderError>,
    Vec<(String, Vec<u8>, bool)>,
    Option<Vec<(String, String, Vec<u8>, bool)>>,
)>;

fn everything(m: &Model, platforms: &[&PlatformSpec], scope: Scope) -> Everything {
    let options = RenderOptions::default();
    let mut out = Vec::new();
    for mode in 0..4 {
        let mut streamed = Vec::new();
        let mut sink = |p: &RelPath, bytes: &[u8], x: bool| {
            streamed.push((p.to_string(), bytes.to_vec(), x));
        };
        let mut held = Held::new(64 << 20);
        let bodies = match mode {
            0 => Bodies::Keep,
            1 => Bodies::Digest,
            2 => Bodies::Stream(&mut sink),
            _ => Bodies::Hold(&mut held),
        };
        let r = render_bodies(m, platforms, scope, &options, bodies);
        let kept = (mode == 3).then(|| {
            held.files()
                .expect("fits")
                .map(|(p, sha, bytes, x)| (p.to_string(), sha.to_string(), bytes.to_vec(), x))
                .collect()
        });
        out.push((r, streamed, kept));
    }
    out
}

/// Whole files are made on every core in batches: the result, every notice and clash, and
/// the order files are handed out and held in are those of a render on one thread.
#[test]
fn a_render_on_every_core_equals_one_on_one_thread() {
    use aiwg_core::par::REFUSE_THREADS;
    use std::sync::atomic::Ordering;
    let mut files: Vec<(String, String)> = Vec::new();
    for i in 0..40 {
        // Tiers, foreign models and unknown tools give notices from the worker threads.
        let model = ["opus", "gpt-9", "haiku", "inherit"][i % 4];
        let tools = ["Read, Bash", "Frobnicate", "Task"][i % 3];
        files.push((
            format!("agents/a{i:02}.md"),
            format!("---\nname: a{i:02}\ndescription: agent {i}\nmodel: {model}\ntools: {tools}\n---\nbody {i}\n"),
        ));
        files.push((
            format!("commands/c{i:02}.md"),
            format!("---\ndescription: command {i}\n---\nrun $ARGUMENTS {i}\n"),
        ));
        let when = [
            "globs: \"*.rs\"",
            "alwaysApply: true",
            "description: when {i}",
        ][i % 3];
        files.push((
            format!("rules/r{i:02}.md"),
            format!("---\n{when}\n---\nrule {i}\n"),
        ));
        files.push((
            format!("skills/s{i:02}/SKILL.md"),
            format!("---\nname: s{i:02}\ndescription: skill {i}\n---\nskill {i}\n"),
        ));
        files.push((
            format!("skills/s{i:02}/scripts/x.sh"),
            format!("echo {i}\n"),
        ));
        files.push((
            format!("runbooks/b{i:02}.md"),
            format!("---\ndescription: runbook {i}\n---\nsteps {i}\n"),
        ));
    }
    let load_all = |files: &[(String, String)]| {
        let loaded = load(&SourceTree::from_files(
            "src",
            "src",
            files
                .iter()
                .map(|(p, t)| SourceFile {
                    path: RelPath::new(p).unwrap(),
                    bytes: t.as_bytes().to_vec(),
                    executable: p.ends_with(".sh"),
                })
                .collect(),
        ));
        // Runbooks without the usual headings only warn.
        assert!(
            loaded
                .diagnostics
                .iter()
                .all(|d| d.severity != aiwg_core::diag::Severity::Error),
            "{:?}",
            loaded.diagnostics
        );
        Model {
            artifacts: loaded.artifacts,
        }
    };
    let m = load_all(&files);
    // Bodies past one batch's bytes: batches are cut inside a kind, one artifact alone too.
    let big = "x".repeat(BATCH_BYTES * 2 / 5);
    for i in 0..5 {
        files.push((
            format!("agents/big{i}.md"),
            format!("---\nname: big{i}\ndescription: big\n---\n{big}\n"),
        ));
    }
    files.push((
        "skills/huge/SKILL.md".into(),
        format!("---\nname: huge\ndescription: huge\n---\n{big}{big}\n"),
    ));
    files.push(("skills/huge/data.txt".into(), format!("{big}{big}")));
    let m_big = load_all(&files);
    // A clash: a second source's agent of a name the first has, with other text.
    let mut clashing = m.clone();
    let other = load(&SourceTree::from_files(
        "other",
        "other",
        vec![SourceFile {
            path: RelPath::new("agents/a07.md").unwrap(),
            bytes: b"---\nname: a07\ndescription: other\n---\nother\n".to_vec(),
            executable: false,
        }],
    ));
    clashing.artifacts.extend(other.artifacts);
    let all: Vec<&PlatformSpec> = Registry::builtin().all().iter().collect();
    let one = platforms_of(&["claude-code"]);
    let cases = [
        (&m, &all, Scope::Project),
        (&m, &all, Scope::User),
        (&m_big, &one, Scope::Project),
        (&clashing, &all, Scope::Project),
    ];
    for (i, (m, platforms, scope)) in cases.into_iter().enumerate() {
        let parallel = everything(m, platforms, scope);
        REFUSE_THREADS.store(true, Ordering::Relaxed);
        let serial = std::panic::catch_unwind(|| everything(m, platforms, scope));
        REFUSE_THREADS.store(false, Ordering::Relaxed);
        let serial = serial.unwrap();
        if i == 3 {
            assert!(
                matches!(&serial[0].0, Err(RenderError::Clash(_))),
                "{:?}",
                serial[0].0.as_ref().err()
            );
        } else {
            let r = serial[0].0.as_ref().unwrap();
            assert!(r.target.len() > 200, "case {i}: {}", r.target.len());
            assert!(r.notices.iter().any(|n| n.level == NoticeLevel::Warning));
            assert!(serial[2].1.len() > 200, "case {i}: streamed");
        }
        for (mode, (p, s)) in parallel.iter().zip(&serial).enumerate() {
            assert!(
                p.0 == s.0,
                "case {i}, mode {mode}: target, notices or error"
            );
            assert!(p.1 == s.1, "case {i}, mode {mode}: streamed order");
            assert!(p.2 == s.2, "case {i}, mode {mode}: held order");
        }
    }
}

/// A panic while a worker thread makes a file reaches the caller, as `par_map` passes it on.
#[test]
fn a_panic_while_making_files_reaches_the_caller() {
    let m = model(
        &(0..32)
            .map(|i| {
                (
                    format!("agents/a{i:02}.md"),
                    AGENT.replace("name: a", &format!("name: a{i:02}")),
                )
            })
            .collect::<Vec<_>>()
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect::<Vec<_>>(),
    );
    let items: Vec<&Artifact> = sorted(&m, Kind::Agent);
    let platforms = platforms_of(&["claude-code"]);
    let options = RenderOptions::default();
    let mut r = Renderer {
        shared: Shared {
            scope: Scope::Project,
            options: &options,
            excludes: BTreeMap::new(),
            making: Making::Bytes,
            notes: Mutex::default(),
        },
        target: TargetState::new(),
        runbook_skills: BTreeMap::new(),
        bodies: Bodies::Keep,
        origin_texts: Default::default(),
        section_inputs: Default::default(),
    };
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        r.batches(
            &items,
            |_, a| {
                assert!(a.name != "a29", "made {}", a.name);
                a.name.clone()
            },
            |_, _, _| Ok(()),
        )
    }));
    let message = panicked.expect_err("the panic is passed on");
    let message = message
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(message.contains("made a29"), "{message}");
    let _ = platforms;
}
