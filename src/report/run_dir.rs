//! The run directory `results/<run>/` and the files in it: `summary.json`, `requests.csv`,
//! `attempts.csv`, `timeseries.csv`, `report.md`, `report.html` and `histograms/*.hlog`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::ReportError;
use super::hlog::{HISTOGRAMS_DIR, hlog_file_names};
use super::html::{StrategyCharts, report_html};
use super::markdown::report_markdown;
use super::records_csv::{AttemptsCsvWriter, RequestsCsvWriter};
use super::setup::RunSetup;
use super::summary::Summary;
use super::timeseries_csv::write_timeseries_csv;
use crate::metrics::SecondSeries;

/// `summary.json`.
pub const SUMMARY_JSON: &str = "summary.json";
/// `requests.csv`.
pub const REQUESTS_CSV: &str = "requests.csv";
/// `attempts.csv`.
pub const ATTEMPTS_CSV: &str = "attempts.csv";
/// `timeseries.csv`.
pub const TIMESERIES_CSV: &str = "timeseries.csv";
/// `report.md`.
pub const REPORT_MD: &str = "report.md";
/// `report.html`.
pub const REPORT_HTML: &str = "report.html";

/// The JSON text of `summary.json` (pretty, two-space indent, trailing newline).
pub fn summary_json(summary: &Summary) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(summary)?;
    text.push('\n');
    Ok(text)
}

/// A run's output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Create `<results>/<run>/` (and parents). `run` must be a plain directory name.
    pub fn create(results: &Path, run: &str) -> Result<RunDir, ReportError> {
        let plain = !run.is_empty()
            && run != "."
            && run != ".."
            && !run.contains(['/', '\\'])
            && !run.contains('\0');
        if !plain {
            return Err(ReportError::Invalid {
                field: "run name".to_string(),
                reason: format!("{run:?} is not a plain directory name"),
            });
        }
        let path = results.join(run);
        fs::create_dir_all(&path).map_err(|error| ReportError::io(&path, error))?;
        Ok(RunDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A writer the driver feeds request records to as they are produced.
    pub fn requests_writer(
        &self,
        setup: Arc<RunSetup>,
    ) -> Result<RequestsCsvWriter<BufWriter<File>>, ReportError> {
        RequestsCsvWriter::create(&self.path.join(REQUESTS_CSV), setup)
    }

    /// A writer the driver feeds attempt records to as they are produced.
    pub fn attempts_writer(
        &self,
        setup: Arc<RunSetup>,
    ) -> Result<AttemptsCsvWriter<BufWriter<File>>, ReportError> {
        AttemptsCsvWriter::create(&self.path.join(ATTEMPTS_CSV), setup)
    }

    /// Write `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> Result<(), ReportError> {
        self.write_text(SUMMARY_JSON, &summary_json(summary)?)
    }

    /// Write `report.md`.
    pub fn write_report(&self, summary: &Summary) -> Result<(), ReportError> {
        self.write_report_with(summary, "")
    }

    /// Write `report.md` with `appendix` (markdown sections of the driver's own) after it.
    pub fn write_report_with(&self, summary: &Summary, appendix: &str) -> Result<(), ReportError> {
        self.write_text(REPORT_MD, &(report_markdown(summary) + appendix))
    }

    /// Write `report.html` (charts from each strategy's series and TTFT histogram, scenario
    /// order).
    pub fn write_html(
        &self,
        summary: &Summary,
        setup: &RunSetup,
        strategies: &[StrategyCharts<'_>],
    ) -> Result<(), ReportError> {
        self.write_text(REPORT_HTML, &report_html(summary, setup, strategies)?)
    }

    /// Write `histograms/<strategy>.hlog` for each `(strategy name, interval log text)`, in
    /// scenario order (file names from [`hlog_file_names`]).
    pub fn write_histograms(&self, logs: &[(&str, &[u8])]) -> Result<(), ReportError> {
        let folder = self.path.join(HISTOGRAMS_DIR);
        fs::create_dir_all(&folder).map_err(|error| ReportError::io(&folder, error))?;
        let names: Vec<&str> = logs.iter().map(|(name, _)| *name).collect();
        for ((_, log), file) in logs.iter().zip(hlog_file_names(&names)) {
            let path = folder.join(file);
            fs::write(&path, log).map_err(|error| ReportError::io(&path, error))?;
        }
        Ok(())
    }

    /// Write `timeseries.csv` from every strategy's series, in scenario order.
    pub fn write_timeseries(
        &self,
        setup: &RunSetup,
        strategies: &[(&str, &SecondSeries)],
    ) -> Result<(), ReportError> {
        let path = self.path.join(TIMESERIES_CSV);
        let file = File::create(&path).map_err(|error| ReportError::io(&path, error))?;
        let mut writer = write_timeseries_csv(BufWriter::new(file), setup, strategies)?;
        writer
            .flush()
            .map_err(|error| ReportError::io(&path, error))
    }

    fn write_text(&self, name: &str, text: &str) -> Result<(), ReportError> {
        let path = self.path.join(name);
        fs::write(&path, text).map_err(|error| ReportError::io(&path, error))
    }
}
