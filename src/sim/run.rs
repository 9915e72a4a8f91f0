//! Running every strategy of a scenario: one thread per strategy (up to `jobs`), each with its
//! own fleet, gateways and recorder; records stream into per-strategy part files that are
//! joined in scenario order, so the output is byte-identical whatever the thread timing.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::engine::{SimError, StrategyOutcome, simulate_strategy};
use super::sink::{CsvSink, DiscardSink};
use crate::report::html::StrategyCharts;
use crate::report::{
    AttemptsCsvWriter, Mode, ReportError, RequestsCsvWriter, RunDir, RunSetup, Summary,
};
use crate::scenario::Scenario;

/// The result of simulating every strategy of a scenario.
#[derive(Debug)]
pub struct SimRun {
    /// The head-to-head summary.
    pub summary: Summary,
    /// Per-strategy outcomes (scenario order).
    pub outcomes: Vec<StrategyOutcome>,
    /// The run's setup.
    pub setup: Arc<RunSetup>,
}

/// Simulate every strategy of `scenario`, on up to `jobs` threads. With `dir`, write
/// `requests.csv`, `attempts.csv`, `timeseries.csv`, `summary.json`, `report.md`,
/// `report.html` and `histograms/<strategy>.hlog` there.
/// `on_done(name)` is called as each strategy finishes (progress output).
pub fn run_all(
    scenario: &Scenario,
    dir: Option<&RunDir>,
    jobs: usize,
    command: &str,
    on_done: &(dyn Fn(&str) + Sync),
) -> Result<SimRun, SimError> {
    let workload = scenario.workload()?;
    let duration = scenario.duration(&workload)?;
    let setup = Arc::new(scenario.run_setup(Mode::Sim, duration));
    let count = scenario.strategies.len();
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<StrategyOutcome, SimError>>>> =
        (0..count).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        break;
                    }
                    let outcome = run_one(scenario, index, setup.clone(), dir);
                    on_done(&scenario.strategies[index].config.name);
                    if let Ok(mut slot) = results[index].lock() {
                        *slot = Some(outcome);
                    }
                }
            });
        }
    });
    let mut outcomes = Vec::with_capacity(count);
    for slot in results {
        let outcome = slot
            .into_inner()
            .ok()
            .flatten()
            .ok_or_else(|| ReportError::Invalid {
                field: "simulation".to_string(),
                reason: "a strategy thread panicked".to_string(),
            })??;
        outcomes.push(outcome);
    }
    let summary = Summary::new(
        &setup,
        outcomes
            .iter()
            .map(|outcome| outcome.summary.clone())
            .collect(),
    )
    .with_command(command);
    if let Some(dir) = dir {
        join_parts(dir, count, "requests")?;
        join_parts(dir, count, "attempts")?;
        let series: Vec<(&str, &crate::metrics::SecondSeries)> = scenario
            .strategies
            .iter()
            .zip(&outcomes)
            .map(|(strategy, outcome)| (strategy.config.name.as_str(), &outcome.series))
            .collect();
        dir.write_timeseries(&setup, &series)?;
        dir.write_summary(&summary)?;
        dir.write_report(&summary)?;
        let charts: Vec<StrategyCharts<'_>> = series
            .iter()
            .zip(&outcomes)
            .map(|((name, series), outcome)| StrategyCharts {
                name,
                series,
                ttft: &outcome.histograms.ttft,
            })
            .collect();
        dir.write_html(&summary, &setup, &charts)?;
        let mut logs = Vec::with_capacity(count);
        for ((name, _), outcome) in series.iter().zip(&outcomes) {
            let log = outcome
                .histograms
                .interval_log
                .as_deref()
                .map_err(|reason| ReportError::Invalid {
                    field: format!("interval log of strategy {name}"),
                    reason: reason.clone(),
                })?;
            logs.push((*name, log));
        }
        dir.write_histograms(&logs)?;
    }
    Ok(SimRun {
        summary,
        outcomes,
        setup,
    })
}

fn run_one(
    scenario: &Scenario,
    index: usize,
    setup: Arc<RunSetup>,
    dir: Option<&RunDir>,
) -> Result<StrategyOutcome, SimError> {
    let workload = scenario.workload()?;
    match dir {
        None => simulate_strategy(scenario, &workload, index, setup, &mut DiscardSink),
        Some(dir) => {
            let mut sink = CsvSink {
                requests: RequestsCsvWriter::create(
                    &part_path(dir.path(), "requests", index),
                    setup.clone(),
                )?,
                attempts: AttemptsCsvWriter::create(
                    &part_path(dir.path(), "attempts", index),
                    setup.clone(),
                )?,
            };
            let outcome = simulate_strategy(scenario, &workload, index, setup, &mut sink)?;
            sink.requests.finish()?;
            sink.attempts.finish()?;
            Ok(outcome)
        }
    }
}

fn part_path(dir: &Path, stem: &str, index: usize) -> std::path::PathBuf {
    dir.join(format!(".{stem}.part{index}.csv"))
}

/// Concatenate the part files into `<stem>.csv`, keeping the first part's header only.
fn join_parts(dir: &RunDir, count: usize, stem: &str) -> Result<(), ReportError> {
    let target = dir.path().join(format!("{stem}.csv"));
    let file = File::create(&target).map_err(|error| ReportError::io(&target, error))?;
    let mut out = BufWriter::new(file);
    for index in 0..count {
        let part = part_path(dir.path(), stem, index);
        let input = File::open(&part).map_err(|error| ReportError::io(&part, error))?;
        let mut reader = BufReader::new(input);
        if index > 0 {
            let mut header = String::new();
            reader
                .read_line(&mut header)
                .map_err(|error| ReportError::io(&part, error))?;
        }
        std::io::copy(&mut reader, &mut out).map_err(|error| ReportError::io(&target, error))?;
        fs::remove_file(&part).map_err(|error| ReportError::io(&part, error))?;
    }
    out.flush().map_err(|error| ReportError::io(&target, error))
}
