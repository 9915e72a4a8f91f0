//! What fleets cost: the plan's price book — PTU prices per deployment type and pricing mode
//! (hourly, 1-month reservation, 1-year reservation) and pay-as-you-go prices per 1,000 tokens —
//! from the scenario's `[costs]`, else from the dated example prices shipped with the planner
//! (`example_prices.toml`, marked as examples wherever they are used); and a fleet's cost per
//! hour, month (730 hours, Azure's month) and year under every priced type and mode.
//!
//! A type priced in `[costs.ptu]` uses exactly the modes given there; when `[costs.ptu]` is
//! absent every type with example prices is offered. Usage above a reservation is billed
//! hourly (Microsoft's billing page), so a reservation is priced for exactly the deployed PTUs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::PlanError;
use super::sizing::{PtuDeploymentType, PtuSizing};
use crate::report::{CostConfig, PtuPrices};

/// Hours in Azure's billing month.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Months in a year.
pub const MONTHS_PER_YEAR: f64 = 12.0;

const EXAMPLE_PRICES: &str = include_str!("example_prices.toml");

/// How PTUs are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PricingMode {
    /// Per PTU-hour, no commitment.
    Hourly,
    /// A 1-month Azure reservation.
    MonthlyReservation,
    /// A 1-year Azure reservation.
    YearlyReservation,
}

impl PricingMode {
    /// Every mode, cheapest commitment first.
    pub const ALL: [PricingMode; 3] = [
        PricingMode::Hourly,
        PricingMode::MonthlyReservation,
        PricingMode::YearlyReservation,
    ];

    /// `hourly`, `1-month reservation`, `1-year reservation`.
    pub fn label(self) -> &'static str {
        match self {
            PricingMode::Hourly => "hourly",
            PricingMode::MonthlyReservation => "1-month reservation",
            PricingMode::YearlyReservation => "1-year reservation",
        }
    }

    /// The `[costs.ptu.<type>]` key.
    pub fn key(self) -> &'static str {
        match self {
            PricingMode::Hourly => "hourly",
            PricingMode::MonthlyReservation => "monthly_reservation",
            PricingMode::YearlyReservation => "yearly_reservation",
        }
    }

    /// A price quoted in this mode's unit (per hour, month or year) as per month.
    pub fn per_month(self, quoted: f64) -> f64 {
        match self {
            PricingMode::Hourly => quoted * HOURS_PER_MONTH,
            PricingMode::MonthlyReservation => quoted,
            PricingMode::YearlyReservation => quoted / MONTHS_PER_YEAR,
        }
    }

    fn quoted(self, prices: &PtuPrices) -> Option<f64> {
        match self {
            PricingMode::Hourly => prices.hourly,
            PricingMode::MonthlyReservation => prices.monthly_reservation,
            PricingMode::YearlyReservation => prices.yearly_reservation,
        }
    }
}

/// Where a price came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum PriceOrigin {
    /// The scenario's `[costs]`.
    Scenario,
    /// The planner's example prices (not a quote).
    Example {
        /// When the example was recorded.
        as_of: String,
        /// Where it comes from.
        source: String,
    },
    /// Nothing priced it.
    Unpriced,
}

impl PriceOrigin {
    /// `scenario [costs]`, `example (2026-03)`.
    pub fn label(&self) -> String {
        match self {
            PriceOrigin::Scenario => "scenario [costs]".to_string(),
            PriceOrigin::Example { as_of, .. } => format!("example as of {as_of}, not a quote"),
            PriceOrigin::Unpriced => "unpriced".to_string(),
        }
    }
}

/// One PTU price: a deployment type in a pricing mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PtuRate {
    /// The deployment type.
    pub deployment_type: PtuDeploymentType,
    /// The pricing mode.
    pub mode: PricingMode,
    /// As quoted: per PTU-hour, per PTU-month or per PTU-year.
    pub quoted: f64,
    /// Per PTU per month.
    pub per_ptu_month: f64,
    /// Where it came from.
    pub origin: PriceOrigin,
}

