//! A live shard's running totals ([`StrategyTotals`], what its strategy summary was computed
//! from, in its `shard.json`) added up over the shards: counts add, histograms merge bucket for
//! bucket (maxima take the larger). `merge` recomputes the whole run's summary from the sum
//! through the ordinary summariser, so every ratio, percentile, cost and SLO verdict is the one
//! a single process sending every request would have computed.

use crate::report::{BackendTotals, StrategyTotals};

/// Add `other` (the same strategy, another shard) to `sum`.
pub fn add_totals(sum: &mut StrategyTotals, other: &StrategyTotals) {
    sum.requests += other.requests;
    for (sum, value) in sum.outcomes.iter_mut().zip(&other.outcomes) {
        *sum += value;
    }
    sum.attempts += other.attempts;
    sum.client_retries += other.client_retries;
    sum.gateway_retries += other.gateway_retries;
    sum.tokens_in += other.tokens_in;
    sum.tokens_out += other.tokens_out;
    sum.spilled_successes += other.spilled_successes;
    sum.goodput += other.goodput;
    sum.e2e.merge(&other.e2e);
    sum.ttft.merge(&other.ttft);
    sum.ttft_from_send.merge(&other.ttft_from_send);
    sum.send_lag.merge(&other.send_lag);
    if sum.backends.len() < other.backends.len() {
        sum.backends
            .resize(other.backends.len(), BackendTotals::default());
    }
    for (sum, value) in sum.backends.iter_mut().zip(&other.backends) {
        add_backend(sum, value);
    }
    sum.unknown_backend_records += other.unknown_backend_records;
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
    use std::time::Duration;

    use super::*;
    use crate::metrics::LatencyHistogram;

    #[test]
    fn shards_totals_add_up_to_the_whole_runs() {
        let ms = Duration::from_millis;
        let totals = |requests: u64, throttled: u64, lag: &[u64]| {
            let mut send_lag = LatencyHistogram::new();
            lag.iter().for_each(|&value| send_lag.record(ms(value)));
            let backend = BackendTotals {
                attempts: requests,
                throttled,
                ..BackendTotals::default()
            };
            StrategyTotals {
                strategy: 0,
                requests,
                outcomes: [requests - throttled, throttled, 0, 0, 0, 0, 0],
                attempts: requests,
                client_retries: 0,
                gateway_retries: 0,
                tokens_in: 10 * requests,
                tokens_out: 0,
                spilled_successes: 0,
                goodput: requests - throttled,
                e2e: LatencyHistogram::new(),
                ttft: LatencyHistogram::new(),
                ttft_from_send: LatencyHistogram::new(),
                send_lag,
                backends: vec![backend],
                unknown_backend_records: 0,
            }
        };
        let mut sum = totals(10, 2, &[1, 3]);
        add_totals(&mut sum, &totals(12, 5, &[2, 40]));
        let whole = totals(22, 7, &[1, 3, 2, 40]);
        assert_eq!(sum.outcomes, whole.outcomes);
        assert_eq!(sum.tokens_in, 220);
        assert_eq!(sum.backends, whole.backends);
        assert_eq!(sum.send_lag.counts(), whole.send_lag.counts());
        assert_eq!(sum.send_lag.max(), Some(ms(40)));
    }
}
