//! `cargo xtask interop-packages`: monorepo package rules, judged by the clients. A scratch
//! repository lists one package (`packages = ["apps/web"]`) whose `.aiwg/rules/` holds a rule
//! with a marker ([`PACKAGE_MARKER`]) in its body; the root source holds a rule with another
//! ([`ROOT_MARKER`]). Both are deployed with `aiwg use` in project scope (packages are project
//! scope only). A client whose route is a nested instruction file starts inside the package
//! folder, as a developer in a monorepo does; one whose route is a root-level rule scoped to the
//! package's globs starts at the root and its model first reads a file of the package (such
//! rules load when the client touches a matching file). The check passes for a client when a
//! model request holds the package marker.

use std::path::Path;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use super::api::Shape;
use super::clients::Client;
use super::evidence::excerpt;
use super::plan::{Plan, Step};
use super::run::{self, Variant};
use super::{build_aiwg, install, workspace, Scope};

/// The package folder of the scratch repository.
pub const PACKAGE: &str = "apps/web";
/// In the package rule's body only: seeing it in a request proves the client read what aiwg
/// wrote for the package (the prompt, the plan and file names never hold it).
pub const PACKAGE_MARKER: &str = "FXPKG-RULE-BODY";
/// In the root rule's body only.
pub const ROOT_MARKER: &str = "FXROOT-RULE-BODY";
/// The package file the model reads for a scoped route.
const PACKAGE_FILE: &str = "src/page.tsx";
/// The clients run without `--clients`: those aiwg gives package rules and this check has a
/// read step for (OpenClaw and Auggie get none: `aiwg platforms` says unsupported).
const DEFAULT_CLIENTS: &[&str] = &[
    "claude-code",
    "codex",
    "gemini-cli",
    "copilot",
    "opencode",
    "hermes",
    "qwen",
    "pi",
    "cline",
    "factory",
    "kilo",
    "continue",
    "kimi",
];

/// How aiwg routes a platform's package rules deployed alone (`packages.as` of `aiwg platforms
/// --json`), and whether it reads a nested AGENTS.md (`packages.reads_nested`).
fn routes(platforms: &Value) -> std::collections::BTreeMap<String, (String, bool)> {
    platforms["platforms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let nested = p["packages"]["reads_nested"]
                .as_array()
                .is_some_and(|a| a.iter().any(|f| f == "AGENTS.md"));
            Some((
                p["id"].as_str()?.to_string(),
                (p["packages"]["as"].as_str()?.to_string(), nested),
            ))
        })
        .collect()
}

/// The platform whose nested AGENTS.md serves a scoped platform that reads it ("served").
const SERVING: &str = "codex";

/// The root source (a folder given to `aiwg use`) under `dir`: one always-on rule.
fn root_source(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    let source = dir.join("source");
    std::fs::create_dir_all(source.join("rules"))?;
    std::fs::write(
        source.join("rules/fx-root.md"),
        format!("---\ndescription: Interop root rule\nalways: true\n---\n{ROOT_MARKER}: the root rule applies everywhere.\n"),
    )?;
    Ok(source)
}

/// The repository's files before the deploy: `aiwg.toml` naming the package, the package's
/// rule (always on, so every route carries it; aiwg scopes it to `apps/web/**`) and a file of
/// the package for the model to read.
/// With `served`, `aiwg.toml` also selects [`SERVING`], whose nested AGENTS.md then serves
/// the client's platform instead of its own scoped rules.
fn repo_files(served: bool) -> Vec<(String, String)> {
    let platforms = if served {
        format!("platforms = [\"{SERVING}\"]\n")
    } else {
        String::new()
    };
    vec![
        (
            "aiwg.toml".into(),
            format!("packages = [\"{PACKAGE}\"]\n{platforms}"),
        ),
        (
            format!("{PACKAGE}/.aiwg/rules/fx-pkg.md"),
            format!("---\ndescription: Interop package rule\nalways: true\n---\n{PACKAGE_MARKER}: this rule applies in the web package only.\n"),
        ),
        (
            format!("{PACKAGE}/{PACKAGE_FILE}"),
            "export function Page() {\n  return null;\n}\n".into(),
        ),
    ]
}

/// The step in which `client`'s model reads the package file, or `None` for a client this
/// check has no such step for.
fn read_step(client: &str, repo: &Path) -> Option<Step> {
    let file = repo.join(PACKAGE).join(PACKAGE_FILE).display().to_string();
    let (tool, args) = match client {
        "claude-code" | "factory" => ("Read", json!({"file_path": file})),
        "copilot" => ("view", json!({"path": file})),
        "gemini-cli" => ("read_file", json!({"file_path": file})),
        "opencode" | "kilo" => ("read", json!({"filePath": file})),
        "pi" => ("read", json!({"path": file})),
        "kimi" => ("Read", json!({"path": file})),
        "qwen" => ("read_file", json!({"file_path": file})),
        "cline" => ("read_files", json!({"files": [{"path": file}]})),
        "continue" => ("Read", json!({"filepath": file})),
        "hermes" => ("read_file", json!({"path": file})),
        "codex" => ("exec_command", json!({"cmd": format!("cat {file}")})),
        _ => return None,
    };
    Some(Step {
        what: "read a package file".into(),
        tool: tool.into(),
        args,
    })
}

