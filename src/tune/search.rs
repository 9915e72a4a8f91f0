//! The search, in four stages, every decision a function of simulated figures only:
//!
//! 1. **Design and successive halving.** A Latin hypercube of `4 + 8·d` settings (d
//!    parameters) is evaluated cheaply — one seed, a quarter of the run (at least a minute) —
//!    the best third is promoted to two seeds and half the run, and the best third of those to
//!    full fidelity (every seed, the whole run). The cheap rungs are ranked on means.
//! 2. **Refinement.** A coordinate (compass) search from the best full-fidelity setting: try a
//!    step of `Δ` (in unit coordinates; a quarter of each range at first) down and up every
//!    ordered parameter and every other choice; move to the best if it is better, else halve
//!    `Δ`, until `Δ < 1/64` or the budget runs out.
//! 3. **Profiles.** With budget left, `profile_points` settings along each ordered parameter
//!    through the best setting (the others held), for the sensitivity curves.
//! 4. **Robustness** ([`super::robust`]): the best setting that meets the constraints must
//!    have neighbours that meet them too; after a cliff edge, the setting a step back from it
//!    is checked. Budget for one check is kept from the start.
//!
//! Budgets are in simulated requests, fixed before the start, so the same inputs always take
//! the same path; a stop (SIGINT/SIGTERM) ends the search after the simulations in flight, and
//! what was found is kept.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::choice::choose;
use super::design::latin_hypercube;
use super::error::TuneError;
use super::evaluate::{Context, Evaluation, Evaluator, Fidelity, Setting, Stage, arrivals};
use super::judge::{JudgeRule, Objective, rank};
use super::param::Param;
use super::ranking::{by_rank, ranked_full, with_value};
pub use super::robust::Check;
use super::robust::robustness;
use crate::report::bound::Bound;
use crate::scenario::Override;
use crate::sim::StopFlag;
use crate::split::Shard;
use crate::sweep::load_scenario as load;
use crate::sweep::{only_strategies, touched};

/// Smallest refinement step, in unit coordinates.
pub const MIN_STEP: f64 = 1.0 / 64.0;
/// First refinement step.
pub const FIRST_STEP: f64 = 0.25;
/// Share of the settings promoted from one rung of successive halving to the next.
pub const HALVING_KEEP: usize = 3;

/// What to tune.
#[derive(Debug, Clone)]
pub struct TuneRequest {
    /// Scenario file (None: the embedded default).
    pub path: Option<PathBuf>,
    /// `--set` overrides applied first.
    pub fixed: Vec<Override>,
    /// The strategy.
    pub strategy: String,
    /// The parameters.
    pub params: Vec<Param>,
    /// What to optimise.
    pub objective: Objective,
    /// Constraints.
    pub bounds: Vec<Bound>,
    /// How constraints are judged over seeds.
    pub rule: JudgeRule,
    /// Seeds per full evaluation (the scenario's seed, +1, +2, …).
    pub seeds: usize,
    /// Budget in simulated requests.
    pub budget: u64,
    /// Settings per sensitivity profile (0: none).
    pub profile_points: usize,
    /// Threads.
    pub jobs: usize,
    /// Raised to stop.
    pub stop: StopFlag,
    /// Which shard of an independent multi-start split this is ([`Shard::WHOLE`]: unsharded):
    /// shard K starts from the design points at positions K mod N of the unsharded design,
    /// with `budget / N` (rounded down) of the budget.
    pub shard: Shard,
}

/// What a merged tune says about its making.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedFrom {
    /// How many shards were merged.
    pub shards: u32,
    /// Settings meeting the constraints ranked above the recommendation that no shard
    /// neighbourhood-checked (evaluation indices of the merged run), best first.
    pub unchecked_better: Vec<usize>,
}

