//! The analytical figures beside the simulated answer: what the workload asks for (walked
//! request by request), Microsoft's documented PTU formula ("Determine PTU sizing for a
//! workload", ms.date 2026-05-22) and the matching pay-as-you-go count.
//!
//! The documented formula, applied as written:
//! - input TPM = peak RPM × average prompt tokens; output TPM = peak RPM × average output tokens
//! - normalized TPM = input TPM × (1 − cache hit rate) + output-to-input ratio × output TPM
//! - PTUs = normalized TPM ÷ input TPM per PTU, rounded up to the deployment type's increment
//!   and at least its minimum.
//!
//! "Peak RPM" is the workload's busiest minute (60 s buckets from the start); the same formula
//! at the mean rate is shown beside it, labelled. PAYG deployments admit against
//! `prompt + max_tokens`, so their count is `ceil(calls/min × (prompt + max_tokens) / TPM)`.

use serde::Serialize;

use super::error::PlanError;
use super::sizing::{PtuDeploymentType, PtuSizing};
use crate::workload::Workload;

/// What the workload asks for, measured by walking its requests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoadProfile {
    /// Requests over the run.
    pub requests: u64,
    /// Run length in seconds.
    pub duration_s: f64,
    /// Mean calls per minute.
    pub calls_per_min: f64,
    /// Calls in the busiest minute (60 s buckets from the start).
    pub peak_calls_per_min: u64,
    /// Mean prompt tokens.
    pub mean_prompt_tokens: f64,
    /// Mean completion tokens.
    pub mean_output_tokens: f64,
    /// Mean standard-admission estimate (`prompt + max_tokens`, or the model's default).
    pub mean_admission_tokens: f64,
}

impl LoadProfile {
    /// The documented formula for `calls_per_min` calls of this load's mean size.
    pub fn calculate(
        &self,
        calls_per_min: f64,
        cache_hit_rate: f64,
        sizing: &PtuSizing,
    ) -> Calculation {
        calculate(
            calls_per_min,
            self.mean_prompt_tokens,
            self.mean_output_tokens,
            cache_hit_rate,
            sizing,
        )
    }

    /// Busiest minute ÷ mean minute (1 for an empty load).
    pub fn peak_factor(&self) -> f64 {
        if self.calls_per_min > 0.0 {
            self.peak_calls_per_min as f64 / self.calls_per_min
        } else {
            1.0
        }
    }
}

/// Walk `workload`'s requests (length `duration`) to profile it; `default_completion` is the
/// model's allowance when a request sends no `max_tokens`.
pub fn profile(
    workload: &Workload,
    duration: std::time::Duration,
    default_completion: u32,
) -> Result<LoadProfile, PlanError> {
    let mut requests = 0u64;
    let (mut prompt, mut output, mut admission) = (0f64, 0f64, 0f64);
    let mut minutes: Vec<u64> = Vec::new();
    for request in workload.requests() {
        let request =
            request.map_err(|error| PlanError::input("workload", "trace", error.to_string()))?;
        requests += 1;
        prompt += f64::from(request.prompt_tokens);
        output += f64::from(request.output_tokens);
        admission += f64::from(request.prompt_tokens)
            + f64::from(request.max_tokens.unwrap_or(default_completion));
        let minute = (request.at.as_secs() / 60) as usize;
        if minutes.len() <= minute {
            minutes.resize(minute + 1, 0);
        }
        minutes[minute] += 1;
    }
    let count = requests.max(1) as f64;
    let duration_s = duration.as_secs_f64();
    Ok(LoadProfile {
        requests,
        duration_s,
        calls_per_min: if duration_s > 0.0 {
            requests as f64 * 60.0 / duration_s
        } else {
            0.0
        },
        peak_calls_per_min: minutes.iter().copied().max().unwrap_or(0),
        mean_prompt_tokens: prompt / count,
        mean_output_tokens: output / count,
        mean_admission_tokens: admission / count,
    })
}

