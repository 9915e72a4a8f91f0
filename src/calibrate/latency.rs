//! Fitting one deployment's latency to the mock's model (`aoai_mock` `LatencyProfile`):
//! TTFT = (base + prompt × per-token) × A and inter-token latency = L / (tps × B), where A and
//! B are independent log-normal multipliers of mean 1 (sigmas `ttft_jitter`, `tps_jitter`)
//! and L = 1 + load_factor × min(in-flight / 64, 1) (standard deployments only); a call of n
//! completion tokens ends at TTFT + (n − 1) × ITL. The estimator is in
//! [`super::latency_model`].
//!
//! Identification: intervals come from a Poisson bootstrap over the calls. A parameter whose
//! 95% interval holds its null value (per-token cost 0, load factor 0) is not identified by
//! the data: it is left at the mock's default (20 µs per token, no load dependence), the
//! others are refitted with it fixed, and a note says so. Too few calls: every latency
//! parameter stays at the mock's default, said in a note.

use std::time::Duration;

use aoai_mock::config::LatencyConfig;

use super::Note;
use super::latency_model::{LatencyRow, Spec, fit};
use super::stats::{Bootstrap, Estimate, sd};

/// Calls a fit needs.
pub const MIN_ROWS: usize = 30;
/// In-flight requests at which the mock's load factor applies fully (its default).
pub const SATURATION_IN_FLIGHT: f64 = 64.0;
/// The mock's default prefill cost per prompt token.
const DEFAULT_PER_TOKEN_S: f64 = 20e-6;

/// The fitted latency of one deployment.
#[derive(Debug, Clone)]
pub struct LatencyFit {
    /// Calls fitted.
    pub rows: usize,
    /// How TTFT and generation were told apart.
    pub method: &'static str,
    /// `[ttft_base s, per-token s, ttft_jitter, tokens_per_second, tps_jitter, load_factor]`
    /// with intervals (None: not fitted, the default applies).
    pub params: [Option<Estimate>; 6],
    /// What the scenario gets.
    pub config: LatencyConfig,
}

/// Parameter names, in [`LatencyFit::params`] order.
pub const PARAM_NAMES: [&str; 6] = [
    "ttft_base",
    "ttft_per_prompt_token",
    "ttft_jitter",
    "tokens_per_second",
    "tps_jitter",
    "load_factor",
];

fn estimates(rows: &[LatencyRow], spec: Spec, bootstrap: &mut Bootstrap) -> Option<[Estimate; 6]> {
    let ones = vec![1.0; rows.len()];
    let point = fit(rows, &ones, spec)?.values();
    let cis = bootstrap.intervals(rows.len(), |w| fit(rows, w, spec).map(|p| p.values()));
    Some(std::array::from_fn(|k| Estimate {
        value: point[k],
        ci: cis[k],
    }))
}

