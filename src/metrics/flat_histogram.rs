//! Flat HdrHistogram counts: [`FlatHistogram`], the counts of a latency HdrHistogram (µs, 1 µs
//! to one day, 3 significant digits), and [`SecondCounts`], those of the per-second histograms
//! (µs to one hour, 2 digits, `u32` counts), recorded on the hot path with a few instructions
//! each; turned into the `hdrhistogram` value ([`FlatCounts::to_hdr`]), serialised
//! ([`super::interval_encode`]) or asked a quantile only when a run, an interval or a second
//! ends.
//!
//! The bucket layout is HdrHistogram's for those bounds, index for index, so the counts, the
//! total and every value the histogram reports (`max`, `min_nz`, quantiles) come out exactly as
//! recording into `hdrhistogram::Histogram` would give them (checked by the tests below).

use std::time::Duration;

use hdrhistogram::Histogram;

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

/// The counts of an HdrHistogram with lowest value 1, unit magnitude 0 and sub-buckets of
/// `2^(HALF_MAGNITUDE + 1)` (`SIGFIG` significant digits), covering `HIGH` in `BUCKETS`
/// buckets, each count saturating at `MAX_COUNT` (the counter type's maximum).
#[derive(Debug, Clone)]
pub struct FlatCounts<
    const HALF_MAGNITUDE: u32,
    const BUCKETS: usize,
    const HIGH: u64,
    const SIGFIG: u8,
    const MAX_COUNT: u64,
> {
    counts: Box<[u64]>,
    total: u64,
    /// The lowest and highest index ever counted (`lowest > highest` when none).
    lowest: usize,
    highest: usize,
}

/// The full-run and interval latency histograms: 1 µs to one day (2048 · 2^26 > 86.4 · 10^9),
/// 3 digits, `u64` counts.
pub type FlatHistogram = FlatCounts<10, 27, 86_400_000_000, 3, { u64::MAX }>;

/// The per-second latency histograms: 1 µs to one hour (256 · 2^24 > 3.6 · 10^9), 2 digits,
/// `u32` counts.
pub type SecondCounts = FlatCounts<7, 25, 3_600_000_000, 2, { u32::MAX as u64 }>;

