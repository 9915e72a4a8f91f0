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

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

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
    e2e: Histogram<u64>,
    ttft: Histogram<u64>,
}

/// Latency histograms per interval of run time, serialised as an interval log as they close.
#[derive(Debug)]
pub struct IntervalHistograms {
    interval: Duration,
    open: BTreeMap<u64, OpenInterval>,
    spare: Vec<OpenInterval>,
    /// Every interval below this index has been written.
    written_below: u64,
    log: Vec<u8>,
    late: u64,
    error: Option<String>,
}

fn micros(value: Duration) -> u64 {
    u64::try_from(value.as_micros()).unwrap_or(u64::MAX)
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
            open: BTreeMap::new(),
            spare: Vec::new(),
            written_below: 0,
            log,
            late: 0,
            error,
        }
    }

    /// Record a successful request that ended at `end` with these latencies.
    pub fn record(&mut self, end: Duration, e2e: Duration, ttft: Option<Duration>) {
        let nanos = self.interval.as_nanos().max(1);
        let index = u64::try_from(end.as_nanos() / nanos).unwrap_or(u64::MAX);
        let index = if index < self.written_below {
            self.late += 1;
            self.written_below
        } else {
            index
        };
        let stale: Vec<u64> = self
            .open
            .keys()
            .copied()
            .take_while(|open| open.saturating_add(OPEN_INTERVALS) < index)
            .collect();
        for old in stale {
            self.write(old);
        }
        let spare = &mut self.spare;
        let slot = self.open.entry(index).or_insert_with(|| {
            spare.pop().unwrap_or_else(|| OpenInterval {
                e2e: latency_histogram(),
                ttft: latency_histogram(),
            })
        });
        slot.e2e.saturating_record(micros(e2e));
        if let Some(ttft) = ttft {
            slot.ttft.saturating_record(micros(ttft));
        }
    }

    /// Serialise interval `index` into the log and recycle its histograms.
    fn write(&mut self, index: u64) {
        let Some(mut slot) = self.open.remove(&index) else {
            return;
        };
        let start = self
            .interval
            .saturating_mul(u32::try_from(index).unwrap_or(u32::MAX));
        let mut serializer = V2DeflateSerializer::new();
        let builder = IntervalLogWriterBuilder::new();
        match builder.begin_log_with(&mut self.log, &mut serializer) {
            Ok(mut writer) => {
                for (tag, histogram) in [(E2E_TAG, &slot.e2e), (TTFT_TAG, &slot.ttft)] {
                    if histogram.is_empty() {
                        continue;
                    }
                    if let Err(error) =
                        writer.write_histogram(histogram, start, self.interval, Tag::new(tag))
                    {
                        self.error.get_or_insert_with(|| error.to_string());
                    }
                }
            }
            Err(error) => {
                self.error.get_or_insert_with(|| error.to_string());
            }
        }
        self.written_below = self.written_below.max(index + 1);
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
        let open: Vec<u64> = self.open.keys().copied().collect();
        for index in open {
            self.write(index);
        }
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.log),
        }
    }
}
