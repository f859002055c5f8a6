//! `cargo xtask docs` writes the man pages: `man/aiwg.1` and one `man/aiwg-<command>.1` per
//! command, from the clap definitions in `crates/cli/cli.rs` (compiled here as they are), so
//! the pages say exactly what `--help` says. A test fails when a page is stale.

use std::path::Path;

use anyhow::Context as _;

#[allow(dead_code, unused_imports)]
#[path = "../../crates/cli/cli.rs"]
mod cli;

/// Every page: its file name and its roff text.
pub fn pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = <cli::Cli as clap::CommandFactory>::command();
    // Built first, so each command's page lists the global options too.
    cmd.build();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut top)?;
    pages.push(("aiwg.1".to_string(), top));
    for sub in cmd.get_subcommands() {
        let name = format!("aiwg-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(&name)
            .version(cmd.get_version().unwrap_or_default().to_string());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

/// Writes every page into `dir` (and removes pages of commands that are gone).
pub fn write(dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let pages = pages()?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".1") && !pages.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(&path)?;
        }
    }
    let mut changed = 0;
    for (name, text) in &pages {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(text.as_slice()) {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    /// `man/` holds exactly what `cargo xtask docs` generates today.
    #[test]
    fn man_pages_are_fresh() {
        let dir = crate::root().join("man");
        let pages = super::pages().unwrap();
        for (name, text) in &pages {
            let on_disk = std::fs::read(dir.join(name)).unwrap_or_default();
            assert!(
                on_disk == *text,
                "man/{name} is stale: run `cargo xtask docs` and commit man/"
            );
        }
        let count = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "1")
            })
            .count();
        assert_eq!(
            count,
            pages.len(),
            "man/ holds a page of a command that is gone"
        );
        let top = String::from_utf8(pages[0].1.clone()).unwrap();
        assert!(
            top.contains("aiwg\\-apply") || top.contains("aiwg-apply") || top.contains("apply"),
            "{top}"
        );
    }
}
