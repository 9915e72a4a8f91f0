//! Per-second series of one strategy's run: what `timeseries.csv` shows.
//!
//! Seconds are whole seconds since the run start (`floor(t)`). Request-level counters use the
//! client's view: `sent` by actual start, outcomes by end, `in_flight` = started by the end of
//! the second and not yet ended. Backend-level counters count attempts: `sent` by attempt
//! start, outcomes by attempt end.
//!
//! Per-second latency percentiles come from [`SecondLatency`] (a sliding window of
//! histograms, < 1% resolution); they are for plots: summary percentiles come from the
//! full-run histograms in [`super::latency`]. Memory grows with run length only by fixed-size
//! per-second entries (about 32 bytes per second plus 48 per backend-second). Events later
//! than [`MAX_SECONDS`] after the run start are left out of the series (and counted).

use std::time::Duration;

use super::record::ErrorClass;
use super::second_latency::SecondLatency;

mod snapshot;

pub use snapshot::{BackendSecondSnapshot, SeriesSnapshot};

/// The longest series kept: 31 days of seconds. Guards against a bogus timestamp asking
/// for an enormous allocation.
pub const MAX_SECONDS: usize = 31 * 86_400;

/// Outcome counters shared by request and backend buckets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    /// Successful (2xx).
    pub ok: u32,
    /// 429.
    pub throttled: u32,
    /// 5xx.
    pub server_error: u32,
    /// Anything else (other 4xx, connect errors, timeouts, exhausted pool).
    pub other_error: u32,
}

impl OutcomeCounts {
    fn count(&mut self, class: ErrorClass) {
        let slot = match class {
            ErrorClass::None => &mut self.ok,
            ErrorClass::Throttled => &mut self.throttled,
            ErrorClass::ServerError => &mut self.server_error,
            _ => &mut self.other_error,
        };
        *slot += 1;
    }

    /// How many ended in total.
    pub fn total(&self) -> u32 {
        self.ok + self.throttled + self.server_error + self.other_error
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct RequestSecond {
    sent: u32,
    ended: OutcomeCounts,
}

#[derive(Debug, Clone, Copy, Default)]
struct BackendSecond {
    sent: u32,
    ended: OutcomeCounts,
    breaker_open_micros: u32,
    breaker_open_at_end: bool,
    utilization_sum: f64,
    utilization_samples: u32,
    utilization_max: f64,
}

/// One second of client-visible traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestSecondRow {
    /// Whole seconds since run start.
    pub second: u64,
    /// Requests actually sent in this second.
    pub sent: u32,
    /// Requests that ended in this second, by outcome.
    pub ended: OutcomeCounts,
    /// Requests started by the end of this second and not ended by then.
    pub in_flight: u64,
    /// Median end-to-end latency of requests that ended in this second.
    pub latency_p50: Option<Duration>,
    /// 99th percentile of the same.
    pub latency_p99: Option<Duration>,
}

/// One second of one backend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackendSecondRow {
    /// Whole seconds since run start.
    pub second: u64,
    /// Backend index.
    pub backend: usize,
    /// Attempts sent to it in this second.
    pub sent: u32,
    /// Attempts that ended in this second, by outcome.
    pub ended: OutcomeCounts,
    /// How long its breaker was open during this second.
    pub breaker_open: Duration,
    /// Whether its breaker was open at the end of this second.
    pub breaker_open_at_end: bool,
    /// Mean PTU utilization (%) of the samples taken in this second.
    pub utilization_mean: Option<f64>,
    /// Largest PTU utilization (%) sampled in this second.
    pub utilization_max: Option<f64>,
}

/// The per-second series of one strategy.
#[derive(Debug)]
pub struct SecondSeries {
    backends: usize,
    requests: Vec<RequestSecond>,
    backend_seconds: Vec<BackendSecond>,
    latency: SecondLatency,
    beyond_horizon: u64,
}

fn second_of(at: Duration) -> usize {
    usize::try_from(at.as_secs()).unwrap_or(usize::MAX)
}

impl SecondSeries {
    /// An empty series for `backends` backends.
    pub fn new(backends: usize) -> Self {
        SecondSeries {
            backends,
            requests: Vec::new(),
            backend_seconds: Vec::new(),
            latency: SecondLatency::default(),
            beyond_horizon: 0,
        }
    }

    /// Number of seconds covered (0 ..= last second with any event).
    pub fn seconds(&self) -> u64 {
        self.requests.len() as u64
    }

    /// Events left out because they fell after [`MAX_SECONDS`].
    pub fn beyond_horizon(&self) -> u64 {
        self.beyond_horizon
    }

    /// Request latencies left out of per-second percentiles because they arrived after their
    /// second was finalised (see [`SecondLatency`]).
    pub fn late_latency_samples(&self) -> u64 {
        self.latency.late_samples()
    }

