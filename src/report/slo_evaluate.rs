//! Judging a strategy's summary against `[slo]`: one [`SloVerdict`] per configured rule. Apart
//! from the rules themselves (`slo.rs`) so that the configuration, which the run setup holds,
//! does not depend on the summary it judges.

use std::time::Duration;

use super::format;
use super::slo::{SloConfig, SloVerdict};
use super::summary::StrategySummary;

#[derive(Clone, Copy)]
enum Bound {
    AtMost,
    AtLeast,
}

impl SloConfig {
    /// One verdict per configured rule, in a fixed order (latencies, ratios, cost).
    pub fn evaluate(&self, summary: &StrategySummary) -> Vec<SloVerdict> {
        let seconds = |limit: Option<Duration>| limit.map(format::seconds);
        let rules = [
            (
                "p99_ttft",
                seconds(self.p99_ttft),
                summary.ttft.p99_s,
                Bound::AtMost,
            ),
            (
                "p95_e2e",
                seconds(self.p95_e2e),
                summary.e2e.p95_s,
                Bound::AtMost,
            ),
            (
                "p99_e2e",
                seconds(self.p99_e2e),
                summary.e2e.p99_s,
                Bound::AtMost,
            ),
            (
                "min_success_ratio",
                self.min_success_ratio,
                Some(summary.success_ratio),
                Bound::AtLeast,
            ),
            (
                "max_client_429_ratio",
                self.max_client_429_ratio,
                Some(summary.client_429_ratio),
                Bound::AtMost,
            ),
            (
                "max_cost",
                self.max_cost,
                Some(summary.cost.total),
                Bound::AtMost,
            ),
        ];
        rules
            .into_iter()
            .filter_map(|(rule, limit, actual, bound)| {
                let limit = limit?;
                let pass = actual.is_some_and(|actual| match bound {
                    Bound::AtMost => actual <= limit,
                    Bound::AtLeast => actual >= limit,
                });
                Some(SloVerdict {
                    rule: rule.to_string(),
                    limit,
                    actual,
                    pass,
                })
            })
            .collect()
    }
}
