//! The model APIs the fake server speaks: which shape a request is, what it offers (tools,
//! tool results, JSON mode), and the bytes of an answer (SSE or JSON) in that shape.
//!
//! Event names and fields follow each vendor's public API reference; only what the clients
//! under test read is sent.

use serde_json::{json, Value};

/// A model API shape, chosen from the request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Anthropic Messages: `POST …/v1/messages`.
    Anthropic,
    /// OpenAI Responses: `POST …/responses`.
    Responses,
    /// OpenAI Chat Completions: `POST …/chat/completions`.
    Chat,
    /// Gemini `…/models/<m>:streamGenerateContent` (SSE) or `:generateContent` (JSON).
    Gemini,
}

impl Shape {
    /// The shape of a model call at `path` (query string allowed), or `None` for any other
    /// endpoint.
    pub fn of_path(path: &str) -> Option<Shape> {
        let path = path.split('?').next().unwrap_or(path);
        if path.ends_with("/messages") {
            Some(Shape::Anthropic)
        } else if path.ends_with("/responses") {
            Some(Shape::Responses)
        } else if path.ends_with("/chat/completions") {
            Some(Shape::Chat)
        } else if path.contains(":streamGenerateContent") || path.contains(":generateContent") {
            Some(Shape::Gemini)
        } else {
            None
        }
    }
}

/// What the server answers a model call with.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A final assistant text.
    Text(String),
    /// One tool call.
    Tool {
        /// Tool name as the client offered it.
        name: String,
        /// The namespace the tool was offered in (Responses `namespace` tools), if any.
        namespace: Option<String>,
        /// Arguments object.
        args: Value,
        /// Call id; the plan finds its progress by these ids in later requests.
        id: String,
    },
}

/// Names of the tools a request offers, with the namespace each sits in (Codex groups some
/// tools under `{"type": "namespace", "name": …, "tools": […]}`).
pub fn offered_tools(shape: Shape, body: &Value) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return out;
    };
    for tool in tools {
        match shape {
            Shape::Gemini => {
                for decl in tool
                    .get("functionDeclarations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = decl.get("name").and_then(Value::as_str) {
                        out.push((n.to_string(), None));
                    }
                }
            }
            Shape::Chat => {
                if let Some(n) = tool.pointer("/function/name").and_then(Value::as_str) {
                    out.push((n.to_string(), None));
                }
            }
            Shape::Anthropic | Shape::Responses => {
                let name = tool.get("name").and_then(Value::as_str);
                match (tool.get("tools").and_then(Value::as_array), name) {
                    (Some(inner), ns) => {
                        for t in inner {
                            if let Some(n) = t.get("name").and_then(Value::as_str) {
                                out.push((n.to_string(), ns.map(str::to_string)));
                            }
                        }
                    }
                    (None, Some(n)) => out.push((n.to_string(), None)),
                    (None, None) => {}
                }
            }
        }
    }
    out
}

