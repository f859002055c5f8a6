//! The suite's record (`xtask/interop/results.json`: per client, its version and one status per
//! scope and kind) and the README's "verified with" table generated from it. A test checks
//! the README against the record and the record against the pinned versions, so neither can go
//! stale silently.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::clients::CLIENTS;
use super::evidence::{Status, KINDS};
use super::ClientResult;

/// The record, relative to the workspace.
pub const RESULTS: &str = "xtask/interop/results.json";
/// Start of the generated section in README.md.
pub const BEGIN: &str = "<!-- interop:begin -->";
/// Its end.
pub const END: &str = "<!-- interop:end -->";

/// One client's last run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// Suite id.
    pub id: String,
    /// Product name.
    pub name: String,
    /// Version run.
    pub version: String,
    /// aiwg platform deployed.
    pub platform: String,
    /// Set when it could not be installed or run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
    /// `[scope, kind, status]` triples.
    pub cells: Vec<(String, String, Status)>,
}

/// The whole record, in the client table's order.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Results {
    /// One entry per client that has been run.
    pub clients: Vec<Entry>,
}

/// Reads a JSON record of a client run (its default when there is none yet); `what` names it
/// in the error.
pub fn load_record<T: serde::de::DeserializeOwned + Default>(
    path: &Path,
    what: &str,
) -> anyhow::Result<T> {
    match std::fs::read_to_string(path) {
        Ok(t) => {
            serde_json::from_str(&t).with_context(|| format!("`{}` is not {what}", path.display()))
        }
        Err(_) => Ok(T::default()),
    }
}

/// Writes a JSON record of a client run, pretty-printed with a final newline.
pub fn save_record<T: Serialize>(record: &T, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(record)? + "\n")
        .with_context(|| format!("cannot write `{}`", path.display()))
}

impl Results {
    /// Reads the record (empty when there is none yet).
    pub fn load(path: &Path) -> anyhow::Result<Results> {
        load_record(path, "a results file")
    }

    /// Writes it.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        save_record(self, path)
    }

    /// Replaces (or adds) a client's entry with this run's result; cells of a scope that was
    /// not run this time are kept.
    pub fn update(&mut self, r: &ClientResult) {
        let mut cells: Vec<(String, String, Status)> = r
            .cells
            .iter()
            .map(|((s, k), c)| (s.to_string(), k.to_string(), c.status.clone()))
            .collect();
        // A run of one scope keeps the other scope's cells from the same client and platform;
        // a client that could not run at all keeps none (they would describe another setup).
        let same = |e: &&Entry| {
            e.id == r.client.id && e.version == r.client.version && e.platform == r.client.platform
        };
        let old = self.clients.iter().find(same).filter(|_| !cells.is_empty());
        if let Some(old) = old {
            let run: Vec<String> = cells.iter().map(|c| c.0.clone()).collect();
            cells.extend(old.cells.iter().filter(|c| !run.contains(&c.0)).cloned());
        }
        cells.sort_by_key(|(s, k, _)| (s != "project", KINDS.iter().position(|x| x == k)));
        let entry = Entry {
            id: r.client.id.into(),
            name: r.client.name.into(),
            version: r.client.version.into(),
            platform: r.client.platform.into(),
            broken: r.broken.clone(),
            cells,
        };
        self.clients.retain(|e| e.id != entry.id);
        self.clients.push(entry);
        let order = |id: &str| {
            CLIENTS
                .iter()
                .position(|c| c.id == id)
                .unwrap_or(usize::MAX)
        };
        self.clients.sort_by_key(|e| order(&e.id));
    }
}

fn symbol(s: &Status) -> &'static str {
    match s {
        Status::Seen => "✓",
        Status::SeenWithError => "⚠",
        Status::NotSeen => "✗",
        Status::NotDeployed => "—",
    }
}

