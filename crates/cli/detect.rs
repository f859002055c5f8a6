//! Which platforms a folder already shows signs of (`.claude/`, `.cursor/`, `AGENTS.md` ...),
//! from the `detect` markers of `platforms/*.toml`: a new `aiwg.toml` deploys to those.

use std::path::Path;

use aiwg_platforms::Registry;

/// The platforms whose `detect` markers exist under `root` (the project root, or the home
/// folder in user scope), by id, sorted. `.github/` alone is not a sign of Copilot (most
/// repositories have workflows there), so Copilot's markers are its own files under it.
pub fn platforms(root: &Path) -> Vec<String> {
    Registry::builtin()
        .detect(|marker| root.join(marker).exists())
        .iter()
        .map(|p| p.id.clone())
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
        assert_eq!(super::platforms(dir.path()), vec!["agents-md", "cursor"]);
        std::fs::create_dir_all(dir.path().join(".kiro/steering")).unwrap();
        assert_eq!(
            super::platforms(dir.path()),
            vec!["agents-md", "cursor", "kiro"]
        );
    }
}