/// True when a request asks for a JSON answer (Gemini CLI's router and next-speaker checks,
/// structured outputs): those get neutral JSON, never a tool call.
pub fn wants_json(shape: Shape, body: &Value) -> bool {
    match shape {
        Shape::Gemini => {
            let cfg = body.get("generationConfig");
            cfg.and_then(|c| c.get("responseMimeType"))
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains("json"))
                || cfg.is_some_and(|c| {
                    c.get("responseSchema").is_some() || c.get("responseJsonSchema").is_some()
                })
        }
        Shape::Chat => body
            .pointer("/response_format/type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("json")),
        Shape::Responses => body
            .pointer("/text/format/type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("json")),
        Shape::Anthropic => false,
    }
}

/// True when the request asks for a stream (Gemini: by its path).
pub fn wants_stream(shape: Shape, path: &str, body: &Value) -> bool {
    match shape {
        Shape::Gemini => path.contains(":streamGenerateContent"),
        _ => body.get("stream").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// The model id the request names, for echoing back.
pub fn model_of(shape: Shape, path: &str, body: &Value) -> String {
    if shape == Shape::Gemini {
        if let Some(rest) = path.split("/models/").nth(1) {
            return rest.split(':').next().unwrap_or("fake-model").to_string();
        }
    }
    body.get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-model")
        .to_string()
}

/// The neutral JSON text a JSON-mode side request gets: the keys Gemini CLI's router and
/// next-speaker check read, with answers that neither switch model nor continue the turn.
pub const NEUTRAL_JSON: &str =
    r#"{"reasoning":"interop fixture","next_speaker":"user","model_choice":"flash"}"#;

/// One SSE event, `event:` line optional.
fn sse(event: Option<&str>, data: &Value) -> String {
    match event {
        Some(e) => format!("event: {e}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// The response to a model call: content type and body bytes.
pub fn render(shape: Shape, stream: bool, model: &str, answer: &Answer) -> (&'static str, String) {
    match (shape, stream) {
        (Shape::Anthropic, true) => ("text/event-stream", anthropic_sse(model, answer)),
        (Shape::Anthropic, false) => (
            "application/json",
            anthropic_json(model, answer).to_string(),
        ),
        (Shape::Responses, _) => ("text/event-stream", responses_sse(model, answer)),
        (Shape::Chat, true) => ("text/event-stream", chat_sse(model, answer)),
        (Shape::Chat, false) => ("application/json", chat_json(model, answer).to_string()),
        (Shape::Gemini, true) => (
            "text/event-stream",
            format!("data: {}\r\n\r\n", gemini_json(model, answer)),
        ),
        (Shape::Gemini, false) => ("application/json", gemini_json(model, answer).to_string()),
    }
}

const USAGE_IN: u64 = 12;
const USAGE_OUT: u64 = 6;

fn anthropic_json(model: &str, answer: &Answer) -> Value {
    let (content, stop) = match answer {
        Answer::Text(t) => (json!([{"type": "text", "text": t}]), "end_turn"),
        Answer::Tool { name, args, id, .. } => (
            json!([{"type": "tool_use", "id": id, "name": name, "input": args}]),
            "tool_use",
        ),
    };
    json!({"id": "msg_fx", "type": "message", "role": "assistant", "model": model,
           "content": content, "stop_reason": stop, "stop_sequence": null,
           "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT}})
}

fn anthropic_sse(model: &str, answer: &Answer) -> String {
    let mut out = sse(
        Some("message_start"),
        &json!({"type": "message_start", "message": {"id": "msg_fx", "type": "message",
            "role": "assistant", "model": model, "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": USAGE_IN, "output_tokens": 1}}}),
    );
    let (start, delta, stop) = match answer {
        Answer::Text(t) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": t}),
            "end_turn",
        ),
        Answer::Tool { name, args, id, .. } => (
            json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": args.to_string()}),
            "tool_use",
        ),
    };
    out += &sse(
        Some("content_block_start"),
        &json!({"type": "content_block_start", "index": 0, "content_block": start}),
    );
    out += &sse(
        Some("content_block_delta"),
        &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
    );
    out += &sse(
        Some("content_block_stop"),
        &json!({"type": "content_block_stop", "index": 0}),
    );
    out += &sse(
        Some("message_delta"),
        &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"output_tokens": USAGE_OUT}}),
    );
    out += &sse(Some("message_stop"), &json!({"type": "message_stop"}));
    out
}

fn responses_item(answer: &Answer, done: bool) -> Value {
    let status = if done { "completed" } else { "in_progress" };
    match answer {
        Answer::Text(t) => {
            let content = if done {
                json!([{"type": "output_text", "text": t, "annotations": []}])
            } else {
                json!([])
            };
            json!({"type": "message", "id": "msg_fx", "role": "assistant", "status": status,
                   "content": content})
        }
        // A string argument is the input of a freeform (`custom`) tool, such as Codex's
        // apply_patch.
        Answer::Tool {
            name,
            args: Value::String(input),
            id,
            ..
        } => json!({"type": "custom_tool_call", "id": format!("ctc_{id}"), "call_id": id,
                    "name": name, "input": if done { input.as_str() } else { "" },
                    "status": status}),
        Answer::Tool {
            name,
            namespace,
            args,
            id,
        } => {
            let mut item = json!({"type": "function_call", "id": format!("fc_{id}"),
                "call_id": id, "name": name,
                "arguments": if done { args.to_string() } else { String::new() },
                "status": status});
            if let Some(ns) = namespace {
                item["namespace"] = json!(ns);
            }
            item
        }
    }
}

fn responses_sse(model: &str, answer: &Answer) -> String {
    let mut seq = 0u64;
    let mut ev = |name: &str, mut data: Value| {
        data["type"] = json!(name);
        data["sequence_number"] = json!(seq);
        seq += 1;
        sse(Some(name), &data)
    };
    let response = |status: &str, output: Value| {
        json!({"id": "resp_fx", "object": "response", "created_at": 0, "model": model,
               "status": status, "output": output,
               "usage": {"input_tokens": USAGE_IN, "input_tokens_details": {"cached_tokens": 0},
                         "output_tokens": USAGE_OUT,
                         "output_tokens_details": {"reasoning_tokens": 0},
                         "total_tokens": USAGE_IN + USAGE_OUT}})
    };
    let mut out = ev(
        "response.created",
        json!({"response": response("in_progress", json!([]))}),
    );
    out += &ev(
        "response.output_item.added",
        json!({"output_index": 0, "item": responses_item(answer, false)}),
    );
    match answer {
        Answer::Text(t) => {
            out += &ev(
                "response.content_part.added",
                json!({"item_id": "msg_fx", "output_index": 0, "content_index": 0,
                       "part": {"type": "output_text", "text": "", "annotations": []}}),
            );
            out += &ev(
                "response.output_text.delta",
                json!({"item_id": "msg_fx", "output_index": 0, "content_index": 0, "delta": t}),
            );
            out += &ev(
                "response.output_text.done",
                json!({"item_id": "msg_fx", "output_index": 0, "content_index": 0, "text": t}),
            );
        }
        Answer::Tool {
            args: Value::String(input),
            id,
            ..
        } => {
            let item_id = format!("ctc_{id}");
            out += &ev(
                "response.custom_tool_call_input.delta",
                json!({"item_id": item_id, "output_index": 0, "delta": input}),
            );
            out += &ev(
                "response.custom_tool_call_input.done",
                json!({"item_id": item_id, "output_index": 0, "input": input}),
            );
        }
        Answer::Tool { args, id, .. } => {
            let item_id = format!("fc_{id}");
            out += &ev(
                "response.function_call_arguments.delta",
                json!({"item_id": item_id, "output_index": 0, "delta": args.to_string()}),
            );
            out += &ev(
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": 0, "arguments": args.to_string()}),
            );
        }
    }
    let done = responses_item(answer, true);
    out += &ev(
        "response.output_item.done",
        json!({"output_index": 0, "item": done.clone()}),
    );
    out += &ev(
        "response.completed",
        json!({"response": response("completed", json!([done]))}),
    );
    out
}

fn chat_message(answer: &Answer) -> (Value, &'static str) {
    match answer {
        Answer::Text(t) => (json!({"role": "assistant", "content": t}), "stop"),
        Answer::Tool { name, args, id, .. } => (
            json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": id,
                "type": "function", "function": {"name": name, "arguments": args.to_string()}}]}),
            "tool_calls",
        ),
    }
}

