//! The search: every candidate fleet (PTU sizes × numbers of PAYG deployments) simulated at
//! the planned load plus headroom, the cheapest fleets that meet the targets per strategy, and
//! for each strategy's cheapest fleet the knee — the load at which it stops meeting them
//! (doubling, then bisection) — and a curve of its SLO metrics against load for the chart.
//! Candidates run in parallel on `jobs` threads (`std::thread::scope`), each simulation as
//! deterministic as a `sim` run, and results are gathered in a fixed order.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::error::PlanError;
use super::fleet::{FleetBuilder, FleetShape};
use super::sizing::{AnalyticEstimate, LoadProfile, PtuSizing, estimate, profile};
use super::target::Target;
use crate::report::Summary;
use crate::report::metric::{Figures, figures};
use crate::sim::{StopFlag, run_all_until};

/// Most PTU sizes the search tries (wider steps beyond that).
const MAX_PTU_LEVELS: u32 = 16;
/// Bisection steps of the knee search.
const KNEE_BISECTIONS: u32 = 6;
/// Doublings of the load before the knee search gives up looking for a failing load.
const KNEE_DOUBLINGS: u32 = 5;
/// Loads (× the planned load) of the chart's curve, besides the knee probes.
const CURVE_FACTORS: &[f64] = &[0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0];

/// What to plan for.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// Targets every strategy's fleet must meet.
    pub targets: Vec<Target>,
    /// Workload growth (1.5 = rates × 1.5).
    pub growth: f64,
    /// Spare capacity: fleets must meet the targets at the grown load × (1 + headroom).
    pub headroom: f64,
    /// PTU figures.
    pub sizing: PtuSizing,
    /// Largest PTU size tried (None: twice the analytical estimate with headroom).
    pub ptu_max: Option<u32>,
    /// Most PAYG deployments tried.
    pub max_payg: u32,
    /// PAYG deployment sizes (TPM) to try (empty: the scenario's template's); the analytical
    /// count uses the first.
    pub payg_tpms: Vec<u64>,
    /// Run length of each simulation (None: the scenario's).
    pub duration: Option<String>,
    /// Threads.
    pub jobs: usize,
    /// Raised to stop the search early (no plan then: [`PlanError::Stopped`]).
    pub stop: StopFlag,
}

/// A fleet and how one strategy fared on it at the tested load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetResult {
    /// The fleet.
    pub shape: FleetShape,
    /// `50 PTU + 2 × 100k TPM`.
    pub label: String,
    /// Cost per hour at the tested load (PTU hours + PAYG tokens, from `[costs]`).
    pub cost_per_hour: f64,
    /// Whether every target was met.
    pub meets_targets: bool,
    /// The strategy's figures.
    pub figures: Figures,
}

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

/// The plan for one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyPlan {
    /// Strategy name.
    pub strategy: String,
    /// The cheapest fleet meeting the targets (None: no candidate did).
    pub best: Option<FleetResult>,
    /// Per PTU size, the smallest PAYG count meeting the targets, cheapest first.
    pub fleets: Vec<FleetResult>,
    /// Highest load (× the scenario's) at which the best fleet still meets the targets.
    pub knee_factor: Option<f64>,
    /// The knee in requests per second.
    pub knee_rps: Option<f64>,
    /// `knee / planned load − 1`: the spare capacity the best fleet really has.
    pub headroom: Option<f64>,
    /// Whether the knee search hit its ceiling (the knee is at least this high).
    pub knee_is_lower_bound: bool,
    /// SLO metrics of the best fleet against load.
    pub curve: Vec<CurvePoint>,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanResult {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Targets as given.
    pub targets: Vec<String>,
    /// Workload growth.
    pub growth: f64,
    /// Required headroom.
    pub headroom: f64,
    /// The scenario's request rate (req/s).
    pub base_rate_rps: f64,
    /// The planned rate (× growth).
    pub planned_rate_rps: f64,
    /// The rate candidates were tested at (× growth × (1 + headroom)).
    pub tested_rate_rps: f64,
    /// Model of the sized deployment.
    pub model: String,
    /// PTU figures used.
    pub sizing: PtuSizing,
    /// The workload at the planned load.
    pub load: LoadProfile,
    /// The calculator's answer.
    pub analytical: AnalyticEstimate,
    /// PAYG deployment sizes (TPM) the candidates used (empty: no PAYG template).
    pub payg_tpms: Vec<u64>,
    /// Candidate fleets simulated.
    pub candidates_simulated: usize,
    /// Strategies left out, with why.
    pub skipped_strategies: Vec<String>,
    /// One plan per strategy.
    pub strategies: Vec<StrategyPlan>,
}

