//! Kong AI Proxy Advanced breaker (3.13+, developer.konghq.com at bc1cd74): a target becomes
//! unhealthy when its failure counter reaches `max_fails`. The counter "tracks total failures,
//! not consecutive failures … resets only when a successful request occurs after `fail_timeout`
//! has elapsed since the last failed request". After `fail_timeout` an unhealthy target is
//! reconsidered: modelled as half-open with one probe at a time — one success heals it, one
//! failure keeps it out for another `fail_timeout`. Failures are the `failover_criteria`
//! (default `error`, `timeout`; add `http_429` etc. through `failure_statuses`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BreakerRule, Outcome, TransitionLog};
use crate::balance::part::{Part, Problem};
use crate::balance::status_set::StatusSet;
use crate::balance::types::{BackendId, BackendState, Phase, Reason};
use crate::seed::SimRng;

/// Kong breaker parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KongRule {
    /// `max_fails`.
    pub max_fails: u32,
    /// `fail_timeout`.
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub fail_timeout: Duration,
    /// Outcomes that count as failures (`failover_criteria`).
    #[serde(rename = "status_codes")]
    pub failure_statuses: StatusSet,
}

impl Default for KongRule {
    fn default() -> Self {
        Self {
            max_fails: 3,
            fail_timeout: Duration::from_millis(10_000),
            failure_statuses: StatusSet::EMPTY.with_transport_errors(),
        }
    }
}

impl Part for KongRule {
    fn check(&self) -> Result<(), Problem> {
        if self.max_fails == 0 {
            return Err(Problem::new("max_fails", "0: must be at least 1"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    Healthy,
    Unhealthy { until: Duration },
    Probing { in_flight: bool },
}

#[derive(Debug, Clone, Copy)]
struct Target {
    fails: u32,
    last_fail: Option<Duration>,
    health: Health,
}

/// Health of every target.
#[derive(Debug, Clone)]
pub struct KongBreaker {
    rule: KongRule,
    targets: Vec<Target>,
}

impl KongBreaker {
    /// All healthy.
    pub fn new(rule: KongRule, n: usize) -> Self {
        Self {
            rule,
            targets: vec![
                Target {
                    fails: 0,
                    last_fail: None,
                    health: Health::Healthy,
                };
                n
            ],
        }
    }
}

impl BreakerRule for KongBreaker {
    #[inline(never)]
    fn refresh(&mut self, now: Duration, _rng: &mut SimRng, log: &mut TransitionLog) {
        for (backend, target) in self.targets.iter_mut().enumerate() {
            if let Health::Unhealthy { until } = target.health
                && now >= until
            {
                target.health = Health::Probing { in_flight: false };
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
        match self.targets[backend].health {
            Health::Healthy => true,
            Health::Unhealthy { .. } => false,
            Health::Probing { in_flight } => !in_flight,
        }
    }

    #[inline(never)]
    fn on_send(&mut self, _now: Duration, backend: BackendId, _log: &mut TransitionLog) {
        if let Health::Probing { in_flight } = &mut self.targets[backend].health {
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
            .contains(outcome.observation.status);
        let fail_timeout = self.rule.fail_timeout;
        let target = &mut self.targets[backend];
        match target.health {
            Health::Unhealthy { .. } => {}
            Health::Probing { .. } => {
                if failed {
                    target.last_fail = Some(now);
                    target.health = Health::Unhealthy {
                        until: now + fail_timeout,
                    };
                    log.push(
                        now,
                        backend,
                        Phase::HalfOpen,
                        Phase::Open,
                        Reason::ProbeFailed,
                    );
                } else {
                    target.fails = 0;
                    target.health = Health::Healthy;
                    log.push(
                        now,
                        backend,
                        Phase::HalfOpen,
                        Phase::Closed,
                        Reason::ProbesSucceeded,
                    );
                }
            }
            Health::Healthy => {
                if !failed {
                    if target
                        .last_fail
                        .is_some_and(|last| now >= last + fail_timeout)
                    {
                        target.fails = 0;
                    }
                    return;
                }
                target.fails += 1;
                target.last_fail = Some(now);
                if target.fails >= self.rule.max_fails {
                    target.health = Health::Unhealthy {
                        until: now + fail_timeout,
                    };
                    log.push(
                        now,
                        backend,
                        Phase::Closed,
                        Phase::Open,
                        Reason::MaxFails {
                            fails: target.fails,
                        },
                    );
                }
            }
        }
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        match self.targets[backend].health {
            Health::Healthy => BackendState::Closed,
            Health::Unhealthy { until } if now < until => BackendState::Open { until: Some(until) },
            Health::Unhealthy { .. } | Health::Probing { .. } => BackendState::HalfOpen,
        }
    }
}
