//! The validity verdict (`report::validity`): each reason fires at its threshold and not below
//! it, the thresholds scale with what the run is judged on (time scale, latencies, windows,
//! ratio SLOs), and a simulated strategy is valid by construction.

use std::time::Duration;

use throttlebox::report::validity::{
    DEFAULT_RATIO_TOLERANCE, LagQuantiles, MEDIAN_LAG_LIMIT_WALL, assess, ratio_tolerance,
};
use throttlebox::report::{EngineMeasurements, Validity, ValidityContext};

const SCALE: f64 = 20.0;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A live run at 20× through the in-process gateway, judged against a 5 s TTFT SLO and a
/// measured TTFT median of 0.5 s, PAYG windows of 10 s.
fn context() -> ValidityContext {
    ValidityContext {
        time_scale: SCALE,
        hops: 2,
        planned: Duration::from_secs(600),
        shortest_window: Some(Duration::from_secs(10)),
        tightest_latency_slo: Some(Duration::from_secs(5)),
        smallest_measured_latency: Some(ms(500)),
        ratio_tolerance: DEFAULT_RATIO_TOLERANCE,
    }
}

fn clean() -> EngineMeasurements {
    EngineMeasurements {
        scheduled: 10_000,
        sent: 10_000,
        send_lag: LagQuantiles {
            p50: ms(1),
            p99: ms(10),
            max: ms(100),
        },
        covered: Duration::from_secs(600),
        ..EngineMeasurements::default()
    }
}

/// The rule names of the reasons `measured` gets in `context`.
fn rules(measured: &EngineMeasurements, context: &ValidityContext) -> Vec<String> {
    let verdict = assess(measured, context);
    assert_eq!(verdict.valid, verdict.reasons.is_empty());
    verdict
        .reasons
        .iter()
        .map(|reason| reason.split(':').next().unwrap_or_default().to_string())
        .collect()
}

/// `rule` fires with `above` and not with `at` (everything else clean).
fn fires_above_only(
    rule: &str,
    at: impl Fn(&mut EngineMeasurements),
    above: impl Fn(&mut EngineMeasurements),
) {
    fires_above_only_in(&context(), rule, at, above);
}

fn fires_above_only_in(
    context: &ValidityContext,
    rule: &str,
    at: impl Fn(&mut EngineMeasurements),
    above: impl Fn(&mut EngineMeasurements),
) {
    let mut measured = clean();
    at(&mut measured);
    assert!(
        rules(&measured, context).is_empty(),
        "{rule} at its limit: {:?}",
        assess(&measured, context).reasons
    );
    let mut measured = clean();
    above(&mut measured);
    assert_eq!(rules(&measured, context), [rule], "{rule} above its limit");
}

#[test]
fn a_clean_run_is_valid_and_reports_its_figures_and_limits() {
    let verdict = assess(&clean(), &context());
    assert!(verdict.valid, "{:?}", verdict.reasons);
    assert_eq!(verdict.send_lag_p99_s, 0.01);
    assert_eq!(verdict.covered_s, 600.0);
    assert_eq!(verdict.hop_overhead_s, 0.04, "20 × 2 hops × 1 ms");
    let limits = verdict.limits.expect("live limits");
    assert_eq!(limits.send_lag_p50_s, 0.2, "10 ms of wall time at 20×");
    assert_eq!(
        limits.send_lag_p99_s,
        Some(0.05),
        "10% of the 0.5 s TTFT median"
    );
    assert_eq!(limits.send_lag_max_s, Some(5.0), "half the 10 s window");
    assert_eq!(limits.missing_share, 0.0005);
}

#[test]
fn median_send_lag_over_10_ms_of_wall_time_is_invalid() {
    // 10 ms of wall time is 200 ms of scenario time at 20×; latencies of 5 s leave the
    // p99 rule room for a p99 as late as the median.
    let slow = ValidityContext {
        smallest_measured_latency: Some(Duration::from_secs(5)),
        ..context()
    };
    let limit = MEDIAN_LAG_LIMIT_WALL.mul_f64(SCALE);
    let late = |lag: Duration| {
        move |m: &mut EngineMeasurements| {
            m.send_lag = LagQuantiles {
                p50: lag,
                p99: lag,
                max: lag,
            };
        }
    };
    fires_above_only_in(
        &slow,
        "send_lag_p50",
        late(limit),
        late(limit + Duration::from_micros(1)),
    );
}

