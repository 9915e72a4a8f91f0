//! [`TotalsRecord`]: a live shard's running totals (what its strategy summary was computed
//! from) as data in `shard.json`, and their sum over the shards: counts add, the send-lag and
//! TTFT-from-send histograms merge bucket for bucket, maxima take the larger. `merge`
//! recomputes the whole run's summary from the sum through the ordinary summariser, so every
//! ratio, percentile, cost and SLO verdict is the one a single process sending every request
//! would have computed. (End-to-end latency and TTFT come from the `.hlog` files instead, see
//! [`super::merge_live`].)

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::metrics::LatencyHistogram;
use crate::metrics::recorder::{BackendTotals, StrategyTotals};

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

/// One backend's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendRecord {
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
    /// Successful requests it served last.
    pub successes: u64,
    /// Tokens of those requests.
    pub tokens_in: u64,
    /// Tokens of those requests.
    pub tokens_out: u64,
    /// Tokens it was billed for.
    pub served_in: u64,
    /// Tokens it was billed for.
    pub served_out: u64,
    /// Sum of its utilization samples.
    pub utilization_sum: f64,
    /// Utilization samples.
    pub utilization_samples: u64,
    /// Largest utilization sample.
    pub utilization_max: f64,
    /// Breaker open time, ns.
    pub breaker_open_ns: u64,
    /// Breaker trips.
    pub breaker_trips: u32,
    /// Trips per reason.
    pub breaker_trip_reasons: BTreeMap<String, u32>,
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
    pub backends: Vec<BackendRecord>,
    /// Records naming no known backend.
    pub unknown_backend_records: u64,
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
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
            backends: totals
                .backends
                .iter()
                .map(|backend| BackendRecord {
                    attempts: backend.attempts,
                    ok: backend.ok,
                    throttled: backend.throttled,
                    server_error: backend.server_error,
                    other_error: backend.other_error,
                    successes: backend.successes,
                    tokens_in: backend.tokens_in,
                    tokens_out: backend.tokens_out,
                    served_in: backend.served_in,
                    served_out: backend.served_out,
                    utilization_sum: backend.utilization_sum,
                    utilization_samples: backend.utilization_samples,
                    utilization_max: backend.utilization_max,
                    breaker_open_ns: nanos(backend.breaker_open_total),
                    breaker_trips: backend.breaker_trips,
                    breaker_trip_reasons: backend.breaker_trip_reasons.clone(),
                })
                .collect(),
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
                .resize(other.backends.len(), BackendRecord::default());
        }
        for (sum, value) in self.backends.iter_mut().zip(&other.backends) {
            sum.add(value);
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
            backends: self
                .backends
                .iter()
                .map(|backend| BackendTotals {
                    attempts: backend.attempts,
                    ok: backend.ok,
                    throttled: backend.throttled,
                    server_error: backend.server_error,
                    other_error: backend.other_error,
                    successes: backend.successes,
                    tokens_in: backend.tokens_in,
                    tokens_out: backend.tokens_out,
                    served_in: backend.served_in,
                    served_out: backend.served_out,
                    utilization_sum: backend.utilization_sum,
                    utilization_samples: backend.utilization_samples,
                    utilization_max: backend.utilization_max,
                    breaker_open_total: Duration::from_nanos(backend.breaker_open_ns),
                    breaker_trips: backend.breaker_trips,
                    breaker_trip_reasons: backend.breaker_trip_reasons.clone(),
                    breaker_open_since: None,
                })
                .collect(),
            unknown_backend_records: self.unknown_backend_records,
        }
    }
}

impl BackendRecord {
    fn add(&mut self, other: &BackendRecord) {
        self.attempts += other.attempts;
        self.ok += other.ok;
        self.throttled += other.throttled;
        self.server_error += other.server_error;
        self.other_error += other.other_error;
        self.successes += other.successes;
        self.tokens_in += other.tokens_in;
        self.tokens_out += other.tokens_out;
        self.served_in += other.served_in;
        self.served_out += other.served_out;
        if other.utilization_samples > 0
            && (self.utilization_samples == 0 || other.utilization_max > self.utilization_max)
        {
            self.utilization_max = other.utilization_max;
        }
        self.utilization_sum += other.utilization_sum;
        self.utilization_samples += other.utilization_samples;
        self.breaker_open_ns = self.breaker_open_ns.saturating_add(other.breaker_open_ns);
        self.breaker_trips += other.breaker_trips;
        for (reason, count) in &other.breaker_trip_reasons {
            *self.breaker_trip_reasons.entry(reason.clone()).or_default() += count;
        }
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
