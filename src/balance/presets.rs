//! Named presets: each a composition of a selector, a breaker, a retry loop and an exhaustion
//! answer, documented with the source and version it reproduces (reference/balancing.md).

use serde::{Deserialize, Serialize};

use super::breaker::BreakerConfig;
use super::breaker::apim::ApimRule;
use super::breaker::envoy::EnvoyRule;
use super::breaker::kong::KongRule;
use super::breaker::litellm::LitellmRule;
use super::breaker::throttle_flag::{ThrottleFlagRule, WaitHeader};
use super::exhaustion::Exhaustion;
use super::retry::gateway::GatewayRetry;
use super::selector::SelectorConfig;
use super::selector::affinity::AffinityConfig;
use super::selector::headroom::HeadroomConfig;
use super::selector::latency::LatencyConfig;
use super::selector::least_outstanding::{LeastOutstandingConfig, PowerOfDConfig, TieBreak};
use super::selector::peak_ewma::PeakEwmaConfig;
use super::selector::usage::UsageConfig;
use super::selector::weighted::WeightSource;
use super::status_set::StatusSet;
use super::strategy::Composition;

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
    /// openai-priority-loadbalancer (simonkurtz-MSFT/python-openai-loadbalancer at 4493ab1):
    /// random in the best priority, throttle on 429/≥ 500 for RA → reset-requests → 10 s, retry
    /// while any backend is available (safety cap 100 retries, absent in the source), 429 with
    /// `Retry-After = int(min open-until − now) + 1` when none is.
    ClientPriority,
    /// LiteLLM `simple-shuffle` (`simple_shuffle.py` at 1116dd5): weighted random (weight >
    /// rpm > tpm), cooldown breaker, `num_retries` 2 [uncertain default] skipping failed
    /// deployments, "No deployments available" (429, retry-after 60).
    LitellmShuffle,
    /// LiteLLM `least-busy` (`least_busy.py` at 00e06b8) with the same cooldown and retries.
    LitellmLeastBusy,
    /// LiteLLM `latency-based-routing` (`lowest_latency.py` at 015b945), buffer 0, 10 samples,
    /// replace-last list update, TTFT-per-token stream samples.
    LitellmLatency,
    /// LiteLLM `usage-based-routing-v2` (`lowest_tpm_rpm_v2.py` at 005df01), fixed minute.
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
    pub const ALL: [Preset; 18] = [
        Preset::ApimPool,
        Preset::ApimSmartPolicy,
        Preset::ApimRandom,
        Preset::Powerproxy,
        Preset::ClientPriority,
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

    /// The preset's parts for a pool of `backends` backends.
    pub fn composition(self, backends: usize) -> Composition {
        let plain = |selector| Composition {
            selector,
            priority_groups: false,
            breaker: BreakerConfig::None,
            retry: GatewayRetry::none(),
            exhaustion: Exhaustion::Status { status: 503 },
            panic_threshold: None,
            overprovisioning: None,
            deadline: None,
        };
        let throttling = StatusSet::codes(&[429]).union(StatusSet::range(500, 599));
        let litellm_retry = GatewayRetry {
            count: 2,
            on: StatusSet::codes(&[408, 409, 429])
                .union(StatusSet::range(500, 599))
                .with_transport_errors(),
            exclude_tried: true,
            require_remaining: true,
            ..GatewayRetry::none()
        };
        let litellm = |selector| Composition {
            breaker: BreakerConfig::Litellm(LitellmRule::default()),
            retry: litellm_retry.clone(),
            exhaustion: Exhaustion::Litellm {
                min_cooldown: false,
            },
            ..plain(selector)
        };
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
                ..plain(SelectorConfig::Random)
            },
            Preset::LitellmShuffle => {
                litellm(SelectorConfig::WeightedRandom(WeightSource::LitellmShuffle))
            }
            Preset::LitellmLeastBusy => {
                litellm(SelectorConfig::LeastOutstanding(LeastOutstandingConfig {
                    tie_break: TieBreak::First,
                    litellm_quirk: true,
                }))
            }
            Preset::LitellmLatency => {
                litellm(SelectorConfig::LowestLatency(LatencyConfig::default()))
            }
            Preset::LitellmUsage => litellm(SelectorConfig::Usage(UsageConfig::default())),
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
