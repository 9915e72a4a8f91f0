//! Named presets: each a composition of a selector, a breaker, a retry loop and an exhaustion
//! answer, documented with the source and version it reproduces (reference/balancing.md).

use serde::{Deserialize, Serialize};

use super::breaker::BreakerConfig;
use super::breaker::apim::ApimRule;
use super::breaker::envoy::EnvoyRule;
use super::breaker::kong::KongRule;
use super::breaker::throttle_flag::{ThrottleFlagRule, WaitHeader};
use super::composition::Composition;
use super::exhaustion::Exhaustion;
use super::litellm::{self, LitellmOptions, Routing};
use super::retry::gateway::GatewayRetry;
use super::selector::SelectorConfig;
use super::selector::affinity::AffinityConfig;
use super::selector::headroom::HeadroomConfig;
use super::selector::least_outstanding::{LeastOutstandingConfig, PowerOfDConfig, TieBreak};
use super::selector::peak_ewma::PeakEwmaConfig;
use super::status_set::StatusSet;
use super::types::FailureLogging;

use std::time::Duration;

/// A named preset (scenario `preset = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// APIM backend pool (Backends doc ms.date 11/20/2025; API 2023-09-01-preview): priority
    /// groups, smooth weighted round-robin inside a group [uncertain: algorithm undocumented],
    /// the APIM breaker rule of AI-Gateway `inference-api.bicep` at 561d719 (count 1, 429,
    /// PT1M, trip PT1M, acceptRetryAfter), `<retry count="2" interval="0"
    /// first-fast-retry="true">` on 429/503 (AI-Gateway `backend-pool-load-balancing` lab),
    /// 503 when every backend is tripped.
    ApimPool,
    /// The "smart" APIM policy (Azure-Samples/openai-apim-lb at 039195e, seed-examples.md §1):
    /// uniform random in the best priority among non-throttling backends, throttle flag on
    /// 429/≥ 500 (RA → reset-requests → reset-tokens → 10 s), up to 50 immediate retries while
    /// any backend is not throttling, backend 0 when none is left.
    ApimSmartPolicy,
    /// The APIM policy before the smart one (AI-Gateway `_deprecated` simple load balancing):
    /// uniform random over all backends, no breaker, `<retry>` on 429/5xx with the old
    /// guidance `count = pool size − 1`, `interval="0"`.
    ApimRandom,
    /// PowerProxy (timoklimmer/powerproxy-aoai at 8faa62e): targets in config order, throttle
    /// flag on 408/429/500 for `retry-after-ms` else 10 000 ms, each target once, last response
    /// when all failed, 429 `retry-after-ms: 10000` when nothing could be tried. Its
    /// per-endpoint `non_streaming_fraction` is the backends' own setting (`BackendSpec`).
    Powerproxy,
    /// openai-priority-loadbalancer (simonkurtz-MSFT/python-openai-loadbalancer at 4493ab1;
    /// PyPI 1.1.1): random in the best priority, throttle on 429/≥ 500 for RA → reset-requests →
    /// 10 s, retry while any backend is available (safety cap 100 retries, absent in the
    /// source), 429 with `Retry-After = int(min open-until − now) + 1` when none is. It sends
    /// through its own `httpx.AsyncClient().send(request)` without `stream=True`
    /// (`openai_priority_loadbalancer.py` 1.1.1, `AsyncLoadBalancer.__init__` and
    /// `handle_async_request`), so it reads a streamed body whole before the SDK sees a byte:
    /// the client's first token comes at the end of the body (`buffers_streams`).
    ClientPriority,
    /// LiteLLM's router as a LiteLLM config describes it (`config = "litellm.yaml"`: routing
    /// strategy, retries, cooldowns, per-deployment weights); without a config, LiteLLM's
    /// defaults (simple-shuffle, 2 retries, 5 s cooldown). Modelled as [`LitellmVersion`] says.
    ///
    /// [`LitellmVersion`]: super::litellm::LitellmVersion
    Litellm,
    /// LiteLLM `simple-shuffle`: uniform random unless the config declares `weight`, `rpm` or
    /// `tpm` (LiteLLM 1.108.7 `router_strategy/simple_shuffle.py`; legacy: `simple_shuffle.py`
    /// at 1116dd5, weighted by the fleet's quotas), the cooldown breaker and retry loop of
    /// `balance::litellm` (by version and mode), "No deployments available" as 429.
    LitellmShuffle,
    /// LiteLLM `least-busy`: the fewest in-flight requests among healthy deployments, first on
    /// ties (1.108.7 `router_strategy/least_busy.py`; legacy: `least_busy.py` at 00e06b8, the
    /// argmin over every deployment then a random healthy one), same cooldown and retries.
    LitellmLeastBusy,
    /// LiteLLM `latency-based-routing` (`lowest_latency.py` at 015b945), buffer 0, 10 samples,
    /// replace-last list update, TTFT-per-token stream samples; cooldown and retries by version.
    LitellmLatency,
    /// LiteLLM `usage-based-routing-v2` (`lowest_tpm_rpm_v2.py` at 005df01), fixed minute;
    /// cooldown and retries by version.
    LitellmUsage,
    /// tower `balance::p2c` + `load::PeakEwma` (tower-rs/tower at 8358ee7): P2C on
    /// `rtt × (pending + 1)`, decay 10 s, default RTT 1 s; no breaker, no retries.
    P2cPeakEwma,
    /// Header-aware balancing [proposed, balancing.md §10]: most `x-ratelimit-remaining-tokens`
    /// headroom with refill, throttle flag on 429/≥ 500 (retry-after-ms → RA → reset-tokens →
    /// reset-requests → 10 s), 2 retries on other backends, 429 with min open-until + 1 s.
    TokenHeadroom,
    /// Plain round-robin, no breaker, no retries.
    RoundRobin,
    /// Uniform random, no breaker, no retries (supermarket d = 1).
    Random,
    /// Least outstanding requests (random tie break), no breaker, no retries.
    LeastOutstanding,
    /// Power of two choices on in-flight counts, distinct samples (tower `p2c` +
    /// `PendingRequests`; switch `selector.d`, `selector.distinct` for JSQ(d)).
    PowerOfD,
    /// Consistent hash of the session key (rendezvous), re-pinning when a backend is out.
    SessionAffinity,
    /// Kong AI Proxy Advanced (developer.konghq.com at bc1cd74): weighted round-robin,
    /// `max_fails` 3 / `fail_timeout` 10 000 ms on `error`/`timeout`, `retries` 5, 500 when
    /// every target is unhealthy.
    KongRoundRobin,
    /// Envoy `least_request` (P2C) with outlier detection defaults (envoy 1282f87: the
    /// consecutive-5xx and the success-rate detectors), priority levels with the
    /// overprovisioning factor 1.4 and the 50% panic threshold; no retries.
    EnvoyLeastRequest,
}

