//! [`TotalsRecord`]: a live shard's running totals (what its strategy summary was computed
//! from) as data in `shard.json`, and their sum over the shards: counts add, the send-lag and
//! TTFT-from-send histograms merge bucket for bucket, maxima take the larger. `merge`
//! recomputes the whole run's summary from the sum through the ordinary summariser, so every
//! ratio, percentile, cost and SLO verdict is the one a single process sending every request
//! would have computed. (End-to-end latency and TTFT come from the `.hlog` files instead, see
//! [`super::merge_live`].)

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::metrics::LatencyHistogram;
pub use crate::metrics::recorder::BackendTotals;
use crate::metrics::recorder::StrategyTotals;

/// A latency histogram as data: its non-empty buckets (a value in each, µs, and its count)
/// and the exact maximum. Re-recording the buckets rebuilds the same counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistogramRecord {
    /// Exact largest value, ns.
    pub max_ns: u64,
    /// `(value µs, count)` per non-empty bucket, ascending.
    pub buckets: Vec<(u64, u64)>,
}

impl HistogramRecord {
    fn of(histogram: &LatencyHistogram) -> HistogramRecord {
        HistogramRecord {
            max_ns: histogram
                .max()
                .map_or(0, |max| u64::try_from(max.as_nanos()).unwrap_or(u64::MAX)),
            buckets: histogram
                .counts()
                .iter_recorded()
                .map(|bucket| (bucket.value_iterated_to(), bucket.count_at_value()))
                .collect(),
        }
    }

    fn histogram(&self) -> LatencyHistogram {
        let mut counts = crate::metrics::intervals::latency_histogram();
        for &(value, count) in &self.buckets {
            counts.saturating_record_n(value, count);
        }
        // Same bounds by construction.
        LatencyHistogram::from_parts(counts, Duration::from_nanos(self.max_ns)).unwrap_or_default()
    }
}

/// A strategy's running totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TotalsRecord {
    /// Logical requests recorded.
    pub requests: u64,
    /// Per error class (`ErrorClass::ALL` order).
    pub outcomes: Vec<u64>,
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
    /// TTFT from the actual send.
    pub ttft_from_send: HistogramRecord,
    /// Send lag.
    pub send_lag: HistogramRecord,
    /// Per backend, setup order.
    pub backends: Vec<BackendTotals>,
    /// Records naming no known backend.
    pub unknown_backend_records: u64,
}

impl TotalsRecord {
    /// `totals` as data.
    pub(crate) fn of(totals: &StrategyTotals) -> TotalsRecord {
        TotalsRecord {
            requests: totals.requests,
            outcomes: totals.outcomes.to_vec(),
            attempts: totals.attempts,
            client_retries: totals.client_retries,
            gateway_retries: totals.gateway_retries,
            tokens_in: totals.tokens_in,
            tokens_out: totals.tokens_out,
            spilled_successes: totals.spilled_successes,
            goodput: totals.goodput,
            ttft_from_send: HistogramRecord::of(&totals.ttft_from_send),
            send_lag: HistogramRecord::of(&totals.send_lag),
            backends: totals.backends.clone(),
            unknown_backend_records: totals.unknown_backend_records,
        }
    }

    /// Add `other` (another shard of the same strategy) to these totals.
    pub fn add(&mut self, other: &TotalsRecord) {
        self.requests += other.requests;
        if self.outcomes.len() < other.outcomes.len() {
            self.outcomes.resize(other.outcomes.len(), 0);
        }
        for (sum, value) in self.outcomes.iter_mut().zip(&other.outcomes) {
            *sum += value;
        }
        self.attempts += other.attempts;
        self.client_retries += other.client_retries;
        self.gateway_retries += other.gateway_retries;
        self.tokens_in += other.tokens_in;
        self.tokens_out += other.tokens_out;
        self.spilled_successes += other.spilled_successes;
        self.goodput += other.goodput;
        for (sum, value) in [
            (&mut self.ttft_from_send, &other.ttft_from_send),
            (&mut self.send_lag, &other.send_lag),
        ] {
            let mut merged = sum.histogram();
            merged.merge(&value.histogram());
            *sum = HistogramRecord::of(&merged);
        }
        if self.backends.len() < other.backends.len() {
            self.backends
                .resize(other.backends.len(), BackendTotals::default());
        }
        for (sum, value) in self.backends.iter_mut().zip(&other.backends) {
            add_backend(sum, value);
        }
        self.unknown_backend_records += other.unknown_backend_records;
    }

