//! Judging a run against its SLOs and a baseline: one [`RuleCase`] per rule and strategy.
//!
//! - **Absolute SLOs**: the verdicts already in `summary.json` (`slo.<rule>`). With repeated
//!   live runs a rule fails only when more than half of the runs missed it.
//! - **Budgets, simulator runs**: the simulator is deterministic (same scenario, seed and code
//!   give byte-identical figures), so each figure is compared exactly with the baseline's and
//!   any move beyond the budget fails (`budget.<metric>`). An unchanged scenario gives identical
//!   figures and passes with a change of 0.
//! - **Budgets, live runs**: the repeated runs' figures against the baseline's per-run figures
//!   with a one-sided Mann–Whitney U test in the metric's bad direction; a rule fails only when
//!   the shift is significant (p < alpha) *and* the medians moved by more than the budget (the
//!   effect-size budget), so noise alone does not flap the gate.

use super::baseline::Baseline;
use super::budget::{Budget, BudgetSet};
use super::error::GateError;
use super::mann_whitney::{Alternative, mann_whitney_u};
use crate::report::metric::{Figures, figures};
use crate::report::{Mode, Summary};

/// Fewest repeated live runs per side the rank test accepts.
pub const MIN_LIVE_RUNS: usize = 3;

/// How a rule ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Held.
    Pass,
    /// Broken: the gate fails.
    Fail,
    /// Could not be judged and does not count (e.g. a metric the baseline lacks).
    Skipped,
}

/// One rule for one strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCase {
    /// The strategy.
    pub strategy: String,
    /// The rule: `slo.p99_ttft`, `budget.success_ratio`, `baseline.strategy`.
    pub rule: String,
    /// The outcome.
    pub status: Status,
    /// The baseline figure or SLO limit, as text.
    pub expected: String,
    /// The run's figure, as text.
    pub actual: String,
    /// The change against the baseline and the budget, when the rule has them.
    pub change: String,
    /// One line: actual vs expected and why it passed or failed.
    pub message: String,
}

/// The gate's verdict over every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct GateVerdict {
    /// Scenario of the run.
    pub scenario: String,
    /// Seed of the run.
    pub seed: u64,
    /// Mode of the run.
    pub mode: Mode,
    /// Runs judged (1 for the simulator).
    pub runs: usize,
    /// Every rule, strategy by strategy in scenario order.
    pub cases: Vec<RuleCase>,
}

impl GateVerdict {
    /// Whether no rule failed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|case| case.status != Status::Fail)
    }

    /// The failed rules.
    pub fn failures(&self) -> impl Iterator<Item = &RuleCase> {
        self.cases.iter().filter(|case| case.status == Status::Fail)
    }
}

/// Judge `runs` (the run first, then its repeats) against `baseline` with `budgets`; `alpha`
/// is the live test's significance level.
pub fn judge(
    runs: &[Summary],
    baseline: &Baseline,
    budgets: &BudgetSet,
    alpha: f64,
) -> Result<GateVerdict, GateError> {
    let Some(run) = runs.first() else {
        return Err(GateError::input("RUN", "(none)", "give a run folder"));
    };
    let live = run.mode == Mode::Live;
    let runs = if live { runs } else { &runs[..1] };
    if live {
        check_live_samples(runs.len(), baseline)?;
    }
    let mut cases = Vec::new();
    for strategy in &run.strategies {
        cases.extend(slo_cases(runs, &strategy.name));
        let Some(accepted) = baseline.strategies.iter().find(|s| s.name == strategy.name) else {
            cases.push(presence_case(
                &strategy.name,
                Status::Skipped,
                "a new strategy: not in the baseline (re-record it to gate this strategy)",
            ));
            continue;
        };
        for budget in budgets.iter() {
            cases.push(if live {
                live_budget_case(runs, &strategy.name, accepted_runs(accepted), budget, alpha)
            } else {
                sim_budget_case(
                    &strategy.name,
                    &accepted.figures,
                    &figures(strategy),
                    budget,
                )
            });
        }
    }
    for accepted in &baseline.strategies {
        if !run.strategies.iter().any(|s| s.name == accepted.name) {
            cases.push(presence_case(
                &accepted.name,
                Status::Fail,
                "in the baseline but missing from the run (renamed or removed? re-record the baseline deliberately)",
            ));
        }
    }
    Ok(GateVerdict {
        scenario: run.scenario.clone(),
        seed: run.seed,
        mode: run.mode,
        runs: runs.len(),
        cases,
    })
}

fn check_live_samples(candidate_runs: usize, baseline: &Baseline) -> Result<(), GateError> {
    if candidate_runs < MIN_LIVE_RUNS {
        return Err(GateError::input(
            "--runs",
            candidate_runs,
            format!(
                "a live gate compares repeated runs: give at least {MIN_LIVE_RUNS} (5 or more recommended) with RUN --runs DIR2 DIR3 …"
            ),
        ));
    }
    if let Some(short) = baseline
        .strategies
        .iter()
        .find(|strategy| accepted_runs(strategy).len() < MIN_LIVE_RUNS)
    {
        return Err(GateError::input(
            format!("baseline strategies[{}].runs", short.name),
            accepted_runs(short).len(),
            format!(
                "a live baseline needs the figures of at least {MIN_LIVE_RUNS} runs (record it with --update-baseline RUN --runs DIR2 DIR3 …)"
            ),
        ));
    }
    Ok(())
}

fn accepted_runs(strategy: &super::baseline::BaselineStrategy) -> &[Figures] {
    if strategy.runs.is_empty() {
        std::slice::from_ref(&strategy.figures)
    } else {
        &strategy.runs
    }
}

