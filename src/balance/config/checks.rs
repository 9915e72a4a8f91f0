//! Range checks on a resolved composition, so imported pools and overrides meet the same
//! rules; each refusal names the field path and the value.

use super::scope::Scope;
use crate::balance::BalanceError;
use crate::balance::breaker::BreakerConfig;
use crate::balance::breaker::apim::ApimRule;
use crate::balance::exhaustion::Exhaustion;
use crate::balance::selector::SelectorConfig;
use crate::balance::strategy::Composition;

/// Range checks of one APIM rule.
fn check_apim(scope: &Scope<'_>, rule: &ApimRule) -> Result<(), BalanceError> {
    let fail = |field: &str, message: String| Err(scope.invalid(field, message));
    if rule.count.is_none() && rule.percentage.is_none() {
        return fail(
            "breaker.count",
            "missing: an APIM rule needs `count` or `percentage`".into(),
        );
    }
    if rule.count == Some(0) {
        return fail("breaker.count", "0: must be at least 1".into());
    }
    if let Some(share) = rule.percentage
        && !(1..=100).contains(&share)
    {
        return fail("breaker.percentage", format!("{share}: must be 1–100"));
    }
    if rule.interval.is_zero() {
        return fail("breaker.interval", "0: must be positive".into());
    }
    if rule.failure_statuses.is_empty() {
        return fail(
            "breaker.status_codes",
            "empty: nothing would count as a failure".into(),
        );
    }
    Ok(())
}

/// Range checks on the resolved values (so imports and overrides get the same checks).
pub(super) fn check_values(
    scope: &Scope<'_>,
    composition: &Composition,
) -> Result<(), BalanceError> {
    let fail = |field: &str, message: String| Err(scope.invalid(field, message));
    match &composition.breaker {
        BreakerConfig::Apim(rule) => check_apim(scope, rule)?,
        BreakerConfig::ApimPerBackend { rules } => {
            for rule in rules.iter().flatten() {
                check_apim(scope, rule)?;
            }
        }
        BreakerConfig::Envoy(rule) => {
            if rule.consecutive == 0 {
                return fail("breaker.consecutive", "0: must be at least 1".into());
            }
            if rule.max_ejection_percent > 100 {
                return fail(
                    "breaker.max_ejection_percent",
                    format!("{}: must be 0–100", rule.max_ejection_percent),
                );
            }
            if rule.enforcing_success_rate > 100 {
                return fail(
                    "breaker.enforcing_success_rate",
                    format!("{}: must be 0–100", rule.enforcing_success_rate),
                );
            }
            if rule.success_rate_request_volume == 0 {
                return fail(
                    "breaker.success_rate_request_volume",
                    "0: must be at least 1".into(),
                );
            }
        }
        BreakerConfig::Resilience4j(rule) => {
            for (field, value) in [
                (
                    "breaker.failure_rate_threshold",
                    rule.failure_rate_threshold,
                ),
                (
                    "breaker.slow_call_rate_threshold",
                    rule.slow_call_rate_threshold,
                ),
            ] {
                if !(value > 0.0 && value <= 100.0) {
                    return fail(field, format!("{value}: must be in (0, 100]"));
                }
            }
            if rule.half_open_calls == 0 || rule.window_size == 0 {
                return fail(
                    "breaker.window_size",
                    "half_open_calls and window_size must be at least 1".into(),
                );
            }
        }
        BreakerConfig::Kong(rule) => {
            if rule.max_fails == 0 {
                return fail("breaker.max_fails", "0: must be at least 1".into());
            }
        }
        BreakerConfig::Litellm(rule) => {
            if !(0.0..=1.0).contains(&rule.failure_threshold) {
                return fail(
                    "breaker.failure_threshold",
                    format!("{}: must be 0–1", rule.failure_threshold),
                );
            }
        }
        BreakerConfig::Hystrix(rule) => {
            if rule.rolling_window_seconds == 0 || rule.error_threshold_percentage > 100 {
                return fail(
                    "breaker.rolling_window_seconds",
                    "rolling_window_seconds must be ≥ 1 and error_threshold_percentage ≤ 100"
                        .into(),
                );
            }
        }
        BreakerConfig::ThrottleFlag(_) | BreakerConfig::None => {}
    }
    match &composition.selector {
        SelectorConfig::PowerOfD(config) if config.d == 0 => {
            fail("selector.d", "0: must be at least 1".into())
        }
        SelectorConfig::LowestLatency(config) if config.buffer.is_nan() || config.buffer < 0.0 => {
            fail("selector.buffer", format!("{}: must be ≥ 0", config.buffer))
        }
        SelectorConfig::LowestLatency(config) if config.max_samples == 0 => {
            fail("selector.max_samples", "0: must be at least 1".into())
        }
        SelectorConfig::PeakEwma(config) if config.decay.is_zero() => {
            fail("selector.decay", "0: must be positive".into())
        }
        _ => Ok(()),
    }?;
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
