//! `BalanceError`: every refusal of a strategy config or an APIM pool import, naming the
//! field path and the value so a user can fix the file.

/// Why a strategy could not be built or a pool could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BalanceError {
    /// A field has a value that cannot be used.
    #[error("{path}: {message}")]
    InvalidField {
        /// Field path, e.g. `strategies[apim-pool-30s].breaker.count`.
        path: String,
        /// What is wrong, quoting the value.
        message: String,
    },
    /// An override was given that the preset's parts do not have.
    #[error("{path}: does not apply to preset {preset:?} ({detail})")]
    NotApplicable {
        /// Field path of the override.
        path: String,
        /// The preset it was given for.
        preset: String,
        /// Which part the preset uses instead.
        detail: String,
    },
    /// A JSON document could not be parsed at all.
    #[error("{source_name}: invalid JSON: {message}")]
    Json {
        /// File name (or other source label).
        source_name: String,
        /// The parser's message, with line and column.
        message: String,
    },
}

impl BalanceError {
    /// An `InvalidField` error.
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        BalanceError::InvalidField {
            path: path.into(),
            message: message.into(),
        }
    }
}
