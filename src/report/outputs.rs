//! One writer for every run folder, whatever the driver: the simulator, the live head-to-head
//! and the closed-model goose load all hand [`write_run`] the same [`RunOutputs`] value, so
//! every mode writes the same files (README, Outputs) and `mode` in `summary.json` alone tells
//! them apart. `requests.csv` and `attempts.csv` are streamed by the driver through a
//! [`super::sink::CsvSink`] and committed before; this writes the rest, each file atomically,
//! and `summary.json` last: a folder holding a `summary.json` holds a complete run.

use super::error::ReportError;
use super::html::{StrategyCharts, report_html};
use super::markdown::report_markdown;
use super::recorder::StrategyHistograms;
use super::run_dir::{REPORT_HTML, REPORT_MD, RunDir, SUMMARY_JSON, summary_json};
use super::setup::RunSetup;
use super::summary::Summary;
use crate::metrics::SecondSeries;

/// What one strategy leaves besides its summary: the per-second series and the histograms.
#[derive(Debug, Clone, Copy)]
pub struct StrategyOutputs<'a> {
    /// Strategy name (as in the summary).
    pub name: &'a str,
    /// Its per-second series (`timeseries.csv`, the charts).
    pub series: &'a SecondSeries,
    /// Its histograms (the TTFT chart, `histograms/<strategy>.hlog`).
    pub histograms: &'a StrategyHistograms,
}

/// Everything a run folder is written from.
#[derive(Debug, Clone)]
pub struct RunOutputs<'a> {
    /// The run's setup (names behind the indices).
    pub setup: &'a RunSetup,
    /// The summary (one entry per strategy written, scenario order).
    pub summary: &'a Summary,
    /// The strategies' series and histograms, in the summary's order.
    pub strategies: Vec<StrategyOutputs<'a>>,
    /// Markdown sections of the driver's own appended to `report.md` (the live engine's
    /// account), or empty.
    pub report_appendix: String,
    /// Files of the driver's own written beside the others (`engine.json`).
    pub extra_files: Vec<(&'static str, String)>,
}

/// Write `timeseries.csv`, `histograms/*.hlog`, the driver's extra files, `report.html`,
/// `report.md` and finally `summary.json` into `dir`.
pub fn write_run(dir: &RunDir, outputs: &RunOutputs<'_>) -> Result<(), ReportError> {
    let series: Vec<(&str, &SecondSeries)> = outputs
        .strategies
        .iter()
        .map(|strategy| (strategy.name, strategy.series))
        .collect();
    dir.write_timeseries(outputs.setup, &series)?;
    let mut logs = Vec::with_capacity(outputs.strategies.len());
    for strategy in &outputs.strategies {
        let log = strategy
            .histograms
            .interval_log
            .as_deref()
            .map_err(|reason| ReportError::Invalid {
                field: format!("interval log of strategy {}", strategy.name),
                reason: reason.clone(),
            })?;
        logs.push((strategy.name, log));
    }
    dir.write_histograms(&logs)?;
    for (name, text) in &outputs.extra_files {
        dir.write_text(name, text)?;
    }
    let charts: Vec<StrategyCharts<'_>> = outputs
        .strategies
        .iter()
        .map(|strategy| StrategyCharts {
            name: strategy.name,
            series: strategy.series,
            ttft: &strategy.histograms.ttft,
        })
        .collect();
    dir.write_text(
        REPORT_HTML,
        &report_html(outputs.summary, outputs.setup, &charts)?,
    )?;
    dir.write_text(
        REPORT_MD,
        &(report_markdown(outputs.summary) + &outputs.report_appendix),
    )?;
    dir.write_text(SUMMARY_JSON, &summary_json(outputs.summary)?)
}
