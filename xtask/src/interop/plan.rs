//! The scripted tool plan: which answer the fake model gives to one request.
//!
//! Step *i* is a tool call whose id holds `fxstep<i>x`; a client echoes the ids of earlier calls
//! in the conversation it sends back, so the highest id in a request is how far that
//! conversation got. The next step fires only when the request offers its tool, so side
//! requests (titles, summaries, subagents without that tool) get text, and a request that holds
//! one of the `text_if` markers (a subagent's own prompt) always gets text. Every conversation
//! therefore ends with the final text.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::{offered_tools, wants_json, Answer, Shape, NEUTRAL_JSON};

/// One tool call of the plan.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Step {
    /// What the step shows (`skill`, `agent`, `hook`), for the logs.
    pub what: String,
    /// The tool's name as this client offers it.
    pub tool: String,
    /// Its arguments. `{skill_path}` in a string becomes the path of the fixture skill's
    /// `SKILL.md` as the request names it (for clients that read skills with a file tool).
    pub args: Value,
}

/// A client's plan.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// A request holding any of these strings gets the final text (no step).
    pub text_if: Vec<String>,
}

/// The text that ends every conversation.
pub const FINAL_TEXT: &str = "FXDONE the interop plan is complete.";

/// The call id of step `i` (1-based).
pub fn step_id(i: usize) -> String {
    format!("toolu_fxstep{i}x")
}

/// The highest step whose call id the raw request holds (0 for none).
fn progress(raw: &str, steps: usize) -> usize {
    (1..=steps)
        .rev()
        .find(|&i| raw.contains(&format!("fxstep{i}x")))
        .unwrap_or(0)
}

/// The answer to one model request. `raw` is the request body as sent (for marker and id
/// search), `body` the same parsed.
pub fn decide(plan: &Plan, shape: Shape, body: &Value, raw: &str) -> Answer {
    if wants_json(shape, body) {
        return Answer::Text(NEUTRAL_JSON.to_string());
    }
    if plan.text_if.iter().any(|m| raw.contains(m.as_str())) {
        return Answer::Text(FINAL_TEXT.to_string());
    }
    let offered = offered_tools(shape, body);
    let done = progress(raw, plan.steps.len());
    for (i, step) in plan.steps.iter().enumerate().skip(done) {
        if let Some((name, namespace)) = offered.iter().find(|(n, _)| *n == step.tool) {
            return Answer::Tool {
                name: name.clone(),
                namespace: namespace.clone(),
                args: fill(&step.args, raw),
                id: step_id(i + 1),
            };
        }
    }
    Answer::Text(FINAL_TEXT.to_string())
}

/// `args` with `{skill_path}` filled from the request.
fn fill(args: &Value, raw: &str) -> Value {
    match args {
        Value::String(s) if s.contains("{skill_path}") => Value::String(s.replace(
            "{skill_path}",
            &skill_path(raw).unwrap_or_else(|| "fx-skill/SKILL.md".to_string()),
        )),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), fill(v, raw))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, raw)).collect()),
        other => other.clone(),
    }
}

/// The first absolute path to the fixture skill's `SKILL.md` in a raw (JSON) request.
pub fn skill_path(raw: &str) -> Option<String> {
    const TAIL: &str = "fx-skill/SKILL.md";
    let mut from = 0;
    while let Some(pos) = raw[from..].find(TAIL) {
        let end = from + pos + TAIL.len();
        let start = raw[..from + pos]
            .rfind(|c: char| c.is_whitespace() || "\"'<>()`\\=,;[]{}".contains(c))
            .map_or(0, |p| p + 1);
        let path = &raw[start..end];
        if path.starts_with('/') || path.starts_with('~') {
            return Some(path.to_string());
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan() -> Plan {
        Plan {
            steps: vec![
                Step {
                    what: "skill".into(),
                    tool: "Skill".into(),
                    args: json!({"skill": "fx-skill"}),
                },
                Step {
                    what: "agent".into(),
                    tool: "Agent".into(),
                    args: json!({"subagent_type": "fx-agent"}),
                },
                Step {
                    what: "hook".into(),
                    tool: "Write".into(),
                    args: json!({"content": "DO-NOT-COMMIT"}),
                },
            ],
            text_if: vec!["FXAGENT-BODY".into()],
        }
    }

    fn ask(body: Value) -> Answer {
        decide(&plan(), Shape::Anthropic, &body, &body.to_string())
    }

    fn tool_name(a: &Answer) -> &str {
        match a {
            Answer::Tool { name, .. } => name,
            Answer::Text(_) => "text",
        }
    }

    const ALL: &str = r#"[{"name":"Skill"},{"name":"Agent"},{"name":"Write"}]"#;

    #[test]
    fn steps_advance_by_echoed_ids() {
        let tools: Value = serde_json::from_str(ALL).unwrap();
        assert_eq!(
            tool_name(&ask(json!({"tools": tools, "messages": []}))),
            "Skill"
        );
        let after_one = json!({"tools": tools, "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": step_id(1)}]}]});
        let answer = ask(after_one);
        assert_eq!(tool_name(&answer), "Agent");
        assert!(matches!(answer, Answer::Tool { ref id, .. } if id == &step_id(2)));
        let after_three = json!({"tools": tools, "messages": [step_id(1), step_id(2), step_id(3)]});
        assert_eq!(ask(after_three), Answer::Text(FINAL_TEXT.into()));
    }

    #[test]
    fn a_step_waits_for_its_tool_and_subagents_get_text() {
        // No Skill tool offered: the plan moves on to the first step whose tool is there.
        let partial = json!({"tools": [{"name": "Write"}]});
        assert_eq!(tool_name(&ask(partial)), "Write");
        assert_eq!(tool_name(&ask(json!({"messages": []}))), "text");
        let tools: Value = serde_json::from_str(ALL).unwrap();
        let sub = json!({"tools": tools, "system": "FXAGENT-BODY You are …"});
        assert_eq!(tool_name(&ask(sub)), "text");
    }

    #[test]
    fn step_ten_is_not_step_one() {
        assert_eq!(progress("toolu_fxstep10x", 10), 10);
        assert_eq!(progress("toolu_fxstep1x", 10), 1);
        assert_eq!(progress("nothing", 3), 0);
    }

    #[test]
    fn json_mode_gets_neutral_json() {
        let body = json!({"generationConfig": {"responseMimeType": "application/json"},
                          "tools": [{"functionDeclarations": [{"name": "Skill"}]}]});
        let a = decide(&plan(), Shape::Gemini, &body, &body.to_string());
        assert_eq!(a, Answer::Text(NEUTRAL_JSON.into()));
    }

    #[test]
    fn skill_path_is_taken_from_the_request() {
        let raw = json!({"system": "<location>/tmp/case/repo/.agents/skills/fx-skill/SKILL.md</location>"})
            .to_string();
        assert_eq!(
            skill_path(&raw).as_deref(),
            Some("/tmp/case/repo/.agents/skills/fx-skill/SKILL.md")
        );
        assert_eq!(skill_path(r#"{"x":"see fx-skill/SKILL.md"}"#), None);
        let args = fill(
            &json!({"path": "{skill_path}", "cmd": ["cat {skill_path}"], "n": 1}),
            &raw,
        );
        assert_eq!(
            args,
            json!({"path": "/tmp/case/repo/.agents/skills/fx-skill/SKILL.md",
                   "cmd": ["cat /tmp/case/repo/.agents/skills/fx-skill/SKILL.md"], "n": 1})
        );
    }
}
