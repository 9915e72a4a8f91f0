//! Running every strategy of a scenario: one thread per strategy (up to `jobs`), each with its
//! own fleet, gateways and recorder; records stream into per-strategy part files that are
//! joined in scenario order, so the output is byte-identical whatever the thread timing.
//!
//! A [`Selection`] runs some strategies only (a shard of a sharded run): each keeps its
//! scenario index and name, so its records and files are those of a full run.
//!
//! A raised [`StopFlag`] stops the run: no strategy starts after it, running ones stop within
//! [`super::POLL_EVERY`] events and are dropped, and the strategies that finished are written
//! completely with the summary marked `interrupted`. Part files never outlive the run.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::engine::{Recording, SimError, StrategyOutcome, simulate_strategy};
use crate::parallel::parallel_map;
use crate::report::atomic_file::AtomicFile;
use crate::report::{
    CsvSink, DiscardSink, Mode, ReportError, RunDir, RunOutputs, RunSetup, StrategyOutputs,
    Summary, write_run,
};
use crate::scenario::Scenario;
use crate::stop::StopFlag;

/// The result of simulating every strategy of a scenario.
#[derive(Debug)]
pub struct SimRun {
    /// The head-to-head summary.
    pub summary: Summary,
    /// Per-strategy outcomes (scenario order; after a stop, only the strategies that finished).
    pub outcomes: Vec<StrategyOutcome>,
    /// The run's setup.
    pub setup: Arc<RunSetup>,
}

/// Simulate every strategy of `scenario`, on up to `jobs` threads. With `dir`, write
/// `requests.csv`, `attempts.csv`, `timeseries.csv`, `summary.json`, `report.md`,
/// `report.html` and `histograms/<strategy>.hlog` there; without, only the summaries are
/// recorded ([`Recording::SummaryOnly`]: the outcomes carry no series or histograms).
/// `on_done(name)` is called as each strategy finishes (progress output).
pub fn run_all(
    scenario: &Scenario,
    dir: Option<&RunDir>,
    jobs: usize,
    command: &str,
    on_done: &(dyn Fn(&str) + Sync),
) -> Result<SimRun, SimError> {
    run_all_until(scenario, dir, jobs, command, on_done, &StopFlag::new())
}

/// [`run_all`] until `stop` is raised: the strategies that finished by then are summarised
/// and written (the summary marked `interrupted`); with none, nothing is written.
pub fn run_all_until(
    scenario: &Scenario,
    dir: Option<&RunDir>,
    jobs: usize,
    command: &str,
    on_done: &(dyn Fn(&str) + Sync),
    stop: &StopFlag,
) -> Result<SimRun, SimError> {
    let selection = Selection::all(scenario.strategies.len());
    run_selected_until(scenario, &selection, dir, jobs, command, on_done, stop)
}

/// Files a caller adds to a run folder (written before `summary.json`), made from the run's
/// setup and the strategies that finished: `(scenario index, outcome)`, scenario order.
pub type ExtraFiles<'a> = &'a (
        dyn Fn(
    &RunSetup,
    &[(usize, &StrategyOutcome)],
) -> Result<Vec<(&'static str, String)>, ReportError>
            + Sync
    );

/// Which strategies of a scenario a run covers (a shard of a sharded run covers some), and
/// what it writes besides the usual files.
pub struct Selection<'a> {
    /// Scenario indices of the strategies to run, ascending. Records, interval logs and
    /// summaries keep these indices and the scenario's names, so a strategy's output does not
    /// depend on which others ran.
    pub strategies: Vec<usize>,
    /// Extra files for the run folder (a shard's `shard.json`).
    pub extra_files: Option<ExtraFiles<'a>>,
}

impl Selection<'_> {
    /// Every strategy of a scenario with `count` strategies.
    pub fn all(count: usize) -> Selection<'static> {
        Selection {
            strategies: (0..count).collect(),
            extra_files: None,
        }
    }
}

