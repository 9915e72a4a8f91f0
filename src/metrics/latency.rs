//! Full-run latency histograms: HdrHistogram in microseconds with 3 significant digits, plus
//! the exact maximum. Every percentile in a summary comes from one of these.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::flat_histogram::{FlatHistogram, micros};

/// The largest value tracked exactly enough (one day); larger values saturate to it.
const HIGHEST_MICROS: u64 = 86_400_000_000;

/// A latency distribution over a whole run (µs, 3 significant digits, fixed size).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
    max: Duration,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram covering 1 µs to one day.
    pub fn new() -> Self {
        // The bounds are constants that satisfy hdrhistogram's preconditions (low >= 1,
        // high >= 2 * low, sigfig <= 5), so creation cannot fail.
        let histogram = Histogram::new_with_bounds(1, HIGHEST_MICROS, 3)
            .expect("constant histogram bounds are valid");
        LatencyHistogram {
            histogram,
            max: Duration::ZERO,
        }
    }

    /// The histogram of `histogram`'s counts (µs, the bounds of
    /// [`super::intervals::latency_histogram`], e.g. merged from interval logs) whose exact
    /// largest value was `max`; `None` when the bounds differ.
    pub fn from_parts(histogram: Histogram<u64>, max: Duration) -> Option<Self> {
        let expected = Self::new().histogram;
        let same_bounds = histogram.low() == expected.low()
            && histogram.high() == expected.high()
            && histogram.sigfig() == expected.sigfig();
        same_bounds.then_some(LatencyHistogram { histogram, max })
    }

    /// Record one value (saturating at one day).
    pub fn record(&mut self, value: Duration) {
        self.histogram.saturating_record(micros(value));
        self.max = self.max.max(value);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The value at quantile `q` (nearest rank, as hdrhistogram defines it), reported as the
    /// middle of its bucket; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.histogram.is_empty() {
            return None;
        }
        let bucket_value = self.histogram.value_at_quantile(q);
        let value = self
            .histogram
            .median_equivalent(bucket_value)
            .min(micros(self.max));
        Some(Duration::from_micros(value))
    }

    /// The counts (µs buckets).
    pub fn counts(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Add every value of `other` (same bounds: every `LatencyHistogram` has them) and keep
    /// the larger maximum: the histogram of both runs' values, exactly.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Equal bounds: `add` cannot fail; a saturating add keeps the counts' invariant.
        let _ = self.histogram.add(&other.histogram);
        self.max = self.max.max(other.max);
    }

    /// The exact largest value recorded; `None` when empty.
    pub fn max(&self) -> Option<Duration> {
        (!self.histogram.is_empty()).then_some(self.max)
    }
}

/// A [`LatencyHistogram`] being recorded on a hot path: the counts in a
/// [`FlatHistogram`] (no call per value), the `hdrhistogram` value built once at the end.
#[derive(Debug, Clone, Default)]
pub struct LatencyRecorder {
    counts: FlatHistogram,
    max: Duration,
    /// `micros(max)`: a value of fewer whole microseconds cannot be a new maximum, so most
    /// records settle the maximum with one integer compare.
    max_micros: u64,
}

impl LatencyRecorder {
    /// Record one value (saturating at one day), as [`LatencyHistogram::record`].
    #[inline]
    pub fn record(&mut self, value: Duration) {
        let micros = micros(value);
        self.counts.record(micros);
        self.raise_max(value, micros);
    }

    /// Record `value` `n` times at once (as `n` calls of [`Self::record`]).
    pub fn record_n(&mut self, value: Duration, n: u64) {
        if n > 0 {
            let micros = micros(value);
            self.counts.record_n(micros, n);
            self.raise_max(value, micros);
        }
    }

    /// `max = max.max(value)`, for `value` of `micros` whole microseconds.
    #[inline]
    fn raise_max(&mut self, value: Duration, micros: u64) {
        // `micros` is monotone: a larger value never has fewer whole microseconds.
        if micros >= self.max_micros && value > self.max {
            self.max = value;
            self.max_micros = micros;
        }
    }

    /// The histogram of every value recorded.
    pub fn histogram(&self) -> LatencyHistogram {
        LatencyHistogram {
            histogram: self.counts.to_hdr(),
            max: self.max,
        }
    }
}

/// A histogram as data (`shard.json`): its exact maximum and its non-empty buckets — a value
/// in each (µs) and its count; re-recording the buckets rebuilds the same counts.
#[derive(serde::Serialize, serde::Deserialize)]
struct Buckets {
    max_ns: u64,
    buckets: Vec<(u64, u64)>,
}

impl serde::Serialize for LatencyHistogram {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Buckets {
            max_ns: u64::try_from(self.max.as_nanos()).unwrap_or(u64::MAX),
            buckets: self
                .histogram
                .iter_recorded()
                .map(|bucket| (bucket.value_iterated_to(), bucket.count_at_value()))
                .collect(),
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let data = Buckets::deserialize(deserializer)?;
        let mut histogram = LatencyHistogram::new();
        for (value, count) in data.buckets {
            histogram.histogram.saturating_record_n(value, count);
        }
        histogram.max = Duration::from_nanos(data.max_ns);
        Ok(histogram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles_and_exact_max() {
        let mut histogram = LatencyHistogram::new();
        assert_eq!(histogram.quantile(0.5), None);
        assert_eq!(histogram.max(), None);
        for millis in 1..=100 {
            histogram.record(Duration::from_millis(millis));
        }
        let ms = |q| {
            histogram
                .quantile(q)
                .map(|d| (d.as_micros() as f64 / 1000.0).round())
        };
        assert_eq!(ms(0.5), Some(50.0));
        assert_eq!(ms(0.95), Some(95.0));
        assert_eq!(ms(0.99), Some(99.0));
        assert_eq!(histogram.max(), Some(Duration::from_millis(100)));
        assert_eq!(histogram.count(), 100);
    }

    #[test]
    fn a_histogram_survives_json_and_merges_exactly() {
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
        let text = serde_json::to_string(&a).expect("json");
        let mut restored: LatencyHistogram = serde_json::from_str(&text).expect("parse");
        restored.merge(&b);
        assert_eq!(restored.count(), 6);
        assert_eq!(restored.max(), Some(ms(40_000)));
        assert_eq!(restored.counts(), both.counts());
        for q in [0.5, 0.9, 0.99] {
            assert_eq!(restored.quantile(q), both.quantile(q));
        }
    }

    #[test]
    fn values_beyond_a_day_saturate_instead_of_failing() {
        let mut histogram = LatencyHistogram::new();
        histogram.record(Duration::from_secs(200_000));
        assert_eq!(histogram.count(), 1);
        assert_eq!(histogram.max(), Some(Duration::from_secs(200_000)));
    }
}
