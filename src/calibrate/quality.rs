//! How well the calibration fits, checked against the logs by re-simulating it:
//! - the workload: the calibrated `[workload]` is drawn again (the same seeded streams a
//!   `sim` run uses) and compared with the logged arrivals: counts per clock hour (Pearson
//!   residuals against the fitted rate), KS distances and QQ points of prompt and completion
//!   lengths and of inter-arrival gaps;
//! - the fleet: every logged successful call is replayed through the mock's own model
//!   (`aoai_mock::model::Fleet`, quotas lifted, the logged in-flight kept) and its predicted
//!   duration compared with the logged one: KS distance, QQ points, and the relative
//!   difference of medians per clock hour.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::time::Duration;

use aoai_mock::config::{DeploymentKind, FleetConfig, ResourceConfig};
use aoai_mock::model::{Completion, Fleet, Outcome, RequestShape};

use super::arrivals::expected_between;
use super::error::CalibrateError;
use super::record::{LogRecord, LogSet};
use super::stats::{ks_distance, qq, quantile, sorted};
use super::workload::WorkloadFit;
use crate::workload::Workload;

const HOUR_NS: i64 = 3_600_000_000_000;
/// QQ points per chart.
const QQ_POINTS: usize = 60;
/// Quantiles reported for each distribution.
pub const QUANTILES: [f64; 4] = [0.1, 0.5, 0.9, 0.99];

/// Observed against re-simulated values of one quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct DistCheck {
    /// What is compared.
    pub name: String,
    /// Values on each side.
    pub n: (usize, usize),
    /// Two-sample KS distance.
    pub ks: f64,
    /// [`QUANTILES`] of the logs and of the re-simulation.
    pub quantiles: Vec<(f64, f64)>,
    /// QQ points (logged, re-simulated).
    pub qq: Vec<(f64, f64)>,
}

impl DistCheck {
    fn new(name: &str, observed: Vec<f64>, simulated: Vec<f64>) -> DistCheck {
        let (a, b) = (sorted(observed), sorted(simulated));
        DistCheck {
            name: name.to_string(),
            n: (a.len(), b.len()),
            ks: ks_distance(&a, &b),
            quantiles: QUANTILES
                .iter()
                .map(|q| (quantile(&a, *q), quantile(&b, *q)))
                .collect(),
            qq: qq(&a, &b, QQ_POINTS),
        }
    }
}

/// One clock hour.
#[derive(Debug, Clone, PartialEq)]
pub struct HourCheck {
    /// Start of the hour, nanoseconds since the epoch.
    pub start_ns: i64,
    /// Arrivals logged, expected from the fitted rate, and re-simulated.
    pub observed: u64,
    /// See `observed`.
    pub expected: f64,
    /// See `observed`.
    pub resimulated: u64,
    /// Pearson residual (observed − expected) / √expected.
    pub residual: f64,
}

/// One backend's durations, logged against the model's.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendCheck {
    /// The comparison.
    pub durations: DistCheck,
    /// Per clock hour: (hour start ns, calls, logged median s, model median s).
    pub hourly: Vec<(i64, usize, f64, f64)>,
}

/// Every fit-quality figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    /// Per clock hour.
    pub hours: Vec<HourCheck>,
    /// Prompt, completion and inter-arrival gaps.
    pub workload: Vec<DistCheck>,
    /// Per fitted backend (None: no durations to compare).
    pub backends: Vec<(String, Option<BackendCheck>)>,
    /// Rate per step: (minutes from start, logged, fitted, re-simulated) requests per second.
    pub rates: Vec<(f64, f64, f64, f64)>,
}

fn hour_of(ns: i64) -> i64 {
    ns.div_euclid(HOUR_NS) * HOUR_NS
}

