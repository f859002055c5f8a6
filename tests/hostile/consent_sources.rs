//! Guarantee 3, sources (R10, 11.2): a repository's `sources` cannot reach outside it (`..`,
//! an absolute path, a symlinked `.aiwg`) without consent; what the user typed is consent.

use super::{assert_names, Hostile, Output};

/// The user's private agent and a skill with a token, in the fake home.
fn private_files(c: &super::Hostile) {
    c.write_home(
        ".claude/agents/private.md",
        "---\nname: private\ndescription: internal\n---\nINTERNAL db.corp.internal\n",
    );
    c.write_home(
        ".claude/skills/deploy-keys/SKILL.md",
        "---\nname: deploy-keys\ndescription: mine\n---\nbody\n",
    );
    c.write_home(".claude/skills/deploy-keys/token.env", "TOKEN=abc123\n");
}

fn assert_nothing_copied(c: &super::Hostile) {
    let status = c.git(&c.victim(), &["status", "--short", "-uall"]);
    assert!(
        !status.contains("private") && !status.contains("token"),
        "{status}"
    );
}

#[test]
fn a_relative_source_above_the_clone_is_refused_naming_the_line() {
    let c = Hostile::new();
    c.write(
        "aiwg.toml",
        "platforms = [\"claude-code\", \"codex\"]\nsources = [\"x@../../.claude\"]\n",
    )
    .clone();
    private_files(&c);
    let before = c.outside();
    for args in [
        &["apply"][..],
        &["validate"],
        &["list"],
        &["check"],
        &["diff"],
    ] {
        let Output {
            code, stderr: err, ..
        } = c.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_names(
            &err,
            &[
                "aiwg.toml:2",
                "x@../../.claude",
                "outside the project",
                "hint:",
                "--trust",
            ],
        );
    }
    assert_nothing_copied(&c);
    c.assert_contained(&before);
}

#[test]
fn an_absolute_source_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("agents")).unwrap();
    std::fs::write(
        outside.path().join("agents/x.md"),
        "---\ndescription: d\n---\nb\n",
    )
    .unwrap();
    let config = format!(
        "sources = [{:?}]\nplatforms = [\"claude-code\"]\n",
        outside.path()
    );
    let c = Hostile::new();
    c.write("aiwg.toml", &config).clone();
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(&err, &["aiwg.toml:1", "outside the project"]);
    assert!(!c.victim().join(".claude/agents/x.md").exists());
    c.assert_contained(&before);
}

#[test]
fn a_symlinked_default_source_is_refused_with_or_without_aiwg_toml() {
    for config in [
        None,
        Some("sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n"),
    ] {
        let c = Hostile::new();
        c.symlink(".aiwg", "../../.claude");
        if let Some(text) = config {
            c.write("aiwg.toml", text);
        }
        c.clone();
        private_files(&c);
        let before = c.outside();
        let Output {
            code, stderr: err, ..
        } = c.run(&["apply", "--platforms", "claude-code"]);
        assert_eq!(code, 2, "{config:?}: {err}");
        assert_names(&err, &["source `.aiwg` is outside the project"]);
        assert_nothing_copied(&c);
        c.assert_contained(&before);
    }
}

#[test]
fn a_source_that_climbs_out_and_back_in_is_inside() {
    let c = Hostile::new();
    c.agent(".aiwg")
        .write(
            "aiwg.toml",
            "sources = [\"../victim/.aiwg\"]\nplatforms = [\"claude-code\"]\n",
        )
        .clone();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(c.victim().join(".claude/agents/a1.md").exists());
}

/// The team workflow: a framework checked out beside the repository. The author's own
/// `aiwg use ../fw` is consent; a teammate's clone needs one `aiwg trust`, once.
#[test]
fn a_shared_framework_beside_the_repo_is_one_command_for_author_and_teammate() {
    let c = Hostile::new();
    c.clone();
    let fw = c.home().join("src/fw");
    std::fs::create_dir_all(fw.join("agents")).unwrap();
    std::fs::write(fw.join("agents/shared.md"), "---\ndescription: d\n---\nb\n").unwrap();
    // The author.
    let Output {
        code, stderr: err, ..
    } = c.run(&["use", "../fw", "--platforms", "claude-code"]);
    assert_eq!(code, 0, "{err}");
    let Output {
        code, stderr: err, ..
    } = c.run(&["check"]);
    assert_eq!(code, 0, "{err}");
    // A teammate's clone of the author's commit.
    c.git(&c.victim(), &["add", "-A"]);
    c.git(&c.victim(), &["commit", "-qm", "use fw"]);
    let mate = c.home().join("src/mate");
    c.git(&c.home().join("src"), &["clone", "-q", "victim", "mate"]);
    let Output {
        code, stderr: err, ..
    } = c.run_in(&mate, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert_names(&err, &["source `../fw`", "aiwg trust"]);
    let Output {
        code, stderr: err, ..
    } = c.run_in(&mate, &["trust"]);
    assert_eq!(code, 0, "{err}");
    assert_names(&err, &["[new]", "../fw", "allowed"]);
    let Output {
        code, stderr: err, ..
    } = c.run_in(&mate, &["apply"]);
    assert_eq!(code, 0, "{err}");
    // Re-pointing the source elsewhere asks again.
    let other = c.home().join("src/other");
    std::fs::create_dir_all(other.join("agents")).unwrap();
    std::fs::rename(&fw, c.home().join("src/fw-old")).unwrap();
    std::os::unix::fs::symlink(&other, &fw).unwrap();
    let Output {
        code, stderr: err, ..
    } = c.run_in(&mate, &["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(&err, &["changed what it asks for", "source `../fw`"]);
}

#[test]
fn a_folder_given_on_the_command_line_is_consent() {
    let c = Hostile::new();
    c.clone();
    let fw = c.home().join("src/fw");
    std::fs::create_dir_all(fw.join("agents")).unwrap();
    std::fs::write(fw.join("agents/shared.md"), "---\ndescription: d\n---\nb\n").unwrap();
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = c.run(&["validate", "../fw"]);
    assert_eq!(code, 0, "{out}{err}");
}

/// A `~` in a source is a folder name, never the home folder.
#[test]
fn a_tilde_source_is_not_the_home_folder() {
    let c = Hostile::new();
    c.write(
        "aiwg.toml",
        "sources = [\"x@~/.claude\"]\nplatforms = [\"claude-code\"]\n",
    )
    .clone();
    private_files(&c);
    let before = c.outside();
    let Output {
        code, stderr: err, ..
    } = c.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert_names(&err, &["x@~/.claude", "neither a folder", "hint:"]);
    assert_nothing_copied(&c);
    c.assert_contained(&before);
}
