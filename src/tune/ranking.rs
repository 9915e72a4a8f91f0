//! Ranking full-fidelity evaluations and stepping between settings: the helpers the search
//! (`search.rs`) and the robustness checks (`robust.rs`) share.

use super::evaluate::{Evaluation, Evaluator, Setting};
use super::judge::{Objective, rank};

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
