//! The vocabulary shared by every part of a strategy: backends, what a response told the
//! gateway (`Observation`), what a finished body told it (`Completion`), and the breaker
//! timeline (`Transition`). Plain data only; no decisions live here.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Index of a backend in the `BackendSpec` slice a `Strategy` was built from.
pub type BackendId = usize;

/// One backend as the scenario (or an APIM pool import) describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendSpec {
    /// Name, matched against fleet resources (e.g. `openai-3`).
    pub name: String,
    /// Priority group: lower numbers are used first (APIM, smart policy, client-side balancer).
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Relative weight inside a priority group (APIM weighted, LiteLLM `weight`).
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Tokens per minute the backend allows, when known (usage-based and headroom selectors).
    #[serde(default)]
    pub tpm_limit: Option<u64>,
    /// Requests per minute the backend allows, when known.
    #[serde(default)]
    pub rpm_limit: Option<u64>,
    /// PowerProxy's `non_streaming_fraction`: the backend takes a non-streaming request only
    /// with this probability (drawn once per request; streams always pass). None: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_streaming_fraction: Option<f64>,
    /// What a LiteLLM config declares for this deployment in `litellm_params` (`weight`,
    /// `rpm`, `tpm`): what simple-shuffle weighs by. None: nothing declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<DeclaredWeights>,
}

/// The `weight`, `rpm` and `tpm` a LiteLLM deployment declares (each absent = 0 to LiteLLM).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredWeights {
    /// `litellm_params.weight`.
    #[serde(default)]
    pub weight: Option<f64>,
    /// `litellm_params.rpm`.
    #[serde(default)]
    pub rpm: Option<f64>,
    /// `litellm_params.tpm`.
    #[serde(default)]
    pub tpm: Option<f64>,
}

fn default_priority() -> u32 {
    1
}

fn default_weight() -> u32 {
    1
}

impl BackendSpec {
    /// A backend with priority 1, weight 1 and no known limits.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            priority: 1,
            weight: 1,
            tpm_limit: None,
            rpm_limit: None,
            non_streaming_fraction: None,
            declared: None,
        }
    }

    /// The same backend in priority group `priority`.
    pub fn with_priority(mut self, priority: u32) -> Self {
        self.priority = priority;
        self
    }

    /// The same backend with weight `weight`.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// The same backend taking non-streaming requests with probability `fraction` (None: 1).
    pub fn with_non_streaming_fraction(mut self, fraction: Option<f64>) -> Self {
        self.non_streaming_fraction = fraction;
        self
    }

    /// Whether the backend declines a request by its non-streaming fraction, drawing from
    /// `rng` only when the fraction is strictly between 0 and 1. PowerProxy: a non-streaming
    /// request passes iff `fraction == 1` or (`fraction != 0` and `random() <= fraction`).
    pub fn declines(&self, stream: bool, rng: &mut impl rand::Rng) -> bool {
        match self.non_streaming_fraction {
            _ if stream => false,
            None => false,
            Some(fraction) if fraction >= 1.0 => false,
            Some(fraction) if fraction <= 0.0 => true,
            Some(fraction) => rng.random::<f64>() > fraction,
        }
    }

    /// The same backend with known TPM / RPM limits.
    pub fn with_limits(mut self, tpm: Option<u64>, rpm: Option<u64>) -> Self {
        self.tpm_limit = tpm;
        self.rpm_limit = rpm;
        self
    }
}

/// Which failed attempts of one request reach the breaker and the selector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureLogging {
    /// Every failed attempt.
    #[default]
    PerAttempt,
    /// Only the first failed attempt of a request: LiteLLM's proxy shares one logging object
    /// between a request's retries, and its failure callbacks (cooldown, least-busy's
    /// in-flight decrement) run once per object (LiteLLM 1.108.7
    /// `litellm/litellm_core_utils/litellm_logging.py`, the `has_logged_{event_type}` guard;
    /// `router_utils/fallback_event_handlers.py` documents it). The in-flight count was raised
    /// per attempt (`least_busy.py` `log_pre_api_call`), so each unlogged failure leaves it one
    /// higher for good.
    FirstPerRequest,
}

impl FailureLogging {
    /// Whether every failed attempt is logged (the default).
    pub fn is_per_attempt(&self) -> bool {
        *self == FailureLogging::PerAttempt
    }
}

/// How one backend attempt ended, as far as the gateway can tell when the response starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// An HTTP status line arrived.
    Http(u16),
    /// The connection could not be made (refused, reset before the status line).
    ConnectError,
    /// No status line within the gateway's timeout.
    Timeout,
}

