//! Fitting the fleet: one mock resource per backend the logs name, with the deployment the
//! workload targets, its latency ([`super::latency`]) and its quota from the 429s
//! ([`super::quota`] for standard deployments, [`super::ptu`] for provisioned ones, which the
//! user names: the logs do not say which is which).
//!
//! Admission estimates follow the mock (and AOAI): prompt + (`max_tokens`, or the model's
//! default completion estimate when requests send none) for standard deployments, prompt +
//! output weight × that for provisioned ones. The logs do not carry `max_tokens`: it is
//! `--max-tokens` if given, else taken as not sent (a note says so).

use aoai_mock::config::{DeploymentConfig, ModelOverrides, ResourceConfig, Switches};
use aoai_mock::model::ModelProfile;

use super::Note;
use super::latency::{LatencyFit, SATURATION_IN_FLIGHT, fit_latency, in_flight_at_starts};
use super::latency_model::LatencyRow;
use super::ptu::{Bucket, PtuQuota, PtuRow, fit_ptu};
use super::quota::{QuotaRow, StandardQuota, fit_standard};
use super::record::{LogRecord, LogSet, NameId};
use super::stats::{Bootstrap, quantile, sorted};
use super::workload::DEFAULT_PROMPT_MEDIAN;

/// What the fleet fit needs besides the logs.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Backends that are provisioned (PTU) deployments.
    pub provisioned: Vec<String>,
    /// The `max_tokens` the calls sent, if known.
    pub max_tokens: Option<u32>,
    /// Model when the logs name none.
    pub model: String,
    /// Scenario seed (bootstrap streams).
    pub seed: u64,
    /// Bootstrap resamples.
    pub bootstrap: usize,
}

/// The quota a backend's 429s imply.
#[derive(Debug, Clone, PartialEq)]
pub enum QuotaFit {
    /// Standard: TPM and RPM windows.
    Standard(StandardQuota),
    /// Provisioned: PTU count.
    Provisioned(PtuQuota),
}

/// One fitted backend.
#[derive(Debug, Clone)]
pub struct BackendFit {
    /// Resource name.
    pub name: String,
    /// Calls logged, of them 2xx, 429, and other statuses.
    pub calls: usize,
    /// See `calls`.
    pub ok: usize,
    /// See `calls`.
    pub throttled: usize,
    /// See `calls`.
    pub other: usize,
    /// Latency fit.
    pub latency: LatencyFit,
    /// Quota fit.
    pub quota: QuotaFit,
    /// What the scenario gets.
    pub resource: ResourceConfig,
}

