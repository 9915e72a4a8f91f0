//! `throttlebox run [SCENARIO]`: the live head-to-head. Per strategy, a fresh in-process mock
//! fleet and gateway on loopback (or `--target` an external gateway), the identical schedule
//! sent open-loop, then the comparison table and `results/<run>/` with `mode: live`.
//! `--target URL --shard K/N --start-at T`: send only shard K's part of the schedule from the
//! shared instant T (one strategy), and write `shard.json` for `throttlebox merge`.
//! SIGINT/SIGTERM: stop sending, drain, write what was measured, exit 130/143.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use throttlebox::live::head_to_head::LiveRunOptions;
use throttlebox::live::load::LoadOptions;
use throttlebox::report::RunDir;
use throttlebox::report::run_dir::SUMMARY_JSON;
use throttlebox::scenario::Scenario;
use throttlebox::scenario::preflight::{self, Job};
use throttlebox::shard::Shard;

use super::live_common::report;
use super::live_shard::{LiveShard, LiveShardArgs, run_live_as};
use super::run_folder::FolderArgs;
use super::signals::Signals;
use super::sim::{command_line, load};
use super::wall::timestamp;
use super::{Outcome, trust};

/// `throttlebox run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML); default: the embedded `ptu-payg-pool` scenario.
    pub scenario: Option<PathBuf>,
    /// Override a setting (as in `sim`), repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run scenario time K times faster than the wall clock (quotas, latencies and schedule
    /// together): `--time-scale 60` plays a 10-minute scenario in 10 seconds.
    #[arg(long, default_value_t = 1.0, value_parser = super::live_common::parse_time_scale)]
    pub time_scale: f64,
    /// Drive this gateway (base URL) instead of an in-process fleet + gateway per strategy.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Most requests in flight; requests due beyond it are dropped and counted.
    #[arg(long, default_value_t = 10_000)]
    pub max_in_flight: usize,
    /// Most connections open to the target at once (as `wrk -c`): a request finding
    /// them all busy waits for one, and the wait counts in its latency. Default: a connection
    /// per request in flight.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<NonZeroUsize>,
    /// After Ctrl-C, how long (wall) requests in flight may finish before they are cancelled.
    #[arg(long, default_value = "10s", value_parser = throttlebox::duration::parse)]
    pub drain: Duration,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Exit 1 when any strategy misses an SLO.
    #[arg(long)]
    pub check_slo: bool,
    /// Exit 3 when the run cannot be trusted (a strategy's validity failed, or interrupted).
    #[arg(long)]
    pub strict: bool,
    /// Run even when the pre-flight estimate (requests, disk, memory, wall-clock time) is over
    /// the safety limits.
    #[arg(long)]
    pub allow_large: bool,
    #[command(flatten)]
    pub sharding: LiveShardArgs,
}

/// Run the command.
pub fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let signals = Signals::install()?;
    let scenario = load(args.scenario.as_ref(), &args.sets)?;
    if args.sharding.shard.is_some() || args.sharding.start_at.is_some() {
        if args.target.is_none() {
            anyhow::bail!(
                "--shard and --start-at need --target URL: the shards of a live run drive one shared target (in-process, each shard would start its own fleet)"
            );
        }
        if scenario.strategies.len() > 1 {
            anyhow::bail!(
                "--shard and --start-at drive one strategy from the shared start instant; the scenario has {} (run one shard job per strategy with `load --label NAME`, or keep one strategy in the scenario)",
                scenario.strategies.len()
            );
        }
    }
    args.sharding.check()?;
    let job = Job::Live {
        time_scale: args.time_scale,
        max_in_flight: args.max_in_flight,
    };
    preflight::refuse_unless_allowed(&scenario, job, args.allow_large)?;
    let shard = args.sharding.shard(&scenario, args.time_scale)?;
    args.folder.folder().run_in(
        || format!("{}-live-{}", scenario.name(), timestamp()),
        SUMMARY_JSON,
        |dir| run_live_command(&args, &scenario, shard.as_ref(), dir, &signals),
    )
}

fn run_live_command(
    args: &RunArgs,
    scenario: &Scenario,
    shard: Option<&LiveShard>,
    dir: &RunDir,
    signals: &Signals,
) -> anyhow::Result<Outcome> {
    let options = LiveRunOptions {
        time_scale: args.time_scale,
        target: args.target.clone(),
        load: LoadOptions {
            max_in_flight: args.max_in_flight,
            max_connections: args.max_connections,
            drain: args.drain,
            progress: !args.quiet,
            shard: shard.map_or(Shard::WHOLE, LiveShard::shard),
            ..LoadOptions::default()
        },
        start_at: args.sharding.start_at,
        ..LiveRunOptions::default()
    };
    eprintln!(
        "running {} strategies of {} live (time scale {}×){}…",
        scenario.strategies.len(),
        scenario.name(),
        args.time_scale,
        args.target
            .as_deref()
            .map_or(String::new(), |target| format!(" against {target}"))
    );
    let command = command_line();
    let stop = signals.watch();
    let live = run_live_as(shard, scenario, dir, &options, &command, stop)?;
    report(&live, dir);
    Ok(trust::run_outcome(
        signals.received(),
        &live.summary,
        args.strict,
        args.check_slo,
    ))
}
