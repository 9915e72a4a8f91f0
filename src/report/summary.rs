//! The versioned run summary (`summary.json`): one [`StrategySummary`] per strategy.
//!
//! Field order is the declaration order (serde), every float is rounded by
//! [`super::format`], and every collection is a `Vec` in a fixed order, so the JSON is
//! byte-stable for the same records. Durations are seconds (`_s`), ratios are 0..1.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::format;
use super::labels::Mode;
use super::setup::RunSetup;
use super::slo::SloVerdict;
use super::validity::Validity;

/// Version of the `summary.json` schema; bump on any incompatible change. Version 2 added
/// `interrupted`, `strategies_planned` and every strategy's `validity`: a reader of version 1
/// would take an invalid or interrupted run for a good one, so it must refuse version 2.
pub const SCHEMA_VERSION: u32 = 2;

/// A whole run: metadata and one summary per strategy, in scenario order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// `sim` or `live`.
    pub mode: Mode,
    /// Scenario name.
    pub scenario: String,
    /// Scenario seed.
    pub seed: u64,
    /// Run length in seconds.
    pub duration_s: f64,
    /// Version of the throttlebox that wrote it.
    pub throttlebox_version: String,
    /// The command line that produced the run, when the caller gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Wall-clock start of the run, only when the caller passes it (kept out by default so
    /// outputs stay byte-identical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The run was stopped by a signal (SIGINT, SIGTERM) before it finished: `strategies`
    /// holds the strategies that finished (and, live, the one that was running, marked
    /// invalid).
    pub interrupted: bool,
    /// Strategies the run was to cover (more than `strategies` after an interruption).
    pub strategies_planned: usize,
    /// One entry per strategy.
    pub strategies: Vec<StrategySummary>,
}

impl Summary {
    /// A summary of `setup`'s run with the given strategy summaries.
    pub fn new(setup: &RunSetup, strategies: Vec<StrategySummary>) -> Summary {
        Summary {
            schema_version: SCHEMA_VERSION,
            mode: setup.mode,
            scenario: setup.scenario.clone(),
            seed: setup.seed,
            duration_s: format::seconds(setup.duration),
            throttlebox_version: env!("CARGO_PKG_VERSION").to_string(),
            command: None,
            started_at: None,
            interrupted: false,
            strategies_planned: setup.strategies.len(),
            strategies,
        }
    }

    /// Mark the run as stopped by a signal before it finished.
    pub fn mark_interrupted(mut self) -> Summary {
        self.interrupted = true;
        self
    }

    /// Why the run cannot be trusted, one line each (empty: it can): the interruption and
    /// every invalid strategy's reasons, prefixed with its name.
    pub fn distrust(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.interrupted {
            lines.push(format!(
                "the run was interrupted: {} of {} strategies written",
                self.strategies.len(),
                self.strategies_planned
            ));
        }
        for strategy in &self.strategies {
            for reason in &strategy.validity.reasons {
                lines.push(format!("{}: {reason}", strategy.name));
            }
        }
        lines
    }

    /// Record the command line that produced the run.
    pub fn with_command(mut self, command: impl Into<String>) -> Summary {
        self.command = Some(command.into());
        self
    }

    /// Record the run's wall-clock start time, as the caller formats it.
    pub fn with_started_at(mut self, started_at: impl Into<String>) -> Summary {
        self.started_at = Some(started_at.into());
        self
    }
}

/// Counts of logical requests by final outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeTotals {
    /// Succeeded.
    pub ok: u64,
    /// Client saw a 429.
    pub throttled: u64,
    /// Client saw a 5xx.
    pub server_error: u64,
    /// Client saw another 4xx.
    pub client_error: u64,
    /// Connection failed.
    pub connect_error: u64,
    /// Client timed out.
    pub timeout: u64,
    /// The balancer had no backend to try.
    pub exhausted: u64,
}

/// Percentiles of one latency (seconds, ms precision); `None` without samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_s: Option<f64>,
    /// 95th percentile.
    pub p95_s: Option<f64>,
    /// 99th percentile.
    pub p99_s: Option<f64>,
    /// Exact maximum.
    pub max_s: Option<f64>,
}

