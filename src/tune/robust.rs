//! Robustness: a setting is recommended only if its neighbourhood also meets the constraints.
//! The neighbours of a setting are a tenth of each range (one level for integers) down and up
//! every ordered parameter. The best setting meeting the constraints is checked first; if a
//! neighbour breaks them it is a cliff edge, and the setting one neighbour step back from the
//! failing neighbours is evaluated and checked next (the next best setting found when that
//! step leads nowhere new), up to [`MAX_CHECKS`] checks. A neighbour already evaluated and
//! failing settles a check without a simulation.

use serde::{Deserialize, Serialize};

use super::error::TuneError;
use super::evaluate::{Evaluator, Setting, Stage};
use super::param::Param;
use super::ranking::{ranked_full, with_value};

/// How far a neighbour is, in unit coordinates (a tenth of each range).
pub const NEIGHBOUR_STEP: f64 = 0.1;
/// Most candidates whose neighbourhood is checked.
pub const MAX_CHECKS: usize = 5;

/// One neighbourhood check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The candidate (an evaluation index).
    pub candidate: usize,
    /// Its neighbours' evaluations.
    pub neighbours: Vec<usize>,
    /// Whether every neighbour could be evaluated.
    pub complete: bool,
    /// Whether every neighbour meets the constraints.
    pub robust: bool,
}

/// Check candidates until one is robust, a check cannot be completed (budget, stop), or
/// [`MAX_CHECKS`] were made.
pub(super) fn robustness(evaluator: &mut Evaluator<'_>) -> Result<Vec<Check>, TuneError> {
    let params = evaluator.context.params.clone();
    let full = evaluator.context.full();
    let mut checks: Vec<Check> = Vec::new();
    // After a cliff edge: the setting a step back from it, tried next.
    let mut step_back: Option<Setting> = None;
    while checks.len() < MAX_CHECKS && !evaluator.stopped() {
        let unchecked = |index: &usize, evaluator: &Evaluator<'_>| {
            evaluator.evaluations[*index].verdict.feasible
                && !checks.iter().any(|c| c.candidate == *index)
        };
        let mut candidate = None;
        if let Some(setting) = step_back.take() {
            evaluator.evaluate(
                std::slice::from_ref(&setting),
                full,
                Stage::Neighbourhood,
                0,
            )?;
            candidate = evaluator
                .full_evaluation(&setting)
                .map(|e| e.index)
                .filter(|index| unchecked(index, evaluator));
        }
        let Some(candidate) = candidate.or_else(|| {
            ranked_full(evaluator)
                .into_iter()
                .find(|index| unchecked(index, evaluator))
        }) else {
            break;
        };
        let setting = evaluator.evaluations[candidate].setting.clone();
        let neighbours = neighbours(&params, &setting);
        let broken = |evaluator: &Evaluator<'_>| -> Vec<Setting> {
            neighbours
                .iter()
                .filter(|s| {
                    evaluator
                        .full_evaluation(s)
                        .is_some_and(|e| !e.verdict.feasible)
                })
                .cloned()
                .collect()
        };
        // A neighbour already known to break a constraint settles it without a simulation.
        let known_edge = !broken(evaluator).is_empty();
        if !known_edge {
            evaluator.evaluate(&neighbours, full, Stage::Neighbourhood, 0)?;
        }
        let found: Vec<usize> = neighbours
            .iter()
            .filter_map(|s| evaluator.full_evaluation(s).map(|e| e.index))
            .collect();
        let complete = known_edge || found.len() == neighbours.len();
        let edges = broken(evaluator);
        let robust = complete && edges.is_empty();
        checks.push(Check {
            candidate,
            neighbours: found,
            complete,
            robust,
        });
        if robust || !complete {
            break;
        }
        step_back = Some(away_from(&params, &setting, &edges)).filter(|s| s != &setting);
    }
    Ok(checks)
}

/// `setting` moved one neighbour step away from each of its neighbours in `edges`.
fn away_from(params: &[Param], setting: &Setting, edges: &[Setting]) -> Setting {
    let position = setting.position(params);
    let mut moved = setting.clone();
    for edge in edges {
        for (index, param) in params.iter().enumerate() {
            if edge.0[index] == setting.0[index] {
                continue;
            }
            let toward = param.encode(&edge.0[index]) - position[index];
            let step = param.level_width().unwrap_or(NEIGHBOUR_STEP);
            moved.0[index] = param.decode(position[index] - toward.signum() * step);
        }
    }
    moved
}

/// A tenth of each range down and up every ordered parameter (one level for integers).
pub fn neighbours(params: &[Param], setting: &Setting) -> Vec<Setting> {
    let position = setting.position(params);
    let mut out: Vec<Setting> = Vec::new();
    for (index, param) in params.iter().enumerate() {
        if !param.is_ordered() {
            continue;
        }
        let step = param.level_width().unwrap_or(NEIGHBOUR_STEP);
        for sign in [-1.0, 1.0] {
            let candidate = with_value(setting, index, param.decode(position[index] + sign * step));
            if &candidate != setting && !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}
