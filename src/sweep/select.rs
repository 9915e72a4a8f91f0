//! Loading a scenario (a file or the embedded default) and which strategies a run simulates: `--strategy NAME` keeps some of a scenario's strategies,
//! and [`touched`] tells which strategies a setting reaches — by comparing what the scenario
//! resolves to with and without it, so it holds for any key (`breaker.trip_duration` reaches
//! the strategies that have that breaker; `workload.duration` or `seed` reaches all).

use std::path::Path;

use crate::scenario::{Override, Scenario, ScenarioError};

/// The scenario at `path`, or the embedded default when None, with `overrides`.
pub fn load_scenario(
    path: Option<&Path>,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    match path {
        Some(path) => Scenario::load(path, overrides),
        None => Scenario::embedded_default(overrides),
    }
}

/// `scenario` with only the strategies named in `names` (all when empty), in scenario order.
/// A name the scenario does not have is an error listing the names it has.
pub fn only_strategies(scenario: &Scenario, names: &[String]) -> Result<Scenario, ScenarioError> {
    if names.is_empty() {
        return Ok(scenario.clone());
    }
    for name in names {
        if !scenario.strategies.iter().any(|s| &s.config.name == name) {
            let known: Vec<&str> = scenario
                .strategies
                .iter()
                .map(|s| s.config.name.as_str())
                .collect();
            return Err(ScenarioError::invalid(
                &scenario.origin,
                "--strategy",
                name,
                format!(
                    "the scenario has no strategy of this name (it has: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    let keep: Vec<bool> = scenario
        .strategies
        .iter()
        .map(|s| names.contains(&s.config.name))
        .collect();
    let mut only = scenario.clone();
    let mut flags = keep.iter();
    only.strategies.retain(|_| *flags.next().unwrap_or(&false));
    let mut flags = keep.iter();
    only.file
        .strategies
        .retain(|_| *flags.next().unwrap_or(&false));
    Ok(only)
}

/// `scenario` with strategy `index` alone.
pub fn one_strategy(scenario: &Scenario, index: usize) -> Scenario {
    let mut only = scenario.clone();
    only.strategies = only.strategies.drain(index..=index).collect();
    only.file.strategies = only.file.strategies.drain(index..=index).collect();
    only
}

/// For each strategy of `base`, whether `varied` (the same scenario with more settings)
/// simulates it differently: everything outside the strategies changed (fleet, workload, seed,
/// …: every strategy is reached), or its own entry changed.
pub fn touched(base: &Scenario, varied: &Scenario) -> Vec<bool> {
    let mut base_rest = base.file.clone();
    base_rest.strategies.clear();
    let mut varied_rest = varied.file.clone();
    varied_rest.strategies.clear();
    let everything = base_rest != varied_rest;
    base.strategies
        .iter()
        .zip(&varied.strategies)
        .map(|(a, b)| everything || a.config != b.config)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_with(sets: &[&str]) -> Scenario {
        let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        Scenario::embedded_default(&overrides).unwrap()
    }

    #[test]
    fn a_breaker_setting_reaches_only_the_strategies_with_that_breaker() {
        let base = default_with(&[]);
        let varied = default_with(&["breaker.trip_duration=30s"]);
        let reached: Vec<&str> = base
            .strategies
            .iter()
            .zip(touched(&base, &varied))
            .filter(|(_, touched)| *touched)
            .map(|(s, _)| s.config.name.as_str())
            .collect();
        assert_eq!(reached, ["apim-pool (seed JSON)", "apim-pool trip 10s"]);
        let seed = default_with(&["seed=7"]);
        assert!(touched(&base, &seed).iter().all(|t| *t));
        assert!(touched(&base, &base).iter().all(|t| !*t));
    }

    #[test]
    fn strategies_are_kept_by_name_and_unknown_names_refused() {
        let base = default_with(&[]);
        let only = only_strategies(&base, &["round-robin".to_string()]).unwrap();
        assert_eq!(only.strategies.len(), 1);
        assert_eq!(only.file.strategies[0].name, "round-robin");
        let error = only_strategies(&base, &["nope".to_string()]).unwrap_err();
        assert!(error.to_string().contains("round-robin"), "{error}");
        assert_eq!(
            one_strategy(&base, 2).strategies[0].config.name,
            "apim-smart-policy"
        );
    }
}
