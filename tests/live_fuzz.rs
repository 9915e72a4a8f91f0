//! A fuzz harness on stable Rust: proptest writes raw HTTP/1.1 requests — well-formed ones and
//! every way a client gets them wrong (methods, targets, versions, headers, `Content-Length`
//! and chunked framing, bodies over the limit, empty and broken JSON, then random byte edits
//! and truncation) — and sends each to the mock and to the gateway over real sockets.
//!
//! For every answer: it is well-formed HTTP/1.1 (strictly framed), an error carries an AOAI
//! error body, nothing is a 5xx (both backends are healthy), and a request sent whole gets an
//! answer rather than a silent close. After the pass: no connection task panicked, both servers
//! still serve, their body budgets are empty, and no backend's breaker moved — the breaker
//! trips on one connect error, timeout or 5xx, so any client-side fault blamed on a backend
//! would show.
//!
//! CI runs a short deterministic pass. A longer one is one command:
//! `THROTTLEBOX_FUZZ_CASES=5000 cargo test --release --test integration live_fuzz`
//! (`THROTTLEBOX_FUZZ_SEED=<n>` explores other inputs than the default ones).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use aoai_mock::http::limits::Limits;
use aoai_mock::http::{RunningFleet, ServeOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use throttlebox::live::LiveClock;
use throttlebox::live::gateway::{GatewaySettings, RunningGateway};
use throttlebox::scenario::{Override, Scenario};

use crate::live_gateway_hardening::GUARDED;
use crate::wire_support::{
    CHAT_BODY, CHAT_PATH, chat_request, exchange, is_aoai_error, until_budget,
};

/// Largest body either server reads in this harness (small, so over-limit bodies are cheap).
const MAX_BODY: usize = 16 * 1024;
/// Cases of a default (CI) pass.
const DEFAULT_CASES: u32 = 48;

fn cases() -> u32 {
    std::env::var("THROTTLEBOX_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn rng() -> TestRng {
    let seed: u64 = std::env::var("THROTTLEBOX_FUZZ_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(11);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// How the body is framed.
#[derive(Debug, Clone)]
enum Framing {
    /// `content-length` equal to the body.
    Length,
    /// `content-length` off by this much (non-zero).
    WrongLength(i64),
    /// A `content-length` value that is not a length.
    BadLength(&'static str),
    /// Two different `content-length` headers.
    TwoLengths,
    /// Chunks of these sizes (the rest in one last chunk), then the terminator.
    Chunked(Vec<usize>),
    /// A chunk size line that is not hex.
    BadChunkSize,
    /// Chunks without the terminating zero chunk.
    Unterminated,
    /// Both `transfer-encoding: chunked` and `content-length`.
    Both,
    /// No framing header at all (the body bytes follow the head).
    Unframed,
}

/// One request as generated, before the byte edits.
#[derive(Debug, Clone)]
struct Request {
    method: &'static str,
    target: String,
    version: &'static str,
    headers: Vec<(String, String)>,
    framing: Framing,
    body: Vec<u8>,
}

/// A raw edit of the rendered bytes.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

#[derive(Debug, Clone)]
struct Case {
    request: Request,
    edits: Vec<Edit>,
}

fn method() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        6 => Just("POST"),
        1 => Just("GET"),
        1 => Just("HEAD"),
        1 => Just("OPTIONS"),
        1 => Just("PATCH"),
        1 => Just("PUT"),
        1 => Just("DELETE"),
        1 => Just("CONNECT"),
        1 => Just("TRACE"),
        1 => Just("P@ST"),
    ]
}

fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(CHAT_PATH.to_string()),
        1 => Just("/openai/deployments/gpt-4o/completions?api-version=2024-10-21".to_string()),
        1 => Just("/openai/deployments/gpt-4o/embeddings?api-version=2024-10-21".to_string()),
        1 => Just("/openai/v1/chat/completions".to_string()),
        1 => Just("/openai/deployments/nope/chat/completions?api-version=2024-10-21".to_string()),
        1 => Just("/openai/deployments/gpt-4o/chat/completions".to_string()),
        1 => Just("/metrics".to_string()),
        1 => Just("/admin/config".to_string()),
        1 => Just("/++/config".to_string()),
        1 => Just("*".to_string()),
        1 => Just("/".to_string()),
        1 => Just("evil.example:443".to_string()),
        1 => Just(format!("http://evil.example{CHAT_PATH}")),
        1 => "/[a-z%0-9./?=&-]{0,40}",
        1 => (1usize..80_000).prop_map(|n| format!("/{}", "a".repeat(n))),
    ]
}

fn version() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => Just("HTTP/1.1"),
        1 => Just("HTTP/1.0"),
        1 => Just("HTTP/2.0"),
        1 => Just("HTTP/1.1x"),
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    let pair = |name: &str, value: &str| (name.to_string(), value.to_string());
    prop_oneof![
        4 => Just(pair("api-key", "test-key")),
        1 => Just(pair("api-key", "wrong")),
        1 => Just(pair("authorization", "Bearer test-key")),
        2 => Just(pair("content-type", "application/json")),
        1 => Just(pair("connection", "close")),
        1 => Just(pair("connection", "keep-alive, x-private")),
        1 => Just(pair("x-private", "secret")),
        1 => Just(pair("proxy-authorization", "Basic c2VjcmV0")),
        1 => Just(pair("expect", "100-continue")),
        1 => Just(pair("upgrade", "websocket")),
        1 => "[0-9a-z]{0,12}".prop_map(move |v| pair("x-mock-completion-tokens", &v)),
        1 => "[0-9]{0,4}".prop_map(move |v| pair("x-stainless-retry-count", &v)),
        1 => (1usize..200_000).prop_map(move |n| pair("x-big", &"b".repeat(n))),
        1 => Just(pair("bad header", "v")),
        1 => Just(pair("x-folded", "a\r\n folded")),
        1 => "[ -~]{0,30}".prop_map(move |v| pair("x-any", &v)),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let chat = ("[ -~]{0,120}", 1u32..40, any::<bool>()).prop_map(|(text, max, stream)| {
        serde_json::json!({
            "messages": [{"role": "user", "content": text}],
            "max_tokens": max,
            "stream": stream,
        })
        .to_string()
        .into_bytes()
    });
    prop_oneof![
        6 => chat,
        1 => Just(br#"{"messages":[]}"#.to_vec()),
        1 => Just(br#"{"input":[]}"#.to_vec()),
        1 => Just(b"{}".to_vec()),
        1 => Just(b"not json".to_vec()),
        1 => Just(br#"{"messages":[{"role":"user","content":123}],"n":1000}"#.to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => (1usize..4096).prop_map(|extra| {
            format!(
                r#"{{"messages":[{{"role":"user","content":"{}"}}]}}"#,
                "x".repeat(MAX_BODY + extra)
            )
            .into_bytes()
        }),
        1 => Just(Vec::new()),
    ]
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        8 => Just(Framing::Length),
        1 => prop_oneof![-5i64..0, 1i64..6].prop_map(Framing::WrongLength),
        1 => prop_oneof![
            Just("abc"),
            Just("-1"),
            Just("1, 2"),
            Just("99999999999999999999"),
        ]
        .prop_map(Framing::BadLength),
        1 => Just(Framing::TwoLengths),
        3 => proptest::collection::vec(1usize..300, 0..5).prop_map(Framing::Chunked),
        1 => Just(Framing::BadChunkSize),
        1 => Just(Framing::Unterminated),
        1 => Just(Framing::Both),
        1 => Just(Framing::Unframed),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip(at, byte)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert(at, byte)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let request = (
        method(),
        target(),
        version(),
        proptest::collection::vec(header(), 0..6),
        framing(),
        body(),
    )
        .prop_map(
            |(method, target, version, headers, framing, body)| Request {
                method,
                target,
                version,
                headers,
                framing,
                body,
            },
        );
    let edits = prop_oneof![
        3 => Just(Vec::new()),
        1 => proptest::collection::vec(edit(), 1..4),
    ];
    (request, edits).prop_map(|(request, edits)| Case { request, edits })
}

fn chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    for size in sizes.iter().copied().chain(std::iter::once(usize::MAX)) {
        let take = size.min(rest.len());
        if take == 0 {
            continue;
        }
        out.extend_from_slice(format!("{take:x}\r\n").as_bytes());
        out.extend_from_slice(&rest[..take]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[take..];
    }
    out
}

impl Case {
    /// The bytes to send, and whether they are a whole request a server must answer.
    fn render(&self) -> (Vec<u8>, bool) {
        let r = &self.request;
        let mut head = format!("{} {} {}\r\nhost: fuzz\r\n", r.method, r.target, r.version);
        for (name, value) in &r.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let length = r.body.len();
        let (framing, body, whole) = match &r.framing {
            Framing::Length => (
                format!("content-length: {length}\r\n"),
                r.body.clone(),
                true,
            ),
            Framing::WrongLength(delta) => {
                let declared = (length as i64 + delta).max(0);
                let whole = declared <= length as i64;
                (
                    format!("content-length: {declared}\r\n"),
                    r.body.clone(),
                    whole,
                )
            }
            Framing::BadLength(value) => {
                (format!("content-length: {value}\r\n"), r.body.clone(), true)
            }
            Framing::TwoLengths => (
                format!(
                    "content-length: {length}\r\ncontent-length: {}\r\n",
                    length + 1
                ),
                r.body.clone(),
                true,
            ),
            Framing::Chunked(sizes) => {
                let mut body = chunked(&r.body, sizes);
                body.extend_from_slice(b"0\r\n\r\n");
                ("transfer-encoding: chunked\r\n".into(), body, true)
            }
            Framing::BadChunkSize => (
                "transfer-encoding: chunked\r\n".into(),
                [b"zz\r\n".as_slice(), &r.body, b"\r\n0\r\n\r\n"].concat(),
                true,
            ),
            Framing::Unterminated => (
                "transfer-encoding: chunked\r\n".into(),
                chunked(&r.body, &[]),
                false,
            ),
            Framing::Both => {
                let mut body = chunked(&r.body, &[]);
                body.extend_from_slice(b"0\r\n\r\n");
                (
                    format!("transfer-encoding: chunked\r\ncontent-length: {length}\r\n"),
                    body,
                    true,
                )
            }
            Framing::Unframed => (String::new(), r.body.clone(), true),
        };
        head.push_str(&framing);
        head.push_str("\r\n");
        let mut bytes = [head.into_bytes(), body].concat();
        for edit in &self.edits {
            let len = bytes.len().max(1);
            match *edit {
                Edit::Flip(at, byte) => {
                    if let Some(slot) = bytes.get_mut(at % len) {
                        *slot = byte;
                    }
                }
                Edit::Insert(at, byte) => bytes.insert(at % (bytes.len() + 1), byte),
                Edit::Delete(at) => {
                    if !bytes.is_empty() {
                        bytes.remove(at % len);
                    }
                }
                Edit::Truncate(at) => bytes.truncate(at % len),
            }
        }
        // A request whose head alone is over the limit is answered (431/414) however its
        // bytes end; an edited one may be anything.
        (bytes, whole && self.edits.is_empty())
    }
}

/// The servers under test.
struct Targets {
    fleet: RunningFleet,
    gateway: RunningGateway,
}

/// Check one answer of `target` to `case`.
async fn check(addr: SocketAddr, target: &str, bytes: &[u8], whole: bool) -> Result<(), String> {
    let got = exchange(addr, bytes).await;
    let shown = || String::from_utf8_lossy(&got.bytes[..got.bytes.len().min(600)]).into_owned();
    let response = match got.parsed() {
        Err(error) => return Err(format!("{target}: malformed answer ({error}): {}", shown())),
        Ok(None) if whole => {
            return Err(format!(
                "{target}: a whole request got no answer (closed: {}): {}",
                got.closed,
                shown()
            ));
        }
        Ok(None) if !got.bytes.is_empty() => {
            return Err(format!("{target}: a partial answer: {}", shown()));
        }
        Ok(None) => return Ok(()),
        Ok(Some(response)) => response,
    };
    if response.status >= 500 {
        return Err(format!("{target}: a 5xx to a client: {}", shown()));
    }
    if response.status >= 400 && !got.head && !is_aoai_error(&response.body) {
        return Err(format!(
            "{target}: an error without AOAI's shape: {}",
            shown()
        ));
    }
    if response.text().contains("test-key") {
        return Err(format!("{target}: a key in an answer: {}", shown()));
    }
    Ok(())
}

fn fuzz_fleet() -> (Scenario, aoai_mock::config::FleetConfig) {
    let overrides = [Override::new("fleet.max_body_bytes", &MAX_BODY.to_string()).expect("set")];
    let scenario = Scenario::parse(GUARDED, "<guarded>", None, &overrides).expect("scenario");
    let mut fleet = scenario.fleet().clone();
    for resource in &mut fleet.resources {
        resource.port = 0;
    }
    (scenario, fleet)
}

#[test]
fn no_request_panics_a_server_breaks_http_or_moves_a_breaker() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Short timeouts: a request left unfinished is closed (or answered 408) quickly.
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let targets = runtime.block_on(async {
        let (scenario, config) = fuzz_fleet();
        let options = ServeOptions {
            limits,
            ..ServeOptions::default()
        };
        let fleet = RunningFleet::start_with(&config, &options)
            .await
            .expect("fleet");
        let urls: Vec<String> = fleet.listeners.iter().map(|l| l.url()).collect();
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let mut settings =
            GatewaySettings::from_scenario(&scenario, 0, &urls, listen).expect("settings");
        settings.limits = limits;
        let gateway = RunningGateway::start(settings, LiveClock::sharing(fleet.clock()))
            .await
            .expect("gateway");
        Targets { fleet, gateway }
    });
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng());
    let mock = targets.fleet.listeners[0].addr;
    let gateway = targets.gateway.addr();
    let result = runner.run(&case(), |case| {
        let (bytes, whole) = case.render();
        runtime.block_on(async {
            let (direct, proxied) = tokio::join!(
                check(mock, "mock", &bytes, whole),
                check(gateway, "gateway", &bytes, whole)
            );
            direct.and(proxied).map_err(TestCaseError::fail)
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    runtime.block_on(async {
        assert_eq!(targets.fleet.panicked_connections(), 0);
        assert_eq!(targets.gateway.panicked_connections(), 0);
        assert_eq!(
            targets.gateway.breaker_timeline(),
            Vec::new(),
            "a client-side fault moved a breaker"
        );
        for addr in [mock, gateway] {
            let answer = exchange(addr, &chat_request(CHAT_PATH, "", CHAT_BODY))
                .await
                .response();
            assert_eq!(answer.status, 200, "{addr} still serves: {}", answer.text());
        }
        // Connections of the last cases may still be closing: their bodies leave the budget as
        // they do.
        until_budget(targets.fleet.body_budget(), |held| held == 0).await;
        until_budget(targets.gateway.body_budget(), |held| held == 0).await;
        targets.gateway.shutdown().await;
        targets.fleet.shutdown().await;
    });
}
