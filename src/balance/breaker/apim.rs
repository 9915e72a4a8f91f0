//! The APIM backend circuit breaker rule (`Microsoft.ApiManagement/service/backends`
//! `circuitBreaker.rules[0]`, API 2023-09-01-preview; "Backends" doc ms.date 11/20/2025).
//!
//! Documented: failures (status in `statusCodeRanges` or a matching `errorReasons`) within
//! `interval` reaching `count` (or `percentage`) open the circuit for `tripDuration`, or for the
//! backend's `Retry-After` when `acceptRetryAfter`; no half-open ("after the configured trip
//! duration, the circuit resets and traffic resumes"); state per gateway instance.
//! Undocumented points are switches: `window` (sliding | fixed), `retry_after` (replace | max),
//! `min_volume` for `percentage`. [inferred]: with both `count` and `percentage` either one
//! trips; the failure window is cleared when the circuit trips; responses that arrive while
//! the circuit is open are not counted.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Table;

use super::{BreakerRule, Outcome, TransitionLog, expire, timed_state};
use crate::balance::mask::Mask;
use crate::balance::part::{Part, Problem};
use crate::balance::status_set::StatusSet;
use crate::balance::types::{BackendId, BackendState, Phase, Reason};
use crate::seed::SimRng;

/// How the failure interval is counted (the doc does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowKind {
    /// Failures in the last `interval` before now.
    Sliding,
    /// Failures since the start of the current fixed `interval` (multiples of it from t = 0).
    Fixed,
}

/// How `acceptRetryAfter` combines the backend's Retry-After with `tripDuration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryAfterMode {
    /// Open for exactly Retry-After (the doc's wording, default).
    Replace,
    /// Open for `max(tripDuration, Retry-After)`.
    Max,
}

/// One APIM circuit breaker rule; its serde fields are the `breaker = { … }` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApimRule {
    /// Trip when failures in the interval reach this count.
    pub count: Option<u32>,
    /// Trip when failures reach this percentage of calls in the interval.
    pub percentage: Option<u32>,
    /// `failureCondition.interval`.
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub interval: Duration,
    /// `statusCodeRanges` plus the transport errors matched by `errorReasons`.
    #[serde(rename = "status_codes")]
    pub failure_statuses: StatusSet,
    /// `errorReasons` as written (kept for reports; matching is in `failure_statuses`).
    pub error_reasons: Vec<String>,
    /// `tripDuration`.
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub trip_duration: Duration,
    /// `acceptRetryAfter`.
    pub accept_retry_after: bool,
    /// Switch: sliding (default) or fixed interval.
    pub window: WindowKind,
    /// Switch: Retry-After replaces (default) or extends the trip.
    pub retry_after: RetryAfterMode,
    /// Switch: calls needed in the interval before `percentage` can trip (default 1).
    pub min_volume: u32,
}

impl Default for ApimRule {
    /// The typical AOAI rule (what `breaker = { kind = "apim" }` starts from).
    fn default() -> Self {
        Self::aoai_default()
    }
}

impl Part for ApimRule {
    fn check(&self) -> Result<(), Problem> {
        if self.count.is_none() && self.percentage.is_none() {
            return Err(Problem::new(
                "count",
                "missing: an APIM rule needs `count` or `percentage`",
            ));
        }
        if self.count == Some(0) {
            return Err(Problem::new("count", "0: must be at least 1"));
        }
        if let Some(share) = self.percentage
            && !(1..=100).contains(&share)
        {
            return Err(Problem::new(
                "percentage",
                format!("{share}: must be 1–100"),
            ));
        }
        if self.interval.is_zero() {
            return Err(Problem::new("interval", "0: must be positive"));
        }
        if self.failure_statuses.is_empty() {
            return Err(Problem::new(
                "status_codes",
                "empty: nothing would count as a failure",
            ));
        }
        Ok(())
    }

    /// `errorReasons` add the transport errors they name to the failure statuses.
    fn settle(&mut self, _before: &Self, written: &Table) {
        if written.contains_key("status_codes") || written.contains_key("error_reasons") {
            self.failure_statuses = self
                .failure_statuses
                .union(Self::transport_errors_for(&self.error_reasons));
        }
    }
}

