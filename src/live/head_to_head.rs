//! The live head-to-head (`throttlebox run`): for each strategy in turn, a fresh in-process
//! mock fleet and gateway on loopback (or an external gateway), the identical seeded schedule
//! driven open-loop, the gateway's breaker timeline and the fleet's PTU utilization folded into
//! the strategy's records, then teardown; finally the same summary, comparison table and
//! `results/<run>/` files as `sim` (through the same writer), with `mode: live`, and each
//! strategy's validity drawn from what the engine measured. A stop (SIGINT, SIGTERM) drains
//! the strategy in flight, keeps it (marked invalid: interrupted) and starts no other.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use aoai_mock::http::sockets;
use aoai_mock::model::FleetMetrics;
use tokio::sync::watch;

use super::clock::LiveClock;
use super::engine_report::{engine_json, engine_markdown};
use super::error::LiveError;
use super::fleet::LiveFleet;
use super::fleet_metrics;
use super::gateway::{BreakerEvent, GatewaySettings, RunningGateway};
use super::load::{EngineStats, LoadOptions, LoadPlan, run_load};
use super::setup::{drop_unmeasured_rows, live_setup};
use super::verdict::{engine_measurements, validity_context};
use crate::metrics::SecondSeries;
use crate::report::StrategyTotals;
use crate::report::validity::assess;
use crate::report::{
    DiscardSink, ReportError, RunDir, RunOutputs, RunSetup, RunSink, StrategyOutputs,
    StrategySummary, Summary, write_run,
};
use crate::report::{StrategyHistograms, StrategyRecorder};
use crate::scenario::Scenario;
use crate::split::{StartAt, Started};

/// `engine.json`: what the load engine itself did, per strategy.
pub const ENGINE_JSON: &str = "engine.json";

/// How to run live.
#[derive(Debug, Clone)]
pub struct LiveRunOptions {
    /// Scenario time runs this many times faster than the wall clock.
    pub time_scale: f64,
    /// Drive this gateway instead of starting a fleet and a gateway per strategy.
    pub target: Option<String>,
    /// Load engine settings.
    pub load: LoadOptions,
    /// Longest wait (wall) for the fleet and gateway to close their connections.
    pub teardown: Duration,
    /// With `target`: the shared instant a sharded run's schedule starts at (`--start-at`);
    /// the strategy waits for it and keeps it as its clock's zero even when it wakes late.
    pub start_at: Option<StartAt>,
    /// With `target`: the mock fleet's admin listener (base URL, bearer token), read before
    /// and after each strategy to fill its per-backend rows ([`fleet_metrics`]).
    pub fleet_metrics: Option<(String, Option<String>)>,
}

impl Default for LiveRunOptions {
    fn default() -> Self {
        LiveRunOptions {
            time_scale: 1.0,
            target: None,
            load: LoadOptions::default(),
            teardown: Duration::from_secs(5),
            start_at: None,
            fleet_metrics: None,
        }
    }
}

/// One strategy's live result.
#[derive(Debug)]
pub struct LiveStrategyOutcome {
    /// Its summary.
    pub summary: StrategySummary,
    /// Per-second series.
    pub series: SecondSeries,
    /// Latency histograms and the interval log.
    pub histograms: StrategyHistograms,
    /// The engine's own counters.
    pub engine: EngineStats,
    /// The in-process fleet's metrics at the end (None with `--target`).
    pub fleet_metrics: Option<FleetMetrics>,
    /// Breaker transitions of gateway instance 0 (empty with `--target`).
    pub breaker_timeline: Vec<BreakerEvent>,
    /// The running totals the summary was computed from (a shard's `shard.json`).
    pub totals: StrategyTotals,
}