/// [`run_all_until`] for the strategies of `selection` only; the summary plans just those
/// (`strategies_planned`), and is marked `interrupted` when one of them did not finish.
pub fn run_selected_until(
    scenario: &Scenario,
    selection: &Selection<'_>,
    dir: Option<&RunDir>,
    jobs: usize,
    command: &str,
    on_done: &(dyn Fn(&str) + Sync),
    stop: &StopFlag,
) -> Result<SimRun, SimError> {
    let workload = scenario.workload()?;
    let duration = scenario.duration(&workload)?;
    let setup = Arc::new(scenario.run_setup(Mode::Sim, duration));
    let selected = &selection.strategies;
    if let Some(bad) = selected
        .iter()
        .find(|&&index| index >= scenario.strategies.len())
    {
        return Err(ReportError::UnknownIndex {
            kind: "strategy",
            index: u16::try_from(*bad).unwrap_or(u16::MAX),
            len: scenario.strategies.len(),
        }
        .into());
    }
    let count = selected.len();
    let parts = dir.map(|dir| PartFiles {
        dir: dir.path().to_path_buf(),
        indices: selected.clone(),
    });
    let results = parallel_map(
        selected,
        jobs,
        stop,
        &|_, &index| run_one(scenario, index, setup.clone(), dir, stop),
        &|position, outcome| {
            if outcome.is_ok() {
                on_done(&scenario.strategies[selected[position]].config.name);
            }
        },
    )
    .map_err(|panic| ReportError::Invalid {
        field: "simulation".to_string(),
        reason: format!(
            "the thread of strategy {:?} panicked: {}",
            scenario.strategies[selected[panic.index]].config.name, panic.message
        ),
    })?;
    let mut finished = Vec::with_capacity(count);
    for (&index, result) in selected.iter().zip(results) {
        match result {
            Some(Ok(outcome)) => finished.push((index, outcome)),
            // Never started, or stopped part-way: left out.
            None | Some(Err(SimError::Stopped)) => {}
            Some(Err(error)) => return Err(error),
        }
    }
    let mut summary = Summary::new(
        &setup,
        finished
            .iter()
            .map(|(_, outcome)| outcome.summary.clone())
            .collect(),
    )
    .with_command(command);
    summary.strategies_planned = count;
    if finished.len() < count {
        summary = summary.mark_interrupted();
    }
    if let (Some(dir), Some(parts)) = (dir, &parts) {
        if !finished.is_empty() {
            let indices: Vec<usize> = finished.iter().map(|(index, _)| *index).collect();
            parts.join(&indices, "requests")?;
            parts.join(&indices, "attempts")?;
            let extra_files = match selection.extra_files {
                Some(make) => make(
                    &setup,
                    &finished
                        .iter()
                        .map(|(index, outcome)| (*index, outcome))
                        .collect::<Vec<_>>(),
                )?,
                None => Vec::new(),
            };
            let strategies = finished
                .iter()
                .map(|(index, outcome)| {
                    let recorded = outcome.recorded_in_full()?;
                    Ok(StrategyOutputs {
                        name: scenario.strategies[*index].config.name.as_str(),
                        series: &recorded.series,
                        histograms: &recorded.histograms,
                    })
                })
                .collect::<Result<Vec<_>, ReportError>>()?;
            let outputs = RunOutputs {
                setup: &setup,
                summary: &summary,
                strategies,
                report_appendix: String::new(),
                extra_files,
            };
            write_run(dir, &outputs)?;
        }
    }
    Ok(SimRun {
        summary,
        outcomes: finished.into_iter().map(|(_, outcome)| outcome).collect(),
        setup,
    })
}

fn run_one(
    scenario: &Scenario,
    index: usize,
    setup: Arc<RunSetup>,
    dir: Option<&RunDir>,
    stop: &StopFlag,
) -> Result<StrategyOutcome, SimError> {
    let workload = scenario.workload()?;
    match dir {
        None => simulate_strategy(
            scenario,
            &workload,
            index,
            setup,
            Recording::SummaryOnly,
            &mut DiscardSink,
            stop,
        ),
        Some(dir) => {
            let mut sink = CsvSink::create(
                &part_path(dir.path(), "requests", index),
                &part_path(dir.path(), "attempts", index),
                setup.clone(),
            )?;
            let outcome = simulate_strategy(
                scenario,
                &workload,
                index,
                setup,
                Recording::Full,
                &mut sink,
                stop,
            )?;
            sink.commit()?;
            Ok(outcome)
        }
    }
}

fn part_path(dir: &Path, stem: &str, index: usize) -> PathBuf {
    dir.join(format!(".{stem}.part{index}.csv"))
}

/// The per-strategy part files of a run directory; every one is removed when this is dropped,
/// however the run ended.
struct PartFiles {
    dir: PathBuf,
    indices: Vec<usize>,
}

impl PartFiles {
    /// Concatenate the parts of `indices` (in that order) into `<stem>.csv`, keeping the first
    /// part's header only.
    fn join(&self, indices: &[usize], stem: &str) -> Result<(), ReportError> {
        let mut out = AtomicFile::create(&self.dir.join(format!("{stem}.csv")))?;
        for (position, index) in indices.iter().enumerate() {
            let part = part_path(&self.dir, stem, *index);
            let input = File::open(&part).map_err(|error| ReportError::io(&part, error))?;
            let mut reader = BufReader::new(input);
            if position > 0 {
                let mut header = String::new();
                reader
                    .read_line(&mut header)
                    .map_err(|error| ReportError::io(&part, error))?;
            }
            loop {
                let chunk = reader
                    .fill_buf()
                    .map_err(|error| ReportError::io(&part, error))?;
                if chunk.is_empty() {
                    break;
                }
                let length = chunk.len();
                // `out`'s errors name the target file.
                out.write_all(chunk).map_err(ReportError::Named)?;
                reader.consume(length);
            }
        }
        out.commit()
    }
}

impl Drop for PartFiles {
    fn drop(&mut self) {
        for stem in ["requests", "attempts"] {
            for index in &self.indices {
                let _ = fs::remove_file(part_path(&self.dir, stem, *index));
            }
        }
    }
}
