//! The search: simulate candidate fleets at the planned load plus headroom — a grid of PTU
//! sizes per deployment type with PAYG or spillover overflow, and PAYG-only fleets — refine
//! around each strategy's cheapest fleets down to the increment, price every fleet that meets
//! the targets (PAYG spend simulated at the planned load), and per strategy recommend the
//! cheapest fleet, deployment type and pricing mode, with its knee. Beside it: the documented
//! calculator figures, the break-even loads and the cost-against-load curves, and a check that
//! the run is long enough for the PTU bucket to show an overload of one increment.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::calculator::{
    AnalyticEstimate, LoadProfile, PaygEstimate, estimate, payg_estimate, profile,
};
use super::choose::{
    Choice, FleetResult, ModeChoice, Passing, by_mode, cheapest, cost_fleets, passing_fleets,
};
use super::economics::{BreakEven, CostCurve, UnitEconomics, break_evens, cost_curve};
use super::error::PlanError;
use super::fleet::{FleetBuilder, FleetShape};
use super::judge::Judge;
use super::knee::{CurvePoint, Evaluate, knee_and_curve};
use super::prices::{HOURS_PER_MONTH, PriceBook};
use super::rows::{Anchor, GridSpec, Rows, grid_keys, grid_sizes, refine};
use super::runlength::{RunLength, needed, short_run_warning};
use super::sizing::PtuSizing;
use super::target::Target;
use crate::parallel::parallel_map_all;
use crate::report::Summary;
use crate::sim::{StopFlag, run_all_until};

/// What to plan for.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// Targets every strategy's fleet must meet.
    pub targets: Vec<Target>,
    /// Workload growth (1.5 = rates × 1.5).
    pub growth: f64,
    /// Spare capacity: fleets must meet the targets at the grown load × (1 + headroom).
    pub headroom: f64,
    /// PTU figures, one per deployment type planned.
    pub sizings: Vec<PtuSizing>,
    /// Share of prompt tokens served from the prompt cache, for the calculator figures (the
    /// simulated workload sends none).
    pub cache_hit_rate: f64,
    /// Prices.
    pub prices: PriceBook,
    /// Largest PTU size tried (None: twice the calculator's figure with headroom).
    pub ptu_max: Option<u32>,
    /// Most PAYG deployments tried.
    pub max_payg: u32,
    /// PAYG deployment sizes (TPM) to try (empty: the scenario's template's); the analytical
    /// count uses the first.
    pub payg_tpms: Vec<u64>,
    /// Whether PTU fleets may spill over to a standard deployment in their resource.
    pub spillover: bool,
    /// Run length of each simulation (None: the scenario's, lengthened when too short).
    pub duration: Option<String>,
    /// Threads.
    pub jobs: usize,
    /// Raised by SIGINT/SIGTERM: the search stops with [`PlanError::Stopped`].
    pub stop: StopFlag,
}

