//! `Guard`: the places a System never reads, writes, deletes or restores, checked on the
//! *resolved* path (every symlink on the way already followed by the System's own walk), so no
//! route — a spelled target, a symlinked folder, a lock entry, a history manifest — reaches them.
//!
//! Always protected: any path with a `.git` component (a repository's git dir, a worktree's or
//! submodule's `.git` pointer file). Added by the caller: other git dirs inside the root (a
//! worktree's or `--separate-git-dir` repository's) and aiwg's own state (`aiwg.lock`,
//! `.aiwg/`) for the System that writes targets. Comparisons ignore ASCII case, because on a
//! case-insensitive file system `.GIT/hooks` is `.git/hooks`.

/// Who owns a protected place, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A git directory (or a `.git` pointer file).
    Git,
    /// aiwg's lock, history, process lock or caches.
    Aiwg,
}

impl Owner {
    /// The words for messages: "git's directory", "aiwg's own state".
    pub fn describe(self) -> &'static str {
        match self {
            Owner::Git => "git's directory",
            Owner::Aiwg => "aiwg's own state",
        }
    }
}

/// The protected places of one System, as paths relative to its root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Guard {
    protected: Vec<(Vec<String>, Owner)>,
    allowed: Vec<Vec<String>>,
}

fn components(rel: &str) -> Vec<String> {
    rel.split('/')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// True when `path` is `prefix` or lies below it (component-wise, ignoring ASCII case).
fn within(path: &[&str], prefix: &[String]) -> bool {
    path.len() >= prefix.len()
        && path
            .iter()
            .zip(prefix)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

impl Guard {
    /// Protects `rel` (relative to the root, `/`-separated) and everything below it.
    pub(crate) fn protect(&mut self, rel: &str, owner: Owner) {
        let comps = components(rel);
        if !comps.is_empty() {
            self.protected.push((comps, owner));
        }
    }

    /// Lets the exact file `rel` (and the folders on its way) through, though protected: the
    /// state System edits `.git/info/exclude` so git ignores aiwg's history.
    pub(crate) fn allow(&mut self, rel: &str) {
        self.allowed.push(components(rel));
    }

    /// `Err(owner)` when the resolved path `real` (relative to the root) is protected.
    pub(crate) fn check(&self, real: &str) -> Result<(), Owner> {
        let path: Vec<&str> = real.split('/').filter(|c| !c.is_empty()).collect();
        // A folder on the way to an allowed file, or the file itself.
        if self.allowed.iter().any(|a| {
            a.len() >= path.len() && path.iter().zip(a).all(|(p, a)| p.eq_ignore_ascii_case(a))
        }) {
            return Ok(());
        }
        if path.iter().any(|c| c.eq_ignore_ascii_case(".git")) {
            return Err(Owner::Git);
        }
        match self.protected.iter().find(|(p, _)| within(&path, p)) {
            Some((_, owner)) => Err(*owner),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_components_and_protected_prefixes_are_refused_allowed_files_pass() {
        let mut g = Guard::default();
        g.protect("aiwg.lock", Owner::Aiwg);
        g.protect(".aiwg", Owner::Aiwg);
        g.protect("repo.git", Owner::Git);
        for (path, owner) in [
            (".git", Owner::Git),
            (".git/hooks/pre-commit", Owner::Git),
            ("sub/.GIT/config", Owner::Git),
            ("aiwg.lock", Owner::Aiwg),
            ("AIWG.LOCK", Owner::Aiwg),
            (".aiwg/history/1/manifest.toml", Owner::Aiwg),
            ("repo.git/HEAD", Owner::Git),
        ] {
            assert_eq!(g.check(path), Err(owner), "{path}");
        }
        for path in [
            "",
            "aiwg.lock.d/x",
            ".aiwgx",
            ".github/x",
            "a/.gitignore",
            "git/x",
        ] {
            assert_eq!(g.check(path), Ok(()), "{path}");
        }
        g.allow(".git/info/exclude");
        assert_eq!(g.check(".git"), Ok(()));
        assert_eq!(g.check(".git/info"), Ok(()));
        assert_eq!(g.check(".git/info/exclude"), Ok(()));
        assert_eq!(g.check(".git/info/attributes"), Err(Owner::Git));
        assert_eq!(g.check(".git/hooks"), Err(Owner::Git));
    }
}
