//! Override tables of a `[[strategies]]` entry (`selector`, `breaker`, `retry`) and how they
//! are applied to a preset's parts: a field the part does not have is refused by name.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::scope::{Scope, set};
use crate::balance::BalanceError;
use crate::balance::breaker::BreakerConfig;
use crate::balance::breaker::apim::{ApimRule, RetryAfterMode, WindowKind};
use crate::balance::breaker::envoy::EnvoyRule;
use crate::balance::breaker::hystrix::HystrixRule;
use crate::balance::breaker::kong::KongRule;
use crate::balance::breaker::litellm::{LitellmRule, ReCool};
use crate::balance::breaker::resilience4j::{Resilience4jRule, SlidingWindow};
use crate::balance::breaker::throttle_flag::{ThrottleFlagRule, WaitHeader};
use crate::balance::selector::SelectorConfig;
use crate::balance::selector::affinity::{AffinityConfig, OnUnavailable};
use crate::balance::selector::headroom::HeadroomConfig;
use crate::balance::selector::latency::{LatencyConfig, ListUpdate, StreamSample};
use crate::balance::selector::least_outstanding::{
    LeastOutstandingConfig, PowerOfDConfig, TieBreak,
};
use crate::balance::selector::peak_ewma::{LatencySample, PeakEwmaConfig};
use crate::balance::selector::usage::UsageConfig;
use crate::balance::selector::weighted::WeightSource;
use crate::balance::status_set::StatusSet;
use crate::balance::strategy::Composition;
use aoai_mock::duration::serde_human_opt;

/// Selector overrides (`selector = { ... }`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectorOverrides {
    /// Swap the selector for this kind (with its defaults).
    pub kind: Option<SelectorKind>,
    /// Weighted pools: `smooth` (WRR) or `random`.
    pub weighted: Option<WeightedMode>,
    /// Power of d: samples.
    pub d: Option<u32>,
    /// Power of d: distinct samples.
    pub distinct: Option<bool>,
    /// Least outstanding: tie break.
    pub tie_break: Option<TieBreak>,
    /// Peak-EWMA: decay τ.
    #[serde(default, with = "serde_human_opt")]
    pub decay: Option<Duration>,
    /// Peak-EWMA: default RTT.
    #[serde(default, with = "serde_human_opt")]
    pub default_rtt: Option<Duration>,
    /// Peak-EWMA: sample (`ttft` | `full`).
    pub sample: Option<LatencySample>,
    /// Lowest latency: buffer.
    pub buffer: Option<f64>,
    /// Lowest latency: list size.
    pub max_samples: Option<u32>,
    /// Lowest latency: TTL.
    #[serde(default, with = "serde_human_opt")]
    pub ttl: Option<Duration>,
    /// Lowest latency: list update.
    pub list_update: Option<ListUpdate>,
    /// Lowest latency: stream sample.
    pub stream_sample: Option<StreamSample>,
    /// Usage: RPM check at selection.
    pub rpm_check_at_selection: Option<bool>,
    /// Usage: pre-call RPM check.
    pub pre_call_rpm_check: Option<bool>,
    /// Headroom: refill window.
    #[serde(default, with = "serde_human_opt")]
    pub window: Option<Duration>,
    /// Headroom: debit on send.
    pub debit_on_send: Option<bool>,
    /// Affinity: on unavailable.
    pub on_unavailable: Option<OnUnavailable>,
}

/// Selector kinds for `selector.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectorKind {
    /// Uniform random.
    Random,
    /// Round-robin.
    RoundRobin,
    /// Smooth WRR.
    SmoothWeighted,
    /// Weighted random.
    WeightedRandom,
    /// Ordered failover.
    Ordered,
    /// Least outstanding.
    LeastOutstanding,
    /// Power of d.
    PowerOfD,
    /// P2C Peak-EWMA.
    PeakEwma,
    /// Lowest latency.
    LowestLatency,
    /// Usage-based.
    Usage,
    /// Token headroom.
    TokenHeadroom,
    /// Session affinity.
    Affinity,
}

