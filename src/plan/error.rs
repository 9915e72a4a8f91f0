//! Why a plan could not be made: a bad flag or target, a scenario the planner cannot resize,
//! a candidate fleet that does not load or simulate. The command maps them to exit code 2.

use crate::parallel::WorkerPanic;
use crate::scenario::ScenarioError;
use crate::sim::SimError;

/// A planning error.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A flag or target is malformed.
    #[error("{field} = {value}: {reason}")]
    Input {
        /// The flag (`--slo`, `--headroom`).
        field: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The scenario (or a candidate built from it) is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A candidate's simulation failed.
    #[error("simulating {fleet}: {source}")]
    Sim {
        /// The candidate fleet.
        fleet: String,
        /// Why.
        source: Box<SimError>,
    },
    /// A worker thread panicked (a bug): the plan is abandoned with the item and message.
    #[error(transparent)]
    Worker(#[from] WorkerPanic),
    /// The stop flag was raised (SIGINT, SIGTERM) before every candidate was simulated: a
    /// plan needs them all, so there is none.
    #[error("stopped before every candidate fleet was simulated: no plan")]
    Stopped,
    /// Writing an output failed.
    #[error("{path}: {message}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

impl PlanError {
    /// A malformed flag value.
    pub fn input(
        field: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        PlanError::Input {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
