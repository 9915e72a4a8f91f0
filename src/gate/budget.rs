//! Budgets: how far a metric may move in its bad direction against the baseline before the
//! gate fails. Written `METRIC=CHANGE` (`--budget p99_ttft=+10%`) or in the baseline's `gate`
//! section; the change is relative (`+10%`), in percentage points for ratios (`-0.5pt`), or
//! absolute in the metric's unit (`+0.25s`, `+0.002`). A sign, when given, must be the
//! metric's bad direction (`+` for latency and cost, `-` for success), so a budget cannot be
//! written the wrong way round by accident.

use std::collections::BTreeMap;
use std::fmt;

use super::error::GateError;
use crate::report::metric::{Metric, Unit, metric, metric_names};

/// How much worse a metric may get.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Allowance {
    /// A fraction of the baseline value (`+10%` = 0.10).
    Relative(f64),
    /// Percentage points of a ratio (`-0.5pt` = 0.005).
    Points(f64),
    /// An absolute amount in the metric's unit (seconds, money, count).
    Absolute(f64),
}

/// One metric's budget.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// The metric.
    pub metric: &'static Metric,
    /// How much worse it may get.
    pub allowance: Allowance,
}

/// Budgets applied when neither the baseline nor a flag sets one: the defaults.
pub const DEFAULT_BUDGETS: &[(&str, &str)] = &[
    ("p99_ttft", "+10%"),
    ("p99_e2e", "+10%"),
    ("success_ratio", "-0.5pt"),
    ("client_429_ratio", "+0.5pt"),
    ("cost", "+5%"),
];

impl Budget {
    /// Parse `METRIC=CHANGE`; `source` names where it came from (`--budget`, a file) for errors.
    pub fn parse(text: &str, source: &str) -> Result<Budget, GateError> {
        let (name, change) = text.split_once('=').ok_or_else(|| {
            GateError::input(source, text, "expected METRIC=CHANGE, e.g. p99_ttft=+10%")
        })?;
        Budget::from_parts(name.trim(), change.trim(), source)
    }

    /// The budget of metric `name` with change text `change` (`+10%`).
    pub fn from_parts(name: &str, change: &str, source: &str) -> Result<Budget, GateError> {
        let field = format!("{source}: {name}");
        let metric = metric(name).ok_or_else(|| {
            GateError::input(
                &field,
                name,
                format!("unknown metric (known: {})", metric_names()),
            )
        })?;
        let allowance = parse_allowance(metric, change)
            .map_err(|reason| GateError::input(&field, change, reason))?;
        Ok(Budget { metric, allowance })
    }

    /// How much worse `actual` is than `baseline` in the metric's bad direction (negative:
    /// better), in the allowance's terms (a fraction for relative budgets).
    pub fn worsening(&self, baseline: f64, actual: f64) -> f64 {
        let worse_by = if self.metric.higher_is_better {
            baseline - actual
        } else {
            actual - baseline
        };
        match self.allowance {
            Allowance::Relative(_) if baseline == 0.0 => {
                if worse_by > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            }
            Allowance::Relative(_) => worse_by / baseline.abs(),
            Allowance::Points(_) | Allowance::Absolute(_) => worse_by,
        }
    }

    /// The allowance as a number in [`Budget::worsening`]'s terms.
    pub fn limit(&self) -> f64 {
        match self.allowance {
            Allowance::Relative(limit) | Allowance::Points(limit) | Allowance::Absolute(limit) => {
                limit
            }
        }
    }

    /// Whether moving from `baseline` to `actual` stays within the budget. A change within
    /// 1e-9 of the limit passes (the figures are rounded decimals).
    pub fn holds(&self, baseline: f64, actual: f64) -> bool {
        self.worsening(baseline, actual) <= self.limit() + 1e-9
    }

