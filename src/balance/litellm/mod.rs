//! LiteLLM's router as the `litellm-*` presets model it, by version and deployment mode, and
//! the import of a real LiteLLM proxy/router YAML config ([`import`]).
//!
//! Version `1.108.7` (the default, the version the conformance lab pins and measured in front of
//! the mock; sources are files of the installed `litellm` 1.108.7 package):
//! - least-busy: the lowest in-flight count among healthy (not cooling) deployments, first in
//!   list order on ties (`router_strategy/least_busy.py` `_least_busy`);
//! - simple-shuffle: weighs by what `litellm_params` declares (`weight` > `rpm` > `tpm`), else
//!   uniform (`router_strategy/simple_shuffle.py`) — never by the fleet's quotas;
//! - retries: `num_retries` (default 2) on 408/409/429/≥ 500, each to any healthy deployment
//!   (one that answered 429 is skipped only while cooling), at once — and only while one is
//!   healthy: with every deployment of a multi-deployment group cooling, the failure (a
//!   backend's, or "No deployments available") is returned at once (`router.py`
//!   `should_retry_this_error`: "Do not retry if there are no healthy deployments", checked
//!   after the first failure and after each retry's, unless a `retry_policy` applies); a
//!   one-deployment group (never cooled) waits `retry-after` or a backoff
//!   (`_time_to_sleep_before_retry`, `async_function_with_retries`);
//! - cooldown: length from a per-deployment `cooldown_time`, else the integer `retry-after`,
//!   else the router's `cooldown_time`; re-cooling moves the deadline (`breaker::litellm`);
//! - "No deployments available": 429 with `retry-after` = ceil of the shortest configured
//!   cooldown (`proxy/common_request_processing.py` `_apply_router_cooldown_retry_after`);
//! - a backend failure passed back has its headers renamed `llm_provider-…`
//!   (`litellm_core_utils/core_helpers.py` `process_response_headers`): the client sees no
//!   `retry-after` and the OpenAI SDK backs off exponentially;
//! - proxy mode: a request's retries share one logging object whose failure callbacks run once
//!   (`litellm_core_utils/litellm_logging.py`, `has_logged_{event_type}`), so only its first
//!   failed attempt cools a deployment or lowers least-busy's in-flight count; library mode
//!   (the `Router` called in-process) logs every attempt.
//!
//! Version `legacy` is the model these presets had before the lab (source reading at the
//! revisions cited in `presets.rs`, never measured), kept so old results can be reproduced.

pub mod import;
mod yaml;

use serde::{Deserialize, Serialize};

use super::breaker::BreakerConfig;
use super::breaker::litellm::LitellmRule;
use super::composition::Composition;
use super::exhaustion::{Exhaustion, LitellmWait};
use super::retry::gateway::GatewayRetry;
use super::selector::SelectorConfig;
use super::selector::least_outstanding::{LeastOutstandingConfig, TieBreak};
use super::selector::weighted::WeightSource;
use super::status_set::StatusSet;
use super::types::FailureLogging;

/// The LiteLLM version a preset models.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LitellmVersion {
    /// LiteLLM 1.108.7, measured in the conformance lab (the pinned version).
    #[default]
    #[serde(rename = "1.108.7")]
    V1_108_7,
    /// The model before the conformance lab (unmeasured source reading).
    #[serde(rename = "legacy")]
    Legacy,
}

/// How LiteLLM is deployed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LitellmMode {
    /// The LiteLLM proxy (a gateway the OpenAI SDK calls).
    #[default]
    Proxy,
    /// The `Router` library called in-process by the application.
    Library,
}

/// `litellm = { version = "1.108.7", mode = "proxy" }` of a `[[strategies]]` entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LitellmOptions {
    /// The version modelled (default: the pinned one).
    #[serde(default)]
    pub version: LitellmVersion,
    /// Proxy or library.
    #[serde(default)]
    pub mode: LitellmMode,
}

/// LiteLLM's routing strategies the simulator models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Routing {
    /// `simple-shuffle` (LiteLLM's default).
    SimpleShuffle,
    /// `least-busy`.
    LeastBusy,
    /// `latency-based-routing`.
    LatencyBasedRouting,
    /// `usage-based-routing-v2` (and `usage-based-routing`).
    UsageBasedRoutingV2,
}

impl Routing {
    /// The selector of this routing strategy in `version`.
    pub fn selector(self, version: LitellmVersion) -> SelectorConfig {
        let legacy = version == LitellmVersion::Legacy;
        match self {
            Routing::SimpleShuffle if legacy => {
                SelectorConfig::WeightedRandom(WeightSource::LitellmShuffle)
            }
            Routing::SimpleShuffle => SelectorConfig::WeightedRandom(WeightSource::LitellmDeclared),
            Routing::LeastBusy => SelectorConfig::LeastOutstanding(LeastOutstandingConfig {
                tie_break: TieBreak::First,
                litellm_quirk: legacy,
            }),
            Routing::LatencyBasedRouting => SelectorConfig::LowestLatency(Default::default()),
            Routing::UsageBasedRoutingV2 => SelectorConfig::Usage(Default::default()),
        }
    }

    /// LiteLLM's name of it.
    pub fn name(self) -> &'static str {
        match self {
            Routing::SimpleShuffle => "simple-shuffle",
            Routing::LeastBusy => "least-busy",
            Routing::LatencyBasedRouting => "latency-based-routing",
            Routing::UsageBasedRoutingV2 => "usage-based-routing-v2",
        }
    }
}

/// Statuses `litellm._should_retry` retries, and transport errors.
fn retried() -> StatusSet {
    StatusSet::codes(&[408, 409, 429])
        .union(StatusSet::range(500, 599))
        .with_transport_errors()
}

/// The composition of LiteLLM routing `routing` in `options`, from `plain` (the preset's
/// neutral parts).
pub fn composition(routing: Routing, options: LitellmOptions, plain: Composition) -> Composition {
    let selector = routing.selector(options.version);
    match options.version {
        LitellmVersion::Legacy => Composition {
            selector,
            breaker: BreakerConfig::Litellm(LitellmRule::legacy()),
            retry: GatewayRetry {
                count: 2,
                on: retried(),
                exclude_tried: true,
                require_remaining: true,
                ..GatewayRetry::none()
            },
            exhaustion: Exhaustion::Litellm {
                wait: LitellmWait::Sixty,
            },
            ..plain
        },
        LitellmVersion::V1_108_7 => Composition {
            selector,
            breaker: BreakerConfig::Litellm(LitellmRule::default()),
            // `router.py` `should_retry_this_error`: no retry without a healthy deployment, so
            // "No deployments available" is never retried either (it means none is healthy).
            retry: GatewayRetry {
                count: 2,
                on: retried(),
                require_remaining: true,
                litellm_backoff: true,
                ..GatewayRetry::none()
            },
            exhaustion: Exhaustion::Litellm {
                wait: LitellmWait::ShortestConfigured,
            },
            failure_logging: match options.mode {
                LitellmMode::Proxy => FailureLogging::FirstPerRequest,
                LitellmMode::Library => FailureLogging::PerAttempt,
            },
            renames_retry_headers: options.mode == LitellmMode::Proxy,
            ..plain
        },
    }
}
