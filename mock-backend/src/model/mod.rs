//! The pure model of a mock AOAI fleet: every decision (admission, 429 and retry-after, PTU
//! utilization, estimates, response plans with chunk times, fault draws), taking `now` and
//! drawing from per-deployment named RNG streams. No clock, no I/O, no tokenizer, no bodies:
//! the simulator calls it directly and the HTTP shell renders its answers.
//!
//! ```
//! use aoai_mock::config::FleetConfig;
//! use aoai_mock::model::{Completion, ConfigPatch, Fleet, Outcome, RequestShape};
//! use std::time::Duration;
//!
//! let text = r#"
//! [[resources]]
//! name = "eastus"
//! region = "East US"
//! [[resources.deployments]]
//! name = "gpt-4o-payg"
//! model = "gpt-4o"
//! kind = "standard"
//! tpm = 1000
//! "#;
//! let config = FleetConfig::from_toml_str(text, "fleet.toml").unwrap();
//! let mut fleet = Fleet::new(&config);
//! let east = fleet.resource_index("eastus").unwrap();
//! let now = Duration::from_secs(1);
//! let answer = fleet.admit(now, east, "gpt-4o-payg", &RequestShape::chat(100, Some(500)));
//! match answer.outcome {
//!     Outcome::Admitted(plan) => {
//!         assert!(plan.ttft() <= plan.total);
//!         let end = now + plan.total;
//!         fleet.complete(end, &plan.ticket, Completion::Completed { completion_tokens: plan.completion_tokens });
//!     }
//!     Outcome::Rejected(rejection) => unreachable!("{rejection:?}"),
//! }
//! // 1,000 TPM = 6 RPM = one request per sliding 10 s: the next waits for the first to leave.
//! let again = fleet.admit(now, east, "gpt-4o-payg", &RequestShape::chat(100, Some(500)));
//! assert_eq!(again.status, 429);
//! assert_eq!(again.headers.retry_after, Some(Duration::from_secs(10)));
//! fleet.apply(now, &ConfigPatch { deployment: "gpt-4o-payg".into(), tpm: Some(60_000), ..Default::default() }).unwrap();
//! assert_eq!(fleet.admit(now, east, "gpt-4o-payg", &RequestShape::chat(100, Some(500))).status, 200);
//! ```

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
pub use family::{
    Encoding, MODEL_TABLE_TOML, ModelEntry, ModelProfile, PtuFigures, Source, model_entry,
    model_source, model_table,
};
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
pub use time::{MAX_PLANNED, duration_from_secs_f64};

/// Index of a resource in the fleet (configuration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(pub usize);

/// Index of a deployment in the fleet (configuration order across resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeploymentId(pub u32);
