//! Why a gate could not judge: a bad flag, an unreadable or malformed file, a baseline of
//! another scenario. Every message names the file (or flag) and the field. The command maps
//! all of them to exit code 2; a judged failure is not an error.

use std::path::PathBuf;

/// A usage or input error of the gate.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// A value (flag, file field) is malformed or out of range.
    #[error("{field} = {value}: {reason}")]
    Input {
        /// Where: `--budget`, `results/x/summary.json: strategies[0].ttft`, …
        field: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (printed in the message, so not chained as a source).
        error: std::io::Error,
    },
    /// A JSON file does not match its schema; serde's message names the field, line and column.
    #[error("{path}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The baseline was recorded for another scenario, seed, mode or schema.
    #[error("{path}: {field} is {baseline:?} but the run's is {run:?}{hint}")]
    Incompatible {
        /// The baseline file.
        path: PathBuf,
        /// `scenario`, `seed`, `mode` or `summary_schema_version`.
        field: &'static str,
        /// The baseline's value.
        baseline: String,
        /// The run's value.
        run: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// Writing the JUnit XML failed.
    #[error("JUnit XML: {0}")]
    Junit(#[from] quick_junit::SerializeError),
}

impl GateError {
    /// A malformed value.
    pub fn input(
        field: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        GateError::Input {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        GateError::Io {
            path: path.into(),
            error,
        }
    }
}
