//! `throttlebox sim [SCENARIO]`: every strategy in virtual time, the head-to-head table on the
//! terminal, and `results/<run>/` on disk. SIGINT/SIGTERM stop it within milliseconds; the
//! strategies that finished are written (summary marked `interrupted`), exit 130/143.

use std::path::PathBuf;

use throttlebox::report::run_dir::SUMMARY_JSON;
use throttlebox::report::{RunDir, head_to_head_table};
use throttlebox::scenario::preflight::{self, Job};
use throttlebox::scenario::{Override, Scenario};
use throttlebox::shard::{SHARD_JSON, Shard, ShardIdentity, without_shard_flag};
use throttlebox::sim::{Selection, SimRun, StopFlag, run_all_until, run_selected_until};
use throttlebox::sweep::load_scenario;

use super::deprecated::scenario_notes;
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
    /// Run even when the pre-flight estimate (requests, disk, memory) is over the safety
    /// limits.
    #[arg(long)]
    pub allow_large: bool,
    /// Run shard K of N (K from 0): only the strategies whose position in the scenario is K
    /// modulo N, plus `shard.json`; `throttlebox merge` joins the N folders into the
    /// unsharded run, byte for byte.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// Load `scenario` (or the embedded default) with `--set` overrides.
pub fn load(scenario: Option<&PathBuf>, sets: &[String]) -> anyhow::Result<Scenario> {
    let overrides = sets
        .iter()
        .map(|text| Override::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let scenario = load_scenario(scenario.map(PathBuf::as_path), &overrides)?;
    scenario_notes(&scenario);
    Ok(scenario)
}

/// Cores to use by default.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Run the command.
pub fn run(args: SimArgs) -> anyhow::Result<Outcome> {
    let signals = Signals::install()?;
    let scenario = load(args.scenario.as_ref(), &args.sets)?;
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    preflight::refuse_unless_allowed(&scenario, Job::Sim { jobs }, args.allow_large)?;
    args.folder.folder().run_in(
        || format!("{}-{}", scenario.name(), timestamp()),
        SUMMARY_JSON,
        |dir| simulate(&args, &scenario, dir, &signals, jobs),
    )
}

fn simulate(
    args: &SimArgs,
    scenario: &Scenario,
    dir: &RunDir,
    signals: &Signals,
    jobs: usize,
) -> anyhow::Result<Outcome> {
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
    let run = match args.shard {
        None => run_all_until(scenario, Some(dir), jobs, &command, &progress, stop)?,
        Some(shard) => run_shard(scenario, shard, dir, jobs, &command, &progress, stop)?,
    };
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

/// Simulate shard `shard`'s strategies and write its `shard.json` beside the run's files.
fn run_shard(
    scenario: &Scenario,
    shard: Shard,
    dir: &RunDir,
    jobs: usize,
    command: &str,
    progress: &(dyn Fn(&str) + Sync),
    stop: &StopFlag,
) -> anyhow::Result<SimRun> {
    let strategies = shard.positions(scenario.strategies.len());
    if strategies.is_empty() {
        anyhow::bail!(
            "--shard {shard}: the scenario has {} strategies, so at most {} shards have one to simulate",
            scenario.strategies.len(),
            scenario.strategies.len()
        );
    }
    let words: Vec<String> = std::env::args().collect();
    let identity = ShardIdentity::new(scenario, shard, without_shard_flag(&words))?;
    let manifest = |setup: &throttlebox::report::RunSetup,
                    finished: &[(usize, &throttlebox::sim::StrategyOutcome)]| {
        let json = identity.strategies_json(setup, finished).map_err(|error| {
            throttlebox::report::ReportError::Invalid {
                field: SHARD_JSON.to_string(),
                reason: error.to_string(),
            }
        })?;
        Ok(vec![(SHARD_JSON, json)])
    };
    let selection = Selection {
        strategies,
        extra_files: Some(&manifest),
    };
    eprintln!(
        "shard {shard}: strategies {:?}",
        selection
            .strategies
            .iter()
            .map(|&index| scenario.strategies[index].config.name.as_str())
            .collect::<Vec<_>>()
    );
    Ok(run_selected_until(
        scenario,
        &selection,
        Some(dir),
        jobs,
        command,
        progress,
        stop,
    )?)
}

/// The command as typed (for the report's metadata).
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}
