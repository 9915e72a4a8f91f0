//! The single-response throttle flag of the "smart" APIM policy (Azure-Samples/openai-apim-lb
//! at 039195e), PowerProxy (timoklimmer/powerproxy-aoai at 8faa62e) and the client-side
//! priority balancer (simonkurtz-MSFT/python-openai-loadbalancer at 4493ab1).
//!
//! One qualifying response marks the backend throttling until `now + wait`, where the wait is
//! the first header present in the system's own order, else its default. The deadline is
//! overwritten by each new qualifying response (the smart policy's `retryAfter = Now + s`).
//! Recovery is the timer only; no half-open.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{BreakerRule, Outcome, TransitionLog, expire, timed_state};
use crate::balance::part::Part;
use crate::balance::status_set::StatusSet;
use crate::balance::types::{BackendId, BackendState, Observation, Phase, Reason};
use crate::seed::SimRng;

/// A header the wait can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitHeader {
    /// `Retry-After` (seconds).
    RetryAfter,
    /// `retry-after-ms`.
    RetryAfterMs,
    /// `x-ratelimit-reset-requests`.
    ResetRequests,
    /// `x-ratelimit-reset-tokens`.
    ResetTokens,
}

impl WaitHeader {
    fn read(self, observation: &Observation) -> Option<Duration> {
        match self {
            WaitHeader::RetryAfter => observation.retry_after_s,
            WaitHeader::RetryAfterMs => observation.retry_after_ms,
            WaitHeader::ResetRequests => observation.ratelimit_reset_requests,
            WaitHeader::ResetTokens => observation.ratelimit_reset_tokens,
        }
    }
}

/// Which responses throttle, and how long for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleFlagRule {
    /// Responses that throttle the backend.
    #[serde(rename = "status_codes")]
    pub statuses: StatusSet,
    /// Headers read for the wait, first present wins.
    pub headers: Vec<WaitHeader>,
    /// Wait when none of the headers is present.
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub default_wait: Duration,
}

impl Default for ThrottleFlagRule {
    /// The smart policy's rule (what `breaker = { kind = "throttle-flag" }` starts from).
    fn default() -> Self {
        Self::smart_policy(false)
    }
}

impl Part for ThrottleFlagRule {}

impl ThrottleFlagRule {
    /// Smart APIM policy (seed-examples.md §1): 429 / ≥ 500 → Retry-After → reset-requests →
    /// reset-tokens → 10 s. `with_401` adds 401 (openai-apim-lb `apim-policy.xml`).
    pub fn smart_policy(with_401: bool) -> Self {
        let mut statuses = StatusSet::codes(&[429]).union(StatusSet::range(500, 599));
        if with_401 {
            statuses = statuses.union(StatusSet::codes(&[401]));
        }
        Self {
            statuses,
            headers: vec![
                WaitHeader::RetryAfter,
                WaitHeader::ResetRequests,
                WaitHeader::ResetTokens,
            ],
            default_wait: Duration::from_secs(10),
        }
    }

    /// PowerProxy: 408 / 429 / 500 → `retry-after-ms`, else 10 000 ms.
    pub fn powerproxy() -> Self {
        Self {
            statuses: StatusSet::codes(&[408, 429, 500]),
            headers: vec![WaitHeader::RetryAfterMs],
            default_wait: Duration::from_millis(10_000),
        }
    }

    /// Client-side priority balancer: 429 / ≥ 500 → `Retry-After` → reset-requests → 10 s
    /// (it never reads reset-tokens).
    pub fn client_priority() -> Self {
        Self {
            statuses: StatusSet::codes(&[429]).union(StatusSet::range(500, 599)),
            headers: vec![WaitHeader::RetryAfter, WaitHeader::ResetRequests],
            default_wait: Duration::from_secs(10),
        }
    }

    /// The wait a qualifying response imposes.
    pub fn wait_for(&self, observation: &Observation) -> Duration {
        self.headers
            .iter()
            .find_map(|header| header.read(observation))
            .unwrap_or(self.default_wait)
    }
}

/// Throttle deadlines of every backend.
#[derive(Debug, Clone)]
pub struct ThrottleFlagBreaker {
    rule: ThrottleFlagRule,
    throttled_until: Vec<Option<Duration>>,
}

impl ThrottleFlagBreaker {
    /// No backend throttled.
    pub fn new(rule: ThrottleFlagRule, n: usize) -> Self {
        Self {
            rule,
            throttled_until: vec![None; n],
        }
    }
}

impl BreakerRule for ThrottleFlagBreaker {
    #[inline(never)]
    fn refresh(&mut self, now: Duration, _rng: &mut SimRng, log: &mut TransitionLog) {
        for (backend, until) in self.throttled_until.iter_mut().enumerate() {
            expire(until, now, backend, log);
        }
    }

    fn available(&self, backend: BackendId) -> bool {
        self.throttled_until[backend].is_none()
    }

    fn on_send(&mut self, _now: Duration, _backend: BackendId, _log: &mut TransitionLog) {}

    fn record(
        &mut self,
        now: Duration,
        backend: BackendId,
        outcome: &Outcome<'_>,
        _rng: &mut SimRng,
        log: &mut TransitionLog,
    ) {
        let observation = outcome.observation;
        if !self.rule.statuses.contains(observation.status) {
            return;
        }
        let slot = &mut self.throttled_until[backend];
        let was_open = slot.is_some_and(|until| now < until);
        if slot.is_some() && !was_open {
            expire(slot, now, backend, log);
        }
        *slot = Some(now + self.rule.wait_for(observation));
        if !was_open {
            let reason = match observation.status.code() {
                Some(code) => Reason::Throttled { status: code },
                None => Reason::TransportError,
            };
            log.push(now, backend, Phase::Closed, Phase::Open, reason);
        }
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        timed_state(self.throttled_until[backend], now)
    }
}
