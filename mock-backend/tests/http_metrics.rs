//! `/metrics` content, retry attribution and the FIFO service model over loopback.

use crate::common;
use common::*;

fn fleet_toml() -> String {
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
{INSTANT}
[[resources.deployments]]
name = "queued"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
service = {{ concurrency = 1, service_time = {{ fixed = "100ms" }} }}
{INSTANT}
"#
    )
}

#[tokio::test]
async fn metrics_count_admissions_tokens_and_retries_per_deployment() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    chat(
        addr,
        "chat",
        &chat_body(10, false),
        &[("x-mock-completion-tokens", "3")],
    )
    .await;
    chat(
        addr,
        "chat",
        &chat_body(10, false),
        &[
            ("x-mock-completion-tokens", "3"),
            ("x-stainless-retry-count", "1"),
        ],
    )
    .await;
    let text = metrics(&fleet).await;
    let labels = r#"{resource="east",deployment="chat""#;
    assert_eq!(
        metric(&text, &format!("aoai_mock_admitted_total{labels}}}")),
        2.0
    );
    assert_eq!(
        metric(
            &text,
            &format!("aoai_mock_tokens_estimated_total{labels}}}")
        ),
        2.0 * (3.0 + 10.0)
    );
    assert_eq!(
        metric(&text, &format!("aoai_mock_tokens_billed_total{labels}}}")),
        2.0 * (9.0 + 3.0)
    );
    assert_eq!(
        metric(
            &text,
            &format!(r#"aoai_mock_client_requests_total{labels},attempt="retry"}}"#)
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            &format!(r#"aoai_mock_client_requests_total{labels},attempt="new"}}"#)
        ),
        1.0
    );
    assert_eq!(
        metric(&text, &format!("aoai_mock_in_flight{labels}}}")),
        0.0
    );
    for family in [
        "aoai_mock_requests_total",
        "aoai_mock_throttled_total",
        "aoai_mock_completed_total",
        "aoai_mock_aborted_total",
        "aoai_mock_spillover_total",
        "aoai_mock_queue_wait_seconds_sum",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "missing {family}"
        );
    }
    // Zero-latency fleet: both planned TTFTs fall in the first bucket.
    assert_eq!(
        metric(
            &text,
            &format!(r#"aoai_mock_ttft_seconds_bucket{labels},le="0.005"}}"#)
        ),
        2.0
    );
    assert_eq!(
        metric(
            &text,
            &format!(r#"aoai_mock_ttft_seconds_bucket{labels},le="+Inf"}}"#)
        ),
        2.0
    );
    assert_eq!(
        metric(&text, &format!("aoai_mock_itl_seconds_count{labels}}}")),
        2.0
    );
    for family in ["aoai_mock_ttft_seconds", "aoai_mock_itl_seconds"] {
        assert!(
            text.contains(&format!("# TYPE {family} histogram")),
            "missing {family}"
        );
    }
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_busy_slot_makes_the_next_request_wait() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let body = chat_body(10, false);
    let (a, b) = tokio::join!(
        chat(addr, "queued", &body, &[]),
        chat(addr, "queued", &body, &[])
    );
    let mut times = [
        a.header_u64("ms-azureml-model-time"),
        b.header_u64("ms-azureml-model-time"),
    ];
    times.sort();
    assert_eq!(
        times,
        [100, 200],
        "the second waits for the first's 100 ms slot"
    );
    let m = fleet.metrics();
    assert!(
        (m.get("east", "queued")
            .unwrap()
            .counters
            .queue_wait_seconds_sum
            - 0.1)
            .abs()
            < 0.02
    );
    fleet.shutdown().await;
}
