//! Per-deployment counters and the fleet snapshot behind `/metrics` (and tests).

use crate::config::DeploymentKind;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets; the last bucket is `+Inf`.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A fixed-bucket histogram of durations (Prometheus-style, non-cumulative counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyHistogram {
    /// Count per bucket of [`LATENCY_BUCKETS`], plus the `+Inf` bucket last.
    pub counts: [u64; LATENCY_BUCKETS.len() + 1],
    /// Sum of the observed values, seconds.
    pub sum: f64,
}

impl LatencyHistogram {
    /// Count one observation.
    pub fn observe(&mut self, value: Duration) {
        let seconds = value.as_secs_f64();
        let bucket = LATENCY_BUCKETS.partition_point(|bound| *bound < seconds);
        self.counts[bucket] += 1;
        self.sum += seconds;
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Counters of one deployment. All monotonic except `in_flight`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentCounters {
    /// Requests this deployment answered (including spilled-in ones).
    pub requests: u64,
    /// Admitted (a plan was made).
    pub admitted: u64,
    /// 429 from the token window.
    pub throttled_tokens: u64,
    /// 429 from the request window.
    pub throttled_requests: u64,
    /// 429 from PTU utilization.
    pub throttled_utilization: u64,
    /// 429 "system capacity" faults.
    pub throttled_capacity: u64,
    /// 5xx answered by faults.
    pub fault_errors: u64,
    /// 400s (context length, unsupported operation).
    pub bad_requests: u64,
    /// Admitted responses planned to reset or hang.
    pub disrupted: u64,
    /// Settled as completed.
    pub completed: u64,
    /// Settled as aborted (client gone, reset, hang).
    pub aborted: u64,
    /// Admission estimates charged (standard tokens, or PTU input-token equivalents rounded).
    pub tokens_estimated: u64,
    /// Tokens billed at settlement (prompt + completion).
    pub tokens_billed: u64,
    /// Requests forwarded from this PTU deployment to its spillover target.
    pub spilled_out: u64,
    /// Requests received by spillover.
    pub spilled_in: u64,
    /// Requests whose client said they were a retry (`x-stainless-retry-count > 0`).
    pub client_retries: u64,
    /// Requests that were not retries.
    pub client_new: u64,
    /// Admitted and not yet settled.
    pub in_flight: u64,
    /// Planned TTFT of admitted requests (first content token, queue wait included).
    pub ttft: LatencyHistogram,
    /// Planned inter-token latency of admitted chat/completions requests.
    pub itl: LatencyHistogram,
    /// Sum of service-slot waits of admitted requests, seconds.
    pub queue_wait_seconds_sum: f64,
}

/// One deployment's metrics at a point in time.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentMetrics {
    /// Resource name.
    pub resource: String,
    /// Deployment name.
    pub deployment: String,
    /// Standard or provisioned.
    pub kind: DeploymentKind,
    /// PTU utilization (fraction), None for standard.
    pub utilization: Option<f64>,
    /// Counters.
    pub counters: DeploymentCounters,
}

/// All deployments, in configuration order.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetMetrics {
    /// Per deployment.
    pub deployments: Vec<DeploymentMetrics>,
    /// Requests naming a deployment that does not exist, per resource (configuration order).
    pub not_found: Vec<(String, u64)>,
}

impl FleetMetrics {
    /// The metrics of `resource`/`deployment`.
    pub fn get(&self, resource: &str, deployment: &str) -> Option<&DeploymentMetrics> {
        self.deployments
            .iter()
            .find(|d| d.resource == resource && d.deployment == deployment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_whose_bound_holds_them() {
        let mut h = LatencyHistogram::default();
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_millis(6));
        h.observe(Duration::from_secs(100));
        assert_eq!(
            (h.counts[0], h.counts[1], h.counts[LATENCY_BUCKETS.len()]),
            (1, 1, 1)
        );
        assert_eq!(h.count(), 3);
        assert!((h.sum - 100.011).abs() < 1e-9);
    }
}
