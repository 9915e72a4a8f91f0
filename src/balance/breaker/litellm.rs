//! LiteLLM router cooldown (`router_utils/cooldown_handlers.py` at 04f2117 plus the newer
//! decision rules, `cooldown_cache.py` at 00fa1b6; re-checked against the installed LiteLLM
//! 1.108.7, `litellm/router_utils/cooldown_handlers.py` `_should_cooldown_deployment`): a
//! deployment is cooled down for a TTL with no probe; recovery is TTL expiry only.
//!
//! How long (`cooldown`): LiteLLM 1.108.7 (`litellm/router.py` `deployment_callback_on_failure`)
//! takes a per-deployment `cooldown_time` first, else the backend's `retry-after` header read as
//! an integer (`litellm/utils.py` `_get_retry_after_from_exception_header`: `int(header)`, so the
//! whole seconds AOAI sends, not `retry-after-ms`), else the router's `cooldown_time` (default
//! 5 s); a wait of 0 cools nothing (`_should_run_cooldown_logic`). A new cooldown overwrites the
//! cache entry, moving the deadline (`cooldown_cache.py` `add_deployment_to_cooldown`: `set_cache`
//! with the new TTL). The legacy model (`CooldownSource::Resolved`, `ReCool::KeepFirst`) read
//! `retry-after-ms` first and let an explicit router `cooldown_time` win.
//!
//! Counted failures: 429, 401, 408 (and timeouts), 404, any 5xx; ignored: other 4xx and
//! connection errors ("APIConnectionError"). Default decision, with this minute's per-deployment
//! counts, cools if any of: (1) 429 and the group has more than one deployment; (2) every request
//! this minute failed and there were ≥ `single_deployment_threshold`; (3) failure share >
//! `failure_threshold` with ≥ `minimum_requests` and more than one deployment; (4) a
//! non-retryable status (401, 404). Legacy mode (`allowed_fails` set): cool when
//! `fails + 1 > allowed_fails`, fails counted with TTL = cooldown. Re-cooling moves the deadline
//! (`re_cool = "extend"`, 1.108.7) or keeps the first one (`"keep-first"`, the legacy model,
//! issue #40130).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Table;

use super::{BreakerRule, Outcome, TransitionLog, expire, status_code, timed_state};
use crate::balance::part::{Part, Problem};
use crate::balance::types::{BackendId, BackendState, Observation, Phase, Reason, Status};
use crate::seed::SimRng;

/// What a failure during an active cooldown does to the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReCool {
    /// Keep the first deadline (the legacy model, issue #40130).
    KeepFirst,
    /// Move the deadline to now + cooldown (LiteLLM 1.108.7: the cache entry is overwritten).
    Extend,
}

/// Where the cooldown length comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CooldownSource {
    /// LiteLLM 1.108.7: per-deployment `cooldown_time` → integer `retry-after` → router
    /// `cooldown_time` (`router.py` `deployment_callback_on_failure`).
    IntegerRetryAfter,
    /// The model before the conformance lab: the resolved wait (`retry-after-ms` first) unless
    /// an explicit router `cooldown_time` is set [unmeasured].
    Resolved,
}

/// LiteLLM cooldown parameters; the `breaker = { … }` settings are the serde fields (the
/// skipped ones come from the version modelled or the imported config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LitellmRule {
    /// `cooldown_time` (default `DEFAULT_COOLDOWN_TIME_SECONDS` = 5 s).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub cooldown: Duration,
    /// Whether `cooldown_time` was set explicitly (then it wins over Retry-After); writing
    /// `cooldown` sets it.
    #[serde(skip)]
    pub cooldown_explicit: bool,
    /// Use the provider's Retry-After when no explicit cooldown is set [uncertain precedence].
    pub honour_retry_after: bool,
    /// Legacy `allowed_fails` mode when set.
    pub allowed_fails: Option<u32>,
    /// `DEFAULT_FAILURE_THRESHOLD_PERCENT` (0.5).
    pub failure_threshold: f64,
    /// `DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS` (5) [uncertain].
    pub minimum_requests: u32,
    /// `SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD` (1000) [uncertain].
    pub single_deployment_threshold: u32,
    /// Re-cooling switch.
    pub re_cool: ReCool,
    /// Where the cooldown length comes from (the version's).
    #[serde(skip, default = "integer_retry_after")]
    pub source: CooldownSource,
    /// Per-deployment `cooldown_time` (LiteLLM config `litellm_params.cooldown_time`), by
    /// backend id; empty or None: not set.
    #[serde(skip)]
    pub deployment_cooldowns: Vec<Option<Duration>>,
}

fn integer_retry_after() -> CooldownSource {
    CooldownSource::IntegerRetryAfter
}

impl Default for LitellmRule {
    fn default() -> Self {
        Self {
            cooldown: Duration::from_secs(5),
            cooldown_explicit: false,
            honour_retry_after: true,
            allowed_fails: None,
            failure_threshold: 0.5,
            minimum_requests: 5,
            single_deployment_threshold: 1000,
            re_cool: ReCool::Extend,
            source: CooldownSource::IntegerRetryAfter,
            deployment_cooldowns: Vec::new(),
        }
    }
}

impl Part for LitellmRule {
    fn check(&self) -> Result<(), Problem> {
        if !(0.0..=1.0).contains(&self.failure_threshold) {
            return Err(Problem::new(
                "failure_threshold",
                format!("{}: must be 0–1", self.failure_threshold),
            ));
        }
        Ok(())
    }

    fn settle(&mut self, before: &Self, written: &Table) {
        self.cooldown_explicit = before.cooldown_explicit || written.contains_key("cooldown");
        self.source = before.source;
        self.deployment_cooldowns = before.deployment_cooldowns.clone();
    }
}

