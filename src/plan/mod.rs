//! Capacity planning: for a scenario's workload (grown by `--growth`), search fleets — PTU
//! sizes per deployment type (Global, Data Zone, Regional) in the model's increments, with
//! pay-as-you-go or spillover overflow, and PAYG-only fleets — with the simulator, and report
//! per strategy the cheapest fleet, deployment type and pricing mode (hourly, 1-month or
//! 1-year reservation) that meets the targets with the required headroom, its monthly cost,
//! the load at which it stops meeting them (the knee), Microsoft's documented PTU calculator
//! figures beside the simulated answer, the break-even load between PTU and PAYG, and charts
//! of SLO metrics and of monthly cost against load. Owns the target syntax, the sizing and
//! price figures, candidate-fleet construction and the plan outputs; it decides nothing
//! inside a run.

pub mod calculator;
pub mod chart;
pub mod choose;
pub mod cost_chart;
pub mod economics;
pub mod error;
pub mod fleet;
mod html;
pub mod judge;
pub mod knee;
pub mod output;
pub mod prices;
pub mod recommend;
pub mod rows;
pub mod runlength;
pub mod search;
pub mod sizing;
pub mod target;

pub use calculator::{
    AnalyticEstimate, Calculation, LoadProfile, PaygEstimate, calculate, estimate, payg_estimate,
    profile,
};
pub use choose::{Choice, FleetResult, ModeChoice};
pub use economics::{BreakEven, CostCurve, UnitEconomics, break_even};
pub use error::PlanError;
pub use fleet::{FleetBuilder, FleetShape, Overflow, scale_load};
pub use knee::CurvePoint;
pub use output::{
    PLAN_COST_SVG, PLAN_HTML, PLAN_JSON, PLAN_MD, PLAN_SVG, plan_html, plan_json, plan_markdown,
};
pub use prices::{Cost, FleetCost, PriceBook, PriceOrigin, PricingMode, PtuRate};
pub use runlength::RunLength;
pub use search::{PlanConfig, PlanResult, StrategyPlan, plan};
pub use sizing::{PtuDeploymentType, PtuSizing};
pub use target::{Comparison, Target, parse_fraction, parse_targets};
