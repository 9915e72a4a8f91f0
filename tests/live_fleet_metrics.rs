//! `load --target … --fleet-metrics ADMIN_URL`: behind a target that says nothing of where each
//! attempt went, the per-backend rows come from the mock fleet's own counters, read before and
//! after the run — only what the run sent counts, and each resource is counted once.

use aoai_mock::http::{AdminOptions, RunningFleet, ServeOptions};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use throttlebox::live::head_to_head::{LiveRunOptions, run_live};
use throttlebox::live::http_client::http_client;
use throttlebox::live::load::wire;
use throttlebox::scenario::Scenario;

use crate::live_support::steady_text;

/// Resources `a` and `b`, each with an instant gpt-4o deployment; the workload of
/// [`steady_text`]'s shape on both (8 requests a second for one second).
fn two_resources() -> Scenario {
    let resource = |name: &str| {
        format!(
            r#"
[[fleet.resources]]
name = "{name}"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 100
latency = {{ ttft_base = "0", ttft_per_prompt_token = "0", ttft_jitter = 0.0, tokens_per_second = 100000.0, tps_jitter = 0.0 }}
[[backends]]
resource = "{name}"
"#
        )
    };
    let steady = steady_text(8, 1);
    // The steady scenario's own resource and backend give way to a and b.
    let workload = &steady[steady.find("[workload]").expect("a workload")..];
    let text = format!(
        "name = \"fleet-metrics\"\nseed = 9\n{}{}{workload}",
        resource("a"),
        resource("b")
    );
    Scenario::parse(&text, "<test>", None, &[]).expect("scenario")
}

async fn chat(base: &str) {
    let http = Request::post(wire::url(base, "gpt-4o"))
        .header("content-type", "application/json")
        .header("api-key", "k")
        .body(Full::new(bytes::Bytes::from_static(
            br#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#,
        )))
        .expect("request");
    let response = http_client(None).request(http).await.expect("response");
    assert_eq!(response.status(), 200);
    drop(response.into_body().collect().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleets_counters_fill_the_rows_an_opaque_target_leaves_empty() {
    let scenario = two_resources();
    let options = ServeOptions {
        admin: Some(AdminOptions::loopback()),
        ..ServeOptions::default()
    };
    let fleet = RunningFleet::start_with(scenario.fleet(), &options)
        .await
        .expect("fleet");
    let (a, b) = (fleet.listeners[0].url(), fleet.listeners[1].url());
    let admin = format!("http://{}", fleet.admin.expect("admin listener"));
    // Traffic before the run is not the run's.
    chat(&a).await;
    chat(&b).await;
    chat(&b).await;
    // The target: resource a itself, which names no backend in its answers.
    let drive = |fleet_metrics: Option<(String, Option<String>)>| {
        let options = LiveRunOptions {
            target: Some(a.clone()),
            fleet_metrics,
            ..LiveRunOptions::default()
        };
        let scenario = &scenario;
        async move {
            let (_keep_open, stop) = tokio::sync::watch::channel(false);
            run_live(scenario, None, &options, "test", stop)
                .await
                .expect("live run")
        }
    };
    let row = |run: &throttlebox::live::head_to_head::LiveRun, name: &str| {
        run.summary.strategies[0]
            .backends
            .iter()
            .find(|row| row.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .clone()
    };

    let blind = drive(None).await;
    let sent = blind.summary.strategies[0].requests;
    assert!(sent > 0);
    assert_eq!(row(&blind, "target").attempts, sent);
    assert!(
        blind.summary.strategies[0]
            .backends
            .iter()
            .all(|row| row.name == "target"),
        "nothing names backend a or b, so a blind run lists only the target row"
    );

    let seen = drive(Some((admin.clone(), None))).await;
    let summary = &seen.summary.strategies[0];
    assert_eq!(summary.requests, sent, "the same schedule");
    let (row_a, row_b) = (row(&seen, "a"), row(&seen, "b"));
    assert_eq!(
        row_a.attempts, sent,
        "every attempt of the run, and only those"
    );
    assert_eq!(row_a.ok, sent);
    assert_eq!(row_a.successes, sent);
    assert_eq!(row_a.attempt_share, 1.0);
    assert_eq!(row_b.attempts, 0, "b's traffic came before the run");
    assert_eq!(
        row(&seen, "target").attempts,
        sent,
        "what the client saw stays"
    );

    let missing = {
        let options = LiveRunOptions {
            target: Some(a.clone()),
            fleet_metrics: Some((format!("{admin}/nowhere"), None)),
            ..LiveRunOptions::default()
        };
        let (_keep_open, stop) = tokio::sync::watch::channel(false);
        run_live(&scenario, None, &options, "test", stop)
            .await
            .expect_err("no metrics page there")
            .to_string()
    };
    assert!(missing.contains("--fleet-metrics"), "{missing}");
    assert!(missing.contains("404"), "{missing}");
    fleet.shutdown().await;
}
