//! The gateway under hostile or broken clients and backends, over real sockets (issue #11).
//!
//! A client-side fault never reaches a backend's breaker: what the gateway can judge itself
//! (a request line no backend serves, a body over its limit, broken framing, admin paths) it
//! answers itself in AOAI's error shape. What happens on the backend side is told apart
//! (refused, reset before the response, reset mid-body, timeout) and each breaker sees what the
//! real system would. Hop-by-hop headers stay on their hop.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use aoai_mock::http::limits::Limits;
use throttlebox::live::LiveClock;
use throttlebox::live::fleet::LiveFleet;
use throttlebox::live::gateway::{GatewaySettings, RunningGateway};
use throttlebox::scenario::{Override, Scenario};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::wire_support::{
    CHAT_BODY, CHAT_PATH, assert_budget_refuses_then_recovers,
    assert_half_sent_body_gets_408_and_a_close, assert_half_sent_head_is_closed, chat_request,
    exchange, is_aoai_error, recording_backend,
};

/// Two healthy backends behind a breaker that trips on one connect error, timeout or 5xx and
/// stays open for an hour: any failure the gateway blames on a backend shows in the timeline.
pub const GUARDED: &str = r#"
name = "guarded"
seed = 11
[[fleet.resources]]
name = "a"
region = "East US"
api_keys = ["test-key"]
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 1000
latency = { ttft_base = "1ms", tokens_per_second = 100000.0, ttft_jitter = 0.0, tps_jitter = 0.0 }
[[fleet.resources]]
name = "b"
region = "West US"
api_keys = ["test-key"]
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 1000
latency = { ttft_base = "1ms", tokens_per_second = 100000.0, ttft_jitter = 0.0, tps_jitter = 0.0 }
[[backends]]
resource = "a"
[[backends]]
resource = "b"
[workload]
duration = "1s"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "constant", rate = 1.0 }
prompt_tokens = { dist = "constant", value = 5 }
output_tokens = { dist = "constant", value = 5 }
[gateway]
attempt_timeout = "5s"
[[strategies]]
name = "guarded"
preset = "apim-pool"
breaker = { count = 1, interval = "1m", trip_duration = "1h", status_codes = ["connect-error", "timeout", "500-599"] }
"#;

pub fn guarded() -> Scenario {
    Scenario::parse(GUARDED, "<guarded>", None, &[]).expect("scenario")
}

pub fn loopback() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

/// The guarded scenario's fleet and a gateway over it.
pub async fn guarded_gateway() -> (LiveFleet, RunningGateway) {
    let scenario = guarded();
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let settings = GatewaySettings::from_scenario(&scenario, 0, &fleet.pool_urls, loopback())
        .expect("settings");
    let gateway = RunningGateway::start(settings, fleet.clock())
        .await
        .expect("gateway");
    (fleet, gateway)
}

/// A gateway for `scenario`'s first strategy over the backends at `urls`, on its own clock.
pub async fn gateway_over(scenario: &Scenario, urls: &[String]) -> RunningGateway {
    let settings = GatewaySettings::from_scenario(scenario, 0, urls, loopback()).expect("settings");
    RunningGateway::start(settings, LiveClock::start(1.0))
        .await
        .expect("gateway")
}

/// A valid chat request through the gateway is served by a backend.
pub async fn assert_served(gateway: &RunningGateway) {
    for _ in 0..2 {
        let answer = exchange(gateway.addr(), &chat_request(CHAT_PATH, "", CHAT_BODY))
            .await
            .response();
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert!(answer.header("x-throttlebox-exhausted").is_none());
    }
}

/// No breaker moved and valid requests are still served; then stop both.
async fn unharmed_then_stop(fleet: LiveFleet, gateway: RunningGateway) {
    assert_no_breaker_moved(&gateway);
    assert_served(&gateway).await;
    gateway.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}

