//! Reports: the pure summary of a run's records and the writers of `results/<run>/`.
//!
//! Owns: run setup (names, prices, SLOs), cost and SLO evaluation, the versioned
//! `summary.json`, the record sinks and CSV files, `report.md`, `report.html`, the terminal
//! comparison table, and the one writer of a run folder ([`write_run`]). Never
//! decides anything about the run itself, never reads a clock, and never iterates a HashMap
//! on an output path: the same records give byte-identical files.

pub mod atomic_file;
pub mod bound;
pub mod compare;
pub mod comparison_tables;
pub mod cost;
mod csv_fields;
pub mod error;
pub mod format;
pub mod hlog;
pub mod hlog_merge;
pub mod html;
pub mod labels;
pub mod markdown;
pub mod metric;
pub mod outputs;
pub mod recorder;
pub mod records_csv;
pub mod run_dir;
pub mod setup;
pub mod sink;
pub mod slo;
mod slo_evaluate;
pub(crate) mod summarize;
pub mod summary;
pub mod summary_recorder;
pub mod text_table;
pub mod timeseries_csv;
pub mod totals;
pub mod validity;

pub use compare::{ComparedRun, Comparison, compare, load_run, load_runs};
pub use comparison_tables::head_to_head_table;
pub use cost::{
    CostBreakdown, CostConfig, DeploymentPrices, PtuPriceTable, PtuPrices, TokenUsage, cost,
};
pub use error::ReportError;
pub use hlog::{HISTOGRAMS_DIR, MergedHistograms, hlog_file_names};
pub use labels::{BackendInfo, Mode};
pub use markdown::report_markdown;
pub use outputs::{RunOutputs, StrategyOutputs, write_run};
pub use recorder::{StrategyHistograms, StrategyRecorder};
pub use records_csv::{
    ATTEMPTS_HEADER, AttemptsCsvWriter, REQUESTS_HEADER, RequestsCsvWriter, read_requests_csv,
};
pub use run_dir::{RunDir, summary_json};
pub use setup::RunSetup;
pub use sink::{CsvSink, DiscardSink, RecordSink, RunSink};
pub use slo::{SloConfig, SloVerdict};
pub use summary::{
    BackendSummary, CostSummary, Goodput, LatencySummary, OutcomeTotals, SCHEMA_VERSION,
    StrategySummary, Summary,
};
pub use summary_recorder::SummaryRecorder;
pub use timeseries_csv::{TIMESERIES_HEADER, write_timeseries_csv};
pub use totals::{BackendTotals, StrategyTotals};
pub use validity::{EngineMeasurements, Validity, ValidityContext};
