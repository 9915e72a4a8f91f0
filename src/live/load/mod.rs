//! The open-loop load engine: sends the workload's seeded schedule (`Workload::requests()`, the
//! iterator the simulator replays) at the intended times whatever the responses do — the
//! [`scheduler`] spawns each request at its intended time, never waiting for earlier ones — so
//! latency is measured from the intended send time (no coordinated omission), and the actual
//! send time is recorded beside it (send lag). In-flight requests are capped; what could not be
//! sent is counted as dropped. Records go through a bounded channel ([`records`]) to one
//! collector thread that owns the recorder and the CSV writers.
//!
//! Independent of the rest of the process: the scheduler, the requests and their connections
//! run on the engine's own runtime ([`runtime`]), so an in-process fleet and gateway (on the
//! caller's runtime) never hold a send up in a run queue; the collector and the progress printer
//! are threads of their own, and a full record channel loses (counts) records rather than
//! waiting. A connect that does not complete fails after [`LoadOptions::connect_timeout`].
//!
//! Bounded: the schedule is finite, every request ends by the client timeout, and after a stop
//! (Ctrl-C) in-flight requests get at most the drain time before they are cancelled.

pub(crate) mod collector;
pub(crate) mod logical;
mod progress;
pub(crate) mod records;
mod runtime;
mod scheduler;
pub(crate) mod try_once;
pub mod wire;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hyper::header::HeaderValue;
use tokio::sync::watch;

use super::clock::LiveClock;
use super::error::LiveError;
use super::http_client::{HttpClient, connecting_client};
use crate::client::{Client, ClientAnswer, ClientLife, ClientStep};
use crate::metrics::{AttemptRecord, BackendIndex, LatencyHistogram, RequestRecord, StrategyIndex};
use crate::report::{RecordSink, RunSetup, StrategyRecorder};
use crate::scenario::Scenario;
use crate::seed::{SimRng, streams};
use crate::split::Shard;
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
    /// Longest wait (wall) for a new connection's handshake: a connect that has not completed
    /// by then fails as a connect error (the client retry policy then applies).
    pub connect_timeout: Duration,
    /// Most records waiting for the collector; beyond it records are dropped and counted
    /// (`records_lost`) rather than waited for.
    pub record_buffer: usize,
    /// The part of the schedule to send (`--shard K/N`: the requests whose index is K mod N;
    /// [`Shard::WHOLE`]: all of it).
    pub shard: Shard,
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
            // The OpenAI Python SDK's (httpx's) connect timeout.
            connect_timeout: Duration::from_secs(5),
            record_buffer: records::DEFAULT_RECORD_BUFFER,
            shard: Shard::WHOLE,
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
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// the engine's own accuracy, at µs resolution (the summary keeps scenario time). The
    /// actual send is when the request's task starts, just before it connects or writes.
    pub send_lag_wall_us: LagQuantiles,
    /// The scheduler's own lateness: the moment it decided to send each scheduled request,
    /// minus the intended time (wall µs). Far below the send lag: the dispatch to a worker was
    /// late (the engine's runtime was busy); about equal: the timer woke late (the machine).
    pub decision_lag_wall_us: LagQuantiles,
    /// Records the collector could not take in time (its channel was full: the sink or the
    /// disk stalled): their requests were sent but are missing from the records.
    pub records_lost: u64,
    /// The engine's own saturation: the share of the run's wall time its worker threads were
    /// busy (1 = never idle: it could not have sent more), averaged over the workers.
    pub cpu_saturation: Option<f64>,
    /// The share of the run's wall time the engine's threads were ready to run but waited for
    /// a CPU (the machine starved them), averaged over the workers; Linux only.
    pub cpu_wait: Option<f64>,
    /// A shard of a live run (`--start-at`): how long after the shared start instant its
    /// schedule started, wall µs (its clock keeps the instant as zero, so this lateness is
    /// also in every send lag); None: no shared start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_late_wall_us: Option<u64>,
}

/// Quantiles of a lag distribution, microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

impl LagQuantiles {
    /// The quantiles of `lag` (scenario time), converted to wall time by `clock`.
    fn wall(lag: &LatencyHistogram, clock: LiveClock) -> LagQuantiles {
        let wall_us = |scenario: Option<Duration>| {
            scenario.map_or(0, |scenario| clock.wall_span(scenario).as_micros() as u64)
        };
        LagQuantiles {
            p50: wall_us(lag.quantile(0.5)),
            p99: wall_us(lag.quantile(0.99)),
            p999: wall_us(lag.quantile(0.999)),
            max: wall_us(lag.max()),
        }
    }
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
    pub client: Client,
    pub backend_names: Vec<String>,
    pub fallback_backend: Option<BackendIndex>,
    retry_rng: Mutex<SimRng>,
    records: records::RecordSender,
}

