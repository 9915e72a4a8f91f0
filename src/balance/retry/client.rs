//! Client retries as the official OpenAI SDKs do them (openai-python `_base_client.py`,
//! `_constants.py`; openai-node `src/client.ts`; see aoai-wire.md §10):
//! `max_retries` 2; retried: 408, 409, 429, ≥ 500, connection errors, timeouts; server delay
//! `retry-after-ms` → `retry-after` used when `0 < x ≤ 60 s` (node: `0 ≤ x`); else backoff
//! `min(0.5 · 2^n, 8) · (1 − 0.25·U)` with `n` = retries already made. openai-python v2.52.0
//! (#3555) raises the cap to 120 s and does not retry when the server asks for more.

use std::time::Duration;

use aoai_mock::model::duration_from_secs_f64;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::balance::types::{Observation, Status};
use crate::seed::SimRng;

/// Which SDK's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sdk {
    /// openai-python before 2.52: header waits in (0, 60 s], else backoff.
    OpenaiPython,
    /// openai-node: header waits in [0, 60 s], else backoff.
    OpenaiNode,
    /// openai-python 2.52+: header waits in (0, 120 s]; above the cap, give up.
    OpenaiPython252,
}

impl Sdk {
    fn default_cap(self) -> Duration {
        match self {
            Sdk::OpenaiPython252 => Duration::from_secs(120),
            _ => Duration::from_secs(60),
        }
    }
}

/// Client retry policy (scenario `client_retry = { ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRetryPolicy {
    /// `max_retries` (2).
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Use `retry-after-ms` / `retry-after` when within the cap.
    #[serde(default = "default_true")]
    pub honour_retry_after: bool,
    /// Largest server-given wait honoured (default: the SDK's, 60 s or 120 s).
    #[serde(default, with = "aoai_mock::duration::serde_human_opt")]
    pub cap: Option<Duration>,
    /// Which SDK.
    #[serde(default = "default_sdk")]
    pub sdk: Sdk,
}

fn default_max_retries() -> u32 {
    2
}

fn default_true() -> bool {
    true
}

fn default_sdk() -> Sdk {
    Sdk::OpenaiPython
}

impl Default for ClientRetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            honour_retry_after: true,
            cap: None,
            sdk: Sdk::OpenaiPython,
        }
    }
}

/// Initial backoff (s).
const INITIAL_RETRY_DELAY: f64 = 0.5;

/// `2^min(n, 30)` as `f64`: the value `2f64.powi(n.min(30) as i32)` gives (powers of two are
/// exact either way), without the call to the runtime's `powi` on every client retry.
pub(crate) fn power_of_two(n: u32) -> f64 {
    f64::from(1u32 << n.min(30))
}
/// Largest backoff (s).
const MAX_RETRY_DELAY: f64 = 8.0;

impl ClientRetryPolicy {
    /// Whether the SDK retries this outcome at all.
    pub fn retries(status: Status) -> bool {
        match status {
            Status::Http(code) => matches!(code, 408 | 409 | 429 | 500..),
            Status::ConnectError | Status::Timeout => true,
        }
    }

    /// The wait before retry `retry_number` (0-based: retries already made), or None to give
    /// up and return this response to the caller.
    pub fn delay(
        &self,
        retry_number: u32,
        obs: &Observation,
        rng: &mut SimRng,
    ) -> Option<Duration> {
        if retry_number >= self.max_retries || !Self::retries(obs.status) {
            return None;
        }
        if self.honour_retry_after
            && let Some(wait) = obs.retry_after_ms.or(obs.retry_after_s)
        {
            let cap = self.cap.unwrap_or(self.sdk.default_cap());
            let lower_ok = match self.sdk {
                Sdk::OpenaiNode => true,
                _ => !wait.is_zero(),
            };
            if lower_ok && wait <= cap {
                return Some(wait);
            }
            if self.sdk == Sdk::OpenaiPython252 && wait > cap {
                return None;
            }
        }
        let backoff = (INITIAL_RETRY_DELAY * power_of_two(retry_number)).min(MAX_RETRY_DELAY);
        let jitter = 1.0 - 0.25 * rng.random::<f64>();
        // The project's exact fast conversion (equal to `Duration::from_secs_f64`).
        Some(duration_from_secs_f64(backoff * jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::power_of_two;

    #[test]
    fn power_of_two_equals_powi() {
        for n in 0..=70 {
            assert_eq!(
                power_of_two(n).to_bits(),
                2f64.powi(n.min(30) as i32).to_bits(),
                "{n}"
            );
        }
    }
}
