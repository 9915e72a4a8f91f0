//! Service-level objectives (the scenario's `[slo]` table) and their verdicts.
//!
//! Verdicts (`slo_evaluate.rs`) compare the *reported* (rounded) figures of a strategy's summary, so a verdict
//! always agrees with the numbers printed next to it. A value equal to its limit passes. A
//! latency rule with no samples (no successful request, or no stream for TTFT) fails: an
//! objective that cannot be measured is not met.
//!
//! `p99_ttft` and `p99_e2e` double as the per-request bounds of goodput (a request counts when
//! it succeeded and its TTFT and e2e are within them).
//!
//! ```toml
//! [slo]
//! p99_ttft = "2s"
//! p95_e2e = "8s"
//! p99_e2e = "15s"
//! min_success_ratio = 0.99
//! max_client_429_ratio = 0.005
//! max_cost = 12.5
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ReportError;
use super::format;
use crate::duration::serde_human_opt;

/// The scenario's `[slo]` table; every rule is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// Limit on the 99th percentile TTFT (from intended start).
    #[serde(
        default,
        with = "serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub p99_ttft: Option<Duration>,
    /// Limit on the 95th percentile end-to-end latency.
    #[serde(
        default,
        with = "serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub p95_e2e: Option<Duration>,
    /// Limit on the 99th percentile end-to-end latency.
    #[serde(
        default,
        with = "serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub p99_e2e: Option<Duration>,
    /// Lowest acceptable success ratio (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_success_ratio: Option<f64>,
    /// Highest acceptable share of requests ending in a client-visible 429 (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_client_429_ratio: Option<f64>,
    /// Highest acceptable total cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
}

/// The outcome of one SLO rule for one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloVerdict {
    /// The rule's name as in `[slo]`, e.g. `p99_ttft`.
    pub rule: String,
    /// The configured limit (seconds for latencies).
    pub limit: f64,
    /// The measured figure, `None` when there were no samples.
    pub actual: Option<f64>,
    /// Whether the rule holds.
    pub pass: bool,
}

impl SloVerdict {
    /// `value` (the limit or the actual figure) as text in the rule's unit: seconds with 3
    /// decimals for latencies, a percentage with 2 decimals for ratios, 4 decimals for cost.
    pub fn value_text(&self, value: f64) -> String {
        if self.rule.ends_with("_ratio") {
            format!("{} %", format::percent_text(value))
        } else if self.rule == "max_cost" {
            format!("{value:.4}")
        } else {
            format!("{value:.3} s")
        }
    }
}

impl SloConfig {
    /// Refuse ratios outside 0..1 and negative or non-finite costs, naming the field.
    pub fn validate(&self) -> Result<(), ReportError> {
        for (field, value, upper) in [
            ("slo.min_success_ratio", self.min_success_ratio, Some(1.0)),
            (
                "slo.max_client_429_ratio",
                self.max_client_429_ratio,
                Some(1.0),
            ),
            ("slo.max_cost", self.max_cost, None),
        ] {
            if let Some(value) = value {
                let in_range =
                    value.is_finite() && value >= 0.0 && upper.is_none_or(|upper| value <= upper);
                if !in_range {
                    let range = if upper.is_some() { "0..=1" } else { ">= 0" };
                    return Err(ReportError::Invalid {
                        field: field.to_string(),
                        reason: format!("{value} is outside {range}"),
                    });
                }
            }
        }
        Ok(())
    }
}
