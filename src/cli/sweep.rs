//! `throttlebox sweep SCENARIO --set key=v1,v2 … [--strategy NAME] [--constraint '…']`: the
//! grid on all cores with a progress bar, written as `sweep.csv`, `sweep.md` and `sweep.html`
//! in the run directory. The pre-flight estimate of every simulation is checked before the
//! folder is created (`--allow-large`); `--shard K/N` runs a part of the grid and writes
//! `shard.json` for `throttlebox merge`. SIGINT/SIGTERM stop it: the cells that finished are
//! written (`sweep.md` says how many are missing), exit 130/143.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use throttlebox::report::RunDir;
use throttlebox::report::bound::{Bound, parse_bounds};
use throttlebox::scenario::{Override, Scenario};
use throttlebox::shard::Shard;
use throttlebox::sweep::{
    Axis, SweepProgress, SweepRequest, SweepRun, grid_csv, grid_markdown, load_scenario, preflight,
    run_sweep, sweep_html,
};

use super::deprecated::scenario_notes;
use super::run_folder::FolderArgs;
use super::signals::Signals;
use super::sim::default_jobs;
use super::wall::{Stopwatch, timestamp};
use super::{Outcome, shard_sweep};

/// `sweep.csv`: one row per cell and strategy; its presence marks a sweep folder.
const SWEEP_CSV: &str = "sweep.csv";
/// `sweep.md`: a table per strategy, the best cell per metric in bold.
const SWEEP_MD: &str = "sweep.md";
/// `sweep.html`: a heatmap (two axes) or curves (one axis) per metric.
const SWEEP_HTML: &str = "sweep.html";

/// `throttlebox sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (TOML); default: the embedded default scenario.
    pub scenario: Option<PathBuf>,
    /// An axis: `--set breaker.trip_duration=10s,30s,60s` (repeatable; the grid is their
    /// product). A single value fixes a setting for every cell.
    #[arg(long = "set", value_name = "KEY=V1,V2,…", required = true)]
    pub sets: Vec<String>,
    /// Run only this strategy (repeatable; default: every strategy of the scenario).
    #[arg(long = "strategy", value_name = "NAME")]
    pub strategies: Vec<String>,
    /// Bounds a cell must meet to count as best: `success>=99.9%,p99_ttft<2s` (the metrics
    /// of `plan --slo` and `gate`).
    #[arg(long, value_name = "METRIC OP VALUE,…", default_value = "")]
    pub constraint: String,
    #[command(flatten)]
    pub folder: FolderArgs,
    /// Threads; default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run even when the pre-flight estimate of the whole grid (requests, memory) is over the
    /// safety limits.
    #[arg(long)]
    pub allow_large: bool,
    /// Run shard K of N (K from 0): only the cells whose grid position is K modulo N (shard 0
    /// also simulates the strategies no axis reaches, once), plus `shard.json`; `throttlebox
    /// merge` joins the N folders into the whole sweep, byte for byte.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// Run the command.
pub fn run(args: SweepArgs) -> anyhow::Result<Outcome> {
    let signals = Signals::install()?;
    let bounds = parse_bounds("--constraint", &args.constraint)?;
    let mut axes = Vec::new();
    let mut fixed = Vec::new();
    for text in &args.sets {
        let axis = Axis::parse(text)?;
        match axis.values.as_slice() {
            [single] => fixed.push(Override::new(&axis.key, single)?),
            _ => axes.push(axis),
        }
    }
    let base = load_scenario(args.scenario.as_deref(), &fixed)?;
    scenario_notes(&base);
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    let grid: usize = axes.iter().map(|axis| axis.values.len()).product();
    if shard.positions(grid).is_empty() {
        anyhow::bail!(
            "--shard {shard}: the grid has {grid} cells, so at most {grid} shards have one to run"
        );
    }
    let request = SweepRequest {
        path: args.scenario.as_deref(),
        fixed: &fixed,
        axes: &axes,
        strategies: &args.strategies,
        jobs: args.jobs.unwrap_or_else(default_jobs),
        shard,
    };
    // Every simulation this sweep (or shard) makes, estimated before the folder exists.
    preflight(&request, args.allow_large)?;
    args.folder.folder().run_in(
        || format!("{}-sweep-{}", base.name(), timestamp()),
        SWEEP_CSV,
        |dir| sweep(&args, &request, &base, &bounds, dir, &signals),
    )
}

fn sweep(
    args: &SweepArgs,
    request: &SweepRequest<'_>,
    base: &Scenario,
    bounds: &[Bound],
    dir: &RunDir,
    signals: &Signals,
) -> anyhow::Result<Outcome> {
    let jobs = request.jobs;
    let grid: usize = request.axes.iter().map(|axis| axis.values.len()).product();
    let cells = request.shard.positions(grid).len();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} simulations, {msg}")
            .map_err(|error| anyhow::anyhow!("progress bar template: {error}"))?,
    );
    eprintln!("sweeping {cells} cells on {jobs} thread(s)…");
    let clock = Stopwatch::start();
    let on_done = |progress: SweepProgress| {
        bar.set_length(progress.total_simulations as u64);
        bar.set_position(progress.simulations as u64);
        bar.set_message(format!("{}/{} cells", progress.cells, progress.total_cells));
        if bar.is_hidden() {
            // No terminal (a log, a pipe): a line per simulation instead of the bar.
            eprintln!(
                "  {}/{} simulations done, {}/{} cells complete",
                progress.simulations,
                progress.total_simulations,
                progress.cells,
                progress.total_cells
            );
        }
    };
    let sweep = run_sweep(request, &on_done, signals.stop_flag())?;
    bar.finish_and_clear();
    if !sweep.is_empty() {
        if let Some(shard) = args.shard {
            shard_sweep::write_manifest(dir, base, shard, &args.sets, &args.constraint, &sweep)?;
        }
        write(dir, bounds, &sweep, base.name())?;
    }
    eprintln!(
        "{} of {cells} cells ({} simulations, {} simulated requests) on {jobs} thread(s) in \
         {:.2?}; results in {}",
        sweep.finished_cells,
        sweep.simulations,
        sweep.simulated_requests,
        clock.elapsed(),
        dir.path().display()
    );
    Ok(match signals.received() {
        Some(signal) => Outcome::Interrupted(signal),
        None => Outcome::Ok,
    })
}

/// `sweep.md` (with a note when cells are missing) and `sweep.html`, then `sweep.csv`, whose
/// presence marks a sweep folder.
pub(super) fn write(
    dir: &RunDir,
    bounds: &[Bound],
    sweep: &SweepRun,
    scenario: &str,
) -> anyhow::Result<()> {
    let mut markdown = String::new();
    if sweep.interrupted() {
        markdown.push_str(&format!(
            "> **Interrupted**: {} of {} cells finished; the others are missing below.\n\n",
            sweep.finished_cells,
            sweep.given_cells()
        ));
    }
    markdown.push_str(&grid_markdown(sweep, bounds));
    dir.write_text(SWEEP_MD, &markdown)?;
    dir.write_text(SWEEP_HTML, &sweep_html(sweep, bounds, scenario)?)?;
    dir.write_text(SWEEP_CSV, &grid_csv(sweep, bounds)?)?;
    println!("{markdown}");
    Ok(())
}
