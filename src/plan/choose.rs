//! From simulated rows to answers: per strategy, the fleets that meet the targets (the first
//! of each row), what each costs under every deployment type and pricing mode at the planned
//! load, the cheapest per pricing mode, and the cheapest of all — the recommendation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fleet::FleetShape;
use super::prices::{FleetCost, PriceBook, PricingMode, fleet_costs};
use super::rows::{RowKey, Rows};
use super::sizing::PtuSizing;
use crate::report::metric::{Figures, figures};

/// A fleet that meets one strategy's targets at the tested load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetResult {
    /// The fleet.
    pub shape: FleetShape,
    /// `50 PTU + 2 × 100k TPM`.
    pub label: String,
    /// The strategy's figures at the tested load.
    pub figures: Figures,
    /// Pay-as-you-go spend per hour at the planned load: simulated, and no less than the
    /// steady-state share of the demand its PTUs cannot drain.
    pub payg_per_hour: f64,
    /// Its cost under every deployment type and pricing mode it can be bought in.
    pub costs: Vec<FleetCost>,
}

impl FleetResult {
    /// Its cheapest cost.
    pub fn cheapest(&self) -> Option<&FleetCost> {
        self.costs
            .iter()
            .min_by(|a, b| a.total.per_month.total_cmp(&b.total.per_month))
    }
}

/// A fleet bought one way: the answer to "what should we deploy and how do we pay".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// The fleet.
    pub fleet: FleetResult,
    /// How it is bought and what it costs.
    pub cost: FleetCost,
}

/// The cheapest fleet when PTUs are paid in one mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeChoice {
    /// The pricing mode.
    pub mode: PricingMode,
    /// The cheapest fleet in it (a PAYG-only fleet when PTUs do not pay off).
    pub choice: Choice,
}

/// A fleet that met a strategy's targets in its row.
#[derive(Debug, Clone)]
pub struct Passing {
    /// The fleet.
    pub shape: FleetShape,
    /// The row it is the first passing fleet of.
    pub key: RowKey,
    /// The strategy's figures at the tested load.
    pub figures: Figures,
    /// PAYG spend per hour at the tested load (the planned load's is simulated later).
    pub payg_per_hour_tested: f64,
}

/// For `strategy`, the first fleet of each row of `rows` that meets the targets; runs last
/// `hours`.
pub fn passing_fleets(strategy: &str, rows: &Rows<'_>, hours: f64) -> Vec<Passing> {
    rows.all()
        .iter()
        .filter_map(|(key, row)| {
            row.iter().find_map(|(shape, summary)| {
                let result = summary.strategies.iter().find(|s| s.name == strategy)?;
                rows.meets(*shape, summary, strategy).then(|| Passing {
                    shape: *shape,
                    key: *key,
                    figures: figures(result),
                    payg_per_hour_tested: result.cost.payg / hours,
                })
            })
        })
        .collect()
}

/// Cost the passing fleets: `payg_per_hour` gives each shape's PAYG spend at the planned load.
pub fn cost_fleets(
    passing: Vec<Passing>,
    payg_per_hour: &BTreeMap<FleetShape, f64>,
    book: &PriceBook,
    sizings: &[PtuSizing],
) -> Vec<FleetResult> {
    let mut fleets: Vec<FleetResult> = passing
        .into_iter()
        .map(|Passing { shape, figures, .. }| {
            let spend = payg_per_hour.get(&shape).copied().unwrap_or(0.0);
            FleetResult {
                shape,
                label: shape.label(),
                figures,
                payg_per_hour: spend,
                costs: fleet_costs(shape.ptu, spend, book, sizings),
            }
        })
        .filter(|fleet| !fleet.costs.is_empty())
        .collect();
    fleets.sort_by(|a, b| order(a, a.cheapest(), b, b.cheapest()));
    fleets
}

fn order(
    a: &FleetResult,
    a_cost: Option<&FleetCost>,
    b: &FleetResult,
    b_cost: Option<&FleetCost>,
) -> std::cmp::Ordering {
    let month = |cost: Option<&FleetCost>| cost.map_or(f64::INFINITY, |c| c.total.per_month);
    month(a_cost)
        .total_cmp(&month(b_cost))
        .then_with(|| a.shape.cmp(&b.shape))
}

/// The cheapest way to buy any of `fleets`, optionally with PTUs paid in `mode` only (PAYG-only
/// fleets always qualify).
pub fn cheapest(fleets: &[FleetResult], mode: Option<PricingMode>) -> Option<Choice> {
    fleets
        .iter()
        .flat_map(|fleet| fleet.costs.iter().map(move |cost| (fleet, cost)))
        .filter(|(_, cost)| mode.is_none() || cost.mode.is_none() || cost.mode == mode)
        .min_by(|(a, a_cost), (b, b_cost)| order(a, Some(a_cost), b, Some(b_cost)))
        .map(|(fleet, cost)| Choice {
            fleet: fleet.clone(),
            cost: *cost,
        })
}

/// The cheapest fleet per pricing mode the book prices.
pub fn by_mode(fleets: &[FleetResult], book: &PriceBook) -> Vec<ModeChoice> {
    PricingMode::ALL
        .into_iter()
        .filter(|mode| book.ptu.iter().any(|rate| rate.mode == *mode))
        .filter_map(|mode| cheapest(fleets, Some(mode)).map(|choice| ModeChoice { mode, choice }))
        .collect()
}
