//! Pure: a strategy's running totals → its [`StrategySummary`] (ratios, percentiles, per
//! backend shares, cost, goodput, SLO verdicts), rounded for byte-stable output.

use super::totals::StrategyTotals;
use crate::metrics::latency::LatencyHistogram;
use crate::metrics::record::ErrorClass;

use super::cost::{TokenUsage, cost};
use super::format::{self, COST_DIGITS, PERCENT_DIGITS};
use super::setup::RunSetup;
use super::summary::{
    BackendSummary, CostSummary, Goodput, LatencySummary, OutcomeTotals, StrategySummary,
};
use super::validity::Validity;

fn latency(histogram: &LatencyHistogram) -> LatencySummary {
    let quantile = |q| histogram.quantile(q).map(format::seconds);
    LatencySummary {
        count: histogram.count(),
        p50_s: quantile(0.50),
        p95_s: quantile(0.95),
        p99_s: quantile(0.99),
        max_s: histogram.max().map(format::seconds),
    }
}

fn per(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        format::round(numerator as f64 / denominator as f64, PERCENT_DIGITS)
    }
}

/// Summarise `totals` for the run described by `setup`.
pub(crate) fn strategy_summary(totals: &StrategyTotals, setup: &RunSetup) -> StrategySummary {
    let count = |class: ErrorClass| totals.outcomes[class.index()];
    let outcomes = OutcomeTotals {
        ok: count(ErrorClass::None),
        throttled: count(ErrorClass::Throttled),
        server_error: count(ErrorClass::ServerError),
        client_error: count(ErrorClass::ClientError),
        connect_error: count(ErrorClass::ConnectError),
        timeout: count(ErrorClass::Timeout),
        exhausted: count(ErrorClass::Exhausted),
    };
    let requests = totals.requests;
    let other_errors =
        outcomes.client_error + outcomes.connect_error + outcomes.timeout + outcomes.exhausted;
    let run_seconds = setup.duration.as_secs_f64();
    let per_second = |n: u64| {
        if run_seconds > 0.0 {
            format::round(n as f64 / run_seconds, PERCENT_DIGITS)
        } else {
            0.0
        }
    };

    let served: Vec<TokenUsage> = totals
        .backends
        .iter()
        .map(|backend| TokenUsage {
            input: backend.served_in,
            output: backend.served_out,
        })
        .collect();
    let costs = cost(&setup.costs, &setup.backends, &served, setup.duration);

    let total_attempts: u64 = totals.backends.iter().map(|backend| backend.attempts).sum();
    let backends: Vec<BackendSummary> = totals
        .backends
        .iter()
        .zip(&setup.backends)
        .zip(&costs.per_backend)
        .map(|((backend, info), backend_cost)| {
            let sampled = backend.utilization_samples > 0;
            BackendSummary {
                name: info.name.clone(),
                provisioned_ptus: info.provisioned_ptus,
                attempts: backend.attempts,
                attempt_share: format::ratio(backend.attempts, total_attempts),
                successes: backend.successes,
                success_share: format::ratio(backend.successes, outcomes.ok),
                ok: backend.ok,
                throttled: backend.throttled,
                server_error: backend.server_error,
                other_error: backend.other_error,
                tokens_in: backend.tokens_in,
                tokens_out: backend.tokens_out,
                ptu_utilization_mean: sampled.then(|| {
                    format::round(
                        backend.utilization_sum / backend.utilization_samples as f64,
                        PERCENT_DIGITS,
                    )
                }),
                ptu_utilization_max: sampled
                    .then(|| format::round(backend.utilization_max, PERCENT_DIGITS)),
                breaker_open_s: format::seconds(backend.breaker_open_total),
                breaker_trips: backend.breaker_trips,
                breaker_trip_reasons: backend.breaker_trip_reasons.clone(),
                cost: format::round(*backend_cost, COST_DIGITS),
            }
        })
        .collect();

    let sampled_means: Vec<f64> = totals
        .backends
        .iter()
        .filter(|backend| backend.utilization_samples > 0)
        .map(|backend| backend.utilization_sum / backend.utilization_samples as f64)
        .collect();
    let ptu_utilization_mean = (!sampled_means.is_empty()).then(|| {
        format::round(
            sampled_means.iter().sum::<f64>() / sampled_means.len() as f64,
            PERCENT_DIGITS,
        )
    });
    let ptu_utilization_max = totals
        .backends
        .iter()
        .filter(|backend| backend.utilization_samples > 0)
        .map(|backend| backend.utilization_max)
        .reduce(f64::max)
        .map(|max| format::round(max, PERCENT_DIGITS));

    let name = setup
        .strategies
        .get(usize::from(totals.strategy))
        .cloned()
        .unwrap_or_else(|| format!("strategy-{}", totals.strategy));

    let mut summary = StrategySummary {
        name,
        requests,
        outcomes,
        success_ratio: format::ratio(outcomes.ok, requests),
        client_429_ratio: format::ratio(outcomes.throttled, requests),
        server_error_ratio: format::ratio(outcomes.server_error, requests),
        other_error_ratio: format::ratio(other_errors, requests),
        attempts: totals.attempts,
        attempts_per_request: per(totals.attempts, requests),
        retries_per_request: per(totals.client_retries + totals.gateway_retries, requests),
        client_retries: totals.client_retries,
        gateway_retries: totals.gateway_retries,
        throughput_rps: per_second(outcomes.ok),
        e2e: latency(&totals.e2e),
        ttft: latency(&totals.ttft),
        ttft_from_send: latency(&totals.ttft_from_send),
        send_lag: latency(&totals.send_lag),
        tokens_in: totals.tokens_in,
        tokens_out: totals.tokens_out,
        spillover_share: format::ratio(totals.spilled_successes, outcomes.ok),
        ptu_utilization_mean,
        ptu_utilization_max,
        backends,
        cost: CostSummary {
            ptu: format::round(costs.ptu, COST_DIGITS),
            payg: format::round(costs.payg, COST_DIGITS),
            total: format::round(costs.total, COST_DIGITS),
        },
        goodput: Goodput {
            requests: totals.goodput,
            ratio: format::ratio(totals.goodput, requests),
            per_s: per_second(totals.goodput),
        },
        slo: Vec::new(),
        slo_pass: true,
        unknown_backend_records: totals.unknown_backend_records,
        // The simulator's verdict; a live driver replaces it with what its engine measured.
        validity: Validity::by_construction(requests, setup.duration),
    };
    summary.slo = setup.slo.evaluate(&summary);
    summary.slo_pass = summary.slo.iter().all(|verdict| verdict.pass);
    summary
}
