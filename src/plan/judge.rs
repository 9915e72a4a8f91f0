//! Whether a fleet meets the targets at a load: the strategy's simulated figures against the
//! targets and — for a fleet of PTUs with nowhere to overflow — a PTU capacity that covers the
//! load's sustained demand. A bucket under a small sustained overload fills only after
//! `horizon ÷ overload`, which can outlast the run: the figures then pass a fleet that would
//! throttle in steady state. The demand is the documented formula at the mean rate with no
//! cached tokens (the simulated workload sends none), i.e. exactly what the bucket drains.

use super::fleet::FleetShape;
use super::target::Target;
use crate::report::StrategySummary;

/// The targets and the PTU demand of the load.
#[derive(Debug, Clone, Copy)]
pub struct Judge<'a> {
    /// The targets.
    pub targets: &'a [Target],
    /// Raw PTUs the load drains per unit of load factor.
    demand_per_factor: f64,
}

impl<'a> Judge<'a> {
    /// For a load that drains `raw_ptu_at_planned` PTUs at load factor `planned_factor`.
    pub fn new(targets: &'a [Target], raw_ptu_at_planned: f64, planned_factor: f64) -> Judge<'a> {
        Judge {
            targets,
            demand_per_factor: raw_ptu_at_planned / planned_factor,
        }
    }

    /// Raw PTUs load factor `factor` drains.
    pub fn demand(&self, factor: f64) -> f64 {
        self.demand_per_factor * factor
    }

    /// Whether `shape` can carry load factor `factor` in steady state: it has no PTU, or it
    /// can overflow, or its PTUs cover the sustained demand.
    pub fn sustainable(&self, shape: FleetShape, factor: f64) -> bool {
        shape.ptu == 0 || shape.has_payg() || f64::from(shape.ptu) >= self.demand(factor)
    }

    /// The share of the traffic a PTU fleet with overflow sends to PAYG in steady state at
    /// least: the demand its PTUs cannot drain (0 without PTUs or overflow). A run that ends
    /// before the bucket fills shows less, so PAYG spend is taken at no less than this share.
    pub fn overflow_share(&self, shape: FleetShape, factor: f64) -> f64 {
        let demand = self.demand(factor);
        if shape.ptu == 0 || !shape.has_payg() || demand <= 0.0 {
            return 0.0;
        }
        (1.0 - f64::from(shape.ptu) / demand).max(0.0)
    }

    /// Whether `summary` (the strategy's run of `shape` at `factor`) meets the targets.
    pub fn meets(&self, shape: FleetShape, factor: f64, summary: &StrategySummary) -> bool {
        self.sustainable(shape, factor) && Target::all_met(self.targets, summary)
    }
}
