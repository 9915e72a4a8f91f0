//! Evaluating settings: a setting at a fidelity (the first `seeds` seeds, a run length) is the
//! strategy alone, simulated once per seed with the setting applied through `--set` overrides
//! (the path `sim` and `sweep` use), the seed set with `seed=…` — the same seeds for every
//! setting (common random numbers) — and the figures summarised per metric over the seeds.
//!
//! Simulations of a batch run in parallel ([`parallel_map`]); results are cached by (setting,
//! seed, run length), so a setting is never simulated twice. Every simulated request counts
//! against the budget, which is a number of requests fixed before the search starts: the
//! search's decisions depend on simulated figures only, never on how fast the machine is.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::TuneError;
use super::judge::{JudgeRule, Objective, Verdict, verdict};
use super::param::Param;
use super::stats::Estimate;
use crate::parallel::parallel_map;
use crate::report::bound::Bound;
use crate::report::metric::{Figures, figures};
use crate::scenario::{Override, Scenario, ScenarioError};
use crate::sim::{StopFlag, run_all_until};
use crate::sweep::{load_scenario as load, only_strategies};

/// A setting: one value per parameter, as written to `--set`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Setting(pub Vec<String>);

impl Setting {
    /// The setting `position` (unit coordinates) stands for.
    pub fn at(params: &[Param], position: &[f64]) -> Setting {
        Setting(
            params
                .iter()
                .zip(position)
                .map(|(param, u)| param.decode(*u))
                .collect(),
        )
    }

    /// Its unit coordinates.
    pub fn position(&self, params: &[Param]) -> Vec<f64> {
        params
            .iter()
            .zip(&self.0)
            .map(|(param, value)| param.encode(value))
            .collect()
    }

    /// `key=value key=value`.
    pub fn label(&self, params: &[Param]) -> String {
        params
            .iter()
            .zip(&self.0)
            .map(|(param, value)| format!("{}={value}", param.key))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn overrides(&self, params: &[Param]) -> Result<Vec<Override>, ScenarioError> {
        params
            .iter()
            .zip(&self.0)
            .map(|(param, value)| Override::new(&param.key, value))
            .collect()
    }
}

/// How thoroughly a setting is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fidelity {
    /// The first this many seeds.
    pub seeds: usize,
    /// Run length.
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub duration: Duration,
}

fn seconds<S: serde::Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(value.as_secs_f64())
}

/// Read back what [`seconds`] wrote (a shard's evaluations in `shard.json`).
fn from_seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    Duration::try_from_secs_f64(seconds).map_err(serde::de::Error::custom)
}

/// The search stage an evaluation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The space-filling initial design, at the lowest fidelity.
    Design,
    /// Successive halving: the better part promoted to a higher fidelity.
    Halving,
    /// Local refinement (coordinate search) at full fidelity.
    Refine,
    /// Sensitivity profiles through the best setting, at full fidelity.
    Profile,
    /// Neighbours of a candidate, checking it is not on a cliff edge.
    Neighbourhood,
}

/// One evaluated setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Order of evaluation.
    pub index: usize,
    /// Why it was evaluated.
    pub stage: Stage,
    /// The setting.
    pub setting: Setting,
    /// How thoroughly.
    pub fidelity: Fidelity,
    /// Whether that is the full fidelity (every seed, the whole run).
    pub full: bool,
    /// Every metric over the seeds.
    pub estimates: BTreeMap<String, Estimate>,
    /// The objective and constraints' verdict.
    pub verdict: Verdict,
    /// Simulated requests spent by the end of its batch.
    pub requests_after: u64,
}

/// What does not change during a tune.
#[derive(Debug, Clone)]
pub struct Context {
    /// Scenario file (None: the embedded default).
    pub path: Option<PathBuf>,
    /// `--set` overrides applied before the setting.
    pub fixed: Vec<Override>,
    /// The strategy tuned.
    pub strategy: String,
    /// The parameters.
    pub params: Vec<Param>,
    /// Every seed, in order; a fidelity uses a prefix.
    pub seeds: Vec<u64>,
    /// The scenario's run length (full fidelity).
    pub full_duration: Duration,
    /// What to optimise.
    pub objective: Objective,
    /// Constraints.
    pub bounds: Vec<Bound>,
    /// How constraints are judged over seeds.
    pub rule: JudgeRule,
    /// Threads.
    pub jobs: usize,
    /// Raised to stop.
    pub stop: StopFlag,
}

