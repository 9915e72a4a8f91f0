//! Command-line parsing (clap derive) and dispatch to one module per command. The commands are
//! thin: they load the scenario, call the library, print, and choose the exit code: 0 ok, 1 a
//! gate or SLO failed, 2 a usage or input error, 3 a run that cannot be trusted (invalid or
//! interrupted) refused by `gate` or, with `--strict`, reported by `run`/`load`, 130/143 a
//! command stopped by SIGINT/SIGTERM (what finished is written).

mod calibrate;
mod compare;
mod conform;
mod deprecated;
mod gate;
mod gateway;
mod live_common;
mod live_shard;
mod load;
mod merge;
mod plan;
mod run;
mod run_folder;
mod shard_sweep;
mod signals;
mod sim;
mod sweep;
mod trust;
mod tune;
mod wall;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Replay Azure OpenAI balancing strategies and circuit breakers on the same workload, against
/// a faithful mock, in virtual time and over real sockets.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate every strategy of a scenario in virtual time and compare them head to head.
    Sim(sim::SimArgs),
    /// Run a scenario over a grid of settings (`--set key=v1,v2,…`) and mark the best cells.
    Sweep(sweep::SweepArgs),
    /// Search a strategy's settings for the best objective under constraints, robust over
    /// seeds; writes tune.md, tune.html, tune.json.
    Tune(tune::TuneArgs),
    /// Compare existing runs head to head (a row per run and strategy) and pool their
    /// latency histograms exactly.
    Compare(compare::CompareArgs),
    /// Join the folders of a sharded run (`sim`/`sweep --shard K/N`) into the unsharded
    /// run's folder, after checking that the shards line up.
    Merge(merge::MergeArgs),
    /// Judge a run against its SLOs and a committed baseline (exit 1 on a regression);
    /// writes gate.xml (JUnit) and gate.md into the run folder.
    Gate(gate::GateArgs),
    /// Size the fleet (PTUs, PAYG deployments) that meets SLO targets for a scenario's
    /// workload, per strategy, with the simulator; writes plan.json, plan.md, plan.html.
    Plan(plan::PlanArgs),
    /// Serve a scenario's (or a fleet file's) mock AOAI fleet over HTTP until Ctrl-C.
    Mock(MockArgs),
    /// Serve one strategy of a scenario as an AOAI-speaking gateway over the pool until Ctrl-C.
    Gateway(gateway::GatewayArgs),
    /// Drive a target (gateway or mock) with a scenario's workload: open-loop, or goose users.
    Load(load::LoadArgs),
    /// Live head-to-head: every strategy over real sockets (in-process fleet + gateway).
    Run(run::RunArgs),
    /// Build a scenario from your own logs (AOAI diagnostics, APIM gateway logs, any CSV) and
    /// report how well it fits; `--export-logs` writes a run's records as such logs.
    Calibrate(calibrate::CalibrateArgs),
    /// Run a real balancer (LiteLLM, openai-priority-loadbalancer, the OpenAI SDK) in front
    /// of the mock on the seeded schedule and compare it with the simulated preset.
    Conform(conform::ConformArgs),
}

/// `throttlebox mock`.
#[derive(Debug, clap::Args)]
struct MockArgs {
    /// A scenario file (its `[fleet]` table) or an `aoai-mock` fleet file; default: the
    /// embedded default scenario's fleet.
    file: Option<PathBuf>,
    /// Longest wait for open responses after Ctrl-C.
    #[arg(long, default_value = "10s", value_parser = throttlebox::duration::parse)]
    drain: std::time::Duration,
    /// Run the fleet's clock K times faster than the wall clock (quotas, latencies, faults).
    #[arg(long, default_value_t = 1.0, value_parser = live_common::parse_time_scale)]
    time_scale: f64,
    #[command(flatten)]
    limits: aoai_mock::http::flags::LimitFlags,
    #[command(flatten)]
    admin: aoai_mock::http::flags::AdminFlags,
}

/// How a command ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed.
    Ok,
    /// A gate or an SLO failed.
    Failed,
    /// The run cannot be trusted (invalid or interrupted): `gate` refuses it, `--strict`
    /// reports it.
    Untrusted,
    /// Stopped by a signal; what finished was written.
    Interrupted(signals::Signal),
}

/// Exit code of [`Outcome::Untrusted`].
pub const UNTRUSTED_EXIT: u8 = 3;

impl Outcome {
    /// 0, 1, 3, or 130/143.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
            Outcome::Untrusted => ExitCode::from(UNTRUSTED_EXIT),
            Outcome::Interrupted(signal) => ExitCode::from(signal.exit_code()),
        }
    }
}

/// Run the parsed command.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Sim(args) => sim::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Tune(args) => tune::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Gate(args) => gate::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Mock(args) => mock(args),
        Command::Gateway(args) => gateway::run(args),
        Command::Load(args) => load::run(args),
        Command::Run(args) => run::run(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Conform(args) => conform::run(args),
    }
}

fn mock(args: MockArgs) -> anyhow::Result<Outcome> {
    let fleet = match &args.file {
        None => throttlebox::scenario::Scenario::embedded_default(&[])?
            .fleet()
            .clone(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| anyhow::anyhow!("{}: cannot read: {error}", path.display()))?;
            let is_scenario = text
                .parse::<toml::Table>()
                .map(|table| table.contains_key("fleet"))
                .unwrap_or(false);
            if is_scenario {
                let scenario = throttlebox::scenario::Scenario::load(path, &[])?;
                deprecated::scenario_notes(&scenario);
                scenario.fleet().clone()
            } else {
                let (fleet, notes) = aoai_mock::config::FleetConfig::from_toml_str_noting(
                    &text,
                    &path.display().to_string(),
                )?;
                notes.iter().for_each(|text| deprecated::note(text));
                fleet
            }
        }
    };
    let options = aoai_mock::http::ServeOptions {
        time_scale: args.time_scale,
        limits: args.limits.limits(),
        admin: args.admin.options(),
    };
    aoai_mock::http::serve_until_ctrl_c(&fleet, args.drain, &options)?;
    Ok(Outcome::Ok)
}
