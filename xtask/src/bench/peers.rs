//! The peers benchmark (`AIWG_BENCH_PARTS=peers`): the generated corpus converted into the
//! source layout of rulesync (`.rulesync/`), ruler (`.ruler/`) and the Node aiwg (a framework
//! folder), each peer's generate timed against `aiwg apply` of the same artifacts to the
//! nearest equivalent targets, runs alternating, printed as ratios with what each side wrote.
//!
//! Peers are installed at pinned versions by the interop install cache (`AIWG_INTEROP_CACHE`,
//! else `target/interop-cache`); a peer that npm cannot install is skipped with one line and
//! never fails the bench. Only the artifact kinds a peer takes are given to both sides (ruler
//! has no commands; none takes runbooks), so the two write comparable trees.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};

use super::corpus::{self, Shape};
use super::deploy::count;
use super::{ms, run_ok, Aiwg, Samples};
use crate::interop::clients::{Client, Runtime, Source};
use crate::interop::install::Cache;

/// A peer tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    Rulesync,
    Ruler,
    NodeAiwg,
}

/// The folder of the Node aiwg's framework source inside its project.
const NODE_AIWG_FRAMEWORK: &str = "framework";

/// The pinned peers, installed like interop clients. Versions: `shared/research/rulesync.md`
/// §0 (rulesync 17.0.0), `product-review.md` §1.1 (ruler 0.3.44), `aiwg-reference.md` (the
/// Node aiwg's package.json 2026.2.10, not found on npm when this was written).
static PEERS: &[(Peer, Client)] = &[
    (
        Peer::Rulesync,
        Client {
            id: "rulesync",
            name: "rulesync",
            version: "17.0.0",
            platform: "claude-code",
            source: Source::Npm(&["rulesync@17.0.0"]),
            runtime: Runtime::Node(22),
            needs_rg: false,
            entry: "node_modules/rulesync/dist/cli/index.js",
        },
    ),
    (
        Peer::Ruler,
        Client {
            id: "ruler",
            name: "ruler",
            version: "0.3.44",
            platform: "claude-code",
            source: Source::Npm(&["@intellectronica/ruler@0.3.44"]),
            runtime: Runtime::Node(22),
            needs_rg: false,
            entry: "node_modules/@intellectronica/ruler/dist/cli/index.js",
        },
    ),
    (
        Peer::NodeAiwg,
        Client {
            id: "node-aiwg",
            name: "Node aiwg",
            version: "2026.2.10",
            platform: "claude-code",
            source: Source::Npm(&["aiwg@2026.2.10"]),
            runtime: Runtime::Node(22),
            needs_rg: false,
            entry: "node_modules/aiwg/tools/agents/deploy-agents.mjs",
        },
    ),
];

// The target sets are the deploy bench's one and six (aiwg's platform ids); every peer here
// has all six (the Node aiwg: one, see `targets`).
use super::deploy::{ONE, SIX};

impl Peer {
    /// The peer's name for aiwg's platform `id`.
    fn target(self, id: &str) -> Option<&'static str> {
        let names: &[(&str, &str)] = match self {
            Peer::Rulesync => &[
                ("agents-md", "agentsmd"),
                ("claude-code", "claudecode"),
                ("codex", "codexcli"),
                ("copilot", "copilot"),
                ("cursor", "cursor"),
                ("opencode", "opencode"),
            ],
            Peer::Ruler => &[
                ("agents-md", "agentsmd"),
                ("claude-code", "claude"),
                ("codex", "codex"),
                ("copilot", "copilot"),
                ("cursor", "cursor"),
                ("opencode", "opencode"),
            ],
            // One provider per run (`--provider`); the bench times one.
            Peer::NodeAiwg => &[("claude-code", "claude")],
        };
        names.iter().find(|(a, _)| *a == id).map(|(_, p)| *p)
    }

    /// The target sets this peer is measured on.
    fn sets(self) -> Vec<(&'static str, &'static [&'static str])> {
        match self {
            Peer::NodeAiwg => vec![("one", ONE)],
            _ => vec![("one", ONE), ("six", SIX)],
        }
    }

    /// Whether the peer takes artifacts of `kind` (a top folder of the `.aiwg/` source).
    pub fn takes(self, kind: &str) -> bool {
        match self {
            Peer::Rulesync | Peer::NodeAiwg => {
                matches!(kind, "agents" | "commands" | "skills" | "rules")
            }
            Peer::Ruler => matches!(kind, "agents" | "skills" | "rules"),
        }
    }
}

