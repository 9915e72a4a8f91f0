//! Planning targets: `--slo 'p99_ttft<2s,success>=99.5%'`, the bounds of
//! [`crate::report::bound`] (the one grammar `gate`, `sweep --constraint` and `tune` read, with
//! the metric vocabulary's short names `success`, `429`, `5xx`, `goodput`), at least one of
//! them; and the `--headroom`/`--cache-hit-rate` fractions.

use super::error::PlanError;
use crate::report::bound::parse_bounds;
pub use crate::report::bound::{Bound as Target, Comparison};

/// The flag the targets are given to.
const FLAG: &str = "--slo";

/// Parse a comma-separated target list (at least one target).
pub fn parse_targets(text: &str) -> Result<Vec<Target>, PlanError> {
    let targets = parse_bounds(FLAG, text)
        .map_err(|error| PlanError::input(FLAG, error.text, error.reason))?;
    if targets.is_empty() {
        return Err(PlanError::input(
            FLAG,
            text,
            "give at least one target, e.g. 'p99_ttft<2s,success>=99.5%'",
        ));
    }
    Ok(targets)
}

/// Parse a percentage such as `20%` (or a fraction `0.2`) for `--headroom`.
pub fn parse_fraction(flag: &str, text: &str) -> Result<f64, PlanError> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(number) => (number, 0.01),
        None => (text.trim(), 1.0),
    };
    let value = number.trim().parse::<f64>().map_err(|_| {
        PlanError::input(
            flag,
            text,
            "expected a percentage (20%) or a fraction (0.2)",
        )
    })? * scale;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PlanError::input(flag, text, "must be 0 or more"))
    }
}
