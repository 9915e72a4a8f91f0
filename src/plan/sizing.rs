//! PTU sizing figures: the deployment types (Global, Data Zone, Regional), and per type the
//! figures a plan sizes with — input TPM per PTU and output weight from the model table (with
//! the deployment's overrides, so the estimate and the simulation agree), and the minimum and
//! increment that make a size deployable. Sizes round up as Microsoft's calculator rounds:
//! `max(minimum, ceil(raw / increment) × increment)`.

use serde::Serialize;

use aoai_mock::config::ModelOverrides;
use aoai_mock::model::{ModelProfile, model_entry};

use super::error::PlanError;

/// Where a PTU deployment lives: it sets the minimum, the increment and the price, and
/// reservations are bought per type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum PtuDeploymentType {
    /// Global provisioned.
    Global,
    /// Data Zone provisioned.
    DataZone,
    /// Regional provisioned.
    Regional,
}

impl PtuDeploymentType {
    /// Every type, in the order plans list them.
    pub const ALL: [PtuDeploymentType; 3] = [
        PtuDeploymentType::Global,
        PtuDeploymentType::DataZone,
        PtuDeploymentType::Regional,
    ];

    /// The `[costs.ptu]` key: `global`, `data-zone`, `regional`.
    pub fn key(self) -> &'static str {
        match self {
            PtuDeploymentType::Global => "global",
            PtuDeploymentType::DataZone => "data-zone",
            PtuDeploymentType::Regional => "regional",
        }
    }

    /// `Global Provisioned`.
    pub fn label(self) -> &'static str {
        match self {
            PtuDeploymentType::Global => "Global Provisioned",
            PtuDeploymentType::DataZone => "Data Zone Provisioned",
            PtuDeploymentType::Regional => "Regional Provisioned",
        }
    }
}

/// Rounding slack: a raw figure within this of a step counts as on it (floating-point noise
/// must not add an increment).
const ON_STEP: f64 = 1e-9;

/// The PTU figures a plan uses for one deployment type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PtuSizing {
    /// The deployment type.
    pub kind: PtuDeploymentType,
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
    /// The defaults for `model` on `kind`: throughput and output weight from the model table
    /// (with the deployment's overrides), minimum and increment from the model's row (15/5
    /// global and data zone, 50/50 regional for a model whose row publishes none).
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
            kind,
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

    /// `raw` PTUs rounded up to the increment, and at least the minimum.
    pub fn deployable(&self, raw: f64) -> u32 {
        let increment = f64::from(self.increment);
        let steps = (raw / increment - ON_STEP).ceil().max(0.0);
        ((steps * increment) as u32).max(self.min)
    }

    /// Whether `ptu` can be deployed as is.
    pub fn fits(&self, ptu: u32) -> bool {
        ptu == self.min || (ptu > self.min && ptu % self.increment == 0)
    }

    /// The `index`-th deployable size: 0 → the minimum, then the multiples of the increment
    /// above it.
    pub fn size(&self, index: u32) -> u32 {
        if index == 0 {
            return self.min;
        }
        let first = (self.min / self.increment + 1) * self.increment;
        first + (index - 1) * self.increment
    }

    /// The index of the largest deployable size at most `ptu` (None: below the minimum).
    pub fn index_at_most(&self, ptu: u32) -> Option<u32> {
        if ptu < self.min {
            return None;
        }
        let first = (self.min / self.increment + 1) * self.increment;
        Some(if ptu < first {
            0
        } else {
            (ptu - first) / self.increment + 1
        })
    }
}