fn assert_no_breaker_moved(gateway: &RunningGateway) {
    assert_eq!(
        gateway.breaker_timeline(),
        Vec::new(),
        "a client-side fault moved a breaker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_star_is_answered_by_the_gateway_and_no_breaker_moves() {
    let (fleet, gateway) = guarded_gateway().await;
    for _ in 0..2 {
        let answer = exchange(gateway.addr(), b"OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .response();
        assert!(
            answer.status == 404 || answer.status == 405,
            "{} {}",
            answer.status,
            answer.text()
        );
        assert!(is_aoai_error(&answer.body), "{}", answer.text());
        assert!(answer.header("x-throttlebox-upstream-error").is_none());
    }
    unharmed_then_stop(fleet, gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_a_413_from_the_gateway_and_no_breaker_moves() {
    let (fleet, gateway) = guarded_gateway().await;
    let limit = guarded().fleet().max_body_bytes as usize;
    for _ in 0..2 {
        let mut stream = TcpStream::connect(gateway.addr()).await.expect("connect");
        let head = format!(
            "POST {CHAT_PATH} HTTP/1.1\r\nhost: x\r\napi-key: test-key\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        // One byte over the limit, in 64 KiB chunks; the gateway may answer and stop reading
        // before the end.
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent <= limit {
            let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if stream.write_all(&frame).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
        let answer = crate::wire_support::read_response(&mut stream)
            .await
            .response();
        assert_eq!(answer.status, 413, "{}", answer.text());
        assert!(is_aoai_error(&answer.body), "{}", answer.text());
        assert_eq!(
            answer.header("connection"),
            Some("close"),
            "the body was left unread"
        );
    }
    unharmed_then_stop(fleet, gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_paths_are_not_forwarded() {
    let (fleet, gateway) = guarded_gateway().await;
    for request in [
        "GET /admin/config HTTP/1.1\r\nhost: x\r\n\r\n".to_string(),
        "GET /++/config HTTP/1.1\r\nhost: x\r\n\r\n".to_string(),
        "GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n".to_string(),
    ] {
        let answer = exchange(gateway.addr(), request.as_bytes())
            .await
            .response();
        assert_eq!(answer.status, 404, "{request}: {}", answer.text());
        assert!(is_aoai_error(&answer.body), "{}", answer.text());
        assert!(!answer.text().contains("test-key"), "{}", answer.text());
        assert!(answer.header("x-throttlebox-backend").is_none());
    }
    // A PATCH that would cut a's quota to 1 token a minute never reaches it.
    let patch = r#"{"resource":"a","deployment":"gpt-4o","tpm":1}"#;
    let request = format!(
        "PATCH /admin/config HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{patch}",
        patch.len()
    );
    let answer = exchange(gateway.addr(), request.as_bytes())
        .await
        .response();
    assert!(
        answer.status == 404 || answer.status == 405,
        "{}",
        answer.text()
    );
    for _ in 0..4 {
        let answer = exchange(gateway.addr(), &chat_request(CHAT_PATH, "", CHAT_BODY))
            .await
            .response();
        assert_eq!(answer.status, 200, "quota untouched: {}", answer.text());
    }
    gateway.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_carry_an_aoai_body() {
    let (fleet, gateway) = guarded_gateway().await;
    let long_uri = format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70 * 1024));
    let huge_header = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "b".repeat(512 * 1024)
    );
    let cases: [(&[u8], u16); 3] = [
        (long_uri.as_bytes(), 414),
        (huge_header.as_bytes(), 431),
        (b"GET\x01/ HTTP/1.1\r\nhost: x\r\n\r\n", 400),
    ];
    for (request, status) in cases {
        for addr in [gateway.addr(), fleet.running.listeners[0].addr] {
            let answer = exchange(addr, request).await.response();
            assert_eq!(answer.status, status, "{addr}: {}", answer.text());
            assert!(
                is_aoai_error(&answer.body),
                "{addr} {status}: {:?}",
                answer.text()
            );
            assert_eq!(answer.header("content-type"), Some("application/json"));
        }
    }
    unharmed_then_stop(fleet, gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_chunked_framing_is_a_400_not_a_silent_close() {
    let (fleet, gateway) = guarded_gateway().await;
    let request = format!(
        "POST {CHAT_PATH} HTTP/1.1\r\nhost: x\r\napi-key: test-key\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
    );
    for addr in [gateway.addr(), fleet.running.listeners[0].addr] {
        let answer = exchange(addr, request.as_bytes()).await.response();
        assert_eq!(answer.status, 400, "{addr}: {}", answer.text());
        assert!(is_aoai_error(&answer.body), "{addr}: {}", answer.text());
    }
    unharmed_then_stop(fleet, gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_headers_stay_on_their_hop() {
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: x-backend-private\r\nx-backend-private: 1\r\nproxy-authenticate: Basic realm=\"backend\"\r\ncontent-length: 2\r\n\r\n{}";
    let (backend, mut heads) = recording_backend(ANSWER).await;
    let backend = format!("http://{backend}");
    let gateway = gateway_over(&guarded(), &[backend.clone(), backend]).await;
    let request = chat_request(
        CHAT_PATH,
        "connection: keep-alive, x-client-private\r\nx-client-private: secret\r\nproxy-authorization: Basic c2VjcmV0\r\nx-kept: yes\r\n",
        CHAT_BODY,
    );
    let answer = exchange(gateway.addr(), &request).await.response();
    assert_eq!(answer.status, 200, "{}", answer.text());
    let head = heads.recv().await.expect("the backend got the request");
    let forwarded = head.to_ascii_lowercase();
    assert!(forwarded.contains("x-kept: yes"), "{head}");
    for private in [
        "x-client-private",
        "proxy-authorization",
        "connection: keep-alive, x",
    ] {
        assert!(!forwarded.contains(private), "{private} forwarded:\n{head}");
    }
    assert!(answer.header("x-backend-private").is_none(), "{answer:?}");
    assert!(answer.header("proxy-authenticate").is_none(), "{answer:?}");
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_failures_are_told_apart_and_blamed_on_the_backend() {
    // a: a port nobody listens on (refused); b: accepts and closes before answering (reset).
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let closer = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let reset = closer.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = closer.accept().await {
            drop(stream);
        }
    });
    let urls = [format!("http://{refused}"), format!("http://{reset}")];
    let gateway = gateway_over(&guarded(), &urls).await;
    // One request per backend: each fails without an HTTP answer, and the client is told
    // which failure it was.
    let mut told = Vec::new();
    for _ in 0..2 {
        let answer = exchange(gateway.addr(), &chat_request(CHAT_PATH, "", CHAT_BODY))
            .await
            .response();
        assert_eq!(answer.status, 502, "{}", answer.text());
        assert!(is_aoai_error(&answer.body), "{}", answer.text());
        assert_eq!(
            answer.header("x-throttlebox-upstream-error"),
            Some("connect")
        );
        let backend = answer
            .header("x-throttlebox-backend")
            .unwrap_or_default()
            .to_string();
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        told.push((backend, message));
    }
    told.sort();
    assert_eq!(told[0].0, "a");
    assert!(told[0].1.contains("refused the connection"), "{told:?}");
    assert_eq!(told[1].0, "b");
    assert!(
        told[1].1.contains("closed the connection before answering"),
        "{told:?}"
    );
    // Each is what a real balancer sees, a connect failure, blamed on that backend alone.
    let opened: Vec<_> = gateway
        .breaker_timeline()
        .iter()
        .filter(|event| event.open)
        .map(|event| event.backend)
        .collect();
    assert_eq!(opened, vec![0, 1], "{:?}", gateway.breaker_timeline());
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_body_reaches_the_client_cut_and_trips_nothing() {
    // The backend sends a 200 head promising 100 bytes, sends 10, and closes: the client sees
    // a 200 whose body is cut, and the breaker (as every real one) counted a 200.
    const CUT: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"partial\"";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let backend = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut buffer).await;
                let _ = stream.write_all(CUT).await;
                // Close with a FIN, then read what is still coming until the gateway closes:
                // dropping the socket with unread request bytes would send a reset, which can
                // overtake the head and turn the cut body into a refused connection.
                let _ = stream.shutdown().await;
                while matches!(
                    tokio::io::AsyncReadExt::read(&mut stream, &mut buffer).await,
                    Ok(n) if n > 0
                ) {}
            });
        }
    });
    let backend = format!("http://{backend}");
    let gateway = gateway_over(&guarded(), &[backend.clone(), backend]).await;
    let got = exchange(gateway.addr(), &chat_request(CHAT_PATH, "", CHAT_BODY)).await;
    assert!(got.closed, "the cut reaches the client as a close");
    let text = String::from_utf8_lossy(&got.bytes);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        crate::wire_support::parse_response(&got.bytes)
            .expect("a well-formed head")
            .is_none(),
        "the body is incomplete: {text}"
    );
    assert_no_breaker_moved(&gateway);
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_address_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let scenario = guarded();
    let urls = vec![
        "http://127.0.0.1:9".to_string(),
        "http://127.0.0.1:9".to_string(),
    ];
    let settings = GatewaySettings::from_scenario(&scenario, 0, &urls, addr).expect("settings");
    let error = RunningGateway::start(settings, LiveClock::start(1.0))
        .await
        .err()
        .expect("the port is taken");
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}

/// The guarded gateway with `limits` (over the guarded fleet).
async fn limited_gateway(limits: Limits) -> (LiveFleet, RunningGateway) {
    let scenario = guarded();
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let mut settings = GatewaySettings::from_scenario(&scenario, 0, &fleet.pool_urls, loopback())
        .expect("settings");
    settings.limits = limits;
    let gateway = RunningGateway::start(settings, fleet.clock())
        .await
        .expect("gateway");
    (fleet, gateway)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_body_gets_a_408_and_the_connection_is_closed() {
    let (fleet, gateway) = limited_gateway(Limits {
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    assert_half_sent_body_gets_408_and_a_close(gateway.addr()).await;
    assert_eq!(gateway.body_bytes_in_flight(), 0);
    unharmed_then_stop(fleet, gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_is_closed_after_the_header_timeout() {
    let (fleet, gateway) = limited_gateway(Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    assert_half_sent_head_is_closed(gateway.addr()).await;
    unharmed_then_stop(fleet, gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_its_body_budget_the_gateway_answers_503_with_retry_after() {
    let (fleet, gateway) = limited_gateway(Limits {
        body_budget: 1 << 20,
        ..Limits::default()
    })
    .await;
    assert_budget_refuses_then_recovers(gateway.addr(), gateway.body_budget()).await;
    unharmed_then_stop(fleet, gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_never_answers_is_a_timeout_blamed_on_it() {
    // Accepts, reads, and keeps the connection open without a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let backend = silent.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let overrides = [Override::new("gateway.attempt_timeout", "300ms").expect("set")];
    let scenario = Scenario::parse(GUARDED, "<guarded>", None, &overrides).expect("scenario");
    let backend = format!("http://{backend}");
    let gateway = gateway_over(&scenario, &[backend.clone(), backend]).await;
    let answer = exchange(gateway.addr(), &chat_request(CHAT_PATH, "", CHAT_BODY))
        .await
        .response();
    assert_eq!(answer.status, 504, "{}", answer.text());
    assert!(is_aoai_error(&answer.body), "{}", answer.text());
    assert_eq!(
        answer.header("x-throttlebox-upstream-error"),
        Some("timeout")
    );
    let timeline = gateway.breaker_timeline();
    assert!(
        timeline.iter().any(|event| event.open),
        "a timeout is the backend's: {timeline:?}"
    );
    gateway.shutdown().await;
}