#[test]
fn p99_send_lag_over_a_tenth_of_the_smallest_latency_is_invalid() {
    fires_above_only(
        "send_lag_p99",
        |m| m.send_lag.p99 = ms(50),
        |m| m.send_lag.p99 = ms(50) + Duration::from_micros(1),
    );
    // Without a measured latency the tightest SLO (5 s) is the reference.
    let mut measured = clean();
    measured.send_lag.p99 = ms(400);
    let context = ValidityContext {
        smallest_measured_latency: None,
        ..context()
    };
    assert!(rules(&measured, &context).is_empty());
    measured.send_lag.p99 = ms(501);
    assert_eq!(rules(&measured, &context), ["send_lag_p99"]);
    // With neither, the rule (and the time-scale rule) cannot apply.
    let context = ValidityContext {
        tightest_latency_slo: None,
        ..context
    };
    measured.send_lag.p99 = Duration::from_secs(3);
    assert!(rules(&measured, &context).is_empty());
    assert_eq!(
        assess(&measured, &context).limits.unwrap().send_lag_p99_s,
        None
    );
}

#[test]
fn a_stall_longer_than_half_the_shortest_window_is_invalid() {
    fires_above_only(
        "send_lag_max",
        |m| m.send_lag.max = ms(5_000),
        |m| m.send_lag.max = ms(5_001),
    );
    let mut measured = clean();
    measured.send_lag.max = Duration::from_secs(170);
    let context = ValidityContext {
        shortest_window: None,
        ..context()
    };
    assert!(!rules(&measured, &context).contains(&"send_lag_max".to_string()));
}

#[test]
fn requests_without_a_record_beyond_a_tenth_of_the_ratio_tolerance_are_invalid() {
    // 0.05% of 10,000 requests: 5 may be missing, 6 may not — never sent or cancelled.
    fires_above_only(
        "never_sent",
        |m| {
            m.never_sent = 3;
            m.cancelled = 2;
        },
        |m| {
            m.never_sent = 3;
            m.cancelled = 3;
        },
    );
    let mut measured = clean();
    measured.never_sent = 6;
    let verdict = assess(&measured, &context());
    assert!(
        verdict.reasons[0].contains("6 of 10000 scheduled requests never sent"),
        "{:?}",
        verdict.reasons
    );
    // A tighter ratio SLO tightens the limit.
    let tight = ValidityContext {
        ratio_tolerance: ratio_tolerance(Some(0.999), None),
        ..context()
    };
    measured.never_sent = 2;
    assert_eq!(rules(&measured, &tight), ["never_sent"]);
    measured.never_sent = 1;
    assert!(rules(&measured, &tight).is_empty());
}

#[test]
fn a_time_scale_that_makes_the_hops_a_tenth_of_the_latency_is_invalid() {
    // 2 hops × 1 ms × 25 = 50 ms = 10% of 0.5 s: allowed; at 26× it is not.
    for (scale, expected) in [(25.0, true), (26.0, false)] {
        let context = ValidityContext {
            time_scale: scale,
            ..context()
        };
        let found = rules(&clean(), &context);
        assert_eq!(found.is_empty(), expected, "{scale}×: {found:?}");
        if !expected {
            assert_eq!(found, ["time_scale"]);
        }
    }
}

#[test]
fn engine_cpu_saturation_records_lost_and_interruption_are_reasons() {
    fires_above_only(
        "engine_cpu",
        |m| m.cpu_saturation = Some(0.9),
        |m| m.cpu_saturation = Some(0.91),
    );
    fires_above_only(
        "engine_cpu_wait",
        |m| m.cpu_wait = Some(0.25),
        |m| m.cpu_wait = Some(0.26),
    );
    fires_above_only(
        "records_lost",
        |m| m.records_lost = Some(0),
        |m| m.records_lost = Some(1),
    );
    fires_above_only(
        "interrupted",
        |m| m.interrupted = false,
        |m| {
            m.interrupted = true;
            m.covered = Duration::from_secs(120);
        },
    );
    let mut measured = clean();
    measured.interrupted = true;
    measured.covered = Duration::from_secs(120);
    let verdict = assess(&measured, &context());
    assert_eq!(verdict.covered_s, 120.0);
    assert!(verdict.reasons[0].contains("after 120.000 s of 600.000 s"));
}

#[test]
fn the_ratio_tolerance_is_the_tightest_ratio_slo_at_most_half_a_point() {
    assert_eq!(ratio_tolerance(None, None), 0.005);
    assert_eq!(ratio_tolerance(Some(0.9), Some(0.2)), 0.005);
    assert!((ratio_tolerance(Some(0.999), Some(0.002)) - 0.001).abs() < 1e-12);
    assert_eq!(ratio_tolerance(Some(0.995), Some(0.004)), 0.004);
}

#[test]
fn a_simulated_strategy_is_valid_by_construction() {
    let verdict = Validity::by_construction(242, Duration::from_secs(120));
    assert!(verdict.valid);
    assert_eq!((verdict.scheduled, verdict.sent), (242, 242));
    assert_eq!(verdict.limits, None);
}
