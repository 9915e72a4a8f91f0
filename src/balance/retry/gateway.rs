//! The gateway retry loop, one parameterised policy for every modelled system:
//! - APIM `<retry count interval max-interval delta first-fast-retry condition>`
//!   (retry-policy doc): fixed `interval`; linear `interval + (n−1)·delta` with `delta`;
//!   exponential `interval + (2^n − 1)·U(0.8·delta, 1.2·delta)` capped at `max-interval` when
//!   both are set; `first-fast-retry` makes the first retry immediate. Each retry re-selects the
//!   pool after the breaker saw the failure.
//! - the smart policy: `count=50 interval=0`, condition "429 or ≥ 500, a response exists, and
//!   some backend is not throttling" (`require_remaining`).
//! - PowerProxy / legacy LiteLLM model: each target at most once (`exclude_tried`).
//! - LiteLLM 1.108.7 (`litellm/router.py` `async_function_with_retries`,
//!   `_time_to_sleep_before_retry`; `litellm/utils.py` `calculate_retry_after`): a retry may
//!   return to any healthy deployment (only non-retryable answers are skipped); it goes at once
//!   while the group has a healthy deployment, else after the failed answer's integer
//!   `retry-after` when it is in (0, 60] s, else `min(0.5 · 2^k, 8)` s with k the retries made so
//!   far, plus a jitter `U(0, 0.75)` s either way (`litellm_backoff`).

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use toml::Table;

use crate::balance::part::Part;
use crate::balance::retry::client::power_of_two;
use crate::balance::status_set::StatusSet;
use crate::balance::types::Status;
use crate::seed::SimRng;

/// Gateway retry parameters; the `retry = { … }` settings are the serde fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayRetry {
    /// Retries after the first attempt (APIM `count`).
    pub count: u32,
    /// APIM `interval`.
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub interval: Duration,
    /// APIM `max-interval`.
    #[serde(default, with = "aoai_mock::duration::serde_human_opt")]
    pub max_interval: Option<Duration>,
    /// APIM `delta`.
    #[serde(default, with = "aoai_mock::duration::serde_human_opt")]
    pub delta: Option<Duration>,
    /// APIM `first-fast-retry`.
    pub first_fast_retry: bool,
    /// Outcomes retried (APIM `condition`).
    pub on: StatusSet,
    /// Never send the same request to a backend twice.
    pub exclude_tried: bool,
    /// Retry only while some backend is available (smart policy `remainingBackends > 0`,
    /// PowerProxy's loop over the remaining targets).
    pub require_remaining: bool,
    /// The exhaustion answer (e.g. APIM's pool 503) is itself a response the condition sees,
    /// so a retry with an interval may find a recovered backend [inferred].
    pub retry_exhaustion: bool,
    /// Wait as LiteLLM 1.108.7 does (see the module doc) instead of the APIM-style interval
    /// (set by the LiteLLM version modelled).
    #[serde(skip)]
    pub litellm_backoff: bool,
}

impl Part for GatewayRetry {
    fn settle(&mut self, before: &Self, _written: &Table) {
        self.litellm_backoff = before.litellm_backoff;
    }
}

/// LiteLLM's `INITIAL_RETRY_DELAY` (s).
const LITELLM_INITIAL_DELAY: f64 = 0.5;
/// LiteLLM's `MAX_RETRY_DELAY` (s).
const LITELLM_MAX_DELAY: f64 = 8.0;
/// LiteLLM's `JITTER` (s).
const LITELLM_JITTER: f64 = 0.75;

impl GatewayRetry {
    /// No retries.
    pub fn none() -> Self {
        Self {
            count: 0,
            interval: Duration::ZERO,
            max_interval: None,
            delta: None,
            first_fast_retry: false,
            on: StatusSet::EMPTY,
            exclude_tried: false,
            require_remaining: false,
            retry_exhaustion: false,
            litellm_backoff: false,
        }
    }

    /// AI-Gateway `backend-pool-load-balancing`: `count=2 interval=0 first-fast-retry=true`
    /// on 429 or 503.
    pub fn apim_pool() -> Self {
        Self {
            count: 2,
            first_fast_retry: true,
            on: StatusSet::codes(&[429, 503]),
            retry_exhaustion: true,
            ..Self::none()
        }
    }

    /// Whether the loop may retry after `status`, having made `retries_done` retries.
    #[inline]
    pub fn wants(&self, status: Status, retries_done: u32) -> bool {
        retries_done < self.count && self.on.contains(status)
    }

    /// The wait before the next retry, `made` retries made so far: APIM-style (see
    /// [`GatewayRetry::delay`]), or with `litellm_backoff` none while a deployment is
    /// `healthy`, else [`GatewayRetry::litellm_delay`].
    #[inline]
    pub fn wait(
        &self,
        made: u32,
        healthy: bool,
        retry_after_s: Option<Duration>,
        rng: &mut SimRng,
    ) -> Duration {
        match (self.litellm_backoff, healthy) {
            (false, _) => self.delay(made + 1, rng),
            (true, true) => Duration::ZERO,
            (true, false) => self.litellm_delay(made, retry_after_s, rng),
        }
    }

    /// LiteLLM's wait when no healthy deployment is left, with `made` retries made so far and
    /// the failed answer's integer `retry-after`.
    pub fn litellm_delay(
        &self,
        made: u32,
        retry_after_s: Option<Duration>,
        rng: &mut SimRng,
    ) -> Duration {
        let jitter = LITELLM_JITTER * rng.random::<f64>();
        let base = match retry_after_s {
            Some(wait) if !wait.is_zero() && wait <= Duration::from_secs(60) => wait.as_secs_f64(),
            _ => (LITELLM_INITIAL_DELAY * power_of_two(made)).min(LITELLM_MAX_DELAY),
        };
        Duration::from_secs_f64(base + jitter)
    }

    /// Wait before retry number `n` (1-based).
    #[inline]
    pub fn delay(&self, n: u32, rng: &mut SimRng) -> Duration {
        // In line: APIM pools retry at once first (`first-fast-retry`), the common case.
        if n == 0 || (n == 1 && self.first_fast_retry) {
            return Duration::ZERO;
        }
        self.interval_delay(n, rng)
    }

    /// [`Self::delay`] past an immediate retry: the configured interval rule.
    #[inline(never)]
    fn interval_delay(&self, n: u32, rng: &mut SimRng) -> Duration {
        match (self.delta, self.max_interval) {
            (None, _) => self.interval,
            (Some(delta), None) => self.interval + delta.saturating_mul(n - 1),
            (Some(delta), Some(max)) => {
                let growth = 2f64.powi(n.min(62) as i32) - 1.0;
                let factor = rng.random_range(0.8..=1.2);
                let wait = self.interval.as_secs_f64() + growth * factor * delta.as_secs_f64();
                Duration::from_secs_f64(wait.min(max.as_secs_f64()).max(0.0))
            }
        }
    }
}
