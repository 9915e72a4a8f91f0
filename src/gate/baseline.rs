//! Baselines (`results/baselines/NAME.json`): the per-strategy figures of a run the project
//! accepted, with the scenario name, seed, mode and summary schema they came from, and the
//! `gate` section (budgets, significance level) a gate against them applies. Live baselines
//! also keep each repeated run's figures for the rank test.
//!
//! ```json
//! {
//!   "baseline_version": 1,
//!   "summary_schema_version": 1,
//!   "scenario": "ptu-payg-pool",
//!   "seed": 42,
//!   "mode": "sim",
//!   "gate": { "budgets": { "p99_ttft": "+10%", "success_ratio": "-0.5pt" }, "alpha": 0.05 },
//!   "strategies": [ { "name": "round-robin", "figures": { "p99_ttft": 1.407, "cost": 13.7975 } } ]
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::budget::{Budget, BudgetSet, DEFAULT_BUDGETS};
use super::error::GateError;
use crate::report::metric::{Figures, figures};
use crate::report::{Mode, SCHEMA_VERSION, Summary};

/// Version of the baseline file format; bump on an incompatible change.
pub const BASELINE_VERSION: u32 = 1;

/// Default significance level of the live rank test.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// A committed baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// [`BASELINE_VERSION`] of the writer.
    pub baseline_version: u32,
    /// `schema_version` of the summaries the figures were read from.
    pub summary_schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Scenario seed.
    pub seed: u64,
    /// `sim` (compared exactly) or `live` (rank test over repeated runs).
    pub mode: Mode,
    /// Budgets and test settings for gates against this baseline.
    #[serde(default)]
    pub gate: GateSection,
    /// One entry per strategy, in scenario order.
    pub strategies: Vec<BaselineStrategy>,
}

/// The baseline's `gate` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    /// `metric → change` (`"p99_ttft": "+10%"`); replaces the defaults when present.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub budgets: BTreeMap<String, String>,
    /// Significance level of the live rank test (default 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
}

/// One strategy's accepted figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineStrategy {
    /// Strategy name.
    pub name: String,
    /// The figures of the run the baseline was taken from.
    pub figures: Figures,
    /// Live baselines: the figures of every repeated run (the first is `figures`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Figures>,
}

