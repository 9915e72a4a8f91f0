//! `shard.json`: what a shard adds to its run folder so `throttlebox merge` can check that the
//! shards belong together and rebuild the unsharded run exactly. It names the shard (K of N),
//! how the run was split and which items this shard holds, the fingerprints of the scenario
//! and schedule, the run setup the reports were written with, and per strategy what the
//! ordinary files keep only rounded (the per-second series, the exact largest latencies).
//! Written before `summary.json`, like every file of a run folder.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::digest::ScheduleDigest;
use super::error::ShardError;
use crate::live::load::EngineStats;
use crate::metrics::series::SeriesSnapshot;
use crate::report::StrategyTotals;
use crate::report::{BackendInfo, CostConfig, Mode, RunSetup, SloConfig};
use crate::split::Shard;
use crate::sweep::SweptStrategy;
use crate::tune::{Fidelity, JudgeRule, ShardSearch};

/// The file name.
pub const SHARD_JSON: &str = "shard.json";
/// Version of the `shard.json` format this build writes and reads (2: a sweep shard keeps
/// per-strategy results, with the strategies simulated once).
pub const SHARD_FORMAT: u32 = 2;

/// How a run was split between shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// `sim --shard`: whole strategies (strategy `i` to shard `i mod N`); each shard
    /// simulates its strategies against the whole workload.
    Strategies,
    /// `sweep --shard`: whole grid cells (cell `i` to shard `i mod N`).
    Cells,
    /// `load`/`run --target … --shard`: the requests of the schedule (request `i` to shard
    /// `i mod N`), every shard driving the same target from a shared start.
    Requests,
    /// `tune --shard`: the starting points of the search (point `i` of the unsharded initial
    /// design to shard `i mod N`), each shard searching on its own from its points.
    Starts,
}

impl Split {
    /// `strategies`, `cells`, `requests` or `starts`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Strategies => "strategies",
            Split::Cells => "cells",
            Split::Requests => "requests",
            Split::Starts => "starts",
        }
    }
}

/// [`RunSetup`] as data (what the reports were written with).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupRecord {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// `sim` or `live`.
    pub mode: Mode,
    /// Run length, nanoseconds.
    pub duration_ns: u64,
    /// Strategy names, scenario order.
    pub strategies: Vec<String>,
    /// Backends: name and PTUs.
    pub backends: Vec<(String, u32)>,
    /// App names.
    pub apps: Vec<String>,
    /// Prices.
    pub costs: CostConfig,
    /// SLOs.
    pub slo: SloConfig,
}

impl From<&RunSetup> for SetupRecord {
    fn from(setup: &RunSetup) -> Self {
        SetupRecord {
            scenario: setup.scenario.clone(),
            seed: setup.seed,
            mode: setup.mode,
            duration_ns: u64::try_from(setup.duration.as_nanos()).unwrap_or(u64::MAX),
            strategies: setup.strategies.clone(),
            backends: setup
                .backends
                .iter()
                .map(|backend| (backend.name.clone(), backend.provisioned_ptus))
                .collect(),
            apps: setup.apps.clone(),
            costs: setup.costs.clone(),
            slo: setup.slo.clone(),
        }
    }
}

impl SetupRecord {
    /// The run setup again.
    pub fn to_setup(&self) -> RunSetup {
        RunSetup {
            scenario: self.scenario.clone(),
            seed: self.seed,
            mode: self.mode,
            duration: Duration::from_nanos(self.duration_ns),
            strategies: self.strategies.clone(),
            backends: self
                .backends
                .iter()
                .map(|(name, ptus)| BackendInfo {
                    name: name.clone(),
                    provisioned_ptus: *ptus,
                })
                .collect(),
            apps: self.apps.clone(),
            costs: self.costs.clone(),
            slo: self.slo.clone(),
        }
    }
}

/// What a shard keeps of one strategy besides the ordinary files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyPart {
    /// The strategy's scenario index.
    pub index: usize,
    /// Exact largest end-to-end latency, ns (the interval log keeps bucket tops only).
    pub e2e_max_ns: u64,
    /// Exact largest TTFT, ns.
    pub ttft_max_ns: u64,
    /// Interval-log samples that arrived late (see `metrics::intervals`).
    pub late_interval_samples: u64,
    /// The per-second series, exact.
    pub series: SeriesSnapshot,
    /// A live shard: the running totals its summary was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<StrategyTotals>,
    /// A live shard: what its load engine did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineStats>,
}

/// What a live shard (a `requests` split) adds: how its clock was set and the setting its
/// summary was trimmed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivePart {
    /// The shared start instant (`--start-at`, RFC 3339 UTC, ms), or None (a lone shard).
    pub start_at: Option<String>,
    /// Scenario time per wall time (`--time-scale`).
    pub time_scale: f64,
    /// The backend row of an opaque target (`--target`), which the summary drops when unused.
    pub fallback_backend: Option<u16>,
}

/// A sweep axis as given (`--set key=v1,v2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxisRecord {
    /// The key.
    pub key: String,
    /// Its values, as written.
    pub values: Vec<String>,
}