fn chat_usage() -> Value {
    json!({"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT,
           "total_tokens": USAGE_IN + USAGE_OUT})
}

fn chat_json(model: &str, answer: &Answer) -> Value {
    let (mut message, finish) = chat_message(answer);
    if let Some(calls) = message.get_mut("tool_calls").and_then(Value::as_array_mut) {
        for c in calls {
            c.as_object_mut().map(|o| o.remove("index"));
        }
    }
    json!({"id": "chatcmpl-fx", "object": "chat.completion", "created": 0, "model": model,
           "choices": [{"index": 0, "message": message, "finish_reason": finish}],
           "usage": chat_usage()})
}

fn chat_sse(model: &str, answer: &Answer) -> String {
    let chunk = |choices: Value, usage: Option<Value>| {
        let mut c = json!({"id": "chatcmpl-fx", "object": "chat.completion.chunk",
                           "created": 0, "model": model, "choices": choices});
        if let Some(u) = usage {
            c["usage"] = u;
        }
        sse(None, &c)
    };
    let (delta, finish) = chat_message(answer);
    let mut out = chunk(
        json!([{"index": 0, "delta": delta, "finish_reason": null}]),
        None,
    );
    out += &chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": finish}]),
        None,
    );
    out += &chunk(json!([]), Some(chat_usage()));
    out += "data: [DONE]\n\n";
    out
}