impl SelectorKind {
    fn default_config(self) -> SelectorConfig {
        match self {
            SelectorKind::Random => SelectorConfig::Random,
            SelectorKind::RoundRobin => SelectorConfig::RoundRobin,
            SelectorKind::SmoothWeighted => SelectorConfig::SmoothWeighted,
            SelectorKind::WeightedRandom => SelectorConfig::WeightedRandom(WeightSource::Weight),
            SelectorKind::Ordered => SelectorConfig::Ordered,
            SelectorKind::LeastOutstanding => {
                SelectorConfig::LeastOutstanding(LeastOutstandingConfig {
                    tie_break: TieBreak::Random,
                    litellm_quirk: false,
                })
            }
            SelectorKind::PowerOfD => SelectorConfig::PowerOfD(PowerOfDConfig {
                d: 2,
                distinct: true,
            }),
            SelectorKind::PeakEwma => SelectorConfig::PeakEwma(PeakEwmaConfig::default()),
            SelectorKind::LowestLatency => SelectorConfig::LowestLatency(LatencyConfig::default()),
            SelectorKind::Usage => SelectorConfig::Usage(UsageConfig::default()),
            SelectorKind::TokenHeadroom => SelectorConfig::TokenHeadroom(HeadroomConfig::default()),
            SelectorKind::Affinity => SelectorConfig::Affinity(AffinityConfig::default()),
        }
    }
}

/// Weighted selection inside a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightedMode {
    /// Smooth weighted round-robin.
    Smooth,
    /// Weighted random.
    Random,
}

/// Breaker kinds for `breaker.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakerKind {
    /// No breaker.
    None,
    /// APIM rule (AOAI defaults).
    Apim,
    /// Smart-policy throttle flag.
    ThrottleFlag,
    /// Envoy outlier detection.
    Envoy,
    /// resilience4j.
    Resilience4j,
    /// Hystrix.
    Hystrix,
    /// LiteLLM cooldown.
    Litellm,
    /// Kong.
    Kong,
}

impl BreakerKind {
    fn default_config(self) -> BreakerConfig {
        match self {
            BreakerKind::None => BreakerConfig::None,
            BreakerKind::Apim => BreakerConfig::Apim(ApimRule::aoai_default()),
            BreakerKind::ThrottleFlag => {
                BreakerConfig::ThrottleFlag(ThrottleFlagRule::smart_policy(false))
            }
            BreakerKind::Envoy => BreakerConfig::Envoy(EnvoyRule::default()),
            BreakerKind::Resilience4j => BreakerConfig::Resilience4j(Resilience4jRule::default()),
            BreakerKind::Hystrix => BreakerConfig::Hystrix(HystrixRule::default()),
            BreakerKind::Litellm => BreakerConfig::Litellm(LitellmRule::default()),
            BreakerKind::Kong => BreakerConfig::Kong(KongRule::default()),
        }
    }
}

