//! Pooling the searches of a sharded tune (`tune --shard K/N`, an independent multi-start
//! split: shard K starts from the design points K mod N and searches on its own) into one
//! [`TuneRun`]: every shard's full-fidelity evaluations — a setting two shards both evaluated
//! counts once, its figures being the same over the same common-random-number seeds — and their
//! neighbourhood checks, ranked and chosen by the rule of the unsharded tune
//! ([`super::choice::choose`]). A setting ranked above the recommendation that no shard
//! checked is named in [`MergedFrom::unchecked_better`], so the report can say so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::choice::choose;
use super::evaluate::{Context, Evaluation, Fidelity, Setting};
use super::ranking::sort_by_rank;
use super::robust::Check;
use super::search::{MergedFrom, TuneRun};
use crate::split::Shard;

/// What one tune shard found, as its `shard.json` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardSearch {
    /// Its budget in simulated requests (`budget / N` of the whole).
    pub budget: u64,
    /// Requests it simulated.
    pub used: u64,
    /// Simulations it ran.
    pub simulations: usize,
    /// Whether a stop ended it early.
    pub interrupted: bool,
    /// Its full-fidelity evaluations, with their indices in its own search.
    pub evaluations: Vec<Evaluation>,
    /// Its neighbourhood checks (indices into its own search).
    pub checks: Vec<Check>,
}

impl ShardSearch {
    /// What `run` (one shard's search) keeps for the merge: its full-fidelity evaluations and
    /// checks.
    pub fn of(run: &TuneRun) -> ShardSearch {
        ShardSearch {
            budget: run.budget,
            used: run.used,
            simulations: run.simulations,
            interrupted: run.interrupted,
            evaluations: run.evaluations.iter().filter(|e| e.full).cloned().collect(),
            checks: run.checks.clone(),
        }
    }
}

/// What every shard of a sharded tune shares, besides its [`Context`].
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    /// The scenario's name.
    pub scenario: String,
    /// The whole budget in simulated requests.
    pub budget: u64,
    /// Requests of one full-length run at the first seed.
    pub full_run_requests: u64,
    /// The fidelities of successive halving.
    pub rungs: Vec<Fidelity>,
    /// Points of the whole initial design.
    pub design_points: usize,
}

/// The whole of a sharded tune: `shards` in shard order, each with the search it made.
pub fn pool(context: Context, shared: Shared, shards: &[ShardSearch]) -> TuneRun {
    let mut evaluations: Vec<Evaluation> = Vec::new();
    let mut by_setting: BTreeMap<Setting, usize> = BTreeMap::new();
    let mut checks: Vec<Check> = Vec::new();
    let mut spent_before = 0;
    for shard in shards {
        // Own index → merged index.
        let mut merged_index: BTreeMap<usize, usize> = BTreeMap::new();
        for evaluation in shard.evaluations.iter().filter(|e| e.full) {
            let index = *by_setting
                .entry(evaluation.setting.clone())
                .or_insert_with(|| {
                    let index = evaluations.len();
                    evaluations.push(Evaluation {
                        index,
                        requests_after: spent_before + evaluation.requests_after,
                        ..evaluation.clone()
                    });
                    index
                });
            merged_index.insert(evaluation.index, index);
        }
        for check in &shard.checks {
            let Some(&candidate) = merged_index.get(&check.candidate) else {
                continue;
            };
            let neighbours: Vec<usize> = check
                .neighbours
                .iter()
                .filter_map(|own| merged_index.get(own).copied())
                .collect();
            let complete = check.complete && neighbours.len() == check.neighbours.len();
            checks.push(Check {
                candidate,
                neighbours,
                complete,
                robust: check.robust && complete,
            });
        }
        spent_before += shard.used;
    }
    let mut ranked: Vec<usize> = (0..evaluations.len()).collect();
    sort_by_rank(&evaluations, &context.objective, &mut ranked);
    let choice = choose(&evaluations, &ranked, &checks);
    let unchecked_better = ranked
        .iter()
        .copied()
        .take_while(|index| Some(*index) != choice.recommended)
        .filter(|index| evaluations[*index].verdict.feasible)
        .filter(|index| !checks.iter().any(|check| check.candidate == *index))
        .collect();
    TuneRun {
        scenario: shared.scenario,
        context,
        budget: shared.budget,
        used: shards.iter().map(|s| s.used).sum(),
        simulations: shards.iter().map(|s| s.simulations).sum(),
        full_run_requests: shared.full_run_requests,
        rungs: shared.rungs,
        design_points: shared.design_points,
        evaluations,
        checks,
        recommended: choice.recommended,
        best: choice.best,
        runner_up: choice.runner_up,
        interrupted: shards.iter().any(|s| s.interrupted),
        shard: Shard::WHOLE,
        merged_from: Some(MergedFrom {
            shards: u32::try_from(shards.len()).unwrap_or(u32::MAX),
            unchecked_better,
        }),
    }
}