impl EngineContext {
    /// The context for driving `plan.target` with `workload`'s requests.
    pub(crate) fn new(
        scenario: &Scenario,
        workload: &Workload,
        plan: &LoadPlan,
        api_key: HeaderValue,
        records: records::RecordSender,
    ) -> EngineContext {
        EngineContext {
            clock: plan.clock,
            http: connecting_client(
                plan.options.max_connections,
                Some(plan.options.connect_timeout),
            ),
            urls: workload
                .deployments()
                .iter()
                .map(|deployment| wire::url(&plan.target, deployment))
                .collect(),
            api_key,
            strategy: plan.strategy,
            client: Client::new(
                scenario.file.client.retry.clone(),
                scenario.file.client.timeout,
            ),
            backend_names: plan.setup.backends.iter().map(|b| b.name.clone()).collect(),
            fallback_backend: plan.options.fallback_backend,
            retry_rng: Mutex::new(streams::client_retry(scenario.file.seed)),
            records,
        }
    }

    /// Hand a record to the collector (never waits: a full channel counts it lost).
    pub fn send(&self, message: RecordMessage) {
        self.records.send(message);
    }

    pub fn backend_index(&self, name: &str) -> Option<BackendIndex> {
        self.backend_names
            .iter()
            .position(|known| known == name)
            .map(|index| index as BackendIndex)
    }

    /// The client state machine's step for a try that brought `answer` back at `now` (its
    /// jitter drawn from the run's one client retry stream, as in the simulator).
    pub fn client_step(
        &self,
        now: Duration,
        life: &mut ClientLife,
        answer: &ClientAnswer,
    ) -> ClientStep {
        let mut rng = self
            .retry_rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.client.on_answer(now, life, answer, &mut rng)
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

/// Drive `workload` against `plan.target` open-loop, streaming records into `sink`. The
/// engine runs on a runtime of its own (whatever runtime awaits this only waits).
pub async fn run_load<S: RecordSink + Send + 'static>(
    scenario: &Scenario,
    workload: &Workload,
    plan: LoadPlan,
    sink: S,
    stop: watch::Receiver<bool>,
) -> Result<LoadOutcome<S>, LiveError> {
    let api_key = HeaderValue::from_str(&plan.options.api_key)
        .map_err(|_| LiveError::invalid("--api-key", "not a valid header value"))?;
    let (records, receiver) = records::channel(plan.options.record_buffer);
    let records_lost = records.lost_counter();
    let counters = Arc::new(Counters::default());
    let recorder = StrategyRecorder::new(plan.strategy, plan.setup.clone());
    let printer = plan
        .options
        .progress
        .then(|| progress::Progress::new(plan.label.clone(), plan.clock, counters.clone()));
    let collector = collector::spawn(receiver, recorder, sink, printer)?;
    let ctx = Arc::new(EngineContext::new(
        scenario, workload, &plan, api_key, records,
    ));
    let engine = runtime::EngineRuntime::start()?;
    let driven = engine.spawn(scheduler::drive(
        workload.clone(),
        ctx,
        counters,
        plan.options.max_in_flight as u64,
        plan.options.drain,
        plan.options.shard,
        stop,
    ));
    let scheduled = match driven {
        Some(driven) => driven.await.ok(),
        None => None,
    };
    let cpu = engine.cpu_use();
    drop(engine);
    let scheduler::Scheduled {
        mut stats,
        decision_lag,
        failure,
    } = scheduled.ok_or_else(|| LiveError::invalid("scheduler", "the request scheduler failed"))?;
    let (recorder, sink, send_lag) = collector.finish().await?;
    stats.max_connections = plan.options.max_connections.map(|cap| cap.get() as u64);
    stats.send_lag_wall_us = LagQuantiles::wall(&send_lag, plan.clock);
    stats.decision_lag_wall_us = LagQuantiles::wall(&decision_lag, plan.clock);
    stats.records_lost = records_lost.load(Ordering::Relaxed);
    stats.cpu_saturation = cpu.busy;
    stats.cpu_wait = cpu.waiting;
    if let Some(error) = failure {
        return Err(error);
    }
    Ok(LoadOutcome {
        recorder,
        sink,
        stats,
    })
}