impl Status {
    /// 1xx–3xx: the request succeeded as far as every modelled balancer is concerned.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Http(100..=399))
    }

    /// The HTTP code, if there was a response at all.
    pub fn code(self) -> Option<u16> {
        match self {
            Status::Http(code) => Some(code),
            _ => None,
        }
    }
}

/// What the gateway read from a backend's response headers.
///
/// `retry_after` is the resolved wait (from `retry-after-ms`, else `retry-after`); the raw
/// fields are kept because each real system reads its own header in its own order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Status of the response (or the transport failure).
    pub status: Status,
    /// `retry-after-ms`, else `retry-after`, as one duration.
    pub retry_after: Option<Duration>,
    /// Raw `Retry-After` header (seconds).
    pub retry_after_s: Option<Duration>,
    /// Raw `retry-after-ms` header.
    pub retry_after_ms: Option<Duration>,
    /// `x-ratelimit-reset-requests`.
    pub ratelimit_reset_requests: Option<Duration>,
    /// `x-ratelimit-reset-tokens`.
    pub ratelimit_reset_tokens: Option<Duration>,
    /// `x-ratelimit-remaining-requests`.
    pub ratelimit_remaining_requests: Option<u64>,
    /// `x-ratelimit-remaining-tokens`.
    pub ratelimit_remaining_tokens: Option<u64>,
}

impl Observation {
    /// An observation with only a status and no headers.
    pub fn new(status: Status) -> Self {
        Self {
            status,
            retry_after: None,
            retry_after_s: None,
            retry_after_ms: None,
            ratelimit_reset_requests: None,
            ratelimit_reset_tokens: None,
            ratelimit_remaining_requests: None,
            ratelimit_remaining_tokens: None,
        }
    }

    /// An HTTP response with status `code` and no headers.
    pub fn http(code: u16) -> Self {
        Self::new(Status::Http(code))
    }

    /// Adds a `Retry-After: secs` header (resolved wait unless `retry-after-ms` is present).
    pub fn with_retry_after_secs(mut self, secs: u64) -> Self {
        let value = Duration::from_secs(secs);
        self.retry_after_s = Some(value);
        if self.retry_after_ms.is_none() {
            self.retry_after = Some(value);
        }
        self
    }

    /// Adds a `retry-after-ms: ms` header (always wins the resolved wait).
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        let value = Duration::from_millis(ms);
        self.retry_after_ms = Some(value);
        self.retry_after = Some(value);
        self
    }

    /// The same response without its `retry-after` / `retry-after-ms` headers.
    pub fn without_retry_after(self) -> Self {
        Self {
            retry_after: None,
            retry_after_s: None,
            retry_after_ms: None,
            ..self
        }
    }

    /// Adds `x-ratelimit-reset-requests` / `-tokens` headers.
    pub fn with_resets(mut self, requests: Option<Duration>, tokens: Option<Duration>) -> Self {
        self.ratelimit_reset_requests = requests;
        self.ratelimit_reset_tokens = tokens;
        self
    }

    /// Adds `x-ratelimit-remaining-requests` / `-tokens` headers.
    pub fn with_remaining(mut self, requests: Option<u64>, tokens: Option<u64>) -> Self {
        self.ratelimit_remaining_requests = requests;
        self.ratelimit_remaining_tokens = tokens;
        self
    }
}

/// What the gateway learns when a response body it returned to the client has ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Completion {
    /// Send to end of body.
    pub latency: Duration,
    /// Send to first token (streams), when known.
    pub ttft: Option<Duration>,
    /// Prompt tokens of the request (from `usage`, else the estimate).
    pub prompt_tokens: u64,
    /// Completion tokens produced.
    pub completion_tokens: u64,
    /// Whether the request was streamed.
    pub stream: bool,
}

impl Completion {
    /// An attempt that returned no body `latency` after it was sent: a response that is not a
    /// success (it completes at its headers), or one abandoned before any.
    pub fn without_body(latency: Duration) -> Completion {
        Completion {
            latency,
            ttft: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            stream: false,
        }
    }
}

/// What the gateway knows about a request before it picks a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestInfo {
    /// Estimated tokens the request will charge (prompt + `max_tokens`).
    pub est_tokens: u64,
    /// Session key for affinity (a thread id, `previous_response_id` or cookie hashed with
    /// [`session_hash`](crate::balance::session_hash); the simulator passes its session number).
    pub session: Option<u64>,
    /// Whether the client asked for a stream.
    pub stream: bool,
}

