//! Envoy outlier detection, consecutive-failure detector (`outlier_detection.proto` at
//! envoyproxy/envoy 1282f87): `consecutive_5xx` failures in a row eject a host for
//! `min(k × base_ejection_time, max(max_ejection_time, base))` (+ U(0, jitter)) on its k-th
//! ejection; at most `max_ejection_percent` of hosts are ejected "but at least one"; un-ejection
//! happens at the detector's `interval` sweep (switch `uneject_at_sweep`, sweeps at multiples of
//! `interval` from t = 0). No half-open. The success-rate detector and the decrement of the
//! ejection multiplier while healthy are not modelled.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{BreakerRule, Outcome, TransitionLog, expire, timed_state};
use crate::balance::status_set::StatusSet;
use crate::balance::types::{BackendId, BackendState, Phase, Reason};
use crate::seed::SimRng;

/// Envoy outlier detection parameters (defaults from the proto).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvoyRule {
    /// `consecutive_5xx` (5).
    pub consecutive: u32,
    /// Responses counted as failures (5xx and locally originated errors).
    pub failure_statuses: StatusSet,
    /// `base_ejection_time` (30 s).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub base_ejection: Duration,
    /// `max_ejection_time` (300 s).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub max_ejection: Duration,
    /// `max_ejection_time_jitter` (0).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub jitter: Duration,
    /// `max_ejection_percent` (10).
    pub max_ejection_percent: u32,
    /// `interval` between sweeps (10 s).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub interval: Duration,
    /// Switch: un-eject at the first sweep after the ejection time (Envoy) or exactly at it.
    pub uneject_at_sweep: bool,
}

impl Default for EnvoyRule {
    fn default() -> Self {
        Self {
            consecutive: 5,
            failure_statuses: StatusSet::range(500, 599).with_transport_errors(),
            base_ejection: Duration::from_secs(30),
            max_ejection: Duration::from_secs(300),
            jitter: Duration::ZERO,
            max_ejection_percent: 10,
            interval: Duration::from_secs(10),
            uneject_at_sweep: true,
        }
    }
}

impl EnvoyRule {
    /// Ejection time of the `k`-th ejection (1-based), before jitter and sweep alignment.
    pub fn ejection_time(&self, k: u32) -> Duration {
        let cap = self.max_ejection.max(self.base_ejection);
        self.base_ejection.saturating_mul(k).min(cap)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct HostState {
    consecutive: u32,
    times_ejected: u32,
    ejected_until: Option<Duration>,
}

/// Outlier state of every host.
#[derive(Debug, Clone)]
pub struct EnvoyBreaker {
    rule: EnvoyRule,
    hosts: Vec<HostState>,
}

impl EnvoyBreaker {
    /// No host ejected.
    pub fn new(rule: EnvoyRule, n: usize) -> Self {
        Self {
            rule,
            hosts: vec![HostState::default(); n],
        }
    }

    fn may_eject_another(&self, now: Duration) -> bool {
        let ejected = self
            .hosts
            .iter()
            .filter(|host| host.ejected_until.is_some_and(|until| now < until))
            .count();
        ejected == 0
            || (ejected as f64 * 100.0 / self.hosts.len() as f64)
                < f64::from(self.rule.max_ejection_percent)
    }

    fn release_time(&self, now: Duration, ejection: Duration) -> Duration {
        let due = now + ejection;
        if !self.rule.uneject_at_sweep || self.rule.interval.is_zero() {
            return due;
        }
        let step = self.rule.interval.as_nanos();
        let sweeps = due.as_nanos().div_ceil(step);
        Duration::from_nanos((sweeps * step) as u64)
    }
}

impl BreakerRule for EnvoyBreaker {
    fn refresh(&mut self, now: Duration, log: &mut TransitionLog) {
        for (backend, host) in self.hosts.iter_mut().enumerate() {
            expire(&mut host.ejected_until, now, backend, log);
        }
    }

    fn available(&self, backend: BackendId) -> bool {
        self.hosts[backend].ejected_until.is_none()
    }

    fn on_send(&mut self, _now: Duration, _backend: BackendId, _log: &mut TransitionLog) {}

    fn record(
        &mut self,
        now: Duration,
        backend: BackendId,
        outcome: &Outcome<'_>,
        rng: &mut SimRng,
        log: &mut TransitionLog,
    ) {
        if self.hosts[backend]
            .ejected_until
            .is_some_and(|until| now < until)
        {
            return;
        }
        if !self
            .rule
            .failure_statuses
            .contains(outcome.observation.status)
        {
            self.hosts[backend].consecutive = 0;
            return;
        }
        self.hosts[backend].consecutive += 1;
        let count = self.hosts[backend].consecutive;
        if count < self.rule.consecutive || !self.may_eject_another(now) {
            return;
        }
        let ejection_number = self.hosts[backend].times_ejected + 1;
        let jitter_ns = self.rule.jitter.as_nanos() as u64;
        let jitter = if jitter_ns == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(rng.random_range(0..=jitter_ns))
        };
        let until = self.release_time(now, self.rule.ejection_time(ejection_number) + jitter);
        let host = &mut self.hosts[backend];
        host.times_ejected = ejection_number;
        host.consecutive = 0;
        host.ejected_until = Some(until);
        log.push(
            now,
            backend,
            Phase::Closed,
            Phase::Open,
            Reason::ConsecutiveFailures {
                count,
                ejection: ejection_number,
            },
        );
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        timed_state(self.hosts[backend].ejected_until, now)
    }
}