impl Baseline {
    /// A baseline of `runs[0]` (and, for live runs, every run's figures), with `gate`.
    pub fn from_runs(runs: &[Summary], gate: GateSection) -> Option<Baseline> {
        let first = runs.first()?;
        let strategies = first
            .strategies
            .iter()
            .map(|strategy| BaselineStrategy {
                name: strategy.name.clone(),
                figures: figures(strategy),
                runs: if first.mode == Mode::Live {
                    runs.iter()
                        .filter_map(|run| run.strategies.iter().find(|s| s.name == strategy.name))
                        .map(figures)
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        Some(Baseline {
            baseline_version: BASELINE_VERSION,
            summary_schema_version: first.schema_version,
            scenario: first.scenario.clone(),
            seed: first.seed,
            mode: first.mode,
            gate,
            strategies,
        })
    }

    /// Read and check a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, GateError> {
        let text = std::fs::read_to_string(path).map_err(|error| GateError::io(path, error))?;
        let baseline: Baseline =
            serde_json::from_str(&text).map_err(|error| GateError::Malformed {
                path: path.to_path_buf(),
                message: error.to_string(),
            })?;
        if baseline.baseline_version != BASELINE_VERSION {
            return Err(GateError::input(
                format!("{}: baseline_version", path.display()),
                baseline.baseline_version,
                format!(
                    "this throttlebox reads version {BASELINE_VERSION}; re-record it with --update-baseline"
                ),
            ));
        }
        Ok(baseline)
    }

    /// Write the baseline as pretty JSON (creating parent folders).
    pub fn save(&self, path: &Path) -> Result<(), GateError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| GateError::io(parent, error))?;
        }
        let mut text =
            serde_json::to_string_pretty(self).map_err(|error| GateError::Malformed {
                path: path.to_path_buf(),
                message: error.to_string(),
            })?;
        text.push('\n');
        std::fs::write(path, text).map_err(|error| GateError::io(path, error))
    }

    /// Refuse a baseline of another scenario, seed or mode (unless `force`) and always one of
    /// another summary schema.
    pub fn check_compatible(
        &self,
        path: &Path,
        run: &Summary,
        force: bool,
    ) -> Result<(), GateError> {
        let incompatible = |field, baseline: String, run: String, hint| GateError::Incompatible {
            path: path.to_path_buf(),
            field,
            baseline,
            run,
            hint,
        };
        if self.summary_schema_version != run.schema_version {
            return Err(incompatible(
                "summary_schema_version",
                self.summary_schema_version.to_string(),
                run.schema_version.to_string(),
                "; re-record the baseline with --update-baseline",
            ));
        }
        if force {
            return Ok(());
        }
        const HINT: &str = "; gate against a baseline of the same scenario, or pass --force";
        if self.scenario != run.scenario {
            return Err(incompatible(
                "scenario",
                self.scenario.clone(),
                run.scenario.clone(),
                HINT,
            ));
        }
        if self.seed != run.seed {
            return Err(incompatible(
                "seed",
                self.seed.to_string(),
                run.seed.to_string(),
                HINT,
            ));
        }
        if self.mode != run.mode {
            return Err(incompatible(
                "mode",
                self.mode.as_str().to_string(),
                run.mode.as_str().to_string(),
                HINT,
            ));
        }
        Ok(())
    }

    /// The budgets of the `gate` section (the defaults when it names none), then `overrides`.
    pub fn budgets(&self, path: &Path, overrides: &[Budget]) -> Result<BudgetSet, GateError> {
        let mut set = if self.gate.budgets.is_empty() {
            BudgetSet::defaults()
        } else {
            let source = format!("{}: gate.budgets", path.display());
            let mut set = BudgetSet::default();
            for (name, change) in &self.gate.budgets {
                set.insert(Budget::from_parts(name, change, &source)?);
            }
            set
        };
        for budget in overrides {
            set.insert(*budget);
        }
        Ok(set)
    }

    /// The live test's significance level, checked to lie in (0, 1).
    pub fn alpha(&self, path: &Path) -> Result<f64, GateError> {
        let alpha = self.gate.alpha.unwrap_or(DEFAULT_ALPHA);
        if alpha > 0.0 && alpha < 1.0 {
            Ok(alpha)
        } else {
            Err(GateError::input(
                format!("{}: gate.alpha", path.display()),
                alpha,
                "a significance level lies strictly between 0 and 1",
            ))
        }
    }
}

impl GateSection {
    /// The defaults written out, so a new baseline shows (and lets one edit) its budgets.
    pub fn with_default_budgets() -> GateSection {
        GateSection {
            budgets: DEFAULT_BUDGETS
                .iter()
                .map(|(name, change)| (name.to_string(), change.to_string()))
                .collect(),
            alpha: None,
        }
    }
}

/// Read `summary.json` of a run folder (or a `.json` file given directly), checking its
/// schema version.
pub fn load_summary(run: &Path) -> Result<(PathBuf, Summary), GateError> {
    let path = if run.extension().is_some_and(|ext| ext == "json") {
        run.to_path_buf()
    } else {
        run.join(crate::report::run_dir::SUMMARY_JSON)
    };
    let text = std::fs::read_to_string(&path).map_err(|error| GateError::io(&path, error))?;
    let summary: Summary = serde_json::from_str(&text).map_err(|error| GateError::Malformed {
        path: path.clone(),
        message: error.to_string(),
    })?;
    if summary.schema_version != SCHEMA_VERSION {
        return Err(GateError::input(
            format!("{}: schema_version", path.display()),
            summary.schema_version,
            format!("this throttlebox reads summary schema {SCHEMA_VERSION}"),
        ));
    }
    Ok((path, summary))
}
