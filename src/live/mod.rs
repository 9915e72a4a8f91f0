//! Live runs over real sockets: the gateway proxy, the open-loop load engine, the in-process
//! fleet launcher, the live head-to-head, and the goose adapter for closed-model load.
//!
//! Thin shells around the pure core: every decision (admission, latency plans, picks, breakers,
//! retries, the arrival schedule) is the same code the simulator runs; these modules only read
//! the clock ([`clock`], the one place that does), move bytes and record what happened in the
//! simulator's record types, so a report tells the drivers apart only by its `mode`.

pub mod clock;
pub mod connection_cap;
pub mod engine_report;
pub mod error;
pub mod fleet;
pub mod fleet_metrics;
pub mod gateway;
pub mod goose_adapter;
pub mod head_to_head;
pub mod http_client;
pub mod load;
mod precise_sleep;
pub mod setup;
pub mod sse;
pub mod trail;
pub mod verdict;

pub use clock::LiveClock;
pub use error::LiveError;