/// Where a case starts the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// In the package folder (a nested route needs nothing more).
    Package,
    /// At the root, reading a package file first (a scoped route loads on a matching file).
    Root,
}

impl Start {
    fn name(self) -> &'static str {
        match self {
            Start::Package => "in package",
            Start::Root => "at root",
        }
    }
}

/// The cases of a route, each with whether it is judged. A nested file is read where the
/// client starts, so aiwg's claim is the client started in the package; a scoped rule loads
/// when the client touches a matching file, which a developer does from the root or from
/// inside the package, so both. A nested route from the root, the package file read, is run
/// for information only (some clients load a sub-folder's file when a tool touches it; aiwg
/// does not claim it).
fn starts(route: &str) -> &'static [(Start, bool)] {
    if route == "scoped" || route == "served" {
        &[(Start::Root, true), (Start::Package, true)]
    } else {
        &[(Start::Package, true), (Start::Root, false)]
    }
}

/// The variant for `client` on `route` from `start`: the model reads the package file first,
/// except for a nested route started in the package (the client reads it at start).
fn variant(client: &'static str, route: &str, start: Start) -> Variant {
    let read = route != "nested" || start == Start::Root;
    let served = route == "served";
    Variant {
        label: format!(
            "pkg-{}{}",
            if served { "served-" } else { "" },
            if start == Start::Package { "in-" } else { "" }
        ),
        files: None,
        repo_files: repo_files(served),
        cwd: (start == Start::Package).then(|| PACKAGE.to_string()),
        plan: Some(Box::new(move |repo: &Path| Plan {
            steps: if read {
                read_step(client, repo).into_iter().collect()
            } else {
                Vec::new()
            },
            text_if: Vec::new(),
        })),
    }
}

/// The line of `body` (a request as JSON text) naming the file the text at `pos` came from:
/// the nearest of the 20 lines before it that names a `.md` file, with the case's folder up to
/// `repo/` cut (`--- Context from: apps/web/GEMINI.md ---`), or `None`. Lines end at `\n` or
/// at a JSON string's quote.
fn origin(body: &str, pos: usize) -> Option<String> {
    let before = &body[..pos];
    let mut lines = Vec::new();
    let mut end = before.len();
    let mut i = before.len();
    let bytes = before.as_bytes();
    while i > 0 && lines.len() < 20 {
        i -= 1;
        let newline = bytes[i] == b'n' && i > 0 && bytes[i - 1] == b'\\';
        let quote = bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\\');
        if newline || quote {
            lines.push(&before[i + 1..end]);
            end = if newline { i - 1 } else { i };
            if newline {
                i -= 1;
            }
        }
    }
    let line = lines.into_iter().find(|l| l.contains(".md"))?;
    let short = match line.find("/repo/") {
        Some(at) => {
            let start = line[..at]
                .rfind(|c: char| c.is_whitespace() || "'<>(`=:".contains(c))
                .map_or(0, |i| i + 1);
            format!("{}{}", &line[..start], &line[at + "/repo/".len()..])
        }
        None => line.to_string(),
    };
    Some(short.trim().chars().take(100).collect())
}

/// The first model request holding `marker`: (its sequence number, an excerpt).
pub fn find_marker(records: &[Value], marker: &str) -> Option<(u64, String)> {
    records.iter().find_map(|r| {
        Shape::of_path(r["path"].as_str().unwrap_or(""))?;
        let body = r["body"].to_string();
        let pos = body.find(marker)?;
        let ex = excerpt(&body, pos, marker.len());
        Some((
            r["seq"].as_u64().unwrap_or(0),
            match origin(&body, pos) {
                Some(from) => format!("from `{from}`: {ex}"),
                None => ex,
            },
        ))
    })
}

