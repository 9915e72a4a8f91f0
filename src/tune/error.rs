//! Why a tune could not run: a bad flag, a scenario or setting that does not load, a
//! simulation that failed, an output that could not be drawn. The command maps them to exit
//! code 2.

use crate::parallel::WorkerPanic;
use crate::report::ReportError;
use crate::report::bound::BoundError;
use crate::scenario::ScenarioError;
use crate::sim::SimError;

/// A tuning error.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// A flag's value is malformed.
    #[error("{flag} {value:?}: {reason}")]
    Usage {
        /// The flag (`--param`, `--objective`).
        flag: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A constraint is malformed.
    #[error(transparent)]
    Bound(#[from] BoundError),
    /// The scenario, or a setting applied to it, is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A simulation failed.
    #[error("simulating {setting}: {source}")]
    Sim {
        /// The setting and seed.
        setting: String,
        /// Why.
        source: Box<SimError>,
    },
    /// A simulation panicked (a bug).
    #[error(transparent)]
    Panicked(#[from] WorkerPanic),
    /// An output could not be drawn.
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl TuneError {
    /// A malformed flag value.
    pub fn usage(
        flag: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        TuneError::Usage {
            flag: flag.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