/// Splits `---\n<frontmatter>\n---\n<body>` into its plain `key: value` pairs and the body.
fn split_frontmatter(text: &str) -> (Vec<(&str, &str)>, &str) {
    let Some(rest) = text.strip_prefix("---\n") else {
        return (Vec::new(), text);
    };
    let Some(end) = rest.find("\n---\n") else {
        return (Vec::new(), text);
    };
    let pairs = rest[..end]
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    (pairs, &rest[end + 5..])
}

/// A rulesync frontmatter: `keys` first (in that order, when present), `targets: ["*"]`, and the
/// other pairs in a `claudecode:` block (rulesync passes a tool's block through to its output).
fn rulesync_frontmatter(pairs: &[(&str, &str)], keys: &[&str], extra: &str) -> String {
    let mut out = String::from("---\n");
    for key in keys {
        if let Some((_, v)) = pairs.iter().find(|(k, _)| k == key) {
            out.push_str(&format!("{key}: {v}\n"));
        }
    }
    out.push_str("targets: [\"*\"]\n");
    out.push_str(extra);
    let rest: Vec<_> = pairs.iter().filter(|(k, _)| !keys.contains(k)).collect();
    if !rest.is_empty() {
        out.push_str("claudecode:\n");
        for (k, v) in rest {
            out.push_str(&format!("  {k}: {v}\n"));
        }
    }
    out.push_str("---\n");
    out
}

/// Where the `.aiwg/` source file `rel` (`agents/x.md`, `skills/s/SKILL.md`, …) goes in
/// `peer`'s source layout, and its text there; `None` for a kind the peer does not take.
pub fn convert(peer: Peer, rel: &str, text: &str) -> Option<(String, String)> {
    let (kind, rest) = rel.split_once('/')?;
    if !peer.takes(kind) {
        return None;
    }
    let (pairs, body) = split_frontmatter(text);
    let converted = match (peer, kind) {
        (Peer::Rulesync, "agents") => (
            format!(".rulesync/subagents/{rest}"),
            rulesync_frontmatter(&pairs, &["name", "description"], "") + body,
        ),
        (Peer::Rulesync, "commands") => (
            format!(".rulesync/commands/{rest}"),
            rulesync_frontmatter(&pairs, &["description"], "") + body,
        ),
        (Peer::Rulesync, "rules") => (
            format!(".rulesync/rules/{rest}"),
            rulesync_frontmatter(&pairs, &["description"], "root: false\n") + body,
        ),
        // Skills are the same open format in all three: the folder as it is.
        (Peer::Rulesync, "skills") => (format!(".rulesync/skills/{rest}"), text.to_string()),
        // Ruler concatenates every `.ruler/*.md` into each agent's instruction file.
        (Peer::Ruler, "rules") => (format!(".ruler/{rest}"), body.to_string()),
        (Peer::Ruler, "agents") => (format!(".ruler/agents/{rest}"), text.to_string()),
        (Peer::Ruler, "skills") => (format!(".ruler/skills/{rest}"), text.to_string()),
        // The Node aiwg's framework layout has aiwg's own top folders.
        (Peer::NodeAiwg, _) => (format!("{NODE_AIWG_FRAMEWORK}/{rel}"), text.to_string()),
        _ => return None,
    };
    Some(converted)
}

/// The files below `root`, as `/`-separated paths relative to it, sorted.
fn files_below(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)?
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(unix)]
fn copy_mode(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(to, std::fs::metadata(from)?.permissions())
}

