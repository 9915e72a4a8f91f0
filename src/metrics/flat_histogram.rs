//! [`FlatHistogram`]: the counts of a latency HdrHistogram (µs, 1 µs to one day, 3 significant
//! digits) recorded on the hot path with a few instructions each, turned into the
//! `hdrhistogram` value ([`FlatHistogram::to_hdr`]) or serialised ([`super::interval_encode`])
//! only when a run or an interval ends.
//!
//! The bucket layout is HdrHistogram's for those bounds, index for index, so the counts, the
//! total and every value the histogram reports (`max`, `min_nz`, quantiles) come out exactly as
//! recording into `hdrhistogram::Histogram` would give them (checked by the tests below).

use std::time::Duration;

use hdrhistogram::Histogram;

/// Lowest value tracked (µs).
const LOW: u64 = 1;
/// Highest value tracked (one day in µs); larger values saturate to it.
pub(crate) const HIGH: u64 = 86_400_000_000;
/// Significant digits.
const SIGFIG: u8 = 3;
/// log2 of half the sub-bucket count (2 × 10^3 needs 2^11 sub-buckets).
const HALF_MAGNITUDE: u32 = 10;
/// Half the sub-bucket count.
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;
/// Values below this land in bucket 0 (the sub-bucket mask).
const SUB_BUCKET_MASK: u64 = (1 << (HALF_MAGNITUDE + 1)) - 1;
/// 64 − unit magnitude (0) − sub-bucket count magnitude (11).
const LEADING_ZERO_BASE: u32 = 64 - (HALF_MAGNITUDE + 1);
/// Buckets needed to cover [`HIGH`]: 2048 · 2^26 > 86.4 · 10^9.
const BUCKETS: usize = 27;
/// Number of counts (HdrHistogram's `distinct_values`).
pub(crate) const LEN: usize = (BUCKETS + 1) * HALF_COUNT;