fn presence_case(strategy: &str, status: Status, message: &str) -> RuleCase {
    RuleCase {
        strategy: strategy.to_string(),
        rule: "baseline.strategy".to_string(),
        status,
        expected: String::new(),
        actual: String::new(),
        change: String::new(),
        message: message.to_string(),
    }
}

/// One case per SLO rule of `strategy`; with several runs a rule fails when most runs missed it.
fn slo_cases(runs: &[Summary], strategy: &str) -> Vec<RuleCase> {
    let per_run: Vec<_> = runs
        .iter()
        .filter_map(|run| run.strategies.iter().find(|s| s.name == strategy))
        .collect();
    let Some(first) = per_run.first() else {
        return Vec::new();
    };
    first
        .slo
        .iter()
        .map(|verdict| {
            let missed = per_run
                .iter()
                .filter(|s| s.slo.iter().any(|v| v.rule == verdict.rule && !v.pass))
                .count();
            let bound = if verdict.rule.starts_with("min_") { "≥" } else { "≤" };
            let limit = verdict.value_text(verdict.limit);
            let actual = verdict
                .actual
                .map_or_else(|| "not measured".to_string(), |value| verdict.value_text(value));
            let (status, message) = if per_run.len() == 1 {
                let status = if verdict.pass { Status::Pass } else { Status::Fail };
                (status, format!("{actual} vs SLO {bound} {limit}"))
            } else {
                let status = if missed * 2 > per_run.len() { Status::Fail } else { Status::Pass };
                (
                    status,
                    format!("missed in {missed} of {} runs (first run: {actual}) vs SLO {bound} {limit}", per_run.len()),
                )
            };
            RuleCase {
                strategy: strategy.to_string(),
                rule: format!("slo.{}", verdict.rule),
                status,
                expected: format!("{bound} {limit}"),
                actual,
                change: String::new(),
                message,
            }
        })
        .collect()
}

fn sim_budget_case(strategy: &str, accepted: &Figures, run: &Figures, budget: &Budget) -> RuleCase {
    let metric = budget.metric;
    let base = accepted.get(metric.name).copied();
    let actual = run.get(metric.name).copied();
    let text = |value: Option<f64>| {
        value.map_or_else(|| "not measured".to_string(), |v| metric.value_text(v))
    };
    let mut case = RuleCase {
        strategy: strategy.to_string(),
        rule: format!("budget.{}", metric.name),
        status: Status::Skipped,
        expected: text(base),
        actual: text(actual),
        change: String::new(),
        message: String::new(),
    };
    match (base, actual) {
        (None, _) => {
            case.message = format!(
                "{} is not in the baseline; re-record it to gate this metric",
                metric.name
            );
        }
        (Some(_), None) => {
            case.status = Status::Fail;
            case.message = format!(
                "{} was not measured in this run (baseline {})",
                metric.name, case.expected
            );
        }
        (Some(base), Some(actual)) => {
            let worsening = budget.worsening(base, actual);
            let held = budget.holds(base, actual);
            case.status = if held { Status::Pass } else { Status::Fail };
            case.change = format!("{} (budget {budget})", budget.change_text(worsening));
            case.message = format!(
                "{} {} vs baseline {}: {} {} budget {budget}",
                metric.name,
                case.actual,
                case.expected,
                budget.change_text(worsening),
                if held { "within" } else { "exceeds" },
            );
        }
    }
    case
}

fn live_budget_case(
    runs: &[Summary],
    strategy: &str,
    accepted: &[Figures],
    budget: &Budget,
    alpha: f64,
) -> RuleCase {
    let metric = budget.metric;
    let candidate: Vec<f64> = runs
        .iter()
        .filter_map(|run| run.strategies.iter().find(|s| s.name == strategy))
        .filter_map(|s| (metric.read)(s))
        .collect();
    let base: Vec<f64> = accepted
        .iter()
        .filter_map(|f| f.get(metric.name).copied())
        .collect();
    let mut case = RuleCase {
        strategy: strategy.to_string(),
        rule: format!("budget.{}", metric.name),
        status: Status::Skipped,
        expected: String::new(),
        actual: String::new(),
        change: String::new(),
        message: String::new(),
    };
    let (Some(base_median), Some(run_median)) = (median(&base), median(&candidate)) else {
        case.status = if base.is_empty() {
            Status::Skipped
        } else {
            Status::Fail
        };
        case.message = format!(
            "{} measured in {} baseline run(s) and {} run(s) of this gate",
            metric.name,
            base.len(),
            candidate.len()
        );
        return case;
    };
    case.expected = format!("median {}", metric.value_text(base_median));
    case.actual = format!("median {}", metric.value_text(run_median));
    // The candidate is worse when it is greater for lower-is-better metrics.
    let alternative = if metric.higher_is_better {
        Alternative::Less
    } else {
        Alternative::Greater
    };
    let p_value = mann_whitney_u(&candidate, &base, alternative).map_or(1.0, |test| test.p_value);
    let worsening = budget.worsening(base_median, run_median);
    let significant = p_value < alpha;
    let beyond = !budget.holds(base_median, run_median);
    case.status = if significant && beyond {
        Status::Fail
    } else {
        Status::Pass
    };
    case.change = format!(
        "{} (budget {budget}, p = {p_value:.4})",
        budget.change_text(worsening)
    );
    case.message = format!(
        "{} {} vs baseline {} over {} vs {} runs: {} ({} budget {budget}); Mann–Whitney p = {p_value:.4} ({} alpha {alpha})",
        metric.name,
        case.actual,
        case.expected,
        candidate.len(),
        base.len(),
        budget.change_text(worsening),
        if beyond { "exceeds" } else { "within" },
        if significant { "<" } else { "≥" },
    );
    case
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 0 {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}
