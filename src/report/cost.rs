//! What a strategy's run costs, from the scenario's `[costs]` prices. Pure arithmetic; no
//! price is built in (every price defaults to 0).
//!
//! Billing rules:
//! - **PTU**: a provisioned deployment costs `PTUs × price per PTU-hour × run hours`, whether
//!   it is used or not (provisioned capacity accrues by the hour).
//! - **PAYG**: tokens are billed at the deployment that served them (`served_by` after a
//!   spillover, otherwise the final backend), only when that deployment is pay-as-you-go
//!   (0 PTUs), and only for requests that completed successfully with usage. 429s, 5xx,
//!   timeouts and connection errors are not billed (Azure does not bill throttled calls; a
//!   client-side timeout on a request the backend still finished is a known under-count).
//!
//! ```toml
//! [costs]
//! ptu_per_hour = 1.0            # price per PTU-hour (default for every PTU deployment)
//! payg_input_per_1k = 0.0025    # price per 1,000 prompt tokens (default)
//! payg_output_per_1k = 0.01     # price per 1,000 completion tokens (default)
//! [costs.deployments.payg-west] # per-deployment overrides, all optional
//! payg_input_per_1k = 0.003
//! [costs.ptu.global]            # the planner's PTU prices per deployment type (global,
//! hourly = 1.0                  # data-zone, regional), per PTU: hourly, 1-month and
//! monthly_reservation = 260.0   # 1-year reservation; `throttlebox plan` compares them.
//! yearly_reservation = 2652.0   # A run's summary bills PTU hours at `ptu_per_hour`.
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ReportError;
use super::labels::BackendInfo;

/// The scenario's `[costs]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    /// Price per PTU-hour.
    #[serde(default)]
    pub ptu_per_hour: f64,
    /// Price per 1,000 prompt tokens on a PAYG deployment.
    #[serde(default)]
    pub payg_input_per_1k: f64,
    /// Price per 1,000 completion tokens on a PAYG deployment.
    #[serde(default)]
    pub payg_output_per_1k: f64,
    /// Per-deployment overrides, by deployment name.
    #[serde(default)]
    pub deployments: BTreeMap<String, DeploymentPrices>,
    /// The planner's PTU prices per deployment type (`[costs.ptu.global]` …).
    #[serde(default, skip_serializing_if = "PtuPriceTable::is_empty")]
    pub ptu: PtuPriceTable,
}

/// `[costs.ptu]`: PTU prices per deployment type; reservations are bought per type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PtuPriceTable {
    /// Global provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<PtuPrices>,
    /// Data Zone provisioned.
    #[serde(
        default,
        rename = "data-zone",
        alias = "data_zone",
        skip_serializing_if = "Option::is_none"
    )]
    pub data_zone: Option<PtuPrices>,
    /// Regional provisioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regional: Option<PtuPrices>,
}

impl PtuPriceTable {
    /// No type is priced.
    pub fn is_empty(&self) -> bool {
        self.global.is_none() && self.data_zone.is_none() && self.regional.is_none()
    }

    /// The types with prices, as (`[costs.ptu]` key, prices).
    pub fn entries(&self) -> impl Iterator<Item = (&'static str, &PtuPrices)> {
        [
            ("global", &self.global),
            ("data-zone", &self.data_zone),
            ("regional", &self.regional),
        ]
        .into_iter()
        .filter_map(|(key, prices)| prices.as_ref().map(|prices| (key, prices)))
    }
}

/// One deployment type's PTU prices (per PTU); an unset one is not offered to the planner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PtuPrices {
    /// Per PTU-hour, billed hourly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly: Option<f64>,
    /// Per PTU per month on a 1-month reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_reservation: Option<f64>,
    /// Per PTU per year on a 1-year reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yearly_reservation: Option<f64>,
}

/// Prices of one deployment; unset ones fall back to the `[costs]` defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentPrices {
    /// Price per PTU-hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptu_per_hour: Option<f64>,
    /// Price per 1,000 prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payg_input_per_1k: Option<f64>,
    /// Price per 1,000 completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payg_output_per_1k: Option<f64>,
}

