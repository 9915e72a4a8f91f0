//! Helpers shared by the live tests: loading scenarios with overrides, keeping only some
//! strategies, and running the live head-to-head on loopback without progress output.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use throttlebox::live::LiveClock;
use throttlebox::live::head_to_head::{LiveRun, LiveRunOptions, run_live};
use throttlebox::live::load::{LoadOptions, LoadPlan};
use throttlebox::live::setup::live_setup;
use throttlebox::scenario::{Override, Scenario};

/// Taken by the tests whose live figures are compared with the simulator's (wall-clock
/// latencies) and by the tests that load the cores for seconds (child processes simulating
/// hours, live runs of the binary): on two cores, one of the latter beside one of the former
/// stretches its latencies past the agreement's tolerance.
static CORES: Mutex<()> = Mutex::new(());

/// Hold the cores against the other timing-sensitive or CPU-heavy tests of this binary.
pub fn take_the_cores() -> MutexGuard<'static, ()> {
    CORES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Load a shipped scenario with `--set`-style overrides, keeping only the named strategies.
pub fn shipped(file: &str, sets: &[&str], keep: &[&str]) -> Scenario {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).expect("override"))
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let mut scenario = Scenario::load(&path, &overrides).expect("scenario loads");
    keep_strategies(&mut scenario, keep);
    scenario
}

/// Parse an inline scenario.
pub fn inline(text: &str) -> Scenario {
    Scenario::parse(text, "<test>", None, &[]).expect("scenario parses")
}

/// One PAYG deployment far from its quota, `rate` small non-streamed requests a second for
/// `seconds`, no retries, a 20 s client timeout (the open-loop engine's tests).
pub fn steady(rate: u32, seconds: u32) -> Scenario {
    steady_with(rate, seconds, &[])
}

/// [`steady`] with `--set`-style overrides (`seed=3`, `client.retry.max_retries=2`).
pub fn steady_with(rate: u32, seconds: u32, sets: &[&str]) -> Scenario {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).expect("override"))
        .collect();
    Scenario::parse(&steady_text(rate, seconds), "<test>", None, &overrides)
        .expect("scenario parses")
}

/// The text of [`steady`], for tests that add strategies or `--set` overrides to it.
pub fn steady_text(rate: u32, seconds: u32) -> String {
    format!(
        r#"
name = "steady"
seed = 5
[[fleet.resources]]
name = "only"
region = "East US"
[[fleet.resources.deployments]]
name = "gpt-4o"
model = "gpt-4o"
kind = "standard"
capacity = 100
[[backends]]
resource = "only"
[workload]
duration = "{seconds}s"
[[workload.apps]]
name = "chat"
deployment = "gpt-4o"
arrivals = {{ process = "constant", rate = {rate}.0 }}
prompt_tokens = {{ dist = "constant", value = 10 }}
output_tokens = {{ dist = "constant", value = 5 }}
[client]
retry = {{ max_retries = 0 }}
timeout = "20s"
[[strategies]]
name = "direct"
preset = "round-robin"
"#
    )
}

/// A load plan for strategy 0 against `target`, an opaque target (its attempts recorded under
/// the fallback backend), for a run of `duration`.
pub fn opaque_plan(
    scenario: &Scenario,
    target: SocketAddr,
    clock: LiveClock,
    duration: Duration,
) -> LoadPlan {
    let (setup, fallback) = live_setup(scenario, duration, true);
    LoadPlan {
        target: format!("http://{target}"),
        strategy: 0,
        setup: std::sync::Arc::new(setup),
        clock,
        options: LoadOptions {
            fallback_backend: fallback,
            ..LoadOptions::default()
        },
        label: "direct".to_string(),
    }
}

/// A backend on loopback that answers every request with a small chat completion (10 prompt
/// and 5 completion tokens) once `before_answer`, run per request, is done.
pub async fn answering_backend<F, Fut>(before_answer: F) -> SocketAddr
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let socket = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = socket.accept().await {
            let before_answer = before_answer.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request: Request<hyper::body::Incoming>| {
                    let before = before_answer();
                    async move {
                        before.await;
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                            br#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#,
                        ))))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Keep only the named strategies, in the given order.
pub fn keep_strategies(scenario: &mut Scenario, keep: &[&str]) {
    if keep.is_empty() {
        return;
    }
    let all = std::mem::take(&mut scenario.strategies);
    scenario.strategies = keep
        .iter()
        .map(|name| {
            all.iter()
                .find(|s| s.config.name == *name)
                .cloned()
                .unwrap_or_else(|| panic!("no strategy {name}"))
        })
        .collect();
}

/// Run every strategy of `scenario` live (in-process fleet + gateway), time-compressed.
pub fn run(scenario: &Scenario, time_scale: f64) -> LiveRun {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let options = LiveRunOptions {
        time_scale,
        load: LoadOptions::default(),
        ..LiveRunOptions::default()
    };
    runtime.block_on(async {
        let (_keep_open, stop) = tokio::sync::watch::channel(false);
        run_live(scenario, None, &options, "test", stop)
            .await
            .expect("live run")
    })
}