/// What a tune found.
#[derive(Debug, Clone)]
pub struct TuneRun {
    /// The scenario's name.
    pub scenario: String,
    /// The fixed inputs.
    pub context: Context,
    /// Budget in simulated requests.
    pub budget: u64,
    /// Requests simulated.
    pub used: u64,
    /// Simulations run.
    pub simulations: usize,
    /// Requests of one full-length run at the first seed.
    pub full_run_requests: u64,
    /// The fidelities of successive halving, lowest first (the last is full).
    pub rungs: Vec<Fidelity>,
    /// Points of the whole initial design (a shard starts from its part of them).
    pub design_points: usize,
    /// Every evaluation, in order.
    pub evaluations: Vec<Evaluation>,
    /// The neighbourhood checks made.
    pub checks: Vec<Check>,
    /// The recommended setting's evaluation.
    pub recommended: Option<usize>,
    /// The best setting found (rank first), robust or not.
    pub best: Option<usize>,
    /// The next choice after the recommendation: the best other setting meeting the
    /// constraints that is not a known cliff edge (else any other meeting them).
    pub runner_up: Option<usize>,
    /// Whether a stop ended the search early.
    pub interrupted: bool,
    /// The shard this search was ([`Shard::WHOLE`] for an unsharded one and a merge).
    pub shard: Shard,
    /// A merge of N tune shards: how many, and what the merge had to say.
    pub merged_from: Option<MergedFrom>,
}

impl TuneRun {
    /// The neighbourhood check of evaluation `index`, if made.
    pub fn check_of(&self, index: usize) -> Option<&Check> {
        self.checks.iter().find(|check| check.candidate == index)
    }
}

/// Run the search. `on_progress(requests used)` after each simulation; `on_evaluation` after
/// each evaluation.
pub fn tune(
    request: TuneRequest,
    on_progress: &(dyn Fn(u64) + Sync),
    on_evaluation: &(dyn Fn(&Evaluation, &[Param]) + Sync),
) -> Result<TuneRun, TuneError> {
    if request.params.is_empty() {
        return Err(TuneError::usage(
            "--param",
            "",
            "give at least one --param to tune",
        ));
    }
    if request.seeds == 0 {
        return Err(TuneError::usage("--seeds", 0, "at least one seed"));
    }
    let base = only_strategies(
        &load(request.path.as_deref(), &request.fixed)?,
        std::slice::from_ref(&request.strategy),
    )?;
    let full_duration = base.duration(&base.workload()?)?;
    let context = Context {
        path: request.path.clone(),
        fixed: request.fixed.clone(),
        strategy: request.strategy.clone(),
        params: request.params.clone(),
        seeds: (0..request.seeds as u64)
            .map(|i| base.file.seed.wrapping_add(i))
            .collect(),
        full_duration,
        objective: request.objective,
        bounds: request.bounds.clone(),
        rule: request.rule,
        jobs: request.jobs,
        stop: request.stop.clone(),
    };
    check_params(&context)?;
    let full_run_requests = arrivals(&base)?;
    let shard = request.shard;
    let mut evaluator = Evaluator::new(
        context,
        shard_budget(request.budget, shard),
        full_run_requests,
        on_progress,
        on_evaluation,
    );
    let rungs = rungs(&evaluator.context);
    let full = evaluator.context.full();
    let ordered = evaluator
        .context
        .params
        .iter()
        .filter(|p| p.is_ordered())
        .count();
    let reserve = 2 * ordered as u64 * evaluator.cost(full);
    let design_points = halving(&mut evaluator, &rungs, reserve, request.budget, shard)?;
    refine(&mut evaluator, reserve)?;
    profile(&mut evaluator, request.profile_points, reserve)?;
    let checks = robustness(&mut evaluator)?;
    let mut run = conclude(evaluator, rungs, checks, base.name().to_string(), shard);
    run.design_points = design_points;
    Ok(run)
}

/// Shard `shard`'s part of a `budget` of simulated requests: `budget / N`, rounded down, so
/// N shards together never spend more than the unsharded tune would.
pub fn shard_budget(budget: u64, shard: Shard) -> u64 {
    budget / u64::from(shard.count.max(1))
}

