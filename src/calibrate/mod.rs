//! `throttlebox calibrate`: a scenario built from the user's own logs, with a report of how
//! well it fits and of what the logs could not identify.
//!
//! Pipeline: `parse` reads the exports (CSV or JSON lines) into calls; `workload` fits
//! the arrivals (rate per step, Gamma CV), token lengths and stream share per app; `fleet`
//! fits each backend's latency to the mock's model and its quota from the 429s; `scenario`
//! writes a file the scenario loader accepts; [`quality`] re-simulates the result against the
//! logs; `report` and `report_html` write `calibration.md` and `calibration.html`. Every
//! interval is a Poisson bootstrap on a named stream of the seed, so a calibration is
//! reproducible. [`export`] goes the other way (a run's records as log exports), for the
//! round trip that proves the fit.
//!
//! Columns read, from Microsoft's references:
//! - AOAI resource logs, category `RequestResponse` (table `AzureDiagnostics`; "Supported
//!   logs for Microsoft.CognitiveServices/accounts",
//!   <https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-cognitiveservices-accounts-logs>):
//!   `TimeGenerated`/`time`, `Category`, `OperationName` (`ChatCompletions_Create`…),
//!   `DurationMs`, `ResultSignature` (the HTTP status), `CorrelationId`, `Resource`/
//!   `ResourceId`, `location`, and in `properties_s` (`properties` in resource-log JSON):
//!   `requestTime` (.NET ticks), `streamType` (`Streaming`/`Non-Streaming`),
//!   `modelDeploymentName`, `modelName`, `modelVersion`, `objectId` — field names as in
//!   Elastic's Azure OpenAI integration test events (elastic/integrations,
//!   `packages/azure_openai/data_stream/logs/_dev/test/pipeline/test-open-ai-request-response.log`).
//!   These logs carry no token counts; `PromptTokens`/`CompletionTokens` columns are read when
//!   the export joins them in (README, "Start from your own traffic").
//! - APIM `ApiManagementGatewayLogs`
//!   (<https://learn.microsoft.com/azure/azure-monitor/reference/tables/ApiManagementGatewayLogs>):
//!   `TimeGenerated`, `CorrelationId`, `BackendId`, `BackendUrl`, `ResponseCode`,
//!   `BackendResponseCode`, `TotalTime`, `BackendTime`, `ApimSubscriptionId`; and
//!   `ApiManagementGatewayLlmLog`
//!   (<https://learn.microsoft.com/azure/azure-monitor/reference/tables/apimanagementgatewayllmlog>):
//!   `CorrelationId` ("corresponding with the same field in ApiManagementGatewayLogs"),
//!   `DeploymentName`, `ModelName`, `PromptTokens`, `CompletionTokens`, `IsStreamCompletion`.
//!
//! Uncertain: whether AOAI's `DurationMs` covers a whole stream or only its first byte is
//! not documented; calibration takes it as the whole call, as the exporter writes it. Response
//! headers (`x-ms-region`, `x-ratelimit-remaining-*`) are in neither export and are not read:
//! the region comes from the resource log's `location`, quotas from which calls were throttled.

mod arrivals;
mod error;
pub mod export;
mod fleet;
pub mod format;
mod latency;
mod latency_model;
mod parse;
mod ptu;
pub mod quality;
mod quota;
mod record;
mod report;
mod report_html;
mod rows;
mod scenario;
mod stats;
mod tables;
mod tokens;
mod values;
mod workload;

use crate::report::atomic_file::write_file;
use std::path::{Path, PathBuf};

pub use arrivals::ArrivalFit;
pub use error::CalibrateError;
pub use fleet::{BackendFit, QuotaFit};
pub use format::LogFormat;
pub use latency::{LatencyFit, PARAM_NAMES as LATENCY_PARAMS};
pub use ptu::PtuQuota;
pub use quality::Quality;
pub use quota::StandardQuota;
pub use report_html::chart_ids;
pub use stats::Estimate;
pub use tokens::{TokenFit, TokenModel};
pub use workload::{AppFit, WorkloadFit};

use fleet::{FleetOptions, fit_fleet};
use parse::{ReadOptions, read_logs};
use scenario::{ScenarioOptions, write_scenario};
use workload::{WorkloadOptions, fit_workload};

/// Something the data could not identify, and what was done instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What it is about (an app, a backend, the logs).
    pub topic: String,
    /// What could not be identified and which value was kept.
    pub text: String,
}

impl Note {
    /// A note on `topic`.
    pub fn new(topic: &str, text: impl Into<String>) -> Note {
        Note {
            topic: topic.to_string(),
            text: text.into(),
        }
    }
}

/// Everything `calibrate` is told.
#[derive(Debug, Clone)]
pub struct Options {
    /// The log format.
    pub format: LogFormat,
    /// Empirical or log-normal token lengths.
    pub tokens: TokenModel,
    /// The deployment to calibrate when the logs mix several.
    pub deployment: Option<String>,
    /// Backends that are provisioned (PTU) deployments.
    pub provisioned: Vec<String>,
    /// The `max_tokens` the calls sent, if known.
    pub max_tokens: Option<u32>,
    /// Model when the logs name none.
    pub model: String,
    /// A scenario whose pool, strategies, client, SLOs and costs the result takes.
    pub template: Option<PathBuf>,
    /// Seed of the scenario and of every bootstrap (default: the template's, else 1).
    pub seed: Option<u64>,
    /// Bootstrap resamples per interval.
    pub bootstrap: usize,
    /// Scenario name.
    pub name: String,
    /// Width of the rate steps, seconds (default from the logs' span).
    pub bin_s: Option<f64>,
    /// Count malformed rows and go on.
    pub skip_bad_rows: bool,
}

