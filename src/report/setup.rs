//! What a run's reports need to know besides its records: names behind the record indices,
//! PTU counts, prices, SLOs, and the run's identity. Built once by the caller (from the
//! validated scenario) and shared by the recorders and writers.

use std::time::Duration;

use super::cost::CostConfig;
use super::error::ReportError;
use super::labels::{BackendInfo, Mode};
use super::slo::SloConfig;

/// Everything about a run the records refer to by index.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSetup {
    /// Scenario name.
    pub scenario: String,
    /// Scenario seed.
    pub seed: u64,
    /// Which driver.
    pub mode: Mode,
    /// The run's length (the scenario duration); PTU cost and rates use it.
    pub duration: Duration,
    /// Strategy names, indexed by `StrategyIndex`.
    pub strategies: Vec<String>,
    /// Backends, indexed by `BackendIndex`. Spillover targets that are not pool members are
    /// listed too, so `served_by` can name them.
    pub backends: Vec<BackendInfo>,
    /// Application (request-mix entry) names, indexed by `AppIndex`.
    pub apps: Vec<String>,
    /// Prices (`[costs]`).
    pub costs: CostConfig,
    /// Service-level objectives (`[slo]`).
    pub slo: SloConfig,
}

impl RunSetup {
    /// Check what the writers rely on: indices fit in `u16`; names are non-empty and unique
    /// per table (CSV files are read back by name); backend names contain no `;` (the
    /// `backends_tried` separator) and are not `all` (the timeseries total row); prices and
    /// SLOs are sane and `[costs.deployments]` names real backends.
    pub fn validate(&self) -> Result<(), ReportError> {
        let backend_names: Vec<&String> = self.backends.iter().map(|b| &b.name).collect();
        let strategy_names: Vec<&String> = self.strategies.iter().collect();
        let app_names: Vec<&String> = self.apps.iter().collect();
        for (table, names) in [
            ("strategies", &strategy_names),
            ("backends", &backend_names),
            ("apps", &app_names),
        ] {
            let mut sorted = names.clone();
            sorted.sort();
            if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(ReportError::Invalid {
                    field: table.to_string(),
                    reason: format!("name {:?} appears more than once", pair[0]),
                });
            }
            if names.iter().any(|name| name.is_empty()) {
                return Err(ReportError::Invalid {
                    field: table.to_string(),
                    reason: "empty name".to_string(),
                });
            }
        }
        if let Some(name) = backend_names
            .iter()
            .find(|name| name.contains(';') || name.as_str() == "all")
        {
            return Err(ReportError::Invalid {
                field: format!("backends.{name}"),
                reason: "backend names may not contain ';' nor be \"all\"".to_string(),
            });
        }
        for (table, len) in [
            ("strategies", self.strategies.len()),
            ("backends", self.backends.len()),
            ("apps", self.apps.len()),
        ] {
            if len > usize::from(u16::MAX) {
                return Err(ReportError::Invalid {
                    field: table.to_string(),
                    reason: format!("{len} entries; at most {} are supported", u16::MAX),
                });
            }
        }
        self.costs.validate(&self.backends)?;
        self.slo.validate()
    }

    /// The name of strategy `index`, or an error naming the bad index.
    pub fn strategy_name(&self, index: u16) -> Result<&str, ReportError> {
        lookup(&self.strategies, index, "strategy")
    }

    /// The name of backend `index`, or an error naming the bad index.
    pub fn backend_name(&self, index: u16) -> Result<&str, ReportError> {
        self.backends
            .get(usize::from(index))
            .map(|backend| backend.name.as_str())
            .ok_or_else(|| unknown("backend", index, self.backends.len()))
    }

    /// The name of app `index`, or an error naming the bad index.
    pub fn app_name(&self, index: u16) -> Result<&str, ReportError> {
        lookup(&self.apps, index, "app")
    }
}

fn lookup<'a>(names: &'a [String], index: u16, kind: &'static str) -> Result<&'a str, ReportError> {
    names
        .get(usize::from(index))
        .map(String::as_str)
        .ok_or_else(|| unknown(kind, index, names.len()))
}

fn unknown(kind: &'static str, index: u16, len: usize) -> ReportError {
    ReportError::UnknownIndex { kind, index, len }
}
