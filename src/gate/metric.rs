//! The figures a gate (and a capacity plan) judges, read from a [`StrategySummary`]: one name,
//! unit and good direction per metric, so budgets, baselines, targets and tables agree on what
//! `p99_ttft` or `success_ratio` means.

use crate::report::StrategySummary;

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

/// Every metric a gate or plan knows, in report order.
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

const fn latency(name: &'static str, read: fn(&StrategySummary) -> Option<f64>) -> Metric {
    Metric {
        name,
        unit: Unit::Seconds,
        higher_is_better: false,
        read,
    }
}

/// The metric called `name`, if any.
pub fn metric(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|metric| metric.name == name)
}

/// The known metric names, for error messages.
pub fn metric_names() -> String {
    METRICS
        .iter()
        .map(|metric| metric.name)
        .collect::<Vec<_>>()
        .join(", ")
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
}
