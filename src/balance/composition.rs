//! [`Composition`]: the parts a strategy is made of — selector, priority groups, breaker,
//! gateway retry loop, exhaustion answer and the switches that model a real balancer's
//! quirks. What a preset plus `--set` overrides resolve to; `Strategy::new` builds from it.

use std::time::Duration;

use serde::Serialize;

use super::breaker::BreakerConfig;
use super::exhaustion::Exhaustion;
use super::retry::gateway::GatewayRetry;
use super::selector::SelectorConfig;
use super::types::FailureLogging;

/// The parts a strategy is composed of (what a preset plus overrides resolve to).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Composition {
    /// Which backend takes an attempt.
    pub selector: SelectorConfig,
    /// Narrow the eligible set to the lowest priority number present before selecting.
    pub priority_groups: bool,
    /// Per-backend breaker.
    pub breaker: BreakerConfig,
    /// Gateway retry loop.
    pub retry: GatewayRetry,
    /// Answer when no backend is eligible.
    pub exhaustion: Exhaustion,
    /// Envoy panic threshold (percent): below this share of available backends, ignore health.
    pub panic_threshold: Option<u32>,
    /// Envoy's overprovisioning factor (1.4): with priority groups, a group takes
    /// `min(100 %, healthy share × factor)` of the traffic and spills the rest to the next
    /// group, instead of the best group taking it all. None: the best group takes it all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overprovisioning: Option<f64>,
    /// Overall deadline per request (from `begin`).
    #[serde(with = "aoai_mock::duration::serde_human_opt")]
    pub deadline: Option<Duration>,
    /// Which failed attempts of a request the breaker and the selector hear about.
    #[serde(default, skip_serializing_if = "FailureLogging::is_per_attempt")]
    pub failure_logging: FailureLogging,
    /// The backend's `retry-after` headers reach the client renamed (LiteLLM's
    /// `llm_provider-retry-after`), so the client sees none on a passed-through failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub renames_retry_headers: bool,
    /// The balancer reads a streamed body whole before the client sees its first byte
    /// (openai-priority-loadbalancer 1.1.1): the client's first token comes at the end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub buffers_streams: bool,
}
