//! The mock's data listeners under hostile clients, over real sockets (issue #11): no admin or
//! metrics endpoint and no secret on the data path, AOAI's 400 for an empty `messages`, a bind
//! error that names the address, and bounds on what a client holds: a half-sent body gets 408
//! and a close, a half-sent head a close, a body beyond the budget 503 with `retry-after`.

use std::time::Duration;

use crate::wire_support::{
    CHAT_PATH, assert_budget_refuses_then_recovers, assert_half_sent_body_gets_408_and_a_close,
    assert_half_sent_head_is_closed, chat_request, exchange, is_aoai_error,
};
use aoai_mock::config::FleetConfig;
use aoai_mock::http::limits::Limits;
use aoai_mock::http::{RunningFleet, ServeOptions};

pub const FLEET: &str = r#"
[[resources]]
name = "a"
region = "East US"
api_keys = ["test-key", "second-secret"]
[[resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
tpm = 100000
latency = { ttft_base = "1ms", tokens_per_second = 100000.0, ttft_jitter = 0.0, tps_jitter = 0.0 }
"#;

pub fn fleet_config() -> FleetConfig {
    FleetConfig::from_toml_str(FLEET, "<fleet>").expect("fleet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_listener_serves_no_admin_metrics_or_secrets() {
    let fleet = RunningFleet::start(&fleet_config()).await.expect("fleet");
    let data = fleet.listeners[0].addr;
    for path in ["/admin/config", "/++/config", "/metrics"] {
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\napi-key: test-key\r\n\r\n");
        let answer = exchange(data, request.as_bytes()).await.response();
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        assert!(is_aoai_error(&answer.body), "{}", answer.text());
        assert!(
            !answer.text().contains("second-secret"),
            "{}",
            answer.text()
        );
    }
    let patch = r#"{"deployment":"gpt-4o","tpm":1}"#;
    let request = format!(
        "PATCH /admin/config HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{patch}",
        patch.len()
    );
    let answer = exchange(data, request.as_bytes()).await.response();
    assert_eq!(answer.status, 404, "{}", answer.text());
    let body = r#"{"messages":[{"role":"user","content":"hello"}],"max_tokens":5}"#;
    let answer = exchange(data, &chat_request(CHAT_PATH, "", body))
        .await
        .response();
    assert_eq!(
        answer.status,
        200,
        "the quota is untouched: {}",
        answer.text()
    );
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_messages_get_aoais_400() {
    let fleet = RunningFleet::start(&fleet_config()).await.expect("fleet");
    let answer = exchange(
        fleet.listeners[0].addr,
        &chat_request(CHAT_PATH, "", r#"{"messages":[],"max_tokens":5}"#),
    )
    .await
    .response();
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(is_aoai_error(&answer.body), "{}", answer.text());
    let error = &answer.json()["error"];
    assert_eq!(error["message"], "[] is too short - 'messages'");
    assert_eq!(error["type"], "invalid_request_error");
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_named_in_the_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut config = fleet_config();
    config.resources[0].port = port;
    let error = RunningFleet::start(&config)
        .await
        .err()
        .expect("the port is taken");
    let text = error.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("resource a"), "{text}");
}

async fn limited(limits: Limits) -> RunningFleet {
    let options = ServeOptions {
        limits,
        ..ServeOptions::default()
    };
    RunningFleet::start_with(&fleet_config(), &options)
        .await
        .expect("fleet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_body_gets_a_408_and_the_connection_is_closed() {
    let fleet = limited(Limits {
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    assert_half_sent_body_gets_408_and_a_close(fleet.listeners[0].addr).await;
    assert_eq!(fleet.body_bytes_in_flight(), 0);
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_is_closed_after_the_header_timeout() {
    let fleet = limited(Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    assert_half_sent_head_is_closed(fleet.listeners[0].addr).await;
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_its_body_budget_the_mock_answers_503_with_retry_after() {
    let fleet = limited(Limits {
        body_budget: 1 << 20,
        ..Limits::default()
    })
    .await;
    assert_budget_refuses_then_recovers(fleet.listeners[0].addr, fleet.body_budget()).await;
    fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_given_before_the_body_was_read_closes_the_connection() {
    // Without `connection: close`, a pooling client (the gateway) takes such a connection back
    // and may send its next request on it while the mock is closing it: a connect error blamed
    // on a healthy backend (0.04% of the soak's requests before this).
    let fleet = RunningFleet::start(&fleet_config()).await.expect("fleet");
    let data = fleet.listeners[0].addr;
    let body = r#"{"messages":[{"role":"user","content":"hello"}],"max_tokens":5}"#;
    let unknown_path = CHAT_PATH.replace("gpt-4o", "nope");
    let wrong_key = format!(
        "POST {CHAT_PATH} HTTP/1.1\r\nhost: x\r\napi-key: wrong\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let unread = [
        wrong_key.into_bytes(),
        chat_request(&unknown_path, "", body),
        chat_request("/openai/deployments/gpt-4o/images?api-version=1", "", body),
        format!(
            "POST {CHAT_PATH} HTTP/1.1\r\nhost: x\r\napi-key: test-key\r\ncontent-length: {}\r\n\r\n",
            8 << 20
        )
        .into_bytes(),
    ];
    for request in unread {
        let answer = exchange(data, &request).await.response();
        assert!(answer.status >= 400, "{}", answer.text());
        assert_eq!(
            answer.header("connection"),
            Some("close"),
            "{} {}",
            answer.status,
            answer.text()
        );
    }
    // Answers that read the whole body keep the connection.
    for (body, status) in [(body, 200), ("not json", 400)] {
        let answer = exchange(data, &chat_request(CHAT_PATH, "", body))
            .await
            .response();
        assert_eq!(answer.status, status, "{}", answer.text());
        assert_eq!(answer.header("connection"), None, "{}", answer.text());
    }
    fleet.shutdown().await;
}