/// The plan for one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyPlan {
    /// Strategy name.
    pub strategy: String,
    /// The cheapest fleet, type and pricing mode meeting the targets (None: no candidate did).
    pub recommendation: Option<Choice>,
    /// The cheapest per pricing mode.
    pub by_mode: Vec<ModeChoice>,
    /// Fleets meeting the targets (the first of each row), cheapest first.
    pub fleets: Vec<FleetResult>,
    /// Highest load (× the scenario's) at which the recommended fleet still meets the targets.
    pub knee_factor: Option<f64>,
    /// The knee in requests per second.
    pub knee_rps: Option<f64>,
    /// `knee / planned load − 1`: the spare capacity the recommended fleet really has.
    pub headroom: Option<f64>,
    /// Whether the knee search hit its ceiling (the knee is at least this high).
    pub knee_is_lower_bound: bool,
    /// SLO metrics of the recommended fleet against load.
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
    /// Cache hit rate the calculator figures assume.
    pub cache_hit_rate: f64,
    /// The scenario's request rate (req/s).
    pub base_rate_rps: f64,
    /// The planned rate (× growth).
    pub planned_rate_rps: f64,
    /// The rate candidates were tested at (× growth × (1 + headroom)).
    pub tested_rate_rps: f64,
    /// Model of the sized deployment.
    pub model: String,
    /// Where the model's PTU figures come from.
    pub model_source: Option<String>,
    /// PTU figures per deployment type.
    pub sizings: Vec<PtuSizing>,
    /// The workload at the planned load.
    pub load: LoadProfile,
    /// The calculator's answers per deployment type.
    pub analytical: Vec<AnalyticEstimate>,
    /// The PAYG count the admission estimate gives (None: no PAYG template).
    pub payg_estimate: Option<PaygEstimate>,
    /// Prices used.
    pub prices: PriceBook,
    /// How long candidates ran and whether that was enough.
    pub run: RunLength,
    /// PAYG deployment sizes (TPM) the candidates used (empty: no PAYG template).
    pub payg_tpms: Vec<u64>,
    /// Whether spillover fleets were candidates.
    pub spillover: bool,
    /// Candidate fleets simulated at the tested load.
    pub candidates_simulated: usize,
    /// The PTU sizes those had: the grid and the refinement around the cheapest.
    pub ptu_sizes_simulated: Vec<u32>,
    /// Raw PTUs the tested load drains in steady state (PTU-only fleets below it are refused).
    pub sustained_ptu_at_tested: f64,
    /// Strategies left out, with why.
    pub skipped_strategies: Vec<String>,
    /// One plan per strategy.
    pub strategies: Vec<StrategyPlan>,
    /// Loads above which formula-sized PTUs cost no more than PAYG.
    pub break_even: Vec<BreakEven>,
    /// Monthly cost against load (None: no deployment type is priced).
    pub cost_curve: Option<CostCurve>,
}

