//! The fake model server: HTTP/1.1 on 127.0.0.1 with `std::net`, one thread per connection.
//! Every request is recorded as one JSON line (credentials redacted) and answered from the
//! client's plan in the API shape its path names. Proxy requests (`CONNECT`, absolute URLs)
//! are refused with 403 and recorded with their host, so a client that tries to leave the
//! machine is seen. The server stops by itself after a deadline or a request cap.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::api::{self, Answer, Shape};
use super::plan::{self, Plan};

/// Header names whose values never reach the log.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "cookie",
    "proxy-authorization",
];
/// Upper bound of one request body.
const MAX_BODY: usize = 64 << 20;
/// Upper bound of the header block.
const MAX_HEAD: usize = 256 << 10;
/// Requests after which the server answers nothing more.
const MAX_REQUESTS: usize = 5000;

/// A parsed HTTP request.
#[derive(Debug, Default, PartialEq)]
pub struct Request {
    /// `GET`, `POST`, `CONNECT` …
    pub method: String,
    /// The request target as sent.
    pub target: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request from `r`; `Ok(None)` when the peer closed before sending one.
pub fn read_request(
    r: &mut impl BufRead,
    on_continue: impl FnOnce(),
) -> io::Result<Option<Request>> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = r.take(MAX_HEAD as u64).read_until(b'\n', &mut line)?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(bad("connection closed inside the header"))
            };
        }
        if line == b"\r\n" || line == b"\n" {
            if head.is_empty() {
                continue;
            }
            break;
        }
        head.push(String::from_utf8_lossy(&line).trim_end().to_string());
        if head.len() > 500 {
            return Err(bad("too many header lines"));
        }
    }
    let mut parts = head[0].split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = head[1..]
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut req = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if req
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        on_continue();
    }
    if req
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let size = size.trim().split(';').next().unwrap_or("");
            let n = usize::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
            if req.body.len() + n > MAX_BODY {
                return Err(bad("body too large"));
            }
            if n == 0 {
                // Trailers, then the blank line.
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t)? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = req.body.len();
            req.body.resize(start + n, 0);
            r.read_exact(&mut req.body[start..])?;
            let mut crlf = String::new();
            r.read_line(&mut crlf)?;
        }
    } else if let Some(len) = req.header("content-length") {
        let n: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        if n > MAX_BODY {
            return Err(bad("body too large"));
        }
        req.body.resize(n, 0);
        r.read_exact(&mut req.body)?;
    }
    Ok(Some(req))
}

/// `target` with credential-looking query values (`key=`, `api_key=` …) replaced.
fn redact_target(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_string();
    };
    let q: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.to_ascii_lowercase().contains("key") || k == "token" => {
                format!("{k}=<redacted>")
            }
            _ => kv.to_string(),
        })
        .collect();
    format!("{path}?{}", q.join("&"))
}

/// The JSON line recorded for a request: method, redacted target and headers, the body as
/// JSON when it parses, else as text (or a note for a compressed body).
pub fn record(seq: usize, run: usize, req: &Request, answer: &str) -> Value {
    let mut headers = Map::new();
    for (n, v) in &req.headers {
        let v = if SECRET_HEADERS.contains(&n.as_str()) {
            "<redacted>".to_string()
        } else {
            v.clone()
        };
        headers.insert(n.clone(), Value::String(v));
    }
    let body = match req.header("content-encoding") {
        Some(enc) if !enc.eq_ignore_ascii_case("identity") => {
            json!(format!(
                "<{} bytes, content-encoding {enc}: not decoded>",
                req.body.len()
            ))
        }
        _ => serde_json::from_slice(&req.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&req.body).into_owned())),
    };
    json!({"seq": seq, "run": run, "method": req.method, "path": redact_target(&req.target),
           "headers": headers, "body": body, "answer": answer})
}

/// A response: status, content type and body.
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
    /// What the log says was answered.
    pub summary: String,
}

fn json_response(status: u16, body: Value, summary: &str) -> Response {
    Response {
        status,
        content_type: "application/json",
        body: body.to_string(),
        summary: summary.to_string(),
    }
}

