//! Whether a merged live run can be trusted, and what its load engines did together.
//!
//! **Validity** is the worst of the shards': the merged strategy is valid only when every
//! shard's verdict was, each shard's reasons are kept (prefixed with the shard), and the
//! merge adds its own check that the shards' clocks lined up — every shard must have started
//! its part of the schedule within [`START_SKEW_LIMIT_WALL`] of the shared `--start-at`
//! instant (a shard that woke later sent every request late against the others', which the
//! target saw as a different arrival process than the schedule's). The figures are the whole
//! run's: counts summed, send lag and engine CPU the worst shard's, limits the strictest.
//!
//! **Engine counters** add up (sent, never sent, cancelled, records lost, the caps); the peak
//! in flight is the sum of the shards' peaks (an upper bound: they need not coincide); lags
//! and CPU shares are the worst shard's.

use std::time::Duration;

use crate::live::load::{EngineStats, LagQuantiles};
use crate::report::validity::{Validity, ValidityLimits};
use crate::split::Shard;

/// How far (wall time) after the shared `--start-at` instant a shard may start its schedule:
/// the median send lag the generator itself is allowed
/// ([`crate::report::validity::MEDIAN_LAG_LIMIT_WALL`]). A shard starting later shifts all of
/// its requests by more than the engine's own tolerance.
pub const START_SKEW_LIMIT_WALL: Duration = crate::report::validity::MEDIAN_LAG_LIMIT_WALL;

/// One shard's strategy, as the merge judges it.
pub struct ShardVerdict<'a> {
    /// Which shard.
    pub shard: Shard,
    /// Its folder (named in reasons).
    pub folder: &'a std::path::Path,
    /// Its verdict.
    pub validity: &'a Validity,
    /// Its engine's account.
    pub engine: &'a EngineStats,
}

