//! The open-loop load engine: sends the workload's seeded schedule (`Workload::requests()`, the
//! iterator the simulator replays) at the intended times whatever the responses do — a
//! scheduler task sleeps on a precise timer (`precise_sleep`: a timerfd on Linux) until each
//! intended time and spawns the request on its own worker, never waiting for earlier ones — so
//! latency is measured from the intended send time (no coordinated omission), and
//! the actual send time is recorded beside it (send lag). In-flight requests are capped; what
//! could not be sent is counted as dropped. Records go through a channel to one collector
//! that owns the recorder and the CSV writers.
//!
//! Bounded: the schedule is finite, every request ends by the client timeout, and after a stop
//! (Ctrl-C) in-flight requests get at most the drain time before they are cancelled.

pub(crate) mod collector;
pub(crate) mod logical;
mod progress;
pub(crate) mod try_once;
pub mod wire;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hyper::header::HeaderValue;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::clock::LiveClock;
use super::error::LiveError;
use super::http_client::{HttpClient, http_client};
use super::precise_sleep::PreciseSleep;
use crate::balance::Observation;
use crate::metrics::{AttemptRecord, BackendIndex, RequestRecord, StrategyIndex, StrategyRecorder};
use crate::report::RecordSink;
use crate::report::RunSetup;
use crate::scenario::{ClientConfig, Scenario};
use crate::seed::{self, SimRng};
use crate::workload::Workload;

/// Engine settings that are not in the scenario.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Most requests in flight; a request due while at the cap is dropped (counted).
    pub max_in_flight: usize,
    /// Most connections open to the target; a request finding all of them busy waits for
    /// one (None: a connection per request in flight).
    pub max_connections: Option<NonZeroUsize>,
    /// After a stop, how long (wall time) in-flight requests may finish before cancellation.
    pub drain: Duration,
    /// Print a progress line every second on stderr.
    pub progress: bool,
    /// `api-key` header value.
    pub api_key: String,
    /// Backend index for responses that name no known backend (a target that is not a
    /// throttlebox gateway); None: such attempts are counted but not recorded per backend.
    pub fallback_backend: Option<BackendIndex>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_in_flight: 10_000,
            max_connections: None,
            drain: Duration::from_secs(10),
            progress: false,
            api_key: "throttlebox-load".to_string(),
            fallback_backend: None,
        }
    }
}

/// One strategy's load run.
pub struct LoadPlan {
    /// Base URL of the gateway (or mock) to drive.
    pub target: String,
    /// Strategy index the records carry.
    pub strategy: StrategyIndex,
    /// Names behind the record indices.
    pub setup: Arc<RunSetup>,
    /// Scenario time (shared with an in-process fleet and gateway).
    pub clock: LiveClock,
    /// Engine settings.
    pub options: LoadOptions,
    /// Label for progress lines.
    pub label: String,
}

/// What the engine itself did (beside the records).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EngineStats {
    /// Requests the schedule produced (before the stop, if any).
    pub scheduled: u64,
    /// Requests sent.
    pub sent: u64,
    /// Requests due while at the in-flight cap: never sent.
    pub dropped: u64,
    /// Requests still in flight when the drain time ran out: cancelled, not recorded.
    pub cancelled: u64,
    /// The in-flight cap in force: `--max-in-flight`, lowered to what the open-file limit
    /// allows (each request in flight holds a socket).
    pub max_in_flight: u64,
    /// The connection cap in force (`--max-connections`; None: none).
    pub max_connections: Option<u64>,
    /// Most requests in flight at once.
    pub peak_in_flight: u64,
    /// The run was stopped early (Ctrl-C).
    pub interrupted: bool,
    /// Send lag (actual − intended send) of the recorded requests, wall-clock microseconds:
    /// the engine's own accuracy, at µs resolution (the summary keeps scenario time).
    pub send_lag_wall_us: LagQuantiles,
}

/// Quantiles of a lag distribution, microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LagQuantiles {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
}

