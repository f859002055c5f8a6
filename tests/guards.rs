//! The bundled guard behaviors against their labelled corpora (`tests/corpora/`): each case
//! goes through every payload shape the clients give PreToolUse hooks, and the real script
//! decides. Negatives must pass in every shape, positives must be blocked in every shape
//! (recall at least 95 %), and the numbers in each behavior's README must be the ones
//! measured here (`AIWG_BLESS=1 cargo test --test tests guards` rewrites them).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::repo_root;

/// What a corpus case must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    /// Must be blocked in every shape.
    Block,
    /// A positive the guard is known to let through (counted against recall).
    Miss,
    /// Must pass in every shape.
    Allow,
}

#[derive(Debug)]
struct Case {
    label: Label,
    id: String,
    path: Option<String>,
    text: String,
}

fn corpus(name: &str) -> Vec<Case> {
    let file = repo_root().join("tests/corpora").join(name);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut cases: Vec<Case> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(header) = line.strip_prefix("=== ") {
            let (label, rest) = header.split_once(' ').expect("=== label id: why");
            let (id, why) = rest.split_once(": ").expect("=== label id: why");
            assert!(!why.trim().is_empty(), "{name}:{}: a case says why", n + 1);
            let label = match label {
                "block" => Label::Block,
                "miss" => Label::Miss,
                "allow" => Label::Allow,
                other => panic!("{name}:{}: unknown label `{other}`", n + 1),
            };
            assert!(
                !cases.iter().any(|c| c.id == id),
                "{name}:{}: duplicate id {id}",
                n + 1
            );
            cases.push(Case {
                label,
                id: id.to_string(),
                path: None,
                text: String::new(),
            });
        } else if let Some(case) = cases.last_mut() {
            match line.strip_prefix("path: ") {
                Some(p) if case.text.is_empty() && case.path.is_none() => {
                    case.path = Some(p.to_string())
                }
                _ => {
                    case.text.push_str(line);
                    case.text.push('\n');
                }
            }
        }
    }
    for case in &mut cases {
        case.text = case.text.trim_end().to_string() + "\n";
    }
    cases
}

fn behavior_dir(name: &str) -> PathBuf {
    repo_root()
        .join("content/frameworks/sdlc/behaviors")
        .join(name)
}

/// Runs the behavior's script on `payload`: (exit code, stdout, stderr).
fn run_script(script: &Path, payload: &Value) -> (i32, String, String) {
    run_script_with(script, payload, &[])
}

