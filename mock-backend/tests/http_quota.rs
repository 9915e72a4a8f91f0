//! Standard and provisioned quota over loopback: 429 bodies and both retry-after headers
//! matching the blocking window, rate-limit headers and their switches, PTU utilization rising
//! and draining, spillover, and the admin endpoint changing a quota at run time.

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
name = "tiny"            # 1,000 TPM → 6 RPM → 1 request per 10 s
model = "gpt-4o"
kind = "standard"
tpm = 1000
{INSTANT}

[[resources.deployments]]
name = "tokens"          # 1,000 TPM but 600 RPM: the token window binds
model = "gpt-4o"
kind = "standard"
tpm = 1000
rpm = 600
switches = {{ limit_requests_header_mode = "per_minute", emit_reset_headers = true }}
{INSTANT}

[[resources.deployments]]
name = "ptu"             # drains 1,000 tokens/s; 100% = 1,000 (1 s horizon)
model = "gpt-4o"
kind = "provisioned"
ptu = 1
model_overrides = {{ input_tpm_per_ptu = 60000.0, output_weight = 3.0 }} # the arithmetic below
switches = {{ ptu_horizon = "1s" }}
{INSTANT}

[[resources.deployments]]
name = "ptu-spill"       # spills by setting
model = "gpt-4o"
kind = "provisioned"
ptu = 1
model_overrides = {{ input_tpm_per_ptu = 600.0 }}
spillover_deployment = "payg"
{INSTANT}

[[resources.deployments]]
name = "payg"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
{INSTANT}

[[resources.deployments]]
name = "slow"            # paces the PTU drain test with the server's own response time
model = "gpt-4o"
kind = "standard"
tpm = 1000000
latency = {{ ttft_base = "400ms", ttft_jitter = 0.0, tokens_per_second = 1000000.0, tps_jitter = 0.0 }}
"#
    )
}

