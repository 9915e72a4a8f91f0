//! Each fault kind of the timeline acted out over loopback. Timing assertions are lower bounds
//! only (a fault must delay at least as planned), never speed.
#![allow(clippy::disallowed_types)] // measures that a planned delay really happened (lower bound)

use crate::common;
use common::*;
use http_body_util::BodyExt;
use std::time::{Duration, Instant};

fn fleet_with(fault: &str) -> String {
    format!(
        r#"
[[resources]]
name = "east"
region = "East US"
api_keys = ["k"]
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
latency = {{ ttft_base = "20ms", ttft_per_prompt_token = "0", ttft_jitter = 0.0, tokens_per_second = 1000.0, tps_jitter = 0.0 }}
faults = [ {fault} ]
"#
    )
}

async fn one(fault: &str, body: &str) -> (Reply, aoai_mock::model::FleetMetrics) {
    let fleet = start(&fleet_with(fault)).await;
    let reply = chat(
        addr(&fleet),
        "chat",
        body,
        &[("x-mock-completion-tokens", "5")],
    )
    .await;
    let metrics = fleet.metrics();
    fleet.shutdown().await;
    (reply, metrics)
}

#[tokio::test]
async fn server_errors_unavailable_and_outage_answer_at_once() {
    let (reply, m) = one(
        r#"{ kind = "server_errors", status = 502 }"#,
        &chat_body(5, false),
    )
    .await;
    assert_eq!(reply.status, 502);
    assert!(reply.json()["error"]["message"].is_string());
    assert!(reply.header("apim-request-id").is_some());
    assert_eq!(m.get("east", "chat").unwrap().counters.fault_errors, 1);
    let (reply, _) = one(r#"{ kind = "server_errors" }"#, &chat_body(5, false)).await;
    assert_eq!(
        (reply.status, reply.json()["error"]["code"].as_str()),
        (500, Some("InternalServerError"))
    );
    let (reply, _) = one(
        r#"{ kind = "unavailable", rate = 1.0 }"#,
        &chat_body(5, false),
    )
    .await;
    assert_eq!(reply.status, 503);
    let (reply, _) = one(
        r#"{ kind = "outage", from = "0s", until = "1h" }"#,
        &chat_body(5, false),
    )
    .await;
    assert_eq!(
        (reply.status, reply.json()["error"]["code"].as_str()),
        (503, Some("ServiceUnavailable"))
    );
    let (reply, _) = one(r#"{ kind = "outage", from = "1h" }"#, &chat_body(5, false)).await;
    assert_eq!(reply.status, 200, "not active yet");
}

#[tokio::test]
async fn capacity_throttles_are_429s_independent_of_quota() {
    let (reply, m) = one(r#"{ kind = "capacity_throttle" }"#, &chat_body(5, false)).await;
    assert_eq!(reply.status, 429);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("temporarily unable to process your request")
    );
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(
        m.get("east", "chat").unwrap().counters.throttled_capacity,
        1
    );
}

#[tokio::test]
async fn a_rate_limit_adjustment_lowers_the_effective_limit() {
    let (reply, _) = one(
        r#"{ kind = "rate_limit_adjustment", factor = 0.25 }"#,
        &chat_body(5, false),
    )
    .await;
    assert_eq!(reply.header_u64("x-ratelimit-limit-tokens"), 250_000);
}

#[tokio::test]
async fn connection_resets_and_hangs_end_without_a_response() {
    for fault in [
        r#"{ kind = "connection_reset" }"#,
        r#"{ kind = "hang", delay = "50ms" }"#,
    ] {
        let fleet = start(&fleet_with(fault)).await;
        let result = open(
            addr(&fleet),
            "POST",
            &chat_path("chat"),
            &[("api-key", "k")],
            &chat_body(5, false),
        )
        .await;
        let error = result.expect_err("no response");
        assert!(
            error.is_incomplete_message() || error.is_closed(),
            "{fault}: {error}"
        );
        let m = fleet.metrics();
        let counters = &m.get("east", "chat").unwrap().counters;
        assert_eq!((counters.disrupted, counters.completed), (1, 0), "{fault}");
        fleet.shutdown().await;
    }
}

#[tokio::test]
async fn a_reset_mid_stream_cuts_the_body() {
    // A stream's head is due at once. 60 ms: a cut mid-stream (TTFT 20 ms). 1 µs: a cut due
    // before the pass that writes the head has run, so the head, the prelude and the cut are
    // ready together — still a head, then a cut body, not a bare close.
    for delay in ["60ms", "1us"] {
        let fleet = start(&fleet_with(&format!(
            r#"{{ kind = "connection_reset", delay = "{delay}" }}"#
        )))
        .await;
        let response = open_stream(addr(&fleet), 500, 1000).await;
        assert_eq!(response.status(), 200, "{delay}");
        let error = response
            .into_body()
            .collect()
            .await
            .expect_err("the body is cut");
        assert!(
            error.is_incomplete_message()
                || error.is_body_write_aborted()
                || error.to_string().contains("connection"),
            "{delay}: {error}"
        );
        fleet.shutdown().await;
    }
}

#[tokio::test]
async fn slow_first_byte_and_brownouts_delay_the_response() {
    let started = Instant::now();
    let (reply, _) = one(
        r#"{ kind = "slow_first_byte", delay = "150ms" }"#,
        &chat_body(5, false),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(reply.header_u64("ms-azureml-model-time") >= 150 + 20);
    let (reply, _) = one(
        r#"{ kind = "brownout", multiplier = 10.0 }"#,
        &chat_body(5, false),
    )
    .await;
    // TTFT 20 ms × 10 + 4 more tokens at 1 ms × 10.
    assert_eq!(reply.header_u64("ms-azureml-model-time"), 240);
}

#[tokio::test]
async fn a_stream_stall_pauses_after_the_given_chunks() {
    let fleet = start(&fleet_with(
        r#"{ kind = "stream_stall", after_chunks = 2, delay = "200ms" }"#,
    ))
    .await;
    let sent = Instant::now();
    let response = open_stream(addr(&fleet), 4, 10).await;
    let mut body = response.into_body();
    let mut arrivals = Vec::new();
    let mut text = String::new();
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame.unwrap().data_ref() {
            let chunk = std::str::from_utf8(data).unwrap();
            // Every content event (not the role event) gets this frame's arrival time.
            let now = Instant::now();
            arrivals.extend(
                chunk
                    .split("\n\n")
                    .filter(|e| e.contains("\"delta\":{\"content\":") && !e.contains("\"role\""))
                    .map(|_| now),
            );
            text.push_str(chunk);
        }
    }
    assert!(
        text.ends_with("data: [DONE]\n\n"),
        "the stream completes after the stall"
    );
    assert_eq!(arrivals.len(), 4, "{text}");
    // Without the stall all four arrive within ~25 ms (20 ms TTFT, 1,000 tok/s). Measured from
    // the send, a bound no client-side scheduling delay can fake (a late read only adds time);
    // the gap between two reads could shrink when the test runner is busy.
    assert!(
        arrivals[2] - sent >= Duration::from_millis(200),
        "the third content event waits out the stall: {:?} after the send",
        arrivals[2] - sent
    );
    fleet.shutdown().await;
}
