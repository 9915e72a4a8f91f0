//! SSE streaming over loopback, read chunk by chunk: AOAI's event order, one id, usage event,
//! [DONE], merged bursts, and a client disconnect stopping the generation.

use crate::common;
use common::*;
use http_body_util::BodyExt;

fn fleet_toml(extra_switches: &str, tokens_per_second: f64) -> String {
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
tpm = 10000000
rpm = 100000
latency = {{ ttft_base = "0", ttft_per_prompt_token = "0", ttft_jitter = 0.0, tokens_per_second = {tokens_per_second:.1}, tps_jitter = 0.0 }}
switches = {{ {extra_switches} }}
"#
    )
}

/// Read the stream frame by frame; returns every `data:` payload in order.
async fn read_events(response: hyper::Response<hyper::body::Incoming>) -> Vec<String> {
    let mut body = response.into_body();
    let mut buffer = String::new();
    let mut events = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("stream frame");
        if let Some(data) = frame.data_ref() {
            buffer.push_str(std::str::from_utf8(data).expect("utf-8"));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                events.push(
                    event
                        .strip_prefix("data: ")
                        .expect("every event is a data line")
                        .trim_end()
                        .to_string(),
                );
            }
        }
    }
    assert!(buffer.is_empty(), "trailing bytes: {buffer:?}");
    events
}

fn json(event: &str) -> serde_json::Value {
    serde_json::from_str(event).unwrap_or_else(|e| panic!("{e}: {event}"))
}

