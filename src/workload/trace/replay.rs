//! Turning trace rows into requests: windowing (in trace time), speed-up, rate scaling and the
//! request fields the trace does not carry. Lazy: at most one row of look-ahead and the few
//! replicas of one row are held at a time.
//!
//! Run time of a kept row = (row time − first row's time − `window.from`) / `speedup`.
//!
//! Rate scaling, seeded from `workload.trace:rate_scale` (CRN: one draw per row in file order):
//! - factor < 1: each row is kept with probability `factor` (independent thinning, which keeps
//!   the trace's burst structure and scales every window's count by `factor` in expectation);
//! - factor > 1: each row is sent `floor(factor)` times plus once more with probability
//!   `frac(factor)`; the original copy keeps the row's time, the extra copies are placed
//!   uniformly at random between the row's time and the next kept row's time (so the output
//!   stays in time order with one row of look-ahead), carrying the row's token counts. The
//!   last row's copies share its time.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;

use super::reader::{TraceReader, TraceRow};
use crate::seed::{self, SimRng};
use crate::workload::config::{TraceConfig, TraceFormat, TraceMaxTokens};
use crate::workload::error::{WorkloadError, WorkloadErrorKind};
use crate::workload::request::{DeploymentId, Request, prompt_chars};

/// A trace replay compiled from its [`TraceConfig`] (file path resolved, values checked).
#[derive(Debug, Clone)]
pub struct TracePlan {
    /// The trace file (resolved against the scenario's directory).
    pub file: PathBuf,
    format: TraceFormat,
    speedup: f64,
    rate_scale: f64,
    from_ns: i64,
    until_ns: Option<i64>,
    max_rows: Option<u64>,
    /// Source index of the trace.
    pub index: u16,
    deployment: DeploymentId,
    max_tokens: Option<TraceMaxTokens>,
    stream_share: f64,
    priority: u8,
}

impl TracePlan {
    /// Check `cfg` (at key path `path`) and resolve its file against `base_dir`.
    pub fn new(
        cfg: &TraceConfig,
        path: &str,
        base_dir: &std::path::Path,
        index: u16,
        deployment: DeploymentId,
    ) -> Result<Self, WorkloadError> {
        let positive = |field: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                Err(WorkloadError::invalid(
                    format!("{path}.{field}"),
                    value,
                    "must be a finite number > 0",
                ))
            }
        };
        let speedup = positive("speedup", cfg.speedup)?;
        let rate_scale = positive("rate_scale", cfg.rate_scale)?;
        if !(0.0..=1.0).contains(&cfg.stream_share) {
            return Err(WorkloadError::invalid(
                format!("{path}.stream_share"),
                cfg.stream_share,
                "must be between 0 and 1",
            ));
        }
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        let from = cfg.window.from.unwrap_or(Duration::ZERO);
        if let Some(until) = cfg.window.until
            && until <= from
        {
            return Err(WorkloadError::invalid(
                format!("{path}.window.until"),
                crate::duration::format(until),
                format!(
                    "must be later than window.from = {}",
                    crate::duration::format(from)
                ),
            ));
        }
        if cfg.window.max_requests == Some(0) {
            return Err(WorkloadError::invalid(
                format!("{path}.window.max_requests"),
                0,
                "must be at least 1 (leave it out for no limit)",
            ));
        }
        if cfg.path.as_os_str().is_empty() {
            return Err(WorkloadError::invalid(
                format!("{path}.path"),
                "\"\"",
                "must name a CSV file",
            ));
        }
        Ok(TracePlan {
            file: base_dir.join(&cfg.path),
            format: cfg.format.clone(),
            speedup,
            rate_scale,
            from_ns: nanos(from),
            until_ns: cfg.window.until.map(nanos),
            max_rows: cfg.window.max_requests,
            index,
            deployment,
            max_tokens: cfg.max_tokens,
            stream_share: cfg.stream_share,
            priority: cfg.priority,
        })
    }

    /// Open the file and check its header (done once by `Workload::new`, again per replay).
    pub fn open(&self) -> Result<TraceReader, WorkloadError> {
        TraceReader::open(&self.file, &self.format)
    }

    /// The replay's length in run time if the window bounds it (`until`), else `None`.
    pub fn window_length(&self) -> Option<Duration> {
        self.until_ns.map(|until| {
            Duration::from_secs_f64((until - self.from_ns) as f64 / 1e9 / self.speedup)
        })
    }

    /// The rate-scaling factor.
    pub fn rate_scale(&self) -> f64 {
        self.rate_scale
    }

    /// The row cap of the window, if any.
    pub fn max_rows(&self) -> Option<u64> {
        self.max_rows
    }
}

/// The lazy request stream of a trace replay (requests carry `id = 0`; the merge numbers them).
#[derive(Debug)]
pub struct TraceStream {
    plan: TracePlan,
    reader: Option<TraceReader>,
    /// An error to report before anything else (the file failed to open).
    open_error: Option<WorkloadError>,
    horizon: Option<Duration>,
    first_ns: Option<i64>,
    previous_ns: i64,
    rows_kept: u64,
    /// A kept row waiting for the next one (rate_scale > 1 spreads copies up to it).
    held: Option<TraceRow>,
    ready: VecDeque<Request>,
    done: bool,
    thinning: SimRng,
    replicas: SimRng,
    stream: SimRng,
}