/// The counts index of `value` (HdrHistogram's `index_for`).
fn index_for(value: u64) -> usize {
    let bucket = LEADING_ZERO_BASE - (value | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = (value >> bucket) as usize;
    ((bucket as usize + 1) << HALF_MAGNITUDE) + sub_bucket - HALF_COUNT
}

/// The lowest value of counts index `index` (HdrHistogram's `value_for`).
fn value_for(index: usize) -> u64 {
    let bucket = (index >> HALF_MAGNITUDE) as i64 - 1;
    let sub_bucket = (index & (HALF_COUNT - 1)) + HALF_COUNT;
    if bucket < 0 {
        (sub_bucket - HALF_COUNT) as u64
    } else {
        (sub_bucket as u64) << bucket
    }
}

/// The highest value equivalent to `value` (HdrHistogram's `highest_equivalent`).
fn highest_equivalent(value: u64) -> u64 {
    if value == u64::MAX {
        return u64::MAX;
    }
    let bucket = LEADING_ZERO_BASE - (value | SUB_BUCKET_MASK).leading_zeros();
    let lowest = (value >> bucket) << bucket;
    lowest.saturating_add(1 << bucket) - 1
}

/// Whole microseconds of `value`, `u64::MAX` beyond (what `u64::try_from(as_micros())`
/// gives, without its 128-bit division).
#[inline]
pub fn micros(value: Duration) -> u64 {
    value
        .as_secs()
        .checked_mul(1_000_000)
        .and_then(|micros| micros.checked_add(u64::from(value.subsec_micros())))
        .unwrap_or(u64::MAX)
}

/// An HdrHistogram's counts with the latency bounds, recorded without a function call.
#[derive(Debug, Clone)]
pub struct FlatHistogram {
    counts: Box<[u64]>,
    total: u64,
    /// The largest value recorded (after saturation), 0 when none was.
    max_value: u64,
    /// The lowest and highest index ever counted (`lowest > highest` when none).
    lowest: usize,
    highest: usize,
}

impl Default for FlatHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl FlatHistogram {
    /// Empty.
    pub fn new() -> Self {
        FlatHistogram {
            counts: vec![0; LEN].into_boxed_slice(),
            total: 0,
            max_value: 0,
            lowest: LEN,
            highest: 0,
        }
    }

    /// Record `value` (µs), saturating at one day as `saturating_record` does.
    #[inline]
    pub fn record(&mut self, value: u64) {
        let mut index = index_for(value);
        let mut value = value;
        if index >= LEN {
            value = HIGH;
            index = index_for(HIGH);
        }
        self.counts[index] = self.counts[index].saturating_add(1);
        self.total = self.total.saturating_add(1);
        self.max_value = self.max_value.max(value);
        self.lowest = self.lowest.min(index);
        self.highest = self.highest.max(index);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The largest value's highest equivalent (HdrHistogram's `max`).
    pub fn max(&self) -> u64 {
        if self.max_value == 0 {
            0
        } else {
            highest_equivalent(self.max_value)
        }
    }

    /// The counts from index 0 through the index of [`Self::max`] (what a V2 serialisation
    /// encodes).
    pub fn counts_through_max(&self) -> &[u64] {
        &self.counts[..=index_for(self.max()).min(LEN - 1)]
    }

    /// The bounds: (lowest, highest, significant digits).
    pub fn bounds() -> (u64, u64, u8) {
        (LOW, HIGH, SIGFIG)
    }

    /// The same counts as an `hdrhistogram` histogram with these bounds.
    pub fn to_hdr(&self) -> Histogram<u64> {
        let mut histogram = Histogram::new_with_bounds(LOW, HIGH, SIGFIG)
            .expect("constant histogram bounds are valid");
        for index in self.lowest..=self.highest.min(LEN - 1) {
            let count = self.counts[index];
            if count > 0 {
                histogram.saturating_record_n(value_for(index), count);
            }
        }
        histogram
    }

    /// Forget every value (only the counts ever used are cleared).
    pub fn reset(&mut self) {
        if self.lowest <= self.highest {
            self.counts[self.lowest..=self.highest].fill(0);
        }
        self.total = 0;
        self.max_value = 0;
        self.lowest = LEN;
        self.highest = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn values(seed: u64, n: usize) -> Vec<u64> {
        let mut rng = crate::seed::stream(seed, "flat-histogram-test");
        let mut values: Vec<u64> = (0..n)
            .map(|_| match rng.random_range(0..6) {
                0 => rng.random_range(0..3_000),
                1 => rng.random_range(0..10_000_000),
                2 => rng.random_range(0..HIGH),
                3 => HIGH + rng.random_range(0..1_000_000_000),
                4 => u64::MAX - rng.random_range(0..3),
                _ => 1 << rng.random_range(0..64),
            })
            .collect();
        values.extend([0, 1, 2047, 2048, HIGH, HIGH + 1, u64::MAX]);
        values
    }

    #[test]
    fn micros_are_as_micros_saturated() {
        let mut rng = crate::seed::stream(2, "micros-test");
        for _ in 0..10_000 {
            let shift = rng.random_range(0..64);
            let value = Duration::new(
                rng.random_range(0..u64::MAX >> shift),
                rng.random_range(0..1_000_000_000),
            );
            assert_eq!(
                micros(value),
                u64::try_from(value.as_micros()).unwrap_or(u64::MAX)
            );
        }
        assert_eq!(micros(Duration::MAX), u64::MAX);
    }

    #[test]
    fn layout_is_hdrhistograms() {
        let hdr = Histogram::<u64>::new_with_bounds(LOW, HIGH, SIGFIG).unwrap();
        assert_eq!(hdr.distinct_values(), LEN);
        for value in values(1, 5_000) {
            assert_eq!(
                highest_equivalent(value),
                hdr.highest_equivalent(value),
                "{value}"
            );
            if index_for(value) < LEN {
                assert_eq!(value_for(index_for(value)), hdr.lowest_equivalent(value));
            }
        }
    }

    #[test]
    fn the_same_counts_and_figures_as_recording_into_hdrhistogram() {
        for seed in 0..20 {
            let mut flat = FlatHistogram::new();
            let mut hdr = Histogram::<u64>::new_with_bounds(LOW, HIGH, SIGFIG).unwrap();
            for value in values(seed, 300 + seed as usize * 50) {
                flat.record(value);
                hdr.saturating_record(value);
            }
            let rebuilt = flat.to_hdr();
            assert_eq!(rebuilt, hdr);
            assert_eq!(flat.max(), hdr.max());
            assert_eq!(rebuilt.max(), hdr.max());
            assert_eq!(rebuilt.min_nz(), hdr.min_nz());
            assert_eq!(rebuilt.len(), hdr.len());
            for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
                assert_eq!(rebuilt.value_at_quantile(q), hdr.value_at_quantile(q));
            }
            flat.reset();
            assert!(flat.is_empty());
            assert_eq!(
                flat.to_hdr(),
                Histogram::<u64>::new_with_bounds(LOW, HIGH, 3).unwrap()
            );
        }
    }
}