/// A finished load run.
pub struct LoadOutcome<S> {
    /// The strategy's recorder, every record folded in (the caller may add breaker and
    /// utilization events, then finish it).
    pub recorder: StrategyRecorder,
    /// The sink, handed back (the caller finishes its files).
    pub sink: S,
    /// Engine counters.
    pub stats: EngineStats,
}

/// A record on its way to the collector.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RecordMessage {
    Request(RequestRecord),
    Attempt(AttemptRecord),
}

/// Live counters shared by the scheduler, the requests and the progress line.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub sent: AtomicU64,
    pub in_flight: AtomicU64,
    pub dropped: AtomicU64,
}

/// What every request task shares.
pub(crate) struct EngineContext {
    pub clock: LiveClock,
    pub http: HttpClient,
    /// Chat-completions URL per workload deployment.
    pub urls: Vec<String>,
    pub api_key: HeaderValue,
    pub strategy: StrategyIndex,
    pub client: ClientConfig,
    pub backend_names: Vec<String>,
    pub fallback_backend: Option<BackendIndex>,
    retry_rng: Mutex<SimRng>,
    records: std::sync::mpsc::Sender<RecordMessage>,
}

impl EngineContext {
    /// The context for driving `plan.target` with `workload`'s requests.
    pub(crate) fn new(
        scenario: &Scenario,
        workload: &Workload,
        plan: &LoadPlan,
        api_key: HeaderValue,
        records: std::sync::mpsc::Sender<RecordMessage>,
    ) -> EngineContext {
        EngineContext {
            clock: plan.clock,
            http: http_client(plan.options.max_connections),
            urls: workload
                .deployments()
                .iter()
                .map(|deployment| wire::url(&plan.target, deployment))
                .collect(),
            api_key,
            strategy: plan.strategy,
            client: scenario.file.client.clone(),
            backend_names: plan.setup.backends.iter().map(|b| b.name.clone()).collect(),
            fallback_backend: plan.options.fallback_backend,
            retry_rng: Mutex::new(seed::stream(scenario.file.seed, "live:client-retry")),
            records,
        }
    }

    pub fn send(&self, message: RecordMessage) {
        // The collector outlives every request task; a send can only fail after a panic there.
        let _ = self.records.send(message);
    }

    pub fn backend_index(&self, name: &str) -> Option<BackendIndex> {
        self.backend_names
            .iter()
            .position(|known| known == name)
            .map(|index| index as BackendIndex)
    }

    /// The client's wait before retry `retries` (0-based), or None to give up.
    pub fn retry_delay(&self, retries: u32, observation: &Observation) -> Option<Duration> {
        let mut rng = self
            .retry_rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.client.retry.delay(retries, observation, &mut rng)
    }
}