/// Breaker overrides (`breaker = { ... }`). Field names follow each system's vocabulary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerOverrides {
    /// Swap the breaker for this kind (with its defaults).
    pub kind: Option<BreakerKind>,
    /// Failure statuses (APIM `statusCodeRanges`, throttle statuses, Envoy, resilience4j,
    /// Kong `failover_criteria`).
    pub status_codes: Option<StatusSet>,
    /// APIM `failureCondition.count`.
    pub count: Option<u32>,
    /// APIM `failureCondition.percentage`.
    pub percentage: Option<u32>,
    /// APIM `failureCondition.interval`; Envoy sweep `interval`.
    #[serde(default, with = "serde_human_opt")]
    pub interval: Option<Duration>,
    /// APIM `errorReasons`.
    pub error_reasons: Option<Vec<String>>,
    /// APIM `tripDuration`.
    #[serde(default, with = "serde_human_opt")]
    pub trip_duration: Option<Duration>,
    /// APIM `acceptRetryAfter`.
    pub accept_retry_after: Option<bool>,
    /// APIM switch: `sliding` | `fixed`.
    pub window: Option<WindowKind>,
    /// APIM switch: `replace` | `max`.
    pub retry_after: Option<RetryAfterMode>,
    /// APIM switch: minimum calls for `percentage`.
    pub min_volume: Option<u32>,
    /// Throttle flag: headers read for the wait, in order.
    pub headers: Option<Vec<WaitHeader>>,
    /// Throttle flag: wait without headers.
    #[serde(default, with = "serde_human_opt")]
    pub default_wait: Option<Duration>,
    /// Envoy `consecutive_5xx`.
    pub consecutive: Option<u32>,
    /// Envoy `base_ejection_time`.
    #[serde(default, with = "serde_human_opt")]
    pub base_ejection: Option<Duration>,
    /// Envoy `max_ejection_time`.
    #[serde(default, with = "serde_human_opt")]
    pub max_ejection: Option<Duration>,
    /// Envoy `max_ejection_time_jitter`.
    #[serde(default, with = "serde_human_opt")]
    pub jitter: Option<Duration>,
    /// Envoy `max_ejection_percent`.
    pub max_ejection_percent: Option<u32>,
    /// Envoy switch: un-eject at the sweep.
    pub uneject_at_sweep: Option<bool>,
    /// Envoy `enforcing_success_rate` (percent).
    pub enforcing_success_rate: Option<u32>,
    /// Envoy `success_rate_minimum_hosts`.
    pub success_rate_minimum_hosts: Option<u32>,
    /// Envoy `success_rate_request_volume`.
    pub success_rate_request_volume: Option<u32>,
    /// Envoy `success_rate_stdev_factor` (thousandths).
    pub success_rate_stdev_factor: Option<u32>,
    /// resilience4j `failureRateThreshold`.
    pub failure_rate_threshold: Option<f64>,
    /// resilience4j `slowCallRateThreshold`.
    pub slow_call_rate_threshold: Option<f64>,
    /// resilience4j `slowCallDurationThreshold`.
    #[serde(default, with = "serde_human_opt")]
    pub slow_call_duration: Option<Duration>,
    /// resilience4j `waitDurationInOpenState`.
    #[serde(default, with = "serde_human_opt")]
    pub wait_open: Option<Duration>,
    /// resilience4j `permittedNumberOfCallsInHalfOpenState`.
    pub half_open_calls: Option<u32>,
    /// resilience4j `minimumNumberOfCalls`.
    pub minimum_calls: Option<u32>,
    /// resilience4j `slidingWindowSize`.
    pub window_size: Option<u32>,
    /// resilience4j `slidingWindowType`.
    pub window_type: Option<SlidingWindow>,
    /// resilience4j `automaticTransitionFromOpenToHalfOpenEnabled`.
    pub automatic_transition: Option<bool>,
    /// Hystrix `requestVolumeThreshold`.
    pub request_volume_threshold: Option<u32>,
    /// Hystrix `errorThresholdPercentage`.
    pub error_threshold_percentage: Option<u32>,
    /// Hystrix `sleepWindowInMilliseconds`.
    #[serde(default, with = "serde_human_opt")]
    pub sleep_window: Option<Duration>,
    /// Hystrix rolling window in seconds.
    pub rolling_window_seconds: Option<u32>,
    /// Hystrix execution timeout.
    #[serde(default, with = "serde_human_opt")]
    pub execution_timeout: Option<Duration>,
    /// LiteLLM `cooldown_time` (explicit: wins over Retry-After).
    #[serde(default, with = "serde_human_opt")]
    pub cooldown: Option<Duration>,
    /// LiteLLM: use Retry-After when no explicit cooldown.
    pub honour_retry_after: Option<bool>,
    /// LiteLLM `allowed_fails` (legacy mode).
    pub allowed_fails: Option<u32>,
    /// LiteLLM failure share threshold.
    pub failure_threshold: Option<f64>,
    /// LiteLLM minimum requests.
    pub minimum_requests: Option<u32>,
    /// LiteLLM single-deployment threshold.
    pub single_deployment_threshold: Option<u32>,
    /// LiteLLM re-cooling switch.
    pub re_cool: Option<ReCool>,
    /// Kong `max_fails`.
    pub max_fails: Option<u32>,
    /// Kong `fail_timeout`.
    #[serde(default, with = "serde_human_opt")]
    pub fail_timeout: Option<Duration>,
}

/// Gateway retry overrides (`retry = { ... }`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryOverrides {
    /// Retries after the first attempt.
    pub count: Option<u32>,
    /// `interval`.
    #[serde(default, with = "serde_human_opt")]
    pub interval: Option<Duration>,
    /// `max-interval`.
    #[serde(default, with = "serde_human_opt")]
    pub max_interval: Option<Duration>,
    /// `delta`.
    #[serde(default, with = "serde_human_opt")]
    pub delta: Option<Duration>,
    /// `first-fast-retry`.
    pub first_fast_retry: Option<bool>,
    /// Retried outcomes.
    pub on: Option<StatusSet>,
    /// Each backend at most once per request.
    pub exclude_tried: Option<bool>,
    /// Retry only while a backend is available.
    pub require_remaining: Option<bool>,
    /// The exhaustion answer is itself retried.
    pub retry_exhaustion: Option<bool>,
}

