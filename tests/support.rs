//! `Test`: a temp project to run the `aiwg` binary in, with `HOME` and `AIWG_HOME`
//! redirected to temp folders so no test touches the real home.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A temp folder holding a project and a fake home.
pub struct Test {
    dir: TempDir,
}

impl Test {
    /// An empty project.
    pub fn new() -> Test {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("project")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Test { dir }
    }

    /// The project folder.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    /// The fake home folder.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Writes `text` to `rel` in the project, creating folders.
    pub fn write(&self, rel: &str, text: &str) -> &Test {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Writes the user scope's own `aiwg.toml` (in the fake `AIWG_HOME`): the project's
    /// `.aiwg/` as its source, deployed to `platforms`.
    pub fn user_config(&self, platforms: &[&str]) -> &Test {
        let source = self.root().join(".aiwg");
        let ids: Vec<String> = platforms.iter().map(|p| format!("{p:?}")).collect();
        let text = format!(
            "sources = [{:?}]\nplatforms = [{}]\nscope = \"user\"\n",
            format!("mine@{}", source.display()),
            ids.join(", ")
        );
        std::fs::write(self.home().join("aiwg.toml"), text).unwrap();
        self
    }

    /// Reads `rel` from the project.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// True when `rel` exists in the project.
    pub fn exists(&self, rel: &str) -> bool {
        self.root().join(rel).exists()
    }

    /// Runs `aiwg args...` in the project: (exit code, stdout, stderr). A run killed by a
    /// signal has code -1.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.aiwg(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs `aiwg args...` and shows the whole outcome as one text for a snapshot: the exit
    /// code, stdout and stderr, with the temp folder written `[TEMP]`.
    pub fn snap(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        self.outcome(code, &out, &err)
    }

    /// `code`, `out` and `err` as [`Test::snap`] shows them.
    pub fn outcome(&self, code: i32, out: &str, err: &str) -> String {
        let temp = self.dir.path().to_string_lossy().into_owned();
        let text = format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}");
        text.replace(&temp, "[TEMP]")
    }

    /// `aiwg` with `args`, run in the project with the fake home.
    pub fn aiwg(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("aiwg").unwrap();
        cmd.args(args)
            .current_dir(self.root())
            .env("HOME", self.home())
            .env("AIWG_HOME", self.home())
            .env("NO_COLOR", "1")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("CODEX_HOME")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("HERMES_HOME")
            .env_remove("COPILOT_HOME")
            .env_remove("CONTINUE_GLOBAL_DIR")
            .env_remove("KIMI_CODE_HOME")
            .env_remove("VIBE_HOME");
        cmd
    }
}

/// The id of a process that has exited (a temp file named after it is a dead writer's).
pub fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// The repository root (for fixtures).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The user-scope state folder of the one project that deployed with `--scope user` under
/// `aiwg_home` (`projects/<hash of the project path>/`: each project keeps its own lock).
pub fn user_state_dir(aiwg_home: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(aiwg_home.join("projects"))
        .unwrap_or_else(|e| panic!("no user-scope state in {}: {e}", aiwg_home.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}