/// The paragraph of `tune.md` that says a tune was a shard or a merge of shards (empty for an
/// unsharded tune).
pub(super) fn provenance(run: &TuneRun) -> String {
    let label = |index: usize| {
        format!(
            "`{}`",
            run.evaluations[index].setting.label(&run.context.params)
        )
    };
    if let Some(merged) = &run.merged_from {
        let mut out = format!(
            "> **Merged from {} tune shards** (`tune --shard K/N`, an independent multi-start \
             split): each shard searched on its own from its part of the initial design with \
             its part of the budget; below are their {} full-fidelity evaluations pooled and \
             ranked by the unsharded tune's rules. The result may differ from an unsharded \
             tune's, whose search takes other paths.\n",
            merged.shards,
            run.evaluations.len()
        );
        if !merged.unchecked_better.is_empty() {
            let names: Vec<String> = merged.unchecked_better.iter().map(|i| label(*i)).collect();
            out.push_str(&format!(
                ">\n> Ranked above the recommendation but never neighbourhood-checked by its \
                 shard, so not recommended: {}.\n",
                names.join(", ")
            ));
        }
        out.push('\n');
        return out;
    }
    if run.shard != Shard::WHOLE {
        return format!(
            "> **Shard {}** of a sharded tune: started from the initial design's points at \
             positions {} mod {} with a budget of {} simulated requests (1/{} of the whole, \
             rounded down); `throttlebox merge` pools the shards.\n\n",
            run.shard, run.shard.index, run.shard.count, run.budget, run.shard.count
        );
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sim::StopFlag;
    use crate::tune::judge::{JudgeRule, Objective, Verdict};
    use crate::tune::param::Param;
    use crate::tune::stats::Estimate;

    const FULL: Fidelity = Fidelity {
        seeds: 1,
        duration: Duration::from_secs(60),
    };

    fn context() -> Context {
        Context {
            path: None,
            fixed: Vec::new(),
            strategy: "apim-pool trip 10s".to_string(),
            params: vec![Param::parse("breaker.trip_duration=5s..60s").expect("param")],
            seeds: vec![42],
            full_duration: FULL.duration,
            objective: Objective::parse("min cost").expect("objective"),
            bounds: Vec::new(),
            rule: JudgeRule::Interval,
            jobs: 1,
            stop: StopFlag::new(),
        }
    }

    /// A full-fidelity evaluation of `trip` costing `cost`, meeting the constraints.
    fn evaluation(index: usize, trip: &str, cost: f64) -> Evaluation {
        let estimate = Estimate {
            mean: cost,
            low: cost,
            high: cost,
            sd: 0.0,
            n: 1,
        };
        Evaluation {
            index,
            stage: super::super::evaluate::Stage::Refine,
            setting: Setting(vec![trip.to_string()]),
            fidelity: FULL,
            full: true,
            estimates: BTreeMap::from([("cost".to_string(), estimate)]),
            verdict: Verdict {
                objective: Some(estimate),
                feasible: true,
                slack: Vec::new(),
                violation: 0.0,
            },
            requests_after: 100 * (index as u64 + 1),
        }
    }

    fn check(candidate: usize, neighbours: Vec<usize>, robust: bool) -> Check {
        Check {
            candidate,
            neighbours,
            complete: true,
            robust,
        }
    }

    #[test]
    fn pooled_shards_recommend_the_best_robust_setting_and_name_the_unchecked_better_one() {
        let a = ShardSearch {
            budget: 1000,
            used: 300,
            simulations: 3,
            interrupted: false,
            evaluations: vec![
                evaluation(0, "5s", 1.0),
                evaluation(1, "10s", 2.0),
                evaluation(2, "12s", 3.0),
            ],
            checks: vec![check(1, vec![2], true)],
        };
        let b = ShardSearch {
            budget: 1000,
            used: 200,
            simulations: 2,
            interrupted: false,
            // "10s" again (counted once); "20s" is a cliff edge.
            evaluations: vec![evaluation(0, "10s", 2.0), evaluation(1, "20s", 1.5)],
            checks: vec![check(1, vec![0], false)],
        };
        let shared = Shared {
            scenario: "s".to_string(),
            budget: 2000,
            full_run_requests: 100,
            rungs: vec![FULL],
            design_points: 4,
        };
        let run = pool(context(), shared.clone(), &[a.clone(), b.clone()]);
        let trips: Vec<&str> = run
            .evaluations
            .iter()
            .map(|e| e.setting.0[0].as_str())
            .collect();
        assert_eq!(trips, ["5s", "10s", "12s", "20s"]);
        assert_eq!(
            run.evaluations[3].requests_after,
            300 + 200,
            "after shard a's 300"
        );
        assert_eq!(run.best, Some(0), "5s is cheapest");
        assert_eq!(run.recommended, Some(1), "10s is the best robust setting");
        let edge = run.check_of(3).expect("20s was checked");
        assert_eq!((edge.neighbours.clone(), edge.robust), (vec![1], false));
        let merged = run.merged_from.as_ref().expect("merged");
        assert_eq!(
            (merged.shards, merged.unchecked_better.clone()),
            (2, vec![0])
        );
        let text = provenance(&run);
        assert!(text.contains("Merged from 2 tune shards"), "{text}");
        assert!(
            text.contains("never neighbourhood-checked by its shard"),
            "{text}"
        );
        assert!(text.contains("`breaker.trip_duration=5s`"), "{text}");
        assert_eq!((run.used, run.simulations), (500, 5));
        // The same shards always pool the same way.
        assert_eq!(
            pool(context(), shared, &[a, b]).evaluations,
            run.evaluations
        );
    }
}
