//! Token-headroom selection [proposed in balancing.md §10, no reference implementation]:
//! remember each backend's last `x-ratelimit-remaining-tokens` / `-requests` and when they were
//! seen, estimate the refill since then toward the limit over the provider window
//! (`rem(t) = min(limit, rem + limit × (t − seen) / window)`), exclude backends with
//! `rem_tokens < est_tokens` or `rem_requests < 1`, and pick the largest `rem_tokens − est`
//! (lowest id on a tie). A backend never observed counts as full (its TPM, or unbounded when
//! unknown). Switch `debit_on_send` (default true [inferred]) subtracts each sent request's
//! estimate locally so concurrent picks do not herd onto one backend between responses.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::PickContext;
use crate::balance::part::Part;
use crate::balance::types::{BackendId, BackendSpec, Observation};

/// Headroom parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadroomConfig {
    /// Refill window of the provider's limits (60 s for TPM/RPM).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub window: Duration,
    /// Subtract the request's estimate locally on send.
    pub debit_on_send: bool,
}

impl Default for HeadroomConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            debit_on_send: true,
        }
    }
}

impl Part for HeadroomConfig {}

#[derive(Debug, Clone, Copy)]
struct Remaining {
    tokens: Option<f64>,
    requests: Option<f64>,
    seen: Duration,
    token_limit: Option<f64>,
    request_limit: Option<f64>,
}

/// Last seen remaining budgets of every backend.
#[derive(Debug, Clone)]
pub struct TokenHeadroom {
    config: HeadroomConfig,
    backends: Vec<Remaining>,
}

impl TokenHeadroom {
    /// Every backend assumed full.
    pub fn new(config: HeadroomConfig, specs: &[BackendSpec]) -> Self {
        let backends = specs
            .iter()
            .map(|spec| Remaining {
                tokens: None,
                requests: None,
                seen: Duration::ZERO,
                token_limit: spec.tpm_limit.map(|v| v as f64),
                request_limit: spec.rpm_limit.map(|v| v as f64),
            })
            .collect();
        Self { config, backends }
    }

    fn refilled(
        &self,
        now: Duration,
        value: Option<f64>,
        limit: Option<f64>,
        seen: Duration,
    ) -> f64 {
        let fraction =
            now.saturating_sub(seen).as_secs_f64() / self.config.window.as_secs_f64().max(1e-9);
        match (value, limit) {
            (None, Some(limit)) => limit,
            (None, None) => f64::INFINITY,
            (Some(value), Some(limit)) => (value + limit * fraction).min(limit),
            (Some(value), None) => value,
        }
    }

    /// Estimated remaining tokens of `backend` at `now`.
    pub fn remaining_tokens(&self, now: Duration, backend: BackendId) -> f64 {
        let entry = &self.backends[backend];
        self.refilled(now, entry.tokens, entry.token_limit, entry.seen)
    }

    /// Estimated remaining requests of `backend` at `now`.
    pub fn remaining_requests(&self, now: Duration, backend: BackendId) -> f64 {
        let entry = &self.backends[backend];
        self.refilled(now, entry.requests, entry.request_limit, entry.seen)
    }

    /// One pick (None when no eligible backend has room for the request).
    pub fn pick(&mut self, ctx: &PickContext<'_>) -> Option<BackendId> {
        let need = ctx.est_tokens as f64;
        let mut best: Option<(BackendId, f64)> = None;
        for id in ctx.eligible.iter() {
            let tokens = self.remaining_tokens(ctx.now, id);
            if tokens < need || self.remaining_requests(ctx.now, id) < 1.0 {
                continue;
            }
            let headroom = tokens - need;
            if best.is_none_or(|(_, top)| headroom > top) {
                best = Some((id, headroom));
            }
        }
        best.map(|(id, _)| id)
    }

    /// Debits the estimate locally (switch).
    pub fn on_send(&mut self, now: Duration, backend: BackendId, est_tokens: u64) {
        if !self.config.debit_on_send {
            return;
        }
        let tokens = self.remaining_tokens(now, backend);
        let requests = self.remaining_requests(now, backend);
        let entry = &mut self.backends[backend];
        if tokens.is_finite() {
            entry.tokens = Some((tokens - est_tokens as f64).max(0.0));
        }
        if requests.is_finite() {
            entry.requests = Some((requests - 1.0).max(0.0));
        }
        entry.seen = now;
    }

    /// Reads the remaining headers; a header raises the limit estimate if it exceeds it.
    pub fn on_response(&mut self, now: Duration, backend: BackendId, observation: &Observation) {
        if observation.ratelimit_remaining_tokens.is_none()
            && observation.ratelimit_remaining_requests.is_none()
        {
            return;
        }
        let tokens_now = self.remaining_tokens(now, backend);
        let requests_now = self.remaining_requests(now, backend);
        let entry = &mut self.backends[backend];
        if let Some(tokens) = observation.ratelimit_remaining_tokens {
            let tokens = tokens as f64;
            entry.tokens = Some(tokens);
            if entry.token_limit.is_none_or(|limit| tokens > limit) {
                entry.token_limit = Some(tokens);
            }
        } else if tokens_now.is_finite() {
            entry.tokens = Some(tokens_now);
        }
        if let Some(requests) = observation.ratelimit_remaining_requests {
            let requests = requests as f64;
            entry.requests = Some(requests);
            if entry.request_limit.is_none_or(|limit| requests > limit) {
                entry.request_limit = Some(requests);
            }
        } else if requests_now.is_finite() {
            entry.requests = Some(requests_now);
        }
        entry.seen = now;
    }
}