    /// The running totals again, with the end-to-end and TTFT histograms given (merged from
    /// the interval logs).
    pub(crate) fn to_totals(
        &self,
        strategy: crate::metrics::StrategyIndex,
        e2e: LatencyHistogram,
        ttft: LatencyHistogram,
    ) -> StrategyTotals {
        let mut outcomes = [0; crate::metrics::ErrorClass::ALL.len()];
        for (slot, value) in outcomes.iter_mut().zip(&self.outcomes) {
            *slot = *value;
        }
        StrategyTotals {
            strategy,
            requests: self.requests,
            outcomes,
            attempts: self.attempts,
            client_retries: self.client_retries,
            gateway_retries: self.gateway_retries,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            spilled_successes: self.spilled_successes,
            goodput: self.goodput,
            e2e,
            ttft,
            ttft_from_send: self.ttft_from_send.histogram(),
            send_lag: self.send_lag.histogram(),
            backends: self.backends.clone(),
            unknown_backend_records: self.unknown_backend_records,
        }
    }
}

/// Add `other`'s totals of a backend to `sum` (a breaker open at the end stays open).
fn add_backend(sum: &mut BackendTotals, other: &BackendTotals) {
    sum.attempts += other.attempts;
    sum.ok += other.ok;
    sum.throttled += other.throttled;
    sum.server_error += other.server_error;
    sum.other_error += other.other_error;
    sum.successes += other.successes;
    sum.tokens_in += other.tokens_in;
    sum.tokens_out += other.tokens_out;
    sum.served_in += other.served_in;
    sum.served_out += other.served_out;
    if other.utilization_samples > 0
        && (sum.utilization_samples == 0 || other.utilization_max > sum.utilization_max)
    {
        sum.utilization_max = other.utilization_max;
    }
    sum.utilization_sum += other.utilization_sum;
    sum.utilization_samples += other.utilization_samples;
    sum.breaker_open_total = sum
        .breaker_open_total
        .saturating_add(other.breaker_open_total);
    sum.breaker_open_since = sum.breaker_open_since.or(other.breaker_open_since);
    sum.breaker_trips += other.breaker_trips;
    for (reason, count) in &other.breaker_trip_reasons {
        *sum.breaker_trip_reasons.entry(reason.clone()).or_default() += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_record_and_add_exactly() {
        let ms = Duration::from_millis;
        let (mut a, mut b, mut both) = (
            LatencyHistogram::new(),
            LatencyHistogram::new(),
            LatencyHistogram::new(),
        );
        for (i, value) in [3, 17, 250, 1_999, 40_000, 7].into_iter().enumerate() {
            let target = if i % 2 == 0 { &mut a } else { &mut b };
            target.record(ms(value));
            both.record(ms(value));
        }
        let mut sum = TotalsRecord {
            send_lag: HistogramRecord::of(&a),
            ..TotalsRecord::default()
        };
        sum.add(&TotalsRecord {
            send_lag: HistogramRecord::of(&b),
            ..TotalsRecord::default()
        });
        assert_eq!(sum.send_lag, HistogramRecord::of(&both));
        let restored = sum.send_lag.histogram();
        assert_eq!(restored.count(), 6);
        assert_eq!(restored.max(), Some(ms(40_000)));
        for q in [0.5, 0.9, 0.99] {
            assert_eq!(restored.quantile(q), both.quantile(q));
        }
    }
}