/// Search the fleets of `builder`'s scenario for `config`.
pub fn plan(builder: &FleetBuilder, config: &PlanConfig) -> Result<PlanResult, PlanError> {
    for sizing in &config.sizings {
        sizing.validate()?;
    }
    if !(0.0..1.0).contains(&config.cache_hit_rate) {
        return Err(PlanError::input(
            "--cache-hit-rate",
            config.cache_hit_rate,
            "must be at least 0% and below 100%",
        ));
    }
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
    let probe = FleetShape::pool(
        config
            .sizings
            .first()
            .filter(|_| builder.has_ptu())
            .map_or(0, |s| s.min),
        u32::from(builder.has_payg()),
        payg_tpms.first().copied().unwrap_or(1000),
    );
    let (load, run, duration, planned) = load_and_run_length(builder, config, probe)?;
    let analytical: Vec<AnalyticEstimate> = config
        .sizings
        .iter()
        .map(|sizing| estimate(&load, sizing, config.cache_hit_rate, config.headroom))
        .collect();
    let payg_estimate = payg_tpms
        .first()
        .map(|&tpm| payg_estimate(&load, config.headroom, tpm));
    let planned_rate = load.calls_per_min / 60.0;
    let base_rate = planned_rate / config.growth;
    let tested_factor = config.growth * (1.0 + config.headroom);

    let duration = duration.as_deref();
    let evaluate =
        |shape: FleetShape, factor: f64, only: Option<&[String]>| -> Result<Summary, PlanError> {
            if config.stop.is_raised() {
                return Err(PlanError::Stopped);
            }
            let scenario = builder.build(shape, factor, only, duration)?;
            let run = run_all_until(&scenario, None, 1, "plan", &|_| {}, &config.stop).map_err(
                |source| PlanError::Sim {
                    fleet: shape.label(),
                    source: Box::new(source),
                },
            )?;
            if run.summary.interrupted {
                return Err(PlanError::Stopped);
            }
            Ok(run.summary)
        };
    let at_tested = |shape: FleetShape| evaluate(shape, tested_factor, None);
    let judge = Judge::new(
        &config.targets,
        config.sizings.first().map_or(0.0, |sizing| {
            load.calculate(load.calls_per_min, 0.0, sizing).ptu_raw
        }),
        config.growth,
    );
    let rows = Rows::new(&at_tested, judge, tested_factor, config.max_payg);
    let sizings: &[PtuSizing] = if builder.has_ptu() {
        &config.sizings
    } else {
        &[]
    };
    let ceiling = config.ptu_max.unwrap_or_else(|| {
        analytical
            .iter()
            .map(|a| a.calculator_with_headroom.ptu.saturating_mul(2))
            .max()
            .unwrap_or(0)
    });
    let spillover = config.spillover && builder.can_spill_over() && !payg_tpms.is_empty();
    let spec = GridSpec {
        sizings,
        ceiling,
        payg_tpms: &payg_tpms,
        spillover,
    };
    rows.fill(&grid_keys(&spec), config.jobs)?;

    // Refine below every strategy's cheapest PTU fleets, per type and mode.
    let grid = grid_sizes(sizings, ceiling);
    let hours = run.seconds / 3600.0;
    let anchors = anchors(builder, config, &rows, sizings, hours);
    parallel_map_all(&anchors, config.jobs, |anchor| refine(&rows, anchor, &grid))?
        .into_iter()
        .collect::<Result<(), PlanError>>()?;

    // PAYG spend of every passing fleet at the planned load.
    let mut shapes: Vec<FleetShape> = builder
        .strategies
        .iter()
        .flat_map(|name| passing_fleets(name, &rows, hours))
        .map(|passing| passing.shape)
        .filter(FleetShape::has_payg)
        .collect();
    shapes.sort_unstable();
    shapes.dedup();
    let spends = parallel_map_all(&shapes, config.jobs, |&shape| {
        evaluate(shape, config.growth, None)
    })?;
    // Steady state: PAYG takes at least the demand the PTUs cannot drain.
    let payg_all_per_hour = config
        .prices
        .payg_per_call(load.mean_prompt_tokens, load.mean_output_tokens)
        * load.calls_per_min
        * 60.0;
    let mut spend: BTreeMap<(FleetShape, String), f64> = BTreeMap::new();
    for (shape, summary) in shapes.iter().zip(spends) {
        let summary = summary?;
        let floor = judge.overflow_share(*shape, config.growth) * payg_all_per_hour;
        for strategy in &summary.strategies {
            spend.insert(
                (*shape, strategy.name.clone()),
                (strategy.cost.payg / hours).max(floor),
            );
        }
    }

    let mut strategies: Vec<StrategyPlan> = builder
        .strategies
        .iter()
        .map(|name| {
            let spend_of: BTreeMap<FleetShape, f64> = spend
                .iter()
                .filter(|((_, strategy), _)| strategy == name)
                .map(|((shape, _), value)| (*shape, *value))
                .collect();
            let fleets = cost_fleets(
                passing_fleets(name, &rows, hours),
                &spend_of,
                &config.prices,
                sizings,
            );
            StrategyPlan {
                strategy: name.clone(),
                recommendation: cheapest(&fleets, None),
                by_mode: by_mode(&fleets, &config.prices),
                fleets,
                knee_factor: None,
                knee_rps: None,
                headroom: None,
                knee_is_lower_bound: false,
                curve: Vec::new(),
            }
        })
        .collect();
    let knees = parallel_map_all(&strategies, config.jobs, |plan| {
        let Some(choice) = &plan.recommendation else {
            return Ok((None, false, Vec::new()));
        };
        knee_and_curve(
            &plan.strategy,
            choice.fleet.shape,
            tested_factor,
            config.growth,
            &judge,
            base_rate,
            &evaluate as &Evaluate<'_>,
        )
    })?;
    for (plan, knee) in strategies.iter_mut().zip(knees) {
        let (knee_factor, lower_bound, curve) = knee?;
        plan.knee_factor = knee_factor;
        plan.knee_rps = knee_factor.map(|f| f * base_rate);
        plan.headroom = knee_factor.map(|f| f / config.growth - 1.0);
        plan.knee_is_lower_bound = lower_bound;
        plan.curve = curve;
    }
    let mut run = run;
    recheck_run_length(&mut run, builder, sizings, &strategies);
    let (break_even, cost_curve) = economics(config, &load, &strategies, planned_rate);
    Ok(PlanResult {
        scenario: planned.name().to_string(),
        seed: planned.file.seed,
        targets: config.targets.iter().map(ToString::to_string).collect(),
        growth: config.growth,
        headroom: config.headroom,
        cache_hit_rate: config.cache_hit_rate,
        base_rate_rps: base_rate,
        planned_rate_rps: planned_rate,
        tested_rate_rps: base_rate * tested_factor,
        model: builder.model.clone(),
        model_source: aoai_mock::model::model_entry(&builder.model).and_then(|row| {
            aoai_mock::model::model_source(&row.ptu_source).map(|source| {
                format!(
                    "{}{}",
                    source,
                    row.note
                        .as_ref()
                        .map_or(String::new(), |note| format!(" ({note})"))
                )
            })
        }),
        sizings: config.sizings.clone(),
        load,
        analytical,
        payg_estimate,
        prices: config.prices.clone(),
        run,
        payg_tpms,
        spillover,
        candidates_simulated: rows.fleets_simulated(),
        ptu_sizes_simulated: rows.ptu_sizes(),
        sustained_ptu_at_tested: judge.demand(tested_factor),
        skipped_strategies: builder
            .skipped_strategies
            .iter()
            .map(|name| format!("{name} (imports an APIM pool JSON that names its members)"))
            .collect(),
        strategies,
        break_even,
        cost_curve,
    })
}

