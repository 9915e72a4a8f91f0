//! resilience4j `CircuitBreaker` (CircuitBreakerConfig / CircuitBreakerMetrics at af9e7c9):
//! CLOSED trips to OPEN when, with at least `minimum_calls` in the sliding window (count-based:
//! last N calls, minimum capped at N; time-based: last N seconds in 1 s buckets), the failure
//! rate or the slow-call rate reaches its threshold (≥). OPEN waits `wait_open`, then — on the
//! next call attempt, or at once with `automatic_transition` — goes HALF_OPEN, admitting
//! `half_open_calls` calls whose outcomes decide OPEN again or CLOSED by the same thresholds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use super::window::SlidingWindow;
use super::window::{Tally, Window, end_probes};
use super::{BreakerRule, Outcome, TransitionLog};
use crate::balance::part::{Part, Problem};
use crate::balance::status_set::StatusSet;
use crate::balance::types::{BackendId, BackendState, Phase, Reason};
use crate::seed::SimRng;

/// resilience4j parameters (library defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resilience4jRule {
    /// `failureRateThreshold` percent (50).
    pub failure_rate_threshold: f64,
    /// `slowCallRateThreshold` percent (100).
    pub slow_call_rate_threshold: f64,
    /// `slowCallDurationThreshold` (60 s), measured to response headers.
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub slow_call_duration: Duration,
    /// `waitDurationInOpenState` (60 s).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub wait_open: Duration,
    /// `permittedNumberOfCallsInHalfOpenState` (10).
    pub half_open_calls: u32,
    /// `minimumNumberOfCalls` (100).
    pub minimum_calls: u32,
    /// `slidingWindowSize` (100).
    pub window_size: u32,
    /// `slidingWindowType` (count-based).
    pub window_type: SlidingWindow,
    /// `automaticTransitionFromOpenToHalfOpenEnabled` (false).
    pub automatic_transition: bool,
    /// Responses recorded as failures (resilience4j records exceptions; here 429, 5xx and
    /// transport errors).
    #[serde(rename = "status_codes")]
    pub failure_statuses: StatusSet,
}

impl Default for Resilience4jRule {
    fn default() -> Self {
        Self {
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration: Duration::from_secs(60),
            wait_open: Duration::from_secs(60),
            half_open_calls: 10,
            minimum_calls: 100,
            window_size: 100,
            window_type: SlidingWindow::CountBased,
            automatic_transition: false,
            failure_statuses: StatusSet::codes(&[429])
                .union(StatusSet::range(500, 599))
                .with_transport_errors(),
        }
    }
}

