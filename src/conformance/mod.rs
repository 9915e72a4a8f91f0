//! The conformance lab: the real balancers the presets name — LiteLLM's proxy and `Router`
//! library, openai-priority-loadbalancer, the OpenAI Python SDK's own retries — run in front of
//! the mock fleet on the scenario's seeded schedule, measured the way the simulator measures,
//! and compared with `sim` of the matching preset within bounds taken from the simulator's own
//! seed-to-seed spread (`throttlebox conform`, `tests/conformance_lab.rs`,
//! `benches/conformance.sh`).
//!
//! The pure parts (schedule export, figures, bounds, the generated LiteLLM config) are plain
//! functions; `lab` is the shell that starts processes and sockets.

pub mod compare;
mod driver_run;
mod error;
pub mod figures;
pub mod lab;
pub mod litellm_yaml;
pub mod liveness;
mod options;
mod processes;
pub mod python;
pub mod schedule;
pub mod system;

use serde::Serialize;

pub use compare::{Row, Spread, compare, markdown, markdown_invalid};
pub use error::LabError;
pub use figures::{Figures, RealRecord};
pub use lab::{RealRun, run_real};
pub use liveness::Stopped;
pub use options::{LabOptions, WARMUP_SETTLE};
pub use system::System;

use crate::scenario::{Override, Scenario};
use crate::sim::run_all;

/// One system checked against one strategy.
#[derive(Debug, Clone, Serialize)]
pub struct Conformance {
    /// The real system.
    pub system: System,
    /// The strategy (preset) it was compared with.
    pub strategy: String,
    /// The seed of the real run's schedule.
    pub seed: u64,
    /// Seeds simulated for the spread.
    pub seeds: Vec<u64>,
    /// The simulation on the real run's seed.
    pub sim: Figures,
    /// The real run.
    pub real: Figures,
    /// Figure by figure.
    pub rows: Vec<Row>,
    /// The same real run against the model before a change (`CheckOptions::before`), if
    /// asked: its simulation on the same seed and the rows.
    pub before: Option<(Figures, Vec<Row>)>,
    /// Set when the real system died or stopped answering during the run: the run is invalid
    /// and its figures say nothing about the preset (see [`liveness`]).
    pub stopped: Option<Stopped>,
}

impl Conformance {
    /// Whether the real system answered to the end, so the figures are about it.
    pub fn valid(&self) -> bool {
        self.stopped.is_none()
    }

    /// Whether the run is valid and every figure agrees within its bound.
    pub fn agrees(&self) -> bool {
        self.valid() && self.rows.iter().all(|row| row.within)
    }
}

/// The scenario as the simulation of `system` needs it: only strategy `strategy`, the
/// system's own overrides (its deployment mode) added to `sets`.
pub fn sim_scenario(
    load: &dyn Fn(&[Override]) -> Result<Scenario, String>,
    sets: &[Override],
    system: System,
    strategy: &str,
) -> Result<Scenario, String> {
    let mut all = sets.to_vec();
    for text in system.sim_overrides(strategy) {
        all.push(Override::parse(&text).map_err(|error| error.to_string())?);
    }
    let mut scenario = load(&all)?;
    scenario
        .strategies
        .retain(|resolved| resolved.config.name == strategy);
    if scenario.strategies.is_empty() {
        return Err(format!("the scenario has no strategy named {strategy:?}"));
    }
    Ok(scenario)
}

/// The simulated figures of the (single) strategy of `scenario`.
pub fn simulate(scenario: &Scenario) -> Result<Figures, String> {
    let run = run_all(scenario, None, 1, "throttlebox conform", &|_| {})
        .map_err(|error| error.to_string())?;
    run.summary
        .strategies
        .first()
        .map(Figures::from_sim)
        .ok_or_else(|| "the simulation produced no strategy".to_string())
}

/// Simulates `seeds` (each as `seed = …` on top of `sets`) for the spread.
pub fn simulate_seeds(
    load: &dyn Fn(&[Override]) -> Result<Scenario, String>,
    sets: &[Override],
    system: System,
    strategy: &str,
    seeds: &[u64],
) -> Result<Vec<Figures>, String> {
    seeds
        .iter()
        .map(|seed| {
            let mut with_seed = sets.to_vec();
            with_seed.push(Override::parse(&format!("seed={seed}")).map_err(|e| e.to_string())?);
            simulate(&sim_scenario(load, &with_seed, system, strategy)?)
        })
        .collect()
}

/// What [`check`] needs besides the scenario.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The strategy to check (default: the first one `system` can stand for).
    pub strategy: Option<String>,
    /// Seeds simulated for the spread (the real run's seed is simulated on its own).
    pub seeds: Vec<u64>,
    /// Overrides that give the model before a change (e.g. `strategies[x].litellm.version=
    /// legacy`): the real run is compared with that simulation too.
    pub before: Vec<Override>,
    /// Where and how the real system runs.
    pub lab: LabOptions,
}

/// Runs `system` for one strategy of the scenario `load` gives (with `sets`), simulates it on
/// its seed and on `options.seeds`, and compares.
pub async fn check(
    load: &(dyn Fn(&[Override]) -> Result<Scenario, String> + Sync),
    sets: &[Override],
    system: System,
    options: &CheckOptions,
) -> Result<Conformance, String> {
    let base = load(sets)?;
    let strategy = match &options.strategy {
        Some(name) => name.clone(),
        None => base
            .strategies
            .iter()
            .find(|resolved| system.checks(resolved.config.preset))
            .map(|resolved| resolved.config.name.clone())
            .ok_or_else(|| {
                format!(
                    "no strategy of the scenario is one {} can stand for",
                    system.name()
                )
            })?,
    };
    let scenario = sim_scenario(load, sets, system, &strategy)?;
    let sim = simulate(&scenario)?;
    let spread = simulate_seeds(load, sets, system, &strategy, &options.seeds)?;
    let real_run = run_real(&scenario, 0, system, &options.lab)
        .await
        .map_err(|error| error.to_string())?;
    let real = Figures::from_real(&real_run.records, &real_run.attempts);
    let rows = compare(&sim, &spread, &real);
    let before = if options.before.is_empty() {
        None
    } else {
        let sets: Vec<Override> = sets.iter().chain(&options.before).cloned().collect();
        let sim = simulate(&sim_scenario(load, &sets, system, &strategy)?)?;
        let spread = simulate_seeds(load, &sets, system, &strategy, &options.seeds)?;
        let rows = compare(&sim, &spread, &real);
        Some((sim, rows))
    };
    Ok(Conformance {
        system,
        strategy,
        seed: scenario.file.seed,
        seeds: options.seeds.clone(),
        sim,
        real,
        rows,
        before,
        stopped: real_run.stopped,
    })
}
