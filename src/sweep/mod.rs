//! Breaker and strategy sweeps: a grid of `--set key=v1,v2,…` axes, every cell a full
//! simulation of the scenario with those overrides, and the grid written as CSV and as a
//! Markdown table that marks the best cell per metric. Cells run in parallel; each cell is as
//! deterministic as a `sim` run.

mod grid;
mod table;

pub use grid::{
    Axis, Cell, CellResult, SweepError, SweepRun, cells, preflight, run_sweep, run_sweep_where,
};
pub use table::{METRICS, grid_csv, grid_markdown};
