//! The conformance lab's short pass: the real balancers the presets name — LiteLLM 1.108.7's
//! proxy and Router library, openai-priority-loadbalancer 1.1.1, the OpenAI SDK's retries —
//! each run in front of the mock on the first 90 seconds of the lab's seeded schedule (the SDK
//! alone on its own, overloaded one), and compared with the simulated
//! preset within 4 σ of the simulator's seed-to-seed spread over 20 seeds (`src/conformance`;
//! 4 rather than the tables' 3 keeps a false alarm over ~30 figures near 0.2% a run). The four
//! run at once (each its own fleet and processes) to keep the suite short; the 5-minute pass is
//! `benches/conformance.sh`.
//!
//! TTFT is held to its bound where the real system adds no processing of its own worth
//! comparing with (the priority balancer, which buffers whole streams, and the SDK alone);
//! LiteLLM handles each request and SSE chunk in Python, time the simulator does not model, so
//! its TTFT is reported, not asserted. Needs the lab's Python (`.ci/install-python-deps`);
//! fails, never skips, without it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use throttlebox::conformance::{
    CheckOptions, Conformance, LabOptions, System, check, markdown, python,
};
use throttlebox::scenario::{Override, Scenario};

fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// The first 90 s of the lab's schedule: the regime the long pass checks (the token window
/// fills after about a minute, so the first 429s and cooldowns come near the end).
fn short_pass() -> Vec<Override> {
    vec![Override::parse("workload.duration=90s").expect("override")]
}

async fn one(system: System, strategy: &str, file: &str, sets: Vec<Override>) -> Conformance {
    let path = scenario_path(file);
    let load = move |overrides: &[Override]| {
        Scenario::load(&path, overrides).map_err(|error| error.to_string())
    };
    let work_dir = std::env::temp_dir().join(format!(
        "throttlebox-conformance-{}-{}",
        system.name(),
        std::process::id()
    ));
    let options = CheckOptions {
        strategy: Some(strategy.to_string()),
        seeds: (12..32).collect(),
        before: Vec::new(),
        lab: LabOptions {
            python: python::lab_python(None),
            work_dir: work_dir.clone(),
            startup_timeout: Duration::from_secs(120),
            drain: Duration::from_secs(60),
            kill_system_after: None,
            warmup_rounds: 2,
        },
    };
    let result = check(&load, &sets, system, &options)
        .await
        .unwrap_or_else(|error| panic!("{}: {error}", system.name()));
    let _ = std::fs::remove_dir_all(&work_dir);
    result
}

fn assert_agrees(result: &Conformance, check_ttft: bool) {
    let table = markdown(&result.rows);
    eprintln!("{} vs {}:\n{table}", result.system.name(), result.strategy);
    if let Some(stopped) = &result.stopped {
        panic!("the real system did not answer to the end, so its figures say nothing: {stopped}");
    }
    assert!(
        result.real.requests >= 60,
        "{}: {} requests",
        result.system.name(),
        result.real.requests
    );
    for row in &result.rows {
        if row.metric.starts_with("TTFT") && !check_ttft {
            continue;
        }
        assert!(
            row.within_factor(4.0),
            "{} vs {}: {} beyond 4 σ of the simulator's seed-to-seed spread\n{table}",
            result.system.name(),
            result.strategy,
            row.metric
        );
    }
}

#[test]
fn the_real_balancers_agree_with_their_presets_on_a_short_schedule() {
    // Not at the same time as the live agreement runs (see live_support): LiteLLM's proxy
    // alone takes a good share of a core.
    let _turn = crate::live_support::take_the_cores();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(short_pass_of_all_four());
}

async fn short_pass_of_all_four() {
    let lab = "conformance-lab.toml";
    let (proxy, router, priority, sdk) = tokio::join!(
        one(
            System::LitellmProxy,
            "litellm-least-busy",
            lab,
            short_pass()
        ),
        one(System::LitellmRouter, "litellm-shuffle", lab, short_pass()),
        one(System::PriorityLb, "client-priority", lab, short_pass()),
        one(
            System::OpenaiSdk,
            "openai-sdk",
            "conformance-sdk.toml",
            short_pass(),
        ),
    );
    assert_agrees(&proxy, false);
    assert_agrees(&router, false);
    assert_agrees(&priority, true);
    assert_agrees(&sdk, true);
    // The SDK calls the mock itself: every try it made is one backend attempt the mock
    // counted, and the lab's warm-up requests before the schedule are in neither.
    assert_eq!(
        sdk.real.attempts_per_request, sdk.real.client_tries_per_request,
        "openai-sdk: backend attempts and the client's own tries"
    );
    // The priority balancer buffers: its clients see the first token at the end of the body,
    // well after the mock's first token (0.4 s) — the preset models it.
    let buffered = priority.real.ttft_p50.expect("streams succeeded");
    assert!(buffered > 0.6, "priority-lb TTFT p50 {buffered:.3} s");
}
