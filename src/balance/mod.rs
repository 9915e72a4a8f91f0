//! Balancing core: strategies, circuit breakers and retry policies of the real systems, pure
//! and exact (reference/balancing.md).
//!
//! A [`Strategy`] is a selector + a breaker per backend + a gateway retry loop + an exhaustion
//! answer, built from a [`StrategyConfig`] (a named [`Preset`] plus overrides, or an imported
//! APIM pool). Everything here takes `now: Duration` and `&mut SimRng` from the caller and
//! keeps all its state in values: no clock, no tokio/hyper, no globals. The simulator and the
//! live gateway run the same driver loop (`begin` → `next` → `on_response` → `on_complete`).

pub mod apim_import;
mod attempt;
pub mod breaker;
pub mod composition;
pub mod config;
mod error;
pub mod exhaustion;
mod headers;
pub mod litellm;
pub mod mask;
pub mod part;
pub mod presets;
pub mod retry;
pub mod selector;
pub mod status_set;
pub mod strategy;
pub mod types;

pub use apim_import::{ImportedPool, PoolMember, import_member_rule, import_pool};
pub use composition::Composition;
pub use config::StrategyConfig;
pub use error::BalanceError;
pub use exhaustion::{Exhausted, Exhaustion, RetryAfterHeader};
pub use litellm::{LitellmMode, LitellmOptions, LitellmVersion};
pub use presets::Preset;
pub use retry::client::{ClientRetryPolicy, Sdk};
pub use retry::gateway::GatewayRetry;
pub use selector::affinity::fnv1a as session_hash;
pub use status_set::StatusSet;
pub use strategy::{Attempt, Step, Strategy, Verdict};
pub use types::{
    BackendId, BackendSpec, BackendState, Completion, DeclaredWeights, FailureLogging, Observation,
    Phase, Reason, RequestInfo, Status, Transition,
};