/// The answer to one request, given the plan of the run it belongs to (`None`: text only).
pub fn respond(req: &Request, plan: Option<&Plan>) -> Response {
    // A client that sends even its model calls through the proxy names this server by URL.
    if let Some(rest) = ["http://127.0.0.1:", "http://localhost:"]
        .iter()
        .find_map(|p| req.target.strip_prefix(p))
    {
        let direct = Request {
            method: req.method.clone(),
            target: rest
                .find('/')
                .map_or("/".to_string(), |i| rest[i..].to_string()),
            headers: req.headers.clone(),
            body: req.body.clone(),
        };
        return respond(&direct, plan);
    }
    if req.method == "CONNECT"
        || req.target.starts_with("http://")
        || req.target.starts_with("https://")
    {
        let host = if req.method == "CONNECT" {
            req.target.clone()
        } else {
            req.target.split('/').nth(2).unwrap_or_default().to_string()
        };
        return json_response(
            403,
            json!({"error": "offline"}),
            &format!("refused proxy to {host}"),
        );
    }
    let path = req.target.split('?').next().unwrap_or_default();
    if let Some(shape) = Shape::of_path(path).filter(|_| req.method == "POST") {
        let raw = String::from_utf8_lossy(&req.body);
        let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        let empty = Plan::default();
        let answer = plan::decide(plan.unwrap_or(&empty), shape, &body, &raw);
        let stream = api::wants_stream(shape, &req.target, &body);
        let (content_type, text) =
            api::render(shape, stream, &api::model_of(shape, path, &body), &answer);
        let summary = match &answer {
            Answer::Text(_) => "text".to_string(),
            Answer::Tool { name, .. } => format!("tool {name}"),
        };
        return Response {
            status: 200,
            content_type,
            body: text,
            summary,
        };
    }
    if path.ends_with("/count_tokens") {
        return json_response(200, json!({"input_tokens": 12}), "tokens");
    }
    if path.contains(":countTokens") {
        return json_response(200, json!({"totalTokens": 12}), "tokens");
    }
    if path.ends_with("/embeddings") {
        return json_response(
            200,
            json!({"object": "list", "model": "fake-model",
                   "data": [{"object": "embedding", "index": 0, "embedding": [0.0, 0.0, 0.0, 0.0]}],
                   "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
            "embedding",
        );
    }
    if req.method == "GET" && path.ends_with("/models") {
        return json_response(
            200,
            json!({"object": "list", "data": [{"id": "fake-model", "object": "model",
                   "created": 0, "owned_by": "interop"}],
                   "models": [{"name": "models/fake-model", "slug": "fake-model"}]}),
            "models",
        );
    }
    json_response(
        404,
        json!({"error": {"message": "not emulated by the interop server"}}),
        "404",
    )
}

fn write_response(stream: &mut TcpStream, resp: &Response) -> io::Result<()> {
    let reason = match resp.status {
        200 => "OK",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        resp.status,
        resp.content_type,
        resp.body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(resp.body.as_bytes())?;
    stream.flush()
}

/// Shared state of a running server.
struct State {
    log: Mutex<std::fs::File>,
    seq: AtomicUsize,
    /// Index of the client invocation now running; only run 0 follows the plan.
    run: Arc<AtomicUsize>,
    plan: Plan,
}

/// A running server; dropping it does not stop it, `stop` does.
pub struct Server {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves until `stop` or `deadline`, appending one
    /// JSON line per request to `log`. `run` says which client invocation is running.
    pub fn start(
        log: &Path,
        plan: Plan,
        run: Arc<AtomicUsize>,
        deadline: Duration,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(State {
            log: Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)?,
            ),
            seq: AtomicUsize::new(0),
            run,
            plan,
        });
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) && started.elapsed() < deadline {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let state = state.clone();
                        std::thread::spawn(move || {
                            let _ = serve(conn, &state);
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(Server {
            port,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops accepting connections and waits for the accept loop.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, state: &State) -> io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let mut cont = writer.try_clone()?;
    let Some(req) = read_request(&mut reader, || {
        let _ = cont.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    })?
    else {
        return Ok(());
    };
    let seq = state.seq.fetch_add(1, Ordering::SeqCst);
    if seq >= MAX_REQUESTS {
        return Ok(());
    }
    let run = state.run.load(Ordering::SeqCst);
    let resp = respond(&req, (run == 0).then_some(&state.plan));
    let line = record(seq, run, &req, &resp.summary);
    if let Ok(mut log) = state.log.lock() {
        let _ = writeln!(log, "{line}");
        let _ = log.flush();
    }
    write_response(&mut writer, &resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Request {
        read_request(&mut io::Cursor::new(raw.as_bytes().to_vec()), || {})
            .unwrap()
            .unwrap()
    }

    #[test]
    fn content_length_and_chunked_bodies() {
        let r = parse("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n{\"a\"");
        assert_eq!(r.method, "POST");
        assert_eq!(r.body, b"{\"a\"");
        let r = parse(
            "POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
        );
        assert_eq!(r.body, b"abcde");
        assert!(read_request(&mut io::Cursor::new(Vec::new()), || {})
            .unwrap()
            .is_none());
        let bad = "POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n";
        assert!(read_request(&mut io::Cursor::new(bad.as_bytes().to_vec()), || {}).is_err());
    }

    #[test]
    fn expect_continue_is_answered() {
        let mut asked = false;
        let raw = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n";
        read_request(&mut io::Cursor::new(raw.as_bytes().to_vec()), || {
            asked = true
        })
        .unwrap();
        assert!(asked);
    }

    #[test]
    fn records_redact_credentials() {
        let r = parse(
            "POST /v1beta/models/g:generateContent?key=SECRET1&alt=sse HTTP/1.1\r\nAuthorization: Bearer SECRET2\r\nX-Api-Key: SECRET3\r\nx-goog-api-key: SECRET4\r\nCookie: a=SECRET5\r\nUser-Agent: fx\r\nContent-Length: 9\r\n\r\n{\"n\": 1}\n",
        );
        let line = record(3, 1, &r, "text");
        let text = line.to_string();
        assert!(!text.contains("SECRET"), "{text}");
        assert_eq!(line["headers"]["user-agent"], "fx");
        assert_eq!(line["headers"]["authorization"], "<redacted>");
        assert_eq!(
            line["path"],
            "/v1beta/models/g:generateContent?key=<redacted>&alt=sse"
        );
        assert_eq!(line["body"], json!({"n": 1}));
        assert_eq!(
            (line["seq"].as_u64(), line["run"].as_u64()),
            (Some(3), Some(1))
        );
        let gz = parse(
            "POST /x HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n\x1f\x08",
        );
        assert!(record(0, 0, &gz, "").to_string().contains("not decoded"));
    }

    #[test]
    fn proxy_requests_are_refused_with_their_host() {
        let r = parse("CONNECT api.example.test:443 HTTP/1.1\r\n\r\n");
        let resp = respond(&r, None);
        assert_eq!(resp.status, 403);
        assert_eq!(resp.summary, "refused proxy to api.example.test:443");
        let r = parse("GET http://other.test/x HTTP/1.1\r\n\r\n");
        assert_eq!(respond(&r, None).summary, "refused proxy to other.test");
        let r = parse("GET http://127.0.0.1:4000/v1/models HTTP/1.1\r\n\r\n");
        assert_eq!(respond(&r, None).summary, "models");
    }

    #[test]
    fn routes() {
        let r = parse("GET /v1/models HTTP/1.1\r\n\r\n");
        assert!(respond(&r, None).body.contains("fake-model"));
        let r = parse("POST /v1/messages/count_tokens HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(respond(&r, None).summary, "tokens");
        let r = parse("GET /nothing HTTP/1.1\r\n\r\n");
        assert_eq!(respond(&r, None).status, 404);
    }

    /// A real socket round trip: a streamed Chat request gets SSE and lands in the log.
    #[test]
    fn serves_and_records_over_a_socket() {
        let dir = std::env::temp_dir().join(format!("aiwg-interop-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("requests.jsonl");
        let _ = std::fs::remove_file(&log);
        let server = Server::start(
            &log,
            Plan::default(),
            Arc::new(AtomicUsize::new(0)),
            Duration::from_secs(20),
        )
        .unwrap();
        let mut conn = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        let body = r#"{"model":"fake-model","stream":true,"messages":[]}"#;
        write!(
            conn,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dummy\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        conn.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("text/event-stream"));
        assert!(out.contains(plan::FINAL_TEXT));
        assert!(out.ends_with("data: [DONE]\n\n"));
        server.stop();
        let logged = std::fs::read_to_string(&log).unwrap();
        let line: Value = serde_json::from_str(logged.lines().next().unwrap()).unwrap();
        assert_eq!(line["path"], "/v1/chat/completions");
        assert_eq!(line["headers"]["authorization"], "<redacted>");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