/// The reasons the shards' starts did not line up (empty: they did).
pub fn start_skew_reasons(verdicts: &[ShardVerdict<'_>], start_at: Option<&str>) -> Vec<String> {
    let Some(start_at) = start_at else {
        return Vec::new();
    };
    let mut reasons = Vec::new();
    for verdict in verdicts {
        match verdict.engine.start_late_wall_us.map(Duration::from_micros) {
            None => reasons.push(format!(
                "start_skew: shard {} ({}) did not start at --start-at {start_at}",
                verdict.shard,
                verdict.folder.display()
            )),
            Some(late) if late > START_SKEW_LIMIT_WALL => reasons.push(format!(
                "start_skew: shard {} ({}) started its schedule {:.1} ms (wall) after --start-at {start_at}, more than the {} ms the shards may differ by: its requests reached the target late against the other shards'",
                verdict.shard,
                verdict.folder.display(),
                late.as_secs_f64() * 1000.0,
                START_SKEW_LIMIT_WALL.as_millis()
            )),
            Some(_) => {}
        }
    }
    reasons
}

fn max_option(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.flatten().reduce(f64::max)
}

fn min_option(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    values.flatten().reduce(f64::min)
}

/// The merged verdict: the worst of `verdicts` plus `skew` (see the module doc).
pub fn merged_validity(verdicts: &[ShardVerdict<'_>], skew: Vec<String>) -> Validity {
    let all = || verdicts.iter().map(|verdict| verdict.validity);
    let mut reasons: Vec<String> = verdicts
        .iter()
        .flat_map(|verdict| {
            verdict
                .validity
                .reasons
                .iter()
                .map(move |reason| format!("shard {}: {reason}", verdict.shard))
        })
        .collect();
    reasons.extend(skew);
    let max = |pick: fn(&Validity) -> f64| all().map(pick).fold(0.0, f64::max);
    let limits: Vec<&ValidityLimits> = all().filter_map(|v| v.limits.as_ref()).collect();
    let strictest = (!limits.is_empty()).then(|| ValidityLimits {
        send_lag_p50_s: limits
            .iter()
            .map(|l| l.send_lag_p50_s)
            .fold(f64::INFINITY, f64::min),
        send_lag_p99_s: min_option(limits.iter().map(|l| l.send_lag_p99_s)),
        send_lag_max_s: min_option(limits.iter().map(|l| l.send_lag_max_s)),
        missing_share: limits
            .iter()
            .map(|l| l.missing_share)
            .fold(f64::INFINITY, f64::min),
        hop_overhead_s: min_option(limits.iter().map(|l| l.hop_overhead_s)),
    });
    Validity {
        valid: reasons.is_empty() && all().all(|v| v.valid),
        reasons,
        covered_s: all().map(|v| v.covered_s).fold(f64::INFINITY, f64::min),
        time_scale: all().next().map_or(1.0, |v| v.time_scale),
        scheduled: all().map(|v| v.scheduled).sum(),
        sent: all().map(|v| v.sent).sum(),
        never_sent: all().map(|v| v.never_sent).sum(),
        cancelled: all().map(|v| v.cancelled).sum(),
        send_lag_p50_s: max(|v| v.send_lag_p50_s),
        send_lag_p99_s: max(|v| v.send_lag_p99_s),
        send_lag_max_s: max(|v| v.send_lag_max_s),
        hop_overhead_s: max(|v| v.hop_overhead_s),
        engine_cpu_saturation: max_option(all().map(|v| v.engine_cpu_saturation)),
        engine_cpu_wait: max_option(all().map(|v| v.engine_cpu_wait)),
        records_lost: all()
            .map(|v| v.records_lost)
            .reduce(|a, b| match (a, b) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            })
            .flatten(),
        limits: strictest,
    }
}

fn worst_lag(a: LagQuantiles, b: LagQuantiles) -> LagQuantiles {
    LagQuantiles {
        p50: a.p50.max(b.p50),
        p99: a.p99.max(b.p99),
        p999: a.p999.max(b.p999),
        max: a.max.max(b.max),
    }
}

/// The shards' engines as one (see the module doc).
pub fn merged_engine<'a>(engines: impl Iterator<Item = &'a EngineStats>) -> EngineStats {
    let worst = |a: Option<f64>, b: Option<f64>| max_option([a, b].into_iter());
    engines.fold(EngineStats::default(), |sum, engine| EngineStats {
        scheduled: sum.scheduled + engine.scheduled,
        sent: sum.sent + engine.sent,
        dropped: sum.dropped + engine.dropped,
        cancelled: sum.cancelled + engine.cancelled,
        max_in_flight: sum.max_in_flight + engine.max_in_flight,
        max_connections: match (sum.max_connections, engine.max_connections) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        },
        peak_in_flight: sum.peak_in_flight + engine.peak_in_flight,
        interrupted: sum.interrupted || engine.interrupted,
        send_lag_wall_us: worst_lag(sum.send_lag_wall_us, engine.send_lag_wall_us),
        decision_lag_wall_us: worst_lag(sum.decision_lag_wall_us, engine.decision_lag_wall_us),
        records_lost: sum.records_lost + engine.records_lost,
        cpu_saturation: worst(sum.cpu_saturation, engine.cpu_saturation),
        cpu_wait: worst(sum.cpu_wait, engine.cpu_wait),
        start_late_wall_us: sum.start_late_wall_us.max(engine.start_late_wall_us),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validity(valid: bool) -> Validity {
        let mut validity = Validity::by_construction(10, Duration::from_secs(60));
        if !valid {
            validity.valid = false;
            validity.reasons.push("send_lag_p50: too late".to_string());
        }
        validity
    }

    #[test]
    fn the_merged_verdict_is_the_worst_shard_and_a_late_start_is_named() {
        let path = std::path::Path::new("shards/1");
        let (good, bad) = (validity(true), validity(false));
        let on_time = EngineStats {
            start_late_wall_us: Some(2_000),
            ..EngineStats::default()
        };
        let late = EngineStats {
            start_late_wall_us: Some(250_000),
            ..EngineStats::default()
        };
        let verdict = |index, validity, engine| ShardVerdict {
            shard: Shard { index, count: 2 },
            folder: path,
            validity,
            engine,
        };
        let fine = [verdict(0, &good, &on_time), verdict(1, &good, &on_time)];
        let merged = merged_validity(&fine, start_skew_reasons(&fine, Some("T")));
        assert!(merged.valid, "{:?}", merged.reasons);
        assert_eq!(merged.scheduled, 20);

        let one_bad = [verdict(0, &good, &on_time), verdict(1, &bad, &on_time)];
        let merged = merged_validity(&one_bad, Vec::new());
        assert!(!merged.valid);
        assert_eq!(merged.reasons, ["shard 1/2: send_lag_p50: too late"]);

        let skewed = [verdict(0, &good, &on_time), verdict(1, &good, &late)];
        let reasons = start_skew_reasons(&skewed, Some("T"));
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(reasons[0].starts_with("start_skew: shard 1/2 (shards/1)"));
        assert!(reasons[0].contains("250.0 ms"), "{}", reasons[0]);
        assert!(!merged_validity(&skewed, reasons).valid);
    }
}
