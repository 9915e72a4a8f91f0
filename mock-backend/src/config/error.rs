//! Configuration errors: every refusal names the origin (file), the key path and the value.

/// Why a fleet configuration was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid TOML or does not match the schema (unknown key, wrong type).
    #[error("{origin}: {message}")]
    Parse {
        /// The file (or other source) the text came from.
        origin: String,
        /// The parser's message, which names the key and the line.
        message: String,
    },
    /// A value is well-typed but breaks a rule (range, cross-field, reference).
    #[error("{origin}: {path} = {value}: {reason}")]
    Invalid {
        /// The file (or other source) the value came from.
        origin: String,
        /// Key path, e.g. `resources[1].deployments[0].tpm`.
        path: String,
        /// The offending value as written.
        value: String,
        /// The rule it breaks.
        reason: String,
    },
}

impl ConfigError {
    /// A rule violation at `path` (origin filled in by the caller).
    pub fn invalid(
        path: impl Into<String>,
        value: impl std::fmt::Debug,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            origin: String::new(),
            path: path.into(),
            value: format!("{value:?}"),
            reason: reason.into(),
        }
    }

    /// The same error attributed to `origin`, with `prefix` (e.g. `fleet.`) put before its path.
    pub fn located(self, origin: &str, prefix: &str) -> Self {
        match self {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                origin: origin.to_string(),
                message,
            },
            ConfigError::Invalid {
                path,
                value,
                reason,
                ..
            } => ConfigError::Invalid {
                origin: origin.to_string(),
                path: format!("{prefix}{path}"),
                value,
                reason,
            },
        }
    }
}