impl LitellmRule {
    /// The model before the conformance lab (LiteLLM `legacy`): resolved waits, keep-first.
    pub fn legacy() -> Self {
        Self {
            re_cool: ReCool::KeepFirst,
            source: CooldownSource::Resolved,
            ..Self::default()
        }
    }

    /// The cooldown a counted failure of `backend` imposes (None: no cooldown at all).
    fn wait(&self, backend: BackendId, observation: &Observation) -> Option<Duration> {
        match self.source {
            CooldownSource::Resolved => Some(match observation.retry_after {
                Some(retry_after) if self.honour_retry_after && !self.cooldown_explicit => {
                    retry_after
                }
                _ => self.cooldown,
            }),
            CooldownSource::IntegerRetryAfter => {
                let deployment = self.deployment_cooldowns.get(backend).copied().flatten();
                let header = observation
                    .retry_after_s
                    .filter(|_| self.honour_retry_after);
                let wait = deployment.or(header).unwrap_or(self.cooldown);
                (!wait.is_zero()).then_some(wait)
            }
        }
    }
}

/// Whether LiteLLM counts this outcome as a deployment failure (`_is_cooldown_required`).
pub fn counts_as_failure(status: Status) -> bool {
    match status {
        Status::Http(code) => matches!(code, 401 | 404 | 408 | 429 | 500..),
        Status::Timeout => true,
        Status::ConnectError => false,
    }
}

/// Whether `litellm._should_retry` would retry this status (408, 409, 429, ≥ 500).
fn should_retry(status: Status) -> bool {
    match status {
        Status::Http(code) => matches!(code, 408 | 409 | 429 | 500..),
        Status::Timeout | Status::ConnectError => true,
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Deployment {
    minute: u64,
    requests: u32,
    failures: u32,
    legacy_fails: u32,
    legacy_fails_expire: Duration,
    cooled_until: Option<Duration>,
    /// The length of the current cooldown (LiteLLM's stored `cooldown_time`).
    cooled_for: Duration,
}

/// Cooldown state of every deployment of one model group.
#[derive(Debug, Clone)]
pub struct LitellmBreaker {
    rule: LitellmRule,
    deployments: Vec<Deployment>,
}

impl LitellmBreaker {
    /// Nothing cooled.
    pub fn new(rule: LitellmRule, n: usize) -> Self {
        Self {
            rule,
            deployments: vec![Deployment::default(); n],
        }
    }

    /// The shortest configured length among the cooldowns active at `now`, else the router's
    /// `cooldown_time`: LiteLLM's `CooldownCache.get_min_cooldown`, which its "No deployments
    /// available" answer rounds up into `retry-after`.
    pub fn shortest_cooldown(&self, now: Duration) -> Duration {
        self.deployments
            .iter()
            .filter(|deployment| deployment.cooled_until.is_some_and(|until| now < until))
            .map(|deployment| deployment.cooled_for)
            .min()
            .unwrap_or(self.rule.cooldown)
    }

    fn should_cool(&mut self, now: Duration, backend: BackendId, status: Status) -> bool {
        let group = self.deployments.len();
        let rule = &self.rule;
        let deployment = &mut self.deployments[backend];
        if let Some(allowed) = rule.allowed_fails {
            if now >= deployment.legacy_fails_expire {
                deployment.legacy_fails = 0;
            }
            if deployment.legacy_fails + 1 > allowed {
                return true;
            }
            if deployment.legacy_fails == 0 {
                deployment.legacy_fails_expire = now + rule.cooldown;
            }
            deployment.legacy_fails += 1;
            return false;
        }
        let failure_share = f64::from(deployment.failures) / f64::from(deployment.requests.max(1));
        (status == Status::Http(429) && group > 1)
            || (deployment.failures == deployment.requests
                && deployment.requests >= rule.single_deployment_threshold)
            || (failure_share > rule.failure_threshold
                && deployment.requests >= rule.minimum_requests
                && group > 1)
            || !should_retry(status)
    }
}

impl BreakerRule for LitellmBreaker {
    #[inline(never)]
    fn refresh(&mut self, now: Duration, _rng: &mut SimRng, log: &mut TransitionLog) {
        for (backend, deployment) in self.deployments.iter_mut().enumerate() {
            expire(&mut deployment.cooled_until, now, backend, log);
        }
    }

    fn available(&self, backend: BackendId) -> bool {
        self.deployments[backend].cooled_until.is_none()
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
        let status = outcome.observation.status;
        let minute = now.as_secs() / 60;
        let deployment = &mut self.deployments[backend];
        if deployment.minute != minute {
            deployment.minute = minute;
            deployment.requests = 0;
            deployment.failures = 0;
        }
        deployment.requests += 1;
        if !counts_as_failure(status) {
            return;
        }
        deployment.failures += 1;
        if !self.should_cool(now, backend, status) {
            return;
        }
        let Some(wait) = self.rule.wait(backend, outcome.observation) else {
            return;
        };
        let deployment = &mut self.deployments[backend];
        match deployment.cooled_until {
            Some(until) if now < until => {
                if self.rule.re_cool == ReCool::Extend {
                    deployment.cooled_until = Some(now + wait);
                    deployment.cooled_for = wait;
                }
            }
            _ => {
                expire(&mut deployment.cooled_until, now, backend, log);
                deployment.cooled_until = Some(now + wait);
                deployment.cooled_for = wait;
                log.push(
                    now,
                    backend,
                    Phase::Closed,
                    Phase::Open,
                    Reason::Cooldown {
                        status: status_code(outcome.observation),
                    },
                );
            }
        }
    }

    fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        timed_state(self.deployments[backend].cooled_until, now)
    }
}
