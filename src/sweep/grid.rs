//! The grid: axes parsed from `--set key=v1,v2`, their cartesian product, and running it —
//! until a [`StopFlag`] is raised, after which no cell starts, running cells stop within
//! milliseconds, and the cells that finished are kept.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::report::Summary;
use crate::scenario::preflight::{self, CEILINGS, Estimate, Job, PreflightError, WorkloadFacts};
use crate::scenario::{Override, Scenario, ScenarioError};
use crate::sim::{SimError, StopFlag, run_all_until};

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A `--set` axis or a cell's scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A cell's simulation failed.
    #[error("cell {cell}: {source}")]
    Sim {
        /// The cell's settings.
        cell: String,
        /// Why.
        source: Box<SimError>,
    },
}

/// One axis: a key and the values to try.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The key (`breaker.trip_duration`).
    pub key: String,
    /// The values, as written.
    pub values: Vec<String>,
}

impl Axis {
    /// Parse `key=v1,v2,…`.
    pub fn parse(text: &str) -> Result<Axis, ScenarioError> {
        let (key, values) = text.split_once('=').ok_or_else(|| {
            ScenarioError::invalid("--set", "", text, "expected key=value1,value2,…")
        })?;
        let values: Vec<String> = values
            .split(',')
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
            .collect();
        if values.is_empty() {
            return Err(ScenarioError::invalid("--set", key, text, "no values"));
        }
        Ok(Axis {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// One cell: a value per axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The overrides of this cell, one per axis in axis order.
    pub overrides: Vec<Override>,
}

impl Cell {
    /// `key=value key=value` for messages and tables.
    pub fn label(&self) -> String {
        self.overrides
            .iter()
            .map(|o| format!("{}={}", o.key, o.value_label()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The cartesian product of `axes`, first axis slowest.
pub fn cells(axes: &[Axis]) -> Result<Vec<Cell>, ScenarioError> {
    let mut cells = vec![Cell {
        overrides: Vec::new(),
    }];
    for axis in axes {
        let mut next = Vec::with_capacity(cells.len() * axis.values.len());
        for cell in &cells {
            for value in &axis.values {
                let mut overrides = cell.overrides.clone();
                overrides.push(Override::new(&axis.key, value)?);
                next.push(Cell { overrides });
            }
        }
        cells = next;
    }
    Ok(cells)
}

/// A cell and the summary of its run.
#[derive(Debug, Clone)]
pub struct CellResult {
    /// The settings.
    pub cell: Cell,
    /// Every strategy's summary for this cell.
    pub summary: Summary,
}

/// The cells of a sweep that finished.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// Finished cells, in grid order.
    pub results: Vec<CellResult>,
    /// Cells in the grid.
    pub total: usize,
}

impl SweepRun {
    /// Whether cells are missing (the sweep was stopped).
    pub fn interrupted(&self) -> bool {
        self.results.len() < self.total
    }
}

/// The scenario at `path` (None: the embedded default) with `fixed` and `cell`'s overrides.
fn load_cell(
    path: Option<&Path>,
    fixed: &[Override],
    cell: &Cell,
) -> Result<Scenario, ScenarioError> {
    let overrides: Vec<Override> = fixed.iter().chain(&cell.overrides).cloned().collect();
    match path {
        Some(path) => Scenario::load(path, &overrides),
        None => Scenario::embedded_default(&overrides),
    }
}

/// The pre-flight estimate of the whole grid (every cell, `jobs` at once), refused above the
/// safety ceilings unless `allow_large` (see [`crate::scenario::preflight`]).
pub fn preflight(
    path: Option<&Path>,
    fixed: &[Override],
    axes: &[Axis],
    jobs: usize,
    allow_large: bool,
) -> Result<Estimate, PreflightError> {
    let estimate = cells(axes)?
        .iter()
        .map(|cell| {
            let facts = WorkloadFacts::of(&load_cell(path, fixed, cell)?)?;
            Ok(preflight::estimate(&facts, Job::SweepCell { jobs }))
        })
        .sum::<Result<Estimate, ScenarioError>>()?;
    estimate.check(&CEILINGS, allow_large)?;
    Ok(estimate)
}

/// Run every cell of the grid over the scenario at `path` (None: the embedded default), on
/// up to `jobs` threads, until `stop` is raised; `on_cell(done, total)` reports progress.
pub fn run_sweep(
    path: Option<&Path>,
    fixed: &[Override],
    axes: &[Axis],
    jobs: usize,
    on_cell: &(dyn Fn(usize, usize) + Sync),
    stop: &StopFlag,
) -> Result<SweepRun, SweepError> {
    run_sweep_where(path, fixed, axes, &|_| true, jobs, on_cell, stop)
}

/// [`run_sweep`] over the cells whose grid position `keep` accepts (a shard's); `total` is
/// then the number of those cells.
pub fn run_sweep_where(
    path: Option<&Path>,
    fixed: &[Override],
    axes: &[Axis],
    keep: &(dyn Fn(usize) -> bool + Sync),
    jobs: usize,
    on_cell: &(dyn Fn(usize, usize) + Sync),
    stop: &StopFlag,
) -> Result<SweepRun, SweepError> {
    let grid: Vec<Cell> = cells(axes)?
        .into_iter()
        .enumerate()
        .filter(|(position, _)| keep(*position))
        .map(|(_, cell)| cell)
        .collect();
    // Validate every cell before spending CPU on any.
    let scenarios = grid
        .iter()
        .map(|cell| load_cell(path, fixed, cell))
        .collect::<Result<Vec<_>, _>>()?;
    let total = grid.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<Summary, SimError>>>> =
        (0..total).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            scope.spawn(|| {
                while !stop.is_raised() {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= total {
                        break;
                    }
                    let outcome = run_all_until(&scenarios[index], None, 1, "sweep", &|_| {}, stop)
                        .map(|run| run.summary);
                    if let Ok(mut slot) = results[index].lock() {
                        *slot = Some(outcome);
                    }
                    on_cell(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                }
            });
        }
    });
    let mut finished = Vec::with_capacity(total);
    for (cell, slot) in grid.into_iter().zip(results) {
        match slot.into_inner().ok().flatten() {
            Some(Ok(summary)) if !summary.interrupted => {
                finished.push(CellResult { cell, summary });
            }
            // Stopped part-way, or never started: left out.
            Some(Ok(_)) | None if stop.is_raised() => {}
            Some(Err(source)) => {
                return Err(SweepError::Sim {
                    cell: cell.label(),
                    source: Box::new(source),
                });
            }
            Some(Ok(_)) | None => {
                return Err(SweepError::Sim {
                    cell: cell.label(),
                    source: Box::new(SimError::Report(crate::report::ReportError::Invalid {
                        field: "sweep".to_string(),
                        reason: "a worker thread panicked".to_string(),
                    })),
                });
            }
        }
    }
    Ok(SweepRun {
        results: finished,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_the_cartesian_product_first_axis_slowest() {
        let axes = [
            Axis::parse("breaker.trip_duration=10s,30s,60s").unwrap(),
            Axis::parse("breaker.interval=10s, 60s").unwrap(),
        ];
        let grid = cells(&axes).unwrap();
        assert_eq!(grid.len(), 6);
        assert_eq!(
            grid[0].label(),
            "breaker.trip_duration=10s breaker.interval=10s"
        );
        assert_eq!(
            grid[1].label(),
            "breaker.trip_duration=10s breaker.interval=60s"
        );
        assert_eq!(
            grid[5].label(),
            "breaker.trip_duration=60s breaker.interval=60s"
        );
    }

    #[test]
    fn bad_axes_are_refused() {
        assert!(Axis::parse("breaker.trip_duration").is_err());
        assert!(Axis::parse("breaker.trip_duration=").is_err());
    }
}
