//! The one error of calibration: every refusal of an input names the file, the line and the
//! column (or key) and the offending value; refusals of the result name what was wrong.

use std::path::PathBuf;

use crate::report::ReportError;
use crate::scenario::ScenarioError;
use crate::workload::WorkloadError;

/// Why logs could not be calibrated (or exported).
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// A file could not be opened, read or written.
    #[error("{}: {error}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A value in a log row is malformed.
    #[error("{}, line {line}, column {column}: {value:?}: {reason}", file.display())]
    Field {
        /// The log file.
        file: PathBuf,
        /// 1-based line (a CSV header is line 1).
        line: u64,
        /// The column (CSV header name or JSON key) as written in the file.
        column: String,
        /// The value as written.
        value: String,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// A file lacks a column the format needs.
    #[error("{}, line 1: no column {column} ({reason}); columns found: {found}", file.display())]
    Header {
        /// The log file.
        file: PathBuf,
        /// The column (or the alternatives) looked for.
        column: String,
        /// Why it is needed.
        reason: String,
        /// The columns the file has.
        found: String,
    },
    /// The logs mix deployments that one scenario pool cannot serve together.
    #[error(
        "{}, line {line}, column {column}: the logs mix deployments ({found}); a scenario \
         pool serves one deployment name: calibrate one of them with --deployment NAME",
        file.display()
    )]
    MixedDeployments {
        /// The file of the first row of the second deployment.
        file: PathBuf,
        /// Its line.
        line: u64,
        /// The deployment column.
        column: String,
        /// Each deployment with its row count.
        found: String,
    },
    /// Nothing usable was read.
    #[error("{0}")]
    NoRows(String),
    /// An option or derived value is out of range.
    #[error("{what} = {value}: {reason}")]
    Invalid {
        /// The option or value.
        what: String,
        /// Its value.
        value: String,
        /// The rule it breaks.
        reason: String,
    },
    /// The template or the calibrated scenario was refused by the scenario loader.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The calibrated workload was refused when re-drawn.
    #[error("calibrated workload: {0}")]
    Workload(#[from] WorkloadError),
    /// Writing a report failed.
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl CalibrateError {
    /// An out-of-range option or value.
    pub fn invalid(
        what: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        CalibrateError::Invalid {
            what: what.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// An I/O failure on `file`.
    pub fn io(file: impl Into<PathBuf>, error: std::io::Error) -> Self {
        CalibrateError::Io {
            file: file.into(),
            error,
        }
    }
}
