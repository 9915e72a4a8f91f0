//! Which settings a tune names — the best found, the recommendation, the runner-up — from
//! ranked full-fidelity evaluations and the neighbourhood checks made: one rule for the
//! unsharded search (`search.rs`) and for the pooled searches of tune shards (`pool.rs`).

use super::evaluate::Evaluation;
use super::robust::Check;

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