impl<const HM: u32, const BUCKETS: usize, const HIGH: u64, const SIGFIG: u8, const MAX: u64> Default
    for FlatCounts<HM, BUCKETS, HIGH, SIGFIG, MAX>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const HM: u32, const BUCKETS: usize, const HIGH: u64, const SIGFIG: u8, const MAX: u64>
    FlatCounts<HM, BUCKETS, HIGH, SIGFIG, MAX>
{
    /// Lowest value tracked.
    const LOW: u64 = 1;
    /// Half the sub-bucket count.
    const HALF_COUNT: usize = 1 << HM;
    /// Values below this land in bucket 0 (the sub-bucket mask).
    const SUB_BUCKET_MASK: u64 = (1 << (HM + 1)) - 1;
    /// 64 − unit magnitude (0) − sub-bucket count magnitude.
    const LEADING_ZERO_BASE: u32 = 64 - (HM + 1);
    /// Number of counts (HdrHistogram's `distinct_values`).
    pub const LEN: usize = (BUCKETS + 1) << HM;

    /// The bucket of `value`.
    fn bucket_of(value: u64) -> u32 {
        Self::LEADING_ZERO_BASE - (value | Self::SUB_BUCKET_MASK).leading_zeros()
    }

    /// The counts index of `value` (HdrHistogram's `index_for`).
    fn index_for(value: u64) -> usize {
        let bucket = Self::bucket_of(value);
        let sub_bucket = (value >> bucket) as usize;
        ((bucket as usize + 1) << HM) + sub_bucket - Self::HALF_COUNT
    }

    /// The lowest value of counts index `index` (HdrHistogram's `value_for`).
    fn value_for(index: usize) -> u64 {
        let bucket = (index >> HM) as i64 - 1;
        let sub_bucket = (index & (Self::HALF_COUNT - 1)) + Self::HALF_COUNT;
        if bucket < 0 {
            (sub_bucket - Self::HALF_COUNT) as u64
        } else {
            (sub_bucket as u64) << bucket
        }
    }

    /// HdrHistogram's `lowest_equivalent`.
    fn lowest_equivalent(value: u64) -> u64 {
        let bucket = Self::bucket_of(value);
        (value >> bucket) << bucket
    }

    /// HdrHistogram's `highest_equivalent`.
    fn highest_equivalent(value: u64) -> u64 {
        if value == u64::MAX {
            return u64::MAX;
        }
        let range = 1u64 << Self::bucket_of(value);
        Self::lowest_equivalent(value).saturating_add(range) - 1
    }

    /// HdrHistogram's `median_equivalent`.
    pub fn median_equivalent(value: u64) -> u64 {
        let range = 1u64 << Self::bucket_of(value);
        Self::lowest_equivalent(value)
            .checked_add(range >> 1)
            .expect("median equivalent should not overflow")
    }

    /// Empty.
    pub fn new() -> Self {
        FlatCounts {
            counts: vec![0; Self::LEN].into_boxed_slice(),
            total: 0,
            lowest: Self::LEN,
            highest: 0,
        }
    }

    /// Record `value`, saturating at `HIGH` as `saturating_record` does.
    #[inline]
    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Record `value` `n` times: the same counts as `n` calls of [`Self::record`] (none for
    /// `n == 0`).
    #[inline]
    pub fn record_n(&mut self, value: u64, n: u64) {
        if n == 0 {
            return;
        }
        let mut index = Self::index_for(value);
        if index >= Self::LEN {
            index = Self::index_for(HIGH);
        }
        self.counts[index] = self.counts[index].saturating_add(n).min(MAX);
        self.total = self.total.saturating_add(n);
        self.lowest = self.lowest.min(index);
        self.highest = self.highest.max(index);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The largest value's highest equivalent (HdrHistogram's `max`): that of the highest
    /// index counted, whose values all share it (no maximum kept per record). Index 0 holds
    /// only the value 0, whose `max` is 0, as it is when nothing was recorded.
    pub fn max(&self) -> u64 {
        if self.highest == 0 {
            0
        } else {
            Self::highest_equivalent(Self::value_for(self.highest))
        }
    }

    /// The counts from index 0 through the index of [`Self::max`] (what a V2 serialisation
    /// encodes).
    pub fn counts_through_max(&self) -> &[u64] {
        &self.counts[..=Self::index_for(self.max()).min(Self::LEN - 1)]
    }

    /// The bounds: (lowest, highest, significant digits).
    pub fn bounds() -> (u64, u64, u8) {
        (Self::LOW, HIGH, SIGFIG)
    }

    /// HdrHistogram's `value_at_quantile`.
    pub fn value_at_quantile(&self, quantile: f64) -> u64 {
        let quantile = if quantile > 1.0 { 1.0 } else { quantile };
        let fractional_count = quantile * self.total as f64;
        let mut count_at_quantile = fractional_count.ceil() as u64;
        if count_at_quantile == 0 {
            count_at_quantile = 1;
        }
        // Counts below `lowest` are all zero: the running total starts there.
        let mut total_to_index: u64 = 0;
        for index in self.lowest..Self::LEN {
            total_to_index += self.counts[index];
            if total_to_index >= count_at_quantile {
                let value = Self::value_for(index);
                return if quantile == 0.0 {
                    Self::lowest_equivalent(value)
                } else {
                    Self::highest_equivalent(value)
                };
            }
        }
        0
    }

    /// The same counts as an `hdrhistogram` histogram with these bounds.
    pub fn to_hdr(&self) -> Histogram<u64> {
        let mut histogram = Histogram::new_with_bounds(Self::LOW, HIGH, SIGFIG)
            .expect("constant histogram bounds are valid");
        for index in self.lowest..=self.highest.min(Self::LEN - 1) {
            let count = self.counts[index];
            if count > 0 {
                histogram.saturating_record_n(Self::value_for(index), count);
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
        self.lowest = Self::LEN;
        self.highest = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    const HIGH: u64 = 86_400_000_000;

    fn values(seed: u64, n: usize, high: u64) -> Vec<u64> {
        let mut rng = crate::seed::stream(seed, "flat-histogram-test");
        let mut values: Vec<u64> = (0..n)
            .map(|_| match rng.random_range(0..6) {
                0 => rng.random_range(0..3_000),
                1 => rng.random_range(0..10_000_000),
                2 => rng.random_range(0..high),
                3 => high + rng.random_range(0..1_000_000_000),
                4 => u64::MAX - rng.random_range(0..3),
                _ => 1 << rng.random_range(0..64),
            })
            .collect();
        values.extend([0, 1, 255, 256, 2047, 2048, high, high + 1, u64::MAX]);
        values
    }

    #[test]
    fn recording_a_value_n_times_at_once_counts_as_n_records() {
        let mut rng = crate::seed::stream(3, "record-n-test");
        for value in values(4, 200, HIGH) {
            let n = rng.random_range(0..5);
            let (mut at_once, mut one_by_one) = (FlatHistogram::new(), FlatHistogram::new());
            at_once.record(7);
            one_by_one.record(7);
            at_once.record_n(value, n);
            for _ in 0..n {
                one_by_one.record(value);
            }
            assert_eq!(at_once.to_hdr(), one_by_one.to_hdr(), "{value} x{n}");
            assert_eq!(at_once.max(), one_by_one.max(), "{value} x{n}");
            assert_eq!(
                at_once.counts_through_max(),
                one_by_one.counts_through_max(),
                "{value} x{n}"
            );
        }
        let mut saturated = SecondCounts::new();
        saturated.record_n(5, u64::MAX);
        let mut once = SecondCounts::new();
        once.record(5);
        assert_eq!(saturated.counts_through_max()[5], u64::from(u32::MAX));
        assert_eq!(once.counts_through_max()[5], 1);
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
    fn layouts_are_hdrhistograms() {
        let hdr = Histogram::<u64>::new_with_bounds(1, HIGH, 3).unwrap();
        assert_eq!(hdr.distinct_values(), FlatHistogram::LEN);
        let second = Histogram::<u32>::new_with_bounds(1, 3_600_000_000, 2).unwrap();
        assert_eq!(second.distinct_values(), SecondCounts::LEN);
        for value in values(1, 5_000, HIGH) {
            assert_eq!(
                FlatHistogram::highest_equivalent(value),
                hdr.highest_equivalent(value),
                "{value}"
            );
            assert_eq!(
                SecondCounts::highest_equivalent(value),
                second.highest_equivalent(value)
            );
            if value < u64::MAX / 2 {
                assert_eq!(
                    SecondCounts::median_equivalent(value),
                    second.median_equivalent(value)
                );
            }
            if FlatHistogram::index_for(value) < FlatHistogram::LEN {
                let index = FlatHistogram::index_for(value);
                assert_eq!(
                    FlatHistogram::value_for(index),
                    hdr.lowest_equivalent(value)
                );
            }
        }
    }

    #[test]
    fn the_same_counts_and_figures_as_recording_into_hdrhistogram() {
        for seed in 0..20 {
            let mut flat = FlatHistogram::new();
            let mut hdr = Histogram::<u64>::new_with_bounds(1, HIGH, 3).unwrap();
            for value in values(seed, 300 + seed as usize * 50, HIGH) {
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
                assert_eq!(flat.value_at_quantile(q), hdr.value_at_quantile(q));
            }
            flat.reset();
            assert!(flat.is_empty());
            assert_eq!(
                flat.to_hdr(),
                Histogram::<u64>::new_with_bounds(1, HIGH, 3).unwrap()
            );
        }
    }

    #[test]
    fn per_second_quantiles_are_those_of_the_u32_histogram() {
        let mut rng = crate::seed::stream(5, "second-counts-test");
        let mut flat = SecondCounts::new();
        for round in 0..30 {
            let mut hdr = Histogram::<u32>::new_with_bounds(1, 3_600_000_000, 2).unwrap();
            let n = [1, 2, 65, 1_000, 20_000][round % 5];
            let spread = [10, 5_000, 3_000_000, 4_000_000_000][round % 4];
            for _ in 0..n {
                let value = rng.random_range(0..=spread);
                flat.record(value);
                hdr.saturating_record(value);
            }
            assert_eq!(flat.is_empty(), hdr.is_empty());
            for q in [0.0, 0.01, 0.5, 0.99, 0.999, 1.0, 1.5] {
                assert_eq!(flat.value_at_quantile(q), hdr.value_at_quantile(q), "{q}");
            }
            flat.reset();
        }
        assert_eq!(flat.value_at_quantile(0.5), 0);
    }
}
