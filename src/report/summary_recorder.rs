//! [`SummaryRecorder`]: folds one strategy's records into the running totals its summary is
//! computed from ([`StrategyTotals`]: counters and the four full-run latency histograms) and
//! nothing else. [`super::recorder::StrategyRecorder`] adds the per-second series and the
//! interval log on top of it for a run folder; a run that keeps only summaries (a sweep's or a
//! tune's cells, a plan's candidates) records with this one alone and skips their cost.
//!
//! Hot-path cost: a handful of counter increments and flat histogram counts per record, no
//! allocation. The latency counts become `hdrhistogram` values when the run ends. Two of the
//! four histograms repeat another in a simulation, where every request is sent when it is
//! due: its send lag is zero (counted, and recorded in one go at the end) and its TTFT from
//! the send is its TTFT (shared until the first request where they differ).

use std::sync::Arc;
use std::time::Duration;

use super::setup::RunSetup;
use super::summarize;
use super::summary::StrategySummary;
use super::totals::{BackendTotals, StrategyTotals};
use crate::metrics::latency::{LatencyHistogram, LatencyRecorder};
use crate::metrics::record::{
    AttemptRecord, BackendIndex, ErrorClass, RequestRecord, StrategyIndex,
};

/// Incremental totals of one strategy's run. Feed it every record as it is produced.
#[derive(Debug)]
pub struct SummaryRecorder {
    setup: Arc<RunSetup>,
    totals: StrategyTotals,
    goodput_ttft: Option<Duration>,
    goodput_e2e: Option<Duration>,
    latest: Duration,
    /// The four latency histograms of `totals`, recorded here and put in `totals` at the end.
    e2e: LatencyRecorder,
    ttft: LatencyRecorder,
    ttft_from_send: LatencyRecorder,
    send_lag: LatencyRecorder,
    /// Zero send lags not yet in `send_lag`.
    zero_send_lags: u64,
    /// Every TTFT from the send so far equalled its TTFT: `ttft_from_send` is empty and the
    /// histogram is `ttft`'s.
    from_send_is_ttft: bool,
}