#[cfg(not(unix))]
fn copy_mode(_: &Path, _: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes the two templates of one pair: `aiwg` (the `.aiwg/` kinds `peer` takes, deploying
/// to `ids`) and `theirs` (the same files in the peer's layout). Returns the top entries of
/// each project's sources.
fn templates(
    corpus_src: &Path,
    peer: Peer,
    ids: &[&str],
    aiwg: &Path,
    theirs: &Path,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    for rel in files_below(corpus_src)? {
        let from = corpus_src.join(&rel);
        let text = std::fs::read_to_string(&from)?;
        let Some((to_rel, converted)) = convert(peer, &rel, &text) else {
            continue;
        };
        for (root, rel, text) in [
            (aiwg, format!(".aiwg/{rel}"), &text),
            (theirs, to_rel, &converted),
        ] {
            let to = root.join(rel);
            std::fs::create_dir_all(to.parent().context("a file has a folder")?)?;
            std::fs::write(&to, text)?;
            copy_mode(&from, &to)?;
        }
    }
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    std::fs::write(
        aiwg.join("aiwg.toml"),
        format!(
            "sources = [\".aiwg\"]\nplatforms = [{}]\n",
            quoted.join(", ")
        ),
    )?;
    let theirs_sources = match peer {
        Peer::Rulesync => vec![".rulesync".to_string()],
        Peer::Ruler => vec![".ruler".to_string()],
        Peer::NodeAiwg => vec![NODE_AIWG_FRAMEWORK.to_string()],
    };
    Ok((vec!["aiwg.toml".into(), ".aiwg".into()], theirs_sources))
}

/// An installed peer, ready to run.
struct Driver<'a> {
    peer: Peer,
    client: &'a Client,
    node: PathBuf,
    entry: PathBuf,
    home: PathBuf,
}

impl Driver<'_> {
    /// The peer's generate of `project` to `targets` (the peer's names).
    fn command(&self, project: &Path, targets: &[&str]) -> Command {
        let mut cmd = Command::new(&self.node);
        cmd.arg(&self.entry);
        match self.peer {
            Peer::Rulesync => {
                cmd.args(["generate", "--features", "rules,commands,subagents,skills"])
                    .arg("--targets")
                    .arg(targets.join(","));
            }
            Peer::Ruler => {
                cmd.args([
                    "apply",
                    "--local-only",
                    "--no-mcp",
                    "--no-gitignore",
                    "--no-backup",
                    "--skills",
                    "--subagents",
                ])
                .arg("--agents")
                .arg(targets.join(","));
            }
            // `aiwg-reference.md` §2: what `aiwg use` runs for a framework folder.
            Peer::NodeAiwg => {
                cmd.arg("--source")
                    .arg(project.join(NODE_AIWG_FRAMEWORK))
                    .args([
                        "--deploy-commands",
                        "--deploy-skills",
                        "--deploy-rules",
                        "--provider",
                    ])
                    .arg(targets.join(","))
                    .arg("--target")
                    .arg(project);
            }
        }
        cmd.current_dir(project)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        cmd
    }

    fn run(&self, project: &Path, targets: &[&str]) -> anyhow::Result<()> {
        let out = self.command(project, targets).output()?;
        if !out.status.success() {
            bail!(
                "{} {} failed ({}): {}",
                self.client.name,
                self.client.version,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

/// One measured pair.
struct Row {
    peer: String,
    set: &'static str,
    targets: String,
    aiwg_out: (usize, u64),
    peer_out: (usize, u64),
    aiwg: Samples,
    theirs: Samples,
}

/// The line of a failed install that says why: npm's `error code` line (`E404` for a package
/// that is not published) when there is one, else the last line. npm's other lines name the
/// registry's address and its log file, which say nothing here.
fn install_failure(err: &str) -> &str {
    let lines = || err.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| l.contains("error code"))
        .or_else(|| lines().next_back())
        .unwrap_or("no output")
}

/// Whether npm can be run at all.
fn npm_available() -> bool {
    Command::new("npm")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the peers it can, measures each against aiwg on corpus ×`scale` and prints the
/// table. Never fails for a peer that cannot be installed.
pub fn run(
    aiwg: &Aiwg,
    root: &Path,
    work: &Path,
    scales: &[usize],
    runs: usize,
) -> anyhow::Result<()> {
    if !npm_available() {
        println!("Peers: skipped (npm is not on PATH)");
        return Ok(());
    }
    let cache = Cache::new(root);
    let mut drivers = Vec::new();
    for (peer, client) in PEERS {
        match cache.install(client) {
            Ok(installed) => drivers.push(Driver {
                peer: *peer,
                client,
                node: installed.node.unwrap_or_else(|| PathBuf::from("node")),
                entry: installed.entry,
                home: aiwg.home.clone(),
            }),
            Err(e) => {
                // The install cache made the folder before npm failed; an empty one is not kept.
                let _ = std::fs::remove_dir(
                    cache.root.join(format!("{}-{}", client.id, client.version)),
                );
                println!(
                    "Peers: {} {} skipped, npm cannot install it ({})",
                    client.name,
                    client.version,
                    install_failure(&e.to_string())
                );
            }
        }
    }
    let mut rows = Vec::new();
    for &scale in scales {
        let corpus_dir = work.join(format!("corpus-x{scale}"));
        corpus::generate(&corpus_dir, &Shape::REALISTIC.scaled(scale))?;
        for d in &drivers {
            for (set, ids) in d.peer.sets() {
                let dir = work.join(format!("x{scale}-{}-{set}", d.client.id));
                let row = measure(aiwg, d, &corpus_dir.join(".aiwg"), &dir, set, ids, runs)?;
                eprintln!(
                    "  peers x{scale} {} / {set}: aiwg {} {} {}",
                    row.peer,
                    ms(row.aiwg.median()),
                    d.client.name,
                    ms(row.theirs.median())
                );
                rows.push((scale, row));
            }
        }
    }
    print_table(&rows);
    Ok(())
}

fn measure(
    aiwg: &Aiwg,
    d: &Driver,
    corpus_src: &Path,
    dir: &Path,
    set: &'static str,
    ids: &[&str],
    runs: usize,
) -> anyhow::Result<Row> {
    let targets: Vec<&str> = ids
        .iter()
        .map(|id| {
            d.peer
                .target(id)
                .context("a target set names a mapped platform")
        })
        .collect::<anyhow::Result<_>>()?;
    let (a_tpl, p_tpl) = (dir.join("aiwg-template"), dir.join("peer-template"));
    let (a_src, p_src) = templates(corpus_src, d.peer, ids, &a_tpl, &p_tpl)?;
    // Every project made before timing (one warm-up each, then the timed runs); nothing is
    // deleted until the bench ends.
    let copy = |tpl: &Path, entries: &[String], to: &Path| -> anyhow::Result<()> {
        std::fs::create_dir_all(to)?;
        run_ok(super::cp_r(tpl, entries, to))
    };
    let mut a_projects = Vec::new();
    let mut p_projects = Vec::new();
    for i in 0..=runs {
        let (a, p) = (dir.join(format!("a{i}")), dir.join(format!("p{i}")));
        copy(&a_tpl, &a_src, &a)?;
        copy(&p_tpl, &p_src, &p)?;
        a_projects.push(a);
        p_projects.push(p);
    }
    let _ = Command::new("sync").status();
    aiwg.run(&a_projects[0], &["apply"], 0)?;
    d.run(&p_projects[0], &targets)?;
    let aiwg_out = written(&a_projects[0], &a_src)?;
    let peer_out = written(&p_projects[0], &p_src)?;
    let (mut a, mut p) = (Samples::default(), Samples::default());
    for i in 1..=runs {
        let _ = Command::new("sync").status();
        a.time(|| aiwg.run(&a_projects[i], &["apply"], 0).map(|_| ()))?;
        let _ = Command::new("sync").status();
        p.time(|| d.run(&p_projects[i], &targets))?;
    }
    Ok(Row {
        peer: format!("{} {}", d.client.name, d.client.version),
        set,
        targets: targets.join(","),
        aiwg_out,
        peer_out,
        aiwg: a,
        theirs: p,
    })
}

/// Files and bytes a run wrote in `project`: everything but its sources (aiwg's `.aiwg/`
/// history included in neither).
fn written(project: &Path, sources: &[String]) -> anyhow::Result<(usize, u64)> {
    let mut entries: Vec<String> = std::fs::read_dir(project)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    entries.retain(|n| !sources.contains(n));
    count(project, &entries)
}

fn print_table(rows: &[(usize, Row)]) {
    if rows.is_empty() {
        println!("Peers: none installed, nothing measured");
        return;
    }
    println!("Peers: the realistic corpus in each peer's source layout, its generate vs `aiwg apply` of the same artifacts (runs alternate; ms: median [min..max])");
    println!(
        "  {:<6} {:<16} {:<4} {:<52} {:>14} {:>14} {:<26} {:<26} {:>8} {:>8}",
        "corpus",
        "peer",
        "set",
        "peer targets",
        "aiwg wrote",
        "peer wrote",
        "aiwg apply",
        "peer",
        "ratio",
        "CPU"
    );
    for (scale, r) in rows {
        let out = |(f, b): (usize, u64)| format!("{f} / {:.1} MB", b as f64 / 1e6);
        let cpu = match (r.aiwg.cpu_mean(), r.theirs.cpu_mean()) {
            (Some(a), Some(b)) if r.aiwg.cpu_measurable() && r.theirs.cpu_measurable() => {
                format!("{:>7.1}x", b.as_secs_f64() / a.as_secs_f64())
            }
            _ => "n/a".into(),
        };
        println!(
            "  x{:<5} {:<16} {:<4} {:<52} {:>14} {:>14} {:<26} {:<26} {:>7.1}x {:>8}",
            scale,
            r.peer,
            r.set,
            r.targets,
            out(r.aiwg_out),
            out(r.peer_out),
            r.aiwg.spread(),
            r.theirs.spread(),
            r.theirs.median().as_secs_f64() / r.aiwg.median().as_secs_f64(),
            cpu,
        );
    }
    println!(
        "  ratio: peer median / aiwg median (how many times faster aiwg is); CPU: the same for mean \
         user + system time; wrote: files / MB each side's run left besides its sources (aiwg's \
         lock included); ruler takes no commands, so neither side of its rows gets them; no peer \
         takes runbooks (the corpus here has none)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str =
        "---\nname: agent-0001\ndescription: Agent number 1\nmodel: sonnet\n---\nbody\n";

    #[test]
    fn an_agent_becomes_a_rulesync_subagent_with_its_claude_keys_in_a_block() {
        let (path, text) = convert(Peer::Rulesync, "agents/agent-0001.md", AGENT).unwrap();
        assert_eq!(path, ".rulesync/subagents/agent-0001.md");
        assert_eq!(
            text,
            "---\nname: agent-0001\ndescription: Agent number 1\ntargets: [\"*\"]\n\
             claudecode:\n  model: sonnet\n---\nbody\n"
        );
    }

    #[test]
    fn a_rule_is_a_non_root_rulesync_rule_and_a_plain_ruler_file() {
        let rule = "---\ndescription: Rule 3\n---\ntext\n";
        assert_eq!(
            convert(Peer::Rulesync, "rules/rule-03.md", rule).unwrap(),
            (
                ".rulesync/rules/rule-03.md".into(),
                "---\ndescription: Rule 3\ntargets: [\"*\"]\nroot: false\n---\ntext\n".into()
            )
        );
        assert_eq!(
            convert(Peer::Ruler, "rules/rule-03.md", rule).unwrap(),
            (".ruler/rule-03.md".into(), "text\n".into())
        );
    }

    #[test]
    fn skills_are_copied_whole_and_kinds_a_peer_lacks_are_dropped() {
        let guide = "plain text\n";
        for (peer, want) in [
            (Peer::Rulesync, ".rulesync/skills/s/references/guide.md"),
            (Peer::Ruler, ".ruler/skills/s/references/guide.md"),
            (Peer::NodeAiwg, "framework/skills/s/references/guide.md"),
        ] {
            let (path, text) = convert(peer, "skills/s/references/guide.md", guide).unwrap();
            assert_eq!((path.as_str(), text.as_str()), (want, guide));
        }
        assert_eq!(convert(Peer::Ruler, "commands/c.md", "x"), None);
        assert_eq!(convert(Peer::Rulesync, "runbooks/r.md", "x"), None);
        assert_eq!(convert(Peer::NodeAiwg, "runbooks/r.md", "x"), None);
    }

    #[test]
    fn text_without_frontmatter_is_kept_as_its_body() {
        assert_eq!(split_frontmatter("no fm\n"), (vec![], "no fm\n"));
        assert_eq!(
            split_frontmatter("---\nunclosed\n"),
            (vec![], "---\nunclosed\n")
        );
    }

    #[test]
    fn a_failed_install_is_told_by_npms_error_code() {
        let npm = "installing aiwg@1 failed (exit status: 1):\nnpm error code E404\n\
                   npm error 404 Not Found - GET <registry>/aiwg\nnpm error A complete log";
        assert_eq!(install_failure(npm), "npm error code E404");
        assert_eq!(install_failure("timeout\n\n"), "timeout");
        assert_eq!(install_failure(""), "no output");
    }

    #[test]
    fn every_target_of_every_set_has_a_peer_name() {
        for (peer, _) in PEERS {
            for (_, ids) in peer.sets() {
                for id in ids {
                    assert!(peer.target(id).is_some(), "{peer:?} has no name for {id}");
                }
            }
        }
    }

    #[test]
    fn a_pair_gets_the_same_files_on_both_sides() {
        let root = std::env::temp_dir().join(format!("aiwg-bench-peers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let shape = Shape {
            agents: 2,
            commands: 2,
            skills: 1,
            rules: 1,
            runbooks: 1,
            ..Shape::REALISTIC
        };
        corpus::generate(&root.join("c"), &shape).unwrap();
        let (a, p) = (root.join("a"), root.join("p"));
        templates(&root.join("c/.aiwg"), Peer::Ruler, ONE, &a, &p).unwrap();
        let mine = files_below(&a.join(".aiwg")).unwrap();
        assert_eq!(
            mine,
            [
                "agents/agent-0000.md",
                "agents/agent-0001.md",
                "rules/rule-00.md",
                "skills/skill-0000/SKILL.md",
                "skills/skill-0000/references/guide.md",
                "skills/skill-0000/scripts/run.sh",
            ]
        );
        assert_eq!(files_below(&p.join(".ruler")).unwrap().len(), mine.len());
        assert!(std::fs::read_to_string(a.join("aiwg.toml"))
            .unwrap()
            .contains("platforms = [\"claude-code\"]"));
        let _ = std::fs::remove_dir_all(&root);
    }
}
