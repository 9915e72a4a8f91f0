//! Running a sweep: every cell of the grid for the strategies the axes reach, every other
//! strategy once (the axes cannot change its figures), on [`parallel_map`] — until a
//! [`StopFlag`] is raised, after which no simulation starts, running ones stop within
//! milliseconds, and the cells whose every strategy finished are kept.
//!
//! A shard (`sweep --shard K/N`) runs the cells at grid positions K mod N and, when it is
//! shard [`ONCE_SHARD`], the strategies simulated once; which strategies vary is decided over
//! the whole grid, so every shard agrees on it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use super::grid::{Axis, Cell, cells};
use super::select::{load_scenario as load, one_strategy, only_strategies, touched};
use crate::parallel::{WorkerPanic, parallel_map};
use crate::report::StrategySummary;
use crate::scenario::{Override, Scenario, ScenarioError};
use crate::shard::Shard;
use crate::sim::{SimError, StopFlag, run_all_until};

/// The shard of a sharded sweep that simulates the strategies no axis reaches (they run once
/// for the whole sweep, and `merge` takes them from this shard).
pub const ONCE_SHARD: u32 = 0;

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A `--set` axis, `--strategy` or a cell's scenario is invalid.
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
    /// A simulation panicked (a bug).
    #[error(transparent)]
    Panicked(#[from] WorkerPanic),
}

/// What the sweep is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct SweepRequest<'a> {
    /// Scenario file (None: the embedded default).
    pub path: Option<&'a Path>,
    /// Settings of every cell (`--set` with one value).
    pub fixed: &'a [Override],
    /// The axes.
    pub axes: &'a [Axis],
    /// Strategies to run (empty: all).
    pub strategies: &'a [String],
    /// Threads.
    pub jobs: usize,
    /// The part of the grid to run ([`Shard::WHOLE`]: all of it).
    pub shard: Shard,
}

/// One strategy's figures in one cell (`cell` None: independent of the axes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// Index into [`SweepRun::cells`], or None for a strategy the axes do not reach.
    pub cell: Option<usize>,
    /// Its figures.
    pub summary: StrategySummary,
}

/// One strategy of the sweep and its results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweptStrategy {
    /// Its name.
    pub name: String,
    /// Whether some axis reaches it (else it was simulated once).
    pub varies: bool,
    /// Its results: one per finished cell when it varies, else at most one.
    pub results: Vec<CellResult>,
}

/// The results of a sweep.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// The axes.
    pub axes: Vec<Axis>,
    /// Every cell of the grid, first axis slowest.
    pub cells: Vec<Cell>,
    /// The strategies, in scenario order.
    pub strategies: Vec<SweptStrategy>,
    /// Cells whose every varying strategy finished.
    pub finished_cells: usize,
    /// Simulations that ran to the end.
    pub simulations: usize,
    /// Simulated requests over all of them.
    pub simulated_requests: u64,
    /// The part of the grid this run was given ([`Shard::WHOLE`] unless a shard's).
    pub shard: Shard,
}

impl SweepRun {
    /// Cells this run was given: the whole grid, or a shard's.
    pub fn given_cells(&self) -> usize {
        self.shard.positions(self.cells.len()).len()
    }

    /// Whether this run simulates the strategies no axis reaches (the whole sweep, or shard
    /// [`ONCE_SHARD`] of a sharded one).
    pub fn simulates_once(&self) -> bool {
        self.shard.index == ONCE_SHARD
    }

    /// Whether something is missing (the sweep was stopped).
    pub fn interrupted(&self) -> bool {
        self.finished_cells < self.given_cells()
            || (self.simulates_once()
                && self
                    .strategies
                    .iter()
                    .any(|s| !s.varies && s.results.is_empty()))
    }

    /// Whether anything finished.
    pub fn is_empty(&self) -> bool {
        self.strategies.iter().all(|s| s.results.is_empty())
    }
}

/// One simulation to run: a strategy alone in a cell's scenario.
struct Job {
    cell: Option<usize>,
    strategy: usize,
    scenario: Scenario,
}

/// How far a sweep is, reported after each simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepProgress {
    /// Simulations finished.
    pub simulations: usize,
    /// Simulations in all.
    pub total_simulations: usize,
    /// Cells whose every varying strategy finished.
    pub cells: usize,
    /// Cells this run was given (the grid, or a shard's part of it).
    pub total_cells: usize,
}

/// What a sweep (or a shard of one) will simulate.
pub(super) struct SweepPlan {
    /// Every cell of the grid.
    grid: Vec<Cell>,
    /// The scenario without the axes, with the strategies asked for.
    base: Scenario,
    /// Per strategy of `base`, whether some axis reaches it (decided over the whole grid).
    varies: Vec<bool>,
    /// The simulations this run makes: the strategies simulated once first, then cell by cell.
    jobs: Vec<Job>,
}

impl SweepPlan {
    /// The one-strategy scenarios this run simulates.
    pub(super) fn scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.jobs.iter().map(|job| &job.scenario)
    }
}