/// [`run_script`] with the guards' own variables set to `env` (and cleared otherwise).
fn run_script_with(script: &Path, payload: &Value, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new("sh");
    command
        .arg(script)
        .env_remove("SECRET_GUARD_ALLOW")
        .env_remove("DESTRUCTIVE_GUARD_PROTECTED")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Claude-shaped payload (Claude Code, and the clients that copy its schema).
fn claude(tool: &str, input: Value) -> Value {
    json!({
        "session_id": "corpus",
        "transcript_path": "/tmp/corpus.jsonl",
        "cwd": "/repo",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": input,
    })
}

/// A Copilot CLI payload: `toolArgs` is JSON text (the CLI) or an object (the SDK).
fn copilot(tool: &str, args: Value, as_text: bool) -> Value {
    let args = if as_text {
        Value::String(args.to_string())
    } else {
        args
    };
    json!({"timestamp": 1_767_000_000_000_u64, "cwd": "/repo", "toolName": tool, "toolArgs": args})
}

/// Every way a client hands a hook the text `text` being written to `path`.
/// Sources: Claude Code hooks reference (Write, Edit, MultiEdit, NotebookEdit, Bash);
/// `/work/shared/research/real-clients.md` (Codex normalises exec_command to `Bash`, Factory
/// matches `Create`/`Edit`/`Execute`, Qwen `write_file`/`edit`/`run_shell_command`);
/// Gemini CLI hooks reference (`write_file`, `replace`, `run_shell_command`); Codex
/// apply_patch carries the patch in `tool_input.command`; Copilot CLI hooks configuration
/// (`toolName`, `toolArgs`).
fn write_shapes(path: &str, text: &str) -> Vec<(String, Value)> {
    let abs = format!("/repo/{path}");
    let body = text.trim_end();
    let heredoc = format!("cat > '{path}' <<'EOF'\n{body}\nEOF");
    let tee = format!("mkdir -p out && tee -a {path} >/dev/null <<'EOF'\n{body}\nEOF");
    let patch = format!(
        "*** Begin Patch\n*** Add File: {path}\n{}\n*** End Patch\n",
        body.lines()
            .map(|l| format!("+{l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let old = "placeholder line being replaced";
    let mut shapes = vec![
        (
            "claude-code Write",
            claude("Write", json!({"file_path": abs, "content": text})),
        ),
        (
            "claude-code Edit",
            claude(
                "Edit",
                json!({"file_path": abs, "old_string": old, "new_string": text, "replace_all": false}),
            ),
        ),
        (
            "claude-code MultiEdit",
            claude(
                "MultiEdit",
                json!({"file_path": abs, "edits": [{"old_string": "a", "new_string": "// begin"}, {"old_string": old, "new_string": text}]}),
            ),
        ),
        (
            "claude-code Bash heredoc",
            claude(
                "Bash",
                json!({"command": heredoc, "description": "write the file"}),
            ),
        ),
        (
            "claude-code Bash tee",
            claude("Bash", json!({"command": tee})),
        ),
        (
            "codex Bash (exec_command)",
            claude("Bash", json!({"command": heredoc})),
        ),
        (
            "codex apply_patch",
            claude("apply_patch", json!({"command": patch})),
        ),
        (
            "factory Create",
            claude("Create", json!({"file_path": abs, "content": text})),
        ),
        (
            "factory Edit",
            claude(
                "Edit",
                json!({"file_path": abs, "old_str": old, "new_str": text}),
            ),
        ),
        (
            "factory Execute",
            claude("Execute", json!({"command": heredoc})),
        ),
        (
            "qwen write_file",
            claude("write_file", json!({"file_path": abs, "content": text})),
        ),
        (
            "qwen edit",
            claude(
                "edit",
                json!({"file_path": abs, "old_string": old, "new_string": text}),
            ),
        ),
        (
            "gemini replace",
            claude(
                "replace",
                json!({"file_path": abs, "old_string": old, "new_string": text, "instruction": "update"}),
            ),
        ),
        (
            "gemini run_shell_command",
            claude("run_shell_command", json!({"command": tee})),
        ),
        (
            "copilot create",
            copilot("create", json!({"path": abs, "file_text": text}), true),
        ),
        (
            "copilot edit",
            copilot(
                "edit",
                json!({"path": abs, "old_str": old, "new_str": text}),
                true,
            ),
        ),
        (
            "copilot bash",
            copilot("bash", json!({"command": heredoc}), true),
        ),
        (
            "copilot create (object args)",
            copilot("create", json!({"path": abs, "file_text": text}), false),
        ),
    ];
    // Notebook cells hold code: only code cases go through NotebookEdit.
    if let Some(stem) = path.strip_suffix(".py") {
        shapes.push((
            "claude-code NotebookEdit",
            claude(
                "NotebookEdit",
                json!({"notebook_path": format!("/repo/{stem}.ipynb"), "cell_id": "c1", "new_source": text, "cell_type": "code", "edit_mode": "replace"}),
            ),
        ));
    }
    shapes
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect()
}

/// Every way a client hands a hook the shell command `command`.
fn command_shapes(command: &str) -> Vec<(String, Value)> {
    let command = command.trim_end();
    [
        (
            "claude-code Bash",
            claude("Bash", json!({"command": command, "description": "run it"})),
        ),
        (
            "codex Bash (exec_command)",
            claude("Bash", json!({"command": command})),
        ),
        (
            "factory Execute",
            claude("Execute", json!({"command": command})),
        ),
        (
            "qwen/gemini run_shell_command",
            claude("run_shell_command", json!({"command": command})),
        ),
        (
            "copilot bash",
            copilot("bash", json!({"command": command}), true),
        ),
        (
            "copilot bash (object args)",
            copilot("bash", json!({"command": command}), false),
        ),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect()
}

/// Per case: the shapes in which the script blocked, and those in which it allowed.
struct Outcome<'c> {
    case: &'c Case,
    blocked: Vec<String>,
    allowed: Vec<String>,
}

fn run_corpus<'c>(
    script: &Path,
    cases: &'c [Case],
    shapes: impl Fn(&Case) -> Vec<(String, Value)> + Sync,
    check_block: impl Fn(&Case, &str, &str, &str) + Sync,
) -> Vec<Outcome<'c>> {
    let jobs: Vec<(usize, String, Value)> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, c)| shapes(c).into_iter().map(move |(n, v)| (i, n, v)))
        .collect();
    let results: Vec<(usize, String, bool)> = std::thread::scope(|s| {
        let chunks: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(4).max(1))
            .map(|chunk| {
                s.spawn(|| {
                    chunk
                        .iter()
                        .map(|(i, shape, payload)| {
                            let (code, stdout, stderr) = run_script(script, payload);
                            assert!(
                                code == 0 || code == 2,
                                "{} via {shape}: exit {code}: {stderr}",
                                cases[*i].id
                            );
                            if code == 2 {
                                check_block(&cases[*i], shape, &stdout, &stderr);
                            } else {
                                assert!(
                                    stderr.is_empty() && stdout.is_empty(),
                                    "{} via {shape}: allowed but said {stdout}{stderr}",
                                    cases[*i].id
                                );
                            }
                            (*i, shape.clone(), code == 2)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        chunks.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut outcomes: Vec<Outcome> = cases
        .iter()
        .map(|case| Outcome {
            case,
            blocked: Vec::new(),
            allowed: Vec::new(),
        })
        .collect();
    for (i, shape, blocked) in results {
        if blocked {
            outcomes[i].blocked.push(shape);
        } else {
            outcomes[i].allowed.push(shape);
        }
    }
    outcomes
}

/// Asserts the corpus discipline and returns the README block the numbers give.
fn judge(outcomes: &[Outcome], shape_count: usize) -> String {
    let mut problems = Vec::new();
    for o in outcomes {
        match o.case.label {
            Label::Allow if !o.blocked.is_empty() => problems.push(format!(
                "false positive: `{}` was blocked via {}",
                o.case.id,
                o.blocked.join(", ")
            )),
            Label::Block if !o.allowed.is_empty() => problems.push(format!(
                "missed: `{}` passed via {}",
                o.case.id,
                o.allowed.join(", ")
            )),
            Label::Miss if o.allowed.is_empty() => problems.push(format!(
                "`{}` is labelled `miss` but is now blocked everywhere: relabel it `block`",
                o.case.id
            )),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let positives = outcomes
        .iter()
        .filter(|o| o.case.label != Label::Allow)
        .count();
    let caught = outcomes
        .iter()
        .filter(|o| o.case.label == Label::Block)
        .count();
    let negatives = outcomes.len() - positives;
    let recall = caught as f64 * 100.0 / positives as f64;
    assert!(
        recall >= 95.0,
        "recall {recall:.1} % is under 95 % ({caught} of {positives})"
    );
    let misses: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.case.label == Label::Miss)
        .map(|o| o.case.id.as_str())
        .collect();
    format!(
        "| measured by `cargo test` (tests/guards.rs) | value |\n\
         |---|---|\n\
         | payload shapes per case | {shape_count} |\n\
         | positives blocked in every shape | {caught} of {positives} |\n\
         | recall | {recall:.1} % |\n\
         | negatives wrongly blocked (any shape) | 0 of {negatives} |\n\
         | precision | 100 % |\n\
         | known misses | {} |\n",
        if misses.is_empty() {
            "none".to_string()
        } else {
            misses
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )
}

/// The README's block between the corpus markers must be `block`.
fn check_readme(readme: &Path, block: &str) {
    const BEGIN: &str = "<!-- corpus:begin -->\n";
    const END: &str = "<!-- corpus:end -->";
    let text = std::fs::read_to_string(readme).unwrap();
    let start = text.find(BEGIN).expect("README has the corpus markers") + BEGIN.len();
    let end = text.find(END).expect("README has the corpus markers");
    if text[start..end] == *block {
        return;
    }
    if std::env::var_os("AIWG_BLESS").is_some() {
        let new = format!("{}{block}{}", &text[..start], &text[end..]);
        std::fs::write(readme, new).unwrap();
        return;
    }
    panic!(
        "{} is stale; run `AIWG_BLESS=1 cargo test --test tests guards`. Expected:\n{block}",
        readme.display()
    );
}

#[test]
fn secret_guard_corpus() {
    let dir = behavior_dir("secret-guard");
    let cases = corpus("secret-guard.txt");
    let shapes = |c: &Case| write_shapes(c.path.as_deref().unwrap_or("notes.txt"), &c.text);
    let max_shapes = cases.iter().map(|c| shapes(c).len()).max().unwrap();
    let outcomes = run_corpus(
        &dir.join("scripts/secret-guard.sh"),
        &cases,
        shapes,
        |case, shape, stdout, stderr| {
            assert!(
                stderr.starts_with("secret-guard: blocked a write to "),
                "{} via {shape}: {stderr}",
                case.id
            );
            // The message never repeats the value: no long word of the text is in it.
            let path = case.path.as_deref().unwrap_or("");
            for word in case
                .text
                .split(|c: char| c.is_whitespace() || "\"'=:,;(){}".contains(c))
            {
                if word.len() >= 12 && !path.contains(word) {
                    assert!(
                        !stderr.contains(word) && !stdout.contains(word),
                        "{} via {shape}: the message repeats `{word}`",
                        case.id
                    );
                }
            }
            if shape.starts_with("copilot") {
                let decision: Value = serde_json::from_str(stdout.trim()).unwrap();
                assert_eq!(decision["permissionDecision"], "deny", "{stdout}");
            }
        },
    );
    check_readme(&dir.join("README.md"), &judge(&outcomes, max_shapes));
}

#[test]
fn secret_guard_never_blocks_removing_a_secret_or_a_plain_command() {
    let script = behavior_dir("secret-guard").join("scripts/secret-guard.sh");
    let secret = "password = \"95l6cGis2tcU\"";
    let clean = "password = env:DB_PASSWORD";
    for payload in [
        claude(
            "Edit",
            json!({"file_path": "/repo/app.ini", "old_string": secret, "new_string": clean}),
        ),
        claude(
            "MultiEdit",
            json!({"file_path": "/repo/app.ini", "edits": [{"old_string": secret, "new_string": clean}]}),
        ),
        claude(
            "Edit",
            json!({"file_path": "/repo/app.ini", "old_str": secret, "new_str": clean}),
        ),
        copilot(
            "edit",
            json!({"path": "/repo/app.ini", "old_str": secret, "new_str": clean}),
            true,
        ),
        // A patch's `-` lines are what goes away.
        claude(
            "apply_patch",
            json!({"command": format!("*** Begin Patch\n*** Update File: app.ini\n@@\n-{secret}\n+{clean}\n*** End Patch\n")}),
        ),
        // A command that writes no file is not a write (it is the destructive guard's business).
        claude(
            "Bash",
            json!({"command": "grep -rn 'password = \"95l6cGis2tcU\"' src"}),
        ),
        claude("Read", json!({"file_path": "/repo/.env"})),
        json!({}),
        Value::String("not json at all".into()),
    ] {
        let (code, _, stderr) = run_script(&script, &payload);
        assert_eq!(code, 0, "{payload}: {stderr}");
    }
}

#[test]
fn secret_guard_path_allowlist() {
    let script = behavior_dir("secret-guard").join("scripts/secret-guard.sh");
    let payload = claude(
        "Write",
        json!({"file_path": "tests/fixtures/creds.ini", "content": "password = 95l6cGis2tcU\n"}),
    );
    let run = |allow: &str| run_script_with(&script, &payload, &[("SECRET_GUARD_ALLOW", allow)]).0;
    assert_eq!(run("docs/*:tests/fixtures/*"), 0);
    assert_eq!(run("docs/*"), 2);
}

#[test]
fn destructive_guard_corpus() {
    let dir = behavior_dir("destructive-guard");
    let cases = corpus("destructive-guard.txt");
    let shapes = |c: &Case| command_shapes(&c.text);
    let count = shapes(&cases[0]).len();
    let outcomes = run_corpus(
        &dir.join("scripts/destructive-guard.sh"),
        &cases,
        shapes,
        |case, shape, stdout, stderr| {
            assert!(
                stderr.starts_with("destructive-guard: blocked "),
                "{} via {shape}: {stderr}",
                case.id
            );
            if shape.starts_with("copilot") {
                let decision: Value = serde_json::from_str(stdout.trim()).unwrap();
                assert_eq!(decision["permissionDecision"], "deny", "{stdout}");
            }
        },
    );
    check_readme(&dir.join("README.md"), &judge(&outcomes, count));
}

#[test]
fn destructive_guard_reads_only_shell_tools_and_extra_protected_branches() {
    let script = behavior_dir("destructive-guard").join("scripts/destructive-guard.sh");
    let write = claude(
        "Write",
        json!({"file_path": "/repo/notes.md", "content": "rm -rf /"}),
    );
    assert_eq!(run_script(&script, &write).0, 0);
    let push = claude("Bash", json!({"command": "git push -f origin staging"}));
    assert_eq!(run_script(&script, &push).0, 0);
    let protected = [("DESTRUCTIVE_GUARD_PROTECTED", "staging qa/*")];
    assert_eq!(run_script_with(&script, &push, &protected).0, 2);
    let qa = claude("Bash", json!({"command": "git push --force origin qa/1.2"}));
    assert_eq!(run_script_with(&script, &qa, &protected).0, 2);
}
