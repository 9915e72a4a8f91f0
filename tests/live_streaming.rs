//! Streams pass through the gateway chunk by chunk: with a deployment whose first token comes
//! after 300 ms and whose tokens then trickle out over seconds, the client behind the gateway
//! sees the first content event when the mock sends it — long before the last one — not the
//! whole body at the end (which a buffering proxy would give).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use throttlebox::live::fleet::LiveFleet;
use throttlebox::live::gateway::{GatewaySettings, RunningGateway};
use throttlebox::live::http_client::http_client;
use throttlebox::live::load::wire;
use throttlebox::live::sse::BodyWatch;
use throttlebox::live::trail;
use throttlebox::scenario::Scenario;

const SLOW_STREAM: &str = r#"
name = "slow-stream"
seed = 3
[[fleet.resources]]
name = "slow"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 100
latency = { ttft_base = "300ms", tokens_per_second = 10.0, ttft_jitter = 0.0, tps_jitter = 0.0 }
[[backends]]
resource = "slow"
[workload]
duration = "1s"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "constant", rate = 1.0 }
prompt_tokens = { dist = "constant", value = 20 }
output_tokens = { dist = "constant", value = 20 }
stream_share = 1.0
[[strategies]]
name = "round-robin"
preset = "round-robin"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_chunk_arrives_long_before_the_last() {
    let scenario = Scenario::parse(SLOW_STREAM, "<test>", None, &[]).expect("scenario");
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let clock = fleet.clock();
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let settings =
        GatewaySettings::from_scenario(&scenario, 0, &fleet.pool_urls, listen).expect("settings");
    let gateway = RunningGateway::start(settings, clock)
        .await
        .expect("gateway");
    let workload = scenario.workload().expect("workload");
    let request = workload
        .requests()
        .next()
        .expect("one request")
        .expect("valid");
    let http = Request::post(wire::url(&gateway.url(), "gpt-4o"))
        .header("content-type", "application/json")
        .header("api-key", "k")
        .header("x-mock-completion-tokens", 20)
        .body(Full::new(wire::body(&request)))
        .expect("request");
    let sent = clock.now();
    let response = http_client(None).request(http).await.expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[trail::BACKEND], "slow");
    let mut body = response.into_body();
    let mut watch = BodyWatch::new(true);
    let mut first_content = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("frame");
        if let Some(data) = frame.data_ref()
            && watch.feed(data)
        {
            first_content = Some(clock.now());
        }
    }
    let end = clock.now();
    let first = first_content.expect("content arrived");
    let (usage, _) = watch.finish();
    assert_eq!(usage.map(|u| u.completion_tokens), Some(20));
    // The mock plans the first token at ≥ 300 ms and 19 more at 10 tokens/s (≥ 1.9 s).
    assert!(
        first - sent >= Duration::from_millis(300),
        "TTFT {:?}",
        first - sent
    );
    assert!(
        end - first >= Duration::from_millis(1_800),
        "the first content reached the client {:?} before the end: the gateway buffered",
        end - first
    );
    gateway.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}
