//! The evidence matcher: from the recorded requests, the client's logs and the hook log, one
//! cell per kind: seen (with an excerpt), seen with an error, or not seen. The markers are the
//! fixture's (`xtask/interop/fixture/`): `FX<KIND>-DESC` in each description, `FX<KIND>-BODY`
//! in each body.

use serde_json::Value;

/// The six kinds of artifact, in table order.
pub const KINDS: [&str; 6] = ["agent", "skill", "command", "rule", "behavior", "runbook"];

/// The fixture artifact's name for a kind (how clients and logs name it).
fn fixture_names(kind: &str) -> &'static [&'static str] {
    match kind {
        "agent" => &["fx-agent"],
        "skill" => &["fx-skill"],
        "command" => &["fx-cmd"],
        "rule" => &["fx-always", "fx-rust"],
        "behavior" => &["fx-hook", "settings.json", "hooks.json"],
        _ => &["fx-runbook"],
    }
}

/// A cell's verdict.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The client saw it (listed, loaded or ran it).
    Seen,
    /// Seen, but the client reported a problem with it, or used it wrongly.
    SeenWithError,
    /// No trace of it.
    NotSeen,
    /// aiwg deploys nothing of this kind for the platform (not a failure).
    NotDeployed,
}

impl Status {
    /// The word the report and the README use.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Seen => "seen",
            Status::SeenWithError => "seen with an error",
            Status::NotSeen => "not seen",
            Status::NotDeployed => "not deployed",
        }
    }
}

/// One kind × scope result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The verdict.
    pub status: Status,
    /// A short excerpt that proves it (or says what was looked for).
    pub evidence: String,
}

/// What a case left, as the matcher reads it.
pub struct Inputs<'a> {
    /// Recorded requests (one JSON value each, `run` = which client call).
    pub records: &'a [Value],
    /// Client logs and outputs: (name, text).
    pub logs: &'a [(String, String)],
    /// The fixture hook's log.
    pub hook_log: &'a str,
    /// The file the hook had to block was written anyway.
    pub blocked_file_written: bool,
    /// Per kind, values aiwg wrote that a client's message may name instead of the file
    /// (the model id of an agent).
    pub extra_names: &'a [(String, String)],
    /// (kind, line): the client's own output says it loaded that kind (secondary evidence,
    /// only where its requests cannot show it).
    pub client_says: &'a [(String, String)],
}

/// Where a marker was first found: request number and an excerpt around it.
fn find(records: &[Value], marker: &str, run: Option<u64>) -> Option<(u64, String)> {
    records
        .iter()
        .filter(|r| run.is_none() || r["run"].as_u64() == run)
        .find_map(|r| {
            let body = r["body"].to_string();
            let pos = body.find(marker)?;
            Some((
                r["seq"].as_u64().unwrap_or(0),
                excerpt(&body, pos, marker.len()),
            ))
        })
}

