//! Fault timeline evaluation: which faults hit one request at `now`, drawn from the
//! deployment's own fault stream (so draws are deterministic per seed and never shift another
//! deployment's). Probabilistic kinds draw only while active.

use crate::config::{FaultEntry, FaultKind};
use crate::seed::SimRng;
use rand::Rng;
use std::time::Duration;

/// A fault that answers instead of the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultRejection {
    /// A 5xx with this status.
    ServerError(u16),
    /// 503 "service unavailable" (bursts and outages).
    Unavailable,
    /// 429 "system capacity", independent of quota.
    Capacity,
}

/// How an admitted response is disrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disruption {
    /// Runs to completion.
    None,
    /// The connection is closed at this offset from admission, whatever was sent so far.
    ResetAt(Duration),
    /// Nothing is sent; the connection is closed after this long.
    Hang(Duration),
}

/// Everything the active faults do to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultEffects {
    /// Answer with an error instead.
    pub rejection: Option<FaultRejection>,
    /// Disruption of an admitted response.
    pub disruption: Disruption,
    /// Extra delay before the first byte.
    pub first_byte_delay: Duration,
    /// Pause after this many content events.
    pub stall: Option<(u32, Duration)>,
    /// Latency multiplier (brownouts).
    pub latency_multiplier: f64,
    /// Rate-limit adjustment factor (1 = none).
    pub limit_factor: f64,
}

impl FaultEffects {
    /// No fault active: what a deployment without faults reads, from a constant instead of a
    /// value built on every request.
    pub const NONE: FaultEffects = FaultEffects {
        rejection: None,
        disruption: Disruption::None,
        first_byte_delay: Duration::ZERO,
        stall: None,
        latency_multiplier: 1.0,
        limit_factor: 1.0,
    };
}

impl Default for FaultEffects {
    fn default() -> Self {
        FaultEffects::NONE
    }
}

const DEFAULT_HANG: Duration = Duration::from_secs(600);

/// The effects of `timeline` on a request at `now`. The first rejection wins.
pub fn evaluate(timeline: &[FaultEntry], now: Duration, rng: &mut SimRng) -> FaultEffects {
    let mut effects = FaultEffects::default();
    for entry in timeline.iter().filter(|entry| entry.active(now)) {
        match entry.kind {
            FaultKind::Brownout => effects.latency_multiplier *= entry.multiplier.unwrap_or(1.0),
            FaultKind::RateLimitAdjustment => effects.limit_factor *= entry.factor.unwrap_or(1.0),
            FaultKind::Outage => {
                effects.rejection.get_or_insert(FaultRejection::Unavailable);
            }
            kind => {
                if !hits(entry.rate, rng) {
                    continue;
                }
                let delay = entry.delay.unwrap_or(Duration::ZERO);
                match kind {
                    FaultKind::ServerErrors => {
                        effects.rejection.get_or_insert(FaultRejection::ServerError(
                            entry.status.unwrap_or(500),
                        ));
                    }
                    FaultKind::Unavailable => {
                        effects.rejection.get_or_insert(FaultRejection::Unavailable);
                    }
                    FaultKind::CapacityThrottle => {
                        effects.rejection.get_or_insert(FaultRejection::Capacity);
                    }
                    FaultKind::ConnectionReset if effects.disruption == Disruption::None => {
                        effects.disruption = Disruption::ResetAt(delay);
                    }
                    FaultKind::Hang if effects.disruption == Disruption::None => {
                        effects.disruption = Disruption::Hang(entry.delay.unwrap_or(DEFAULT_HANG));
                    }
                    FaultKind::SlowFirstByte => effects.first_byte_delay += delay,
                    FaultKind::StreamStall => {
                        effects
                            .stall
                            .get_or_insert((entry.after_chunks.unwrap_or(1), delay));
                    }
                    _ => {}
                }
            }
        }
    }
    effects
}

fn hits(rate: f64, rng: &mut SimRng) -> bool {
    if rate >= 1.0 {
        true
    } else if rate <= 0.0 {
        false
    } else {
        rng.random::<f64>() < rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::stream;

    fn entry(kind: FaultKind, from: u64, until: Option<u64>, rate: f64) -> FaultEntry {
        FaultEntry {
            kind,
            from: Duration::from_secs(from),
            until: until.map(Duration::from_secs),
            rate,
            status: None,
            delay: None,
            after_chunks: None,
            multiplier: None,
            factor: None,
        }
    }

    #[test]
    fn entries_act_only_inside_their_window() {
        let timeline = [entry(FaultKind::Outage, 10, Some(20), 1.0)];
        let mut rng = stream(1, "f");
        assert_eq!(
            evaluate(&timeline, Duration::from_secs(9), &mut rng).rejection,
            None
        );
        assert_eq!(
            evaluate(&timeline, Duration::from_secs(10), &mut rng).rejection,
            Some(FaultRejection::Unavailable)
        );
        assert_eq!(
            evaluate(&timeline, Duration::from_secs(20), &mut rng).rejection,
            None
        );
    }

    #[test]
    fn probabilistic_draws_are_deterministic_per_seed_and_near_their_rate() {
        let timeline = [FaultEntry {
            status: Some(502),
            ..entry(FaultKind::ServerErrors, 0, None, 0.2)
        }];
        let run = |seed| {
            let mut rng = stream(seed, "deployment:east/a:faults");
            (0..5000)
                .map(|i| {
                    evaluate(&timeline, Duration::from_millis(i), &mut rng)
                        .rejection
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
        let hits = run(5).iter().filter(|h| **h).count();
        assert!((900..1100).contains(&hits), "{hits}");
        let mut rng = stream(5, "x");
        let always = [FaultEntry {
            status: Some(502),
            ..entry(FaultKind::ServerErrors, 0, None, 1.0)
        }];
        assert_eq!(
            evaluate(&always, Duration::ZERO, &mut rng).rejection,
            Some(FaultRejection::ServerError(502))
        );
    }

    #[test]
    fn effects_combine() {
        let timeline = [
            FaultEntry {
                multiplier: Some(2.0),
                ..entry(FaultKind::Brownout, 0, None, 1.0)
            },
            FaultEntry {
                multiplier: Some(1.5),
                ..entry(FaultKind::Brownout, 0, None, 1.0)
            },
            FaultEntry {
                factor: Some(0.5),
                ..entry(FaultKind::RateLimitAdjustment, 0, None, 1.0)
            },
            FaultEntry {
                delay: Some(Duration::from_millis(300)),
                ..entry(FaultKind::SlowFirstByte, 0, None, 1.0)
            },
            FaultEntry {
                delay: Some(Duration::from_millis(50)),
                after_chunks: Some(3),
                ..entry(FaultKind::StreamStall, 0, None, 1.0)
            },
            FaultEntry {
                delay: Some(Duration::from_millis(20)),
                ..entry(FaultKind::ConnectionReset, 0, None, 1.0)
            },
            entry(FaultKind::Hang, 0, None, 1.0),
        ];
        let effects = evaluate(&timeline, Duration::ZERO, &mut stream(1, "f"));
        assert_eq!(effects.latency_multiplier, 3.0);
        assert_eq!(effects.limit_factor, 0.5);
        assert_eq!(effects.first_byte_delay, Duration::from_millis(300));
        assert_eq!(effects.stall, Some((3, Duration::from_millis(50))));
        assert_eq!(
            effects.disruption,
            Disruption::ResetAt(Duration::from_millis(20)),
            "the first disruption wins"
        );
    }
}
