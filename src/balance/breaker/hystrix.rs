//! Hystrix circuit breaker (`HystrixCommandProperties.java` at Netflix/Hystrix 08672cd):
//! rolling window of 10 000 ms in 1 s buckets; with at least `request_volume_threshold` (20)
//! calls in the window and an error percentage ≥ `error_threshold_percentage` (50) the circuit
//! opens; after `sleep_window` (5 000 ms) one test request is let through — success closes it
//! and resets the window, failure re-opens it for another sleep window. A call slower than
//! `execution_timeout` (1 000 ms) counts as a failure, as does a transport error. Hystrix reads
//! a health snapshot at most every 500 ms; here the window is read on each failure.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::window::{SlidingWindow, Window, end_probes};
use super::{BreakerRule, Outcome, TransitionLog};
use crate::balance::part::{Part, Problem};
use crate::balance::status_set::StatusSet;
use crate::balance::types::{BackendId, BackendState, Phase, Reason};
use crate::seed::SimRng;

/// Hystrix parameters (library defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HystrixRule {
    /// `circuitBreaker.requestVolumeThreshold` (20).
    pub request_volume_threshold: u32,
    /// `circuitBreaker.errorThresholdPercentage` (50).
    pub error_threshold_percentage: u32,
    /// `circuitBreaker.sleepWindowInMilliseconds` (5 000 ms).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub sleep_window: Duration,
    /// `metrics.rollingStats.timeInMilliseconds` in whole seconds (10).
    pub rolling_window_seconds: u32,
    /// `execution.isolation.thread.timeoutInMilliseconds` (1 000 ms), measured to headers.
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub execution_timeout: Duration,
    /// Responses counted as failures (Hystrix counts exceptions: 429, 5xx, transport errors).
    #[serde(rename = "status_codes")]
    pub failure_statuses: StatusSet,
}

impl Default for HystrixRule {
    fn default() -> Self {
        Self {
            request_volume_threshold: 20,
            error_threshold_percentage: 50,
            sleep_window: Duration::from_millis(5000),
            rolling_window_seconds: 10,
            execution_timeout: Duration::from_millis(1000),
            failure_statuses: StatusSet::codes(&[429])
                .union(StatusSet::range(500, 599))
                .with_transport_errors(),
        }
    }
}

impl Part for HystrixRule {
    fn check(&self) -> Result<(), Problem> {
        if self.rolling_window_seconds == 0 || self.error_threshold_percentage > 100 {
            return Err(Problem::new(
                "rolling_window_seconds",
                "rolling_window_seconds must be ≥ 1 and error_threshold_percentage ≤ 100",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open { until: Duration },
    Probing { in_flight: bool },
}

/// Hystrix state of every backend.
#[derive(Debug, Clone)]
pub struct HystrixBreaker {
    rule: HystrixRule,
    states: Vec<State>,
    windows: Vec<Window>,
}

impl HystrixBreaker {
    /// All closed.
    pub fn new(rule: HystrixRule, n: usize) -> Self {
        let windows = (0..n)
            .map(|_| Window::new(SlidingWindow::TimeBased, rule.rolling_window_seconds))
            .collect();
        Self {
            rule,
            states: vec![State::Closed; n],
            windows,
        }
    }
}

impl BreakerRule for HystrixBreaker {
    #[inline(never)]
    fn refresh(&mut self, now: Duration, _rng: &mut SimRng, log: &mut TransitionLog) {
        for (backend, state) in self.states.iter_mut().enumerate() {
            if let State::Open { until } = *state
                && now >= until
            {
                *state = State::Probing { in_flight: false };
                log.push(
                    until,
                    backend,
                    Phase::Open,
                    Phase::HalfOpen,
                    Reason::TimerExpired,
                );
            }
        }
    }

    fn available(&self, backend: BackendId) -> bool {
        match self.states[backend] {
            State::Closed => true,
            State::Open { .. } => false,
            State::Probing { in_flight } => !in_flight,
        }
    }

    #[inline(never)]
    fn on_send(&mut self, _now: Duration, backend: BackendId, _log: &mut TransitionLog) {
        if let State::Probing { in_flight } = &mut self.states[backend] {
            *in_flight = true;
        }
    }

    fn record(
        &mut self,
        now: Duration,
        backend: BackendId,
        outcome: &Outcome<'_>,
        _rng: &mut SimRng,
        log: &mut TransitionLog,
    ) {
        let failed = self
            .rule
            .failure_statuses
            .contains(outcome.observation.status)
            || outcome.elapsed(now) >= self.rule.execution_timeout;
        match self.states[backend] {
            State::Open { .. } => {}
            State::Probing { .. } => {
                let reopened = end_probes(&mut self.windows[backend], failed, now, backend, log);
                self.states[backend] = if reopened {
                    State::Open {
                        until: now + self.rule.sleep_window,
                    }
                } else {
                    State::Closed
                };
            }
            State::Closed => {
                let tally = self.windows[backend].add(now, failed, false);
                if !failed || tally.calls < self.rule.request_volume_threshold {
                    return;
                }
                let error_percentage = u64::from(tally.failures) * 100 / u64::from(tally.calls);
                if error_percentage >= u64::from(self.rule.error_threshold_percentage) {
                    self.states[backend] = State::Open {
                        until: now + self.rule.sleep_window,
                    };
                    self.windows[backend].clear();
                    log.push(
                        now,
                        backend,
                        Phase::Closed,
                        Phase::Open,
                        Reason::FailureRate {
                            per_mille: (error_percentage * 10) as u32,
                        },
                    );
                }
            }
        }
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        match self.states[backend] {
            State::Closed => BackendState::Closed,
            State::Open { until } if now < until => BackendState::Open { until: Some(until) },
            State::Open { .. } | State::Probing { .. } => BackendState::HalfOpen,
        }
    }
}