/// Tokens a deployment served (and, for PAYG, bills).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Prompt tokens.
    pub input: u64,
    /// Completion tokens.
    pub output: u64,
}

/// A run's cost, split by billing model and by deployment (same order as the backends).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostBreakdown {
    /// Provisioned (PTU) cost.
    pub ptu: f64,
    /// Pay-as-you-go token cost.
    pub payg: f64,
    /// `ptu + payg`.
    pub total: f64,
    /// Cost per deployment.
    pub per_backend: Vec<f64>,
}

impl CostConfig {
    /// Refuse negative or non-finite prices and overrides for deployments the run lacks.
    pub fn validate(&self, backends: &[BackendInfo]) -> Result<(), ReportError> {
        check_price("costs.ptu_per_hour", self.ptu_per_hour)?;
        check_price("costs.payg_input_per_1k", self.payg_input_per_1k)?;
        check_price("costs.payg_output_per_1k", self.payg_output_per_1k)?;
        for (kind, prices) in self.ptu.entries() {
            check_optional_prices(
                &format!("costs.ptu.{kind}"),
                [
                    ("hourly", prices.hourly),
                    ("monthly_reservation", prices.monthly_reservation),
                    ("yearly_reservation", prices.yearly_reservation),
                ],
            )?;
        }
        for (name, prices) in &self.deployments {
            if !backends.iter().any(|backend| &backend.name == name) {
                return Err(ReportError::Invalid {
                    field: format!("costs.deployments.{name}"),
                    reason: "no deployment of that name in the scenario".to_string(),
                });
            }
            check_optional_prices(
                &format!("costs.deployments.{name}"),
                [
                    ("ptu_per_hour", prices.ptu_per_hour),
                    ("payg_input_per_1k", prices.payg_input_per_1k),
                    ("payg_output_per_1k", prices.payg_output_per_1k),
                ],
            )?;
        }
        Ok(())
    }

    fn prices_for(&self, name: &str) -> (f64, f64, f64) {
        let overrides = self.deployments.get(name);
        let pick = |get: fn(&DeploymentPrices) -> Option<f64>, default: f64| {
            overrides.and_then(get).unwrap_or(default)
        };
        (
            pick(|p| p.ptu_per_hour, self.ptu_per_hour),
            pick(|p| p.payg_input_per_1k, self.payg_input_per_1k),
            pick(|p| p.payg_output_per_1k, self.payg_output_per_1k),
        )
    }
}

fn check_optional_prices(table: &str, prices: [(&str, Option<f64>); 3]) -> Result<(), ReportError> {
    for (field, value) in prices {
        if let Some(value) = value {
            check_price(&format!("{table}.{field}"), value)?;
        }
    }
    Ok(())
}

fn check_price(field: &str, value: f64) -> Result<(), ReportError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(ReportError::Invalid {
            field: field.to_string(),
            reason: format!("{value} is not a non-negative price"),
        })
    }
}

/// The cost of a run of length `run` in which deployment `i` served `served[i]` tokens
/// (missing entries count as none). See the module doc for the billing rules.
pub fn cost(
    config: &CostConfig,
    backends: &[BackendInfo],
    served: &[TokenUsage],
    run: Duration,
) -> CostBreakdown {
    let hours = run.as_secs_f64() / 3600.0;
    let mut breakdown = CostBreakdown::default();
    for (index, backend) in backends.iter().enumerate() {
        let (ptu_per_hour, input_per_1k, output_per_1k) = config.prices_for(&backend.name);
        let backend_cost = if backend.provisioned_ptus > 0 {
            let ptu = f64::from(backend.provisioned_ptus) * ptu_per_hour * hours;
            breakdown.ptu += ptu;
            ptu
        } else {
            let usage = served.get(index).copied().unwrap_or_default();
            let payg = usage.input as f64 / 1000.0 * input_per_1k
                + usage.output as f64 / 1000.0 * output_per_1k;
            breakdown.payg += payg;
            payg
        };
        breakdown.per_backend.push(backend_cost);
    }
    breakdown.total = breakdown.ptu + breakdown.payg;
    breakdown
}