impl Part for Resilience4jRule {
    fn check(&self) -> Result<(), Problem> {
        for (setting, value) in [
            ("failure_rate_threshold", self.failure_rate_threshold),
            ("slow_call_rate_threshold", self.slow_call_rate_threshold),
        ] {
            if !(value > 0.0 && value <= 100.0) {
                return Err(Problem::new(
                    setting,
                    format!("{value}: must be in (0, 100]"),
                ));
            }
        }
        if self.half_open_calls == 0 || self.window_size == 0 {
            return Err(Problem::new(
                "window_size",
                "half_open_calls and window_size must be at least 1",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum State {
    Closed,
    Open { until: Duration },
    HalfOpen { permits_left: u32, tally: Tally },
}

/// resilience4j state of every backend.
#[derive(Debug, Clone)]
pub struct Resilience4jBreaker {
    rule: Resilience4jRule,
    states: Vec<State>,
    windows: Vec<Window>,
    /// The `now` of the last `refresh`, so `available` can see that an open wait is over.
    last_refresh: Duration,
}

impl Resilience4jBreaker {
    /// All CLOSED.
    pub fn new(rule: Resilience4jRule, n: usize) -> Self {
        let windows = (0..n)
            .map(|_| Window::new(rule.window_type, rule.window_size))
            .collect();
        Self {
            rule,
            states: vec![State::Closed; n],
            windows,
            last_refresh: Duration::ZERO,
        }
    }

    /// Trip reason if the tally breaches a threshold.
    fn breach(&self, tally: Tally, minimum: u32) -> Option<Reason> {
        if tally.calls == 0 || tally.calls < minimum {
            return None;
        }
        let failure_rate = f64::from(tally.failures) * 100.0 / f64::from(tally.calls);
        let slow_rate = f64::from(tally.slow) * 100.0 / f64::from(tally.calls);
        let per_mille = |rate: f64| (rate * 10.0).round() as u32;
        if failure_rate >= self.rule.failure_rate_threshold {
            Some(Reason::FailureRate {
                per_mille: per_mille(failure_rate),
            })
        } else if slow_rate >= self.rule.slow_call_rate_threshold {
            Some(Reason::SlowCallRate {
                per_mille: per_mille(slow_rate),
            })
        } else {
            None
        }
    }

    fn minimum_calls(&self) -> u32 {
        match self.rule.window_type {
            SlidingWindow::CountBased => self.rule.minimum_calls.min(self.rule.window_size),
            SlidingWindow::TimeBased => self.rule.minimum_calls,
        }
    }

    fn half_open(&mut self, at: Duration, backend: BackendId, log: &mut TransitionLog) {
        self.states[backend] = State::HalfOpen {
            permits_left: self.rule.half_open_calls,
            tally: Tally::default(),
        };
        log.push(
            at,
            backend,
            Phase::Open,
            Phase::HalfOpen,
            Reason::TimerExpired,
        );
    }
}

impl BreakerRule for Resilience4jBreaker {
    #[inline(never)]
    fn refresh(&mut self, now: Duration, _rng: &mut SimRng, log: &mut TransitionLog) {
        self.last_refresh = now;
        if !self.rule.automatic_transition {
            return;
        }
        for backend in 0..self.states.len() {
            if let State::Open { until } = self.states[backend]
                && now >= until
            {
                self.half_open(until, backend, log);
            }
        }
    }

    fn available(&self, backend: BackendId) -> bool {
        match &self.states[backend] {
            State::Closed => true,
            // Without automatic transition the wait ends at the next call attempt, so a backend
            // whose wait is over is selectable; `on_send` moves it to HALF_OPEN.
            State::Open { until } => self.last_refresh >= *until,
            State::HalfOpen { permits_left, .. } => *permits_left > 0,
        }
    }

    #[inline(never)]
    fn on_send(&mut self, now: Duration, backend: BackendId, log: &mut TransitionLog) {
        if let State::Open { until } = self.states[backend]
            && now >= until
        {
            self.half_open(now, backend, log);
        }
        if let State::HalfOpen { permits_left, .. } = &mut self.states[backend] {
            *permits_left = permits_left.saturating_sub(1);
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
            .contains(outcome.observation.status);
        let slow = outcome.elapsed(now) >= self.rule.slow_call_duration;
        match &mut self.states[backend] {
            State::Open { .. } => {}
            State::Closed => {
                let tally = self.windows[backend].add(now, failed, slow);
                if let Some(reason) = self.breach(tally, self.minimum_calls()) {
                    self.states[backend] = State::Open {
                        until: now + self.rule.wait_open,
                    };
                    self.windows[backend].clear();
                    log.push(now, backend, Phase::Closed, Phase::Open, reason);
                }
            }
            State::HalfOpen { tally, .. } => {
                tally.add(failed, slow);
                let tally = *tally;
                if tally.calls < self.rule.half_open_calls {
                    return;
                }
                let failed_probes = self.breach(tally, self.rule.half_open_calls).is_some();
                let reopened =
                    end_probes(&mut self.windows[backend], failed_probes, now, backend, log);
                self.states[backend] = if reopened {
                    State::Open {
                        until: now + self.rule.wait_open,
                    }
                } else {
                    State::Closed
                };
            }
        }
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        match self.states[backend] {
            State::Closed => BackendState::Closed,
            State::Open { until } if self.rule.automatic_transition && now >= until => {
                BackendState::HalfOpen
            }
            State::Open { until } if now < until => BackendState::Open { until: Some(until) },
            State::Open { .. } => BackendState::Open { until: None },
            State::HalfOpen { .. } => BackendState::HalfOpen,
        }
    }
}