pub(super) fn apply_selector(
    scope: &Scope<'_>,
    ov: &SelectorOverrides,
    selector: &mut SelectorConfig,
) -> Result<(), BalanceError> {
    if let Some(kind) = ov.kind {
        *selector = kind.default_config();
    }
    let part = format!("selector is {}", selector.kind_name());
    if let Some(mode) = ov.weighted {
        match selector {
            SelectorConfig::SmoothWeighted
            | SelectorConfig::WeightedRandom(WeightSource::Weight) => {
                *selector = match mode {
                    WeightedMode::Smooth => SelectorConfig::SmoothWeighted,
                    WeightedMode::Random => SelectorConfig::WeightedRandom(WeightSource::Weight),
                };
            }
            _ => return Err(scope.not_applicable("selector.weighted", format!("its {part}"))),
        }
    }
    macro_rules! field {
        ($name:ident, $variant:ident) => {
            let slot = match selector {
                SelectorConfig::$variant(config) => Some(&mut config.$name),
                _ => None,
            };
            set(
                scope,
                concat!("selector.", stringify!($name)),
                ov.$name,
                slot,
                &part,
            )?;
        };
    }
    field!(d, PowerOfD);
    field!(distinct, PowerOfD);
    field!(tie_break, LeastOutstanding);
    field!(decay, PeakEwma);
    field!(default_rtt, PeakEwma);
    field!(sample, PeakEwma);
    field!(buffer, LowestLatency);
    field!(max_samples, LowestLatency);
    field!(ttl, LowestLatency);
    field!(list_update, LowestLatency);
    field!(stream_sample, LowestLatency);
    field!(rpm_check_at_selection, Usage);
    field!(pre_call_rpm_check, Usage);
    field!(window, TokenHeadroom);
    field!(debit_on_send, TokenHeadroom);
    field!(on_unavailable, Affinity);
    Ok(())
}

/// Applies breaker overrides; per-backend APIM rules get them one rule at a time.
pub(super) fn apply_breaker_everywhere(
    scope: &Scope<'_>,
    ov: &BreakerOverrides,
    breaker: &mut BreakerConfig,
) -> Result<(), BalanceError> {
    if let BreakerConfig::ApimPerBackend { rules } = breaker
        && ov.kind.is_none()
    {
        for rule in rules.iter_mut().flatten() {
            let mut single = BreakerConfig::Apim(rule.clone());
            apply_breaker(scope, ov, &mut single)?;
            if let BreakerConfig::Apim(updated) = single {
                *rule = updated;
            }
        }
        return Ok(());
    }
    apply_breaker(scope, ov, breaker)
}

