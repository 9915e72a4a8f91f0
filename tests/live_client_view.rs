//! Through `throttlebox gateway`, a strategy's client sees what the simulator says it sees
//! (`Strategy::client_observation`, `Strategy::buffers_streams`): LiteLLM's proxy passes a
//! backend's 429 back with its retry headers renamed `llm_provider-…`, and the priority
//! balancer's client gets a stream only once it has ended. Each is shown against a strategy
//! that does neither, on the same fleet.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use throttlebox::live::fleet::LiveFleet;
use throttlebox::live::gateway::{GatewaySettings, RunningGateway};
use throttlebox::live::http_client::http_client;
use throttlebox::live::load::wire;
use throttlebox::scenario::{Override, Scenario};

use crate::live_support::steady_text;

/// [`steady_text`]'s one deployment with a 10 s request window of one request and a stream
/// whose first token comes at 300 ms and its 20th two seconds later; its strategy `direct`
/// (round-robin, no retries) first, then `strategies`.
fn scenario(strategies: &str) -> Scenario {
    let deployment = "fleet.resources[only].deployments[gpt-4o]";
    let sets: Vec<Override> = [
        format!("{deployment}.rpm=6"),
        format!("{deployment}.latency.ttft_base=300ms"),
        format!("{deployment}.latency.tokens_per_second=10"),
        format!("{deployment}.latency.ttft_jitter=0"),
        format!("{deployment}.latency.tps_jitter=0"),
        "workload.apps[chat].stream_share=1".to_string(),
        "workload.apps[chat].output_tokens.value=20".to_string(),
        "strategies[direct].retry.count=0".to_string(),
    ]
    .iter()
    .map(|set| Override::parse(set).expect("override"))
    .collect();
    let text = format!("{}{strategies}", steady_text(1, 1));
    Scenario::parse(&text, "<test>", None, &sets).expect("scenario")
}

/// Start strategy `index` in front of `fleet`.
async fn gateway(scenario: &Scenario, fleet: &LiveFleet, index: usize) -> RunningGateway {
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let settings = GatewaySettings::from_scenario(scenario, index, &fleet.pool_urls, listen)
        .expect("settings");
    RunningGateway::start(settings, fleet.clock())
        .await
        .expect("gateway")
}

async fn send(scenario: &Scenario, url: &str) -> hyper::Response<hyper::body::Incoming> {
    let workload = scenario.workload().expect("workload");
    let request = workload
        .requests()
        .next()
        .expect("one request")
        .expect("valid");
    let http = Request::post(wire::url(url, "gpt-4o"))
        .header("content-type", "application/json")
        .header("api-key", "k")
        .header("x-mock-completion-tokens", 20)
        .body(Full::new(wire::body(&request)))
        .expect("request");
    http_client(None).request(http).await.expect("response")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellms_proxy_passes_a_429_back_with_its_retry_headers_renamed() {
    let scenario = scenario(
        r#"
[[strategies]]
name = "litellm"
preset = "litellm-shuffle"
retry = { count = 0 }
"#,
    );
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let plain = gateway(&scenario, &fleet, 0).await;
    let litellm = gateway(&scenario, &fleet, 1).await;
    // The first request takes the window's one slot; the next ones are 429s.
    let admitted = send(&scenario, &plain.url()).await;
    assert_eq!(admitted.status(), 200);
    drop(admitted.into_body().collect().await);
    let through_plain = send(&scenario, &plain.url()).await;
    assert_eq!(through_plain.status(), 429);
    assert!(through_plain.headers().contains_key("retry-after"));
    assert!(through_plain.headers().contains_key("retry-after-ms"));
    let through_litellm = send(&scenario, &litellm.url()).await;
    assert_eq!(through_litellm.status(), 429);
    let headers = through_litellm.headers();
    assert!(!headers.contains_key("retry-after"), "{headers:?}");
    assert!(!headers.contains_key("retry-after-ms"), "{headers:?}");
    assert_eq!(
        headers["llm_provider-retry-after"],
        through_plain.headers()["retry-after"],
        "the same window, renamed"
    );
    assert!(headers.contains_key("llm_provider-retry-after-ms"));
    plain.shutdown().await;
    litellm.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_priority_balancers_client_gets_a_stream_only_once_it_ended() {
    let scenario = scenario(
        r#"
[[strategies]]
name = "priority"
preset = "client-priority"
"#,
    );
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let clock = fleet.clock();
    let priority = gateway(&scenario, &fleet, 1).await;
    let sent = clock.now();
    let response = send(&scenario, &priority.url()).await;
    let head = clock.now();
    assert_eq!(response.status(), 200);
    // The mock plans the first token at ≥ 300 ms and 19 more at 10 tokens/s: the end comes
    // ≥ 2.2 s after the send, and a buffering balancer answers no earlier.
    assert!(
        head - sent >= Duration::from_millis(2_200),
        "the response head came {:?} after the send: the stream was not buffered",
        head - sent
    );
    let length: usize = response.headers()["content-length"]
        .to_str()
        .expect("text")
        .parse()
        .expect("a length");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(body.len(), length, "the whole stream, in one piece");
    let text = String::from_utf8_lossy(&body);
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    priority.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}
