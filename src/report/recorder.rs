//! [`StrategyRecorder`]: everything a run folder shows of one strategy, folded in as records
//! are produced so memory does not grow with their number: the summary's totals
//! ([`SummaryRecorder`]), the per-second series and the interval log. `finish` turns them
//! into a [`StrategySummary`], the series and the histograms.
//!
//! Hot-path cost: the summary's counters and flat histogram counts, a per-second series
//! update and an interval-log count per record, no allocation (the per-second series
//! allocates once per new second).

use std::sync::Arc;
use std::time::Duration;

use super::setup::RunSetup;
use super::summary::StrategySummary;
use super::summary_recorder::SummaryRecorder;
use super::totals::StrategyTotals;
use crate::metrics::intervals::{DEFAULT_INTERVAL, IntervalHistograms};
use crate::metrics::latency::LatencyHistogram;
use crate::metrics::record::{AttemptRecord, BackendIndex, RequestRecord, StrategyIndex};
use crate::metrics::series::SecondSeries;

/// Incremental record of one strategy's run for a run folder. Feed it every record as it is
/// produced.
#[derive(Debug)]
pub struct StrategyRecorder {
    summary: SummaryRecorder,
    series: SecondSeries,
    intervals: IntervalHistograms,
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
            series: SecondSeries::new(backends),
            intervals: IntervalHistograms::new(
                DEFAULT_INTERVAL,
                &format!(
                    "throttlebox {}: scenario {}, seed {}, strategy #{strategy}",
                    env!("CARGO_PKG_VERSION"),
                    setup.scenario,
                    setup.seed
                ),
            ),
            summary: SummaryRecorder::new(strategy, setup),
        }
    }

    /// Fold in one finished logical request.
    pub fn add_request(&mut self, record: &RequestRecord) {
        self.summary.add_request(record);
        let e2e = record.e2e();
        self.series
            .add_request(record.actual_start, record.end, record.error, e2e);
        if record.succeeded() {
            self.intervals.record(record.end, e2e, record.ttft());
        }
    }

    /// Fold in one finished backend attempt.
    pub fn add_attempt(&mut self, record: &AttemptRecord) {
        if self.summary.add_attempt(record) {
            self.series.add_attempt(
                usize::from(record.backend),
                record.start,
                record.end,
                record.error,
            );
        }
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
        if let Some(since) = self.summary.breaker_transition(at, backend, open, reason) {
            self.series
                .add_breaker_open(usize::from(backend), since, at, false);
        }
    }

    /// A PTU utilization reading (percent, e.g. `87.5`) of `backend` at `at`.
    pub fn utilization_sample(&mut self, at: Duration, backend: BackendIndex, percent: f64) {
        if self.summary.utilization_sample(backend, percent) {
            self.series
                .add_utilization(at, usize::from(backend), percent);
        }
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
        self,
    ) -> (
        StrategySummary,
        SecondSeries,
        StrategyHistograms,
        StrategyTotals,
    ) {
        let StrategyRecorder {
            mut summary,
            mut series,
            intervals,
        } = self;
        let run_end = summary.run_end();
        summary.close_breakers_at(run_end, |backend, since| {
            series.add_breaker_open(backend, since, run_end, true);
        });
        let (summary, totals) = summary.into_summary();
        let late_interval_samples = intervals.late_samples();
        let histograms = StrategyHistograms {
            e2e: totals.e2e.clone(),
            ttft: totals.ttft.clone(),
            interval_log: intervals.finish(),
            late_interval_samples,
        };
        (summary, series, histograms, totals)
    }
}