/// Every price a plan uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceBook {
    /// PTU prices, by type then mode.
    pub ptu: Vec<PtuRate>,
    /// Pay-as-you-go price per 1,000 prompt tokens.
    pub payg_input_per_1k: f64,
    /// Pay-as-you-go price per 1,000 completion tokens.
    pub payg_output_per_1k: f64,
    /// Where the PAYG prices came from.
    pub payg_origin: PriceOrigin,
    /// Currency of the example prices, when any is used.
    pub currency: Option<String>,
    /// What the reader should know about the prices.
    pub notes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExamplePrices {
    as_of: String,
    currency: String,
    ptu: BTreeMap<String, ExamplePtu>,
    payg: BTreeMap<String, ExamplePayg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExamplePtu {
    hourly: f64,
    monthly_reservation: f64,
    yearly_reservation: f64,
    source: String,
}

impl ExamplePtu {
    fn prices(&self) -> PtuPrices {
        PtuPrices {
            hourly: Some(self.hourly),
            monthly_reservation: Some(self.monthly_reservation),
            yearly_reservation: Some(self.yearly_reservation),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExamplePayg {
    input_per_1k: f64,
    output_per_1k: f64,
    source: String,
}

fn examples() -> Result<ExamplePrices, PlanError> {
    toml::from_str(EXAMPLE_PRICES).map_err(|error| PlanError::Output {
        path: "example_prices.toml (embedded)".to_string(),
        message: error.to_string(),
    })
}

impl PriceBook {
    /// The prices for `model` from `costs`, falling back to the dated examples.
    pub fn resolve(costs: &CostConfig, model: &str) -> Result<PriceBook, PlanError> {
        let examples = examples()?;
        let example_origin = |source: &str| PriceOrigin::Example {
            as_of: examples.as_of.clone(),
            source: source.to_string(),
        };
        let mut notes = Vec::new();
        let mut used_example = false;
        let mut ptu = Vec::new();
        for kind in PtuDeploymentType::ALL {
            let (prices, origin) = if costs.ptu.is_empty() {
                match examples.ptu.get(kind.key()) {
                    Some(example) => (example.prices(), example_origin(&example.source)),
                    None => continue,
                }
            } else {
                match costs.ptu.entries().find(|(key, _)| *key == kind.key()) {
                    Some((_, prices)) => (*prices, PriceOrigin::Scenario),
                    None => continue,
                }
            };
            for mode in PricingMode::ALL {
                if let Some(quoted) = mode.quoted(&prices) {
                    used_example |= matches!(origin, PriceOrigin::Example { .. });
                    ptu.push(PtuRate {
                        deployment_type: kind,
                        mode,
                        quoted,
                        per_ptu_month: mode.per_month(quoted),
                        origin: origin.clone(),
                    });
                }
            }
        }
        if costs.ptu.is_empty() {
            notes.push(format!(
                "PTU prices are the planner's examples as of {} (not quotes): give yours in [costs.ptu.global|data-zone|regional] (hourly, monthly_reservation, yearly_reservation).{}",
                examples.as_of,
                if costs.ptu_per_hour > 0.0 {
                    format!(
                        " The scenario's costs.ptu_per_hour = {} is what a run bills PTU hours at; plans price each deployment type and pricing mode from [costs.ptu].",
                        costs.ptu_per_hour
                    )
                } else {
                    String::new()
                }
            ));
        }
        let scenario_payg = costs.payg_input_per_1k > 0.0
            || costs.payg_output_per_1k > 0.0
            || costs
                .deployments
                .values()
                .any(|d| d.payg_input_per_1k.is_some() || d.payg_output_per_1k.is_some());
        let lower = model.to_ascii_lowercase();
        let example_payg =
            aoai_mock::model::model_entry(&lower).and_then(|row| examples.payg.get(&row.name));
        let (payg_input_per_1k, payg_output_per_1k, payg_origin) = match example_payg {
            _ if scenario_payg => (
                costs.payg_input_per_1k,
                costs.payg_output_per_1k,
                PriceOrigin::Scenario,
            ),
            Some(example) => {
                used_example = true;
                notes.push(format!(
                    "Pay-as-you-go prices are the planner's examples for {model} as of {} (not quotes): give yours in [costs] payg_input_per_1k / payg_output_per_1k.",
                    examples.as_of
                ));
                (
                    example.input_per_1k,
                    example.output_per_1k,
                    example_origin(&example.source),
                )
            }
            None => {
                notes.push(format!(
                    "No pay-as-you-go price for {model}: PAYG tokens count as free; give [costs] payg_input_per_1k / payg_output_per_1k."
                ));
                (0.0, 0.0, PriceOrigin::Unpriced)
            }
        };
        Ok(PriceBook {
            ptu,
            payg_input_per_1k,
            payg_output_per_1k,
            payg_origin,
            currency: used_example.then(|| examples.currency.clone()),
            notes,
        })
    }

    /// The deployment types with at least one PTU price.
    pub fn priced_types(&self) -> Vec<PtuDeploymentType> {
        let mut types: Vec<PtuDeploymentType> =
            self.ptu.iter().map(|rate| rate.deployment_type).collect();
        types.dedup();
        types
    }

    /// The prices of `kind`.
    pub fn rates(&self, kind: PtuDeploymentType) -> impl Iterator<Item = &PtuRate> {
        self.ptu
            .iter()
            .filter(move |rate| rate.deployment_type == kind)
    }

    /// The price of `kind` in `mode`.
    pub fn rate(&self, kind: PtuDeploymentType, mode: PricingMode) -> Option<&PtuRate> {
        self.rates(kind).find(|rate| rate.mode == mode)
    }

    /// Pay-as-you-go cost of one call of `prompt` and `output` tokens.
    pub fn payg_per_call(&self, prompt: f64, output: f64) -> f64 {
        prompt / 1000.0 * self.payg_input_per_1k + output / 1000.0 * self.payg_output_per_1k
    }
}

/// A cost per hour, month and year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cost {
    /// Per hour.
    pub per_hour: f64,
    /// Per month (730 hours).
    pub per_month: f64,
    /// Per year (12 months).
    pub per_year: f64,
}

impl Cost {
    /// From a monthly figure.
    pub fn from_month(per_month: f64) -> Cost {
        Cost {
            per_hour: per_month / HOURS_PER_MONTH,
            per_month,
            per_year: per_month * MONTHS_PER_YEAR,
        }
    }
}

/// What a fleet costs under one deployment type and pricing mode (both None for a fleet
/// without PTUs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FleetCost {
    /// The PTU deployment type.
    pub deployment_type: Option<PtuDeploymentType>,
    /// The PTU pricing mode.
    pub mode: Option<PricingMode>,
    /// PTUs per month.
    pub ptu_per_month: f64,
    /// Pay-as-you-go tokens per month at the planned load.
    pub payg_per_month: f64,
    /// The total.
    pub total: Cost,
}

/// A fleet of `ptu` PTUs whose PAYG deployments bill `payg_per_hour` at the planned load,
/// under every type of `sizings` on which `ptu` is deployable and every mode `book` prices.
pub fn fleet_costs(
    ptu: u32,
    payg_per_hour: f64,
    book: &PriceBook,
    sizings: &[PtuSizing],
) -> Vec<FleetCost> {
    let payg_per_month = payg_per_hour * HOURS_PER_MONTH;
    if ptu == 0 {
        return vec![FleetCost {
            deployment_type: None,
            mode: None,
            ptu_per_month: 0.0,
            payg_per_month,
            total: Cost::from_month(payg_per_month),
        }];
    }
    sizings
        .iter()
        .filter(|sizing| sizing.fits(ptu))
        .flat_map(|sizing| book.rates(sizing.kind))
        .map(|rate| {
            let ptu_per_month = f64::from(ptu) * rate.per_ptu_month;
            FleetCost {
                deployment_type: Some(rate.deployment_type),
                mode: Some(rate.mode),
                ptu_per_month,
                payg_per_month,
                total: Cost::from_month(ptu_per_month + payg_per_month),
            }
        })
        .collect()
}