/// One application of the documented formula, every intermediate figure kept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calculation {
    /// Calls per minute the formula was given.
    pub calls_per_min: f64,
    /// Average prompt tokens.
    pub prompt_tokens: f64,
    /// Average response tokens.
    pub output_tokens: f64,
    /// Share of input tokens served from the prompt cache (0–1).
    pub cache_hit_rate: f64,
    /// `calls_per_min × prompt_tokens`.
    pub input_tpm: f64,
    /// `calls_per_min × output_tokens`.
    pub output_tpm: f64,
    /// `input_tpm × (1 − cache_hit_rate) + output_weight × output_tpm`.
    pub normalized_tpm: f64,
    /// `normalized_tpm ÷ input TPM per PTU`.
    pub ptu_raw: f64,
    /// Rounded up to the increment, at least the minimum.
    pub ptu: u32,
}

/// The documented formula for `calls_per_min` calls of `prompt_tokens` in and `output_tokens`
/// out, with `cache_hit_rate` of the input served from the cache.
pub fn calculate(
    calls_per_min: f64,
    prompt_tokens: f64,
    output_tokens: f64,
    cache_hit_rate: f64,
    sizing: &PtuSizing,
) -> Calculation {
    let input_tpm = calls_per_min * prompt_tokens;
    let output_tpm = calls_per_min * output_tokens;
    let normalized_tpm = input_tpm * (1.0 - cache_hit_rate) + sizing.output_weight * output_tpm;
    let ptu_raw = normalized_tpm / sizing.input_tpm_per_ptu;
    Calculation {
        calls_per_min,
        prompt_tokens,
        output_tokens,
        cache_hit_rate,
        input_tpm,
        output_tpm,
        normalized_tpm,
        ptu_raw,
        ptu: sizing.deployable(ptu_raw),
    }
}

/// The calculator's answers for one deployment type, beside the simulated one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalyticEstimate {
    /// The deployment type (it sets the rounding).
    pub deployment_type: PtuDeploymentType,
    /// As documented: the busiest minute's calls, with the cache hit rate, at the planned load.
    pub calculator: Calculation,
    /// The same at the planned load × (1 + headroom).
    pub calculator_with_headroom: Calculation,
    /// The formula at the mean call rate (what an average-based estimate gives).
    pub mean_rate: Calculation,
    /// The mean rate × (1 + headroom).
    pub mean_rate_with_headroom: Calculation,
}

/// The documented formula for `load` on `sizing`'s type, with `cache_hit_rate` and `headroom`
/// (0.2 = 20%).
pub fn estimate(
    load: &LoadProfile,
    sizing: &PtuSizing,
    cache_hit_rate: f64,
    headroom: f64,
) -> AnalyticEstimate {
    let at = |calls_per_min: f64| load.calculate(calls_per_min, cache_hit_rate, sizing);
    let peak = load.peak_calls_per_min as f64;
    AnalyticEstimate {
        deployment_type: sizing.kind,
        calculator: at(peak),
        calculator_with_headroom: at(peak * (1.0 + headroom)),
        mean_rate: at(load.calls_per_min),
        mean_rate_with_headroom: at(load.calls_per_min * (1.0 + headroom)),
    }
}

/// How many pay-as-you-go deployments the load needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PaygEstimate {
    /// Standard-admission TPM at the mean rate: `calls/min × (prompt + max_tokens)`.
    pub tpm_needed: f64,
    /// TPM of one deployment.
    pub deployment_tpm: u64,
    /// Deployments covering `tpm_needed × (1 + headroom)`.
    pub count_with_headroom: u32,
}

/// The PAYG count for `load` with `headroom` on deployments of `deployment_tpm`.
pub fn payg_estimate(load: &LoadProfile, headroom: f64, deployment_tpm: u64) -> PaygEstimate {
    let tpm_needed = load.calls_per_min * load.mean_admission_tokens;
    PaygEstimate {
        tpm_needed,
        deployment_tpm,
        count_with_headroom: (tpm_needed * (1.0 + headroom) / deployment_tpm as f64)
            .ceil()
            .max(1.0) as u32,
    }
}