/// Search the fleets of `builder`'s scenario for `config`.
pub fn plan(builder: &FleetBuilder, config: &PlanConfig) -> Result<PlanResult, PlanError> {
    config.sizing.validate()?;
    let payg_tpms: Vec<u64> = if !builder.has_payg() {
        Vec::new()
    } else if config.payg_tpms.is_empty() {
        builder.template_payg_tpm.into_iter().collect()
    } else {
        config.payg_tpms.clone()
    };
    if let Some(zero) = payg_tpms.iter().find(|&&tpm| tpm == 0) {
        return Err(PlanError::input("--payg-tpm", zero, "must be positive"));
    }
    let payg_tpm = payg_tpms.first().copied();
    let probe_shape = FleetShape {
        ptu: if builder.has_ptu() {
            config.sizing.min
        } else {
            0
        },
        payg: u32::from(builder.has_payg()),
        payg_tpm: payg_tpm.unwrap_or(1000),
    };
    let duration = config.duration.as_deref();
    let planned = builder.build(probe_shape, config.growth, None, duration)?;
    let workload = planned.workload()?;
    let run_length = planned.duration(&workload)?;
    let default_completion =
        aoai_mock::model::ModelProfile::resolve(&builder.model, &Default::default())
            .default_completion_estimate;
    let load = profile(&workload, run_length, default_completion)?;
    let analytical = estimate(&load, &config.sizing, config.headroom, payg_tpm);
    let planned_rate = load.calls_per_min / 60.0;
    let base_rate = planned_rate / config.growth;
    let tested_factor = config.growth * (1.0 + config.headroom);

    let ptu_sizes = ptu_sizes(builder, config, &analytical);
    let payg_counts: Vec<u32> = if builder.has_payg() {
        (0..=config.max_payg).collect()
    } else {
        vec![0]
    };
    // Rows: each PTU size with each PAYG size (a PTU-only fleet once, with the first size).
    let row_keys: Vec<(u32, u64, bool)> = ptu_sizes
        .iter()
        .flat_map(|&ptu| {
            let sizes = if payg_tpms.is_empty() {
                vec![0]
            } else {
                payg_tpms.clone()
            };
            sizes
                .into_iter()
                .enumerate()
                .map(move |(index, tpm)| (ptu, tpm, index == 0))
        })
        .collect();
    let evaluate = |shape: FleetShape,
                    factor: f64,
                    strategies: Option<&[String]>|
     -> Result<Summary, PlanError> {
        if config.stop.is_raised() {
            return Err(PlanError::Stopped);
        }
        let scenario = builder.build(shape, factor, strategies, duration)?;
        let run =
            run_all_until(&scenario, None, 1, "plan", &|_| {}, &config.stop).map_err(|source| {
                PlanError::Sim {
                    fleet: shape.label(),
                    source: Box::new(source),
                }
            })?;
        if run.summary.interrupted {
            return Err(PlanError::Stopped);
        }
        Ok(run.summary)
    };
    // Per PTU size, PAYG counts upward until every strategy meets the targets.
    let simulated = AtomicUsize::new(0);
    let rows: Vec<Vec<(FleetShape, Summary)>> =
        parallel_map(&row_keys, config.jobs, |&(ptu, tpm, first)| {
            let mut row = Vec::new();
            for &payg in payg_counts.iter().filter(|&&n| n > 0 || (ptu > 0 && first)) {
                let shape = FleetShape {
                    ptu,
                    payg,
                    payg_tpm: tpm,
                };
                let summary = evaluate(shape, tested_factor, None)?;
                simulated.fetch_add(1, Ordering::Relaxed);
                let all_met = summary
                    .strategies
                    .iter()
                    .all(|s| Target::all_met(&config.targets, s));
                row.push((shape, summary));
                if all_met {
                    break;
                }
            }
            Ok(row)
        })
        .into_iter()
        .collect::<Result<_, PlanError>>()?;

    let hours = run_length.as_secs_f64() / 3600.0;
    let mut strategies: Vec<StrategyPlan> = builder
        .strategies
        .iter()
        .map(|name| cheapest_fleets(name, &rows, &config.targets, hours))
        .collect();
    let knees = parallel_map(&strategies, config.jobs, |plan| {
        let Some(best) = &plan.best else {
            return Ok((None, false, Vec::new()));
        };
        knee_and_curve(
            &plan.strategy,
            best.shape,
            tested_factor,
            config,
            base_rate,
            &evaluate,
        )
    });
    for (plan, knee) in strategies.iter_mut().zip(knees) {
        let (knee_factor, lower_bound, curve) = knee?;
        plan.knee_factor = knee_factor;
        plan.knee_rps = knee_factor.map(|f| f * base_rate);
        plan.headroom = knee_factor.map(|f| f / config.growth - 1.0);
        plan.knee_is_lower_bound = lower_bound;
        plan.curve = curve;
    }
    Ok(PlanResult {
        scenario: planned.name().to_string(),
        seed: planned.file.seed,
        targets: config.targets.iter().map(ToString::to_string).collect(),
        growth: config.growth,
        headroom: config.headroom,
        base_rate_rps: base_rate,
        planned_rate_rps: planned_rate,
        tested_rate_rps: base_rate * tested_factor,
        model: builder.model.clone(),
        sizing: config.sizing,
        load,
        analytical,
        payg_tpms,
        candidates_simulated: simulated.into_inner(),
        skipped_strategies: builder
            .skipped_strategies
            .iter()
            .map(|name| format!("{name} (imports an APIM pool JSON that names its members)"))
            .collect(),
        strategies,
    })
}

