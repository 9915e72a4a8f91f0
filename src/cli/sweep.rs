//! `throttlebox sweep SCENARIO --set key=v1,v2 …`: the grid on all cores with a progress bar,
//! written as `sweep.csv` and `sweep.md` in the run directory.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use throttlebox::report::RunDir;
use throttlebox::scenario::Override;
use throttlebox::sweep::{Axis, grid_csv, grid_markdown, preflight, run_sweep};

use super::Outcome;
use super::sim::default_jobs;
use super::wall::{Stopwatch, timestamp};

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
    /// Run directory name (default: `<scenario>-sweep-<UTC timestamp>`).
    #[arg(long)]
    pub run: Option<String>,
    /// Threads; default: all cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run even when the pre-flight estimate of the whole grid (requests, memory) is over the
    /// safety limits.
    #[arg(long)]
    pub allow_large: bool,
}

/// Run the command.
pub fn run(args: SweepArgs) -> anyhow::Result<Outcome> {
    let mut axes = Vec::new();
    let mut fixed = Vec::new();
    for text in &args.sets {
        let axis = Axis::parse(text)?;
        match axis.values.as_slice() {
            [single] => fixed.push(Override::new(&axis.key, single)?),
            _ => axes.push(axis),
        }
    }
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    preflight(
        args.scenario.as_deref(),
        &fixed,
        &axes,
        jobs,
        args.allow_large,
    )?;
    let cells: usize = axes.iter().map(|axis| axis.values.len()).product();
    let bar = ProgressBar::new(cells as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} cells")
            .map_err(|error| anyhow::anyhow!("progress bar template: {error}"))?,
    );
    let clock = Stopwatch::start();
    let results = run_sweep(args.scenario.as_deref(), &fixed, &axes, jobs, &|done, _| {
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    let name = results
        .first()
        .map(|result| result.summary.scenario.clone())
        .unwrap_or_default();
    let run_name = args
        .run
        .clone()
        .unwrap_or_else(|| format!("{name}-sweep-{}", timestamp()));
    let dir = RunDir::create(&args.results, &run_name)?;
    let keys: Vec<String> = axes.iter().map(|axis| axis.key.clone()).collect();
    let markdown = grid_markdown(&keys, &results);
    std::fs::write(dir.path().join("sweep.csv"), grid_csv(&keys, &results)?)?;
    std::fs::write(dir.path().join("sweep.md"), &markdown)?;
    println!("{markdown}");
    eprintln!(
        "{cells} cells on {jobs} thread(s) in {:.2?}; results in {}",
        clock.elapsed(),
        dir.path().display()
    );
    Ok(Outcome::Ok)
}
