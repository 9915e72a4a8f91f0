//! Full-run latency histograms: HdrHistogram in microseconds with 3 significant digits, plus
//! the exact maximum. Every percentile in a summary comes from one of these.

use std::time::Duration;

use hdrhistogram::Histogram;

/// The largest value tracked exactly enough (one day); larger values saturate to it.
const HIGHEST_MICROS: u64 = 86_400_000_000;

/// A latency distribution over a whole run (µs, 3 significant digits, fixed size).
#[derive(Debug, Clone)]
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
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(micros);
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
            .min(u64::try_from(self.max.as_micros()).unwrap_or(u64::MAX));
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
    fn values_beyond_a_day_saturate_instead_of_failing() {
        let mut histogram = LatencyHistogram::new();
        histogram.record(Duration::from_secs(200_000));
        assert_eq!(histogram.count(), 1);
        assert_eq!(histogram.max(), Some(Duration::from_secs(200_000)));
    }
}