/// Compare the calibration with the logs it came from.
pub fn check(
    set: &LogSet,
    workload: &WorkloadFit,
    fleet: &[ResourceConfig],
    seed: u64,
) -> Result<Quality, CalibrateError> {
    let redrawn = Workload::new(&workload.config, Path::new("."), seed)?;
    let mut sim_times: Vec<i64> = Vec::new();
    let (mut sim_prompts, mut sim_outputs) = (Vec::new(), Vec::new());
    for request in redrawn.requests() {
        let request = request?;
        sim_times.push(workload.start_ns + request.at.as_nanos() as i64);
        sim_prompts.push(f64::from(request.prompt_tokens));
        sim_outputs.push(f64::from(request.output_tokens));
    }
    let arrivals: Vec<&LogRecord> = set.records.iter().filter(|r| !r.throttled()).collect();
    let times: Vec<i64> = arrivals.iter().map(|r| r.start_ns).collect();
    let gaps = |t: &[i64]| {
        t.windows(2)
            .map(|w| (w[1] - w[0]) as f64 / 1e9)
            .collect::<Vec<f64>>()
    };
    let ok = || arrivals.iter().filter(|r| r.succeeded());
    let mut checks = vec![DistCheck::new(
        "inter-arrival gap (s)",
        gaps(&times),
        gaps(&sim_times),
    )];
    let prompts: Vec<f64> = ok().filter_map(|r| r.prompt.map(f64::from)).collect();
    if !prompts.is_empty() {
        checks.push(DistCheck::new("prompt tokens", prompts, sim_prompts));
    }
    let outputs: Vec<f64> = ok().filter_map(|r| r.completion.map(f64::from)).collect();
    if !outputs.is_empty() {
        checks.push(DistCheck::new("completion tokens", outputs, sim_outputs));
    }
    let end_ns = workload.start_ns + (workload.duration_s * 1e9) as i64;
    let mut hours = Vec::new();
    let mut hour = hour_of(workload.start_ns);
    while hour < end_ns {
        let (from, to) = (hour.max(workload.start_ns), (hour + HOUR_NS).min(end_ns));
        let within = |t: &i64| (from..to).contains(t);
        let offset = |ns: i64| (ns - workload.start_ns) as f64 / 1e9;
        let expected: f64 = workload
            .apps
            .iter()
            .map(|app| expected_between(&app.arrivals.process, offset(from), offset(to)))
            .sum();
        let observed = times.iter().filter(|t| within(t)).count() as u64;
        hours.push(HourCheck {
            start_ns: hour,
            observed,
            expected,
            resimulated: sim_times.iter().filter(|t| within(t)).count() as u64,
            residual: if expected > 0.0 {
                (observed as f64 - expected) / expected.sqrt()
            } else {
                0.0
            },
        });
        hour += HOUR_NS;
    }
    let bin_ns = (workload.bin_s * 1e9) as i64;
    let rates = (0..((end_ns - workload.start_ns) / bin_ns.max(1) + 1))
        .map(|k| {
            let from = workload.start_ns + k * bin_ns;
            let to = (from + bin_ns).min(end_ns);
            let seconds = ((to - from) as f64 / 1e9).max(1e-9);
            let count =
                |t: &[i64]| t.iter().filter(|t| (from..to).contains(*t)).count() as f64 / seconds;
            let offset = |ns: i64| (ns - workload.start_ns) as f64 / 1e9;
            let fitted: f64 = workload
                .apps
                .iter()
                .map(|app| expected_between(&app.arrivals.process, offset(from), offset(to)))
                .sum::<f64>()
                / seconds;
            (
                k as f64 * workload.bin_s / 60.0,
                count(&times),
                fitted,
                count(&sim_times),
            )
        })
        .filter(|(minutes, ..)| *minutes * 60.0 < workload.duration_s)
        .collect();
    let backends = fleet
        .iter()
        .map(|resource| {
            (
                resource.name.clone(),
                backend_check(set, resource, workload.start_ns, seed),
            )
        })
        .collect();
    Ok(Quality {
        hours,
        workload: checks,
        backends,
        rates,
    })
}

/// Replay `resource`'s logged successful calls through the mock's model.
fn backend_check(
    set: &LogSet,
    resource: &ResourceConfig,
    start_ns: i64,
    seed: u64,
) -> Option<BackendCheck> {
    let mut lifted = resource.clone();
    for deployment in &mut lifted.deployments {
        match deployment.kind {
            DeploymentKind::Standard => {
                deployment.tpm = Some(1 << 50);
                deployment.rpm = Some(1 << 50);
            }
            DeploymentKind::Provisioned => deployment.ptu = Some(1 << 20),
        }
    }
    let deployment = lifted.deployments.first()?.name.clone();
    let config = FleetConfig {
        seed,
        resources: vec![lifted],
        ..FleetConfig::default()
    };
    let mut fleet = Fleet::new(&config);
    let id = fleet.resource_index(&resource.name)?;
    let calls: Vec<&LogRecord> = set
        .records
        .iter()
        .filter(|r| {
            r.succeeded()
                && set.name(r.backend) == resource.name
                && r.duration_s.is_some()
                && r.prompt.is_some()
                && r.completion.is_some()
        })
        .collect();
    if calls.is_empty() {
        return None;
    }
    let mut open = BinaryHeap::new();
    let mut tickets = Vec::with_capacity(calls.len());
    let mut pairs = Vec::with_capacity(calls.len());
    for call in &calls {
        let at = |ns: i64| Duration::from_nanos((ns - start_ns).max(0) as u64);
        while let Some(&(Reverse(end), index)) = open.peek() {
            if end > call.start_ns {
                break;
            }
            open.pop();
            let (ticket, tokens) = tickets[index];
            fleet.complete(
                at(end),
                &ticket,
                Completion::Completed {
                    completion_tokens: tokens,
                },
            );
        }
        let (prompt, completion) = (call.prompt.unwrap_or(0), call.completion.unwrap_or(0));
        let shape = RequestShape {
            stream: call.stream.unwrap_or(false),
            forced_completion_tokens: Some(completion),
            ..RequestShape::chat(prompt, None)
        };
        let answer = fleet.admit(at(call.start_ns), id, &deployment, &shape);
        if let Outcome::Admitted(plan) = answer.outcome {
            open.push((
                Reverse(call.end_ns().unwrap_or(call.start_ns)),
                tickets.len(),
            ));
            tickets.push((plan.ticket, plan.completion_tokens));
            pairs.push((
                hour_of(call.start_ns),
                call.duration_s.unwrap_or(0.0),
                plan.total.as_secs_f64(),
            ));
        }
    }
    let mut hourly: Vec<(i64, usize, f64, f64)> = Vec::new();
    let mut hour_keys: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    hour_keys.dedup();
    for hour in hour_keys {
        let logged = sorted(pairs.iter().filter(|p| p.0 == hour).map(|p| p.1));
        let model = sorted(pairs.iter().filter(|p| p.0 == hour).map(|p| p.2));
        hourly.push((
            hour,
            logged.len(),
            quantile(&logged, 0.5),
            quantile(&model, 0.5),
        ));
    }
    Some(BackendCheck {
        durations: DistCheck::new(
            "call duration (s)",
            pairs.iter().map(|p| p.1).collect(),
            pairs.iter().map(|p| p.2).collect(),
        ),
        hourly,
    })
}