fn gemini_json(model: &str, answer: &Answer) -> Value {
    let part = match answer {
        Answer::Text(t) => json!({"text": t}),
        Answer::Tool { name, args, id, .. } => {
            json!({"functionCall": {"id": id, "name": name, "args": args}})
        }
    };
    json!({"candidates": [{"content": {"role": "model", "parts": [part]},
                           "finishReason": "STOP", "index": 0}],
           "usageMetadata": {"promptTokenCount": USAGE_IN, "candidatesTokenCount": USAGE_OUT,
                             "totalTokenCount": USAGE_IN + USAGE_OUT},
           "modelVersion": model})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits an SSE body into (event, data) pairs, checking the framing as it goes.
    fn events(body: &str) -> Vec<(Option<String>, Value)> {
        assert!(body.ends_with("\n\n"), "an SSE body ends with a blank line");
        body.split("\n\n")
            .filter(|b| !b.trim().is_empty())
            .map(|block| {
                let mut event = None;
                let mut data = None;
                for line in block.lines() {
                    let line = line.trim_end_matches('\r');
                    if let Some(e) = line.strip_prefix("event: ") {
                        event = Some(e.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = Some(if d == "[DONE]" {
                            json!("[DONE]")
                        } else {
                            serde_json::from_str(d).expect("each data line is one JSON value")
                        });
                    } else {
                        panic!("unexpected SSE line {line:?}");
                    }
                }
                (event, data.expect("each event has data"))
            })
            .collect()
    }

    fn tool() -> Answer {
        Answer::Tool {
            name: "Skill".into(),
            namespace: None,
            args: json!({"skill": "fx-skill"}),
            id: "fxstep-1".into(),
        }
    }

    #[test]
    fn shapes_by_path() {
        assert_eq!(
            Shape::of_path("/v1/messages?beta=true"),
            Some(Shape::Anthropic)
        );
        assert_eq!(Shape::of_path("/v1/messages/count_tokens"), None);
        assert_eq!(Shape::of_path("/v1/responses"), Some(Shape::Responses));
        assert_eq!(Shape::of_path("/v1/chat/completions"), Some(Shape::Chat));
        assert_eq!(
            Shape::of_path("/v1beta/models/gemini-3:streamGenerateContent?alt=sse"),
            Some(Shape::Gemini)
        );
        assert_eq!(Shape::of_path("/v1/models"), None);
    }

    #[test]
    fn anthropic_tool_call_events_in_order() {
        let (ct, body) = render(Shape::Anthropic, true, "m", &tool());
        assert_eq!(ct, "text/event-stream");
        let ev = events(&body);
        let names: Vec<_> = ev.iter().map(|(e, _)| e.clone().unwrap()).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        for (e, d) in &ev {
            assert_eq!(
                d["type"],
                json!(e.as_deref().unwrap()),
                "type matches event name"
            );
        }
        assert_eq!(ev[1].1["content_block"]["name"], "Skill");
        assert_eq!(ev[1].1["content_block"]["input"], json!({}));
        let partial = ev[2].1["delta"]["partial_json"].as_str().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(partial).unwrap(),
            json!({"skill": "fx-skill"})
        );
        assert_eq!(ev[4].1["delta"]["stop_reason"], "tool_use");
    }

    #[test]
    fn anthropic_text_ends_the_turn() {
        let (_, body) = render(Shape::Anthropic, true, "m", &Answer::Text("done".into()));
        let ev = events(&body);
        assert_eq!(
            ev[2].1["delta"],
            json!({"type": "text_delta", "text": "done"})
        );
        assert_eq!(ev[4].1["delta"]["stop_reason"], "end_turn");
        let (ct, json) = render(Shape::Anthropic, false, "m", &Answer::Text("x".into()));
        assert_eq!(ct, "application/json");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["content"][0]["text"], "x");
    }

    #[test]
    fn chat_chunks_then_usage_then_done() {
        let (_, body) = render(Shape::Chat, true, "m", &tool());
        let ev = events(&body);
        assert!(
            ev.iter().all(|(e, _)| e.is_none()),
            "chat chunks have no event names"
        );
        let call = &ev[0].1["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(call["index"], 0);
        assert_eq!(call["id"], "fxstep-1");
        assert_eq!(call["function"]["name"], "Skill");
        assert_eq!(ev[1].1["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(ev[2].1["choices"], json!([]));
        assert_eq!(ev[2].1["usage"]["total_tokens"], 18);
        assert_eq!(ev[3].1, json!("[DONE]"));
        let (_, body) = render(Shape::Chat, false, "m", &Answer::Text("hi".into()));
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "hi");
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
    }

    #[test]
    fn responses_events_carry_sequence_and_final_output() {
        let answer = Answer::Tool {
            name: "spawn_agent".into(),
            namespace: Some("collaboration".into()),
            args: json!({"agent_type": "fx-agent"}),
            id: "fxstep-2".into(),
        };
        let (_, body) = render(Shape::Responses, true, "m", &answer);
        let ev = events(&body);
        for (i, (e, d)) in ev.iter().enumerate() {
            assert_eq!(d["type"], json!(e.as_deref().unwrap()));
            assert_eq!(d["sequence_number"], json!(i));
        }
        let last = &ev.last().unwrap().1;
        assert_eq!(last["type"], "response.completed");
        let item = &last["response"]["output"][0];
        assert_eq!(item["call_id"], "fxstep-2");
        assert_eq!(item["namespace"], "collaboration");
        assert_eq!(item["arguments"], json!(r#"{"agent_type":"fx-agent"}"#));
        let (_, body) = render(Shape::Responses, true, "m", &Answer::Text("ok".into()));
        let ev = events(&body);
        assert!(
            ev.iter()
                .any(|(e, d)| e.as_deref() == Some("response.output_text.delta")
                    && d["delta"] == "ok")
        );
    }

    #[test]
    fn a_string_argument_is_a_freeform_tool_call() {
        let answer = Answer::Tool {
            name: "apply_patch".into(),
            namespace: None,
            args: json!("*** Begin Patch\n*** End Patch\n"),
            id: "fxstep-3".into(),
        };
        let (_, body) = render(Shape::Responses, true, "m", &answer);
        let ev = events(&body);
        assert!(ev
            .iter()
            .any(|(e, _)| e.as_deref() == Some("response.custom_tool_call_input.done")));
        let item = &ev.last().unwrap().1["response"]["output"][0];
        assert_eq!(item["type"], "custom_tool_call");
        assert_eq!(item["input"], "*** Begin Patch\n*** End Patch\n");
        assert_eq!(item["call_id"], "fxstep-3");
    }

    #[test]
    fn gemini_stream_is_one_data_event() {
        let (_, body) = render(Shape::Gemini, true, "gemini-x", &tool());
        assert!(body.starts_with("data: ") && body.ends_with("\r\n\r\n"));
        let v: Value = serde_json::from_str(body[6..].trim()).unwrap();
        assert_eq!(
            v["candidates"][0]["content"]["parts"][0]["functionCall"]["args"],
            json!({"skill": "fx-skill"})
        );
        assert_eq!(v["modelVersion"], "gemini-x");
    }

    #[test]
    fn offered_tools_per_shape() {
        let anth = json!({"tools": [{"name": "Read", "input_schema": {}}, {"name": "Skill"}]});
        assert_eq!(
            offered_tools(Shape::Anthropic, &anth),
            [("Read".to_string(), None), ("Skill".to_string(), None)]
        );
        let resp = json!({"tools": [{"type": "function", "name": "exec_command"},
            {"type": "namespace", "name": "collaboration", "tools": [{"name": "spawn_agent"}]}]});
        assert_eq!(
            offered_tools(Shape::Responses, &resp),
            [
                ("exec_command".to_string(), None),
                ("spawn_agent".to_string(), Some("collaboration".to_string()))
            ]
        );
        let chat = json!({"tools": [{"type": "function", "function": {"name": "skill"}}]});
        assert_eq!(
            offered_tools(Shape::Chat, &chat),
            [("skill".to_string(), None)]
        );
        let gem = json!({"tools": [{"functionDeclarations": [{"name": "read_file"}]}]});
        assert_eq!(
            offered_tools(Shape::Gemini, &gem),
            [("read_file".to_string(), None)]
        );
        assert!(offered_tools(Shape::Chat, &json!({})).is_empty());
    }

    #[test]
    fn json_mode_is_detected() {
        let g = json!({"generationConfig": {"responseMimeType": "application/json"}});
        assert!(wants_json(Shape::Gemini, &g));
        assert!(wants_json(
            Shape::Gemini,
            &json!({"generationConfig": {"responseJsonSchema": {}}})
        ));
        assert!(!wants_json(Shape::Gemini, &json!({"generationConfig": {}})));
        assert!(wants_json(
            Shape::Chat,
            &json!({"response_format": {"type": "json_schema"}})
        ));
        assert_eq!(
            model_of(
                Shape::Gemini,
                "/v1beta/models/g-1:generateContent",
                &json!({})
            ),
            "g-1"
        );
    }
}
