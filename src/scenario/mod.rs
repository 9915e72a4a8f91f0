//! Scenario files: one TOML file describes a whole experiment — the mock fleet, the balancer's
//! pool, the workload, the strategies to compare, client and gateway behaviour, SLOs, costs and
//! the seed. This module owns parsing (`deny_unknown_fields`), cross-field validation with
//! errors that name the file, key path and value, `--set` overrides, the APIM pool import
//! hand-off, the embedded default scenario, and the pre-flight estimate of what running one
//! will cost ([`preflight`]). It decides nothing at run time.

mod error;
mod file;
mod load;
mod overrides;
pub mod preflight;
mod resolve;

pub use error::ScenarioError;
pub use file::{BackendEntry, ClientConfig, GatewayConfig, ScenarioFile};
pub use load::{DEFAULT_SCENARIO_NAME, Scenario, strategy_accepts};
pub use overrides::{Override, StrategyCheck, apply_overrides};
pub use resolve::{PoolBackend, ResolvedStrategy};
