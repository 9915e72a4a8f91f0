//! `throttlebox load --target URL`: drive a gateway (or a mock) with a scenario's workload.
//! `--engine open` (default): the open-loop engine, the seeded schedule at its intended times.
//! `--engine goose`: closed-model users through goose (users, ramp-up, think time).
//! Either way: `results/<run>/` with the same files as `sim`, `mode: live`. `--shard K/N
//! --start-at T` (open engine): send only shard K's part of the schedule from the shared
//! instant T, and write `shard.json` for `throttlebox merge`. SIGINT/SIGTERM:
//! stop, drain, write what was measured, exit 130/143.

use std::num::NonZeroUsize;
use std::time::Duration;

use throttlebox::live::goose_adapter::{GooseOptions, run_goose};
use throttlebox::live::head_to_head::LiveRunOptions;
use throttlebox::live::load::LoadOptions;
use throttlebox::report::run_dir::SUMMARY_JSON;
use throttlebox::report::{RunDir, Summary};
use throttlebox::scenario::Scenario;
use throttlebox::shard::Shard;

use super::deprecated::ScenarioArg;
use super::live_common::{block_on, report};
use super::live_shard::{LiveShard, LiveShardArgs, run_live_as};
use super::run_folder::FolderArgs;
use super::signals::{Signal, Signals};
use super::sim::{command_line, load};
use super::wall::timestamp;
use super::{Outcome, trust};

/// Which load model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Open model: the workload's schedule at its intended send times.
    Open,
    /// Closed model: goose users looping request → response → think time.
    Goose,
}

/// `throttlebox load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub scenario: ScenarioArg,
    /// Base URL to drive (a throttlebox gateway, another gateway, or a mock resource).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// The mock fleet's admin listener behind a third-party gateway (e.g. `http://127.0.0.1:9100`,
    /// what `throttlebox mock` prints as `admin`): its `/metrics`, read before and after the
    /// run, fill the per-backend rows the gateway does not report (open engine).
    #[arg(long, value_name = "ADMIN_URL")]
    pub fleet_metrics: Option<String>,
    /// Bearer token of that admin listener, when it has one.
    #[arg(long, env = "AOAI_MOCK_ADMIN_TOKEN", hide_env_values = true)]
    pub fleet_metrics_token: Option<String>,
    /// Load model.
    #[arg(long, value_enum, default_value_t = Engine::Open)]
    pub engine: Engine,
    /// Name of the target in reports.
    #[arg(long, default_value = "target")]
    pub label: String,
    /// Override a scenario setting (as in `sim`), repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Send at intended time / K and report scenario time (match the target's time scale).
    #[arg(long, default_value_t = 1.0, value_parser = super::live_common::parse_time_scale)]
    pub time_scale: f64,
    /// Open engine: most requests in flight; requests due beyond it are dropped and counted.
    #[arg(long, default_value_t = 10_000)]
    pub max_in_flight: usize,
    /// Open engine: most connections open to the target at once (as `wrk -c`): a request finding
    /// them all busy waits for one, and the wait counts in its latency. Default: a connection
    /// per request in flight.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<NonZeroUsize>,
    /// After Ctrl-C, how long (wall) requests in flight may finish before they are cancelled.
    #[arg(long, default_value = "10s", value_parser = throttlebox::duration::parse)]
    pub drain: Duration,
    /// goose: concurrent users.
    #[arg(long, default_value_t = 10)]
    pub users: usize,
    /// goose: time to start all users.
    #[arg(long, default_value = "1s", value_parser = throttlebox::duration::parse)]
    pub ramp_up: Duration,
    /// goose: how long to hold the users after the ramp-up (wall time).
    #[arg(long, default_value = "10s", value_parser = throttlebox::duration::parse)]
    pub run_time: Duration,
    /// goose: pause between a user's requests.
    #[arg(long, default_value = "0s", value_parser = throttlebox::duration::parse)]
    pub think_time: Duration,
    /// `api-key` header value.
    #[arg(long, default_value = "throttlebox-load")]
    pub api_key: String,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Exit 3 when the run cannot be trusted (its validity failed, or interrupted).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub sharding: LiveShardArgs,
}