/// The planned workload's profile, the run length (lengthened when too short and allowed),
/// the `--duration` candidates run with, and the planned scenario.
fn load_and_run_length(
    builder: &FleetBuilder,
    config: &PlanConfig,
    probe: FleetShape,
) -> Result<
    (
        LoadProfile,
        RunLength,
        Option<String>,
        crate::scenario::Scenario,
    ),
    PlanError,
> {
    let default_completion =
        aoai_mock::model::ModelProfile::resolve(&builder.model, &Default::default())
            .default_completion_estimate;
    let measure = |duration: Option<&str>| -> Result<_, PlanError> {
        let planned = builder.build(probe, config.growth, None, duration)?;
        let workload = planned.workload()?;
        let length = planned.duration(&workload)?;
        let load = profile(&workload, length, default_completion)?;
        Ok((planned, load, length))
    };
    let (mut planned, mut load, scenario_length) = measure(config.duration.as_deref())?;
    // The size to resolve: the calculator's figure with headroom, on the finest type.
    let horizon = builder.ptu_horizon();
    let (need, size, increment) = if builder.has_ptu() {
        config
            .sizings
            .iter()
            .map(|sizing| {
                let size = estimate(&load, sizing, 0.0, config.headroom)
                    .calculator_with_headroom
                    .ptu;
                (
                    needed(horizon, size, sizing.increment),
                    size,
                    sizing.increment,
                )
            })
            .max()
            .unwrap_or((needed(horizon, 0, 0), 0, 0))
    } else {
        (super::runlength::WARM_UP, 0, 0)
    };
    let mut run = RunLength {
        seconds: scenario_length.as_secs_f64(),
        scenario_seconds: scenario_length.as_secs_f64(),
        needed_seconds: need.as_secs_f64(),
        lengthened: false,
        warnings: Vec::new(),
    };
    let mut duration = config.duration.clone();
    if scenario_length < need {
        if config.duration.is_none() && !builder.is_trace() {
            let text = format!("{}s", need.as_secs());
            (planned, load, _) = measure(Some(&text))?;
            run.seconds = need.as_secs_f64();
            run.lengthened = true;
            duration = Some(text);
        } else {
            run.warnings.push(short_run_warning(
                scenario_length,
                need,
                horizon,
                size,
                increment,
            ));
        }
    }
    Ok((load, run, duration, planned))
}