impl TraceStream {
    /// A fresh replay of `plan` under scenario `seed`, cut at `horizon` (run time) if given.
    pub fn new(plan: TracePlan, seed: u64, horizon: Option<Duration>) -> Self {
        let (reader, open_error) = match plan.open() {
            Ok(reader) => (Some(reader), None),
            Err(error) => (None, Some(error)),
        };
        TraceStream {
            plan,
            reader,
            open_error,
            horizon,
            first_ns: None,
            previous_ns: i64::MIN,
            rows_kept: 0,
            held: None,
            ready: VecDeque::new(),
            done: false,
            thinning: seed::stream(seed, "workload.trace:rate_scale"),
            replicas: seed::stream(seed, "workload.trace:replicas"),
            stream: seed::stream(seed, "workload.trace:stream"),
        }
    }

    /// The next row inside the window (`None` once past it or at the end of the file).
    fn next_windowed_row(&mut self) -> Option<Result<TraceRow, WorkloadError>> {
        loop {
            if self.done || self.plan.max_rows.is_some_and(|max| self.rows_kept >= max) {
                return None;
            }
            let row = match self.reader.as_mut()?.next_row()? {
                Ok(row) => row,
                Err(error) => return Some(Err(error)),
            };
            if row.time_ns < self.previous_ns {
                let reader = self.reader.as_ref()?;
                let back_ms = (self.previous_ns - row.time_ns) as f64 / 1e6;
                return Some(Err(WorkloadError::from(WorkloadErrorKind::TraceField {
                    file: self.plan.file.clone(),
                    line: row.line,
                    column: reader.timestamp_column().to_string(),
                    value: format!("{back_ms} ms before the previous row"),
                    reason: "traces must be sorted by time".into(),
                })));
            }
            self.previous_ns = row.time_ns;
            let first = *self.first_ns.get_or_insert(row.time_ns);
            let offset = row.time_ns - first;
            if offset < self.plan.from_ns {
                continue;
            }
            if self.plan.until_ns.is_some_and(|until| offset >= until)
                || self
                    .horizon
                    .is_some_and(|h| self.run_time(row.time_ns) >= h)
            {
                self.done = true;
                return None;
            }
            self.rows_kept += 1;
            return Some(Ok(row));
        }
    }

    fn run_time(&self, time_ns: i64) -> Duration {
        let first = self.first_ns.unwrap_or(time_ns);
        let since_from = (time_ns - first - self.plan.from_ns).max(0);
        if self.plan.speedup == 1.0 {
            Duration::from_nanos(since_from as u64)
        } else {
            Duration::from_nanos((since_from as f64 / self.plan.speedup).round() as u64)
        }
    }

    fn request(&mut self, row: &TraceRow, at: Duration) -> Request {
        let (max_tokens, output_tokens) = match self.plan.max_tokens {
            None => (None, row.output_tokens),
            Some(TraceMaxTokens::Output(_)) => (Some(row.output_tokens), row.output_tokens),
            Some(TraceMaxTokens::Fixed(cap)) => (Some(cap), row.output_tokens.min(cap)),
        };
        let stream =
            self.plan.stream_share > 0.0 && self.stream.random::<f64>() < self.plan.stream_share;
        Request {
            id: 0,
            at,
            app: self.plan.index,
            deployment: self.plan.deployment,
            prompt_tokens: row.prompt_tokens,
            prompt_chars: prompt_chars(row.prompt_tokens),
            max_tokens,
            output_tokens,
            stream,
            priority: self.plan.priority,
            session: (u64::from(self.plan.index) << 32) | (row.index & 0xFFFF_FFFF),
        }
    }

    /// Queue the copies of `row` (whose extra copies spread up to `next_ns`).
    fn emit_copies(&mut self, row: TraceRow, next_ns: i64) {
        let scale = self.plan.rate_scale;
        let whole = scale.floor();
        let extra = u64::from(self.thinning.random::<f64>() < scale - whole);
        let copies = whole as u64 + extra;
        let at = self.run_time(row.time_ns);
        let first = self.request(&row, at);
        self.ready.push_back(first);
        let span = (next_ns - row.time_ns).max(0) as f64;
        let mut offsets: Vec<i64> = (1..copies)
            .map(|_| (self.replicas.random::<f64>() * span) as i64)
            .collect();
        offsets.sort_unstable();
        for offset in offsets {
            let at = self.run_time(row.time_ns + offset);
            if self.horizon.is_some_and(|h| at >= h) {
                continue;
            }
            let copy = self.request(&row, at);
            self.ready.push_back(copy);
        }
    }
}

impl Iterator for TraceStream {
    type Item = Result<Request, WorkloadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.open_error.take() {
            self.done = true;
            return Some(Err(error));
        }
        loop {
            if let Some(request) = self.ready.pop_front() {
                return Some(Ok(request));
            }
            let row = match self.next_windowed_row() {
                Some(Ok(row)) => Some(row),
                Some(Err(error)) => {
                    self.done = true;
                    self.held = None;
                    return Some(Err(error));
                }
                None => None,
            };
            let scale = self.plan.rate_scale;
            if scale < 1.0 {
                let row = row?;
                if self.thinning.random::<f64>() < scale {
                    let at = self.run_time(row.time_ns);
                    return Some(Ok(self.request(&row, at)));
                }
            } else if scale == 1.0 {
                let row = row?;
                let at = self.run_time(row.time_ns);
                return Some(Ok(self.request(&row, at)));
            } else {
                match (self.held.take(), row) {
                    (None, None) => return None,
                    (None, Some(row)) => self.held = Some(row),
                    (Some(held), None) => self.emit_copies(held, held.time_ns),
                    (Some(held), Some(row)) => {
                        self.emit_copies(held, row.time_ns);
                        self.held = Some(row);
                    }
                }
            }
        }
    }
}
