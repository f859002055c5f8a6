//! Which platforms a folder already shows signs of (`.claude/`, `.cursor/`, `AGENTS.md` ...):
//! a new `aiwg.toml`, and a run with none, deploy to those and no others.

use std::path::Path;

use aiwg_platforms::DEFAULT_PLATFORMS;

/// Files and folders whose presence shows a team uses a platform, in the project root or (user
/// scope) the home folder. `.github/` alone is not a sign of Copilot (most repositories have
/// workflows there), so only Copilot's own files under it count.
const MARKERS: &[(&str, &str)] = &[
    (".claude", "claude-code"),
    ("CLAUDE.md", "claude-code"),
    (".codex", "codex"),
    (".github/copilot-instructions.md", "copilot"),
    (".github/instructions", "copilot"),
    (".github/prompts", "copilot"),
    (".github/agents", "copilot"),
    (".cursor", "cursor"),
    (".cursorrules", "cursor"),
    ("WARP.md", "warp"),
    (".warp", "warp"),
    (".factory", "factory"),
    (".opencode", "opencode"),
    ("opencode.json", "opencode"),
    (".windsurf", "windsurf"),
    (".windsurfrules", "windsurf"),
    (".devin", "windsurf"),
    (".hermes.md", "hermes"),
    ("HERMES.md", "hermes"),
    (".gemini", "antigravity"),
    ("GEMINI.md", "antigravity"),
    ("AGENTS.md", "agents-md"),
];

/// The platforms whose files exist under `root`, in [`DEFAULT_PLATFORMS`] order.
pub fn platforms(root: &Path) -> Vec<String> {
    DEFAULT_PLATFORMS
        .iter()
        .filter(|id| {
            MARKERS
                .iter()
                .any(|(marker, platform)| platform == *id && root.join(marker).exists())
        })
        .map(|id| id.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn detects_platform_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::platforms(dir.path()).is_empty());
        std::fs::create_dir_all(dir.path().join(".cursor")).unwrap();
        std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "x").unwrap();
        assert_eq!(super::platforms(dir.path()), vec!["cursor", "agents-md"]);
    }
}
