//! Range checks on a resolved composition, so imported pools and overrides meet the same
//! rules; each refusal names the field path and the value. Each part checks its own
//! parameters ([`Part::check`]); the strategy-level values are checked here.

use super::scope::Scope;
use crate::balance::BalanceError;
use crate::balance::exhaustion::Exhaustion;
use crate::balance::part::Part;
use crate::balance::strategy::Composition;

/// Range checks on the resolved values (so imports and overrides get the same checks).
pub(super) fn check_values(
    scope: &Scope<'_>,
    composition: &Composition,
) -> Result<(), BalanceError> {
    let fail = |field: &str, message: String| Err(scope.invalid(field, message));
    composition
        .breaker
        .check()
        .map_err(|problem| scope.out_of_range("breaker", problem))?;
    composition
        .selector
        .check()
        .map_err(|problem| scope.out_of_range("selector", problem))?;
    composition
        .retry
        .check()
        .map_err(|problem| scope.out_of_range("retry", problem))?;
    if let Some(threshold) = composition.panic_threshold
        && threshold > 100
    {
        return fail("panic_threshold", format!("{threshold}: must be 0–100"));
    }
    if let Some(factor) = composition.overprovisioning
        && !(factor.is_finite() && factor > 0.0)
    {
        return fail("overprovisioning", format!("{factor}: must be positive"));
    }
    match composition.exhaustion {
        Exhaustion::ApimUnavailable { status } | Exhaustion::Status { status }
            if !(100..=599).contains(&status) =>
        {
            fail("exhausted_status", format!("{status}: not an HTTP status"))
        }
        _ => Ok(()),
    }
}
