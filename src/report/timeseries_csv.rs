//! `timeseries.csv`: per second, per strategy, in a tidy long format.
//!
//! One row per (strategy, second, backend), plus one row per (strategy, second) whose
//! `backend` is `all`:
//! - `all` rows count **logical requests** as the client saw them: `sent` by actual start,
//!   `ok`/`throttled`/`server_error`/`other_error` by end, `in_flight` at the end of the
//!   second, and `latency_p50_s`/`latency_p99_s` of the e2e latency of requests that ended in
//!   that second (within 1%, see `metrics::second_latency`). Breaker and
//!   utilization columns are empty.
//! - backend rows count **attempts** on that backend (`sent` by attempt start, outcomes by
//!   attempt end), `breaker` (`open`/`closed` at the end of the second), `breaker_open_s`
//!   (time open within the second) and PTU utilization mean/max of the samples in the second
//!   (empty without samples). `in_flight` and latency columns are empty.

use std::io::Write;

use super::csv_fields::FieldWriter;
use super::error::ReportError;
use super::format::PERCENT_DIGITS;
use super::setup::RunSetup;
use crate::metrics::SecondSeries;
use crate::metrics::series::OutcomeCounts;

/// Columns of `timeseries.csv`, in order.
pub const TIMESERIES_HEADER: &[&str] = &[
    "strategy",
    "second",
    "backend",
    "sent",
    "ok",
    "throttled",
    "server_error",
    "other_error",
    "in_flight",
    "latency_p50_s",
    "latency_p99_s",
    "breaker",
    "breaker_open_s",
    "ptu_util_mean",
    "ptu_util_max",
];

fn outcomes<W: Write>(f: &mut FieldWriter<W>, counts: &OutcomeCounts) -> Result<(), ReportError> {
    f.uint(u64::from(counts.ok))?;
    f.uint(u64::from(counts.throttled))?;
    f.uint(u64::from(counts.server_error))?;
    f.uint(u64::from(counts.other_error))
}

/// Write the series of every strategy (`(strategy name, series)`, in scenario order).
pub fn write_timeseries_csv<W: Write>(
    writer: W,
    setup: &RunSetup,
    strategies: &[(&str, &SecondSeries)],
) -> Result<W, ReportError> {
    let digits = PERCENT_DIGITS as usize;
    let mut f = FieldWriter::new(writer, TIMESERIES_HEADER)?;
    for (strategy, series) in strategies {
        for row in series.request_rows() {
            f.text(strategy)?;
            f.uint(row.second)?;
            f.text("all")?;
            f.uint(u64::from(row.sent))?;
            outcomes(&mut f, &row.ended)?;
            f.uint(row.in_flight)?;
            f.optional_seconds(row.latency_p50)?;
            f.optional_seconds(row.latency_p99)?;
            for _ in 0..4 {
                f.text("")?;
            }
            f.end_row()?;
            for backend in series.backend_rows(row.second) {
                let name = setup
                    .backends
                    .get(backend.backend)
                    .map_or("", |info| info.name.as_str());
                f.text(strategy)?;
                f.uint(backend.second)?;
                f.text(name)?;
                f.uint(u64::from(backend.sent))?;
                outcomes(&mut f, &backend.ended)?;
                for _ in 0..3 {
                    f.text("")?;
                }
                f.text(if backend.breaker_open_at_end {
                    "open"
                } else {
                    "closed"
                })?;
                f.seconds(backend.breaker_open)?;
                f.optional_fixed(backend.utilization_mean, digits)?;
                f.optional_fixed(backend.utilization_max, digits)?;
                f.end_row()?;
            }
        }
    }
    f.finish()
}