/// Warn when a recommended PTU size needs a longer run than the plan had (these replace the
/// warning made from the calculator's estimate before the search).
fn recheck_run_length(
    run: &mut RunLength,
    builder: &FleetBuilder,
    sizings: &[PtuSizing],
    strategies: &[StrategyPlan],
) {
    let length = Duration::from_secs_f64(run.seconds);
    if strategies.iter().any(|plan| {
        plan.recommendation
            .as_ref()
            .is_some_and(|choice| choice.fleet.shape.ptu > 0)
    }) {
        run.warnings.clear();
    }
    for plan in strategies {
        let Some(choice) = &plan.recommendation else {
            continue;
        };
        let Some(sizing) = sizings
            .iter()
            .find(|s| Some(s.kind) == choice.cost.deployment_type)
        else {
            continue;
        };
        let ptu = choice.fleet.shape.ptu;
        let need = needed(builder.ptu_horizon(), ptu, sizing.increment);
        if need > length {
            let warning =
                short_run_warning(length, need, builder.ptu_horizon(), ptu, sizing.increment);
            if !run.warnings.contains(&warning) {
                run.warnings.push(warning);
            }
        }
    }
}

/// What to refine below, per strategy and type: the cheapest fleet with PTUs in every priced
/// mode (PAYG spend taken at the tested load) and the smallest PTU-only fleet.
fn anchors(
    builder: &FleetBuilder,
    config: &PlanConfig,
    rows: &Rows<'_>,
    sizings: &[PtuSizing],
    hours: f64,
) -> Vec<Anchor> {
    let mut anchors = Vec::new();
    for name in &builder.strategies {
        let passing = passing_fleets(name, rows, hours);
        for sizing in sizings {
            let on_type = || {
                passing
                    .iter()
                    .filter(|p| p.shape.ptu > 0 && sizing.fits(p.shape.ptu))
            };
            let mut picks: Vec<&Passing> = config
                .prices
                .rates(sizing.kind)
                .filter_map(|rate| {
                    let cost = |p: &Passing| {
                        f64::from(p.shape.ptu) * rate.per_ptu_month
                            + p.payg_per_hour_tested * HOURS_PER_MONTH
                    };
                    on_type().min_by(|a, b| {
                        cost(a)
                            .total_cmp(&cost(b))
                            .then_with(|| a.shape.cmp(&b.shape))
                    })
                })
                .collect();
            picks.extend(
                on_type()
                    .filter(|p| !p.shape.has_payg())
                    .min_by_key(|p| p.shape),
            );
            anchors.extend(picks.into_iter().map(|p| Anchor {
                strategy: name.clone(),
                sizing: *sizing,
                shape: p.shape,
                key: p.key,
            }));
        }
    }
    anchors.sort_by(|a, b| {
        (a.sizing.kind, a.shape, &a.strategy).cmp(&(b.sizing.kind, b.shape, &b.strategy))
    });
    anchors.dedup_by(|a, b| {
        a.sizing.kind == b.sizing.kind && a.shape == b.shape && a.strategy == b.strategy
    });
    anchors
}

/// Break-even loads, and the cost curves on the recommended type (else the first priced one).
fn economics(
    config: &PlanConfig,
    load: &LoadProfile,
    strategies: &[StrategyPlan],
    planned_rate: f64,
) -> (Vec<BreakEven>, Option<CostCurve>) {
    let break_even = break_evens(
        load,
        &config.sizings,
        config.cache_hit_rate,
        config.headroom,
        &config.prices,
    );
    let kind = strategies
        .iter()
        .filter_map(|s| s.recommendation.as_ref()?.cost.deployment_type)
        .next();
    let sizing = config
        .sizings
        .iter()
        .find(|s| Some(s.kind) == kind)
        .or_else(|| {
            config
                .sizings
                .iter()
                .find(|s| config.prices.rates(s.kind).next().is_some())
        });
    let curve = sizing.map(|sizing| {
        let units = UnitEconomics::new(
            load,
            sizing,
            config.cache_hit_rate,
            config.headroom,
            &config.prices,
        );
        let furthest_break_even = break_even
            .iter()
            .filter(|b| b.deployment_type == sizing.kind)
            .filter_map(|b| b.load_rps)
            .fold(0.0, f64::max);
        let max_rps =
            (planned_rate * 2.5).max((furthest_break_even * 1.25).min(planned_rate * 5.0));
        cost_curve(&units, sizing, &config.prices, planned_rate, max_rps)
    });
    (break_even, curve)
}
