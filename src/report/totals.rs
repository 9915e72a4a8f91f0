//! The running totals a strategy's summary is computed from: filled by the recorder
//! (`recorder.rs`) as records arrive, read by `summarize.rs` at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::metrics::latency::LatencyHistogram;
use crate::metrics::record::{ErrorClass, StrategyIndex};

/// Per-backend running totals.
#[derive(Debug, Clone, Default)]
pub(crate) struct BackendTotals {
    pub attempts: u64,
    pub ok: u64,
    pub throttled: u64,
    pub server_error: u64,
    pub other_error: u64,
    /// Successful requests whose final backend this was.
    pub successes: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    /// Tokens of successful requests this deployment did the work for (billing).
    pub served_in: u64,
    pub served_out: u64,
    pub utilization_sum: f64,
    pub utilization_samples: u64,
    pub utilization_max: f64,
    pub breaker_open_total: Duration,
    pub breaker_trips: u32,
    pub breaker_trip_reasons: BTreeMap<String, u32>,
    pub breaker_open_since: Option<Duration>,
}

/// Everything a strategy's summary is computed from.
#[derive(Debug)]
pub(crate) struct StrategyTotals {
    pub strategy: StrategyIndex,
    pub requests: u64,
    pub outcomes: [u64; ErrorClass::ALL.len()],
    pub attempts: u64,
    pub client_retries: u64,
    pub gateway_retries: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub spilled_successes: u64,
    pub goodput: u64,
    pub e2e: LatencyHistogram,
    pub ttft: LatencyHistogram,
    pub ttft_from_send: LatencyHistogram,
    pub send_lag: LatencyHistogram,
    pub backends: Vec<BackendTotals>,
    pub unknown_backend_records: u64,
}
