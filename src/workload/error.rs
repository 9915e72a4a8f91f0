//! The one error type of the workload layer: bad configuration (naming the key path and value)
//! and bad trace input (naming the file, line, column and value).

use std::path::PathBuf;

/// Why a workload could not be built or a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A configuration value is missing, out of range or inconsistent.
    #[error("{path} = {value}: {reason}")]
    Invalid {
        /// Key path in the scenario file, e.g. `workload.apps[0].arrivals.rate`.
        path: String,
        /// The offending value as written (or `(missing)`).
        value: String,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// The trace file could not be opened or read.
    #[error("trace {file}: {source}")]
    TraceIo {
        /// The trace file.
        file: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The CSV layer refused the file (bad quoting, uneven rows, invalid UTF-8...).
    #[error("trace {file}, line {line}: {source}")]
    TraceCsv {
        /// The trace file.
        file: PathBuf,
        /// 1-based line in the file (the header is line 1).
        line: u64,
        /// The csv crate's error.
        source: csv::Error,
    },
    /// The header lacks a column the format needs.
    #[error("trace {file}: header has no column {column:?} (columns: {found})")]
    TraceHeader {
        /// The trace file.
        file: PathBuf,
        /// The missing column name.
        column: String,
        /// The columns the header does have, comma-separated.
        found: String,
    },
    /// One field of one row could not be parsed.
    #[error("trace {file}, line {line}, column {column}: {value:?}: {reason}")]
    TraceField {
        /// The trace file.
        file: PathBuf,
        /// 1-based line in the file (the header is line 1).
        line: u64,
        /// The column name.
        column: String,
        /// The field as written.
        value: String,
        /// What was expected.
        reason: String,
    },
}

impl WorkloadError {
    /// A configuration error at `path` with the offending `value`.
    pub fn invalid(
        path: impl Into<String>,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        WorkloadError::Invalid {
            path: path.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