impl SummaryRecorder {
    /// A recorder for strategy `strategy` of the run described by `setup`.
    pub fn new(strategy: StrategyIndex, setup: Arc<RunSetup>) -> Self {
        let backends = setup.backends.len();
        SummaryRecorder {
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
            latest: Duration::ZERO,
            setup,
            e2e: LatencyRecorder::default(),
            ttft: LatencyRecorder::default(),
            ttft_from_send: LatencyRecorder::default(),
            send_lag: LatencyRecorder::default(),
            zero_send_lags: 0,
            from_send_is_ttft: true,
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
        // The send lag (`send_lag()`, saturating) is zero exactly when the request was sent
        // no later than intended (always, simulated): a compare instead of the subtraction.
        if record.actual_start <= record.intended_start {
            self.zero_send_lags += 1;
        } else {
            self.send_lag.record(record.send_lag());
        }
        self.latest = self.latest.max(record.end);

        if !record.succeeded() {
            return;
        }
        let e2e = record.e2e();
        self.e2e.record(e2e);
        let ttft = record.ttft();
        if let Some(ttft) = ttft {
            // Sent when due, its TTFT from the send is its TTFT: nothing to do while both
            // histograms are `ttft`'s.
            let sent_when_due = record.actual_start == record.intended_start;
            if !(self.from_send_is_ttft && sent_when_due)
                && let Some(from_send) = record.ttft_from_send()
            {
                if !self.from_send_is_ttft {
                    self.ttft_from_send.record(from_send);
                } else if from_send != ttft {
                    // The first that differs: until now both histograms were `ttft`'s.
                    self.ttft_from_send = self.ttft.clone();
                    self.ttft_from_send.record(from_send);
                    self.from_send_is_ttft = false;
                }
            }
            self.ttft.record(ttft);
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
        // The billed backend is the final one unless the request spilled over: then one
        // look-up serves both.
        let mut billed = record.billed_backend();
        if let Some(backend) = record.final_backend {
            match totals.backends.get_mut(usize::from(backend)) {
                Some(entry) => {
                    entry.successes += 1;
                    entry.tokens_in += prompt;
                    entry.tokens_out += completion;
                    if billed == Some(backend) {
                        entry.served_in += prompt;
                        entry.served_out += completion;
                        billed = None;
                    }
                }
                None => totals.unknown_backend_records += 1,
            }
        }
        if let Some(billed) = billed {
            match totals.backends.get_mut(usize::from(billed)) {
                Some(entry) => {
                    entry.served_in += prompt;
                    entry.served_out += completion;
                }
                None => totals.unknown_backend_records += 1,
            }
        }
    }

    /// Fold in one finished backend attempt; false when it names no known backend.
    pub fn add_attempt(&mut self, record: &AttemptRecord) -> bool {
        let backend = usize::from(record.backend);
        self.latest = self.latest.max(record.end);
        let Some(entry) = self.totals.backends.get_mut(backend) else {
            self.totals.unknown_backend_records += 1;
            return false;
        };
        entry.attempts += 1;
        let counter = match record.error {
            ErrorClass::None => &mut entry.ok,
            ErrorClass::Throttled => &mut entry.throttled,
            ErrorClass::ServerError => &mut entry.server_error,
            _ => &mut entry.other_error,
        };
        *counter += 1;
        true
    }

    /// A breaker changed state at `at` (see
    /// [`super::recorder::StrategyRecorder::breaker_transition`]). Returns when it had opened
    /// if this call closed it (the span it was open), else None.
    pub fn breaker_transition(
        &mut self,
        at: Duration,
        backend: BackendIndex,
        open: bool,
        reason: &str,
    ) -> Option<Duration> {
        self.latest = self.latest.max(at);
        let Some(entry) = self.totals.backends.get_mut(usize::from(backend)) else {
            self.totals.unknown_backend_records += 1;
            return None;
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
                None
            }
            (Some(since), false) => {
                entry.breaker_open_since = None;
                entry.breaker_open_total += at.saturating_sub(since);
                Some(since)
            }
            _ => None,
        }
    }

    /// A PTU utilization reading (percent) of `backend`; false when it was not counted (not
    /// finite, or no known backend).
    pub fn utilization_sample(&mut self, backend: BackendIndex, percent: f64) -> bool {
        if !percent.is_finite() {
            return false;
        }
        let Some(entry) = self.totals.backends.get_mut(usize::from(backend)) else {
            self.totals.unknown_backend_records += 1;
            return false;
        };
        if entry.utilization_samples == 0 || percent > entry.utilization_max {
            entry.utilization_max = percent;
        }
        entry.utilization_sum += percent;
        entry.utilization_samples += 1;
        true
    }

    /// When the run ends for the breakers still open: the later of its planned duration and
    /// the last event seen.
    pub fn run_end(&self) -> Duration {
        self.setup.duration.max(self.latest)
    }

    /// Close the breakers still open at `run_end`, accounting them open until then; calls
    /// `closed(backend, since)` for each.
    pub fn close_breakers_at(
        &mut self,
        run_end: Duration,
        mut closed: impl FnMut(usize, Duration),
    ) {
        for (backend, entry) in self.totals.backends.iter_mut().enumerate() {
            if let Some(since) = entry.breaker_open_since.take() {
                entry.breaker_open_total += run_end.saturating_sub(since);
                closed(backend, since);
            }
        }
    }

    /// The summary and the totals it was computed from (breakers still open are closed at
    /// [`Self::run_end`] first).
    pub fn finish_with_totals(mut self) -> (StrategySummary, StrategyTotals) {
        self.close_breakers_at(self.run_end(), |_, _| {});
        self.into_summary()
    }

    /// The summary.
    pub fn finish(self) -> StrategySummary {
        self.finish_with_totals().0
    }

    /// The summary and totals, the breakers having been closed by the caller.
    pub(super) fn into_summary(mut self) -> (StrategySummary, StrategyTotals) {
        self.send_lag
            .record_n(Duration::ZERO, std::mem::take(&mut self.zero_send_lags));
        self.totals.e2e = self.e2e.histogram();
        self.totals.ttft = self.ttft.histogram();
        self.totals.ttft_from_send = if self.from_send_is_ttft {
            self.totals.ttft.clone()
        } else {
            self.ttft_from_send.histogram()
        };
        self.totals.send_lag = self.send_lag.histogram();
        let summary = summarize::strategy_summary(&self.totals, &self.setup);
        (summary, self.totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{BackendInfo, CostConfig, Mode, SloConfig};

    fn setup(backends: usize) -> Arc<RunSetup> {
        Arc::new(RunSetup {
            scenario: "t".to_string(),
            seed: 1,
            mode: Mode::Sim,
            duration: Duration::from_secs(1),
            strategies: vec!["s".to_string()],
            backends: (0..backends)
                .map(|k| BackendInfo {
                    name: format!("b{k}"),
                    provisioned_ptus: 0,
                })
                .collect(),
            apps: vec!["a".to_string()],
            costs: CostConfig::default(),
            slo: SloConfig::default(),
        })
    }

    /// The final and the billed backend share a look-up when they are the same one; the
    /// counts are those of one look-up each (an unknown backend counted once per role).
    #[test]
    fn final_and_billed_backends_count_as_separate_look_ups_would() {
        let mut recorder = SummaryRecorder::new(0, setup(2));
        let ok = RequestRecord {
            final_backend: Some(0),
            prompt_tokens: 10,
            completion_tokens: 3,
            ..RequestRecord::default()
        };
        recorder.add_request(&ok);
        recorder.add_request(&RequestRecord {
            spilled_over: true,
            served_by: Some(1),
            ..ok
        });
        recorder.add_request(&RequestRecord {
            final_backend: Some(5),
            ..ok
        });
        recorder.add_request(&RequestRecord {
            spilled_over: true,
            served_by: Some(9),
            ..ok
        });
        let (_, totals) = recorder.finish_with_totals();
        let b0 = &totals.backends[0];
        assert_eq!((b0.successes, b0.tokens_in, b0.tokens_out), (3, 30, 9));
        assert_eq!((b0.served_in, b0.served_out), (10, 3));
        let b1 = &totals.backends[1];
        assert_eq!((b1.successes, b1.served_in, b1.served_out), (0, 10, 3));
        assert_eq!(totals.unknown_backend_records, 3);
    }
}