/// Every parameter must load at both ends of its range (each choice) and change the strategy.
fn check_params(context: &Context) -> Result<(), TuneError> {
    let middle = Setting::at(&context.params, &vec![0.5; context.params.len()]);
    for (index, param) in context.params.iter().enumerate() {
        if context.params[..index].iter().any(|p| p.key == param.key) {
            return Err(TuneError::usage("--param", &param.key, "given twice"));
        }
        let probes: Vec<String> = match &param.domain {
            super::param::Domain::Choice(choices) => choices.clone(),
            _ => vec![param.decode(0.0), param.decode(1.0)],
        };
        let scenarios = probes
            .into_iter()
            .map(|value| context.scenario(&with_value(&middle, index, value), &[]))
            .collect::<Result<Vec<_>, _>>()?;
        let reaches = scenarios.iter().skip(1).any(|other| {
            touched(&scenarios[0], other)
                .first()
                .copied()
                .unwrap_or(false)
        });
        if !reaches {
            return Err(TuneError::usage(
                "--param",
                &param.key,
                format!(
                    "does not change strategy {:?} (give a key it has, e.g. \
                     strategies[{}].breaker.…)",
                    context.strategy, context.strategy
                ),
            ));
        }
    }
    Ok(())
}

/// The fidelities of successive halving: one seed and a quarter of the run, two seeds and
/// half of it, every seed and all of it — runs of at least a minute, duplicates merged.
fn rungs(context: &Context) -> Vec<Fidelity> {
    let full = context.full();
    let floor = Duration::from_secs(60).min(full.duration);
    let mut rungs = vec![
        Fidelity {
            seeds: 1,
            duration: (full.duration / 4).max(floor),
        },
        Fidelity {
            seeds: full.seeds.min(2),
            duration: (full.duration / 2).max(floor),
        },
        full,
    ];
    rungs.dedup();
    rungs
}

/// Successive halving from the initial design. The design is sized for the `whole` budget
/// (the unsharded tune's), so every shard draws the same points; shard K keeps the points at
/// positions K mod N and promotes the best third of its own at each rung.
fn halving(
    evaluator: &mut Evaluator<'_>,
    rungs: &[Fidelity],
    reserve: u64,
    whole: u64,
    shard: Shard,
) -> Result<usize, TuneError> {
    let dimensions = evaluator.context.params.len();
    let mut sizes = vec![(4 + 8 * dimensions).min(64)];
    let plan_cost = |sizes: &[usize], evaluator: &Evaluator<'_>| -> u64 {
        sizes
            .iter()
            .zip(rungs)
            .map(|(n, fidelity)| *n as u64 * evaluator.cost(*fidelity))
            .sum::<u64>()
            + reserve
    };
    let grow = |first: usize| {
        let mut sizes = vec![first];
        while sizes.len() < rungs.len() {
            let last = sizes[sizes.len() - 1];
            sizes.push(last.div_ceil(HALVING_KEEP).max(1));
        }
        sizes
    };
    sizes = grow(sizes[0]);
    while sizes[0] > 2 && plan_cost(&sizes, evaluator) > whole {
        sizes = grow(sizes[0] - 1);
    }
    let seed = evaluator.context.seeds[0];
    let params = evaluator.context.params.clone();
    let design: Vec<Setting> = shard
        .pick(latin_hypercube(sizes[0], dimensions, seed))
        .map(|point| Setting::at(&params, &point))
        .collect();
    if design.is_empty() {
        return Err(TuneError::usage(
            "--shard",
            shard,
            format!(
                "the initial design has {} point(s) for this budget, so shard {shard} would \
                 start from none: use at most {} shards, or a larger budget",
                sizes[0], sizes[0]
            ),
        ));
    }
    let design_points = sizes[0];
    sizes = grow(design.len());
    let mut current = evaluator.evaluate(&design, rungs[0], Stage::Design, reserve)?;
    for (rung, size) in rungs.iter().zip(&sizes).skip(1) {
        if evaluator.stopped() {
            break;
        }
        by_rank(evaluator, &mut current);
        let promoted: Vec<Setting> = current
            .iter()
            .take(*size)
            .map(|index| evaluator.evaluations[*index].setting.clone())
            .collect();
        current = evaluator.evaluate(&promoted, *rung, Stage::Halving, reserve)?;
    }
    Ok(design_points)
}