/// Fit `rows` of deployment `subject` (`provisioned`: no load factor in the mock).
pub fn fit_latency(
    subject: &str,
    rows: &[LatencyRow],
    provisioned: bool,
    bootstrap: &mut Bootstrap,
    notes: &mut Vec<Note>,
) -> LatencyFit {
    let unfitted = |method| LatencyFit {
        rows: rows.len(),
        method,
        params: [None; 6],
        config: LatencyConfig::default(),
    };
    if rows.len() < MIN_ROWS {
        notes.push(Note::new(
            subject,
            format!(
                "latency not identified: {} successful calls with a duration and token counts \
                 (need {MIN_ROWS}); every latency parameter left at the mock's default",
                rows.len()
            ),
        ));
        return unfitted("not fitted");
    }
    let loads: Vec<f64> = rows.iter().map(|r| r.load).collect();
    let load_varies = !provisioned && sd(&loads) >= 0.02 && loads.iter().any(|l| *l >= 0.1);
    let ttft = rows.iter().filter(|r| r.ttft.is_some()).count() >= MIN_ROWS;
    let method = if ttft {
        "TTFT from the logged time to first token; generation from the rest of the call"
    } else {
        "end-to-end durations only: TTFT and generation told apart by regression on prompt \
         and completion tokens"
    };
    let mut spec = Spec {
        per_token: None,
        load: load_varies,
        ttft,
    };
    let Some(first) = estimates(rows, spec, bootstrap) else {
        notes.push(Note::new(subject, "latency not identified: the regression is singular (no spread in tokens); defaults kept"));
        return unfitted(method);
    };
    if first[1].ci_contains(0.0) || first[1].value < 0.0 {
        spec.per_token = Some(DEFAULT_PER_TOKEN_S);
        notes.push(Note::new(
            subject,
            format!(
                "ttft_per_prompt_token not identified (estimate {:.1} µs, 95% CI {}): left at \
                 the mock's default 20 µs",
                first[1].value * 1e6,
                ci_text(first[1].ci, 1e6, "µs")
            ),
        ));
    }
    if load_varies && (first[5].ci_contains(0.0) || first[5].value < 0.0) {
        spec.load = false;
        notes.push(Note::new(
            subject,
            format!(
                "no load dependence shown (load_factor {:.2}, 95% CI {}): left at 0",
                first[5].value,
                ci_text(first[5].ci, 1.0, "")
            ),
        ));
    } else if !load_varies && !provisioned {
        notes.push(Note::new(
            subject,
            "load_factor not identified: in-flight calls barely varied; left at 0",
        ));
    }
    if spec.load {
        notes.push(Note::new(
            subject,
            "saturation_in_flight not identified: left at 64",
        ));
    }
    let fixed = spec.per_token.is_some() || spec.load != load_varies;
    let Some(mut params) = (if fixed {
        estimates(rows, spec, bootstrap)
    } else {
        Some(first)
    }) else {
        return unfitted(method);
    };
    if !(params[3].value.is_finite() && params[3].value > 0.0) {
        notes.push(Note::new(
            subject,
            "tokens_per_second not identified (no generation time left after TTFT): default kept",
        ));
        return unfitted(method);
    }
    if params[0].value < 0.0 {
        notes.push(Note::new(
            subject,
            format!(
                "ttft_base estimated below 0 ({:.0} ms): set to 0",
                params[0].value * 1e3
            ),
        ));
        params[0].value = 0.0;
    }
    // A jitter the data cannot pin down (its interval spans more than 0.3) keeps the default.
    let mut jitter_known = [true; 2];
    for (slot, (k, default)) in [(2usize, 0.25), (4, 0.15)].into_iter().enumerate() {
        if let Some((lo, hi)) = params[k].ci
            && hi - lo > 0.3
        {
            jitter_known[slot] = false;
            notes.push(Note::new(
                subject,
                format!(
                    "{} not identified (estimate {:.2}, 95% CI [{lo:.2}, {hi:.2}]): left at the \
                     mock's default {default}",
                    PARAM_NAMES[k], params[k].value
                ),
            ));
        }
    }
    let seconds =
        |s: f64, grain: f64| Duration::from_secs_f64(((s / grain).round() * grain).max(0.0));
    let config = LatencyConfig {
        ttft_base: Some(seconds(params[0].value, 1e-3)),
        ttft_per_prompt_token: Some(seconds(params[1].value, 1e-7)),
        ttft_jitter: jitter_known[0].then(|| round(params[2].value, 1e3)),
        tokens_per_second: Some(round(params[3].value, 10.0)),
        tps_jitter: jitter_known[1].then(|| round(params[4].value, 1e3)),
        load_factor: spec
            .load
            .then(|| round(params[5].value.clamp(0.0, 10.0), 1e3)),
        ..LatencyConfig::default()
    };
    let free = [
        true,
        spec.per_token.is_none(),
        jitter_known[0],
        true,
        jitter_known[1],
        spec.load,
    ];
    LatencyFit {
        rows: rows.len(),
        method,
        params: std::array::from_fn(|k| free[k].then_some(params[k])),
        config,
    }
}

fn round(value: f64, per_unit: f64) -> f64 {
    (value * per_unit).round() / per_unit
}

/// `[lo, hi] unit` of an interval scaled by `scale`, or `n/a`.
pub fn ci_text(ci: Option<(f64, f64)>, scale: f64, unit: &str) -> String {
    match ci {
        Some((lo, hi)) => format!(
            "[{:.3}, {:.3}]{}{unit}",
            lo * scale,
            hi * scale,
            if unit.is_empty() { "" } else { " " }
        ),
        None => "n/a".to_string(),
    }
}

/// In-flight calls at each start: how many of the others started before and ended after it.
/// `spans` are (start, end) in nanoseconds, sorted by start.
pub fn in_flight_at_starts(spans: &[(i64, i64)]) -> Vec<u32> {
    let mut ends = std::collections::BinaryHeap::new();
    spans
        .iter()
        .map(|(start, end)| {
            while ends.peek().is_some_and(|std::cmp::Reverse(e)| e <= start) {
                ends.pop();
            }
            let count = ends.len() as u32;
            ends.push(std::cmp::Reverse(*end));
            count
        })
        .collect()
}

#[cfg(test)]
#[path = "latency_tests.rs"]
mod tests;
