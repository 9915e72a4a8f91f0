//! Summary figures of the fixture run, each worked out by hand in `report_fixture`.

use crate::report_fixture;

use report_fixture::priority_summary;
use throttlebox::report::{LatencySummary, OutcomeTotals, SloVerdict};

#[test]
fn outcome_ratios_retries_and_throughput() {
    let s = priority_summary();
    assert_eq!(s.name, "priority");
    assert_eq!(s.requests, 10);
    assert_eq!(
        s.outcomes,
        OutcomeTotals {
            ok: 8,
            throttled: 1,
            server_error: 1,
            ..OutcomeTotals::default()
        }
    );
    assert_eq!(s.success_ratio, 0.8);
    assert_eq!(s.client_429_ratio, 0.1);
    assert_eq!(s.server_error_ratio, 0.1);
    assert_eq!(s.other_error_ratio, 0.0);
    // 6×1 + 2 + 1 + 2 + 2 attempts; 2 gateway + 1 client retries.
    assert_eq!(s.attempts, 13);
    assert_eq!(s.attempts_per_request, 1.3);
    assert_eq!((s.client_retries, s.gateway_retries), (1, 2));
    assert_eq!(s.retries_per_request, 0.3);
    // 8 successes over a 10 s run.
    assert_eq!(s.throughput_rps, 0.8);
    assert_eq!((s.tokens_in, s.tokens_out), (8000, 1600));
    assert_eq!(s.spillover_share, 0.125);
    assert_eq!(s.unknown_backend_records, 0);
}

#[test]
fn latency_percentiles_use_nearest_rank_over_successes() {
    let s = priority_summary();
    // Successful e2e: 100..=800 ms step 100 → p50 = 4th = 0.4, p95 = p99 = 8th = 0.8.
    assert_eq!(
        s.e2e,
        LatencySummary {
            count: 8,
            p50_s: Some(0.4),
            p95_s: Some(0.8),
            p99_s: Some(0.8),
            max_s: Some(0.8),
        }
    );
    // TTFT from intended start: 50..=400 ms step 50.
    assert_eq!(
        s.ttft,
        LatencySummary {
            count: 8,
            p50_s: Some(0.2),
            p95_s: Some(0.4),
            p99_s: Some(0.4),
            max_s: Some(0.4),
        }
    );
    // From the actual send: (i+1)·50 − i ms = 50, 99, 148, 197, 246, 295, 344, 393.
    assert_eq!(s.ttft_from_send.p50_s, Some(0.197));
    assert_eq!(s.ttft_from_send.p99_s, Some(0.393));
    assert_eq!(s.ttft_from_send.max_s, Some(0.393));
    // Send lag over all 10 requests: 0..=9 ms → p50 = 5th = 4 ms, p99 = 10th = 9 ms.
    assert_eq!(s.send_lag.count, 10);
    assert_eq!(s.send_lag.p50_s, Some(0.004));
    assert_eq!(s.send_lag.p99_s, Some(0.009));
    assert_eq!(s.send_lag.max_s, Some(0.009));
}

#[test]
fn per_backend_shares_counts_breakers_and_utilization() {
    let s = priority_summary();
    let [ptu, west, spill] = &s.backends[..] else {
        panic!("expected three backends, got {:?}", s.backends);
    };
    // ptu-east: 6 single attempts + first of requests 6, 7, 8 = 9 of 13 attempts.
    assert_eq!((ptu.attempts, ptu.attempt_share), (9, 0.6923));
    assert_eq!((ptu.ok, ptu.throttled, ptu.server_error), (7, 2, 0));
    // Final backend of 7 of the 8 successes (0..=5 and the spilled 7).
    assert_eq!((ptu.successes, ptu.success_share), (7, 0.875));
    assert_eq!((ptu.tokens_in, ptu.tokens_out), (7000, 1400));
    assert_eq!(ptu.ptu_utilization_mean, Some(70.0));
    assert_eq!(ptu.ptu_utilization_max, Some(90.0));
    // Opened at 9.5 s, never closed: closed at the last event, 10.2 s.
    assert_eq!((ptu.breaker_open_s, ptu.breaker_trips), (0.7, 1));

    assert_eq!((west.attempts, west.attempt_share), (4, 0.3077));
    assert_eq!((west.ok, west.throttled, west.server_error), (1, 1, 2));
    assert_eq!((west.successes, west.success_share), (1, 0.125));
    assert_eq!(west.ptu_utilization_mean, None);
    // Open 8.5 s → 9.25 s; the repeated "open" at 8.7 s is not a second trip.
    assert_eq!((west.breaker_open_s, west.breaker_trips), (0.75, 1));
    assert_eq!(
        west.breaker_trip_reasons.iter().collect::<Vec<_>>(),
        [(&"5xx".to_string(), &1)]
    );

    assert_eq!(
        (spill.attempts, spill.successes, spill.tokens_in),
        (0, 0, 0)
    );
    assert_eq!(s.ptu_utilization_mean, Some(70.0));
    assert_eq!(s.ptu_utilization_max, Some(90.0));
}

