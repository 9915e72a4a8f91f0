//! Fault timeline entries of one deployment: `{ kind, from, until, … }`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a fault does while it is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// With probability `rate`, answer `status` (default 500) immediately.
    ServerErrors,
    /// With probability `rate`, answer 503 immediately (a burst when the window is short).
    Unavailable,
    /// Every request gets 503 (the deployment is down).
    Outage,
    /// With probability `rate`, a "system capacity" 429 independent of quota.
    CapacityThrottle,
    /// With probability `rate`, the connection is closed without a (complete) response after `delay`.
    ConnectionReset,
    /// With probability `rate`, no response for `delay` (default 10m), then the connection closes.
    Hang,
    /// With probability `rate`, the first byte comes `delay` later.
    SlowFirstByte,
    /// With probability `rate`, a stream pauses for `delay` after `after_chunks` content events.
    StreamStall,
    /// Latencies are multiplied by `multiplier` (TTFT and inter-token).
    Brownout,
    /// Temporary rate limit adjustment: effective TPM/RPM = configured × `factor` (standard only).
    RateLimitAdjustment,
}

/// One timeline entry. Active on `from <= now < until` (no `until` = until the end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultEntry {
    /// The fault.
    pub kind: FaultKind,
    /// Start, as an offset from the start of the run (default 0).
    #[serde(default, with = "crate::duration::serde_human")]
    pub from: Duration,
    /// End (exclusive); absent = never ends.
    #[serde(
        default,
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<Duration>,
    /// Probability per request for the probabilistic kinds (default 1).
    #[serde(default = "one")]
    pub rate: f64,
    /// HTTP status for `server_errors` (500..=599, default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Delay for `connection_reset` (default 0), `hang` (default 10m), `slow_first_byte`, `stream_stall`.
    #[serde(
        default,
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub delay: Option<Duration>,
    /// `stream_stall`: content events sent before the pause (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_chunks: Option<u32>,
    /// `brownout`: latency multiplier (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<f64>,
    /// `rate_limit_adjustment`: factor applied to the limits (0 < factor <= 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
}

fn one() -> f64 {
    1.0
}

impl FaultEntry {
    /// Whether the entry is active at `now`.
    pub fn active(&self, now: Duration) -> bool {
        self.from <= now && self.until.is_none_or(|until| now < until)
    }

    /// Per-kind field rules, with `path` the key path of this entry.
    pub fn validate(&self, path: &str) -> Result<(), super::ConfigError> {
        use super::ConfigError as E;
        if !(0.0..=1.0).contains(&self.rate) {
            return Err(E::invalid(
                format!("{path}.rate"),
                self.rate,
                "must be a probability in [0, 1]",
            ));
        }
        if let Some(until) = self.until
            && until <= self.from
        {
            return Err(E::invalid(
                format!("{path}.until"),
                crate::duration::format(until),
                "must be after `from`",
            ));
        }
        match self.kind {
            FaultKind::ServerErrors => {
                if let Some(status) = self.status
                    && !(500..=599).contains(&status)
                {
                    return Err(E::invalid(
                        format!("{path}.status"),
                        status,
                        "must be a 5xx status",
                    ));
                }
            }
            FaultKind::SlowFirstByte | FaultKind::StreamStall if self.delay.is_none() => {
                return Err(E::invalid(
                    format!("{path}.delay"),
                    "none",
                    "this fault kind needs a delay",
                ));
            }
            FaultKind::Brownout => match self.multiplier {
                Some(m) if m.is_finite() && m > 0.0 => {}
                other => {
                    return Err(E::invalid(
                        format!("{path}.multiplier"),
                        other,
                        "brownout needs a multiplier > 0",
                    ));
                }
            },
            FaultKind::RateLimitAdjustment => match self.factor {
                Some(f) if f > 0.0 && f <= 1.0 => {}
                other => {
                    return Err(E::invalid(
                        format!("{path}.factor"),
                        other,
                        "needs a factor in (0, 1]",
                    ));
                }
            },
            _ => {}
        }
        Ok(())
    }
}
