//! The knee of a fleet: the load at which it stops meeting the targets (doubling from the
//! tested load, then bisection), and a curve of its SLO metrics against load for the chart.

use serde::Serialize;

use super::error::PlanError;
use super::fleet::FleetShape;
use super::judge::Judge;
use crate::report::Summary;
use crate::report::metric::{Figures, figures};

/// Bisection steps of the knee search.
const KNEE_BISECTIONS: u32 = 6;
/// Doublings of the load before the knee search gives up looking for a failing load.
const KNEE_DOUBLINGS: u32 = 5;
/// Loads (× the planned load) of the chart's curve, besides the knee probes.
const CURVE_FACTORS: &[f64] = &[0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0];

/// One point of the SLO-against-load curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Load as a multiple of the scenario's load.
    pub load_factor: f64,
    /// Requests per second.
    pub rate_rps: f64,
    /// Whether every target was met.
    pub meets_targets: bool,
    /// The strategy's figures.
    pub figures: Figures,
}

/// The knee (None: not searched), whether it is a lower bound, and the curve.
pub type KneeAndCurve = (Option<f64>, bool, Vec<CurvePoint>);

/// Simulate a fleet at a load factor, optionally for some strategies only.
pub type Evaluate<'a> =
    dyn Fn(FleetShape, f64, Option<&[String]>) -> Result<Summary, PlanError> + Sync + 'a;

/// The knee of `strategy` on `shape` above `tested_factor`, and its curve at `growth` ×
/// [`CURVE_FACTORS`], as `judge` judges; `base_rate` converts factors to requests per second.
pub fn knee_and_curve(
    strategy: &str,
    shape: FleetShape,
    tested_factor: f64,
    growth: f64,
    judge: &Judge<'_>,
    base_rate: f64,
    evaluate: &Evaluate<'_>,
) -> Result<KneeAndCurve, PlanError> {
    let only = [strategy.to_string()];
    let mut points: Vec<CurvePoint> = Vec::new();
    let mut probe = |factor: f64| -> Result<bool, PlanError> {
        if let Some(point) = points
            .iter()
            .find(|p| (p.load_factor - factor).abs() < 1e-12)
        {
            return Ok(point.meets_targets);
        }
        let summary = evaluate(shape, factor, Some(&only))?;
        let Some(result) = summary.strategies.first() else {
            return Ok(false);
        };
        let met = judge.meets(shape, factor, result);
        points.push(CurvePoint {
            load_factor: factor,
            rate_rps: factor * base_rate,
            meets_targets: met,
            figures: figures(result),
        });
        Ok(met)
    };
    let mut low = tested_factor;
    let mut high = None;
    let mut step = tested_factor;
    for _ in 0..KNEE_DOUBLINGS {
        step *= 2.0;
        if probe(step)? {
            low = step;
        } else {
            high = Some(step);
            break;
        }
    }
    let lower_bound = high.is_none();
    if let Some(mut high) = high {
        for _ in 0..KNEE_BISECTIONS {
            let middle = (low + high) / 2.0;
            if probe(middle)? {
                low = middle;
            } else {
                high = middle;
            }
        }
    }
    for factor in CURVE_FACTORS {
        probe(factor * growth)?;
    }
    points.sort_by(|a, b| a.load_factor.total_cmp(&b.load_factor));
    Ok((Some(low), lower_bound, points))
}