/// A finished calibration.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The files read and the format.
    pub files: Vec<PathBuf>,
    /// See `files`.
    pub format: String,
    /// Rows read, calls used, and the rows skipped: (reason, count, first `file:line`).
    pub rows_read: u64,
    /// See `rows_read`.
    pub calls: usize,
    /// See `rows_read`.
    pub skipped: Vec<(String, u64, String)>,
    /// No latency column: only the workload was fitted.
    pub workload_only: bool,
    /// The workload fit.
    pub workload: WorkloadFit,
    /// The fleet fit, per backend.
    pub fleet: Vec<BackendFit>,
    /// What could not be identified.
    pub notes: Vec<Note>,
    /// Fit quality.
    pub quality: Quality,
    /// The scenario's seed.
    pub seed: u64,
    /// The scenario file's text.
    pub scenario: String,
}

/// Calibrate a scenario from `files`.
pub fn calibrate(files: &[PathBuf], options: &Options) -> Result<Calibration, CalibrateError> {
    let set = read_logs(
        files,
        &ReadOptions {
            format: options.format.clone(),
            skip_bad_rows: options.skip_bad_rows,
            deployment: options.deployment.clone(),
        },
    )?;
    let mut notes = Vec::new();
    let workload_only = !set.any(|r| r.duration_s.is_some());
    if workload_only {
        notes.push(Note::new("logs", "workload-only calibration: the logs carry no latency column, so only the workload was fitted; the fleet is a placeholder with the mock's default latency, sized not to throttle"));
    }
    let deployment = set
        .records
        .iter()
        .find_map(|r| r.deployment)
        .map(|id| set.names.get(id).to_string())
        .unwrap_or_else(|| {
            notes.push(Note::new(
                "logs",
                format!("no deployment name in the logs: \"{}\"", options.model),
            ));
            options.model.clone()
        });
    for name in &options.provisioned {
        if !set
            .records
            .iter()
            .any(|r| set.name(r.backend) == name.as_str())
        {
            return Err(CalibrateError::invalid(
                "--provisioned",
                name,
                "no call of the logs went to this backend",
            ));
        }
    }
    let seed = options.seed.unwrap_or(1);
    let workload = fit_workload(
        &set,
        &deployment,
        &WorkloadOptions {
            tokens: options.tokens,
            bin_s: options.bin_s,
            max_tokens: options.max_tokens,
            seed,
            bootstrap: options.bootstrap,
        },
        &mut notes,
    );
    let fleet = fit_fleet(
        &set,
        &deployment,
        &FleetOptions {
            provisioned: options.provisioned.clone(),
            max_tokens: options.max_tokens,
            model: options.model.clone(),
            seed,
            bootstrap: options.bootstrap,
        },
        &mut notes,
    );
    let resources: Vec<_> = fleet.iter().map(|b| b.resource.clone()).collect();
    let span = format!(
        "{} to {}",
        values::utc_iso(workload.start_ns, 0),
        values::utc_iso(workload.start_ns + (workload.duration_s * 1e9) as i64, 0)
    );
    let header = format!(
        "# Calibrated by `throttlebox calibrate` from {} calls ({}, {span}).\n# Fit quality, \
         intervals and what the logs could not identify: calibration.md beside this file.\n",
        set.records.len(),
        options.format
    );
    let (scenario, seed) = write_scenario(
        &workload.config,
        resources.clone(),
        &ScenarioOptions {
            name: options.name.clone(),
            description: format!(
                "Calibrated from {} calls ({}), {span}",
                set.records.len(),
                options.format
            ),
            seed: options.seed,
            template: options.template.clone(),
        },
        &header,
        &mut notes,
    )?;
    let quality = quality::check(&set, &workload, &resources, seed)?;
    Ok(Calibration {
        files: files.to_vec(),
        format: options.format.to_string(),
        rows_read: set.rows_read,
        calls: set.records.len(),
        skipped: set
            .skipped
            .iter()
            .map(|s| (s.reason.clone(), s.count, set.locate(s.first)))
            .collect(),
        workload_only,
        workload,
        fleet,
        notes,
        quality,
        seed,
        scenario,
    })
}

/// Write `calibration.md` and `calibration.html` into `dir`; returns their paths.
pub fn write_reports(
    calibration: &Calibration,
    dir: &Path,
    command: &str,
) -> Result<Vec<PathBuf>, CalibrateError> {
    let markdown = dir.join("calibration.md");
    let html = dir.join("calibration.html");
    // Written under a temporary name and renamed, as every run-folder file is.
    write_file(&markdown, report::markdown(calibration, command).as_bytes())?;
    write_file(&html, report_html::html(calibration, command)?.as_bytes())?;
    Ok(vec![markdown, html])
}