fn ptu_sizes(
    builder: &FleetBuilder,
    config: &PlanConfig,
    analytical: &AnalyticEstimate,
) -> Vec<u32> {
    let mut sizes = Vec::new();
    if builder.has_payg() {
        sizes.push(0);
    }
    if !builder.has_ptu() {
        return sizes;
    }
    let sizing = &config.sizing;
    let ceiling = config.ptu_max.unwrap_or_else(|| {
        sizing.deployable(
            f64::from(analytical.ptu_peak_minute.max(analytical.ptu_with_headroom)) * 2.0,
        )
    });
    let levels = (ceiling.saturating_sub(sizing.size(0)) / sizing.increment + 1).max(1);
    let stride = levels.div_ceil(MAX_PTU_LEVELS).max(1);
    let mut index = 0;
    while sizing.size(index) <= ceiling {
        sizes.push(sizing.size(index));
        index += stride;
    }
    if sizes.last() != Some(&ceiling) && ceiling >= sizing.size(0) {
        sizes.push(sizing.deployable(f64::from(ceiling)));
    }
    sizes.dedup();
    sizes
}

fn cheapest_fleets(
    name: &str,
    rows: &[Vec<(FleetShape, Summary)>],
    targets: &[Target],
    hours: f64,
) -> StrategyPlan {
    let result = |shape: FleetShape, summary: &Summary| {
        let strategy = summary.strategies.iter().find(|s| s.name == name)?;
        Some(FleetResult {
            shape,
            label: shape.label(),
            cost_per_hour: if hours > 0.0 {
                strategy.cost.total / hours
            } else {
                0.0
            },
            meets_targets: Target::all_met(targets, strategy),
            figures: figures(strategy),
        })
    };
    let mut fleets: Vec<FleetResult> = rows
        .iter()
        .filter_map(|row| {
            row.iter()
                .filter_map(|(shape, summary)| result(*shape, summary))
                .find(|fleet| fleet.meets_targets)
        })
        .collect();
    fleets.sort_by(|a, b| {
        a.cost_per_hour
            .total_cmp(&b.cost_per_hour)
            .then_with(|| capacity(&a.shape).cmp(&capacity(&b.shape)))
    });
    StrategyPlan {
        strategy: name.to_string(),
        best: fleets.first().cloned(),
        fleets,
        knee_factor: None,
        knee_rps: None,
        headroom: None,
        knee_is_lower_bound: false,
        curve: Vec::new(),
    }
}

/// A fleet's size for tie-breaks: PTUs count as their drain in input TPM would, roughly; the
/// order only matters between fleets of equal cost.
fn capacity(shape: &FleetShape) -> (u64, u32) {
    (
        u64::from(shape.ptu) * 2500 + u64::from(shape.payg) * shape.payg_tpm,
        shape.payg,
    )
}

type KneeAndCurve = (Option<f64>, bool, Vec<CurvePoint>);

/// Simulate a fleet at a load factor, optionally for some strategies only.
type Evaluate<'a> =
    dyn Fn(FleetShape, f64, Option<&[String]>) -> Result<Summary, PlanError> + Sync + 'a;

fn knee_and_curve(
    strategy: &str,
    shape: FleetShape,
    tested_factor: f64,
    config: &PlanConfig,
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
        let met = Target::all_met(&config.targets, result);
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
        probe(factor * config.growth)?;
    }
    points.sort_by(|a, b| a.load_factor.total_cmp(&b.load_factor));
    Ok((Some(low), lower_bound, points))
}

/// `f` over `items` on up to `jobs` threads, results in item order.
fn parallel_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    let result = f(item);
                    if let Ok(mut slot) = slots[index].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .expect("every item is processed once the scope ends")
        })
        .collect()
}
