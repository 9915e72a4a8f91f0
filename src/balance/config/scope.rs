//! Field paths for override and range errors (`strategies[<name>].<field>`).

use crate::balance::BalanceError;
use crate::balance::part::{OverrideError, Problem};

/// Where an override is being applied, for error messages.
pub(super) struct Scope<'a> {
    pub(super) strategy: &'a str,
    pub(super) preset: &'a str,
}

impl Scope<'_> {
    pub(super) fn path(&self, field: &str) -> String {
        format!("strategies[{}].{field}", self.strategy)
    }

    pub(super) fn not_applicable(&self, field: &str, detail: String) -> BalanceError {
        BalanceError::NotApplicable {
            path: self.path(field),
            preset: self.preset.to_string(),
            detail,
        }
    }

    pub(super) fn invalid(&self, field: &str, message: String) -> BalanceError {
        BalanceError::field(self.path(field), message)
    }

    /// An override table of `part` (`breaker`) refused: the key path, and the value or the
    /// settings the part does have.
    pub(super) fn refused(&self, part: &str, error: OverrideError) -> BalanceError {
        match error {
            OverrideError::Unknown {
                key,
                part: described,
                settings,
            } => {
                let detail = if settings.is_empty() {
                    format!("its {described}, which has no settings")
                } else {
                    format!(
                        "its {described}, whose settings are {}",
                        settings.join(", ")
                    )
                };
                self.not_applicable(&format!("{part}.{key}"), detail)
            }
            OverrideError::Invalid { key, value, reason } => {
                self.invalid(&format!("{part}.{key}"), format!("{value}: {reason}"))
            }
        }
    }

    /// A range check of `part` (`selector`) failed.
    pub(super) fn out_of_range(&self, part: &str, problem: Problem) -> BalanceError {
        self.invalid(&format!("{part}.{}", problem.setting), problem.message)
    }
}

/// Writes `value` into `slot` if both exist; a value without a slot is an error.
pub(super) fn set<T>(
    scope: &Scope<'_>,
    field: &str,
    value: Option<T>,
    slot: Option<&mut T>,
    part: &str,
) -> Result<(), BalanceError> {
    match (value, slot) {
        (None, _) => Ok(()),
        (Some(value), Some(slot)) => {
            *slot = value;
            Ok(())
        }
        (Some(_), None) => Err(scope.not_applicable(field, format!("its {part}"))),
    }
}
