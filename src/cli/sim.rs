//! `throttlebox sim [SCENARIO]`: every strategy in virtual time, the head-to-head table on the
//! terminal, and `results/<run>/` on disk.

use std::path::PathBuf;

use throttlebox::report::{RunDir, head_to_head_table};
use throttlebox::scenario::preflight::{self, Job};
use throttlebox::scenario::{Override, Scenario};
use throttlebox::sim::run_all;

use super::Outcome;
use super::wall::{Stopwatch, timestamp};

/// `throttlebox sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Scenario file (TOML); default: the embedded `ptu-payg-pool` scenario.
    pub scenario: Option<PathBuf>,
    /// Override a setting: `--set seed=7`, `--set breaker.trip_duration=30s`,
    /// `--set workload.apps[chat].arrivals.rate=5` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Folder the run directory is created in.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Run directory name (default: `<scenario>-<UTC timestamp>`).
    #[arg(long)]
    pub run: Option<String>,
    /// Threads (strategies run in parallel); default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Exit 1 when any strategy misses an SLO.
    #[arg(long)]
    pub check_slo: bool,
    /// Run even when the pre-flight estimate (requests, disk, memory) is over the safety
    /// limits.
    #[arg(long)]
    pub allow_large: bool,
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
    let scenario = load(args.scenario.as_ref(), &args.sets)?;
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    preflight::refuse_unless_allowed(&scenario, Job::Sim { jobs }, args.allow_large)?;
    let run_name = args
        .run
        .clone()
        .unwrap_or_else(|| format!("{}-{}", scenario.name(), timestamp()));
    let dir = RunDir::create(&args.results, &run_name)?;
    let command = command_line();
    eprintln!(
        "simulating {} strategies of {} ({}) on {jobs} thread(s)…",
        scenario.strategies.len(),
        scenario.name(),
        scenario.origin
    );
    let clock = Stopwatch::start();
    let progress = |name: &str| eprintln!("  done: {name} ({:.2?})", clock.elapsed());
    let run = run_all(&scenario, Some(&dir), jobs, &command, &progress)?;
    let simulated: u64 = run.outcomes.iter().map(|outcome| outcome.requests).sum();
    println!("{}", head_to_head_table(&run.summary));
    eprintln!(
        "{simulated} requests simulated in {:.2?}; results in {}",
        clock.elapsed(),
        dir.path().display()
    );
    let failed = run
        .summary
        .strategies
        .iter()
        .any(|strategy| strategy.slo.iter().any(|verdict| !verdict.pass));
    Ok(if args.check_slo && failed {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}

/// The command as typed (for the report's metadata).
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}
