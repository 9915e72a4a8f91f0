//! `throttlebox sim [SCENARIO]`: every strategy in virtual time, the head-to-head table on the
//! terminal, and `results/<run>/` on disk. SIGINT/SIGTERM stop it within milliseconds; the
//! strategies that finished are written (summary marked `interrupted`), exit 130/143.

use std::path::PathBuf;

use throttlebox::report::run_dir::SUMMARY_JSON;
use throttlebox::report::{RunDir, head_to_head_table};
use throttlebox::scenario::{Override, Scenario};
use throttlebox::sim::run_all_until;

use super::run_folder::FolderArgs;
use super::signals::Signals;
use super::wall::{Stopwatch, timestamp};
use super::{Outcome, trust};

/// `throttlebox sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Scenario file (TOML); default: the embedded `ptu-payg-pool` scenario.
    pub scenario: Option<PathBuf>,
    /// Override a setting: `--set seed=7`, `--set breaker.trip_duration=30s`,
    /// `--set workload.apps[chat].arrivals.rate=5` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Threads (strategies run in parallel); default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Exit 1 when any strategy misses an SLO.
    #[arg(long)]
    pub check_slo: bool,
}

/// Load `scenario` (or the embedded default) with `--set` overrides.
pub fn load(scenario: Option<&PathBuf>, sets: &[String]) -> anyhow::Result<Scenario> {
    let overrides = sets
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match scenario {
        Some(path) => Scenario::load(path, &overrides)?,
        None => Scenario::embedded_default(&overrides)?,
    })
}

/// Cores to use by default.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Run the command.
pub fn run(args: SimArgs) -> anyhow::Result<Outcome> {
    let signals = Signals::install()?;
    let scenario = load(args.scenario.as_ref(), &args.sets)?;
    args.folder.folder().run_in(
        || format!("{}-{}", scenario.name(), timestamp()),
        SUMMARY_JSON,
        |dir| simulate(&args, &scenario, dir, &signals),
    )
}

fn simulate(
    args: &SimArgs,
    scenario: &Scenario,
    dir: &RunDir,
    signals: &Signals,
) -> anyhow::Result<Outcome> {
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let command = command_line();
    eprintln!(
        "simulating {} strategies of {} ({}) on {jobs} thread(s)…",
        scenario.strategies.len(),
        scenario.name(),
        scenario.origin
    );
    let clock = Stopwatch::start();
    let progress = |name: &str| eprintln!("  done: {name} ({:.2?})", clock.elapsed());
    let stop = signals.stop_flag();
    let run = run_all_until(scenario, Some(dir), jobs, &command, &progress, stop)?;
    if !run.outcomes.is_empty() {
        let simulated: u64 = run.outcomes.iter().map(|outcome| outcome.requests).sum();
        println!("{}", head_to_head_table(&run.summary));
        eprintln!(
            "{simulated} requests simulated in {:.2?}; results in {}",
            clock.elapsed(),
            dir.path().display()
        );
    }
    Ok(trust::run_outcome(
        signals.received(),
        &run.summary,
        false,
        args.check_slo,
    ))
}

/// The command as typed (for the report's metadata).
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}
