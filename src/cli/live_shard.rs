//! `--shard K/N` and `--start-at` of the live commands (`load`, `run --target`): which part
//! of the seeded schedule this process sends (the requests whose index is K mod N) and the
//! shared instant every shard starts it at, checked before anything runs (exit 2), and the
//! `shard.json` the shard writes beside its run files for `throttlebox merge`.

use throttlebox::live::head_to_head::{
    LiveRun, LiveRunOptions, LiveStrategyOutcome, run_live_with,
};
use throttlebox::live::setup::TARGET_BACKEND;
use throttlebox::report::{ReportError, RunDir, RunSetup};
use throttlebox::scenario::Scenario;
use throttlebox::shard::{
    LivePart, SHARD_JSON, START_PAST_TOLERANCE, Shard, ShardIdentity, StartAt, without_shard_flag,
};

/// The live commands' sharding flags.
#[derive(Debug, clap::Args)]
pub struct LiveShardArgs {
    /// Send shard K of N of the schedule (K from 0): the requests whose index is K mod N, each
    /// at its intended time; N processes (a Kubernetes Indexed Job) with one `--start-at`
    /// together send the whole schedule; `throttlebox merge` joins their folders.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// The instant the schedule starts (RFC 3339, UTC: `2026-12-07T10:00:00Z`), the same for
    /// every shard: the command waits for it. Required with `--shard K/N` when N > 1; refused
    /// when more than 1 s in the past.
    #[arg(long, value_name = "RFC3339")]
    pub start_at: Option<StartAt>,
}

/// What a sharded live run needs beside the flags.
pub struct LiveShard {
    identity: ShardIdentity,
    live: LivePart,
}

impl LiveShardArgs {
    /// Refuse what the flags cannot mean (before anything runs): several shards without a
    /// shared start, a start already past.
    pub fn check(&self) -> anyhow::Result<()> {
        if let Some(shard) = self.shard
            && shard.count > 1
            && self.start_at.is_none()
        {
            anyhow::bail!(
                "--shard {shard} needs --start-at: the {} shards must start the schedule at one shared instant (e.g. --start-at $(date -u -d +1min +%FT%TZ))",
                shard.count
            );
        }
        if let Some(start_at) = self.start_at {
            start_at
                .refuse_if_past(START_PAST_TOLERANCE)
                .map_err(anyhow::Error::msg)?;
        }
        Ok(())
    }

    /// The shard this run is (None: unsharded), fingerprinted from `scenario`.
    pub fn shard(&self, scenario: &Scenario, time_scale: f64) -> anyhow::Result<Option<LiveShard>> {
        let Some(shard) = self.shard else {
            return Ok(None);
        };
        let words: Vec<String> = std::env::args().collect();
        Ok(Some(LiveShard {
            identity: ShardIdentity::new(scenario, shard, without_shard_flag(&words))?,
            live: LivePart {
                start_at: self.start_at.map(|at| at.to_string()),
                time_scale,
                fallback_backend: None,
            },
        }))
    }
}

impl LiveShard {
    /// Which shard.
    pub fn shard(&self) -> Shard {
        self.identity.shard
    }

    /// `shard.json` from the run's setup and measured strategies (scenario order).
    pub fn files(
        &self,
        setup: &RunSetup,
        outcomes: &[LiveStrategyOutcome],
    ) -> Result<Vec<(&'static str, String)>, ReportError> {
        let live = LivePart {
            fallback_backend: setup
                .backends
                .iter()
                .position(|backend| backend.name == TARGET_BACKEND)
                .and_then(|index| u16::try_from(index).ok()),
            ..self.live.clone()
        };
        let finished: Vec<(usize, &LiveStrategyOutcome)> = outcomes.iter().enumerate().collect();
        let json = self
            .identity
            .live_json(setup, live, &finished)
            .map_err(|error| ReportError::Invalid {
                field: SHARD_JSON.to_string(),
                reason: error.to_string(),
            })?;
        Ok(vec![(SHARD_JSON, json)])
    }
}

/// Run `scenario` live into `dir`, writing `shard`'s `shard.json` beside the run's files when
/// this process is a shard.
pub fn run_live_as(
    shard: Option<&LiveShard>,
    scenario: &Scenario,
    dir: &RunDir,
    options: &LiveRunOptions,
    command: &str,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<LiveRun> {
    let files = |setup: &RunSetup, outcomes: &[LiveStrategyOutcome]| match shard {
        Some(shard) => shard.files(setup, outcomes),
        None => Ok(Vec::new()),
    };
    let run = run_live_with(scenario, Some(dir), options, command, stop, Some(&files));
    Ok(super::live_common::block_on(run)??)
}
