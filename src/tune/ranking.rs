//! Ranking full-fidelity evaluations and stepping between settings: the helpers the search
//! (`search.rs`) and the robustness checks (`robust.rs`) share.

use super::evaluate::{Evaluation, Evaluator, Setting};
use super::judge::{Objective, rank};
use super::robust::Check;

/// Sort evaluation indices best first by the objective and the constraints.
pub(super) fn by_rank(evaluator: &Evaluator<'_>, indices: &mut [usize]) {
    sort_by_rank(
        &evaluator.evaluations,
        &evaluator.context.objective,
        indices,
    );
}

/// Sort indices into `evaluations` best first by the objective and the constraints.
pub(super) fn sort_by_rank(
    evaluations: &[Evaluation],
    objective: &Objective,
    indices: &mut [usize],
) {
    indices.sort_by(|a, b| {
        rank(
            &evaluations[*a].verdict,
            &evaluations[*b].verdict,
            objective,
        )
    });
}

/// The settings a tune names, as evaluation indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Choice {
    /// Rank first, robust or not.
    pub best: Option<usize>,
    /// The best robust setting, else the best meeting the constraints.
    pub recommended: Option<usize>,
    /// The next choice after the recommendation (see [`super::search::TuneRun::runner_up`]).
    pub runner_up: Option<usize>,
}

/// Choose among `ranked` (indices into `evaluations`, best first) given the neighbourhood
/// `checks`: the rule of the unsharded tune and of a merge of tune shards alike.
pub(super) fn choose(evaluations: &[Evaluation], ranked: &[usize], checks: &[Check]) -> Choice {
    let feasible = |index: &usize| evaluations[*index].verdict.feasible;
    let best = ranked.first().copied();
    let robust = ranked.iter().copied().find(|index| {
        checks
            .iter()
            .any(|check| check.candidate == *index && check.robust)
    });
    let recommended = robust.or_else(|| ranked.iter().copied().find(feasible));
    // The next choice: not the recommendation, and not a setting known to be a cliff edge.
    let edge = |index: &usize| {
        checks
            .iter()
            .any(|check| check.candidate == *index && check.complete && !check.robust)
    };
    // The first choice: the recommendation, or the closest setting when none meets them.
    let first = recommended.or(best);
    let others = || ranked.iter().copied().filter(|index| Some(*index) != first);
    let runner_up = match recommended {
        None => others().next(),
        Some(_) => others()
            .find(|index| feasible(index) && !edge(index))
            .or_else(|| others().find(feasible)),
    };
    Choice {
        best,
        recommended,
        runner_up,
    }
}

/// Full-fidelity evaluations, best first.
pub(super) fn ranked_full(evaluator: &Evaluator<'_>) -> Vec<usize> {
    let mut full: Vec<usize> = evaluator
        .evaluations
        .iter()
        .filter(|e| e.full)
        .map(|e| e.index)
        .collect();
    by_rank(evaluator, &mut full);
    full
}

/// `setting` with parameter `index` set to `value`.
pub(super) fn with_value(setting: &Setting, index: usize, value: String) -> Setting {
    let mut next = setting.clone();
    next.0[index] = value;
    next
}
