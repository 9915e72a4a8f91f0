//! [`StrategyRecorder`]: folds one strategy's records into fixed-size histograms, counters
//! and the per-second series as they are produced, so memory does not grow with the number of
//! records. `finish` turns the totals into a [`StrategySummary`].
//!
//! Hot-path cost: a handful of counter increments and histogram records per record, no
//! allocation (the per-second series allocates once per new second). The full-run latency
//! histograms are recorded as flat counts and become `hdrhistogram` values when the run ends.

use std::sync::Arc;
use std::time::Duration;

use super::setup::RunSetup;
use super::summarize;
use super::summary::StrategySummary;
use super::totals::{BackendTotals, StrategyTotals};
use crate::metrics::intervals::{DEFAULT_INTERVAL, IntervalHistograms};
use crate::metrics::latency::{LatencyHistogram, LatencyRecorder};
use crate::metrics::record::{
    AttemptRecord, BackendIndex, ErrorClass, RequestRecord, StrategyIndex,
};
use crate::metrics::series::SecondSeries;

/// Incremental summary of one strategy's run. Feed it every record as it is produced.
#[derive(Debug)]
pub struct StrategyRecorder {
    setup: Arc<RunSetup>,
    totals: StrategyTotals,
    series: SecondSeries,
    goodput_ttft: Option<Duration>,
    goodput_e2e: Option<Duration>,
    latest: Duration,
    intervals: IntervalHistograms,
    /// The four latency histograms of `totals`, recorded here and put in `totals` at the end.
    e2e: LatencyRecorder,
    ttft: LatencyRecorder,
    ttft_from_send: LatencyRecorder,
    send_lag: LatencyRecorder,
}

/// One strategy's latency histograms: full run (for charts) and the interval log (for exact
/// merging across runs).
#[derive(Debug)]
pub struct StrategyHistograms {
    /// End-to-end latency of successful requests, from the intended start.
    pub e2e: LatencyHistogram,
    /// Time to first token of successful streams, from the intended start.
    pub ttft: LatencyHistogram,
    /// The HdrHistogram interval log text (tags `e2e`, `ttft`), or why it could not be
    /// serialised.
    pub interval_log: Result<Vec<u8>, String>,
    /// Samples that reached the interval log after their interval was written.
    pub late_interval_samples: u64,
}

impl StrategyRecorder {
    /// A recorder for strategy `strategy` of the run described by `setup`.
    pub fn new(strategy: StrategyIndex, setup: Arc<RunSetup>) -> Self {
        let backends = setup.backends.len();
        StrategyRecorder {
            goodput_ttft: setup.slo.p99_ttft,
            goodput_e2e: setup.slo.p99_e2e,
            totals: StrategyTotals {
                strategy,
                requests: 0,
                outcomes: [0; ErrorClass::ALL.len()],
                attempts: 0,
                client_retries: 0,
                gateway_retries: 0,
                tokens_in: 0,
                tokens_out: 0,
                spilled_successes: 0,
                goodput: 0,
                e2e: LatencyHistogram::new(),
                ttft: LatencyHistogram::new(),
                ttft_from_send: LatencyHistogram::new(),
                send_lag: LatencyHistogram::new(),
                backends: vec![BackendTotals::default(); backends],
                unknown_backend_records: 0,
            },
            series: SecondSeries::new(backends),
            latest: Duration::ZERO,
            intervals: IntervalHistograms::new(
                DEFAULT_INTERVAL,
                &format!(
                    "throttlebox {}: scenario {}, seed {}, strategy #{strategy}",
                    env!("CARGO_PKG_VERSION"),
                    setup.scenario,
                    setup.seed
                ),
            ),
            setup,
            e2e: LatencyRecorder::default(),
            ttft: LatencyRecorder::default(),
            ttft_from_send: LatencyRecorder::default(),
            send_lag: LatencyRecorder::default(),
        }
    }

    /// Fold in one finished logical request.
    pub fn add_request(&mut self, record: &RequestRecord) {
        let totals = &mut self.totals;
        totals.requests += 1;
        totals.outcomes[record.error.index()] += 1;
        totals.attempts += u64::from(record.attempts);
        totals.client_retries += u64::from(record.client_retries);
        totals.gateway_retries += u64::from(record.gateway_retries);
        self.send_lag.record(record.send_lag());
        let e2e = record.e2e();
        self.series
            .add_request(record.actual_start, record.end, record.error, e2e);
        self.latest = self.latest.max(record.end);

        if !record.succeeded() {
            return;
        }
        self.e2e.record(e2e);
        let ttft = record.ttft();
        self.intervals.record(record.end, e2e, ttft);
        if let (Some(ttft), Some(from_send)) = (ttft, record.ttft_from_send()) {
            self.ttft.record(ttft);
            self.ttft_from_send.record(from_send);
        }
        let prompt = u64::from(record.prompt_tokens);
        let completion = u64::from(record.completion_tokens);
        totals.tokens_in += prompt;
        totals.tokens_out += completion;
        if record.spilled_over {
            totals.spilled_successes += 1;
        }
        let within = |value: Option<Duration>, bound: Option<Duration>| match (value, bound) {
            (Some(value), Some(bound)) => value <= bound,
            _ => true,
        };
        if within(ttft, self.goodput_ttft) && within(Some(e2e), self.goodput_e2e) {
            totals.goodput += 1;
        }
        if let Some(backend) = record.final_backend {
            match totals.backends.get_mut(usize::from(backend)) {
                Some(entry) => {
                    entry.successes += 1;
                    entry.tokens_in += prompt;
                    entry.tokens_out += completion;
                }
                None => totals.unknown_backend_records += 1,
            }
        }
        if let Some(billed) = record.billed_backend() {
            match totals.backends.get_mut(usize::from(billed)) {
                Some(entry) => {
                    entry.served_in += prompt;
                    entry.served_out += completion;
                }
                None => totals.unknown_backend_records += 1,
            }
        }
    }

