//! Capacity planning: for a scenario's workload (grown by `--growth`), search fleet sizes —
//! PTUs in the model's increments and numbers of pay-as-you-go deployments — with the
//! simulator, and report per strategy the cheapest fleets that meet the targets with the
//! required headroom, their cost, the load at which they stop meeting them (the knee), a chart
//! of SLO metrics against load, and the Azure calculator's analytical PTU estimate beside the
//! simulated answer. Owns the target syntax, the PTU sizing defaults, candidate-fleet
//! construction and the plan outputs; it decides nothing inside a run.

pub mod chart;
pub mod error;
pub mod fleet;
pub mod output;
pub mod search;
pub mod sizing;
pub mod target;

pub use error::PlanError;
pub use fleet::{FleetBuilder, FleetShape, scale_load};
pub use output::{PLAN_HTML, PLAN_JSON, PLAN_MD, PLAN_SVG, plan_html, plan_json, plan_markdown};
pub use search::{CurvePoint, FleetResult, PlanConfig, PlanResult, StrategyPlan, plan};
pub use sizing::{AnalyticEstimate, LoadProfile, PtuDeploymentType, PtuSizing, estimate, profile};
pub use target::{Comparison, Target, parse_fraction, parse_targets};
