//! Raw HTTP/1.1 over loopback for the hardening tests and the fuzz harness: send bytes exactly
//! as given (malformed ones included), read until one whole response has arrived or the server
//! closes, and parse what came back strictly: a status line, headers, and a body framed by
//! `content-length` or `transfer-encoding: chunked`. Also: whether an error body has one of
//! AOAI's shapes, and a tiny backend that records the request it gets.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use aoai_mock::http::limits::BodyBudget;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest wait for one exchange: a bound for a broken server, never reached by a working one
/// (every server under test closes or answers well within it).
pub const EXCHANGE_BOUND: Duration = Duration::from_secs(20);

/// One parsed response.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }
}

/// What came back on a connection.
#[derive(Debug)]
pub struct Exchange {
    /// Every byte received.
    pub bytes: Vec<u8>,
    /// The server closed the connection (EOF or reset) before the bound.
    pub closed: bool,
    /// The request was a HEAD (its response has no body).
    pub head: bool,
}

impl Exchange {
    /// The first final response, parsed strictly: `Ok(None)` when none arrived whole.
    pub fn parsed(&self) -> Result<Option<RawResponse>, String> {
        Ok(final_response(&self.bytes, self.head, self.closed)?.map(|(response, _)| response))
    }

    /// The first final response (panics with the raw bytes if malformed or absent).
    pub fn response(&self) -> RawResponse {
        match self.parsed() {
            Ok(Some(response)) => response,
            Ok(None) => panic!(
                "no complete response (closed: {}): {:?}",
                self.closed,
                String::from_utf8_lossy(&self.bytes)
            ),
            Err(error) => panic!(
                "malformed response ({error}): {:?}",
                String::from_utf8_lossy(&self.bytes)
            ),
        }
    }
}

/// Send `request` on a new connection and read until a whole response has arrived, the server
/// closes, or [`EXCHANGE_BOUND`] passes (a failure for the caller to report).
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> Exchange {
    let head = request.starts_with(b"HEAD ");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before taking every byte (a 413 on the head alone).
    let _ = stream.write_all(request).await;
    read_answer(&mut stream, head).await
}

/// Read from `stream` until a whole response has arrived or the server closes.
pub async fn read_response(stream: &mut TcpStream) -> Exchange {
    read_answer(stream, false).await
}

/// [`read_response`] for a request that was a HEAD when `head`.
async fn read_answer(stream: &mut TcpStream, head: bool) -> Exchange {
    let mut bytes = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let reading = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return true,
                Ok(n) => {
                    bytes.extend_from_slice(&buffer[..n]);
                    if matches!(final_response(&bytes, head, false), Ok(Some(_)) | Err(_)) {
                        return false;
                    }
                }
            }
        }
    };
    let closed = tokio::time::timeout(EXCHANGE_BOUND, reading)
        .await
        .unwrap_or_else(|_| panic!("no answer and no close within {EXCHANGE_BOUND:?}"));
    Exchange {
        bytes,
        closed,
        head,
    }
}

/// Wait until the server closes `stream` (bytes it sends first are returned).
pub async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    tokio::time::timeout(EXCHANGE_BOUND, stream.read_to_end(&mut bytes))
        .await
        .unwrap_or_else(|_| panic!("the server kept the connection open past {EXCHANGE_BOUND:?}"))
        .ok();
    bytes
}

/// Wait until a server's body budget holds bytes satisfying `condition` — a state (a body
/// received, a connection's body released) no message on the wire announces. Woken by the
/// budget's own changes; bounded.
pub async fn until_budget(budget: &BodyBudget, condition: impl Fn(u64) -> bool) {
    tokio::time::timeout(EXCHANGE_BOUND, budget.until(condition))
        .await
        .expect("the server's body budget reached the state awaited");
}

/// The first final (non-1xx) response in `bytes`, as [`parse_response`] parses it; the
/// response to a HEAD (`head`) has no body; `closed`: the server has closed the connection
/// (which ends an HTTP/1.0 body without a length).
pub fn final_response(
    mut bytes: &[u8],
    head: bool,
    closed: bool,
) -> Result<Option<(RawResponse, usize)>, String> {
    let mut used = 0;
    loop {
        let Some((response, length)) = parse_one(bytes, head, closed)? else {
            return Ok(None);
        };
        used += length;
        if response.status >= 200 {
            return Ok(Some((response, used)));
        }
        bytes = &bytes[length..];
    }
}

/// Parse one response from the start of `bytes`: `Ok(None)` while incomplete, `Err` when what
/// is there cannot be HTTP/1.1.
pub fn parse_response(bytes: &[u8]) -> Result<Option<(RawResponse, usize)>, String> {
    parse_one(bytes, false, false)
}

fn parse_one(
    bytes: &[u8],
    to_head: bool,
    closed: bool,
) -> Result<Option<(RawResponse, usize)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut head = httparse::Response::new(&mut headers);
    let head_len = match head.parse(bytes).map_err(|e| e.to_string())? {
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(n) => n,
    };
    // HTTP/1.0 to a 1.0 client, HTTP/1.1 otherwise.
    if !matches!(head.version, Some(0 | 1)) {
        return Err(format!("version {:?}", head.version));
    }
    let status = head.code.ok_or("no status")?;
    let headers: Vec<(String, String)> = head
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let rest = &bytes[head_len..];
    let bodiless = to_head || status == 204 || status == 304 || (100..200).contains(&status);
    let (body, used) = if bodiless {
        (Vec::new(), 0)
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        match dechunk(rest)? {
            None => return Ok(None),
            Some(done) => done,
        }
    } else if let Some(length) = find("content-length") {
        let length: usize = length
            .trim()
            .parse()
            .map_err(|_| format!("content-length {length:?}"))?;
        if rest.len() < length {
            return Ok(None);
        }
        (rest[..length].to_vec(), length)
    } else if head.version == Some(0) {
        // HTTP/1.0: the body ends with the connection.
        if !closed {
            return Ok(None);
        }
        (rest.to_vec(), rest.len())
    } else {
        return Err("an HTTP/1.1 response body framed by neither length nor chunks".into());
    };
    Ok(Some((
        RawResponse {
            status,
            headers,
            body,
        },
        head_len + used,
    )))
}

