//! Closed-model load through goose: users against a mock resource, TTFT taken from the stream
//! by our own hook, 429s classified apart from errors, goose's HTML report beside ours, and the
//! same summary labelled closed-model. (goose keeps process-global state: one attack in this
//! test binary.)

use std::time::Duration;

use throttlebox::live::fleet::LiveFleet;
use throttlebox::live::goose_adapter::{GOOSE_REPORT, GooseOptions, run_goose};
use throttlebox::report::run_dir::RUN_FILES;
use throttlebox::report::{Mode, RunDir, hlog_file_names};
use throttlebox::scenario::Scenario;

const TIGHT_STREAMS: &str = r#"
name = "tight-streams"
seed = 9
[[fleet.resources]]
name = "tight"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 1                  # 1,000 TPM, 6 RPM: most requests get a 429
latency = { ttft_base = "100ms", tokens_per_second = 200.0, ttft_jitter = 0.0 }
[[backends]]
resource = "tight"
[workload]
duration = "1m"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = { process = "constant", rate = 5.0 }
prompt_tokens = { dist = "constant", value = 20 }
max_tokens = { dist = "constant", value = 20 }
output_tokens = { dist = "constant", value = 20 }
stream_share = 1.0
[[strategies]]
name = "direct"
preset = "round-robin"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goose_users_yield_the_same_records_with_ttft_and_429s_apart() {
    let scenario = Scenario::parse(TIGHT_STREAMS, "<test>", None, &[]).expect("scenario");
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let results =
        std::env::temp_dir().join(format!("throttlebox-live-goose-{}", std::process::id()));
    let dir = RunDir::create(&results, "goose").expect("run dir");
    let options = GooseOptions {
        target: fleet.pool_urls[0].clone(),
        users: 2,
        ramp_up: Duration::from_secs(1),
        run_time: Duration::from_secs(2),
        think_time: Duration::from_millis(50),
        api_key: "k".to_string(),
        time_scale: 1.0,
    };
    let (_keep_open, stop) = tokio::sync::watch::channel(false);
    let outcome = run_goose(&scenario, &dir, &options, "test", stop)
        .await
        .expect("goose run");
    let summary = &outcome.summary;
    assert_eq!(summary.mode, Mode::Live);
    let strategy = &summary.strategies[0];
    assert_eq!(strategy.name, "direct (closed-model)");
    assert!(strategy.requests >= 4, "{} requests", strategy.requests);
    assert!(
        strategy.outcomes.ok >= 1,
        "the first requests fit the quota"
    );
    assert!(
        strategy.outcomes.throttled >= 1,
        "the tight quota throttles"
    );
    assert_eq!(
        strategy.outcomes.server_error + strategy.outcomes.connect_error,
        0
    );
    assert_eq!(
        strategy.ttft.count, strategy.outcomes.ok,
        "every streamed success has a TTFT"
    );
    assert!(
        strategy.ttft.p50_s.is_some_and(|ttft| ttft >= 0.1),
        "TTFT from the stream, ≥ the mock's 100 ms"
    );
    let rows: Vec<&str> = strategy.backends.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        rows,
        ["target"],
        "the mock names no pool backend: no zero row for the fleet's"
    );
    let html = std::fs::read_to_string(dir.path().join(GOOSE_REPORT)).expect("goose report");
    if std::env::var_os("KEEP_GOOSE_REPORT").is_some() {
        std::fs::write("/tmp/goose-report-test.html", &html).ok();
    }
    assert!(
        html.contains("TTFT chat"),
        "goose's report has our TTFT row"
    );
    assert!(
        html.contains("THROTTLED chat"),
        "goose's report counts 429s apart"
    );
    // The same file set as every other mode (one writer), besides goose's own report.
    let hlog = format!("histograms/{}", hlog_file_names(&[&strategy.name])[0]);
    for file in RUN_FILES.iter().chain([&hlog.as_str()]) {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    assert!(
        strategy.validity.valid,
        "closed model, no stop: {:?}",
        strategy.validity.reasons
    );
    assert!(!outcome.interrupted);
    fleet.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&results);
}
