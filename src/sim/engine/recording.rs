//! What a simulated strategy records, chosen once per run: everything a run folder shows
//! ([`StrategyRecorder`]: the summary's totals, the per-second series, the interval log) or
//! the summary's totals alone ([`SummaryRecorder`]) for runs that keep only summaries — a
//! sweep's or a tune's cells, a plan's candidates — which then skip the rest's cost. The
//! engine is generic over [`Recorder`], so the choice costs no branch per record.

use std::time::Duration;

use crate::metrics::{AttemptRecord, RequestRecord, SecondSeries};
use crate::report::{StrategyHistograms, StrategyRecorder, StrategySummary, SummaryRecorder};

/// What one strategy's run records besides its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    /// The summary, the per-second series and the latency histograms (a run folder's).
    Full,
    /// The summary only.
    SummaryOnly,
}

/// The per-second series and latency histograms of a [`Recording::Full`] run.
#[derive(Debug)]
pub struct Recorded {
    /// Per-second series.
    pub series: SecondSeries,
    /// Full-run latency histograms and the interval log.
    pub histograms: StrategyHistograms,
}

/// The records the engine folds in as they are produced.
pub(super) trait Recorder {
    /// A finished logical request.
    fn add_request(&mut self, record: &RequestRecord);
    /// A finished backend attempt.
    fn add_attempt(&mut self, record: &AttemptRecord);
    /// A breaker of report backend `backend` changed state.
    fn breaker_transition(&mut self, at: Duration, backend: u16, open: bool, reason: &str);
    /// A PTU utilization reading (percent).
    fn utilization_sample(&mut self, at: Duration, backend: u16, percent: f64);
    /// The summary, and the series and histograms when they were recorded.
    fn finish(self) -> (StrategySummary, Option<Recorded>);
}

impl Recorder for StrategyRecorder {
    fn add_request(&mut self, record: &RequestRecord) {
        StrategyRecorder::add_request(self, record);
    }

    fn add_attempt(&mut self, record: &AttemptRecord) {
        StrategyRecorder::add_attempt(self, record);
    }

    fn breaker_transition(&mut self, at: Duration, backend: u16, open: bool, reason: &str) {
        StrategyRecorder::breaker_transition(self, at, backend, open, reason);
    }

    fn utilization_sample(&mut self, at: Duration, backend: u16, percent: f64) {
        StrategyRecorder::utilization_sample(self, at, backend, percent);
    }

    fn finish(self) -> (StrategySummary, Option<Recorded>) {
        let (summary, series, histograms) = self.finish_recording();
        (summary, Some(Recorded { series, histograms }))
    }
}

impl Recorder for SummaryRecorder {
    fn add_request(&mut self, record: &RequestRecord) {
        SummaryRecorder::add_request(self, record);
    }

    fn add_attempt(&mut self, record: &AttemptRecord) {
        SummaryRecorder::add_attempt(self, record);
    }

    fn breaker_transition(&mut self, at: Duration, backend: u16, open: bool, reason: &str) {
        SummaryRecorder::breaker_transition(self, at, backend, open, reason);
    }

    fn utilization_sample(&mut self, _at: Duration, backend: u16, percent: f64) {
        SummaryRecorder::utilization_sample(self, backend, percent);
    }

    fn finish(self) -> (StrategySummary, Option<Recorded>) {
        (SummaryRecorder::finish(self), None)
    }
}