/// Settings `step` away from `setting` along each ordered parameter, and every other choice.
fn around(params: &[Param], setting: &Setting, step: f64, choices: bool) -> Vec<Setting> {
    let position = setting.position(params);
    let mut out: Vec<Setting> = Vec::new();
    for (index, param) in params.iter().enumerate() {
        if param.is_ordered() {
            for sign in [-1.0, 1.0] {
                let value = param.decode(position[index] + sign * step);
                out.push(with_value(setting, index, value));
            }
        } else if choices {
            if let super::param::Domain::Choice(all) = &param.domain {
                out.extend(all.iter().map(|c| with_value(setting, index, c.clone())));
            }
        }
    }
    let mut unique: Vec<Setting> = Vec::new();
    for candidate in out {
        if &candidate != setting && !unique.contains(&candidate) {
            unique.push(candidate);
        }
    }
    unique
}

fn refine(evaluator: &mut Evaluator<'_>, reserve: u64) -> Result<(), TuneError> {
    let Some(&start) = ranked_full(evaluator).first() else {
        return Ok(());
    };
    let params = evaluator.context.params.clone();
    let objective = evaluator.context.objective;
    let full = evaluator.context.full();
    let mut incumbent = start;
    let mut step = FIRST_STEP;
    while step >= MIN_STEP && !evaluator.stopped() {
        let polls = around(
            &params,
            &evaluator.evaluations[incumbent].setting,
            step,
            true,
        );
        let fresh: Vec<Setting> = polls
            .iter()
            .filter(|s| evaluator.full_evaluation(s).is_none())
            .cloned()
            .collect();
        let added = evaluator.evaluate(&fresh, full, Stage::Refine, reserve)?;
        if added.len() < fresh.len() {
            // Out of budget (or stopped): the polls cannot all be compared.
            break;
        }
        let best = polls
            .iter()
            .filter_map(|s| evaluator.full_evaluation(s).map(|e| e.index))
            .min_by(|a, b| {
                rank(
                    &evaluator.evaluations[*a].verdict,
                    &evaluator.evaluations[*b].verdict,
                    &objective,
                )
            });
        match best {
            Some(best)
                if rank(
                    &evaluator.evaluations[best].verdict,
                    &evaluator.evaluations[incumbent].verdict,
                    &objective,
                ) == Ordering::Less =>
            {
                incumbent = best;
            }
            _ => step /= 2.0,
        }
    }
    Ok(())
}

fn profile(evaluator: &mut Evaluator<'_>, points: usize, reserve: u64) -> Result<(), TuneError> {
    let Some(&best) = ranked_full(evaluator).first() else {
        return Ok(());
    };
    if points < 2 {
        return Ok(());
    }
    let params = evaluator.context.params.clone();
    let full = evaluator.context.full();
    let centre = evaluator.evaluations[best].setting.clone();
    for (index, param) in params.iter().enumerate() {
        if !param.is_ordered() || evaluator.stopped() {
            continue;
        }
        let line: Vec<Setting> = (0..points)
            .map(|k| k as f64 / (points - 1) as f64)
            .map(|u| with_value(&centre, index, param.decode(u)))
            .collect();
        evaluator.evaluate(&line, full, Stage::Profile, reserve)?;
    }
    Ok(())
}

fn conclude(
    evaluator: Evaluator<'_>,
    rungs: Vec<Fidelity>,
    checks: Vec<Check>,
    scenario: String,
    shard: Shard,
) -> TuneRun {
    let mut ranked = ranked_full(&evaluator);
    if ranked.is_empty() {
        // Stopped before any full evaluation: the highest fidelity reached stands in.
        let fidelity = |e: &Evaluation| (e.fidelity.seeds, e.fidelity.duration);
        let top = evaluator.evaluations.iter().map(fidelity).max();
        ranked = evaluator
            .evaluations
            .iter()
            .filter(|e| Some(fidelity(e)) == top)
            .map(|e| e.index)
            .collect();
        by_rank(&evaluator, &mut ranked);
    }
    let choice = choose(&evaluator.evaluations, &ranked, &checks);
    TuneRun {
        scenario,
        budget: evaluator.budget,
        used: evaluator.used,
        simulations: evaluator.simulations,
        full_run_requests: evaluator.full_run_requests,
        rungs,
        design_points: 0,
        interrupted: evaluator.stopped(),
        recommended: choice.recommended,
        best: choice.best,
        runner_up: choice.runner_up,
        checks,
        shard,
        merged_from: None,
        evaluations: evaluator.evaluations,
        context: evaluator.context,
    }
}
