//! Guarantee 5 (R11): user scope is per project. One project's `apply --scope user` never
//! deletes or changes what another project deployed into the home folder.

use super::{Hostile, Output};

fn agent(dir: &std::path::Path, name: &str) {
    std::fs::create_dir_all(dir.join(".aiwg/agents")).unwrap();
    std::fs::write(
        dir.join(format!(".aiwg/agents/{name}.md")),
        "---\ndescription: d\n---\nb\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("aiwg.toml"),
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\nscope = \"user\"\n",
    )
    .unwrap();
}

#[test]
fn another_projects_user_deploy_survives_apply_and_uninstall() {
    let c = Hostile::new();
    c.clone();
    let a = c.user_deploy_of_another_project("a");
    let agents = c.home().join(".claude/agents");
    let before: Vec<_> = std::fs::read_dir(&agents)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(before.len() > 5);
    // Project B, trusted by its user, deploys its own agent in user scope.
    let b = c.home().join("src/b");
    agent(&b, "bee");
    let Output {
        code, stderr: err, ..
    } = c.run_in(&b, &["apply", "--allow-user-scope"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("user scope: writing into your home folder"),
        "{err}"
    );
    assert!(err.contains(" 0 deleted"), "{err}");
    assert!(agents.join("bee.md").is_file());
    for name in &before {
        assert!(agents.join(name).is_file(), "{name:?} of project A is gone");
    }
    // B's uninstall takes only B's file.
    let Output {
        code, stderr: err, ..
    } = c.run_in(&b, &["uninstall", "--scope", "user"]);
    assert_eq!(code, 0, "{err}");
    assert!(!agents.join("bee.md").exists());
    let after: Vec<_> = std::fs::read_dir(&agents)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(after.len(), before.len(), "{after:?}");
    // The user's own deploy is still clean.
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = c.run_in(&a, &["check", "--scope", "user"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_file_another_project_deployed_is_a_conflict_not_an_overwrite() {
    let c = Hostile::new();
    c.clone();
    let a = c.home().join("src/a");
    let b = c.home().join("src/b");
    agent(&a, "same");
    agent(&b, "same");
    std::fs::write(
        b.join(".aiwg/agents/same.md"),
        "---\ndescription: other\n---\nB's text\n",
    )
    .unwrap();
    let Output {
        code, stderr: err, ..
    } = c.run_in(&a, &["apply", "--allow-user-scope"]);
    assert_eq!(code, 0, "{err}");
    let file = c.home().join(".claude/agents/same.md");
    let a_bytes = std::fs::read(&file).unwrap();
    let Output {
        code, stderr: err, ..
    } = c.run_in(&b, &["apply", "--allow-user-scope"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("conflict: `~/.claude/agents/same.md`"),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), a_bytes);
}