#[tokio::test]
async fn a_stream_follows_aoai_event_order_with_one_id_and_usage() {
    let fleet = start(&fleet_toml("", 1_000_000.0)).await;
    let response = open_stream(addr(&fleet), 5, 100).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert!(
        response
            .headers()
            .contains_key("x-ratelimit-remaining-tokens")
    );
    let events = read_events(response).await;
    assert_eq!(
        events.len(),
        1 + 1 + 5 + 1 + 1 + 1,
        "prelude, role, 5 tokens, finish, usage, DONE: {events:#?}"
    );
    let prelude = json(&events[0]);
    assert_eq!(prelude["choices"].as_array().unwrap().len(), 0);
    assert_eq!(prelude["id"], "");
    assert!(prelude["prompt_filter_results"][0]["content_filter_results"].is_object());
    let role = json(&events[1]);
    assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(role["choices"][0]["delta"]["content"], "");
    let id = role["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("chatcmpl-"));
    for event in &events[2..7] {
        let chunk = json(event);
        assert_eq!(chunk["id"], id.as_str(), "one id per stream");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert!(
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        );
        assert!(chunk["choices"][0]["content_filter_results"]["hate"].is_object());
        assert!(chunk["choices"][0]["finish_reason"].is_null());
    }
    let finish = json(&events[7]);
    assert_eq!(
        (
            finish["choices"][0]["finish_reason"].as_str(),
            finish["id"].as_str()
        ),
        (Some("stop"), Some(id.as_str()))
    );
    assert_eq!(finish["choices"][0]["delta"], serde_json::json!({}));
    let usage = json(&events[8]);
    assert_eq!(usage["choices"].as_array().unwrap().len(), 0);
    assert_eq!(
        (
            usage["usage"]["prompt_tokens"].as_u64(),
            usage["usage"]["completion_tokens"].as_u64(),
            usage["usage"]["total_tokens"].as_u64()
        ),
        (Some(9), Some(5), Some(14))
    );
    assert_eq!(events[9], "[DONE]");
    let text = metrics(&fleet).await;
    assert_eq!(
        metric(
            &text,
            r#"aoai_mock_completed_total{resource="east",deployment="chat"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"aoai_mock_tokens_billed_total{resource="east",deployment="chat"}"#
        ),
        14.0
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn merged_bursts_carry_several_tokens_per_event_and_usage_is_optional() {
    let fleet = start(&fleet_toml(
        r#"burst_shape = "merged", burst_tokens = 4"#,
        1_000_000.0,
    ))
    .await;
    let headers = [("api-key", "k"), ("x-mock-completion-tokens", "10")];
    let body = r#"{"messages":[{"role":"user","content":"hello world"}],"stream":true}"#;
    let events = read_events(
        open(addr(&fleet), "POST", &chat_path("chat"), &headers, body)
            .await
            .unwrap(),
    )
    .await;
    // prelude, role, 3 content events (4 + 4 + 2 tokens), finish, DONE — no usage event.
    assert_eq!(events.len(), 7, "{events:#?}");
    for event in &events[2..5] {
        assert!(
            json(event)["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty()),
            "{event}"
        );
    }
    assert_eq!(json(&events[5])["choices"][0]["finish_reason"], "stop");
    assert_eq!(events[6], "[DONE]");
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_client_that_disconnects_stops_the_generation() {
    // 2,000 tokens at 500 tok/s: 4 s if nobody stops it.
    let fleet = start(&fleet_toml("", 500.0)).await;
    let response = open_stream(addr(&fleet), 2000, 4000).await;
    let mut body = response.into_body();
    let mut seen = String::new();
    while !seen.contains("delta\":{\"content\":\" ") {
        let frame = body.frame().await.expect("a frame").expect("ok");
        seen.push_str(std::str::from_utf8(frame.data_ref().unwrap()).unwrap());
    }
    drop(body); // closes the connection (the client task ends with it)
    let aborted = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        loop {
            let m = fleet.metrics();
            let chat = m.get("east", "chat").unwrap();
            if chat.counters.aborted == 1 {
                return chat.counters.clone();
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the server noticed the disconnect before the stream would have ended");
    assert_eq!((aborted.completed, aborted.in_flight), (0, 0));
    assert!(
        aborted.tokens_billed < 9 + 2000,
        "billed only what was generated: {}",
        aborted.tokens_billed
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn async_filter_mode_streams_tokens_without_filter_results_and_annotates() {
    let fleet = start(&fleet_toml(
        r#"stream_filter_mode = "async", burst_shape = "merged""#,
        1_000_000.0,
    ))
    .await;
    let headers = [("api-key", "k"), ("x-mock-completion-tokens", "400")];
    let body = r#"{"messages":[{"role":"user","content":"hello world"}],"stream":true}"#;
    let events = read_events(
        open(addr(&fleet), "POST", &chat_path("chat"), &headers, body)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(json(&events[0])["usage"], serde_json::Value::Null);
    assert!(json(&events[0])["prompt_filter_results"].is_array());
    let parsed: Vec<serde_json::Value> = events[1..events.len() - 1]
        .iter()
        .map(|e| json(e))
        .collect();
    let content: Vec<&serde_json::Value> = parsed
        .iter()
        .filter(|e| {
            e["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        })
        .collect();
    assert_eq!(
        content.len(),
        400,
        "token by token even with merged bursts configured"
    );
    assert!(
        content
            .iter()
            .all(|e| e["choices"][0].get("content_filter_results").is_none()
                && e.get("usage") == Some(&serde_json::Value::Null))
    );
    let annotations: Vec<usize> = parsed
        .iter()
        .enumerate()
        .filter(|(_, e)| e["choices"][0].get("content_filter_offsets").is_some())
        .map(|(i, _)| i)
        .collect();
    assert!(
        annotations.len() >= 2,
        "one every ~1,000 characters and one after the finish"
    );
    let finish = parsed
        .iter()
        .position(|e| e["choices"][0]["finish_reason"] == "stop")
        .unwrap();
    assert_eq!(
        *annotations.last().unwrap(),
        finish + 1,
        "the last annotation follows the finish event"
    );
    let offsets = &parsed[finish + 1]["choices"][0]["content_filter_offsets"];
    assert_eq!(offsets["start_offset"], offsets["check_offset"]);
    assert!(offsets["end_offset"].as_u64().unwrap() > offsets["start_offset"].as_u64().unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    fleet.shutdown().await;
}

#[tokio::test]
async fn shutdown_lets_an_open_stream_finish_and_stops_accepting() {
    let fleet = start(&fleet_toml("", 500.0)).await;
    let address = addr(&fleet);
    let response = open_stream(address, 50, 100).await;
    let (events, ()) = tokio::join!(read_events(response), fleet.shutdown());
    assert_eq!(
        events.last().map(String::as_str),
        Some("[DONE]"),
        "the open stream ran to the end"
    );
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "no longer accepting"
    );
}
