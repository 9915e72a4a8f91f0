//! Breaker and strategy sweeps: a grid of `--set key=v1,v2,…` axes, every cell a full
//! simulation of the scenario with those overrides for the strategies the axes reach (the
//! others run once), written as CSV, as Markdown with the best cell per strategy and metric
//! (among the cells meeting `--constraint`), and as `sweep.html` with a heatmap or curve per
//! metric. Cells run in parallel; each is as deterministic as a `sim` run.

mod grid;
mod html;
mod preflight;
mod run;
mod select;
mod table;

pub use grid::{Axis, Cell, cells, position};
pub use html::{sweep_chart_ids, sweep_html};
pub use preflight::preflight;
pub use run::{
    CellResult, ONCE_SHARD, SweepError, SweepProgress, SweepRequest, SweepRun, SweptStrategy,
    run_sweep,
};
pub use select::{load_scenario, one_strategy, only_strategies, touched};
pub use table::{
    Emphasis, ONCE_TITLE, SWEEP_METRICS, best, grid_csv, grid_markdown, meets, sweep_metrics,
    sweep_tables,
};