/// About 40 characters either side of `pos..pos+len`, JSON escapes turned back into spaces.
pub fn excerpt(text: &str, pos: usize, len: usize) -> String {
    let start = floor(text, pos.saturating_sub(40));
    let end = floor(text, (pos + len + 40).min(text.len()));
    text[start..end]
        .replace("\\n", " ")
        .replace("\\\"", "\"")
        .replace("\\t", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn seen(how: &str, seq: u64, ex: &str) -> Cell {
    Cell {
        status: Status::Seen,
        evidence: format!("{how} (request {seq}): …{ex}…"),
    }
}

/// Words that make a log line a report of a problem.
const PROBLEM_WORDS: [&str; 6] = ["error", "warn", "invalid", "failed", "cannot", "unknown"];
/// Lines longer than this are transcripts or request dumps, not log messages.
const MAX_LOG_LINE: usize = 1000;
/// How close a problem word must be to the name of what aiwg wrote.
const NEAR: usize = 160;

/// Log lines that report a problem with a file of `kind` that aiwg wrote: a problem word near
/// the fixture artifact's name or near a value aiwg wrote into it (`extra`: a model id …).
pub fn load_errors(logs: &[(String, String)], kind: &str, extra: &[String]) -> Vec<String> {
    let names: Vec<&str> = fixture_names(kind)
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for (file, text) in logs {
        for line in text.lines().filter(|l| l.len() <= MAX_LOG_LINE) {
            // The fixture hook's block and the write it blocks are the plan, not a problem.
            if line.contains("FXBEHAVIOR-BLOCK")
                || line.contains("DO-NOT-COMMIT")
                || line.contains(super::clients::BLOCKED_FILE)
            {
                continue;
            }
            let lower = line.to_ascii_lowercase();
            let near_problem = names.iter().any(|n| {
                lower.match_indices(&n.to_ascii_lowercase()).any(|(at, _)| {
                    let from = floor(&lower, at.saturating_sub(NEAR));
                    let to = floor(&lower, (at + n.len() + NEAR).min(lower.len()));
                    PROBLEM_WORDS.iter().any(|w| lower[from..to].contains(w))
                })
            });
            if near_problem {
                let short: String = line.chars().take(200).collect();
                out.push(format!("{file}: {}", short.trim()));
            }
        }
    }
    out
}

/// The cell for `kind`, given that aiwg deploys it for the platform in this scope.
pub fn judge(kind: &str, input: &Inputs) -> Cell {
    let cell = match kind {
        "command" => command(input),
        "behavior" => behavior(input),
        "agent" => agent(input),
        _ => marker_cell(kind, input),
    };
    let extra: Vec<String> = input
        .extra_names
        .iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, v)| v.clone())
        .collect();
    let mut errors = load_errors(input.logs, kind, &extra);
    if kind == "behavior" && cell.evidence.starts_with("blocked the write") {
        // A hook that blocks exits 2, which some clients log as the script having failed
        // (Gemini CLI: "Hook(s) [..fx-hook.sh] failed for event BeforeTool"): that is the block
        // itself. A problem with the settings file that declares the hook still counts.
        errors.retain(|line| !line.contains("fx-hook.sh"));
    }
    match errors.first() {
        Some(first) if cell.status != Status::SeenWithError => Cell {
            status: Status::SeenWithError,
            evidence: format!("{}; the client reports: {first}", cell.evidence),
        },
        _ => cell,
    }
}

/// Tools that change files or run commands, by the names the clients give them. The fixture
/// agent is granted only `Read` and `Grep`, so its subagent must be offered none of these.
const WRITE_TOOLS: &[&str] = &[
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "Bash",
    "Create",
    "Execute",
    "write",
    "edit",
    "bash",
    "patch",
    "apply_patch",
    "write_file",
    "replace",
    "run_shell_command",
    "create",
    "exec_command",
    "shell",
    "terminal",
    "execute_code",
];

/// The fixture agent is listed or loaded; when the client started it as a subagent (a request
/// with its body and the plan's task, without the plan's prompt), that request must not
/// offer tools the agent was not granted.
fn agent(input: &Inputs) -> Cell {
    let base = marker_cell("agent", input);
    let sub = input.records.iter().find(|r| {
        let raw = r["body"].to_string();
        raw.contains("FXAGENT-BODY")
            && raw.contains(super::clients::AGENT_TASK)
            && !raw.contains(super::clients::PROMPT)
    });
    let Some(sub) = sub else {
        return base;
    };
    let shape = super::api::Shape::of_path(sub["path"].as_str().unwrap_or_default());
    let offered: Vec<String> = shape
        .map(|s| super::api::offered_tools(s, &sub["body"]))
        .unwrap_or_default()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let extra: Vec<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|n| WRITE_TOOLS.contains(n))
        .collect();
    let seq = sub["seq"].as_u64().unwrap_or(0);
    if extra.is_empty() {
        return Cell {
            status: Status::Seen,
            evidence: format!(
                "ran as a subagent (request {seq}) with tools [{}]",
                offered.join(", ")
            ),
        };
    }
    Cell {
        status: Status::SeenWithError,
        evidence: format!(
            "ran as a subagent (request {seq}), but the agent grants only Read, Grep and it was offered {}",
            extra.join(", ")
        ),
    }
}