#[tokio::test]
async fn a_call_rate_429_says_when_the_10s_window_has_room() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let first = chat(addr, "tiny", &chat_body(10, false), &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        (
            first.header_u64("x-ratelimit-remaining-requests"),
            first.header_u64("x-ratelimit-limit-requests")
        ),
        (0, 1)
    );
    let second = chat(addr, "tiny", &chat_body(10, false), &[]).await;
    assert_eq!(second.status, 429);
    let retry_ms = second.header_u64("retry-after-ms");
    assert!(
        (8_500..=10_000).contains(&retry_ms),
        "until the first request leaves the 10 s window: {retry_ms}"
    );
    assert_eq!(second.header_u64("retry-after"), retry_ms.div_ceil(1000));
    assert_eq!(
        second.header("policy-id"),
        Some("DeploymentRatelimit-Request")
    );
    let message = second.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(second.json()["error"]["code"], "429");
    assert!(message.contains("exceeded call rate limit"), "{message}");
    assert!(
        message.contains(&format!(
            "Please retry after {} seconds.",
            second.header_u64("retry-after")
        )),
        "{message}"
    );
    assert!(
        message
            .contains("ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21")
    );
    let text = metrics(&fleet).await;
    assert_eq!(
        metric(
            &text,
            r#"aoai_mock_throttled_total{resource="east",deployment="tiny",reason="requests"}"#
        ),
        1.0
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_token_429_waits_for_the_60s_window_and_headers_follow_the_switches() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    // Estimate: ceil(11 chars / 4) = 3 + 600 = 603.
    let first = chat(addr, "tokens", &chat_body(600, false), &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header_u64("x-ratelimit-remaining-tokens"), 1000 - 603);
    assert_eq!(first.header_u64("x-ratelimit-limit-tokens"), 1000);
    assert_eq!(
        (
            first.header_u64("x-ratelimit-limit-requests"),
            first.header_u64("x-ratelimit-remaining-requests")
        ),
        (600, 599),
        "per-minute mode"
    );
    assert!((59..=60).contains(&first.header_u64("x-ratelimit-reset-tokens")));
    let second = chat(addr, "tokens", &chat_body(600, false), &[]).await;
    assert_eq!(second.status, 429);
    let retry_ms = second.header_u64("retry-after-ms");
    assert!(
        (55_000..=60_000).contains(&retry_ms),
        "until the first estimate leaves the 60 s window: {retry_ms}"
    );
    assert_eq!(
        second.header("policy-id"),
        Some("DeploymentRatelimit-Token")
    );
    assert_eq!(second.header_u64("x-ratelimit-remaining-tokens"), 397);
    assert!(
        second.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeded token rate limit")
    );
    // A request that fits what remains is still admitted (admit iff estimate ≤ remaining).
    assert_eq!(
        chat(addr, "tokens", &chat_body(394, false), &[])
            .await
            .status,
        200
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn the_admin_endpoint_raises_a_quota_without_restart() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    assert_eq!(
        chat(addr, "tokens", &chat_body(600, false), &[])
            .await
            .status,
        200
    );
    assert_eq!(
        chat(addr, "tokens", &chat_body(600, false), &[])
            .await
            .status,
        429
    );
    let admin = admin(&fleet);
    let patched = send(
        admin,
        "PATCH",
        "/admin/config",
        &[("content-type", "application/json")],
        r#"{"deployment":"tokens","tpm":100000}"#,
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let after = chat(addr, "tokens", &chat_body(600, false), &[]).await;
    assert_eq!(
        (after.status, after.header_u64("x-ratelimit-limit-tokens")),
        (200, 100_000)
    );
    let config = send(admin, "GET", "/admin/config", &[], "").await.json();
    assert_eq!(config["resources"][0]["deployments"][1]["tpm"], 100_000);
    let refused = send(
        admin,
        "PATCH",
        "/++/config",
        &[],
        r#"{"deployment":"tokens","tpm":0}"#,
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("resources[0].deployments[1].tpm"),
        "{}",
        refused.body
    );
    let unknown_field = send(
        admin,
        "PATCH",
        "/admin/config",
        &[],
        r#"{"deployment":"tokens","tmp":5}"#,
    )
    .await;
    assert_eq!(unknown_field.status, 400);
    fleet.shutdown().await;
}

#[tokio::test]
async fn ptu_utilization_rises_with_a_burst_429s_immediately_and_drains() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    // Each request: 9 prompt tokens + 3 × 100 = 309 input-token equivalents; forced to use all
    // 100 tokens so completion does not correct the level.
    let burst = [("x-mock-completion-tokens", "100")];
    let mut utilizations = Vec::new();
    let mut last = None;
    for _ in 0..6 {
        let reply = chat(addr, "ptu", &chat_body(100, false), &burst).await;
        assert!(
            reply.header("x-ratelimit-remaining-tokens").is_none(),
            "PTU sends no x-ratelimit-*"
        );
        let util: f64 = reply
            .header("azure-openai-deployment-utilization")
            .unwrap()
            .trim_end_matches('%')
            .parse()
            .unwrap();
        utilizations.push(util);
        if reply.status == 429 {
            last = Some(reply);
            break;
        }
    }
    assert!(
        utilizations.windows(2).all(|w| w[1] > w[0] - 5.0),
        "rising (minus a little drain): {utilizations:?}"
    );
    let refused = last.expect("the burst hit 100%");
    assert!(*utilizations.last().unwrap() >= 100.0);
    let retry_ms = refused.header_u64("retry-after-ms");
    assert!(
        (1..=300).contains(&retry_ms),
        "time until below 100%: {retry_ms}"
    );
    assert_eq!(refused.header_u64("retry-after"), 1);
    // 400 ms of the server's own time drains 400 tokens: below 100% again.
    assert_eq!(
        chat(addr, "slow", &chat_body(1, false), &[]).await.status,
        200
    );
    let after = chat(addr, "ptu", &chat_body(100, false), &burst).await;
    assert_eq!(after.status, 200);
    let util_after: f64 = after
        .header("azure-openai-deployment-utilization")
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(
        util_after < *utilizations.last().unwrap(),
        "{util_after} after draining vs {utilizations:?}"
    );
    let text = metrics(&fleet).await;
    assert_eq!(
        metric(
            &text,
            r#"aoai_mock_throttled_total{resource="east",deployment="ptu",reason="utilization"}"#
        ),
        1.0
    );
    assert!(
        metric(
            &text,
            r#"aoai_mock_utilization_ratio{resource="east",deployment="ptu"}"#
        ) > 0.0
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn ptu_refusals_spill_over_by_setting_or_header() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    // ptu-spill: 600 input TPM per PTU → 100% = 600; one 2,000-token request fills it.
    assert_eq!(
        chat(
            addr,
            "ptu-spill",
            &chat_body(2000, false),
            &[("x-mock-completion-tokens", "2000")]
        )
        .await
        .status,
        200
    );
    let spilled = chat(addr, "ptu-spill", &chat_body(10, false), &[]).await;
    assert_eq!(spilled.status, 200);
    assert_eq!(spilled.header("x-ms-deployment-name"), Some("payg"));
    assert_eq!(
        spilled.header("x-ms-spillover-from-deployment"),
        Some("ptu-spill")
    );
    assert_eq!(spilled.header("x-ms-spillover-error"), Some("429"));
    assert!(
        spilled.header("x-ratelimit-remaining-tokens").is_some(),
        "served (and charged) by the standard deployment"
    );
    // ptu has no setting: the request header decides.
    for _ in 0..5 {
        chat(
            addr,
            "ptu",
            &chat_body(100, false),
            &[("x-mock-completion-tokens", "100")],
        )
        .await;
    }
    let by_header = chat(
        addr,
        "ptu",
        &chat_body(100, false),
        &[("x-ms-spillover-deployment", "payg")],
    )
    .await;
    assert_eq!(
        (by_header.status, by_header.header("x-ms-deployment-name")),
        (200, Some("payg"))
    );
    let text = metrics(&fleet).await;
    assert_eq!(
        metric(
            &text,
            r#"aoai_mock_spillover_total{resource="east",deployment="payg",direction="in"}"#
        ),
        2.0
    );
    fleet.shutdown().await;
}