fn apply_breaker(
    scope: &Scope<'_>,
    ov: &BreakerOverrides,
    breaker: &mut BreakerConfig,
) -> Result<(), BalanceError> {
    if let Some(kind) = ov.kind {
        *breaker = kind.default_config();
    }
    let part = format!("breaker is {}", breaker.kind_name());
    macro_rules! field {
        ($name:ident => $($variant:ident . $slot:ident),+) => {
            let slot = match breaker {
                $(BreakerConfig::$variant(rule) => Some(&mut rule.$slot),)+
                _ => None,
            };
            set(scope, concat!("breaker.", stringify!($name)), ov.$name.clone(), slot, &part)?;
        };
    }
    field!(status_codes => Apim.failure_statuses, ThrottleFlag.statuses, Envoy.failure_statuses,
        Resilience4j.failure_statuses, Hystrix.failure_statuses, Kong.failure_statuses);
    field!(interval => Apim.interval, Envoy.interval);
    field!(trip_duration => Apim.trip_duration);
    field!(accept_retry_after => Apim.accept_retry_after);
    field!(window => Apim.window);
    field!(retry_after => Apim.retry_after);
    field!(min_volume => Apim.min_volume);
    field!(error_reasons => Apim.error_reasons);
    field!(headers => ThrottleFlag.headers);
    field!(default_wait => ThrottleFlag.default_wait);
    field!(consecutive => Envoy.consecutive);
    field!(base_ejection => Envoy.base_ejection);
    field!(max_ejection => Envoy.max_ejection);
    field!(jitter => Envoy.jitter);
    field!(max_ejection_percent => Envoy.max_ejection_percent);
    field!(uneject_at_sweep => Envoy.uneject_at_sweep);
    field!(enforcing_success_rate => Envoy.enforcing_success_rate);
    field!(success_rate_minimum_hosts => Envoy.success_rate_minimum_hosts);
    field!(success_rate_request_volume => Envoy.success_rate_request_volume);
    field!(success_rate_stdev_factor => Envoy.success_rate_stdev_factor);
    field!(failure_rate_threshold => Resilience4j.failure_rate_threshold);
    field!(slow_call_rate_threshold => Resilience4j.slow_call_rate_threshold);
    field!(slow_call_duration => Resilience4j.slow_call_duration);
    field!(wait_open => Resilience4j.wait_open);
    field!(half_open_calls => Resilience4j.half_open_calls);
    field!(minimum_calls => Resilience4j.minimum_calls);
    field!(window_size => Resilience4j.window_size);
    field!(window_type => Resilience4j.window_type);
    field!(automatic_transition => Resilience4j.automatic_transition);
    field!(request_volume_threshold => Hystrix.request_volume_threshold);
    field!(error_threshold_percentage => Hystrix.error_threshold_percentage);
    field!(sleep_window => Hystrix.sleep_window);
    field!(rolling_window_seconds => Hystrix.rolling_window_seconds);
    field!(execution_timeout => Hystrix.execution_timeout);
    field!(honour_retry_after => Litellm.honour_retry_after);
    field!(failure_threshold => Litellm.failure_threshold);
    field!(minimum_requests => Litellm.minimum_requests);
    field!(single_deployment_threshold => Litellm.single_deployment_threshold);
    field!(re_cool => Litellm.re_cool);
    field!(max_fails => Kong.max_fails);
    field!(fail_timeout => Kong.fail_timeout);
    // Fields whose slot is an Option or that set more than one value.
    let count_slot = match breaker {
        BreakerConfig::Apim(rule) => Some(&mut rule.count),
        _ => None,
    };
    set(
        scope,
        "breaker.count",
        ov.count.map(Some),
        count_slot,
        &part,
    )?;
    let percentage_slot = match breaker {
        BreakerConfig::Apim(rule) => Some(&mut rule.percentage),
        _ => None,
    };
    set(
        scope,
        "breaker.percentage",
        ov.percentage.map(Some),
        percentage_slot,
        &part,
    )?;
    let allowed_slot = match breaker {
        BreakerConfig::Litellm(rule) => Some(&mut rule.allowed_fails),
        _ => None,
    };
    set(
        scope,
        "breaker.allowed_fails",
        ov.allowed_fails.map(Some),
        allowed_slot,
        &part,
    )?;
    if let Some(cooldown) = ov.cooldown {
        match breaker {
            BreakerConfig::Litellm(rule) => {
                rule.cooldown = cooldown;
                rule.cooldown_explicit = true;
            }
            _ => return Err(scope.not_applicable("breaker.cooldown", format!("its {part}"))),
        }
    }
    if let BreakerConfig::Apim(rule) = breaker
        && (ov.status_codes.is_some() || ov.error_reasons.is_some())
    {
        // errorReasons add the transport errors they name to the failure statuses.
        rule.failure_statuses = rule
            .failure_statuses
            .union(ApimRule::transport_errors_for(&rule.error_reasons));
    }
    Ok(())
}

pub(super) fn apply_retry(ov: &RetryOverrides, composition: &mut Composition) {
    let retry = &mut composition.retry;
    if let Some(count) = ov.count {
        retry.count = count;
    }
    if let Some(interval) = ov.interval {
        retry.interval = interval;
    }
    if ov.max_interval.is_some() {
        retry.max_interval = ov.max_interval;
    }
    if ov.delta.is_some() {
        retry.delta = ov.delta;
    }
    if let Some(fast) = ov.first_fast_retry {
        retry.first_fast_retry = fast;
    }
    if let Some(on) = ov.on {
        retry.on = on;
    }
    if let Some(exclude) = ov.exclude_tried {
        retry.exclude_tried = exclude;
    }
    if let Some(require) = ov.require_remaining {
        retry.require_remaining = require;
    }
    if let Some(again) = ov.retry_exhaustion {
        retry.retry_exhaustion = again;
    }
}