impl ApimRule {
    /// The typical AOAI rule (AI-Gateway `inference-api.bicep`): one 429 in PT1M trips for PT1M,
    /// accepting Retry-After.
    pub fn aoai_default() -> Self {
        Self {
            count: Some(1),
            percentage: None,
            interval: Duration::from_secs(60),
            failure_statuses: StatusSet::codes(&[429]),
            error_reasons: vec!["Server errors".into()],
            trip_duration: Duration::from_secs(60),
            accept_retry_after: true,
            window: WindowKind::Sliding,
            retry_after: RetryAfterMode::Replace,
            min_volume: 1,
        }
    }

    /// Transport errors an `errorReasons` list matches [inferred: the vocabulary is
    /// undocumented; a reason mentioning "timeout" matches timeouts, one mentioning "server
    /// error" or "connect" matches connection errors].
    pub fn transport_errors_for(reasons: &[String]) -> StatusSet {
        let mut set = StatusSet::EMPTY;
        for reason in reasons {
            let lower = reason.to_ascii_lowercase();
            if lower.contains("timeout") {
                set = set.with_timeout(true);
            }
            if lower.contains("server error") || lower.contains("connect") {
                set = set.with_connect_error(true);
            }
        }
        set
    }
}

/// Failure window and trip state of one backend.
#[derive(Debug, Clone, Default)]
struct BackendWindow {
    /// Times of failures in the window (sliding).
    failures: VecDeque<Duration>,
    /// Times of all calls in the window (sliding, only with `percentage`).
    calls: VecDeque<Duration>,
    /// Start of the current fixed window.
    fixed_start: Duration,
    fixed_failures: u32,
    fixed_calls: u32,
    open_until: Option<Duration>,
}

/// APIM breaker state of every backend of one gateway instance.
#[derive(Debug, Clone)]
pub struct ApimBreaker {
    /// The rule of each backend (None: that backend has no breaker).
    rules: Vec<Option<ApimRule>>,
    backends: Vec<BackendWindow>,
    /// The earliest `open_until` of any backend (None: none is set): `refresh` runs for every
    /// attempt and skips the scan of every backend until then.
    next_expiry: Option<Duration>,
    /// The backends whose `open_until` is set (selection's mask is its complement).
    open: Mask,
    /// Every backend of the pool (what `available_mask` starts from, once).
    all: Mask,
}

impl ApimBreaker {
    /// Closed breakers for `n` backends.
    pub fn new(rule: ApimRule, n: usize) -> Self {
        Self::per_backend(vec![Some(rule); n])
    }

    /// Closed breakers with one rule (or none) per backend, as member backends carry them.
    pub fn per_backend(rules: Vec<Option<ApimRule>>) -> Self {
        Self {
            backends: vec![BackendWindow::default(); rules.len()],
            all: Mask::all(rules.len()),
            rules,
            next_expiry: None,
            open: Mask::EMPTY,
        }
    }
}

impl BackendWindow {
    /// Adds a call (and maybe a failure) at `now`; returns (failures, calls) in the window.
    fn count(&mut self, rule: &ApimRule, now: Duration, failed: bool) -> (u32, u32) {
        let window = self;
        let track_calls = rule.percentage.is_some();
        match rule.window {
            WindowKind::Sliding => {
                // The window is (now − interval, now].
                let stale = |t: &Duration| now.saturating_sub(*t) >= rule.interval;
                while window.failures.front().is_some_and(stale) {
                    window.failures.pop_front();
                }
                while window.calls.front().is_some_and(stale) {
                    window.calls.pop_front();
                }
                if failed {
                    window.failures.push_back(now);
                }
                if track_calls {
                    window.calls.push_back(now);
                }
                (window.failures.len() as u32, window.calls.len() as u32)
            }
            WindowKind::Fixed => {
                let interval = rule.interval.as_nanos().max(1);
                let start = Duration::from_nanos((now.as_nanos() / interval * interval) as u64);
                if start != window.fixed_start {
                    window.fixed_start = start;
                    window.fixed_failures = 0;
                    window.fixed_calls = 0;
                }
                window.fixed_failures += u32::from(failed);
                window.fixed_calls += 1;
                (window.fixed_failures, window.fixed_calls)
            }
        }
    }
}

impl ApimRule {
    /// When a trip at `now` ends, given the response's Retry-After.
    pub fn trip_until(&self, now: Duration, retry_after: Option<Duration>) -> Duration {
        match (self.accept_retry_after, retry_after) {
            (true, Some(wait)) => match self.retry_after {
                RetryAfterMode::Replace => now + wait,
                RetryAfterMode::Max => now + wait.max(self.trip_duration),
            },
            _ => now + self.trip_duration,
        }
    }
}