/// The README cell for one kind: `✓ project, user`, or per scope when they differ.
fn cell(e: &Entry, kind: &str) -> String {
    let per: Vec<(&str, &Status)> = e
        .cells
        .iter()
        .filter(|(_, k, _)| k == kind)
        .map(|(s, _, st)| (s.as_str(), st))
        .collect();
    match per.as_slice() {
        [] => "not run".into(),
        [(a, x)] => format!("{} {a}", symbol(x)),
        [(a, x), (b, y)] if x == y => format!("{} {a}, {b}", symbol(x)),
        _ => per
            .iter()
            .map(|(s, st)| format!("{} {s}", symbol(st)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The generated text between the markers. `platform_ids`: every aiwg platform, for the
/// "docs only" line.
pub fn section(results: &Results, platform_ids: &[String]) -> String {
    let mut out = String::from(
        "<!-- generated by `cargo xtask interop` from xtask/interop/results.json; do not edit by hand -->\n\n",
    );
    out.push_str("| aiwg platform | verified with | Agents | Skills | Commands | Rules | Behaviors | Runbooks |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    let mut broken = Vec::new();
    for e in &results.clients {
        let mut row = format!("| `{}` | {} {} |", e.platform, e.name, e.version);
        for kind in KINDS {
            row.push_str(&format!(" {} |", cell(e, kind)));
        }
        out.push_str(&row);
        out.push('\n');
        if let Some(b) = &e.broken {
            let short: String = b
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(160)
                .collect();
            broken.push(format!("- {} {}: {short}\n", e.name, e.version));
        }
    }
    if !broken.is_empty() {
        out.push_str("\nCould not run:\n\n");
        out.extend(broken);
    }
    let verified: Vec<&str> = results
        .clients
        .iter()
        .filter(|e| !e.cells.is_empty())
        .map(|e| e.platform.as_str())
        .collect();
    let docs_only: Vec<String> = platform_ids
        .iter()
        .filter(|id| !verified.contains(&id.as_str()))
        .map(|id| match why_docs_only(id) {
            Some(why) => format!("`{id}` ({why})"),
            None => format!("`{id}`"),
        })
        .collect();
    out.push_str(
        "\n✓ seen in the client's requests to its model (Auggie's commands: in its own output), ⚠ \
         seen with an error (a load warning, a placeholder left literal, a write the hook did not \
         block), ✗ not seen though aiwg deploys it, — aiwg deploys nothing of this kind there. ",
    );
    out.push_str(&format!(
        "Docs only (no drivable client): {}.\n",
        docs_only.join(", ")
    ));
    out
}

/// Why a platform has no client in the suite. Only a package from npm or PyPI that can run
/// offline against the fake server can be driven.
const DOCS_ONLY: &[(&str, &str)] = &[
    (
        "agents-md",
        "a file convention; the clients that read it are verified under their own ids",
    ),
    (
        "amazon-q",
        "IDE plugins; its CLI became Kiro CLI, which installs from its own site",
    ),
    (
        "amp",
        "its CLI sends model calls through Amp's own service, with an Amp account",
    ),
    (
        "antigravity",
        "a desktop IDE, in no registry this suite installs from",
    ),
    (
        "crush",
        "its npm package downloads the binary from GitHub when installed; its source was read",
    ),
    (
        "cursor",
        "an IDE; its CLI installs from Cursor's own site, not npm or PyPI",
    ),
    ("goose", "a binary released outside npm and PyPI"),
    ("junie", "a JetBrains IDE plugin"),
    ("kiro", "an IDE; its CLI installs from its own site"),
    (
        "mistral-vibe",
        "on PyPI, but it needs Python 3.12 or later and the machine has 3.11; its source was read",
    ),
    ("roo", "a VS Code extension"),
    ("trae", "a desktop IDE"),
    ("warp", "a terminal application"),
    ("windsurf", "a desktop IDE"),
    ("zed", "a desktop editor"),
];

/// The reason a platform is docs only, if it is one the suite knows.
fn why_docs_only(id: &str) -> Option<&'static str> {
    DOCS_ONLY
        .iter()
        .find(|(p, _)| *p == id)
        .map(|(_, why)| *why)
}

/// `readme` with the interop section replaced (or added at the end).
pub fn splice(readme: &str, block: &str) -> String {
    match (readme.find(BEGIN), readme.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{BEGIN}\n{block}{}", &readme[..b], &readme[e..]),
        _ => format!(
            "{}\n\n## Verified with real clients\n\n{BEGIN}\n{block}{END}\n",
            readme.trim_end()
        ),
    }
}

/// Every aiwg platform id.
pub fn platform_ids() -> Vec<String> {
    aiwg_platforms::Registry::builtin()
        .all()
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

/// Rewrites README.md's section from `results`.
pub fn write_readme(root: &Path, results: &Results) -> anyhow::Result<()> {
    let path = root.join("README.md");
    let readme = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let updated = splice(&readme, &section(results, &platform_ids()));
    if updated != readme {
        std::fs::write(&path, updated)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        eprintln!("interop: README.md's verified-with table updated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cells: &[(&str, &str, Status)]) -> Entry {
        Entry {
            id: "claude-code".into(),
            name: "Claude Code".into(),
            version: "1.0".into(),
            platform: "claude-code".into(),
            broken: None,
            cells: cells
                .iter()
                .map(|(s, k, st)| (s.to_string(), k.to_string(), st.clone()))
                .collect(),
        }
    }

    fn result(cells: &[(&'static str, &'static str, Status)], broken: bool) -> ClientResult {
        ClientResult {
            client: &CLIENTS[0],
            cells: cells
                .iter()
                .map(|(s, k, st)| {
                    let cell = crate::interop::evidence::Cell {
                        status: st.clone(),
                        evidence: String::new(),
                    };
                    ((*s, *k), cell)
                })
                .collect(),
            broken: broken.then(|| "no platform".to_string()),
            install_secs: 0.0,
            run_secs: 0.0,
        }
    }

    #[test]
    fn a_one_scope_run_keeps_the_other_scope_and_a_broken_run_keeps_nothing() {
        let mut results = Results::default();
        results.update(&result(
            &[
                ("project", "agent", Status::Seen),
                ("user", "agent", Status::NotSeen),
                ("user", "skill", Status::Seen),
            ],
            false,
        ));
        results.update(&result(&[("project", "agent", Status::NotSeen)], false));
        let cells = &results.clients[0].cells;
        assert_eq!(cells.len(), 3, "{cells:?}");
        assert_eq!(cells[2], ("user".into(), "skill".into(), Status::Seen));
        assert_eq!(
            cells[0],
            ("project".into(), "agent".into(), Status::NotSeen)
        );
        assert_eq!(cells[1], ("user".into(), "agent".into(), Status::NotSeen));
        results.update(&result(&[], true));
        assert!(results.clients[0].cells.is_empty());
        assert_eq!(results.clients.len(), 1);
    }

    #[test]
    fn cells_merge_equal_scopes() {
        let e = entry(&[
            ("project", "agent", Status::Seen),
            ("user", "agent", Status::Seen),
            ("project", "skill", Status::Seen),
            ("user", "skill", Status::NotSeen),
        ]);
        assert_eq!(cell(&e, "agent"), "✓ project, user");
        assert_eq!(cell(&e, "skill"), "✓ project, ✗ user");
        assert_eq!(cell(&e, "rule"), "not run");
    }

    #[test]
    fn every_platform_is_driven_or_says_why_not() {
        for id in platform_ids() {
            let driven = CLIENTS.iter().any(|c| c.platform == id);
            let why = why_docs_only(&id);
            assert!(
                driven != why.is_some(),
                "`{id}`: a platform has either a client in clients.rs or a reason in DOCS_ONLY"
            );
        }
    }

    #[test]
    fn section_lists_docs_only_platforms() {
        let results = Results {
            clients: vec![entry(&[("project", "agent", Status::Seen)])],
        };
        let s = section(&results, &["claude-code".into(), "zed".into()]);
        assert!(
            s.contains("| `claude-code` | Claude Code 1.0 | ✓ project |"),
            "{s}"
        );
        assert!(
            s.contains("Docs only (no drivable client): `zed` (a desktop editor)."),
            "{s}"
        );
        let mut gone = entry(&[]);
        gone.platform = "zed".into();
        gone.broken = Some("aiwg has no platform `zed`".into());
        let s = section(
            &Results {
                clients: vec![gone],
            },
            &["zed".into()],
        );
        assert!(s.contains("| `zed` | Claude Code 1.0 | not run |"), "{s}");
        assert!(
            s.contains("Could not run:\n\n- Claude Code 1.0: aiwg has no platform `zed`\n"),
            "{s}"
        );
        assert!(
            s.contains("Docs only (no drivable client): `zed` (a desktop editor)."),
            "{s}"
        );
        let readme = format!("# x\n\n{BEGIN}\nold\n{END}\nafter\n");
        assert_eq!(
            splice(&readme, "new\n"),
            format!("# x\n\n{BEGIN}\nnew\n{END}\nafter\n")
        );
    }

    /// README.md's table is what the record generates, and the record is for the pinned
    /// versions: bumping a pin without running the suite fails here.
    #[test]
    fn readme_and_record_are_fresh() {
        let root = crate::root();
        let results = Results::load(&root.join(RESULTS)).unwrap();
        for e in &results.clients {
            let pinned = CLIENTS.iter().find(|c| c.id == e.id);
            assert!(
                pinned.is_some_and(|c| c.version == e.version && c.platform == e.platform),
                "{RESULTS}: {} {} is not the pinned client: run `cargo xtask interop --clients {}`",
                e.id,
                e.version,
                e.id
            );
        }
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        assert!(
            splice(&readme, &section(&results, &platform_ids())) == readme,
            "README.md's verified-with table is stale: run `cargo xtask docs` and commit README.md"
        );
    }
}
