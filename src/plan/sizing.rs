//! PTU sizing figures (loadgen reference §8, from Microsoft's provisioned-throughput docs) and
//! the analytical estimate the Azure capacity calculator makes:
//! `TPM_eq = calls/min × (prompt + w_out × output)`, `PTU = max(min, ceil(TPM_eq /
//! input-TPM-per-PTU / increment) × increment)`; and the matching pay-as-you-go count,
//! `ceil(calls/min × (prompt + max_tokens) / TPM per deployment)` (standard deployments admit
//! against the estimate `prompt + max_tokens`). Every figure is a configurable default.

use serde::Serialize;

use aoai_mock::config::ModelOverrides;
use aoai_mock::model::{ModelProfile, model_entry};

use super::error::PlanError;
use crate::workload::Workload;

/// Where a PTU deployment lives; it sets the minimum and increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PtuDeploymentType {
    /// Global provisioned.
    Global,
    /// Data-zone provisioned.
    DataZone,
    /// Regional provisioned.
    Regional,
}

/// The PTU figures a plan uses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PtuSizing {
    /// Input tokens per minute one PTU absorbs.
    pub input_tpm_per_ptu: f64,
    /// One output token counts as this many input tokens.
    pub output_weight: f64,
    /// Smallest deployment.
    pub min: u32,
    /// Step between sizes.
    pub increment: u32,
}

impl PtuSizing {
    /// The defaults for `model`: throughput and output weight from the model table (with the
    /// deployment's overrides, so the estimate and the simulation agree), minimum and increment
    /// from the model's row for `kind` (global and data-zone 15/5, regional 50/50 for a model
    /// whose row publishes none).
    pub fn defaults(model: &str, kind: PtuDeploymentType, overrides: &ModelOverrides) -> PtuSizing {
        let profile = ModelProfile::resolve(model, overrides);
        let figures = model_entry(model).map(|row| row.ptu);
        let (min, increment) = match kind {
            PtuDeploymentType::Global | PtuDeploymentType::DataZone => (
                figures.and_then(|f| f.global_min).unwrap_or(15),
                figures.and_then(|f| f.global_increment).unwrap_or(5),
            ),
            PtuDeploymentType::Regional => (
                figures.and_then(|f| f.regional_min).unwrap_or(50),
                figures.and_then(|f| f.regional_increment).unwrap_or(50),
            ),
        };
        PtuSizing {
            input_tpm_per_ptu: profile.input_tpm_per_ptu,
            output_weight: profile.output_weight,
            min,
            increment,
        }
    }

    /// Refuse zero or non-finite figures, naming the flag.
    pub fn validate(&self) -> Result<(), PlanError> {
        if !(self.input_tpm_per_ptu.is_finite() && self.input_tpm_per_ptu > 0.0) {
            return Err(PlanError::input(
                "--input-tpm-per-ptu",
                self.input_tpm_per_ptu,
                "must be positive",
            ));
        }
        if !(self.output_weight.is_finite() && self.output_weight >= 0.0) {
            return Err(PlanError::input(
                "--output-weight",
                self.output_weight,
                "must be 0 or more",
            ));
        }
        if self.increment == 0 {
            return Err(PlanError::input("--ptu-increment", 0, "must be positive"));
        }
        if self.min == 0 {
            return Err(PlanError::input("--ptu-min", 0, "must be positive"));
        }
        Ok(())
    }

    /// `raw` PTUs rounded up to a deployable size.
    pub fn deployable(&self, raw: f64) -> u32 {
        let steps = (raw / f64::from(self.increment)).ceil().max(0.0) as u32;
        (steps * self.increment).max(self.min)
    }

    /// The `index`-th deployable size (0 → the minimum).
    pub fn size(&self, index: u32) -> u32 {
        let first = self.deployable(f64::from(self.min));
        first + index * self.increment
    }
}

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

/// The calculator's answer for a load, beside the simulated one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalyticEstimate {
    /// Input-equivalent TPM at the mean rate: `calls/min × (prompt + w_out × output)`.
    pub tpm_equivalent: f64,
    /// `tpm_equivalent / input_tpm_per_ptu`.
    pub ptu_raw: f64,
    /// Rounded to a deployable size.
    pub ptu: u32,
    /// With the headroom (`tpm_equivalent × (1 + headroom)`), rounded.
    pub ptu_with_headroom: u32,
    /// At the busiest minute's call rate, with the headroom, rounded.
    pub ptu_peak_minute: u32,
    /// Standard-admission TPM at the mean rate: `calls/min × (prompt + max_tokens)`.
    pub payg_tpm_needed: f64,
    /// PAYG deployments of the template's TPM covering it with the headroom (None: no PAYG
    /// template).
    pub payg_count_with_headroom: Option<u32>,
}

/// The analytical estimate for `load` with `headroom` (0.2 = 20%); `payg_tpm` is the TPM of
/// one pay-as-you-go deployment, if the fleet has a template for them.
pub fn estimate(
    load: &LoadProfile,
    sizing: &PtuSizing,
    headroom: f64,
    payg_tpm: Option<u64>,
) -> AnalyticEstimate {
    let per_call = load.mean_prompt_tokens + sizing.output_weight * load.mean_output_tokens;
    let tpm_equivalent = load.calls_per_min * per_call;
    let ptu_raw = tpm_equivalent / sizing.input_tpm_per_ptu;
    let payg_tpm_needed = load.calls_per_min * load.mean_admission_tokens;
    AnalyticEstimate {
        tpm_equivalent,
        ptu_raw,
        ptu: sizing.deployable(ptu_raw),
        ptu_with_headroom: sizing.deployable(ptu_raw * (1.0 + headroom)),
        ptu_peak_minute: sizing.deployable(
            load.peak_calls_per_min as f64 * per_call * (1.0 + headroom) / sizing.input_tpm_per_ptu,
        ),
        payg_tpm_needed,
        payg_count_with_headroom: payg_tpm.map(|tpm| {
            (payg_tpm_needed * (1.0 + headroom) / tpm as f64)
                .ceil()
                .max(1.0) as u32
        }),
    }
}
