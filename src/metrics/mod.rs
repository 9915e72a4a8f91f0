//! Metrics: the record types every driver emits and the incremental per-strategy recorder.
//!
//! Owns: [`RequestRecord`] / [`AttemptRecord`] (one type for sim and live), full-run
//! HdrHistograms (µs, 3 significant digits), per-second series and per-backend counters.
//! Memory is fixed per strategy apart from one small entry per second of run; records
//! themselves are streamed to disk by the report writers, never kept here. Never reads a
//! clock: every time is a `Duration` since the run start supplied by the driver.

pub mod intervals;
pub mod latency;
pub mod record;
pub mod recorder;
pub mod second_latency;
pub mod series;

pub use latency::LatencyHistogram;
pub use record::{
    AppIndex, AttemptRecord, BackendIndex, BackendsTried, ErrorClass, RequestRecord, StrategyIndex,
};
pub use recorder::{BackendTotals, StrategyHistograms, StrategyRecorder, StrategyTotals};
pub use series::SecondSeries;
