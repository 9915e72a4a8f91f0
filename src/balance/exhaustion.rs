//! What each system answers when no backend can take the request: APIM's pool 503 (optionally
//! mapped to 429), the smart policy's "send to the first backend", PowerProxy's 429 with
//! `retry-after-ms: 10000`, the client-side balancer's 429 with `Retry-After = int(min
//! open-until − now) + 1`, Kong's 500, LiteLLM's "No deployments available" (429 with
//! `retry-after` = the shortest configured cooldown rounded up, as LiteLLM 1.108.7's proxy
//! answers: `proxy/common_request_processing.py` `_apply_router_cooldown_retry_after`,
//! `math.ceil(RouterRateLimitError.cooldown_time)`, from `CooldownCache.get_min_cooldown`; the
//! legacy model said 60 s, or the shortest remaining cooldown).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The unit of the Retry-After header an exhaustion answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryAfterHeader {
    /// `Retry-After: <seconds>`.
    Seconds,
    /// `retry-after-ms: <milliseconds>`.
    Millis,
}

/// The response the gateway itself returns when every backend is out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exhausted {
    /// HTTP status.
    pub status: u16,
    /// Wait the gateway advertises.
    pub retry_after: Option<Duration>,
    /// Header that carries it.
    pub retry_after_header: RetryAfterHeader,
    /// Error message of the body.
    pub body_message: &'static str,
}

/// How a strategy answers when no backend is eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Exhaustion {
    /// APIM: 503 (or the status a policy maps it to, e.g. 429), no Retry-After.
    ApimUnavailable {
        /// Status returned.
        status: u16,
    },
    /// Smart APIM policy: send to backend 0 anyway.
    SendToFirst,
    /// PowerProxy: 429 `retry-after-ms: 10000`.
    Powerproxy,
    /// Client-side priority balancer: 429, `Retry-After = int(min open-until − now) + 1` s.
    ClientPriority,
    /// Kong: 500.
    Kong,
    /// LiteLLM: 429 "No deployments available" with the `retry-after` of `wait`.
    Litellm {
        /// What `retry-after` says.
        wait: LitellmWait,
    },
    /// Generic: this status, no Retry-After.
    Status {
        /// Status returned.
        status: u16,
    },
}

/// The `retry-after` of LiteLLM's "No deployments available".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LitellmWait {
    /// LiteLLM 1.108.7: the shortest configured cooldown among the active ones (else the
    /// router's `cooldown_time`), rounded up to whole seconds.
    ShortestConfigured,
    /// Legacy model: a fixed 60 s.
    Sixty,
    /// Legacy model with `exhausted_min_cooldown`: the shortest remaining cooldown.
    ShortestRemaining,
}

/// Message of APIM's pool-unavailable answer.
pub const APIM_MESSAGE: &str = "Backend pool is temporarily unavailable";
/// PowerProxy's message.
pub const POWERPROXY_MESSAGE: &str =
    "Could not find any endpoint or deployment with remaining capacity. Try again later.";
/// Client-side balancer's message.
pub const CLIENT_PRIORITY_MESSAGE: &str = "No backends available";
/// Kong's message.
pub const KONG_MESSAGE: &str = "all upstream targets are unhealthy";
/// LiteLLM's message.
pub const LITELLM_MESSAGE: &str =
    "No deployments available for selected model, Try again in 60 seconds.";
/// Generic message.
pub const GENERIC_MESSAGE: &str = "No backend available";
/// Message of the overall deadline.
pub const DEADLINE_MESSAGE: &str = "Gateway deadline exceeded";
/// LiteLLM pre-call RPM check message.
pub const LITELLM_RPM_MESSAGE: &str = "Deployment over its rpm limit (pre-call check)";

impl Exhaustion {
    /// The answer at `now`, given the earliest time a backend's breaker closes (if known) and
    /// the shortest configured cooldown (LiteLLM's breaker only). `SendToFirst` has no answer
    /// of its own (None). Both are asked for only by the answers that say them (finding the
    /// earliest reopening scans the breakers; APIM's 503 never needs it).
    #[inline]
    pub fn answer(
        &self,
        now: Duration,
        earliest_reopen: impl FnOnce() -> Option<Duration>,
        shortest_cooldown: impl FnOnce() -> Option<Duration>,
    ) -> Option<Exhausted> {
        let respond = |status, retry_after, retry_after_header, body_message| {
            Some(Exhausted {
                status,
                retry_after,
                retry_after_header,
                body_message,
            })
        };
        match *self {
            Exhaustion::SendToFirst => None,
            Exhaustion::ApimUnavailable { status } => {
                respond(status, None, RetryAfterHeader::Seconds, APIM_MESSAGE)
            }
            Exhaustion::Powerproxy => respond(
                429,
                Some(Duration::from_millis(10_000)),
                RetryAfterHeader::Millis,
                POWERPROXY_MESSAGE,
            ),
            Exhaustion::ClientPriority => {
                let wait = earliest_reopen()
                    .map(|until| Duration::from_secs(until.saturating_sub(now).as_secs() + 1));
                respond(
                    429,
                    wait,
                    RetryAfterHeader::Seconds,
                    CLIENT_PRIORITY_MESSAGE,
                )
            }
            Exhaustion::Kong => respond(500, None, RetryAfterHeader::Seconds, KONG_MESSAGE),
            Exhaustion::Litellm { wait } => {
                let wait = match wait {
                    LitellmWait::ShortestRemaining => {
                        earliest_reopen().map(|until| until.saturating_sub(now))
                    }
                    LitellmWait::ShortestConfigured => shortest_cooldown()
                        .map(|shortest| Duration::from_secs(shortest.as_secs_f64().ceil() as u64)),
                    LitellmWait::Sixty => None,
                }
                .unwrap_or(Duration::from_secs(60));
                respond(429, Some(wait), RetryAfterHeader::Seconds, LITELLM_MESSAGE)
            }
            Exhaustion::Status { status } => {
                respond(status, None, RetryAfterHeader::Seconds, GENERIC_MESSAGE)
            }
        }
    }
}
