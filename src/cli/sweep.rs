//! `throttlebox sweep SCENARIO --set key=v1,v2 …`: the grid on all cores with a progress bar,
//! written as `sweep.csv` and `sweep.md` in the run directory. SIGINT/SIGTERM stop it: the
//! cells that finished are written (`sweep.md` says how many are missing), exit 130/143.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use throttlebox::report::RunDir;
use throttlebox::scenario::{Override, Scenario};
use throttlebox::shard::Shard;
use throttlebox::sweep::{Axis, SweepRun, grid_csv, grid_markdown, preflight, run_sweep_where};

use super::deprecated::scenario_notes;
use super::run_folder::Folder;
use super::signals::Signals;
use super::sim::default_jobs;
use super::wall::{Stopwatch, timestamp};
use super::{Outcome, shard_sweep};

/// `sweep.csv`: one row per cell and strategy; its presence marks a sweep folder.
const SWEEP_CSV: &str = "sweep.csv";
/// `sweep.md`: the grid with the best cell per metric in bold.
const SWEEP_MD: &str = "sweep.md";

/// `throttlebox sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (TOML); default: the embedded default scenario.
    pub scenario: Option<PathBuf>,
    /// An axis: `--set breaker.trip_duration=10s,30s,60s` (repeatable; the grid is their
    /// product). A single value fixes a setting for every cell.
    #[arg(long = "set", value_name = "KEY=V1,V2,…", required = true)]
    pub sets: Vec<String>,
    /// Folder the run directory is created in.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Run directory name (default: `<scenario>-sweep-<UTC timestamp>`); an existing one is
    /// refused unless `--force`.
    #[arg(long)]
    pub run: Option<String>,
    /// Replace an existing `--run` folder (and everything in it).
    #[arg(long)]
    pub force: bool,
    /// Threads; default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run even when the pre-flight estimate of the whole grid (requests, memory) is over the
    /// safety limits.
    #[arg(long)]
    pub allow_large: bool,
    /// Run shard K of N (K from 0): only the cells whose grid position is K modulo N, plus
    /// `shard.json`; `throttlebox merge` joins the N folders into the whole sweep.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// Run the command.
pub fn run(args: SweepArgs) -> anyhow::Result<Outcome> {
    let signals = Signals::install()?;
    let mut axes = Vec::new();
    let mut fixed = Vec::new();
    for text in &args.sets {
        let axis = Axis::parse(text)?;
        match axis.values.as_slice() {
            [single] => fixed.push(Override::new(&axis.key, single)?),
            _ => axes.push(axis),
        }
    }
    let base = match &args.scenario {
        Some(path) => Scenario::load(path, &fixed)?,
        None => Scenario::embedded_default(&fixed)?,
    };
    scenario_notes(&base);
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    preflight(
        args.scenario.as_deref(),
        &fixed,
        &axes,
        jobs,
        args.allow_large,
    )?;
    Folder::new(&args.results, args.run.as_deref(), args.force).run_in(
        || format!("{}-sweep-{}", base.name(), timestamp()),
        SWEEP_CSV,
        |dir| sweep(&args, &base, &fixed, &axes, dir, &signals),
    )
}

fn sweep(
    args: &SweepArgs,
    base: &Scenario,
    fixed: &[Override],
    axes: &[Axis],
    dir: &RunDir,
    signals: &Signals,
) -> anyhow::Result<Outcome> {
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    let grid: usize = axes.iter().map(|axis| axis.values.len()).product();
    let cells = shard.positions(grid).len();
    if cells == 0 {
        anyhow::bail!(
            "--shard {shard}: the grid has {grid} cells, so at most {grid} shards have one to run"
        );
    }
    let bar = ProgressBar::new(cells as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} cells")
            .map_err(|error| anyhow::anyhow!("progress bar template: {error}"))?,
    );
    eprintln!("sweeping {cells} cells on {jobs} thread(s)…");
    let clock = Stopwatch::start();
    let on_cell = |done: usize, total: usize| {
        bar.set_position(done as u64);
        if bar.is_hidden() {
            // No terminal (a log, a pipe): a line per cell instead of the bar.
            eprintln!("  {done}/{total} cells done");
        }
    };
    let sweep = run_sweep_where(
        args.scenario.as_deref(),
        fixed,
        axes,
        &|position| shard.owns(position as u64),
        jobs,
        &on_cell,
        signals.stop_flag(),
    )?;
    bar.finish_and_clear();
    if !sweep.results.is_empty() {
        if let Some(shard) = args.shard {
            shard_sweep::write_manifest(dir, base, shard, &args.sets, axes, &sweep)?;
        }
        write(dir, axes, &sweep)?;
    }
    eprintln!(
        "{} of {cells} cells on {jobs} thread(s) in {:.2?}; results in {}",
        sweep.results.len(),
        clock.elapsed(),
        dir.path().display()
    );
    Ok(match signals.received() {
        Some(signal) => Outcome::Interrupted(signal),
        None => Outcome::Ok,
    })
}

/// `sweep.md` (first, with a note when cells are missing), then `sweep.csv`.
pub(super) fn write(dir: &RunDir, axes: &[Axis], sweep: &SweepRun) -> anyhow::Result<()> {
    let keys: Vec<String> = axes.iter().map(|axis| axis.key.clone()).collect();
    let mut markdown = String::new();
    if sweep.interrupted() {
        markdown.push_str(&format!(
            "> **Interrupted**: {} of {} cells finished; the others are missing below.\n\n",
            sweep.results.len(),
            sweep.total
        ));
    }
    markdown.push_str(&grid_markdown(&keys, &sweep.results));
    dir.write_text(SWEEP_MD, &markdown)?;
    dir.write_text(SWEEP_CSV, &grid_csv(&keys, &sweep.results)?)?;
    println!("{markdown}");
    Ok(())
}
