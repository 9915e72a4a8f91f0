//! [`IntervalHistograms`]: one strategy's latency histograms cut into fixed intervals of run
//! time and written as an HdrHistogram interval log (V2 + deflate, tags `e2e` and `ttft`), so
//! the percentiles of several runs can be merged exactly later (`throttlebox compare`).
//!
//! A sample belongs to the interval of its request's end. Only a few recent intervals hold a
//! live histogram; older ones are serialised into the log as soon as a sample three intervals
//! newer arrives, so memory does not grow with run length beyond the log text (a few hundred
//! bytes per interval). A sample for an interval already written (records arrive in nearly
//! end order, so this is rare) goes into the oldest open interval and is counted in
//! [`IntervalHistograms::late_samples`]: the sum over all intervals stays exactly the full-run
//! histogram. Never reads a clock: interval start times are run time.

use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;

use super::flat_histogram::{FlatHistogram, micros};
use super::interval_encode::IntervalEncoder;

/// Interval length used by the recorder.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// Tag of end-to-end latency histograms (successful requests, from the intended start).
pub const E2E_TAG: &str = "e2e";
/// Tag of time-to-first-token histograms (successful streams, from the intended start).
pub const TTFT_TAG: &str = "ttft";
/// The comment lines every interval log of throttlebox carries after its own first line.
pub const LOG_LEGEND: [&str; 2] = [
    "values (and the max column) in microseconds; interval start times are seconds since the run start",
    "tags: e2e = end-to-end latency of successful requests, ttft = time to first token of successful streams (both from the intended start)",
];
/// Saturation bound (one day in µs), as in [`super::latency`].
const HIGHEST_MICROS: u64 = 86_400_000_000;
/// How many intervals behind the newest sample an interval stays open.
const OPEN_INTERVALS: u64 = 2;

/// A histogram with the bounds every interval log of throttlebox uses (µs, 1 µs to one day,
/// 3 significant digits).
pub fn latency_histogram() -> Histogram<u64> {
    // Constant bounds satisfying hdrhistogram's preconditions: cannot fail.
    Histogram::new_with_bounds(1, HIGHEST_MICROS, 3).expect("constant histogram bounds are valid")
}

#[derive(Debug)]
struct OpenInterval {
    index: u64,
    e2e: FlatHistogram,
    ttft: FlatHistogram,
}

/// Latency histograms per interval of run time, serialised as an interval log as they close.
#[derive(Debug)]
pub struct IntervalHistograms {
    interval: Duration,
    /// The interval length in nanoseconds (at least 1).
    interval_nanos: u64,
    /// Open intervals, oldest first (at most `OPEN_INTERVALS + 1`: every open interval is
    /// within `OPEN_INTERVALS` of the newest sample's).
    open: Vec<OpenInterval>,
    spare: Vec<OpenInterval>,
    /// Every interval below this index has been written.
    written_below: u64,
    log: Vec<u8>,
    encoder: IntervalEncoder,
    late: u64,
    error: Option<String>,
}

impl IntervalHistograms {
    /// Empty, cutting run time into intervals of `interval` (at least 1 ms).
    pub fn new(interval: Duration, comment: &str) -> Self {
        let interval = interval.max(Duration::from_millis(1));
        let mut log = Vec::new();
        let mut builder = IntervalLogWriterBuilder::new();
        for line in std::iter::once(comment).chain(LOG_LEGEND) {
            builder.add_comment(line);
        }
        let mut serializer = V2DeflateSerializer::new();
        // Writing headers into a Vec cannot fail.
        let error = builder
            .begin_log_with(&mut log, &mut serializer)
            .err()
            .map(|error| error.to_string());
        IntervalHistograms {
            interval,
            interval_nanos: u64::try_from(interval.as_nanos())
                .unwrap_or(u64::MAX)
                .max(1),
            open: Vec::with_capacity(OPEN_INTERVALS as usize + 1),
            spare: Vec::new(),
            written_below: 0,
            log,
            encoder: IntervalEncoder::default(),
            late: 0,
            error,
        }
    }

    /// Record a successful request that ended at `end` with these latencies.
    pub fn record(&mut self, end: Duration, e2e: Duration, ttft: Option<Duration>) {
        let index = match u64::try_from(end.as_nanos()) {
            Ok(nanos) => nanos / self.interval_nanos,
            Err(_) => {
                u64::try_from(end.as_nanos() / u128::from(self.interval_nanos)).unwrap_or(u64::MAX)
            }
        };
        let index = if index < self.written_below {
            self.late += 1;
            self.written_below
        } else {
            index
        };
        // The newest open interval takes nearly every sample.
        let position = match self.open.last() {
            Some(newest) if newest.index == index => self.open.len() - 1,
            _ => self.open_interval(index),
        };
        let slot = &mut self.open[position];
        slot.e2e.record(micros(e2e));
        if let Some(ttft) = ttft {
            slot.ttft.record(micros(ttft));
        }
    }

    /// Write the intervals a sample in `index` closes, then find or open `index`'s interval;
    /// its position in `open`.
    fn open_interval(&mut self, index: u64) -> usize {
        while self
            .open
            .first()
            .is_some_and(|oldest| oldest.index.saturating_add(OPEN_INTERVALS) < index)
        {
            self.write_oldest();
        }
        let position = self.open.partition_point(|open| open.index < index);
        if self
            .open
            .get(position)
            .is_none_or(|open| open.index != index)
        {
            let mut slot = self.spare.pop().unwrap_or_else(|| OpenInterval {
                index,
                e2e: FlatHistogram::new(),
                ttft: FlatHistogram::new(),
            });
            slot.index = index;
            self.open.insert(position, slot);
        }
        position
    }

    /// Serialise the oldest open interval into the log and recycle its histograms.
    fn write_oldest(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let mut slot = self.open.remove(0);
        let start = self
            .interval
            .saturating_mul(u32::try_from(slot.index).unwrap_or(u32::MAX));
        for (tag, histogram) in [(E2E_TAG, &slot.e2e), (TTFT_TAG, &slot.ttft)] {
            if histogram.is_empty() {
                continue;
            }
            if let Err(error) =
                self.encoder
                    .write_line(&mut self.log, tag, start, self.interval, histogram)
            {
                self.error.get_or_insert(error);
            }
        }
        self.written_below = self.written_below.max(slot.index + 1);
        slot.e2e.reset();
        slot.ttft.reset();
        self.spare.push(slot);
    }

    /// Samples that arrived after their interval was written (kept in a later interval).
    pub fn late_samples(&self) -> u64 {
        self.late
    }

    /// Write every open interval and return the complete log text (or why it failed).
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        while !self.open.is_empty() {
            self.write_oldest();
        }
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.log),
        }
    }
}