/// The most common name among `ids` (None when no row has one).
fn mode(set: &LogSet, ids: impl Iterator<Item = Option<NameId>>) -> Option<String> {
    let mut counts: Vec<(NameId, usize)> = Vec::new();
    for id in ids.flatten() {
        match counts.iter_mut().find(|(i, _)| *i == id) {
            Some(entry) => entry.1 += 1,
            None => counts.push((id, 1)),
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map(|(id, _)| set.names.get(*id).to_string())
}

/// The latency rows of a backend's successful calls, with the load each met.
fn latency_rows(rows: &[&LogRecord]) -> Vec<LatencyRow> {
    let timed: Vec<&&LogRecord> = rows
        .iter()
        .filter(|r| r.succeeded() && r.duration_s.is_some())
        .collect();
    let spans: Vec<(i64, i64)> = timed
        .iter()
        .map(|r| (r.start_ns, r.end_ns().unwrap_or(r.start_ns)))
        .collect();
    let in_flight = in_flight_at_starts(&spans);
    timed
        .iter()
        .zip(in_flight)
        .filter_map(|(r, n)| {
            Some(LatencyRow {
                prompt: f64::from(r.prompt?),
                gaps: f64::from(r.completion?.saturating_sub(1)),
                e2e: r.duration_s?,
                ttft: r.ttft_s,
                load: (f64::from(n) / SATURATION_IN_FLIGHT).min(1.0),
            })
        })
        .collect()
}

/// Fit every backend of `set` serving `deployment`.
pub fn fit_fleet(
    set: &LogSet,
    deployment: &str,
    options: &FleetOptions,
    notes: &mut Vec<Note>,
) -> Vec<BackendFit> {
    let mut backends: Vec<Option<NameId>> = Vec::new();
    for record in &set.records {
        if !backends.contains(&record.backend) {
            backends.push(record.backend);
        }
    }
    if backends.iter().all(Option::is_none) {
        notes.push(Note::new(
            "fleet",
            "the logs name no backend: one resource \"aoai\" stands for every call",
        ));
    } else if backends.contains(&None) {
        let unnamed = set.records.iter().filter(|r| r.backend.is_none()).count();
        notes.push(Note::new(
            "fleet",
            format!(
                "{unnamed} calls name no backend: left out of the fleet fit (kept in the workload)"
            ),
        ));
        backends.retain(Option::is_some);
    }
    backends.sort_by_key(|id| set.name(*id).to_string());
    if options.max_tokens.is_none() {
        notes.push(Note::new("fleet", "max_tokens is not in the logs: taken as not sent (admission estimates use the model's default; give --max-tokens N if your apps send one)"));
    }
    backends
        .into_iter()
        .map(|id| {
            let rows: Vec<&LogRecord> = set.records.iter().filter(|r| r.backend == id).collect();
            let name = id.map_or_else(|| "aoai".to_string(), |id| set.names.get(id).to_string());
            fit_backend(set, &name, &rows, deployment, options, notes)
        })
        .collect()
}

fn fit_backend(
    set: &LogSet,
    name: &str,
    rows: &[&LogRecord],
    deployment: &str,
    options: &FleetOptions,
    notes: &mut Vec<Note>,
) -> BackendFit {
    let region = mode(set, rows.iter().map(|r| r.region)).unwrap_or_else(|| {
        notes.push(Note::new(name, "region not in the logs: \"unknown\""));
        "unknown".to_string()
    });
    let model = mode(set, rows.iter().map(|r| r.model)).unwrap_or_else(|| {
        notes.push(Note::new(
            name,
            format!("model not in the logs: {} assumed", options.model),
        ));
        options.model.clone()
    });
    let profile = ModelProfile::resolve(&model, &ModelOverrides::default());
    let provisioned = options.provisioned.iter().any(|p| p == name);
    let ok = rows.iter().filter(|r| r.succeeded()).count();
    let throttled = rows.iter().filter(|r| r.throttled()).count();
    let other = rows
        .iter()
        .filter(|r| {
            r.status
                .is_some_and(|s| !(200..300).contains(&s) && s != 429)
        })
        .count();
    if other > 0 {
        notes.push(Note::new(name, format!("{other} answers other than 2xx and 429 (faults, bad requests): not fitted, the mock gets no faults")));
    }
    let bootstrap =
        |what: &str| Bootstrap::new(options.seed, &format!("{what}:{name}"), options.bootstrap);
    let latency = fit_latency(
        name,
        &latency_rows(rows),
        provisioned,
        &mut bootstrap("latency"),
        notes,
    );
    let prompts = sorted(rows.iter().filter_map(|r| r.prompt.map(f64::from)));
    let typical_prompt = if prompts.is_empty() {
        notes.push(Note::new(name, format!("prompt tokens not in the logs: admission estimates assume the workload's default prompt of {DEFAULT_PROMPT_MEDIAN} tokens, so a fitted TPM is in those units")));
        DEFAULT_PROMPT_MEDIAN
    } else {
        quantile(&prompts, 0.5)
    };
    let allowance = f64::from(
        options
            .max_tokens
            .unwrap_or(profile.default_completion_estimate),
    );
    let decided: Vec<&&LogRecord> = rows
        .iter()
        .filter(|r| r.throttled() || r.succeeded())
        .collect();
    let prompt_of = |r: &LogRecord| r.prompt.map_or(typical_prompt, f64::from);
    let (quota, mut config) = if provisioned {
        let bucket = Bucket {
            input_tpm_per_ptu: profile.input_tpm_per_ptu,
            horizon_s: Switches::default().ptu_horizon.as_secs_f64(),
            overshoot_pct: Switches::default().ptu_overshoot_pct,
        };
        let ptu_rows: Vec<PtuRow> = decided
            .iter()
            .map(|r| {
                let estimate = prompt_of(r) + profile.output_weight * allowance;
                PtuRow {
                    start_ns: r.start_ns,
                    end_ns: r.end_ns(),
                    admitted: !r.throttled(),
                    estimate,
                    actual: r.completion.map_or(estimate, |c| {
                        prompt_of(r) + profile.output_weight * f64::from(c)
                    }),
                    sized: r.prompt.is_some(),
                }
            })
            .collect();
        let fit = fit_ptu(name, &ptu_rows, bucket, &mut bootstrap("ptu"), notes);
        let ptu = match &fit.ptu {
            Some(ptu) => ptu.value.round().max(1.0) as u32,
            None => {
                let chosen = (f64::from(fit.least_ptu) * 1.5).ceil() as u32;
                notes.push(Note::new(
                    name,
                    format!("ptu set to {chosen} (1.5 × the least that admits every logged call)"),
                ));
                chosen
            }
        };
        (
            QuotaFit::Provisioned(fit),
            DeploymentConfig::provisioned(deployment, &model, ptu),
        )
    } else {
        let quota_rows: Vec<QuotaRow> = decided
            .iter()
            .map(|r| QuotaRow {
                start_ns: r.start_ns,
                admitted: !r.throttled(),
                estimate: if profile.count_prompt {
                    prompt_of(r)
                } else {
                    0.0
                } + allowance,
                sized: r.prompt.is_some(),
            })
            .collect();
        let fit = fit_standard(name, &quota_rows, &mut bootstrap("quota"), notes);
        let tpm = match &fit.tpm {
            Some(tpm) => tpm.value.round().max(1.0) as u64,
            None => {
                let chosen = ((fit.peak_tokens_60s * 1.5 / 1000.0).ceil() as u64).max(1) * 1000;
                notes.push(Note::new(name, format!("tpm set to {chosen} (1.5 × the peak minute admitted, so the re-simulation throttles no more than the logs)")));
                chosen
            }
        };
        let mut config = DeploymentConfig::standard(deployment, &model, tpm);
        config.rpm = match &fit.rpm {
            Some(rpm) => Some(rpm.value.round().max(1.0) as u64),
            None => {
                let derived = (tpm as f64 * profile.rpm_per_1k_tpm / 1000.0)
                    .round()
                    .max(1.0);
                let needed = (f64::from(fit.peak_calls_10s) * 1.5).ceil() * 6.0;
                (derived < needed).then(|| {
                    notes.push(Note::new(name, format!("rpm set to {needed:.0}: the model's ratio would give {derived:.0}, below 1.5 × the peak calls admitted in 10 s")));
                    needed as u64
                })
            }
        };
        (QuotaFit::Standard(fit), config)
    };
    config.latency = latency.config.clone();
    if provisioned {
        config.latency.load_factor = None;
    }
    BackendFit {
        name: name.to_string(),
        calls: rows.len(),
        ok,
        throttled,
        other,
        latency,
        quota,
        resource: ResourceConfig::new(name, &region, vec![config]),
    }
}