    /// Fold in one finished backend attempt.
    pub fn add_attempt(&mut self, record: &AttemptRecord) {
        let backend = usize::from(record.backend);
        self.latest = self.latest.max(record.end);
        let Some(entry) = self.totals.backends.get_mut(backend) else {
            self.totals.unknown_backend_records += 1;
            return;
        };
        entry.attempts += 1;
        let counter = match record.error {
            ErrorClass::None => &mut entry.ok,
            ErrorClass::Throttled => &mut entry.throttled,
            ErrorClass::ServerError => &mut entry.server_error,
            _ => &mut entry.other_error,
        };
        *counter += 1;
        self.series
            .add_attempt(backend, record.start, record.end, record.error);
    }

    /// A breaker changed state at `at`. `open` means it now refuses traffic (open); pass
    /// `false` for half-open and closed. Repeated calls with the same state are ignored.
    /// `reason` names why it tripped (e.g. `429`, `5xx`, `timeout`); trips are counted per
    /// reason (the reason of a close is ignored). Allocates only for a reason not seen before.
    pub fn breaker_transition(
        &mut self,
        at: Duration,
        backend: BackendIndex,
        open: bool,
        reason: &str,
    ) {
        self.latest = self.latest.max(at);
        let backend = usize::from(backend);
        let Some(entry) = self.totals.backends.get_mut(backend) else {
            self.totals.unknown_backend_records += 1;
            return;
        };
        match (entry.breaker_open_since, open) {
            (None, true) => {
                entry.breaker_open_since = Some(at);
                entry.breaker_trips += 1;
                match entry.breaker_trip_reasons.get_mut(reason) {
                    Some(count) => *count += 1,
                    None => {
                        entry.breaker_trip_reasons.insert(reason.to_string(), 1);
                    }
                }
            }
            (Some(since), false) => {
                entry.breaker_open_since = None;
                entry.breaker_open_total += at.saturating_sub(since);
                self.series.add_breaker_open(backend, since, at, false);
            }
            _ => {}
        }
    }

    /// Account breakers still open at `run_end` as open until then (and open at its end).
    fn close_breakers_at(&mut self, run_end: Duration) {
        for (backend, entry) in self.totals.backends.iter_mut().enumerate() {
            if let Some(since) = entry.breaker_open_since.take() {
                entry.breaker_open_total += run_end.saturating_sub(since);
                self.series.add_breaker_open(backend, since, run_end, true);
            }
        }
    }

    /// A PTU utilization reading (percent, e.g. `87.5`) of `backend` at `at`.
    pub fn utilization_sample(&mut self, at: Duration, backend: BackendIndex, percent: f64) {
        if !percent.is_finite() {
            return;
        }
        let backend = usize::from(backend);
        let Some(entry) = self.totals.backends.get_mut(backend) else {
            self.totals.unknown_backend_records += 1;
            return;
        };
        if entry.utilization_samples == 0 || percent > entry.utilization_max {
            entry.utilization_max = percent;
        }
        entry.utilization_sum += percent;
        entry.utilization_samples += 1;
        self.series.add_utilization(at, backend, percent);
    }

    /// The per-second series so far.
    pub fn series(&self) -> &SecondSeries {
        &self.series
    }

    /// The summary of this strategy's run.
    pub fn finish(self) -> StrategySummary {
        self.finish_with_series().0
    }

    /// The summary and the per-second series (for `timeseries.csv`). Breakers still open
    /// are closed at the later of the run's duration and the last event seen.
    pub fn finish_with_series(self) -> (StrategySummary, SecondSeries) {
        let (summary, series, _) = self.finish_recording();
        (summary, series)
    }

    /// The summary, the per-second series and the latency histograms (for `report.html` and
    /// `histograms/<strategy>.hlog`).
    pub fn finish_recording(self) -> (StrategySummary, SecondSeries, StrategyHistograms) {
        let (summary, series, histograms, _) = self.finish_with_totals();
        (summary, series, histograms)
    }

    /// As [`Self::finish_recording`], plus the running totals the summary was computed from
    /// (a live shard ships them so `merge` can recompute the whole run's summary).
    pub fn finish_with_totals(
        mut self,
    ) -> (
        StrategySummary,
        SecondSeries,
        StrategyHistograms,
        StrategyTotals,
    ) {
        self.close_breakers_at(self.setup.duration.max(self.latest));
        self.totals.e2e = self.e2e.histogram();
        self.totals.ttft = self.ttft.histogram();
        self.totals.ttft_from_send = self.ttft_from_send.histogram();
        self.totals.send_lag = self.send_lag.histogram();
        let summary = summarize::strategy_summary(&self.totals, &self.setup);
        let late_interval_samples = self.intervals.late_samples();
        let histograms = StrategyHistograms {
            e2e: self.totals.e2e.clone(),
            ttft: self.totals.ttft.clone(),
            interval_log: self.intervals.finish(),
            late_interval_samples,
        };
        (summary, self.series, histograms, self.totals)
    }
}
