//! Bounds on metrics, as typed on a command line: `'p99_ttft<2s,success>=99.5%'`, a
//! comma-separated list of `METRIC OP VALUE` with `OP` one of `<`, `<=`, `>`, `>=`. Metrics
//! come from the one vocabulary ([`super::metric::lookup`], short names included); latencies
//! take durations (`2s`, `800ms`), ratios a percentage (`99.5%`) or a fraction (`0.995`), money
//! and counts a number. A metric that was not measured does not meet its bound.
//!
//! `plan --slo`, `sweep --constraint` and `tune --constraint` judge with these.

use std::fmt;

use serde::Serialize;

use super::metric::{Metric, Unit, lookup, metric_and_alias_names};
use super::summary::StrategySummary;

/// A bound the command line could not read: the flag, the text and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{flag} {text:?}: {reason}")]
pub struct BoundError {
    /// The flag (`--constraint`).
    pub flag: String,
    /// The part that was refused.
    pub text: String,
    /// Why.
    pub reason: String,
}

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

/// One bound on one metric.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// The metric.
    pub metric: &'static Metric,
    /// How the figure must compare with `value`.
    pub comparison: Comparison,
    /// The limit, in the metric's unit (seconds, fraction, money).
    pub value: f64,
}

/// Parse a comma-separated list of bounds given to `flag` (an empty list is allowed).
pub fn parse_bounds(flag: &str, text: &str) -> Result<Vec<Bound>, BoundError> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| parse_bound(flag, part))
        .collect()
}

fn parse_bound(flag: &str, text: &str) -> Result<Bound, BoundError> {
    let bad = |reason: String| BoundError {
        flag: flag.to_string(),
        text: text.to_string(),
        reason,
    };
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
    let metric = lookup(name).ok_or_else(|| {
        bad(format!(
            "unknown metric {name:?} (known: {})",
            metric_and_alias_names()
        ))
    })?;
    let value = parse_value(metric, value.trim()).map_err(bad)?;
    Ok(Bound {
        metric,
        comparison,
        value,
    })
}

/// A value typed in `metric`'s unit: a duration for latencies, a percentage or fraction for
/// ratios, a number otherwise.
pub fn parse_value(metric: &Metric, text: &str) -> Result<f64, String> {
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
            .ok()
            .filter(|value| value.is_finite())
            .ok_or_else(|| format!("{text:?} is not a number")),
    }
}

impl Bound {
    /// Whether the bound is an upper limit (`<`, `<=`): high values break it.
    pub fn is_upper(&self) -> bool {
        matches!(self.comparison, Comparison::Below | Comparison::AtMost)
    }

    /// Whether `actual` meets the bound.
    pub fn met_by_value(&self, actual: f64) -> bool {
        match self.comparison {
            Comparison::Below => actual < self.value,
            Comparison::AtMost => actual <= self.value,
            Comparison::Above => actual > self.value,
            Comparison::AtLeast => actual >= self.value,
        }
    }

    /// How far `actual` is inside the bound, in the metric's unit (negative: outside).
    pub fn slack(&self, actual: f64) -> f64 {
        if self.is_upper() {
            self.value - actual
        } else {
            actual - self.value
        }
    }

    /// Whether a strategy's figure meets the bound (unmeasured: no).
    pub fn met_by(&self, summary: &StrategySummary) -> bool {
        (self.metric.read)(summary).is_some_and(|actual| self.met_by_value(actual))
    }

    /// Whether a strategy meets every one of `bounds`.
    pub fn all_met(bounds: &[Bound], summary: &StrategySummary) -> bool {
        bounds.iter().all(|bound| bound.met_by(summary))
    }

    /// The limit as typed back: `2s`, `99.9%`, `12.5`.
    pub fn value_text(&self) -> String {
        match self.metric.unit {
            Unit::Seconds => format!("{}s", self.value),
            Unit::Ratio => format!("{}%", (self.value * 100.0 * 1e6).round() / 1e6),
            _ => self.value.to_string(),
        }
    }

    /// The operator as typed.
    pub fn operator(&self) -> &'static str {
        match self.comparison {
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.metric.name,
            self.operator(),
            self.value_text()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse_with_units_and_short_names() {
        let bounds = parse_bounds("--constraint", "success>=99.9%, p99_ttft<2s,cost<=13").unwrap();
        assert_eq!(bounds.len(), 3);
        assert_eq!(bounds[0].metric.name, "success_ratio");
        assert!((bounds[0].value - 0.999).abs() < 1e-12);
        assert!(!bounds[0].is_upper());
        assert_eq!(bounds[1].comparison, Comparison::Below);
        assert_eq!(bounds[1].value, 2.0);
        assert_eq!(bounds[2].to_string(), "cost<=13");
        assert!(bounds[1].met_by_value(1.5) && !bounds[1].met_by_value(2.0));
        assert!((bounds[0].slack(0.9995) - 0.0005).abs() < 1e-12);
        assert!(bounds[1].slack(2.5) < 0.0);
    }

    #[test]
    fn bad_bounds_name_the_flag_the_text_and_the_reason() {
        let error = parse_bounds("--constraint", "p42<2s").unwrap_err();
        assert!(error.to_string().contains("--constraint"), "{error}");
        assert!(error.to_string().contains("unknown metric"), "{error}");
        assert!(parse_bounds("--constraint", "success>=120%").is_err());
        assert!(parse_bounds("--constraint", "p99_ttft<fast").is_err());
        assert!(parse_bounds("--constraint", "cost").is_err());
        assert!(parse_bounds("--constraint", "").unwrap().is_empty());
    }
}