/// Run the command.
pub fn run(args: LoadArgs) -> anyhow::Result<Outcome> {
    if args.engine == Engine::Goose && args.fleet_metrics.is_some() {
        anyhow::bail!("--fleet-metrics applies to the open-loop engine");
    }
    if args.engine == Engine::Goose && args.max_connections.is_some() {
        anyhow::bail!(
            "--max-connections applies to the open-loop engine (goose holds one connection per user)"
        );
    }
    if args.engine == Engine::Goose
        && (args.sharding.shard.is_some() || args.sharding.start_at.is_some())
    {
        anyhow::bail!(
            "--shard and --start-at apply to the open-loop engine (goose users have no schedule to split)"
        );
    }
    args.sharding.check()?;
    let mut scenario = load(args.scenario.path("load"), &args.sets)?;
    // One "strategy": whatever the target does, under the label.
    scenario.strategies.truncate(1);
    if let Some(strategy) = scenario.strategies.first_mut() {
        strategy.config.name = args.label.clone();
    }
    let shard = args.sharding.shard(&scenario, args.time_scale)?;
    let signals = Signals::install()?;
    args.folder.folder().run_in(
        || format!("{}-load-{}", scenario.name(), timestamp()),
        SUMMARY_JSON,
        |dir| drive(&args, &scenario, shard.as_ref(), dir, &signals),
    )
}

fn drive(
    args: &LoadArgs,
    scenario: &Scenario,
    shard: Option<&LiveShard>,
    dir: &RunDir,
    signals: &Signals,
) -> anyhow::Result<Outcome> {
    let command = command_line();
    // goose catches SIGINT itself: its run says when it was interrupted.
    let mut goose_signal = None;
    let summary: Summary = match args.engine {
        Engine::Open => {
            let options = LiveRunOptions {
                time_scale: args.time_scale,
                target: Some(args.target.clone()),
                load: LoadOptions {
                    max_in_flight: args.max_in_flight,
                    max_connections: args.max_connections,
                    drain: args.drain,
                    progress: !args.quiet,
                    api_key: args.api_key.clone(),
                    fallback_backend: None,
                    shard: shard.map_or(Shard::WHOLE, LiveShard::shard),
                    ..LoadOptions::default()
                },
                start_at: args.sharding.start_at,
                fleet_metrics: args
                    .fleet_metrics
                    .clone()
                    .map(|url| (url, args.fleet_metrics_token.clone())),
                ..LiveRunOptions::default()
            };
            eprintln!(
                "open-loop load on {} ({}, time scale {}×{}{})…",
                args.target,
                scenario.name(),
                args.time_scale,
                shard.map_or(String::new(), |shard| format!(", shard {}", shard.shard())),
                args.sharding
                    .start_at
                    .map_or(String::new(), |at| format!(", starting at {at}"))
            );
            let stop = signals.watch();
            let live = run_live_as(shard, scenario, dir, &options, &command, stop)?;
            report(&live, dir);
            live.summary
        }
        Engine::Goose => {
            let options = GooseOptions {
                target: args.target.clone(),
                users: args.users,
                ramp_up: args.ramp_up,
                run_time: args.run_time,
                think_time: args.think_time,
                api_key: args.api_key.clone(),
                time_scale: args.time_scale,
            };
            eprintln!(
                "closed-model load (goose, {} users) on {} ({})…",
                args.users,
                args.target,
                scenario.name()
            );
            let stop = signals.watch();
            let outcome = block_on(run_goose(scenario, dir, &options, &command, stop))??;
            println!(
                "{}",
                throttlebox::report::head_to_head_table(&outcome.summary)
            );
            eprintln!(
                "goose: {} requests ({:.0} req/s closed-model); goose's own report: {}",
                outcome.requests,
                outcome.requests_per_second,
                outcome.goose_report.display()
            );
            eprintln!("results in {}", dir.path().display());
            if outcome.interrupted {
                goose_signal = Some(Signal::Interrupt);
            }
            outcome.summary
        }
    };
    let signal = signals.received().or(goose_signal);
    Ok(trust::run_outcome(signal, &summary, args.strict, false))
}
