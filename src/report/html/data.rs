//! Pure: a strategy's per-second series → plot-ready points. Long runs are cut into buckets
//! of whole seconds so a chart never has more than [`MAX_POINTS`] points per line; a bucket's
//! value is the mean over its seconds (the chart says how wide a bucket is).

use crate::metrics::{LatencyHistogram, SecondSeries};

/// Most points drawn per line.
pub const MAX_POINTS: u64 = 150;

/// One line or area: `(bucket start in s, value)`.
pub type Points = Vec<(f64, f64)>;

/// How many seconds one plotted point covers for a run of `seconds` seconds.
pub fn bucket_seconds(seconds: u64) -> u64 {
    seconds.div_ceil(MAX_POINTS).max(1)
}

/// Mean per bucket of `value(second)` over `0..seconds` (seconds where it is `None` are
/// left out of the mean; a bucket without any value is left out of the line).
fn bucketed(seconds: u64, bucket: u64, value: impl Fn(u64) -> Option<f64>) -> Points {
    let mut points = Vec::new();
    let mut start = 0;
    while start < seconds {
        let end = (start + bucket).min(seconds);
        let values: Vec<f64> = (start..end).filter_map(&value).collect();
        if !values.is_empty() {
            points.push((
                start as f64,
                values.iter().sum::<f64>() / values.len() as f64,
            ));
        }
        start = end;
    }
    points
}

/// Which per-backend count a stacked chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendCount {
    /// Attempts answered 2xx per second.
    Ok,
    /// Attempts answered 429 per second.
    Throttled,
}

/// Per backend, its count per second (bucket mean), in backend order.
pub fn per_backend(series: &SecondSeries, backends: usize, what: BackendCount) -> Vec<Points> {
    let seconds = series.seconds();
    let bucket = bucket_seconds(seconds);
    (0..backends)
        .map(|backend| {
            bucketed(seconds, bucket, |second| {
                series.backend_rows(second).nth(backend).map(|row| {
                    f64::from(match what {
                        BackendCount::Ok => row.ended.ok,
                        BackendCount::Throttled => row.ended.throttled,
                    })
                })
            })
        })
        .collect()
}

/// Stack layers: layer `i` is the sum of layers `0..=i` (all layers share the same x).
pub fn stacked(layers: &[Points]) -> Vec<Points> {
    let mut sums: Vec<Points> = Vec::with_capacity(layers.len());
    for layer in layers {
        let next = match sums.last() {
            None => layer.clone(),
            Some(below) => layer
                .iter()
                .zip(below)
                .map(|((x, y), (_, base))| (*x, y + base))
                .collect(),
        };
        sums.push(next);
    }
    sums
}

/// Per-second end-to-end latency p50 and p99 in seconds (bucket mean).
pub fn latency(series: &SecondSeries) -> (Points, Points) {
    let seconds = series.seconds();
    let bucket = bucket_seconds(seconds);
    let rows: Vec<_> = series.request_rows().collect();
    let at =
        |pick: fn(&crate::metrics::series::RequestSecondRow) -> Option<std::time::Duration>| {
            bucketed(seconds, bucket, |second| {
                rows.get(usize::try_from(second).ok()?)
                    .and_then(pick)
                    .map(|latency| latency.as_secs_f64())
            })
        };
    (at(|row| row.latency_p50), at(|row| row.latency_p99))
}

/// Per backend with utilization samples, its mean PTU utilization (%) per bucket.
pub fn utilization(series: &SecondSeries, backends: usize) -> Vec<(usize, Points)> {
    let seconds = series.seconds();
    let bucket = bucket_seconds(seconds);
    (0..backends)
        .map(|backend| {
            (
                backend,
                bucketed(seconds, bucket, |second| {
                    series
                        .backend_rows(second)
                        .nth(backend)
                        .and_then(|row| row.utilization_mean)
                }),
            )
        })
        .filter(|(_, points)| !points.is_empty())
        .collect()
}

/// Per backend, the spans `[from, to)` in seconds during which its breaker was open at any
/// time (consecutive seconds merged; resolution one second).
pub fn breaker_open_spans(series: &SecondSeries, backends: usize) -> Vec<Vec<(f64, f64)>> {
    let mut spans = vec![Vec::new(); backends];
    for second in 0..series.seconds() {
        for row in series.backend_rows(second) {
            if row.breaker_open.is_zero() {
                continue;
            }
            let Some(backend_spans) = spans.get_mut(row.backend) else {
                continue;
            };
            let start = second as f64;
            match backend_spans.last_mut() {
                Some((_, to)) if *to == start => *to = start + 1.0,
                _ => backend_spans.push((start, start + 1.0)),
            }
        }
    }
    spans
}

/// The cumulative distribution of a latency: `(seconds, fraction ≤ it)` at 201 quantiles.
pub fn cdf(histogram: &LatencyHistogram) -> Points {
    (0..=200)
        .filter_map(|step| {
            let q = f64::from(step) / 200.0;
            histogram.quantile(q).map(|value| (value.as_secs_f64(), q))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_keep_lines_short_and_stacks_add_up() {
        assert_eq!(bucket_seconds(0), 1);
        assert_eq!(bucket_seconds(150), 1);
        assert_eq!(bucket_seconds(151), 2);
        assert_eq!(bucket_seconds(3600), 24);
        let layers = vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(0.0, 3.0), (1.0, 0.0)]];
        assert_eq!(stacked(&layers)[1], vec![(0.0, 4.0), (1.0, 2.0)]);
        let means = bucketed(5, 2, |s| (s != 1).then_some(s as f64));
        assert_eq!(means, vec![(0.0, 0.0), (2.0, 2.5), (4.0, 4.0)]);
    }

    #[test]
    fn breaker_spans_merge_consecutive_open_seconds() {
        let mut series = SecondSeries::new(2);
        series.add_breaker_open(
            1,
            Duration::from_millis(1500),
            Duration::from_millis(3200),
            false,
        );
        series.add_breaker_open(
            1,
            Duration::from_secs(6),
            Duration::from_millis(6100),
            false,
        );
        let spans = breaker_open_spans(&series, 2);
        assert!(spans[0].is_empty());
        assert_eq!(spans[1], vec![(1.0, 4.0), (6.0, 7.0)]);
    }
}