/// One backend under one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendSummary {
    /// Deployment name.
    pub name: String,
    /// Its PTUs (0 = PAYG).
    pub provisioned_ptus: u32,
    /// Attempts sent to it.
    pub attempts: u64,
    /// Its share of all attempts.
    pub attempt_share: f64,
    /// Successful requests it answered (as final backend).
    pub successes: u64,
    /// Its share of all successful requests.
    pub success_share: f64,
    /// Attempts it answered 2xx.
    pub ok: u64,
    /// Attempts it answered 429.
    pub throttled: u64,
    /// Attempts it answered 5xx.
    pub server_error: u64,
    /// Attempts that failed otherwise (4xx, connection, timeout).
    pub other_error: u64,
    /// Prompt tokens of the successful requests it answered.
    pub tokens_in: u64,
    /// Completion tokens of the successful requests it answered.
    pub tokens_out: u64,
    /// Mean of its PTU utilization samples (%), if sampled.
    pub ptu_utilization_mean: Option<f64>,
    /// Largest PTU utilization sample (%), if sampled.
    pub ptu_utilization_max: Option<f64>,
    /// Seconds its breaker was open.
    pub breaker_open_s: f64,
    /// Closed → open transitions.
    pub breaker_trips: u32,
    /// Trips by the reason the breaker gave, sorted by reason.
    pub breaker_trip_reasons: BTreeMap<String, u32>,
    /// What it cost under this strategy (PTU: whole run; PAYG: tokens it served).
    pub cost: f64,
}

/// Cost of one strategy's run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    /// Provisioned (PTU) part.
    pub ptu: f64,
    /// Pay-as-you-go part.
    pub payg: f64,
    /// Total.
    pub total: f64,
}

/// Requests that met every per-request SLO (success, TTFT ≤ `p99_ttft`, e2e ≤ `p99_e2e`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Goodput {
    /// How many.
    pub requests: u64,
    /// Share of all requests.
    pub ratio: f64,
    /// Per second of run.
    pub per_s: f64,
}

/// One strategy's run, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategySummary {
    /// Strategy name.
    pub name: String,
    /// Logical requests recorded.
    pub requests: u64,
    /// Requests by final outcome.
    pub outcomes: OutcomeTotals,
    /// `ok / requests`.
    pub success_ratio: f64,
    /// `throttled / requests` (429s the client saw).
    pub client_429_ratio: f64,
    /// `server_error / requests`.
    pub server_error_ratio: f64,
    /// Every other failure over requests (4xx, connect, timeout, exhausted).
    pub other_error_ratio: f64,
    /// Backend attempts (from the request records).
    pub attempts: u64,
    /// `attempts / requests`.
    pub attempts_per_request: f64,
    /// `(client + gateway retries) / requests`.
    pub retries_per_request: f64,
    /// Client retries in total.
    pub client_retries: u64,
    /// Gateway retries in total.
    pub gateway_retries: u64,
    /// Successful requests per second of run.
    pub throughput_rps: f64,
    /// End-to-end latency of successful requests, from the intended start.
    pub e2e: LatencySummary,
    /// Time to first token of successful streams, from the intended start.
    pub ttft: LatencySummary,
    /// Time to first token of successful streams, from the actual send.
    pub ttft_from_send: LatencySummary,
    /// Generator lag (actual − intended send), all requests.
    pub send_lag: LatencySummary,
    /// Prompt tokens of successful requests.
    pub tokens_in: u64,
    /// Completion tokens of successful requests.
    pub tokens_out: u64,
    /// Share of successful requests served through a spillover.
    pub spillover_share: f64,
    /// Mean over sampled PTU backends of their mean utilization (%).
    pub ptu_utilization_mean: Option<f64>,
    /// Largest utilization sample of any backend (%).
    pub ptu_utilization_max: Option<f64>,
    /// Per backend, in scenario order.
    pub backends: Vec<BackendSummary>,
    /// What the run cost.
    pub cost: CostSummary,
    /// Requests meeting all per-request SLOs.
    pub goodput: Goodput,
    /// One verdict per configured SLO rule.
    pub slo: Vec<SloVerdict>,
    /// Whether every verdict passed (true when no SLO is configured).
    pub slo_pass: bool,
    /// Records that named a backend index the run does not have (not attributed).
    pub unknown_backend_records: u64,
    /// Whether the run of this strategy can be trusted, and the figures that say so.
    pub validity: Validity,
}
