//! The gateway retry loop, one parameterised policy for every modelled system:
//! - APIM `<retry count interval max-interval delta first-fast-retry condition>`
//!   (retry-policy doc): fixed `interval`; linear `interval + (n−1)·delta` with `delta`;
//!   exponential `interval + (2^n − 1)·U(0.8·delta, 1.2·delta)` capped at `max-interval` when
//!   both are set; `first-fast-retry` makes the first retry immediate. Each retry re-selects the
//!   pool after the breaker saw the failure.
//! - the smart policy: `count=50 interval=0`, condition "429 or ≥ 500, a response exists, and
//!   some backend is not throttling" (`require_remaining`).
//! - PowerProxy / LiteLLM: each target at most once (`exclude_tried`).

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::balance::status_set::StatusSet;
use crate::balance::types::Status;
use crate::seed::SimRng;

/// Gateway retry parameters.
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
}

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
    pub fn wants(&self, status: Status, retries_done: u32) -> bool {
        retries_done < self.count && self.on.contains(status)
    }

    /// Wait before retry number `n` (1-based).
    pub fn delay(&self, n: u32, rng: &mut SimRng) -> Duration {
        if n == 0 || (n == 1 && self.first_fast_retry) {
            return Duration::ZERO;
        }
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