/// Loaded (its body marker in a request) or listed (its description marker).
fn marker_cell(kind: &str, input: &Inputs) -> Cell {
    let tag = if kind == "command" {
        "CMD".to_string()
    } else {
        kind.to_ascii_uppercase()
    };
    let body = format!("FX{tag}-BODY");
    let desc = format!("FX{tag}-DESC");
    // Some clients list skills by name only (Cline). The plan and the prompts never name the
    // runbook, and run 0 never names the command, so their names in run 0 are evidence too.
    let by_name = match kind {
        "runbook" => Some("fx-runbook"),
        "command" => Some("fx-cmd"),
        _ => None,
    };
    if let Some((seq, ex)) = find(input.records, &body, None) {
        seen("loaded", seq, &ex)
    } else if let Some((seq, ex)) = find(input.records, &desc, None) {
        seen("listed", seq, &ex)
    } else if let Some((seq, ex)) = by_name.and_then(|n| find(input.records, n, Some(0))) {
        seen("listed by name", seq, &ex)
    } else if let Some((_, line)) = input.client_says.iter().find(|(k, _)| k == kind) {
        Cell {
            status: Status::Seen,
            evidence: format!("the client says: {line}"),
        }
    } else {
        Cell {
            status: Status::NotSeen,
            evidence: format!("neither {desc} nor {body} in any request"),
        }
    }
}

fn command(input: &Inputs) -> Cell {
    // Run 1 sends `/fx-cmd FXARGS-1`: the body must arrive with the argument filled in.
    let run1 = input.records.iter().any(|r| r["run"].as_u64() == Some(1));
    if let Some((seq, ex)) = find(input.records, "FXCMD-BODY", run1.then_some(1)) {
        let after = ex.split("FXCMD-BODY").nth(1).unwrap_or("");
        if after.contains("$ARGUMENTS") {
            return Cell {
                status: Status::SeenWithError,
                evidence: format!(
                    "expanded, but `$ARGUMENTS` left literal (request {seq}): …{ex}…"
                ),
            };
        }
        if after.contains("FXARGS-1") {
            return seen("expanded with its argument", seq, &ex);
        }
        if run1 {
            return seen("loaded, argument not next to the body", seq, &ex);
        }
        return seen("loaded", seq, &ex);
    }
    if let Some((seq, ex)) = find(input.records, "FXCMD-BODY", None) {
        return seen("loaded", seq, &ex);
    }
    marker_cell("command", input)
}