/// Decrements the in-flight count when a request task ends or is cancelled.
struct InFlight(Arc<Counters>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Resolves when `stop` turns true (never, if its sender is gone while false).
async fn stop_requested(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Send every request of `workload` at its intended time, spawning each on this worker;
/// stops early when `stop` turns true.
async fn schedule_requests(
    workload: Workload,
    ctx: Arc<EngineContext>,
    counters: Arc<Counters>,
    max_in_flight: u64,
    mut stop: watch::Receiver<bool>,
) -> (EngineStats, JoinSet<()>, Option<LiveError>) {
    let mut stats = EngineStats {
        max_in_flight,
        ..EngineStats::default()
    };
    let mut tasks = JoinSet::new();
    let timer = match PreciseSleep::new() {
        Ok(timer) => timer,
        Err(error) => return (stats, tasks, Some(LiveError::io("the send timer", error))),
    };
    let mut failure = None;
    for item in workload.requests() {
        let request = match item {
            Ok(request) => request,
            Err(error) => {
                failure = Some(LiveError::from(error));
                break;
            }
        };
        let wait = ctx
            .clock
            .wall_span(request.at.saturating_sub(ctx.clock.now()));
        if wait.is_zero() {
            // Behind schedule (after a stall): sends go out back to back, but the scheduler
            // still yields every coop budget's worth so the requests it spawned can run.
            tokio::task::coop::consume_budget().await;
        }
        tokio::select! {
            biased;
            () = stop_requested(&mut stop) => {
                stats.interrupted = true;
                break;
            }
            slept = timer.sleep(wait) => if let Err(error) = slept {
                failure = Some(LiveError::io("the send timer", error));
                break;
            },
        }
        stats.scheduled += 1;
        while tasks.try_join_next().is_some() {}
        if counters.in_flight.load(Ordering::Relaxed) >= max_in_flight {
            stats.dropped += 1;
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let in_flight = counters.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        stats.peak_in_flight = stats.peak_in_flight.max(in_flight);
        stats.sent += 1;
        counters.sent.fetch_add(1, Ordering::Relaxed);
        let guard = InFlight(counters.clone());
        let task_ctx = ctx.clone();
        tasks.spawn(async move {
            let _guard = guard;
            logical::drive(task_ctx, request).await;
        });
    }
    (stats, tasks, failure)
}

/// Drive `workload` against `plan.target` open-loop, streaming records into `sink`.
pub async fn run_load<S: RecordSink + Send + 'static>(
    scenario: &Scenario,
    workload: &Workload,
    plan: LoadPlan,
    sink: S,
    mut stop: watch::Receiver<bool>,
) -> Result<LoadOutcome<S>, LiveError> {
    let api_key = HeaderValue::from_str(&plan.options.api_key)
        .map_err(|_| LiveError::invalid("--api-key", "not a valid header value"))?;
    let (records, receiver) = std::sync::mpsc::channel();
    let counters = Arc::new(Counters::default());
    let recorder = StrategyRecorder::new(plan.strategy, plan.setup.clone());
    let printer = plan
        .options
        .progress
        .then(|| progress::Progress::new(plan.label.clone(), plan.clock, counters.clone()));
    let collector =
        tokio::task::spawn_blocking(move || collector::collect(receiver, recorder, sink, printer));
    let ctx = Arc::new(EngineContext::new(
        scenario, workload, &plan, api_key, records,
    ));
    // The scheduler is a task: it sleeps on a precise timer and spawns each request on its
    // own worker; it never waits for a response.
    let scheduler = tokio::spawn(schedule_requests(
        workload.clone(),
        ctx.clone(),
        counters.clone(),
        plan.options.max_in_flight as u64,
        stop.clone(),
    ));
    let (mut stats, mut tasks, failure) = scheduler.await.map_err(|error| {
        LiveError::invalid(
            "scheduler",
            format!("the request scheduler failed: {error}"),
        )
    })?;
    stats.max_connections = plan.options.max_connections.map(|cap| cap.get() as u64);
    if !stats.interrupted {
        // Every request ends by the client timeout; a stop meanwhile bounds the wait.
        tokio::select! {
            () = async { while tasks.join_next().await.is_some() {} } => {}
            () = stop_requested(&mut stop) => stats.interrupted = true,
        }
    }
    if stats.interrupted && !tasks.is_empty() {
        let drain = async { while tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(plan.options.drain, drain).await;
        stats.cancelled = tasks.len() as u64;
        tasks.shutdown().await;
    }
    drop(ctx);
    let (recorder, sink, lag) = collector.await.map_err(|error| {
        LiveError::invalid("collector", format!("the record collector failed: {error}"))
    })??;
    let wall_us = |q: f64| {
        lag.quantile(q).map_or(0, |scenario| {
            plan.clock.wall_span(scenario).as_micros() as u64
        })
    };
    stats.send_lag_wall_us = LagQuantiles {
        p50: wall_us(0.5),
        p99: wall_us(0.99),
        p999: wall_us(0.999),
        max: lag
            .max()
            .map_or(0, |max| plan.clock.wall_span(max).as_micros() as u64),
    };
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(LoadOutcome {
        recorder,
        sink,
        stats,
    })
}
