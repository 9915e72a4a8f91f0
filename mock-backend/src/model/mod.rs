//! The pure model of a mock AOAI fleet: every decision (admission, 429 and retry-after, PTU
//! utilization, estimates, response plans with chunk times, fault draws), taking `now` and
//! drawing from per-deployment named RNG streams. No clock, no I/O, no tokenizer, no bodies:
//! the simulator calls it directly and the HTTP shell renders its answers.

mod answer;
mod deployment;
mod estimate;
mod family;
mod faults;
mod fleet;
mod headers;
mod latency;
mod metrics;
mod patch;
mod plan;
mod ptu;
mod request;
mod service;
mod standard;
mod time;
mod window;

pub use answer::{Answer, CAPACITY_RETRY_AFTER, Outcome, Rejection, Spillover};
pub use deployment::Completion;
pub use estimate::{ptu_actual, ptu_estimate, standard_estimate};
pub use family::{Encoding, ModelProfile};
pub use faults::{Disruption, FaultRejection};
pub use fleet::{DeploymentView, Fleet};
pub use headers::{RateHeaders, ceil_millis, ceil_seconds};
pub use metrics::{
    DeploymentCounters, DeploymentMetrics, FleetMetrics, LATENCY_BUCKETS, LatencyHistogram,
};
pub use patch::ConfigPatch;
pub use plan::{ChunkSchedule, FinishReason, ResponsePlan, Ticket};
pub use request::{ContentFilterTrigger, Operation, RequestShape};
pub use standard::ThrottleReason;
pub use time::MAX_PLANNED;

/// Index of a resource in the fleet (configuration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(pub usize);

/// Index of a deployment in the fleet (configuration order across resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeploymentId(pub u32);