/// Load and check every cell's scenario, decide which strategies vary, and list the
/// simulations `request.shard` makes.
pub(super) fn plan_sweep(request: &SweepRequest<'_>) -> Result<SweepPlan, ScenarioError> {
    let grid = cells(request.axes)?;
    let base = only_strategies(&load(request.path, request.fixed)?, request.strategies)?;
    // Validate every cell before spending CPU on any.
    let scenarios = grid
        .iter()
        .map(|cell| {
            let overrides: Vec<Override> = request
                .fixed
                .iter()
                .chain(&cell.overrides)
                .cloned()
                .collect();
            only_strategies(&load(request.path, &overrides)?, request.strategies)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut varies = vec![false; base.strategies.len()];
    for scenario in &scenarios {
        for (flag, reached) in varies.iter_mut().zip(touched(&base, scenario)) {
            *flag |= reached;
        }
    }
    let shard = request.shard;
    let mut jobs = Vec::new();
    for (strategy, varies) in varies.iter().enumerate() {
        if !varies && shard.index == ONCE_SHARD {
            jobs.push(Job {
                cell: None,
                strategy,
                scenario: one_strategy(&base, strategy),
            });
        }
    }
    for (cell, scenario) in scenarios.into_iter().enumerate() {
        if !shard.owns(cell as u64) {
            continue;
        }
        for (strategy, varies) in varies.iter().enumerate() {
            if *varies {
                jobs.push(Job {
                    cell: Some(cell),
                    strategy,
                    scenario: one_strategy(&scenario, strategy),
                });
            }
        }
    }
    Ok(SweepPlan {
        grid,
        base,
        varies,
        jobs,
    })
}

/// Run the sweep (or `request.shard`'s part of it) until `stop` is raised; `on_done` reports
/// progress after each simulation.
pub fn run_sweep(
    request: &SweepRequest<'_>,
    on_done: &(dyn Fn(SweepProgress) + Sync),
    stop: &StopFlag,
) -> Result<SweepRun, SweepError> {
    let SweepPlan {
        grid,
        base,
        varies,
        jobs,
    } = plan_sweep(request)?;
    let shard = request.shard;
    let given = shard.positions(grid.len()).len();
    let per_cell = varies.iter().filter(|v| **v).count();
    let left: Vec<AtomicUsize> = grid.iter().map(|_| AtomicUsize::new(per_cell)).collect();
    let (done, cells_done) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let outcomes = parallel_map(
        &jobs,
        request.jobs,
        stop,
        &|_, job| {
            run_all_until(&job.scenario, None, 1, "sweep", &|_| {}, stop)
                .map(|run| run.summary.strategies.into_iter().next())
        },
        &|index, outcome| {
            let finished = matches!(outcome, Ok(Some(_)));
            let cell = jobs[index].cell;
            let completes = finished
                && cell.is_some_and(|cell| left[cell].fetch_sub(1, Ordering::Relaxed) == 1);
            on_done(SweepProgress {
                simulations: done.fetch_add(1, Ordering::Relaxed) + 1,
                total_simulations: jobs.len(),
                cells: cells_done.fetch_add(usize::from(completes), Ordering::Relaxed)
                    + usize::from(completes),
                total_cells: given,
            })
        },
    )?;
    let mut strategies: Vec<SweptStrategy> = base
        .strategies
        .iter()
        .zip(&varies)
        .map(|(strategy, varies)| SweptStrategy {
            name: strategy.config.name.clone(),
            varies: *varies,
            results: Vec::new(),
        })
        .collect();
    // A cell counts when it is this run's and every varying strategy in it finished.
    let mut complete: Vec<bool> = (0..grid.len())
        .map(|cell| shard.owns(cell as u64))
        .collect();
    let mut simulations = 0;
    let mut simulated_requests = 0;
    for (job, outcome) in jobs.iter().zip(outcomes) {
        let label = || {
            job.cell
                .map_or_else(|| "(base)".to_string(), |c| grid[c].label())
        };
        let summary = match outcome {
            Some(Ok(Some(summary))) => summary,
            // Stopped part-way, or never started.
            Some(Ok(None)) | None if stop.is_raised() => {
                if let Some(cell) = job.cell {
                    complete[cell] = false;
                }
                continue;
            }
            Some(Err(source)) => {
                return Err(SweepError::Sim {
                    cell: label(),
                    source: Box::new(source),
                });
            }
            Some(Ok(None)) | None => {
                return Err(SweepError::Sim {
                    cell: label(),
                    source: Box::new(SimError::Stopped),
                });
            }
        };
        simulations += 1;
        simulated_requests += summary.requests;
        strategies[job.strategy].results.push(CellResult {
            cell: job.cell,
            summary,
        });
    }
    // A cell is kept only with every varying strategy in it.
    for strategy in strategies.iter_mut().filter(|s| s.varies) {
        strategy
            .results
            .retain(|result| result.cell.is_some_and(|cell| complete[cell]));
    }
    let finished_cells = if varies.iter().any(|v| *v) {
        complete.iter().filter(|c| **c).count()
    } else {
        given
    };
    Ok(SweepRun {
        axes: request.axes.to_vec(),
        cells: grid,
        strategies,
        finished_cells,
        simulations,
        simulated_requests,
        shard,
    })
}