/// Breaker phase of one backend, as shown in the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Takes traffic.
    Closed,
    /// Takes no traffic.
    Open,
    /// Takes a limited number of probe requests.
    HalfOpen,
}

/// Why a breaker changed phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Reason {
    /// APIM: `failures` ≥ `count` in the interval.
    FailureCount { failures: u32 },
    /// APIM: failures reached `percentage` of `calls` in the interval.
    FailurePercentage { failures: u32, calls: u32 },
    /// A single qualifying response throttled the backend (smart policy, PowerProxy, Kurtz).
    Throttled { status: u16 },
    /// A transport error throttled the backend.
    TransportError,
    /// Envoy: `count` consecutive failures; this is ejection number `ejection`.
    ConsecutiveFailures { count: u32, ejection: u32 },
    /// Envoy: a success rate (per mille) below the sweep's threshold (per mille); this is
    /// ejection number `ejection`.
    SuccessRate {
        per_mille: u32,
        threshold_per_mille: u32,
        ejection: u32,
    },
    /// resilience4j: failure rate (per mille) reached the threshold.
    FailureRate { per_mille: u32 },
    /// resilience4j: slow-call rate (per mille) reached the threshold.
    SlowCallRate { per_mille: u32 },
    /// LiteLLM: a cooldown rule fired on this status (0 = transport error).
    Cooldown { status: u16 },
    /// Kong: total failures reached `max_fails`.
    MaxFails { fails: u32 },
    /// A probe failed while half-open.
    ProbeFailed,
    /// The half-open probes succeeded.
    ProbesSucceeded,
    /// The open period ended (timer expiry, no evidence).
    TimerExpired,
}

impl Reason {
    /// A short label (the breaker timeline's legend; the `kind` of the serialized form).
    pub fn label(&self) -> &'static str {
        match self {
            Reason::FailureCount { .. } => "failure-count",
            Reason::FailurePercentage { .. } => "failure-percentage",
            Reason::Throttled { .. } => "throttled",
            Reason::TransportError => "transport-error",
            Reason::ConsecutiveFailures { .. } => "consecutive-failures",
            Reason::SuccessRate { .. } => "success-rate",
            Reason::FailureRate { .. } => "failure-rate",
            Reason::SlowCallRate { .. } => "slow-call-rate",
            Reason::Cooldown { .. } => "cooldown",
            Reason::MaxFails { .. } => "max-fails",
            Reason::ProbeFailed => "probe-failed",
            Reason::ProbesSucceeded => "probes-succeeded",
            Reason::TimerExpired => "timer-expired",
        }
    }
}

/// One breaker transition, for the reports' breaker timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// When the transition took effect (virtual or wall time since run start).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub at: Duration,
    /// Which backend.
    pub backend: BackendId,
    /// Phase before.
    pub from: Phase,
    /// Phase after.
    pub to: Phase,
    /// Why.
    pub reason: Reason,
}

/// A backend's breaker state at one instant (for the per-second timeseries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendState {
    /// Takes traffic.
    Closed,
    /// Takes no traffic until `until` (None: until an event, e.g. resilience4j's next call).
    Open { until: Option<Duration> },
    /// Takes probes only.
    HalfOpen,
}

impl BackendState {
    /// The phase, without the deadline.
    pub fn phase(self) -> Phase {
        match self {
            BackendState::Closed => Phase::Closed,
            BackendState::Open { .. } => Phase::Open,
            BackendState::HalfOpen => Phase::HalfOpen,
        }
    }
}

#[cfg(test)]
mod reason_label_tests {
    use super::Reason;

    #[test]
    fn labels_are_the_serialized_kinds() {
        let reasons = [
            Reason::FailureCount { failures: 1 },
            Reason::FailurePercentage {
                failures: 1,
                calls: 2,
            },
            Reason::Throttled { status: 429 },
            Reason::TransportError,
            Reason::ConsecutiveFailures {
                count: 5,
                ejection: 1,
            },
            Reason::FailureRate { per_mille: 500 },
            Reason::SlowCallRate { per_mille: 1000 },
            Reason::Cooldown { status: 429 },
            Reason::MaxFails { fails: 3 },
            Reason::ProbeFailed,
            Reason::ProbesSucceeded,
            Reason::TimerExpired,
        ];
        for reason in reasons {
            let value = serde_json::to_value(reason).expect("serializes");
            assert_eq!(value["kind"], reason.label(), "{reason:?}");
        }
    }
}
