//! Test harness: start a fleet in-process on port 0 and talk to it over loopback with hyper's
//! low-level HTTP/1 client (one connection per request, so a test can drop it mid-stream).
#![allow(dead_code)]

use aoai_mock::config::FleetConfig;
use aoai_mock::http::{AdminOptions, RunningFleet, ServeOptions};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request};
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Start `toml` (a fleet file) with its admin listener on loopback and return the running
/// fleet; ready when this returns.
pub async fn start(toml: &str) -> RunningFleet {
    let config = FleetConfig::from_toml_str(toml, "test-fleet.toml").expect("test fleet is valid");
    let options = ServeOptions {
        admin: Some(AdminOptions::loopback()),
        ..ServeOptions::default()
    };
    RunningFleet::start_with(&config, &options)
        .await
        .expect("listeners bind")
}

/// Address of the admin listener.
pub fn admin(fleet: &RunningFleet) -> SocketAddr {
    fleet
        .admin
        .expect("the test fleet serves its admin listener")
}

/// Address of the first listener.
pub fn addr(fleet: &RunningFleet) -> SocketAddr {
    fleet.listeners[0].addr
}

/// A whole response.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn header_u64(&self, name: &str) -> u64 {
        self.header(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .parse()
            .expect("numeric header")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// Open a connection and send one request; returns the response head and its streaming body.
pub async fn open(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<hyper::Response<Incoming>, hyper::Error> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    sender.send_request(request).await
}

/// Open a streamed chat completion on deployment `chat` (key `k`) that the mock answers with
/// `completion_tokens` tokens (`max_tokens` allowed); the response head and its streaming body.
pub async fn open_stream(
    addr: SocketAddr,
    completion_tokens: u32,
    max_tokens: u32,
) -> hyper::Response<Incoming> {
    let tokens = completion_tokens.to_string();
    let headers = [
        ("api-key", "k"),
        ("x-mock-completion-tokens", tokens.as_str()),
    ];
    open(
        addr,
        "POST",
        &chat_path("chat"),
        &headers,
        &chat_body(max_tokens, true),
    )
    .await
    .expect("the response head arrives")
}

/// Send one request and read the whole response.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let response = open(addr, method, path, headers, body)
        .await
        .expect("a response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a complete body")
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub const CHAT: &str = "/openai/deployments/{d}/chat/completions?api-version=2024-10-21";

/// The chat path of deployment `d`.
pub fn chat_path(deployment: &str) -> String {
    CHAT.replace("{d}", deployment)
}

/// POST a chat body to deployment `d` with key `k` and extra headers.
pub async fn chat(addr: SocketAddr, deployment: &str, body: &str, extra: &[(&str, &str)]) -> Reply {
    let mut headers = vec![("api-key", "k"), ("content-type", "application/json")];
    headers.extend_from_slice(extra);
    send(addr, "POST", &chat_path(deployment), &headers, body).await
}

/// A one-message chat body with `max_tokens`.
pub fn chat_body(max_tokens: u32, stream: bool) -> String {
    format!(
        r#"{{"messages":[{{"role":"user","content":"hello world"}}],"max_tokens":{max_tokens},"stream":{stream},"stream_options":{{"include_usage":true}}}}"#
    )
}

/// GET /metrics on the admin listener, as text.
pub async fn metrics(fleet: &RunningFleet) -> String {
    send(admin(fleet), "GET", "/metrics", &[], "").await.body
}

/// The value of the metric line starting with `prefix` (name and labels).
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric line {prefix}"))
}

/// Zero-latency latency table for test fleets.
pub const INSTANT: &str = r#"latency = { ttft_base = "0", ttft_per_prompt_token = "0", ttft_jitter = 0.0, tokens_per_second = 1000000.0, tps_jitter = 0.0 }"#;

/// A fleet of one resource `east` (key `k`) with one instant gpt-4o deployment `chat` of 1M TPM,
/// after the fleet-level lines `top` (e.g. a `[switches]` table).
pub fn east_chat(top: &str) -> String {
    format!(
        r#"
{top}
[[resources]]
name = "east"
region = "East US"
api_keys = ["k"]
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
{INSTANT}
"#
    )
}
