//! Why a live run, gateway or load could not go on.

use crate::report::ReportError;
use crate::scenario::ScenarioError;
use crate::workload::WorkloadError;

/// A live-run failure.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The scenario could not be turned into a run.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The workload failed mid-run (a bad trace row).
    #[error("workload: {0}")]
    Workload(#[from] WorkloadError),
    /// Writing records or reports failed.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A socket could not be bound or served.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A setting is unusable (names the flag or field and the value).
    #[error("{field}: {reason}")]
    Invalid {
        /// The flag or field.
        field: String,
        /// Why.
        reason: String,
    },
    /// goose refused the attack or failed during it.
    #[error("goose: {0}")]
    Goose(String),
}

impl LiveError {
    /// An I/O failure while doing `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> LiveError {
        LiveError::Io {
            what: what.into(),
            source,
        }
    }

    /// A bad setting.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> LiveError {
        LiveError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