/// Parses `[--clients a,b]`.
fn parse(args: &[String]) -> anyhow::Result<Vec<&'static Client>> {
    let mut picked: Vec<String> = DEFAULT_CLIENTS.iter().map(|s| s.to_string()).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = match a.split_once('=') {
            Some(("--clients", v)) => v.to_string(),
            None if a == "--clients" => it.next().cloned().context("--clients needs a value")?,
            _ => bail!(
                "unknown argument `{a}`\nhint: cargo xtask interop-packages [--clients a,b,...]"
            ),
        };
        picked = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if picked.is_empty() {
            bail!("--clients is empty\nhint: name at least one client");
        }
    }
    picked
        .iter()
        .map(|id| {
            super::clients::find(id).with_context(|| {
                format!(
                    "unknown client `{id}`\nhint: known clients: {}",
                    super::clients::CLIENTS
                        .iter()
                        .map(|c| c.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

/// Runs the check for the clients of the arguments.
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let clients = parse(args)?;
    let root = workspace();
    let aiwg = build_aiwg(&root)?;
    let out = std::process::Command::new(&aiwg)
        .args(["platforms", "--json"])
        .output()
        .context("cannot run aiwg platforms --json")?;
    let routes = routes(&serde_json::from_slice(&out.stdout).context("aiwg platforms --json")?);
    let cache = install::Cache::new(&root);
    let netns = run::netns_available();
    let dir = cache
        .root
        .join(format!("packages-source-{}", std::process::id()));
    let source = root_source(&dir)?;
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for client in clients {
        let (route, reads_agents_md) = routes
            .get(client.platform)
            .map_or(("unsupported", false), |(r, n)| (r.as_str(), *n));
        if route == "unsupported" {
            table.push(format!(
                "{:<12} {:<7} {:<10} not deployed (aiwg platforms: unsupported)",
                client.id, route, "-"
            ));
            continue;
        }
        if read_step(client.id, Path::new("/")).is_none() {
            failures.push(format!(
                "{}: this check has no step reading a package file for it",
                client.id
            ));
            continue;
        }
        let installed = match cache.install(client) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{}: cannot install: {e:#}", client.id));
                continue;
            }
        };
        // A scoped platform that reads nested AGENTS.md gets none of its own next to a platform
        // writing one: that case is judged too.
        let mut cases: Vec<(&str, Start, bool)> =
            starts(route).iter().map(|&(s, j)| (route, s, j)).collect();
        if route == "scoped" && reads_agents_md && client.platform != SERVING {
            cases.extend(starts("served").iter().map(|&(s, j)| ("served", s, j)));
        }
        for (route, start, judged) in cases {
            eprintln!(
                "interop-packages: {} {}: {route}, {}",
                client.name,
                client.version,
                start.name()
            );
            let output = match run::case_with(
                client,
                &installed,
                Scope::Project,
                &aiwg,
                &source,
                &cache.root,
                netns,
                &variant(client.id, route, start),
            ) {
                Ok(o) => o,
                Err(e) => {
                    failures.push(format!("{} {}: {e:#}", client.id, start.name()));
                    continue;
                }
            };
            let root_seen = find_marker(&output.records, ROOT_MARKER)
                .map_or("root rule not seen".to_string(), |(seq, _)| {
                    format!("root rule seen (request {seq})")
                });
            let head = format!("{:<12} {:<7} {:<10}", client.id, route, start.name());
            // A case that passed leaves nothing (a Copilot case holds some 240 MB of its own
            // unpacked files); a failing one keeps its folder to be looked at.
            let keep = |seen: bool| {
                if seen || !judged {
                    let _ = std::fs::remove_dir_all(&output.case);
                }
            };
            let found = find_marker(&output.records, PACKAGE_MARKER);
            // The read step answered: a later request echoes its call id.
            let read_done = find_marker(&output.records, &super::plan::step_id(1)).is_some();
            let read_note = if read_done {
                ""
            } else {
                "; the read step never ran"
            };
            keep(found.is_some());
            if !judged {
                table.push(match found {
                    Some((seq, ex)) => format!("{head} (info, not claimed) seen after the read (request {seq}) {ex}"),
                    None => format!("{head} (info, not claimed) not seen after the read ({} requests; {root_seen}{read_note})", output.records.len()),
                });
                continue;
            }
            match found {
                Some((seq, ex)) => table.push(format!(
                    "{head} seen (request {seq} of {}; {root_seen}) {ex}",
                    output.records.len()
                )),
                None => {
                    let line = format!(
                        "{head} NOT SEEN: no request of {} holds `{PACKAGE_MARKER}`; {root_seen}{read_note} (case folder {})",
                        output.records.len(),
                        output.case.display()
                    );
                    table.push(line.clone());
                    failures.push(line);
                }
            }
        }
    }
    run::remove_inner_exe(&cache.root);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{:<12} {:<7} {:<10} package rule ({PACKAGE}/.aiwg/rules/fx-pkg.md)",
        "client", "route", "start"
    );
    for line in &table {
        println!("{line}");
    }
    if !failures.is_empty() {
        bail!(
            "interop-packages: {} failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_counts_in_model_calls_only() {
        let call = json!({"seq": 3, "path": "/v1/responses",
            "body": {"input": format!("# AGENTS.md instructions for /r/apps/web\n{PACKAGE_MARKER}: x")}});
        let (seq, ex) = find_marker(&[call], PACKAGE_MARKER).unwrap();
        assert_eq!(seq, 3);
        assert!(ex.contains(PACKAGE_MARKER), "{ex}");
        let other = json!({"seq": 1, "path": "/v1/models", "body": {"x": PACKAGE_MARKER}});
        assert_eq!(find_marker(&[other], PACKAGE_MARKER), None);
        let gemini = json!({"seq": 0, "path": "/v1beta/models/m:generateContent", "body": {"text":
            format!("--- Context from: /c/runs/x/repo/GEMINI.md ---\nroot\n--- Context from: /c/runs/x/repo/apps/web/GEMINI.md ---\n## Rule\n{PACKAGE_MARKER}")}});
        let (_, ex) = find_marker(&[gemini], PACKAGE_MARKER).unwrap();
        assert!(
            ex.starts_with("from `--- Context from: apps/web/GEMINI.md ---`: "),
            "{ex}"
        );
        // Codex: the header opens a JSON string; Copilot names the file without the case folder.
        let codex = json!({"input": [{"text": format!(
            "# AGENTS.md instructions for /c/runs/x/repo/apps/web\n\n<INSTRUCTIONS>\n## Rule\n{PACKAGE_MARKER}")}]})
        .to_string();
        let pos = codex.find(PACKAGE_MARKER).unwrap();
        assert_eq!(
            origin(&codex, pos).as_deref(),
            Some("# AGENTS.md instructions for apps/web")
        );
        let copilot = json!({"text": format!(
            "Custom instructions from .github/instructions/a.instructions.md.\n---\napplyTo: x\n---\n{PACKAGE_MARKER}")})
        .to_string();
        let pos = copilot.find(PACKAGE_MARKER).unwrap();
        assert_eq!(
            origin(&copilot, pos).as_deref(),
            Some("Custom instructions from .github/instructions/a.instructions.md.")
        );
        assert_eq!(origin("{\"a\":\"no file here\"}", 10), None);
        let without = json!({"seq": 2, "path": "/v1/messages", "body": {"system": ROOT_MARKER}});
        assert_eq!(find_marker(&[without], PACKAGE_MARKER), None);
    }

    #[test]
    fn nothing_the_check_sends_or_names_holds_a_marker() {
        let mut sent = vec![super::super::clients::PROMPT.to_string()];
        for (route, start) in [
            ("nested", Start::Package),
            ("nested", Start::Root),
            ("scoped", Start::Root),
            ("served", Start::Package),
        ] {
            for c in DEFAULT_CLIENTS {
                let v = variant(c, route, start);
                let plan = (v.plan.as_ref().unwrap())(Path::new("/r"));
                sent.push(serde_json::to_string(&plan).unwrap());
            }
        }
        for (path, text) in repo_files(true) {
            sent.push(path.clone());
            if !path.ends_with("fx-pkg.md") {
                sent.push(text);
            }
        }
        for text in sent {
            assert!(
                !text.contains(PACKAGE_MARKER) && !text.contains(ROOT_MARKER),
                "{text}"
            );
        }
    }

    #[test]
    fn nested_clients_start_in_the_package_and_scoped_ones_read_a_file_of_it() {
        assert_eq!(
            starts("nested"),
            &[(Start::Package, true), (Start::Root, false)]
        );
        assert_eq!(
            starts("scoped"),
            &[(Start::Root, true), (Start::Package, true)]
        );
        for c in DEFAULT_CLIENTS {
            assert!(read_step(c, Path::new("/r")).is_some(), "{c}");
        }
        let nested = variant("codex", "nested", Start::Package);
        assert_eq!(nested.cwd.as_deref(), Some(PACKAGE));
        assert!((nested.plan.as_ref().unwrap())(Path::new("/r"))
            .steps
            .is_empty());
        let scoped = variant("claude-code", "scoped", Start::Root);
        assert_eq!(scoped.cwd, None);
        assert_eq!(
            variant("claude-code", "scoped", Start::Package)
                .cwd
                .as_deref(),
            Some(PACKAGE)
        );
        let plan = (scoped.plan.as_ref().unwrap())(Path::new("/r"));
        assert_eq!(plan.steps[0].args["file_path"], "/r/apps/web/src/page.tsx");
        let served = variant("copilot", "served", Start::Root);
        assert_eq!(served.label, "pkg-served-");
        assert!(served.repo_files[0].1.contains("platforms = [\"codex\"]"));
        assert!(!(served.plan.as_ref().unwrap())(Path::new("/r"))
            .steps
            .is_empty());
        assert!(!variant("copilot", "scoped", Start::Root).repo_files[0]
            .1
            .contains("platforms"));
        assert!(parse(&["--clients".into(), "codex,nope".into()]).is_err());
        assert_eq!(parse(&["--clients=codex".into()]).unwrap()[0].id, "codex");
    }
}