impl ApimBreaker {
    /// Closes every trip that ended by `now` (the earliest one has) and finds the next end.
    #[inline(never)]
    fn expire_due(&mut self, now: Duration, log: &mut TransitionLog) {
        for (backend, window) in self.backends.iter_mut().enumerate() {
            expire(&mut window.open_until, now, backend, log);
            if window.open_until.is_none() {
                self.open = self.open.without(backend);
            }
        }
        self.next_expiry = self.backends.iter().filter_map(|w| w.open_until).min();
    }

    /// A response that counts (the backend is closed, and it failed or `percentage` counts
    /// every call): adds it to the window and trips the breaker when the rule says so. Out of
    /// line: most responses stop at the checks of `record`.
    #[inline(never)]
    fn count_and_trip(
        &mut self,
        now: Duration,
        backend: BackendId,
        outcome: &Outcome<'_>,
        failed: bool,
        log: &mut TransitionLog,
    ) {
        let Some(rule) = &self.rules[backend] else {
            return;
        };
        let window = &mut self.backends[backend];
        let (failures, calls) = window.count(rule, now, failed);
        if !failed {
            return;
        }
        let by_count = rule.count.is_some_and(|count| failures >= count);
        let by_share = rule.percentage.is_some_and(|share| {
            calls >= rule.min_volume.max(1)
                && u64::from(failures) * 100 >= u64::from(share) * u64::from(calls)
        });
        if !(by_count || by_share) {
            return;
        }
        let until = rule.trip_until(now, outcome.observation.retry_after);
        let replaced = window.open_until.replace(until);
        window.failures.clear();
        window.calls.clear();
        window.fixed_failures = 0;
        window.fixed_calls = 0;
        self.open = self.open.with(backend);
        self.next_expiry = match replaced {
            // A trip that ended unnoticed is replaced: the earliest end is found again.
            Some(_) => self.backends.iter().filter_map(|w| w.open_until).min(),
            None => Some(self.next_expiry.map_or(until, |expiry| expiry.min(until))),
        };
        let reason = if by_count {
            Reason::FailureCount { failures }
        } else {
            Reason::FailurePercentage { failures, calls }
        };
        log.push(now, backend, Phase::Closed, Phase::Open, reason);
    }
}

// The per-attempt methods are `#[inline]`: the strategy calls them for every attempt, and most
// calls end at a check or two.
impl BreakerRule for ApimBreaker {
    #[inline]
    fn refresh(&mut self, now: Duration, _rng: &mut SimRng, log: &mut TransitionLog) {
        if self.next_expiry.is_none_or(|expiry| now < expiry) {
            return;
        }
        self.expire_due(now, log);
    }

    fn available(&self, backend: BackendId) -> bool {
        self.backends[backend].open_until.is_none()
    }

    #[inline]
    fn available_mask(&self, backends: usize) -> Mask {
        let all = if backends >= self.backends.len() {
            self.all
        } else {
            Mask::all(backends)
        };
        all.minus(self.open)
    }

    fn earliest_reopen(&self, now: Duration, backends: usize) -> Option<Duration> {
        // `next_expiry` is the earliest of every trip end: when it is still ahead, so are all.
        if backends >= self.backends.len()
            && let Some(expiry) = self.next_expiry
            && now < expiry
        {
            return Some(expiry);
        }
        // Only backends in the open set have a trip end (`state` reports it while `now` is
        // before it).
        let mut earliest: Option<Duration> = None;
        for id in self.open.and(Mask::all(backends)).iter() {
            if let Some(until) = self.backends[id].open_until
                && now < until
                && earliest.is_none_or(|best| until < best)
            {
                earliest = Some(until);
            }
        }
        earliest
    }

    #[inline]
    fn on_send(&mut self, _now: Duration, _backend: BackendId, _log: &mut TransitionLog) {}

    #[inline]
    fn record(
        &mut self,
        now: Duration,
        backend: BackendId,
        outcome: &Outcome<'_>,
        _rng: &mut SimRng,
        log: &mut TransitionLog,
    ) {
        let Some(rule) = &self.rules[backend] else {
            return;
        };
        if self.backends[backend]
            .open_until
            .is_some_and(|until| now < until)
        {
            return;
        }
        let failed = rule.failure_statuses.contains(outcome.observation.status);
        if !failed && rule.percentage.is_none() {
            return;
        }
        self.count_and_trip(now, backend, outcome, failed, log);
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        timed_state(self.backends[backend].open_until, now)
    }
}
