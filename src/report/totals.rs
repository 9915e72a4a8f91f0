//! The running totals a strategy's summary is computed from: filled by the recorder
//! (`recorder.rs`) as records arrive, read by `summarize.rs` at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::metrics::latency::LatencyHistogram;
use crate::metrics::record::{ErrorClass, StrategyIndex};

/// Per-backend running totals (a live shard ships them in its `shard.json`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BackendTotals {
    /// Attempts sent to it.
    pub attempts: u64,
    /// … answered 2xx.
    pub ok: u64,
    /// … answered 429.
    pub throttled: u64,
    /// … answered 5xx.
    pub server_error: u64,
    /// … failed otherwise.
    pub other_error: u64,
    /// Successful requests whose final backend this was.
    pub successes: u64,
    /// Prompt tokens of those requests.
    pub tokens_in: u64,
    /// Completion tokens of those requests.
    pub tokens_out: u64,
    /// Tokens of successful requests this deployment did the work for (billing).
    pub served_in: u64,
    /// Completion tokens billed likewise.
    pub served_out: u64,
    /// Sum of its PTU utilization samples (%).
    pub utilization_sum: f64,
    /// Utilization samples taken.
    pub utilization_samples: u64,
    /// Largest utilization sample (%).
    pub utilization_max: f64,
    /// Time its breaker was open.
    pub breaker_open_total: Duration,
    /// Breaker trips.
    pub breaker_trips: u32,
    /// Trips per reason.
    pub breaker_trip_reasons: BTreeMap<String, u32>,
    /// Since when its breaker is open (None: closed).
    pub breaker_open_since: Option<Duration>,
}

/// Everything a strategy's summary is computed from (a live shard ships them in its
/// `shard.json`, so `merge` can add them up and summarise the whole run).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StrategyTotals {
    /// The strategy's index.
    pub strategy: StrategyIndex,
    /// Logical requests recorded.
    pub requests: u64,
    /// Requests per final outcome ([`ErrorClass::ALL`] order).
    pub outcomes: [u64; ErrorClass::ALL.len()],
    /// Attempts.
    pub attempts: u64,
    /// Client retries.
    pub client_retries: u64,
    /// Gateway retries.
    pub gateway_retries: u64,
    /// Prompt tokens of successes.
    pub tokens_in: u64,
    /// Completion tokens of successes.
    pub tokens_out: u64,
    /// Successes served by a spill-over backend.
    pub spilled_successes: u64,
    /// Successes within the goodput SLOs.
    pub goodput: u64,
    /// End-to-end latency of successes.
    pub e2e: LatencyHistogram,
    /// Time to first token of successful streams.
    pub ttft: LatencyHistogram,
    /// TTFT from the actual send.
    pub ttft_from_send: LatencyHistogram,
    /// Send lag.
    pub send_lag: LatencyHistogram,
    /// Per backend, setup order.
    pub backends: Vec<BackendTotals>,
    /// Records naming no known backend.
    pub unknown_backend_records: u64,
}
