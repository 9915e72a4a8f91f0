//! The per-second series of a merged live run: the shards' series added second by second
//! (requests sent and ended by outcome, each backend's attempts, breaker time, utilization
//! samples) — every count exact — with the per-second latency percentiles of the merged
//! requests, which cannot be added and are recomputed from the merged rows instead.

use crate::metrics::second_latency::SecondLatency;
use crate::metrics::series::{BackendSecondSnapshot, SeriesSnapshot};

fn add5(sum: &mut [u32; 5], value: &[u32; 5]) {
    for (sum, value) in sum.iter_mut().zip(value) {
        *sum = sum.saturating_add(*value);
    }
}

fn add_backend(sum: &mut BackendSecondSnapshot, value: &BackendSecondSnapshot) {
    add5(&mut sum.0, &value.0);
    // Breakers belong to the gateway, which the shards share: the longest any saw.
    sum.1 = sum.1.max(value.1);
    sum.2 |= value.2;
    if value.4 > 0 && (sum.4 == 0 || value.5 > sum.5) {
        sum.5 = value.5;
    }
    sum.3 += value.3;
    sum.4 += value.4;
}

/// The sum of `parts` (all of the same backends), its latency from `latency`.
pub fn sum_series(parts: &[&SeriesSnapshot], latency: &SecondLatency) -> SeriesSnapshot {
    let backends = parts.first().map_or(0, |part| part.backends);
    let seconds = parts
        .iter()
        .map(|part| part.requests.len())
        .max()
        .unwrap_or(0);
    let empty_backend = BackendSecondSnapshot([0; 5], 0, false, 0.0, 0, 0.0);
    let mut sum = SeriesSnapshot {
        backends,
        requests: vec![[0; 5]; seconds],
        latency_us: latency.to_micros(seconds),
        backend_seconds: vec![empty_backend; seconds * backends],
        beyond_horizon: 0,
        late_latency_samples: latency.late_samples(),
    };
    for part in parts {
        for (total, second) in sum.requests.iter_mut().zip(&part.requests) {
            add5(total, second);
        }
        for (total, second) in sum.backend_seconds.iter_mut().zip(&part.backend_seconds) {
            add_backend(total, second);
        }
        sum.beyond_horizon += part.beyond_horizon;
    }
    sum
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::{ErrorClass, SecondSeries};

    #[test]
    fn counts_add_second_by_second_and_latency_comes_from_the_merged_samples() {
        let ms = Duration::from_millis;
        let (mut a, mut b) = (SecondSeries::new(1), SecondSeries::new(1));
        a.add_request(ms(100), ms(900), ErrorClass::None, ms(800));
        a.add_attempt(0, ms(100), ms(900), ErrorClass::None);
        b.add_request(ms(200), ms(2_500), ErrorClass::Throttled, ms(2_300));
        b.add_attempt(0, ms(200), ms(2_500), ErrorClass::Throttled);
        let mut latency = SecondLatency::default();
        latency.record(0, ms(800));
        latency.record(2, ms(2_300));
        let sum = sum_series(&[&a.snapshot(), &b.snapshot()], &latency);
        assert_eq!(sum.requests[0], [2, 1, 0, 0, 0]);
        assert_eq!(sum.requests[2], [0, 0, 1, 0, 0]);
        assert_eq!(sum.backend_seconds[0].0, [2, 1, 0, 0, 0]);
        assert_eq!(sum.latency_us[0], Some([800_000, 800_000]));
        assert_eq!(sum.latency_us[1], None);
        assert!(SecondSeries::from_snapshot(&sum).is_ok());
    }
}
