//! The scenario file's schema (serde only; rules live in `load.rs` and `resolve.rs`).
//!
//! ```toml
//! name = "ptu-payg-pool"
//! description = "One PTU at priority 1 overflowing into two PAYG deployments at priority 2"
//! seed = 42
//!
//! [fleet]                      # exactly what `aoai-mock --config` reads, without `seed`
//! [[fleet.resources]]
//! name = "openai-3"
//! ...
//!
//! [[backends]]                 # the balancer's pool, in order: fleet resources
//! resource = "openai-3"
//! priority = 1
//! weight = 1
//!
//! [workload]                   # see throttlebox::workload
//! [client]                     # the calling application: SDK retries, timeout
//! retry = { max_retries = 2, sdk = "openai-python" }
//! timeout = "600s"
//! [gateway]                    # the balancer process(es)
//! attempt_timeout = "120s"
//! [[strategies]]               # see throttlebox::balance::StrategyConfig
//! name = "apim-pool"
//! preset = "apim-pool"
//! [slo]                        # see throttlebox::report::SloConfig
//! [costs]                      # see throttlebox::report::CostConfig
//! ```

use std::time::Duration;

use aoai_mock::config::FleetConfig;
use serde::{Deserialize, Serialize};

use crate::balance::{ClientRetryPolicy, StrategyConfig};
use crate::duration::serde_human;
use crate::report::{CostConfig, SloConfig};
use crate::workload::WorkloadConfig;

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name in reports and result folders.
    pub name: String,
    /// What situation the scenario reproduces.
    #[serde(default)]
    pub description: String,
    /// The one seed every random stream derives from (fleet, workload, strategies).
    pub seed: u64,
    /// The mock fleet (the `aoai-mock` fleet file format; its seed is the scenario's).
    pub fleet: FleetConfig,
    /// The balancer's pool, in order.
    pub backends: Vec<BackendEntry>,
    /// The traffic.
    pub workload: WorkloadConfig,
    /// The calling application.
    #[serde(default)]
    pub client: ClientConfig,
    /// The balancer process(es).
    #[serde(default)]
    pub gateway: GatewayConfig,
    /// The strategies to compare, each replayed on the identical workload.
    pub strategies: Vec<StrategyConfig>,
    /// Service-level objectives every strategy is judged against.
    #[serde(default)]
    pub slo: SloConfig,
    /// Prices.
    #[serde(default)]
    pub costs: CostConfig,
}

/// One member of the balancer's pool: a fleet resource (an AOAI endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendEntry {
    /// The fleet resource's name.
    pub resource: String,
    /// Priority group (lower first) for presets that use groups.
    #[serde(default = "one")]
    pub priority: u32,
    /// Weight within the group.
    #[serde(default = "one")]
    pub weight: u32,
    /// PowerProxy's `non_streaming_fraction` (0–1): the share of non-streaming requests the
    /// balancer lets this backend take, to keep it for streams. Default 1 (all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_streaming_fraction: Option<f64>,
}

fn one() -> u32 {
    1
}

/// The calling application (`[client]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// SDK retry behaviour (`max_retries = 0` for none).
    #[serde(default)]
    pub retry: ClientRetryPolicy,
    /// Per-call timeout (openai-python: 600 s).
    #[serde(default = "default_client_timeout", with = "serde_human")]
    pub timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            retry: ClientRetryPolicy::default(),
            timeout: default_client_timeout(),
        }
    }
}

fn default_client_timeout() -> Duration {
    Duration::from_secs(600)
}

/// The balancer process(es) (`[gateway]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// How long the gateway waits for a backend's response headers before it counts the
    /// attempt as a timeout (APIM `forward-request timeout`, 300 s by default there).
    #[serde(default = "default_attempt_timeout", with = "serde_human")]
    pub attempt_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            attempt_timeout: default_attempt_timeout(),
        }
    }
}

fn default_attempt_timeout() -> Duration {
    Duration::from_secs(120)
}
