//! The live head-to-head (`throttlebox run`): for each strategy in turn, a fresh in-process
//! mock fleet and gateway on loopback (or an external gateway), the identical seeded schedule
//! driven open-loop, the gateway's breaker timeline and the fleet's PTU utilization folded into
//! the strategy's records, then teardown; finally the same summary, comparison table and
//! `results/<run>/` files as `sim`, with `mode: live`.

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
use super::gateway::{BreakerEvent, GatewaySettings, RunningGateway};
use super::load::{EngineStats, LoadOptions, LoadPlan, run_load};
use super::setup::live_setup;
use crate::metrics::SecondSeries;
use crate::report::{RunDir, RunSetup, StrategySummary, Summary};
use crate::scenario::Scenario;
use crate::sim::{CsvSink, DiscardSink, RecordSink};

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
}

impl Default for LiveRunOptions {
    fn default() -> Self {
        LiveRunOptions {
            time_scale: 1.0,
            target: None,
            load: LoadOptions::default(),
            teardown: Duration::from_secs(5),
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
    /// The engine's own counters.
    pub engine: EngineStats,
    /// The in-process fleet's metrics at the end (None with `--target`).
    pub fleet_metrics: Option<FleetMetrics>,
    /// Breaker transitions of gateway instance 0 (empty with `--target`).
    pub breaker_timeline: Vec<BreakerEvent>,
}

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
/// files as `sim` there plus `engine.json`. A stop (Ctrl-C) ends the current strategy early
/// (drained), skips the rest, and still writes what was measured.
pub async fn run_live(
    scenario: &Scenario,
    dir: Option<&RunDir>,
    options: &LiveRunOptions,
    command: &str,
    stop: watch::Receiver<bool>,
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
        Some(dir) => RunSink::Csv(Box::new(CsvSink {
            requests: dir.requests_writer(setup.clone())?,
            attempts: dir.attempts_writer(setup.clone())?,
        })),
        None => RunSink::Discard(DiscardSink),
    };
    let mut outcomes = Vec::new();
    for index in 0..scenario.strategies.len() {
        let load = LoadOptions {
            fallback_backend: fallback,
            ..options.load.clone()
        };
        let (outcome, returned) = run_strategy(
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
        let interrupted = outcome.engine.interrupted;
        outcomes.push(outcome);
        if interrupted {
            break;
        }
    }
    sink.finish()?;
    let summary = Summary::new(&setup, outcomes.iter().map(|o| o.summary.clone()).collect())
        .with_command(command);
    if let Some(dir) = dir {
        write_outputs(dir, scenario, &setup, &summary, &outcomes)?;
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
    if let Some(target) = &options.target {
        let clock = LiveClock::start(options.time_scale);
        let outcome = run_load(scenario, workload, plan(target.clone(), clock), sink, stop).await?;
        let (summary, series) = outcome.recorder.finish_with_series();
        let result = LiveStrategyOutcome {
            summary,
            series,
            engine: outcome.stats,
            fleet_metrics: None,
            breaker_timeline: Vec::new(),
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
    let (summary, series) = outcome.recorder.finish_with_series();
    let result = LiveStrategyOutcome {
        summary,
        series,
        engine: outcome.stats,
        fleet_metrics: Some(fleet_metrics),
        breaker_timeline: timeline,
    };
    Ok((result, outcome.sink))
}

/// Where a run's records go: the run directory's CSV files, or nowhere.
pub enum RunSink {
    /// `requests.csv` and `attempts.csv`.
    Csv(Box<CsvSink>),
    /// Nowhere (the recorder still sees every record).
    Discard(DiscardSink),
}

impl RunSink {
    /// Flush and close the files.
    pub fn finish(self) -> Result<(), crate::report::ReportError> {
        if let RunSink::Csv(csv) = self {
            csv.requests.finish()?;
            csv.attempts.finish()?;
        }
        Ok(())
    }
}

impl RecordSink for RunSink {
    fn request(
        &mut self,
        record: &crate::metrics::RequestRecord,
    ) -> Result<(), crate::report::ReportError> {
        match self {
            RunSink::Csv(csv) => csv.request(record),
            RunSink::Discard(discard) => discard.request(record),
        }
    }

    fn attempt(
        &mut self,
        record: &crate::metrics::AttemptRecord,
    ) -> Result<(), crate::report::ReportError> {
        match self {
            RunSink::Csv(csv) => csv.attempt(record),
            RunSink::Discard(discard) => discard.attempt(record),
        }
    }
}

fn write_outputs(
    dir: &RunDir,
    scenario: &Scenario,
    setup: &RunSetup,
    summary: &Summary,
    outcomes: &[LiveStrategyOutcome],
) -> Result<(), LiveError> {
    let series: Vec<(&str, &SecondSeries)> = scenario
        .strategies
        .iter()
        .zip(outcomes)
        .map(|(strategy, outcome)| (strategy.config.name.as_str(), &outcome.series))
        .collect();
    dir.write_timeseries(setup, &series)?;
    dir.write_summary(summary)?;
    let engines = || {
        scenario
            .strategies
            .iter()
            .zip(outcomes)
            .map(|(strategy, outcome)| (strategy.config.name.as_str(), &outcome.engine))
    };
    dir.write_report_with(summary, &engine_markdown(engines()))?;
    let path = dir.path().join(ENGINE_JSON);
    std::fs::write(&path, engine_json(engines()))
        .map_err(|error| LiveError::io(format!("write {}", path.display()), error))
}