fn dechunk(mut rest: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let total = rest.len();
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            // No trailers from these servers: the terminating CRLF follows.
            if rest.len() < 2 {
                return Ok(None);
            }
            if &rest[..2] != b"\r\n" {
                return Err("trailers or junk after the last chunk".into());
            }
            return Ok(Some((body, total - rest.len() + 2)));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&rest[..size]);
        if &rest[size..size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        rest = &rest[size + 2..];
    }
}

/// Whether `body` is one of AOAI's error shapes: the gateway envelope `{"error":{"code",
/// "message"}}`, the model envelope `{"error":{"message","type","param","code"}}`, or the
/// Entra 401 `{"statusCode":401,"message"}`.
pub fn is_aoai_error(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    if let Some(error) = value.get("error").and_then(|e| e.as_object()) {
        let message = error.get("message").is_some_and(|m| m.is_string());
        let gateway = error.get("code").is_some_and(|c| c.is_string());
        let model = error.contains_key("type") && error.contains_key("param");
        return message && (gateway || model);
    }
    value.get("statusCode").is_some_and(|s| s.is_u64())
        && value.get("message").is_some_and(|m| m.is_string())
}

/// A head promising a 100-byte body, then 11 bytes of it and nothing more: the server must
/// answer 408 (AOAI-shaped) when its body timeout ends and close the connection.
pub async fn assert_half_sent_body_gets_408_and_a_close(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {CHAT_PATH} HTTP/1.1\r\nhost: x\r\napi-key: test-key\r\ncontent-length: 100\r\n\r\n{{\"messages\""
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let answer = read_response(&mut stream).await.response();
    assert_eq!(answer.status, 408, "{}", answer.text());
    assert!(is_aoai_error(&answer.body), "{}", answer.text());
    until_closed(&mut stream).await;
}

/// Half a request head and nothing more: the server must close when its head timeout ends.
pub async fn assert_half_sent_head_is_closed(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"POST /openai/deployments/gpt-4o/chat/completions HTTP/1.1\r\nhost: x\r\napi-")
        .await
        .expect("write");
    until_closed(&mut stream).await;
}

/// With a 1 MiB body budget at `addr` (`budget`): a client that has
/// sent 700 KiB of an 800 KiB body holds most of what large bodies may use (three quarters),
/// so a 300 KiB body is refused with 503, AOAI's shape and a `retry-after`, while a small
/// request is still served from the quarter kept for small bodies; once the holder leaves,
/// the large body is served too.
pub async fn assert_budget_refuses_then_recovers(addr: SocketAddr, budget: &BodyBudget) {
    let mut holder = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {CHAT_PATH} HTTP/1.1\r\nhost: x\r\napi-key: test-key\r\ncontent-length: {}\r\n\r\n",
        800 << 10
    );
    holder.write_all(head.as_bytes()).await.expect("write");
    holder
        .write_all(&vec![b' '; 700 << 10])
        .await
        .expect("write");
    until_budget(budget, |held| held == 700 << 10).await;
    let body = format!(
        r#"{{"messages":[{{"role":"user","content":"{}"}}],"max_tokens":1}}"#,
        "x".repeat(300 << 10)
    );
    let answer = exchange(addr, &chat_request(CHAT_PATH, "", &body))
        .await
        .response();
    assert_eq!(answer.status, 503, "{}", answer.text());
    assert!(is_aoai_error(&answer.body), "{}", answer.text());
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(
        answer.header("connection"),
        Some("close"),
        "the body was left unread"
    );
    assert!(answer.header("x-throttlebox-exhausted").is_none());
    let small = exchange(addr, &chat_request(CHAT_PATH, "", CHAT_BODY))
        .await
        .response();
    assert_eq!(small.status, 200, "{}", small.text());
    drop(holder);
    until_budget(budget, |held| held == 0).await;
    let answer = exchange(addr, &chat_request(CHAT_PATH, "", &body))
        .await
        .response();
    assert_eq!(answer.status, 200, "{}", answer.text());
}

/// A chat request's bytes (`content-length` framing) with extra header lines.
pub fn chat_request(path: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\napi-key: test-key\r\n{extra_headers}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The chat path of deployment `gpt-4o`.
pub const CHAT_PATH: &str = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

/// A one-message chat body.
pub const CHAT_BODY: &str = r#"{"messages":[{"role":"user","content":"hello"}],"max_tokens":5}"#;

/// A backend that answers every request on one connection with `answer` and sends the request
/// head it read (up to the blank line) on the returned channel.
pub async fn recording_backend(
    answer: &'static [u8],
) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (heads, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut bytes = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    bytes.extend_from_slice(&buffer[..n]);
                    let mut headers = [httparse::EMPTY_HEADER; 64];
                    let mut request = httparse::Request::new(&mut headers);
                    let Ok(httparse::Status::Complete(head_len)) = request.parse(&bytes) else {
                        continue;
                    };
                    let length: usize = request
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                        .unwrap_or(0);
                    if bytes.len() < head_len + length {
                        continue;
                    }
                    let _ = heads.send(String::from_utf8_lossy(&bytes[..head_len]).into_owned());
                    bytes.drain(..head_len + length);
                    if stream.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, received)
}