impl Context {
    /// The full fidelity.
    pub fn full(&self) -> Fidelity {
        Fidelity {
            seeds: self.seeds.len(),
            duration: self.full_duration,
        }
    }

    /// The scenario for `setting`, with `extra` overrides after it, restricted to the strategy.
    pub fn scenario(&self, setting: &Setting, extra: &[Override]) -> Result<Scenario, TuneError> {
        let mut overrides = self.fixed.clone();
        overrides.extend(setting.overrides(&self.params)?);
        overrides.extend(extra.iter().cloned());
        let scenario = load(self.path.as_deref(), &overrides)?;
        Ok(only_strategies(
            &scenario,
            std::slice::from_ref(&self.strategy),
        )?)
    }
}

type RunKey = (Setting, u64, Duration);

/// Runs settings, caches their figures and keeps the books.
pub struct Evaluator<'a> {
    /// The fixed inputs.
    pub context: Context,
    /// Budget in simulated requests.
    pub budget: u64,
    /// Requests of one full-length run of the base scenario (for cost estimates).
    pub full_run_requests: u64,
    /// Simulated requests so far.
    pub used: u64,
    /// Simulations run so far.
    pub simulations: usize,
    /// Every evaluation, in order.
    pub evaluations: Vec<Evaluation>,
    cache: BTreeMap<RunKey, Figures>,
    on_progress: &'a (dyn Fn(u64) + Sync),
    on_evaluation: &'a (dyn Fn(&Evaluation, &[Param]) + Sync),
}

