//! Planning targets: `--target 'p99_ttft<2s,success>=99.5%'`, a comma-separated list of
//! `METRIC OP VALUE` with `OP` one of `<`, `<=`, `>`, `>=`. Metrics are the gate's
//! ([`crate::report::metric::METRICS`]) plus the short names `success`, `429` (client 429 ratio),
//! `goodput`, `5xx`; latencies take durations (`2s`, `800ms`), ratios a percentage (`99.5%`)
//! or a fraction (`0.995`). A metric that was not measured does not meet its target.

use std::fmt;

use serde::Serialize;

use super::error::PlanError;
use crate::report::StrategySummary;
use crate::report::metric::{Metric, Unit, metric};

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparison {
    /// `<`
    Below,
    /// `<=`
    AtMost,
    /// `>`
    Above,
    /// `>=`
    AtLeast,
}

/// One target.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The metric.
    pub metric: &'static Metric,
    /// How the figure must compare with `value`.
    pub comparison: Comparison,
    /// The bound, in the metric's unit (seconds, fraction).
    pub value: f64,
}

/// Parse a comma-separated target list.
pub fn parse_targets(text: &str) -> Result<Vec<Target>, PlanError> {
    let targets = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_target)
        .collect::<Result<Vec<_>, _>>()?;
    if targets.is_empty() {
        return Err(PlanError::input(
            "--target",
            text,
            "give at least one target, e.g. 'p99_ttft<2s,success>=99.5%'",
        ));
    }
    Ok(targets)
}

fn parse_target(text: &str) -> Result<Target, PlanError> {
    let bad = |reason: String| PlanError::input("--target", text, reason);
    let position = text.find(['<', '>']).ok_or_else(|| {
        bad("expected METRIC<VALUE, METRIC<=VALUE, METRIC>VALUE or METRIC>=VALUE".into())
    })?;
    let name = text[..position].trim();
    let rest = &text[position..];
    let (comparison, value) = if let Some(value) = rest.strip_prefix("<=") {
        (Comparison::AtMost, value)
    } else if let Some(value) = rest.strip_prefix(">=") {
        (Comparison::AtLeast, value)
    } else if let Some(value) = rest.strip_prefix('<') {
        (Comparison::Below, value)
    } else {
        (Comparison::Above, &rest[1..])
    };
    let full_name = match name {
        "success" => "success_ratio",
        "429" | "client_429" => "client_429_ratio",
        "5xx" | "server_error" => "server_error_ratio",
        "goodput" => "goodput_ratio",
        other => other,
    };
    let metric = metric(full_name).ok_or_else(|| {
        bad(format!(
            "unknown metric {name:?} (known: success, 429, 5xx, goodput, {})",
            crate::report::metric::METRICS
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let value = parse_value(metric, value.trim()).map_err(bad)?;
    Ok(Target {
        metric,
        comparison,
        value,
    })
}

fn parse_value(metric: &Metric, text: &str) -> Result<f64, String> {
    match metric.unit {
        Unit::Seconds => crate::duration::parse(text)
            .map(|duration| duration.as_secs_f64())
            .map_err(|_| format!("{text:?} is not a duration (2s, 800ms)")),
        Unit::Ratio => {
            let (number, scale) = match text.strip_suffix('%') {
                Some(number) => (number, 0.01),
                None => (text, 1.0),
            };
            let value = number
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("{text:?} is not a percentage or fraction"))?
                * scale;
            if (0.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                Err(format!("{text:?} is outside 0..100%"))
            }
        }
        Unit::Money | Unit::Number => text
            .parse::<f64>()
            .map_err(|_| format!("{text:?} is not a number")),
    }
}

impl Target {
    /// Whether `summary` meets the target.
    pub fn met_by(&self, summary: &StrategySummary) -> bool {
        (self.metric.read)(summary).is_some_and(|actual| match self.comparison {
            Comparison::Below => actual < self.value,
            Comparison::AtMost => actual <= self.value,
            Comparison::Above => actual > self.value,
            Comparison::AtLeast => actual >= self.value,
        })
    }

    /// Whether every target is met.
    pub fn all_met(targets: &[Target], summary: &StrategySummary) -> bool {
        targets.iter().all(|target| target.met_by(summary))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.comparison {
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
        };
        let value = match self.metric.unit {
            Unit::Seconds => format!("{}s", self.value),
            Unit::Ratio => format!("{}%", (self.value * 100.0 * 1e6).round() / 1e6),
            _ => self.value.to_string(),
        };
        write!(f, "{}{op}{value}", self.metric.name)
    }
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
