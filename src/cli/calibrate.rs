//! `throttlebox calibrate LOG… --format F --out scenario.toml`: a scenario from the user's own
//! logs, with `calibration.md`/`.html` beside it; and `--export-logs RUN_DIR`, a run's records
//! written as such logs (the round trip).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use throttlebox::calibrate::{self, LogFormat, Options, TokenModel, export};
use throttlebox::workload::trace::timestamp::parse_datetime_ns;

use super::Outcome;
use super::sim::{command_line, load};

/// `throttlebox calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Log exports to read (CSV with a header, or JSON lines; several files are one log).
    #[arg(required_unless_present = "export_logs")]
    logs: Vec<PathBuf>,
    /// `azure-diagnostics` (AOAI RequestResponse), `apim-gateway` (ApiManagementGatewayLogs
    /// with ApiManagementGatewayLlmLog tokens), or `columns:time=COL,prompt=COL,…`.
    #[arg(long, value_parser = |text: &str| text.parse::<LogFormat>())]
    format: LogFormat,
    /// The scenario file to write (with --export-logs: the log file; `.json`/`.jsonl` for JSON
    /// lines, CSV otherwise).
    #[arg(long)]
    out: PathBuf,
    /// Folder for calibration.md and calibration.html (default: the folder of --out).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Token lengths: `empirical` (the observed distribution) or `lognormal` (fitted).
    #[arg(long, default_value = "empirical", value_parser = ["empirical", "lognormal"])]
    tokens: String,
    /// The deployment to calibrate when the logs mix several.
    #[arg(long)]
    deployment: Option<String>,
    /// A backend that is a provisioned (PTU) deployment (repeatable); the others are standard.
    #[arg(long)]
    provisioned: Vec<String>,
    /// The max_tokens your apps send (the logs do not say; default: none sent).
    #[arg(long)]
    max_tokens: Option<u32>,
    /// Model when the logs name none.
    #[arg(long, default_value = "gpt-4o")]
    model: String,
    /// A scenario whose pool order, strategies, client, SLOs, costs and switches to keep.
    #[arg(long)]
    template: Option<PathBuf>,
    /// Seed of the scenario and of every bootstrap (default: the template's, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Bootstrap resamples per confidence interval (0: no intervals).
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Scenario name.
    #[arg(long, default_value = "calibrated")]
    name: String,
    /// Width of the arrival-rate steps (default: from the logs' span).
    #[arg(long, value_parser = throttlebox::duration::parse)]
    bin: Option<Duration>,
    /// Count malformed rows and go on instead of stopping at the first.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Instead: write RUN_DIR's requests.csv/attempts.csv as --format logs into --out.
    #[arg(long, value_name = "RUN_DIR")]
    export_logs: Option<PathBuf>,
    /// With --export-logs: the run's scenario (regions, models; default: the embedded one).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// With --export-logs: the strategy whose records to export (default: the first).
    #[arg(long)]
    strategy: Option<String>,
    /// With --export-logs: the UTC time the run's second 0 maps to.
    #[arg(long, default_value = "2024-05-10T08:00:00Z")]
    start: String,
}

fn export_run(args: &CalibrateArgs, run: &Path) -> anyhow::Result<Outcome> {
    let scenario = load(args.scenario.as_ref(), &[])?;
    let start_ns = parse_datetime_ns(&args.start)
        .map_err(|reason| anyhow::anyhow!("--start {:?}: {reason}", args.start))?;
    let rows = export::export_logs(
        run,
        &scenario,
        &args.format,
        args.strategy.as_deref(),
        start_ns,
        &args.out,
    )?;
    println!(
        "wrote {rows} {} rows to {}",
        args.format,
        args.out.display()
    );
    Ok(Outcome::Ok)
}

/// Run the command.
pub fn run(args: CalibrateArgs) -> anyhow::Result<Outcome> {
    if let Some(run) = &args.export_logs {
        return export_run(&args, run);
    }
    let options = Options {
        format: args.format.clone(),
        tokens: if args.tokens == "lognormal" {
            TokenModel::Lognormal
        } else {
            TokenModel::Empirical
        },
        deployment: args.deployment.clone(),
        provisioned: args.provisioned.clone(),
        max_tokens: args.max_tokens,
        model: args.model.clone(),
        template: args.template.clone(),
        seed: args.seed,
        bootstrap: args.bootstrap,
        name: args.name.clone(),
        bin_s: args.bin.map(|b| b.as_secs_f64()).filter(|b| *b > 0.0),
        skip_bad_rows: args.skip_bad_rows,
    };
    let calibration = calibrate::calibrate(&args.logs, &options)?;
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create", parent.display()))?;
    }
    throttlebox::report::atomic_file::write_file(&args.out, calibration.scenario.as_bytes())?;
    let dir = args
        .report
        .clone()
        .unwrap_or_else(|| args.out.parent().map(PathBuf::from).unwrap_or_default());
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let reports = calibrate::write_reports(&calibration, &dir, &command_line())?;
    if calibration.workload_only {
        println!(
            "WORKLOAD-ONLY calibration: the logs carry no latency column; the fleet is a placeholder (see the report)."
        );
    }
    println!(
        "{} calls → {} app(s), {} backend(s); scenario {}",
        calibration.calls,
        calibration.workload.apps.len(),
        calibration.fleet.len(),
        args.out.display()
    );
    for path in reports {
        println!("report {}", path.display());
    }
    println!("not identified from the logs (left at defaults):");
    for note in &calibration.notes {
        println!("  {}: {}", note.topic, note.text);
    }
    Ok(Outcome::Ok)
}
