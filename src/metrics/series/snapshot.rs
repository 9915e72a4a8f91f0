//! [`SeriesSnapshot`]: a [`SecondSeries`] as plain, serialisable data that restores to a
//! series answering every row exactly as the original did (utilization sums keep every bit).
//! A shard of a sharded run ships its strategies' snapshots to `throttlebox merge`, which
//! restores them and writes `timeseries.csv` and the charts through the ordinary writer, so
//! the merged files are the unsharded run's byte for byte.

use serde::{Deserialize, Serialize};

use super::{BackendSecond, MAX_SECONDS, OutcomeCounts, RequestSecond, SecondSeries};
use crate::metrics::second_latency::SecondLatency;

/// One backend-second: `[sent, ok, throttled, server_error, other_error]`, breaker open time
/// (µs) and state at the end of the second, PTU utilization sum, sample count and maximum
/// (the floats as decimal strings that parse back to the same bits).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BackendSecondSnapshot(
    pub [u32; 5],
    pub u32,
    pub bool,
    #[serde(with = "exact_f64")] pub f64,
    pub u32,
    #[serde(with = "exact_f64")] pub f64,
);

/// An `f64` as the shortest decimal string that parses back to the same value (Rust's
/// `Display` and `str::parse` round-trip exactly; JSON numbers need not).
mod exact_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A [`SecondSeries`] as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesSnapshot {
    /// Backends per second.
    pub backends: usize,
    /// Per second: `[sent, ok, throttled, server_error, other_error]` of logical requests.
    pub requests: Vec<[u32; 5]>,
    /// Per second: e2e p50 and p99 in µs of the requests that ended in it (null: none).
    pub latency_us: Vec<Option<[u32; 2]>>,
    /// Per second, per backend (second-major).
    pub backend_seconds: Vec<BackendSecondSnapshot>,
    /// Events left out beyond the horizon.
    pub beyond_horizon: u64,
    /// Latency samples left out of per-second percentiles (late).
    pub late_latency_samples: u64,
}

fn counts([ok, throttled, server_error, other_error]: [u32; 4]) -> OutcomeCounts {
    OutcomeCounts {
        ok,
        throttled,
        server_error,
        other_error,
    }
}

impl SecondSeries {
    /// This series as data.
    pub fn snapshot(&self) -> SeriesSnapshot {
        let outcomes = |sent: u32, ended: &OutcomeCounts| {
            [
                sent,
                ended.ok,
                ended.throttled,
                ended.server_error,
                ended.other_error,
            ]
        };
        SeriesSnapshot {
            backends: self.backends,
            requests: self
                .requests
                .iter()
                .map(|second| outcomes(second.sent, &second.ended))
                .collect(),
            latency_us: self.latency.to_micros(self.requests.len()),
            backend_seconds: self
                .backend_seconds
                .iter()
                .map(|second| {
                    BackendSecondSnapshot(
                        outcomes(second.sent, &second.ended),
                        second.breaker_open_micros,
                        second.breaker_open_at_end,
                        second.utilization_sum,
                        second.utilization_samples,
                        second.utilization_max,
                    )
                })
                .collect(),
            beyond_horizon: self.beyond_horizon,
            late_latency_samples: self.latency.late_samples(),
        }
    }

    /// The series `snapshot` describes, or why it cannot be one (lengths that disagree, a
    /// series longer than [`MAX_SECONDS`]).
    pub fn from_snapshot(snapshot: &SeriesSnapshot) -> Result<SecondSeries, String> {
        let seconds = snapshot.requests.len();
        if seconds > MAX_SECONDS {
            return Err(format!("{seconds} seconds; at most {MAX_SECONDS} are kept"));
        }
        if snapshot.latency_us.len() != seconds {
            return Err(format!(
                "{} latency seconds for {seconds} request seconds",
                snapshot.latency_us.len()
            ));
        }
        if Some(snapshot.backend_seconds.len()) != seconds.checked_mul(snapshot.backends) {
            return Err(format!(
                "{} backend seconds for {seconds} seconds × {} backends",
                snapshot.backend_seconds.len(),
                snapshot.backends
            ));
        }
        Ok(SecondSeries {
            backends: snapshot.backends,
            requests: snapshot
                .requests
                .iter()
                .map(
                    |&[sent, ok, throttled, server_error, other_error]| RequestSecond {
                        sent,
                        ended: counts([ok, throttled, server_error, other_error]),
                    },
                )
                .collect(),
            backend_seconds: snapshot
                .backend_seconds
                .iter()
                .map(
                    |&BackendSecondSnapshot(
                        [sent, ok, throttled, server_error, other_error],
                        breaker_open_micros,
                        breaker_open_at_end,
                        utilization_sum,
                        utilization_samples,
                        utilization_max,
                    )| BackendSecond {
                        sent,
                        ended: counts([ok, throttled, server_error, other_error]),
                        breaker_open_micros,
                        breaker_open_at_end,
                        utilization_sum,
                        utilization_samples,
                        utilization_max,
                    },
                )
                .collect(),
            latency: SecondLatency::from_micros(
                &snapshot.latency_us,
                snapshot.late_latency_samples,
            ),
            beyond_horizon: snapshot.beyond_horizon,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::ErrorClass;

    #[test]
    fn a_restored_series_answers_every_row_as_the_original_through_json() {
        let ms = Duration::from_millis;
        let mut series = SecondSeries::new(2);
        for (start, end, class) in [
            (10, 900, ErrorClass::None),
            (20, 1_500, ErrorClass::Throttled),
            (1_100, 2_300, ErrorClass::None),
            (1_200, 70_000, ErrorClass::ServerError),
        ] {
            series.add_request(ms(start), ms(end), class, ms(end - start));
            series.add_attempt(1, ms(start), ms(end), class);
        }
        series.add_utilization(ms(300), 0, 87.123_456_789_012_34);
        series.add_utilization(ms(700), 0, 0.1 + 0.2);
        series.add_breaker_open(1, ms(500), ms(2_250), false);
        series.add_breaker_open(0, ms(69_500), ms(71_000), true);
        let text = serde_json::to_string(&series.snapshot()).expect("json");
        let snapshot: SeriesSnapshot = serde_json::from_str(&text).expect("parse");
        let restored = SecondSeries::from_snapshot(&snapshot).expect("restore");
        assert_eq!(restored.seconds(), series.seconds());
        assert_eq!(
            restored.request_rows().collect::<Vec<_>>(),
            series.request_rows().collect::<Vec<_>>()
        );
        for second in 0..series.seconds() {
            assert_eq!(
                restored.backend_rows(second).collect::<Vec<_>>(),
                series.backend_rows(second).collect::<Vec<_>>()
            );
        }
        assert_eq!(restored.snapshot(), series.snapshot());
    }

    #[test]
    fn inconsistent_snapshots_are_refused() {
        let mut snapshot = SecondSeries::new(3).snapshot();
        snapshot.requests.push([1, 1, 0, 0, 0]);
        assert!(SecondSeries::from_snapshot(&snapshot).is_err());
        snapshot.latency_us.push(None);
        assert!(SecondSeries::from_snapshot(&snapshot).is_err());
        snapshot
            .backend_seconds
            .extend([BackendSecondSnapshot([0; 5], 0, false, 0.0, 0, 0.0); 3]);
        assert!(SecondSeries::from_snapshot(&snapshot).is_ok());
    }
}
