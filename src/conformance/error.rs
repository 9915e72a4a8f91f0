//! What can stop a lab run; every message says what to do about it.

/// A lab run failed.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The lab's Python or one of its packages is missing.
    #[error(
        "the lab's Python ({python}) is not usable: {detail}; install it with .ci/install-python-deps (or pass --python / set THROTTLEBOX_LAB_PYTHON)"
    )]
    Python {
        /// The interpreter tried.
        python: String,
        /// What went wrong.
        detail: String,
    },
    /// A child process (the system under test or the driver) failed.
    #[error("{what}: {detail}")]
    Child {
        /// Which process.
        what: String,
        /// What happened, with the tail of its log.
        detail: String,
    },
    /// The scenario does not fit the system.
    #[error("{0}")]
    Setup(String),
    /// A file could not be written or read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        error: std::io::Error,
    },
}

impl LabError {
    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, error: std::io::Error) -> LabError {
        LabError::Io {
            path: path.display().to_string(),
            error,
        }
    }
}