    /// A worsening in the allowance's terms as text (`+12.50%`, `-0.40pt`, `+0.250 s`).
    pub fn change_text(&self, worsening: f64) -> String {
        let signed = if self.metric.higher_is_better {
            -worsening
        } else {
            worsening
        };
        // No "-0.00" for an unchanged figure.
        let signed = if signed == 0.0 { 0.0 } else { signed };
        if !signed.is_finite() {
            return "+inf".to_string();
        }
        match self.allowance {
            Allowance::Relative(_) => format!("{:+.2}%", signed * 100.0),
            Allowance::Points(_) => format!("{:+.2}pt", signed * 100.0),
            Allowance::Absolute(_) => match self.metric.unit {
                Unit::Seconds => format!("{signed:+.3} s"),
                _ => format!("{signed:+.4}"),
            },
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.metric.higher_is_better {
            '-'
        } else {
            '+'
        };
        match self.allowance {
            Allowance::Relative(value) => write!(f, "{sign}{}%", trim(value * 100.0)),
            Allowance::Points(value) => write!(f, "{sign}{}pt", trim(value * 100.0)),
            Allowance::Absolute(value) => match self.metric.unit {
                Unit::Seconds => write!(f, "{sign}{}s", trim(value)),
                _ => write!(f, "{sign}{}", trim(value)),
            },
        }
    }
}

fn trim(value: f64) -> String {
    let text = format!("{:.6}", value);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn parse_allowance(metric: &Metric, change: &str) -> Result<Allowance, String> {
    let bad_sign = if metric.higher_is_better { '-' } else { '+' };
    let body = match change.chars().next() {
        Some(sign @ ('+' | '-')) if sign != bad_sign => {
            return Err(format!(
                "{} gets worse when it {}; write the budget as {bad_sign}…",
                metric.name,
                if metric.higher_is_better {
                    "falls"
                } else {
                    "rises"
                }
            ));
        }
        Some('+' | '-') => &change[1..],
        _ => change,
    };
    let number = |text: &str| -> Result<f64, String> {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number"))?;
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(format!("{value} is not a non-negative amount"))
        }
    };
    if let Some(percent) = body.strip_suffix('%') {
        return Ok(Allowance::Relative(number(percent)? / 100.0));
    }
    if let Some(points) = body.strip_suffix("pt") {
        if metric.unit != Unit::Ratio {
            return Err(format!(
                "percentage points apply to ratios only; {} is not one (use % or an amount)",
                metric.name
            ));
        }
        return Ok(Allowance::Points(number(points)? / 100.0));
    }
    if metric.unit == Unit::Seconds {
        let seconds = crate::duration::parse(body.trim())
            .map(|duration| duration.as_secs_f64())
            .or_else(|_| number(body))
            .map_err(|_| format!("{body:?} is neither a duration (250ms, 1s) nor a number"))?;
        return Ok(Allowance::Absolute(seconds));
    }
    Ok(Allowance::Absolute(number(body)?))
}

/// The budgets a gate applies, one per metric, in metric-catalog order.
#[derive(Debug, Clone, Default)]
pub struct BudgetSet {
    by_metric: BTreeMap<&'static str, Budget>,
}

impl BudgetSet {
    /// The defaults ([`DEFAULT_BUDGETS`]).
    pub fn defaults() -> BudgetSet {
        let mut set = BudgetSet::default();
        for (name, change) in DEFAULT_BUDGETS {
            // The defaults are constants checked by a unit test.
            if let Ok(budget) = Budget::from_parts(name, change, "default budgets") {
                set.insert(budget);
            }
        }
        set
    }

    /// Add or replace the budget of a metric.
    pub fn insert(&mut self, budget: Budget) {
        self.by_metric.insert(budget.metric.name, budget);
    }

    /// Every budget, in the metric catalog's order.
    pub fn iter(&self) -> impl Iterator<Item = &Budget> {
        crate::report::metric::METRICS
            .iter()
            .filter_map(|metric| self.by_metric.get(metric.name))
    }

    /// How many budgets there are.
    pub fn len(&self) -> usize {
        self.by_metric.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_metric.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_all_parse() {
        assert_eq!(BudgetSet::defaults().len(), DEFAULT_BUDGETS.len());
    }
}