    /// Make room for `second`; `false` (and counted) when it is beyond the horizon.
    fn grow_to(&mut self, second: usize) -> bool {
        if second >= MAX_SECONDS {
            self.beyond_horizon += 1;
            return false;
        }
        if second >= self.requests.len() {
            self.requests.resize(second + 1, RequestSecond::default());
            self.backend_seconds
                .resize((second + 1) * self.backends, BackendSecond::default());
        }
        true
    }

    fn backend_second(&mut self, at: Duration, backend: usize) -> Option<&mut BackendSecond> {
        if backend >= self.backends {
            return None;
        }
        let second = second_of(at);
        if !self.grow_to(second) {
            return None;
        }
        self.backend_seconds
            .get_mut(second * self.backends + backend)
    }

    /// Count a finished request (sent at `actual_start`, ended at `end`).
    pub fn add_request(
        &mut self,
        actual_start: Duration,
        end: Duration,
        class: ErrorClass,
        e2e: Duration,
    ) {
        let sent_second = second_of(actual_start);
        let end_second = second_of(end);
        if !self.grow_to(sent_second.max(end_second)) {
            return;
        }
        self.requests[sent_second].sent += 1;
        self.requests[end_second].ended.count(class);
        self.latency.record(end_second, e2e);
    }

    /// Count a finished attempt on `backend`.
    pub fn add_attempt(
        &mut self,
        backend: usize,
        start: Duration,
        end: Duration,
        class: ErrorClass,
    ) {
        if let Some(bucket) = self.backend_second(start, backend) {
            bucket.sent += 1;
        }
        if let Some(bucket) = self.backend_second(end, backend) {
            bucket.ended.count(class);
        }
    }

    /// Add a PTU utilization sample.
    pub fn add_utilization(&mut self, at: Duration, backend: usize, percent: f64) {
        if let Some(bucket) = self.backend_second(at, backend) {
            if bucket.utilization_samples == 0 || percent > bucket.utilization_max {
                bucket.utilization_max = percent;
            }
            bucket.utilization_sum += percent;
            bucket.utilization_samples += 1;
        }
    }

    /// Mark `backend`'s breaker open over `[from, to)`; `still_open_at_to` when `to` is the
    /// end of the run rather than a real close (the breaker then counts as open at `to`).
    pub fn add_breaker_open(
        &mut self,
        backend: usize,
        from: Duration,
        to: Duration,
        still_open_at_to: bool,
    ) {
        if backend >= self.backends || to <= from {
            return;
        }
        let first = second_of(from);
        let last = second_of(to);
        if !self.grow_to(last) {
            return;
        }
        for second in first..=last {
            let second_start = Duration::from_secs(second as u64);
            let second_end = second_start + Duration::from_secs(1);
            let overlap = to.min(second_end).saturating_sub(from.max(second_start));
            let bucket = &mut self.backend_seconds[second * self.backends + backend];
            bucket.breaker_open_micros += u32::try_from(overlap.as_micros()).unwrap_or(u32::MAX);
            if from <= second_end && (second_end < to || (still_open_at_to && second_end == to)) {
                bucket.breaker_open_at_end = true;
            }
        }
    }

    /// Client-visible rows, one per second in order.
    pub fn request_rows(&self) -> impl Iterator<Item = RequestSecondRow> + '_ {
        let mut in_flight: u64 = 0;
        self.requests
            .iter()
            .enumerate()
            .map(move |(second, bucket)| {
                in_flight += u64::from(bucket.sent);
                in_flight = in_flight.saturating_sub(u64::from(bucket.ended.total()));
                let latency = self.latency.percentiles(second);
                RequestSecondRow {
                    second: second as u64,
                    sent: bucket.sent,
                    ended: bucket.ended,
                    in_flight,
                    latency_p50: latency.map(|(p50, _)| p50),
                    latency_p99: latency.map(|(_, p99)| p99),
                }
            })
    }

    /// Backend rows of one second, in backend order.
    pub fn backend_rows(&self, second: u64) -> impl Iterator<Item = BackendSecondRow> + '_ {
        let start = usize::try_from(second)
            .unwrap_or(usize::MAX)
            .saturating_mul(self.backends);
        let slice = self
            .backend_seconds
            .get(start..start.saturating_add(self.backends))
            .unwrap_or(&[]);
        slice.iter().enumerate().map(move |(backend, bucket)| {
            let sampled = bucket.utilization_samples > 0;
            BackendSecondRow {
                second,
                backend,
                sent: bucket.sent,
                ended: bucket.ended,
                breaker_open: Duration::from_micros(u64::from(bucket.breaker_open_micros)),
                breaker_open_at_end: bucket.breaker_open_at_end,
                utilization_mean: sampled
                    .then(|| bucket.utilization_sum / f64::from(bucket.utilization_samples)),
                utilization_max: sampled.then_some(bucket.utilization_max),
            }
        })
    }
}