#[test]
fn cost_bills_ptu_by_the_hour_and_payg_at_the_serving_deployment() {
    let s = priority_summary();
    // PTU: 100 PTU × 2.0 per PTU-hour × 10 s / 3600 s = 0.5556.
    assert_eq!(s.backends[0].cost, 0.5556);
    // payg-west served request 6: 1000 × 0.01/1K + 200 × 0.03/1K = 0.016.
    assert_eq!(s.backends[1].cost, 0.016);
    // payg-spill served the spilled request 7 at its own input price:
    // 1000 × 0.02/1K + 200 × 0.03/1K = 0.026. The 429 and 500 requests are not billed.
    assert_eq!(s.backends[2].cost, 0.026);
    assert_eq!(s.cost.ptu, 0.5556);
    assert_eq!(s.cost.payg, 0.042);
    assert_eq!(s.cost.total, 0.5976);
}

#[test]
fn goodput_and_slo_verdicts() {
    let s = priority_summary();
    // Successes with TTFT ≤ 300 ms and e2e ≤ 600 ms: requests 0..=5.
    assert_eq!(s.goodput.requests, 6);
    assert_eq!(s.goodput.ratio, 0.6);
    assert_eq!(s.goodput.per_s, 0.6);
    let verdict = |rule: &str, limit: f64, actual: f64, pass: bool| SloVerdict {
        rule: rule.to_string(),
        limit,
        actual: Some(actual),
        pass,
    };
    assert_eq!(
        s.slo,
        vec![
            verdict("p99_ttft", 0.3, 0.4, false),
            verdict("p99_e2e", 0.6, 0.8, false),
            verdict("min_success_ratio", 0.8, 0.8, true),
            verdict("max_client_429_ratio", 0.1, 0.1, true),
            verdict("max_cost", 0.5, 0.5976, false),
        ]
    );
    assert!(!s.slo_pass);
}

/// The summary recorder counts zero send lags and shares the TTFT histogram while every TTFT
/// from the send equals its TTFT (always, in a simulation): its totals must be exactly those
/// of recording every value, whatever mix of zero and non-zero lags arrives in whatever order.
#[test]
fn shared_and_bulk_recorded_histograms_equal_recording_every_value() {
    use std::time::Duration;
    use throttlebox::metrics::{LatencyHistogram, RequestRecord};
    use throttlebox::report::SummaryRecorder;

    let ms = report_fixture::ms;
    for lags in [
        vec![0, 0, 0],
        vec![0, 3, 0, 7, 0],
        vec![4, 0, 0, 9],
        vec![0, 0, 2],
        vec![],
    ] {
        let mut recorder = SummaryRecorder::new(0, report_fixture::setup());
        let (mut ttft_from_send, mut send_lag) = (LatencyHistogram::new(), LatencyHistogram::new());
        for (i, lag) in lags.iter().enumerate() {
            let intended = Duration::from_secs(i as u64);
            let actual = intended + ms(*lag);
            let first_token = actual + ms(40 + 10 * i as u64);
            recorder.add_request(&RequestRecord {
                request_id: i as u64,
                intended_start: intended,
                actual_start: actual,
                first_token: Some(first_token),
                end: first_token + ms(100),
                status: 200,
                stream: true,
                attempts: 1,
                ..RequestRecord::default()
            });
            ttft_from_send.record(first_token - actual);
            send_lag.record(actual - intended);
        }
        let (_, totals) = recorder.finish_with_totals();
        assert_eq!(totals.ttft_from_send, ttft_from_send, "lags {lags:?}");
        assert_eq!(totals.send_lag, send_lag, "lags {lags:?}");
        assert_eq!(totals.ttft.count(), lags.len() as u64, "lags {lags:?}");
    }
}
