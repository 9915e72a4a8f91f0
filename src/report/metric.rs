//! The one metric vocabulary: the figures a gate, a capacity plan, a sweep and a tune read
//! from a [`StrategySummary`], each with one name, unit and good direction, so budgets,
//! baselines, planning targets, sweep columns, tune objectives and constraints agree on what
//! `p99_ttft` or `success_ratio` means.
//!
//! Names are the canonical spelling written into baselines and tables. [`lookup`] also takes
//! the short names people type (`success`, `429`, `5xx`, `goodput`) and the column names the
//! sweep table used before it adopted this vocabulary (`e2e_p99_s`, `ttft_p99_s`, …).

use std::collections::BTreeMap;

use super::summary::StrategySummary;

/// What a metric's number is, for parsing and printing budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds (latencies).
    Seconds,
    /// A ratio 0..1 (printed as a percentage; budgets may use percentage points).
    Ratio,
    /// Money (the scenario's `[costs]` currency).
    Money,
    /// A plain count or rate.
    Number,
}

/// One judged figure.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Name in budgets, baselines and reports (`p99_ttft`).
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Whether a higher value is better (success) or worse (latency, cost).
    pub higher_is_better: bool,
    /// Read it from a strategy's summary (None: not measured, e.g. no streams for TTFT).
    pub read: fn(&StrategySummary) -> Option<f64>,
}

/// Every metric, in report order.
pub const METRICS: &[Metric] = &[
    latency("p50_ttft", |s| s.ttft.p50_s),
    latency("p95_ttft", |s| s.ttft.p95_s),
    latency("p99_ttft", |s| s.ttft.p99_s),
    latency("p50_e2e", |s| s.e2e.p50_s),
    latency("p95_e2e", |s| s.e2e.p95_s),
    latency("p99_e2e", |s| s.e2e.p99_s),
    Metric {
        name: "success_ratio",
        unit: Unit::Ratio,
        higher_is_better: true,
        read: |s| Some(s.success_ratio),
    },
    Metric {
        name: "client_429_ratio",
        unit: Unit::Ratio,
        higher_is_better: false,
        read: |s| Some(s.client_429_ratio),
    },
    Metric {
        name: "server_error_ratio",
        unit: Unit::Ratio,
        higher_is_better: false,
        read: |s| Some(s.server_error_ratio),
    },
    Metric {
        name: "goodput_ratio",
        unit: Unit::Ratio,
        higher_is_better: true,
        read: |s| Some(s.goodput.ratio),
    },
    Metric {
        name: "retries_per_request",
        unit: Unit::Number,
        higher_is_better: false,
        read: |s| Some(s.retries_per_request),
    },
    Metric {
        name: "throughput_rps",
        unit: Unit::Number,
        higher_is_better: true,
        read: |s| Some(s.throughput_rps),
    },
    Metric {
        name: "cost",
        unit: Unit::Money,
        higher_is_better: false,
        read: |s| Some(s.cost.total),
    },
];

/// Other spellings accepted wherever a metric is typed: the short names of planning targets
/// and the sweep's former column names.
pub const ALIASES: &[(&str, &str)] = &[
    ("success", "success_ratio"),
    ("429", "client_429_ratio"),
    ("client_429", "client_429_ratio"),
    ("5xx", "server_error_ratio"),
    ("server_error", "server_error_ratio"),
    ("goodput", "goodput_ratio"),
    ("retries", "retries_per_request"),
    ("throughput", "throughput_rps"),
    // The sweep table's column names before it used this vocabulary.
    ("e2e_p50_s", "p50_e2e"),
    ("e2e_p99_s", "p99_e2e"),
    ("ttft_p99_s", "p99_ttft"),
];

const fn latency(name: &'static str, read: fn(&StrategySummary) -> Option<f64>) -> Metric {
    Metric {
        name,
        unit: Unit::Seconds,
        higher_is_better: false,
        read,
    }
}

/// The metric called `name` (canonical spelling only: baselines and budgets).
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|metric| metric.name == name)
}

/// The metric called `name` or one of its [`ALIASES`].
pub fn lookup(name: &str) -> Option<&'static Metric> {
    let name = name.trim();
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| *canonical);
    metric(canonical)
}

/// The known metric names, for error messages.
pub fn metric_names() -> String {
    METRICS
        .iter()
        .map(|metric| metric.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known names and short names, for error messages of typed metrics.
pub fn metric_and_alias_names() -> String {
    let short: Vec<&str> = ALIASES
        .iter()
        .take_while(|(alias, _)| !alias.ends_with("_s"))
        .map(|(alias, _)| *alias)
        .collect();
    format!("{}, {}", short.join(", "), metric_names())
}

/// Figures of one strategy in one run, by metric name (unmeasured metrics absent).
pub type Figures = BTreeMap<String, f64>;

/// The figures of one strategy's summary.
pub fn figures(summary: &StrategySummary) -> Figures {
    METRICS
        .iter()
        .filter_map(|metric| (metric.read)(summary).map(|value| (metric.name.to_string(), value)))
        .collect()
}

impl Metric {
    /// `value` in the metric's unit for tables: `1.234 s`, `99.50 %`, `12.3456`.
    pub fn value_text(&self, value: f64) -> String {
        match self.unit {
            Unit::Seconds => format!("{value:.3} s"),
            Unit::Ratio => format!("{:.2} %", value * 100.0),
            Unit::Money => format!("{value:.4}"),
            Unit::Number => format!("{value:.4}"),
        }
    }

    /// `value` without its unit, short enough for a chart cell or tick: `99.78`, `1.241`.
    pub fn short_text(&self, value: f64) -> String {
        match self.unit {
            Unit::Seconds => format!("{value:.3}"),
            Unit::Ratio => format!("{:.2}", value * 100.0),
            Unit::Money => format!("{value:.2}"),
            Unit::Number => format!("{value:.3}"),
        }
    }

    /// An axis tick: [`Metric::short_text`], or nothing where no value can be (a ratio above
    /// 100 % or below 0, room a chart leaves for its legend).
    pub fn tick_text(&self, value: f64) -> String {
        if self.unit == Unit::Ratio && !(-1e-9..=1.0 + 1e-9).contains(&value) {
            return String::new();
        }
        self.short_text(value)
    }

    /// The unit [`Metric::short_text`] leaves out, for axis titles: `s`, `%`, `` (none).
    pub fn unit_text(&self) -> &'static str {
        match self.unit {
            Unit::Seconds => "s",
            Unit::Ratio => "%",
            Unit::Money | Unit::Number => "",
        }
    }

    /// `name (unit)` for an axis title.
    pub fn axis_title(&self) -> String {
        match self.unit_text() {
            "" => self.name.to_string(),
            unit => format!("{} ({unit})", self.name),
        }
    }

    /// Whether `a` is better than `b` in this metric's direction.
    pub fn better(&self, a: f64, b: f64) -> bool {
        if self.higher_is_better { a > b } else { a < b }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_names_a_metric_and_no_alias_shadows_one() {
        for (alias, canonical) in ALIASES {
            assert!(metric(canonical).is_some(), "{alias} → {canonical}");
            assert!(metric(alias).is_none(), "{alias} is also a canonical name");
        }
        assert_eq!(lookup("success").map(|m| m.name), Some("success_ratio"));
        assert_eq!(lookup("e2e_p99_s").map(|m| m.name), Some("p99_e2e"));
        assert_eq!(lookup("p99_ttft").map(|m| m.name), Some("p99_ttft"));
        assert!(lookup("p42_ttft").is_none());
    }
}
