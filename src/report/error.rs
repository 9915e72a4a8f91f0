//! Errors of the report layer: bad configuration, records that name unknown indices, I/O.

use std::path::PathBuf;

/// Why a report could not be produced or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A configuration value is out of range or names something that does not exist.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field, e.g. `costs.deployments.payg-west.input_per_1k`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A record refers to a strategy, backend or app the run does not have.
    #[error("record names {kind} #{index} but the run has {len} {kind}(s)")]
    UnknownIndex {
        /// `strategy`, `backend` or `app`.
        kind: &'static str,
        /// The index found in the record.
        index: u16,
        /// How many the run has.
        len: usize,
    },
    /// A CSV row could not be parsed back into a record.
    #[error("{file}: row {row}, column {column}: cannot parse {value:?}: {reason}")]
    BadRow {
        /// File name (e.g. `requests.csv`).
        file: &'static str,
        /// 1-based data row number.
        row: u64,
        /// Column name.
        column: &'static str,
        /// The text found.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Writing or reading a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (printed in the message, so not chained as a source: an
        /// error chain would print it twice).
        error: std::io::Error,
    },
    /// Writing a file failed; the message already names the file (see
    /// [`super::atomic_file::AtomicFile`]).
    #[error("{0}")]
    Named(std::io::Error),
    /// The run folder exists and replacing it was not asked for.
    #[error(
        "{path}: a run folder of that name already exists; pass --force to replace it, or choose another --run"
    )]
    RunExists {
        /// The folder.
        path: PathBuf,
    },
    /// `--force` was given, but the folder holds no throttlebox result.
    #[error(
        "{path}: exists and holds no throttlebox result (summary.json, sweep.csv or plan.json); --force replaces only run folders: move it away yourself"
    )]
    NotARunFolder {
        /// The folder.
        path: PathBuf,
    },
    /// The CSV encoder failed (printed in the message, not chained as a source).
    #[error("CSV: {0}")]
    Csv(csv::Error),
    /// The JSON encoder failed (printed in the message, not chained as a source).
    #[error("JSON: {0}")]
    Json(serde_json::Error),
}

impl From<csv::Error> for ReportError {
    fn from(error: csv::Error) -> Self {
        ReportError::Csv(error)
    }
}

impl From<serde_json::Error> for ReportError {
    fn from(error: serde_json::Error) -> Self {
        ReportError::Json(error)
    }
}

impl ReportError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            error,
        }
    }
}