impl<'a> Evaluator<'a> {
    /// An evaluator with nothing spent; `on_progress(requests used)` after each simulation,
    /// `on_evaluation` after each evaluation.
    pub fn new(
        context: Context,
        budget: u64,
        full_run_requests: u64,
        on_progress: &'a (dyn Fn(u64) + Sync),
        on_evaluation: &'a (dyn Fn(&Evaluation, &[Param]) + Sync),
    ) -> Evaluator<'a> {
        Evaluator {
            context,
            budget,
            full_run_requests,
            used: 0,
            simulations: 0,
            evaluations: Vec::new(),
            cache: BTreeMap::new(),
            on_progress,
            on_evaluation,
        }
    }

    /// Estimated requests of one evaluation at `fidelity` (settings not yet simulated).
    pub fn cost(&self, fidelity: Fidelity) -> u64 {
        let share =
            fidelity.duration.as_secs_f64() / self.context.full_duration.as_secs_f64().max(1e-9);
        (self.full_run_requests as f64 * share.min(1.0) * fidelity.seeds as f64).ceil() as u64
    }

    /// Requests left.
    pub fn remaining(&self) -> u64 {
        self.budget.saturating_sub(self.used)
    }

    /// Whether a stop was asked for.
    pub fn stopped(&self) -> bool {
        self.context.stop.is_raised()
    }

    /// The evaluation of `setting` at full fidelity, if made.
    pub fn full_evaluation(&self, setting: &Setting) -> Option<&Evaluation> {
        self.evaluations
            .iter()
            .find(|e| e.full && &e.setting == setting)
    }

    /// Evaluate `settings` at `fidelity` (those affordable within the budget after keeping
    /// `reserve` requests, in order — a run costs exactly its workload's requests); returns
    /// the indices of the new evaluations. Settings already evaluated at full fidelity are not
    /// evaluated again at it.
    pub fn evaluate(
        &mut self,
        settings: &[Setting],
        fidelity: Fidelity,
        stage: Stage,
        reserve: u64,
    ) -> Result<Vec<usize>, TuneError> {
        let full = fidelity == self.context.full();
        let mut batch: Vec<Setting> = Vec::new();
        let mut jobs: Vec<Job> = Vec::new();
        let mut planned = 0;
        for setting in settings {
            if batch.contains(setting) || (full && self.full_evaluation(setting).is_some()) {
                continue;
            }
            let runs = self.jobs(setting, fidelity)?;
            let cost: u64 = runs.iter().map(|job| job.requests).sum();
            if self.used + planned + cost + reserve > self.budget {
                break;
            }
            planned += cost;
            batch.push(setting.clone());
            jobs.extend(runs);
        }
        if batch.is_empty() || self.stopped() {
            return Ok(Vec::new());
        }
        self.simulate(jobs)?;
        let mut added = Vec::new();
        for setting in batch {
            let runs: Option<Vec<&Figures>> = self.context.seeds[..fidelity.seeds]
                .iter()
                .map(|seed| self.cache.get(&(setting.clone(), *seed, fidelity.duration)))
                .collect();
            // Stopped before every seed ran: not an evaluation.
            let Some(runs) = runs else { continue };
            let estimates = estimates(&runs);
            // Lower fidelities only screen (one or two seeds make wide intervals): the mean.
            let rule = if full {
                self.context.rule
            } else {
                JudgeRule::Mean
            };
            let verdict = verdict(
                &estimates,
                &self.context.objective,
                &self.context.bounds,
                rule,
            );
            let evaluation = Evaluation {
                index: self.evaluations.len(),
                stage,
                setting,
                fidelity,
                full,
                estimates,
                verdict,
                requests_after: self.used,
            };
            (self.on_evaluation)(&evaluation, &self.context.params);
            added.push(evaluation.index);
            self.evaluations.push(evaluation);
        }
        Ok(added)
    }

    /// The simulations `setting` still needs at `fidelity`, each with its exact request count.
    fn jobs(&self, setting: &Setting, fidelity: Fidelity) -> Result<Vec<Job>, TuneError> {
        let mut jobs = Vec::new();
        for seed in &self.context.seeds[..fidelity.seeds] {
            let key = (setting.clone(), *seed, fidelity.duration);
            if self.cache.contains_key(&key) {
                continue;
            }
            let mut extra = vec![Override::new("seed", &seed.to_string())?];
            if fidelity.duration < self.context.full_duration {
                let length = crate::duration::format(fidelity.duration);
                extra.push(Override::new("workload.duration", &length)?);
            }
            let scenario = self.context.scenario(setting, &extra)?;
            let requests = arrivals(&scenario)?;
            jobs.push(Job {
                key,
                scenario,
                requests,
            });
        }
        Ok(jobs)
    }

    fn simulate(&mut self, jobs: Vec<Job>) -> Result<(), TuneError> {
        let used = AtomicU64::new(self.used);
        let stop = self.context.stop.clone();
        let on_progress = self.on_progress;
        let outcomes = parallel_map(
            &jobs,
            self.context.jobs,
            &stop,
            &|_, job| {
                run_all_until(&job.scenario, None, 1, "tune", &|_| {}, &stop)
                    .map(|run| run.summary.strategies.into_iter().next())
            },
            &|_, outcome| {
                if let Ok(Some(summary)) = outcome {
                    let total =
                        used.fetch_add(summary.requests, Ordering::Relaxed) + summary.requests;
                    on_progress(total);
                }
            },
        )?;
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            match outcome {
                Some(Ok(Some(summary))) => {
                    self.used += summary.requests;
                    self.simulations += 1;
                    self.cache.insert(job.key, figures(&summary));
                }
                Some(Err(source)) => {
                    return Err(TuneError::Sim {
                        setting: format!(
                            "{} seed={}",
                            job.key.0.label(&self.context.params),
                            job.key.1
                        ),
                        source: Box::new(source),
                    });
                }
                // Stopped part-way or never started.
                Some(Ok(None)) | None => {}
            }
        }
        Ok(())
    }
}

/// One simulation: a setting at a seed and run length.
struct Job {
    key: RunKey,
    scenario: Scenario,
    requests: u64,
}

/// The requests a simulation of `scenario` will replay (its workload's arrivals).
pub fn arrivals(scenario: &Scenario) -> Result<u64, TuneError> {
    Ok(scenario.workload()?.requests().count() as u64)
}

/// Every metric measured in all runs, over the runs.
pub fn estimates(runs: &[&Figures]) -> BTreeMap<String, Estimate> {
    let Some(first) = runs.first() else {
        return BTreeMap::new();
    };
    first
        .keys()
        .filter_map(|name| {
            let values: Option<Vec<f64>> = runs.iter().map(|run| run.get(name).copied()).collect();
            Some((name.clone(), Estimate::of(&values?)?))
        })
        .collect()
}