/// Files of the caller's own written with a live run's outputs, before `summary.json`
/// (`shard.json`), from the setup and the measured strategies.
pub type ExtraLiveFiles<'a> = &'a (
        dyn Fn(
    &RunSetup,
    &[LiveStrategyOutcome],
) -> Result<Vec<(&'static str, String)>, ReportError>
            + Sync
    );

/// A finished live head-to-head.
#[derive(Debug)]
pub struct LiveRun {
    /// The head-to-head summary (`mode: live`).
    pub summary: Summary,
    /// Per-strategy outcomes, scenario order (fewer than the strategies after a stop).
    pub outcomes: Vec<LiveStrategyOutcome>,
    /// The run's setup.
    pub setup: Arc<RunSetup>,
}

/// Run every strategy of `scenario` live, one after the other. With `dir`, write the same
/// files as `sim` there plus `engine.json`. A stop (SIGINT, SIGTERM) ends the current strategy
/// early (drained), skips the rest, and still writes what was measured, the summary marked
/// `interrupted`; stopped before any strategy started, it writes nothing.
pub async fn run_live(
    scenario: &Scenario,
    dir: Option<&RunDir>,
    options: &LiveRunOptions,
    command: &str,
    stop: watch::Receiver<bool>,
) -> Result<LiveRun, LiveError> {
    run_live_with(scenario, dir, options, command, stop, None).await
}

/// [`run_live`], writing `extra`'s files beside the run's own.
pub async fn run_live_with(
    scenario: &Scenario,
    dir: Option<&RunDir>,
    options: &LiveRunOptions,
    command: &str,
    stop: watch::Receiver<bool>,
    extra: Option<ExtraLiveFiles<'_>>,
) -> Result<LiveRun, LiveError> {
    if !(options.time_scale.is_finite() && options.time_scale > 0.0) {
        return Err(LiveError::invalid(
            "--time-scale",
            format!("{} is not a positive number", options.time_scale),
        ));
    }
    let workload = scenario.workload()?;
    let duration = scenario.duration(&workload)?;
    let (setup, fallback) = live_setup(scenario, duration, options.target.is_some());
    let setup = Arc::new(setup);
    let mut sink = match dir {
        Some(dir) => RunSink::Csv(Box::new(dir.csv_sink(setup.clone())?)),
        None => RunSink::Discard(DiscardSink),
    };
    let mut outcomes = Vec::new();
    let mut interrupted = false;
    for index in 0..scenario.strategies.len() {
        if *stop.borrow() {
            interrupted = true;
            break;
        }
        let load = LoadOptions {
            fallback_backend: fallback,
            ..options.load.clone()
        };
        let scrape = || async {
            match &options.fleet_metrics {
                Some((url, token)) => fleet_metrics::scrape(url, token.as_deref()).await.map(Some),
                None => Ok(None),
            }
        };
        let before = scrape().await?;
        let (mut outcome, returned) = run_strategy(
            scenario,
            &workload,
            index,
            setup.clone(),
            options,
            load,
            sink,
            stop.clone(),
        )
        .await?;
        sink = returned;
        if let (Some(before), Some(after)) = (before, scrape().await?) {
            let pool: Vec<(String, String)> = scenario
                .pool
                .iter()
                .map(|b| {
                    (
                        b.name.clone(),
                        scenario.fleet().resources[b.resource].name.clone(),
                    )
                })
                .collect();
            fleet_metrics::fill_backends(&mut outcome.summary, &pool, &before, &after)?;
        }
        // After every source of per-backend figures (the client's view, the fleet's counters):
        // rows none of them measured are left out.
        drop_unmeasured_rows(&mut outcome.summary, fallback);
        interrupted = outcome.engine.interrupted;
        outcomes.push(outcome);
        if interrupted {
            break;
        }
    }
    let mut summary = Summary::new(&setup, outcomes.iter().map(|o| o.summary.clone()).collect())
        .with_command(command);
    if interrupted {
        summary = summary.mark_interrupted();
    }
    if outcomes.is_empty() {
        // Nothing measured: dropping the sink removes its temporary files.
        return Ok(LiveRun {
            summary,
            outcomes,
            setup,
        });
    }
    sink.finish()?;
    if let Some(dir) = dir {
        let extra_files = match extra {
            Some(extra) => extra(&setup, &outcomes)?,
            None => Vec::new(),
        };
        write_outputs(dir, &setup, &summary, &outcomes, extra_files)?;
    }
    Ok(LiveRun {
        summary,
        outcomes,
        setup,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run_strategy(
    scenario: &Scenario,
    workload: &crate::workload::Workload,
    index: usize,
    setup: Arc<RunSetup>,
    options: &LiveRunOptions,
    load: LoadOptions,
    sink: RunSink,
    stop: watch::Receiver<bool>,
) -> Result<(LiveStrategyOutcome, RunSink), LiveError> {
    let label = scenario.strategies[index].config.name.clone();
    // Every request in flight holds a socket in the engine; in process, also one in the
    // gateway on each side and one in the mock: four sharers of the open-file limit.
    let sharers = if options.target.is_some() { 1 } else { 4 };
    let budget = sockets::connection_budget(sharers);
    let plan = |target: String, clock: LiveClock| LoadPlan {
        target,
        strategy: index as u16,
        setup: setup.clone(),
        clock,
        options: LoadOptions {
            max_in_flight: load.max_in_flight.min(budget.unwrap_or(usize::MAX)),
            ..load.clone()
        },
        label: label.clone(),
    };
    let judged = |recorder: StrategyRecorder, engine: EngineStats, covered: Duration| {
        let (mut summary, series, histograms, totals) = recorder.finish_with_totals();
        let hops = if options.target.is_some() { 1 } else { 2 };
        let context =
            validity_context(scenario.fleet(), &setup, &summary, options.time_scale, hops);
        let covered = covered.min(setup.duration);
        summary.validity = assess(
            &engine_measurements(&engine, options.time_scale, covered),
            &context,
        );
        (summary, series, histograms, engine, totals)
    };
    if let Some(target) = &options.target {
        let (clock, late) = start_clock(options, stop.clone()).await;
        let stopped_at = stop_time(stop.clone(), clock);
        let mut outcome =
            run_load(scenario, workload, plan(target.clone(), clock), sink, stop).await?;
        outcome.stats.start_late_wall_us =
            late.map(|late| u64::try_from(late.as_micros()).unwrap_or(u64::MAX));
        let covered = covered(&outcome.stats, stopped_at, setup.duration).await;
        let (summary, series, histograms, engine, totals) =
            judged(outcome.recorder, outcome.stats, covered);
        let result = LiveStrategyOutcome {
            summary,
            series,
            histograms,
            engine,
            fleet_metrics: None,
            breaker_timeline: Vec::new(),
            totals,
        };
        return Ok((result, outcome.sink));
    }
    let fleet = LiveFleet::start(scenario, options.time_scale).await?;
    let clock = fleet.clock();
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut settings = GatewaySettings::from_scenario(scenario, index, &fleet.pool_urls, listen)?;
    settings.max_connections = budget;
    let gateway = RunningGateway::start(settings, clock).await?;
    let sampler = fleet.sample_utilization(scenario);
    let stopped_at = stop_time(stop.clone(), clock);
    let outcome = run_load(scenario, workload, plan(gateway.url(), clock), sink, stop).await;
    let samples = sampler.stop().await;
    let timeline = gateway.breaker_timeline();
    let fleet_metrics = fleet.running.metrics();
    tokio::time::timeout(options.teardown, gateway.shutdown())
        .await
        .ok();
    fleet.shutdown(options.teardown).await;
    let mut outcome = outcome?;
    for event in &timeline {
        outcome
            .recorder
            .breaker_transition(event.at, event.backend, event.open, event.reason);
    }
    for (at, backend, percent) in samples {
        outcome.recorder.utilization_sample(at, backend, percent);
    }
    let covered = covered(&outcome.stats, stopped_at, setup.duration).await;
    let (summary, series, histograms, engine, totals) =
        judged(outcome.recorder, outcome.stats, covered);
    let result = LiveStrategyOutcome {
        summary,
        series,
        histograms,
        engine,
        fleet_metrics: Some(fleet_metrics),
        breaker_timeline: timeline,
        totals,
    };
    Ok((result, outcome.sink))
}

/// The engine's clock against an external target: zero now, or at the shared `--start-at`
/// instant once it comes (with how late the wait ended; a stop while waiting starts the clock
/// at once, and the engine then stops before sending).
async fn start_clock(
    options: &LiveRunOptions,
    stop: watch::Receiver<bool>,
) -> (LiveClock, Option<Duration>) {
    let Some(start_at) = options.start_at else {
        return (LiveClock::start(options.time_scale), None);
    };
    let stopped = async move {
        let mut stop = stop;
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    match start_at.wait(stopped).await {
        Started::At { late } => (
            LiveClock::started_late(options.time_scale, late),
            Some(late),
        ),
        Started::Stopped => (LiveClock::start(options.time_scale), None),
    }
}

/// The scenario time at which `stop` turns true (resolves only then).
fn stop_time(
    mut stop: watch::Receiver<bool>,
    clock: LiveClock,
) -> tokio::task::JoinHandle<Duration> {
    tokio::spawn(async move {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        clock.now()
    })
}

/// The scenario time the strategy's schedule covered: all of it, or up to the stop.
async fn covered(
    stats: &EngineStats,
    stopped_at: tokio::task::JoinHandle<Duration>,
    planned: Duration,
) -> Duration {
    if !stats.interrupted {
        stopped_at.abort();
        return planned;
    }
    stopped_at.await.unwrap_or(planned)
}

fn write_outputs(
    dir: &RunDir,
    setup: &RunSetup,
    summary: &Summary,
    outcomes: &[LiveStrategyOutcome],
    mut extra_files: Vec<(&'static str, String)>,
) -> Result<(), LiveError> {
    let engines = || {
        summary
            .strategies
            .iter()
            .zip(outcomes)
            .map(|(strategy, outcome)| (strategy.name.as_str(), &outcome.engine))
    };
    let outputs = RunOutputs {
        setup,
        summary,
        strategies: summary
            .strategies
            .iter()
            .zip(outcomes)
            .map(|(strategy, outcome)| StrategyOutputs {
                name: strategy.name.as_str(),
                series: &outcome.series,
                histograms: &outcome.histograms,
            })
            .collect(),
        report_appendix: engine_markdown(engines()),
        extra_files: {
            extra_files.insert(0, (ENGINE_JSON, engine_json(engines())));
            extra_files
        },
    };
    Ok(write_run(dir, &outputs)?)
}
