//! Per-deployment counters and the fleet snapshot behind `/metrics` (and tests).

use crate::config::DeploymentKind;

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
    /// Sum of planned TTFT of admitted requests, seconds.
    pub ttft_seconds_sum: f64,
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