impl Preset {
    /// Every preset, for listings and tests.
    pub const ALL: [Preset; 19] = [
        Preset::ApimPool,
        Preset::ApimSmartPolicy,
        Preset::ApimRandom,
        Preset::Powerproxy,
        Preset::ClientPriority,
        Preset::Litellm,
        Preset::LitellmShuffle,
        Preset::LitellmLeastBusy,
        Preset::LitellmLatency,
        Preset::LitellmUsage,
        Preset::P2cPeakEwma,
        Preset::TokenHeadroom,
        Preset::RoundRobin,
        Preset::Random,
        Preset::LeastOutstanding,
        Preset::PowerOfD,
        Preset::SessionAffinity,
        Preset::KongRoundRobin,
        Preset::EnvoyLeastRequest,
    ];

    /// The name as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Preset::ApimPool => "apim-pool",
            Preset::ApimSmartPolicy => "apim-smart-policy",
            Preset::ApimRandom => "apim-random",
            Preset::Powerproxy => "powerproxy",
            Preset::ClientPriority => "client-priority",
            Preset::Litellm => "litellm",
            Preset::LitellmShuffle => "litellm-shuffle",
            Preset::LitellmLeastBusy => "litellm-least-busy",
            Preset::LitellmLatency => "litellm-latency",
            Preset::LitellmUsage => "litellm-usage",
            Preset::P2cPeakEwma => "p2c-peak-ewma",
            Preset::TokenHeadroom => "token-headroom",
            Preset::RoundRobin => "round-robin",
            Preset::Random => "random",
            Preset::LeastOutstanding => "least-outstanding",
            Preset::PowerOfD => "power-of-d",
            Preset::SessionAffinity => "session-affinity",
            Preset::KongRoundRobin => "kong-round-robin",
            Preset::EnvoyLeastRequest => "envoy-least-request",
        }
    }

    /// Whether the preset models LiteLLM (and so takes `litellm = { version, mode }`).
    pub fn is_litellm(self) -> bool {
        self.litellm_routing().is_some()
    }

    /// The LiteLLM routing strategy of a LiteLLM preset.
    pub fn litellm_routing(self) -> Option<Routing> {
        match self {
            Preset::Litellm | Preset::LitellmShuffle => Some(Routing::SimpleShuffle),
            Preset::LitellmLeastBusy => Some(Routing::LeastBusy),
            Preset::LitellmLatency => Some(Routing::LatencyBasedRouting),
            Preset::LitellmUsage => Some(Routing::UsageBasedRoutingV2),
            _ => None,
        }
    }

    /// The preset's parts for a pool of `backends` backends (LiteLLM presets: the pinned
    /// version, proxy mode).
    pub fn composition(self, backends: usize) -> Composition {
        self.composition_with(backends, LitellmOptions::default())
    }

    /// The preset's parts, LiteLLM presets modelled as `litellm` says.
    pub fn composition_with(self, backends: usize, litellm: LitellmOptions) -> Composition {
        let plain = |selector| Composition {
            selector,
            priority_groups: false,
            breaker: BreakerConfig::None,
            retry: GatewayRetry::none(),
            exhaustion: Exhaustion::Status { status: 503 },
            panic_threshold: None,
            overprovisioning: None,
            deadline: None,
            failure_logging: FailureLogging::PerAttempt,
            renames_retry_headers: false,
            buffers_streams: false,
        };
        let throttling = StatusSet::codes(&[429]).union(StatusSet::range(500, 599));
        let litellm =
            |routing| litellm::composition(routing, litellm, plain(SelectorConfig::Random));
        match self {
            Preset::ApimPool => Composition {
                priority_groups: true,
                breaker: BreakerConfig::Apim(ApimRule::aoai_default()),
                retry: GatewayRetry::apim_pool(),
                exhaustion: Exhaustion::ApimUnavailable { status: 503 },
                ..plain(SelectorConfig::SmoothWeighted)
            },
            Preset::ApimSmartPolicy => Composition {
                priority_groups: true,
                breaker: BreakerConfig::ThrottleFlag(ThrottleFlagRule::smart_policy(false)),
                retry: GatewayRetry {
                    count: 50,
                    on: throttling,
                    require_remaining: true,
                    ..GatewayRetry::none()
                },
                exhaustion: Exhaustion::SendToFirst,
                ..plain(SelectorConfig::Random)
            },
            Preset::ApimRandom => Composition {
                retry: GatewayRetry {
                    count: backends.saturating_sub(1) as u32,
                    on: throttling,
                    ..GatewayRetry::none()
                },
                ..plain(SelectorConfig::Random)
            },
            Preset::Powerproxy => Composition {
                breaker: BreakerConfig::ThrottleFlag(ThrottleFlagRule::powerproxy()),
                retry: GatewayRetry {
                    count: u32::MAX,
                    on: StatusSet::codes(&[408, 429, 500]),
                    exclude_tried: true,
                    require_remaining: true,
                    ..GatewayRetry::none()
                },
                exhaustion: Exhaustion::Powerproxy,
                ..plain(SelectorConfig::Ordered)
            },
            Preset::ClientPriority => Composition {
                priority_groups: true,
                breaker: BreakerConfig::ThrottleFlag(ThrottleFlagRule::client_priority()),
                retry: GatewayRetry {
                    count: 100,
                    on: throttling,
                    ..GatewayRetry::none()
                },
                exhaustion: Exhaustion::ClientPriority,
                buffers_streams: true,
                ..plain(SelectorConfig::Random)
            },
            Preset::Litellm | Preset::LitellmShuffle => litellm(Routing::SimpleShuffle),
            Preset::LitellmLeastBusy => litellm(Routing::LeastBusy),
            Preset::LitellmLatency => litellm(Routing::LatencyBasedRouting),
            Preset::LitellmUsage => litellm(Routing::UsageBasedRoutingV2),
            Preset::P2cPeakEwma => plain(SelectorConfig::PeakEwma(PeakEwmaConfig::default())),
            Preset::TokenHeadroom => Composition {
                breaker: BreakerConfig::ThrottleFlag(ThrottleFlagRule {
                    statuses: throttling,
                    headers: vec![
                        WaitHeader::RetryAfterMs,
                        WaitHeader::RetryAfter,
                        WaitHeader::ResetTokens,
                        WaitHeader::ResetRequests,
                    ],
                    default_wait: Duration::from_secs(10),
                }),
                retry: GatewayRetry {
                    count: 2,
                    on: throttling,
                    exclude_tried: true,
                    require_remaining: true,
                    ..GatewayRetry::none()
                },
                exhaustion: Exhaustion::ClientPriority,
                ..plain(SelectorConfig::TokenHeadroom(HeadroomConfig::default()))
            },
            Preset::RoundRobin => plain(SelectorConfig::RoundRobin),
            Preset::Random => plain(SelectorConfig::Random),
            Preset::LeastOutstanding => {
                plain(SelectorConfig::LeastOutstanding(LeastOutstandingConfig {
                    tie_break: TieBreak::Random,
                    litellm_quirk: false,
                }))
            }
            Preset::PowerOfD => plain(SelectorConfig::PowerOfD(PowerOfDConfig {
                d: 2,
                distinct: true,
            })),
            Preset::SessionAffinity => plain(SelectorConfig::Affinity(AffinityConfig::default())),
            Preset::KongRoundRobin => Composition {
                breaker: BreakerConfig::Kong(KongRule::default()),
                retry: GatewayRetry {
                    count: 5,
                    on: StatusSet::EMPTY.with_transport_errors(),
                    ..GatewayRetry::none()
                },
                exhaustion: Exhaustion::Kong,
                ..plain(SelectorConfig::SmoothWeighted)
            },
            Preset::EnvoyLeastRequest => Composition {
                priority_groups: true,
                breaker: BreakerConfig::Envoy(EnvoyRule::default()),
                panic_threshold: Some(50),
                overprovisioning: Some(1.4),
                ..plain(SelectorConfig::PowerOfD(PowerOfDConfig {
                    d: 2,
                    distinct: true,
                }))
            },
        }
    }
}
