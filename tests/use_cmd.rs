//! `aiwg use` end to end: a new `aiwg.toml` with detected (or all twelve) platforms, a second
//! run that changes nothing, `use stream` after `use sdlc`, skills landing where every
//! platform reads them, path sources in the Node aiwg layout, `--dry-run`, and `remove`.

use aiwg_core::target::Scope;
use aiwg_platforms::Registry;

use crate::support::{repo_root, Test};

fn git_repo() -> Test {
    let t = Test::new();
    std::fs::create_dir_all(t.root().join(".git")).unwrap();
    t
}

/// The last line of stderr: the apply summary.
fn summary(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or("")
}

#[test]
fn use_sdlc_then_stream_puts_both_deploy_skills_where_every_platform_reads_skills() {
    let t = git_repo();
    let (code, _, err) = t.run(&["use", "sdlc"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("no platform files found: deploying to all 12"),
        "{err}"
    );
    assert!(err.contains("created `aiwg.toml`"), "{err}");
    let (code, _, err) = t.run(&["use", "stream", "-v"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("added `stream` to `sources` in `aiwg.toml`"),
        "{err}"
    );
    assert_eq!(
        aiwg_core::config::Config::parse(std::path::Path::new("aiwg.toml"), &t.read("aiwg.toml"))
            .unwrap()
            .sources,
        vec!["sdlc", "stream"]
    );

    let registry = Registry::builtin();
    for spec in registry.defaults() {
        let id = spec.id.as_str();
        let folders = spec.skill.reads(Scope::Project);
        for skill in ["service-deploy", "stream-deploy"] {
            if folders.is_empty() {
                // No skills folder in a repository: the platform says where its skills went.
                assert!(
                    err.lines()
                        .any(|l| l.contains(&format!("{id}: ")) && l.contains("skill")),
                    "{id} has no project skills folder and says nothing about skills:\n{err}"
                );
                continue;
            }
            let found: Vec<&str> = folders
                .iter()
                .copied()
                .filter(|f| t.exists(&format!("{f}/{skill}/SKILL.md")))
                .collect();
            assert!(
                !found.is_empty(),
                "{id} reads skills from {folders:?} but `{skill}` is in none"
            );
        }
    }
    // The skill's templates and runbook travel with it.
    assert!(t.exists(".claude/skills/stream-deploy/templates/encoder-config.yaml"));
    assert!(t.exists(".claude/skills/service-deploy/runbooks/service-deployment.md"));

    // Hermes and the AGENTS.md standard have no skills folder here, but the runbooks are
    // written as skills for the others: AGENTS.md only indexes them, and stays under Hermes's
    // 20,000-character cap (8,569 bytes when measured; 27,500 with the runbooks' full text).
    let agents_md = t.read("AGENTS.md");
    assert!(
        agents_md.len() < 20_000,
        "AGENTS.md is {} bytes",
        agents_md.len()
    );
    let skill_md = ".agents/skills/service-deployment/SKILL.md";
    assert!(agents_md.contains(&format!("Read `{skill_md}` before carrying out")));
    assert!(t.read(skill_md).contains("## Rollback"));
    assert!(!agents_md.contains("## Rollback"));
    assert!(!err.contains("already over"), "{err}");

    let (code, out, err) = t.run(&["check"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}

#[test]
fn running_use_twice_changes_nothing() {
    let t = git_repo();
    let (code, _, err) = t.run(&["use", "sdlc", "--platforms", "claude-code,codex"]);
    assert_eq!(code, 0, "{err}");
    let config = t.read("aiwg.toml");
    let lock = t.read("aiwg.lock");
    let (code, _, err) = t.run(&["use", "sdlc", "--platforms", "claude-code,codex"]);
    assert_eq!(code, 0, "{err}");
    assert!(summary(&err).starts_with("nothing to change: "), "{err}");
    assert!(
        !err.contains("aiwg.toml"),
        "nothing to say about the config: {err}"
    );
    assert_eq!(t.read("aiwg.toml"), config);
    assert_eq!(t.read("aiwg.lock"), lock);
}

#[test]
fn detected_platforms_are_used_and_said() {
    let t = git_repo();
    std::fs::create_dir_all(t.root().join(".cursor")).unwrap();
    std::fs::create_dir_all(t.root().join(".github/workflows")).unwrap();
    let (code, _, err) = t.run(&["use", "sdlc"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("found files of cursor: deploying to them"),
        "{err}"
    );
    assert!(t.exists(".cursor/rules/commit-hygiene.mdc"));
    assert!(!t.exists(".claude"), "only the detected platform");
    assert!(
        !t.exists(".github/agents"),
        "a workflows folder is not Copilot"
    );
}

#[test]
fn use_all_takes_every_bundled_framework() {
    let t = git_repo();
    let (code, _, err) = t.run(&["use", "all", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        t.read("aiwg.toml")
            .contains("sources = [\"sdlc\", \"stream\"]"),
        "{}",
        t.read("aiwg.toml")
    );
    assert!(t.exists(".claude/skills/stream-deploy/SKILL.md"));
}

#[test]
fn dry_run_writes_nothing_not_even_the_config() {
    let t = git_repo();
    let (code, out, err) = t.run(&["use", "sdlc", "--dry-run", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("+++ b/.claude/agents/code-reviewer.md"),
        "{out}"
    );
    let left: Vec<_> = std::fs::read_dir(t.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from(".git")]);
}

#[test]
fn a_node_aiwg_framework_folder_works_as_a_source() {
    let t = git_repo();
    let fixture = repo_root().join("tests/fixtures/aiwg-framework");
    let spec = format!("legacy@{}", fixture.display());
    let (code, _, err) = t.run(&["use", &spec, "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    let agents: Vec<_> = std::fs::read_dir(t.root().join(".claude/agents"))
        .unwrap()
        .collect();
    assert!(!agents.is_empty(), "{err}");
    assert!(
        t.read("aiwg.toml").contains("legacy@"),
        "{}",
        t.read("aiwg.toml")
    );
}

#[test]
fn unknown_names_and_remove_undo_use() {
    let t = git_repo();
    let (code, _, err) = t.run(&["use", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`nope` is neither a bundled framework nor a folder"),
        "{err}"
    );
    assert!(err.contains("hint: bundled: sdlc, stream, all"), "{err}");
    assert!(!t.exists("aiwg.toml"));

    t.run(&["use", "stream", "--platforms", "claude-code"]);
    assert!(t.exists(".claude/skills/stream-deploy/SKILL.md"));
    let (code, _, err) = t.run(&["remove", "stream"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists(".claude/skills/stream-deploy"));
    assert!(
        t.exists(".claude/skills/service-deploy/SKILL.md"),
        "sdlc stays"
    );
    assert!(!t.read("aiwg.toml").contains("stream"));
}

#[test]
fn the_first_use_says_what_it_wrote_per_platform_in_a_few_lines() {
    let t = git_repo();
    t.write("CLAUDE.md", "# Mine\n")
        .write("AGENTS.md", "# Ours\n");
    let snap = t.snap(&["use", "sdlc"]);
    // The bundled content grows: the count of files under `.claude/` shows as `N`.
    let n = walk_files(&t.root().join(".claude"));
    let snap = snap
        .replace(&format!("{n:>2} files"), " N files")
        .replace(&format!("{n} created"), "N created");
    insta::assert_snapshot!(snap, @"
    exit 0
    --- stdout
    --- stderr
    found files of agents-md, claude-code: deploying to them
    hook: installs `destructive-guard` from `sdlc` (runs `scripts/destructive-guard.sh` on PreToolUse): .claude/hooks/destructive-guard/README.md, .claude/hooks/destructive-guard/scripts/destructive-guard.sh, .claude/settings.json
    hook: installs `secret-guard` from `sdlc` (runs `scripts/secret-guard.sh` on PreToolUse): .claude/hooks/secret-guard/README.md, .claude/hooks/secret-guard/scripts/secret-guard.sh, .claude/settings.json
      agents-md       1 file   AGENTS.md
      claude-code     N files  .claude/
    N created, 1 updated, 0 deleted, 0 unchanged
    note: 1 warning and 7 notes on how the platforms take this content (`aiwg status --notes` lists them)
    created `aiwg.toml`
    ");
    // `-q` says nothing when all went well; `-v` adds every note.
    let (code, out, err) = t.run(&["apply", "-q"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    std::fs::remove_file(t.root().join(".claude/agents/code-reviewer.md")).unwrap();
    let (code, _, err) = t.run(&["apply", "-v"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.lines().filter(|l| l.starts_with("note: ")).count() >= 2,
        "{err}"
    );
}

/// R6: two `aiwg use` at once each keep the other's edit of `aiwg.toml` (it is read and
/// written under the process lock), and the result is clean.
#[test]
fn concurrent_use_keeps_both_sources() {
    for round in 0..6 {
        let t = Test::new();
        t.write("aiwg.toml", "sources = []\nplatforms = [\"claude-code\"]\n")
            .write("s1/agents/x1.md", "---\ndescription: d\n---\nb\n")
            .write("s2/agents/x2.md", "---\ndescription: d\n---\nb\n");
        let children: Vec<_> = ["s1", "s2"]
            .map(|s| {
                let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("aiwg"));
                cmd.args(["use", s])
                    .current_dir(t.root())
                    .env("HOME", t.home())
                    .env("AIWG_HOME", t.home())
                    .stderr(std::process::Stdio::null());
                cmd.spawn().unwrap()
            })
            .into_iter()
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success(), "round {round}");
        }
        let config = t.read("aiwg.toml");
        assert!(
            config.contains("\"s1\"") && config.contains("\"s2\""),
            "round {round}: {config}"
        );
        let (code, out, err) = t.run(&["check"]);
        assert_eq!(code, 0, "round {round}: {out}{err}");
    }
}

/// How many files are below `dir`.
fn walk_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| match e.file_type().unwrap().is_dir() {
            true => walk_files(&e.path()),
            false => 1,
        })
        .sum()
}