fn behavior(input: &Inputs) -> Cell {
    if input.blocked_file_written {
        return Cell {
            status: Status::SeenWithError,
            evidence: format!(
                "{} was written: the hook did not block it",
                super::clients::BLOCKED_FILE
            ),
        };
    }
    if let Some((seq, ex)) = find(input.records, "FXBEHAVIOR-BLOCK", None) {
        return seen("blocked the write", seq, &ex);
    }
    if let Some(first) = input.hook_log.lines().next() {
        let ex: String = first.chars().take(120).collect();
        return Cell {
            status: Status::Seen,
            evidence: format!("ran (hook log: {ex})"),
        };
    }
    Cell {
        status: Status::NotSeen,
        evidence: "the hook never ran (empty hook log, no FXBEHAVIOR-BLOCK in any request)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Requests shaped like a Claude Code run: the skill list, a loaded skill, the hook's
    /// block in a tool result, and the command run.
    fn sample() -> Vec<Value> {
        vec![
            json!({"seq": 0, "run": 0, "body": {"system": [{"text": "Contents of /r/.claude/rules/fx-always.md (project instructions): FXRULE-BODY Answer in plain English."}],
                   "tools": [{"name": "Agent", "description": "- fx-agent: FXAGENT-DESC reviews Rust code (Tools: Read)"}],
                   "messages": [{"role": "user", "content": "- fx-skill: FXSKILL-DESC summarises\n- fx-runbook: FXRUNBOOK-DESC checks"}]}}),
            json!({"seq": 1, "run": 0, "body": {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": "Base directory for this skill: /r/.claude/skills/fx-skill\n\nFXSKILL-BODY Run"}]}]}}),
            json!({"seq": 2, "run": 0, "body": {"messages": [{"content": [{"type": "tool_result", "is_error": true, "content": "PreToolUse:Write hook error: FXBEHAVIOR-BLOCK fx-hook: the change contains DO-NOT-COMMIT"}]}]}}),
            json!({"seq": 3, "run": 1, "body": {"messages": [{"content": "<command-name>/fx-cmd</command-name> FXCMD-BODY Summarise the fixture for: FXARGS-1"}]}}),
        ]
    }

    fn inputs<'a>(records: &'a [Value], logs: &'a [(String, String)]) -> Inputs<'a> {
        Inputs {
            records,
            logs,
            hook_log: "",
            blocked_file_written: false,
            extra_names: &[],
            client_says: &[],
        }
    }

    #[test]
    fn every_kind_of_a_good_run_is_seen() {
        let records = sample();
        let input = inputs(&records, &[]);
        for kind in KINDS {
            let cell = judge(kind, &input);
            assert_eq!(cell.status, Status::Seen, "{kind}: {}", cell.evidence);
        }
        assert!(judge("skill", &input)
            .evidence
            .starts_with("loaded (request 1)"));
        assert!(judge("agent", &input)
            .evidence
            .starts_with("listed (request 0)"));
        let cmd = judge("command", &input);
        assert!(
            cmd.evidence
                .starts_with("expanded with its argument (request 3)"),
            "{}",
            cmd.evidence
        );
        assert!(judge("behavior", &input)
            .evidence
            .contains("fx-hook: the change contains"));
    }

    #[test]
    fn a_subagent_offered_write_tools_is_an_error() {
        let sub = |tools: Value| {
            vec![
                json!({"seq": 7, "run": 0, "path": "/v1/chat/completions", "body": {
                "messages": [{"role": "system", "content": "FXAGENT-BODY You are"},
                             {"role": "user", "content": crate::interop::clients::AGENT_TASK}],
                "tools": tools}}),
            ]
        };
        let narrow = sub(
            json!([{"type": "function", "function": {"name": "read_file"}},
                                {"type": "function", "function": {"name": "grep_search"}}]),
        );
        let cell = judge("agent", &inputs(&narrow, &[]));
        assert_eq!(cell.status, Status::Seen);
        assert!(
            cell.evidence.contains("[read_file, grep_search]"),
            "{}",
            cell.evidence
        );
        let wide = sub(
            json!([{"type": "function", "function": {"name": "read_file"}},
                              {"type": "function", "function": {"name": "write_file"}}]),
        );
        let cell = judge("agent", &inputs(&wide, &[]));
        assert_eq!(cell.status, Status::SeenWithError);
        assert!(
            cell.evidence.ends_with("offered write_file"),
            "{}",
            cell.evidence
        );
    }

    #[test]
    fn a_literal_placeholder_is_an_error() {
        let records = vec![json!({"seq": 5, "run": 1, "body": {"messages": [
            {"content": "FXCMD-BODY Summarise the fixture for: $ARGUMENTS\n\n/fx-cmd FXARGS-1"}]}})];
        let cell = judge("command", &inputs(&records, &[]));
        assert_eq!(cell.status, Status::SeenWithError);
        assert!(cell
            .evidence
            .contains("`$ARGUMENTS` left literal (request 5)"));
    }

    #[test]
    fn names_count_only_where_the_suite_never_sends_them() {
        let listed = vec![json!({"seq": 1, "run": 0, "body": {"tools": [
            {"description": "Available skills: fx-skill, fx-runbook, fx-cmd"}]}})];
        let input = inputs(&listed, &[]);
        assert!(judge("runbook", &input)
            .evidence
            .starts_with("listed by name (request 1)"));
        assert!(judge("command", &input)
            .evidence
            .starts_with("listed by name"));
        assert_eq!(judge("skill", &input).status, Status::NotSeen);
        let echoed = vec![json!({"seq": 1, "run": 1, "body": {"messages": ["/fx-cmd FXARGS-1"]}})];
        let cell = judge("command", &inputs(&echoed, &[]));
        assert_eq!(cell.status, Status::NotSeen);
        assert_eq!(
            cell.evidence,
            "neither FXCMD-DESC nor FXCMD-BODY in any request"
        );
    }

    #[test]
    fn nothing_recorded_is_not_seen() {
        let input = inputs(&[], &[]);
        for kind in KINDS {
            assert_eq!(judge(kind, &input).status, Status::NotSeen, "{kind}");
        }
    }

    #[test]
    fn hook_log_and_unblocked_writes() {
        let mut input = inputs(&[], &[]);
        input.hook_log = "{\"tool_name\":\"Bash\"}\n";
        let cell = judge("behavior", &input);
        assert_eq!(cell.status, Status::Seen);
        assert!(cell.evidence.contains("tool_name"));
        input.blocked_file_written = true;
        assert_eq!(judge("behavior", &input).status, Status::SeenWithError);
    }

    #[test]
    fn load_errors_name_an_aiwg_file() {
        let logs = vec![(
            "run0.err".to_string(),
            "Validation failed: Agent Definition fx-agent: tools: Expected array, received string\n\
             warn: something unrelated\n\
             PreToolUse:Write hook error: FXBEHAVIOR-BLOCK fx-hook\n"
                .to_string(),
        )];
        let records = sample();
        let cell = judge("agent", &inputs(&records, &logs));
        assert_eq!(cell.status, Status::SeenWithError);
        assert!(
            cell.evidence.contains("run0.err: Validation failed"),
            "{}",
            cell.evidence
        );
        assert_eq!(
            judge("behavior", &inputs(&records, &logs)).status,
            Status::Seen
        );
        assert_eq!(
            judge("skill", &inputs(&records, &logs)).status,
            Status::Seen
        );
    }

    #[test]
    fn the_clients_own_output_counts_only_for_its_kind() {
        let says = vec![(
            "command".to_string(),
            "Running custom command \"fx-cmd\" with arguments: \"FXARGS-1\"".to_string(),
        )];
        let mut input = inputs(&[], &[]);
        input.client_says = &says;
        let cell = judge("command", &input);
        assert_eq!(cell.status, Status::Seen);
        assert!(cell
            .evidence
            .starts_with("the client says: Running custom command"));
        assert_eq!(judge("skill", &input).status, Status::NotSeen);
    }

    #[test]
    fn a_client_logging_the_block_as_a_failed_hook_is_the_block() {
        let ran = "Hook execution for BeforeTool: 0 succeeded, 1 failed (\"$HOME\"/.gemini/hooks/fx-hook/scripts/fx-hook.sh)\n";
        let bad = "Invalid hooks in /r/.gemini/settings.json: matcher is not a regex\n";
        let records = sample();
        for (log, want) in [(ran, Status::Seen), (bad, Status::SeenWithError)] {
            let logs = vec![("run0.err".to_string(), log.to_string())];
            let cell = judge("behavior", &inputs(&records, &logs));
            assert_eq!(cell.status, want, "{log}: {}", cell.evidence);
        }
        // Without the block in a request, a failed hook script is a problem.
        let logs = vec![("run0.err".to_string(), ran.to_string())];
        let mut input = inputs(&[], &logs);
        input.hook_log = "{}\n";
        assert_eq!(judge("behavior", &input).status, Status::SeenWithError);
    }

    #[test]
    fn a_warning_about_a_value_aiwg_wrote_counts() {
        let logs = vec![(
            "run0.err".to_string(),
            "WARN codex_models_manager::model_info: Unknown model gpt-5.4 is used.\n".to_string(),
        )];
        let extra = vec![("agent".to_string(), "gpt-5.4".to_string())];
        let records = sample();
        let mut input = inputs(&records, &logs);
        assert_eq!(judge("agent", &input).status, Status::Seen);
        input.extra_names = &extra;
        let cell = judge("agent", &input);
        assert_eq!(cell.status, Status::SeenWithError);
        assert!(cell.evidence.contains("Unknown model gpt-5.4"));
    }

    #[test]
    fn long_lines_and_distant_words_are_not_reports() {
        let far = format!("fx-skill{}error", " ".repeat(400));
        let dump = format!("{{\"text\": \"fx-skill error {}\"}}", "x".repeat(2000));
        let logs = vec![("log".to_string(), format!("{far}\n{dump}\n"))];
        assert!(load_errors(&logs, "skill", &[]).is_empty());
    }

    #[test]
    fn excerpts_are_short_and_unescaped() {
        let text = format!("{}MARK\\nnext{}", "a".repeat(100), "é".repeat(100));
        let ex = excerpt(&text, 100, 4);
        assert!(ex.contains("MARK next"));
        assert!(ex.chars().count() <= 90);
    }
}
