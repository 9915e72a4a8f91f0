//! The one error of the scenario layer: every refusal names the file (or `<embedded>`), the key
//! path and the offending value, whatever layer found it.

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{origin}: cannot read: {error}")]
    Io {
        /// The file.
        origin: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// Not TOML, or not the schema (unknown key, wrong type); the parser's message names the
    /// key and line.
    #[error("{origin}: {message}")]
    Parse {
        /// The file.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A value breaks a rule.
    #[error("{origin}: {path} = {value}: {reason}")]
    Invalid {
        /// The file.
        origin: String,
        /// Key path, e.g. `strategies[1].breaker.trip_duration`.
        path: String,
        /// The value as written.
        value: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A lower layer (fleet, workload, balance, report) refused part of the file; its message
    /// already names the key path and value.
    #[error("{origin}: {message}")]
    Part {
        /// The file.
        origin: String,
        /// The lower layer's message.
        message: String,
    },
}

impl ScenarioError {
    /// A rule violation.
    pub fn invalid(
        origin: &str,
        path: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        ScenarioError::Invalid {
            origin: origin.to_string(),
            path: path.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// A lower layer's refusal, prefixed with the table it concerns when its message lacks it.
    pub fn part(origin: &str, message: impl std::fmt::Display) -> Self {
        ScenarioError::Part {
            origin: origin.to_string(),
            message: message.to_string(),
        }
    }
}