/// What a sweep shard keeps: what its outputs were written from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPart {
    /// The axes (more than one value each), in order.
    pub axes: Vec<AxisRecord>,
    /// The single-valued `--set`s every cell shares, as given.
    pub fixed: Vec<String>,
    /// Cells in the whole grid.
    pub total_cells: usize,
    /// `--constraint` as given (the merged files mark the best cells by it).
    pub constraint: String,
    /// The scenario's name (the title of `sweep.html`).
    pub scenario: String,
    /// Cells of this shard whose every varying strategy finished.
    pub finished_cells: usize,
    /// Simulations this shard ran to the end.
    pub simulations: usize,
    /// Requests they simulated.
    pub simulated_requests: u64,
    /// The strategies swept (after `--strategy`), whether an axis reaches each, and this
    /// shard's results: its finished cells (grid positions), plus on shard
    /// [`crate::sweep::ONCE_SHARD`] the strategies simulated once.
    pub strategies: Vec<SweptStrategy>,
}

/// What every shard of one sharded tune must share: the search's inputs as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneSetup {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as given (None: the embedded default); the merge reads it again for
    /// the config fragments to paste.
    pub scenario_path: Option<String>,
    /// `--set`s as given.
    pub fixed: Vec<String>,
    /// `--strategy`.
    pub strategy: String,
    /// `--param`s as given.
    pub params: Vec<String>,
    /// `--objective` as given.
    pub objective: String,
    /// `--constraint` as given.
    pub constraint: String,
    /// `--judge`.
    pub judge: JudgeRule,
    /// The seeds of a full evaluation.
    pub seeds: Vec<u64>,
    /// The full run length, nanoseconds.
    pub run_length_ns: u64,
    /// The whole budget in simulated requests (each shard spends at most `budget / N`).
    pub budget: u64,
    /// `--profile-points`.
    pub profile_points: usize,
    /// Points of the whole initial design (the items of the split).
    pub design_points: usize,
    /// Requests of one full-length run at the first seed.
    pub full_run_requests: u64,
    /// The fidelities of successive halving.
    pub rungs: Vec<Fidelity>,
}

/// What a tune shard keeps: the inputs every shard shares and its own search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunePart {
    /// What every shard shares.
    pub setup: TuneSetup,
    /// This shard's full-fidelity evaluations and neighbourhood checks.
    pub search: ShardSearch,
}

/// `shard.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// [`SHARD_FORMAT`].
    pub shard_format: u32,
    /// Which shard.
    pub shard: Shard,
    /// How the run was split.
    pub split: Split,
    /// The items (strategy or cell positions) this shard was given, ascending.
    pub items: Vec<usize>,
    /// The throttlebox that wrote it.
    pub throttlebox_version: String,
    /// The command as typed, without its `--shard` (the unsharded run's command).
    pub unsharded_command: String,
    /// Fingerprint of the resolved scenario ([`super::digest::scenario_digest`]).
    pub scenario_digest: String,
    /// Fingerprint of the seeded schedule.
    pub schedule: ScheduleDigest,
    /// The run setup (None for a sweep, whose cells each have their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<SetupRecord>,
    /// Per strategy of a `strategies` split.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strategies: Vec<StrategyPart>,
    /// The sweep of a `cells` split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepPart>,
    /// The live run of a `requests` split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LivePart>,
    /// The tune of a `starts` split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<TunePart>,
}

impl ShardManifest {
    /// The JSON text (compact — the per-second series make a pretty one several times
    /// larger — with a trailing newline).
    pub fn to_json(&self) -> Result<String, ShardError> {
        let mut text = serde_json::to_string(self).map_err(|error| ShardError::Json {
            path: SHARD_JSON.into(),
            error,
        })?;
        text.push('\n');
        Ok(text)
    }

    /// Read `<folder>/shard.json`.
    pub fn read(folder: &Path) -> Result<ShardManifest, ShardError> {
        let path = folder.join(SHARD_JSON);
        let text = std::fs::read_to_string(&path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound && folder.join("plan.json").is_file() {
                ShardError::PlanShard {
                    folder: folder.to_path_buf(),
                }
            } else if error.kind() == std::io::ErrorKind::NotFound {
                ShardError::NotAShard {
                    folder: folder.to_path_buf(),
                }
            } else {
                ShardError::Io {
                    path: path.clone(),
                    error,
                }
            }
        })?;
        let json = |error| ShardError::Json {
            path: path.clone(),
            error,
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(json)?;
        // The format first: another format's fields would fail to parse less clearly.
        let format = &value["shard_format"];
        if format.as_u64() != Some(u64::from(SHARD_FORMAT)) {
            return Err(ShardError::Mismatch {
                folder: folder.to_path_buf(),
                field: "shard_format".to_string(),
                found: format.to_string(),
                expected: format!("{SHARD_FORMAT} (what this throttlebox reads)"),
            });
        }
        serde_json::from_value(value).map_err(json)
    }
}
