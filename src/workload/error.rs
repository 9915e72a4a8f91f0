//! The one error type of the workload layer: bad configuration (naming the key path and value)
//! and bad trace input (naming the file, line, column and value).

use std::path::PathBuf;

/// Why a workload could not be built or a trace could not be read: a [`WorkloadErrorKind`],
/// boxed so that `Result<Request, WorkloadError>` (every item of the request stream, copied
/// on each step of the simulator) is no larger than a [`Request`](super::Request).
#[derive(thiserror::Error)]
#[error(transparent)]
pub struct WorkloadError(Box<WorkloadErrorKind>);

impl WorkloadError {
    /// What went wrong.
    pub fn kind(&self) -> &WorkloadErrorKind {
        &self.0
    }
}

impl From<WorkloadErrorKind> for WorkloadError {
    fn from(kind: WorkloadErrorKind) -> Self {
        WorkloadError(Box::new(kind))
    }
}

impl std::fmt::Debug for WorkloadError {
    /// As the kind (the box is an implementation detail).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The kinds of [`WorkloadError`].
#[derive(Debug, thiserror::Error)]
pub enum WorkloadErrorKind {
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
        WorkloadError::from(WorkloadErrorKind::Invalid {
            path: path.into(),
            value: value.to_string(),
            reason: reason.into(),
        })
    }
}
