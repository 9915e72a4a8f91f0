//! Envoy outlier detection (`outlier_detection.proto` at envoyproxy/envoy 1282f87), both
//! detectors that are on by default:
//! - consecutive failures: `consecutive_5xx` failures in a row eject a host at once;
//! - success rate: at every `interval` sweep, the hosts with at least
//!   `success_rate_request_volume` requests in the interval — when there are at least
//!   `success_rate_minimum_hosts` of them — are compared: a host whose success rate is below
//!   `mean − success_rate_stdev_factor / 1000 × stdev` (population stdev) is ejected with
//!   probability `enforcing_success_rate` %.
//!
//! The k-th ejection of a host lasts `min(k × base_ejection_time, max(max_ejection_time,
//! base))` (+ U(0, jitter)); at most `max_ejection_percent` of hosts are ejected "but at least
//! one"; un-ejection happens at the detector's `interval` sweep (switch `uneject_at_sweep`,
//! sweeps at multiples of `interval` from t = 0). No half-open. The decrement of the ejection
//! multiplier while healthy is not modelled.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{BreakerRule, Outcome, TransitionLog, expire, timed_state};
use crate::balance::part::{Part, Problem};
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
    #[serde(rename = "status_codes")]
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
    /// `enforcing_success_rate` (100): the chance, in percent, that a success-rate outlier is
    /// ejected (0 turns the detector off).
    pub enforcing_success_rate: u32,
    /// `success_rate_minimum_hosts` (5): hosts with enough volume the detector needs.
    pub success_rate_minimum_hosts: u32,
    /// `success_rate_request_volume` (100): requests a host needs in the interval to count.
    pub success_rate_request_volume: u32,
    /// `success_rate_stdev_factor` (1900): the threshold is mean − factor / 1000 × stdev.
    pub success_rate_stdev_factor: u32,
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
            enforcing_success_rate: 100,
            success_rate_minimum_hosts: 5,
            success_rate_request_volume: 100,
            success_rate_stdev_factor: 1900,
        }
    }
}

impl Part for EnvoyRule {
    fn check(&self) -> Result<(), Problem> {
        if self.consecutive == 0 {
            return Err(Problem::new("consecutive", "0: must be at least 1"));
        }
        for (setting, percent) in [
            ("max_ejection_percent", self.max_ejection_percent),
            ("enforcing_success_rate", self.enforcing_success_rate),
        ] {
            if percent > 100 {
                return Err(Problem::new(setting, format!("{percent}: must be 0–100")));
            }
        }
        if self.success_rate_request_volume == 0 {
            return Err(Problem::new(
                "success_rate_request_volume",
                "0: must be at least 1",
            ));
        }
        Ok(())
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
    /// Responses and successes in the current sweep interval.
    calls: u32,
    successes: u32,
}

impl HostState {
    fn ejected_at(&self, now: Duration) -> bool {
        self.ejected_until.is_some_and(|until| now < until)
    }
}

/// Outlier state of every host.
#[derive(Debug, Clone)]
pub struct EnvoyBreaker {
    rule: EnvoyRule,
    hosts: Vec<HostState>,
    /// Time of the next success-rate sweep.
    next_sweep: Duration,
}

impl EnvoyBreaker {
    /// No host ejected.
    pub fn new(rule: EnvoyRule, n: usize) -> Self {
        let next_sweep = rule.interval;
        Self {
            rule,
            hosts: vec![HostState::default(); n],
            next_sweep,
        }
    }

    /// Runs the sweep due by `now`, if any: the success-rate detector over the interval that
    /// ended then, and a fresh interval. Later sweeps up to `now` would see no traffic (every
    /// response first runs the sweeps due), so they are skipped.
    fn sweep(&mut self, now: Duration, rng: &mut SimRng, log: &mut TransitionLog) {
        let step = self.rule.interval.as_nanos();
        if step == 0 || now < self.next_sweep {
            return;
        }
        let at = self.next_sweep;
        self.eject_success_rate_outliers(at, rng, log);
        for host in &mut self.hosts {
            host.calls = 0;
            host.successes = 0;
        }
        self.next_sweep = Duration::from_nanos(((now.as_nanos() / step + 1) * step) as u64);
    }

    fn eject_success_rate_outliers(
        &mut self,
        at: Duration,
        rng: &mut SimRng,
        log: &mut TransitionLog,
    ) {
        let volume = self.rule.success_rate_request_volume.max(1);
        let rates: Vec<(BackendId, f64)> = self
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, host)| host.calls >= volume && !host.ejected_at(at))
            .map(|(id, host)| {
                (
                    id,
                    100.0 * f64::from(host.successes) / f64::from(host.calls),
                )
            })
            .collect();
        if rates.is_empty() || rates.len() < self.rule.success_rate_minimum_hosts as usize {
            return;
        }
        let n = rates.len() as f64;
        let mean = rates.iter().map(|(_, rate)| rate).sum::<f64>() / n;
        let variance = rates
            .iter()
            .map(|(_, rate)| (rate - mean).powi(2))
            .sum::<f64>()
            / n;
        let threshold =
            mean - f64::from(self.rule.success_rate_stdev_factor) / 1000.0 * variance.sqrt();
        for (backend, rate) in rates {
            if rate < threshold && self.enforced(rng) && self.may_eject_another(at) {
                let reason = |ejection| Reason::SuccessRate {
                    per_mille: (rate * 10.0) as u32,
                    threshold_per_mille: (threshold * 10.0).max(0.0) as u32,
                    ejection,
                };
                self.eject(backend, at, reason, rng, log);
            }
        }
    }

    /// Whether a success-rate ejection is enforced (`enforcing_success_rate` %).
    fn enforced(&self, rng: &mut SimRng) -> bool {
        match self.rule.enforcing_success_rate {
            0 => false,
            100.. => true,
            percent => rng.random_range(0..100) < percent,
        }
    }

    /// Ejects `backend` at `now` for its next ejection time; `reason` gets the ejection number.
    fn eject(
        &mut self,
        backend: BackendId,
        now: Duration,
        reason: impl FnOnce(u32) -> Reason,
        rng: &mut SimRng,
        log: &mut TransitionLog,
    ) {
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
            reason(ejection_number),
        );
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
    #[inline(never)]
    fn refresh(&mut self, now: Duration, rng: &mut SimRng, log: &mut TransitionLog) {
        self.sweep(now, rng, log);
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
        self.sweep(now, rng, log);
        if self.hosts[backend].ejected_at(now) {
            return;
        }
        let failed = self
            .rule
            .failure_statuses
            .contains(outcome.observation.status);
        let host = &mut self.hosts[backend];
        host.calls += 1;
        if !failed {
            host.successes += 1;
            host.consecutive = 0;
            return;
        }
        host.consecutive += 1;
        let count = host.consecutive;
        if count < self.rule.consecutive || !self.may_eject_another(now) {
            return;
        }
        let reason = |ejection| Reason::ConsecutiveFailures { count, ejection };
        self.eject(backend, now, reason, rng, log);
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        timed_state(self.hosts[backend].ejected_until, now)
    }
}
