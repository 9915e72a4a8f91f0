//! The workload layer: what requests a run sends and when, identical for every strategy
//! (common random numbers). It owns arrival processes, the request mix of synthetic client
//! apps, and trace replay; it never sends anything, reads no clock and holds no schedule in
//! memory: [`Workload::requests`] is a lazy iterator.
//!
//! Randomness: every draw comes from a stream named after its app and purpose
//! (`workload:<app>:arrivals`, `:prompt_tokens`, `:max_tokens`, `:output_tokens`, `:stream`,
//! `:sessions`; the trace uses `workload.trace:rate_scale`, `:replicas`, `:stream`), so adding an
//! app or changing one app's sizes never shifts another app's arrivals or sizes.

pub mod app;
pub mod arrivals;
mod compiled;
pub mod config;
pub mod error;
pub mod merge;
pub mod rate;
pub mod request;
pub mod sizes;
pub mod trace;

pub use compiled::{AppSummary, TRACE_SOURCE_NAME, Workload, WorkloadSummary};
pub use config::{
    AppConfig, ArrivalsConfig, NamedTraceFormat, RateStep, SessionPick, SizeDist, Spike,
    TimestampKind, TraceColumns, TraceConfig, TraceFormat, TraceMaxTokens, TraceWindow,
    WorkloadConfig,
};
pub use error::{WorkloadError, WorkloadErrorKind};
pub use merge::Requests;
pub use request::{CHARS_PER_TOKEN, DeploymentId, Request, prompt_chars, prompt_text};
