//! Metrics: the record types every driver emits and the data structures they are folded into.
//!
//! Owns: [`RequestRecord`] / [`AttemptRecord`] (one type for sim and live), full-run
//! HdrHistograms (µs, 3 significant digits), per-second series. The recorder that folds records into them lives in
//! [`crate::report::recorder`]: metrics never import the report.
//! Memory is fixed per strategy apart from one small entry per second of run; records
//! themselves are streamed to disk by the report writers, never kept here. Never reads a
//! clock: every time is a `Duration` since the run start supplied by the driver.

pub mod flat_histogram;
pub mod interval_encode;
pub mod intervals;
pub mod latency;
pub mod record;
pub mod second_latency;
pub mod series;

pub use latency::LatencyHistogram;
pub use record::{
    AppIndex, AttemptRecord, BackendIndex, BackendsTried, ErrorClass, RequestRecord, StrategyIndex,
};
pub use series::SecondSeries;
