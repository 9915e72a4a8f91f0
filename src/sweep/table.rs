//! The sweep as CSV (one row per strategy and cell; a strategy no axis reaches has one row with
//! empty axis values) and as Markdown: a table per strategy the axes reach, with the best value
//! of each metric in bold — among the cells that meet `--constraint` when given — and one table
//! of the strategies simulated once. Columns use the metric vocabulary
//! ([`crate::report::metric`]).

use std::fmt::Write as _;

use super::run::{CellResult, ONCE_SHARD, SweepRun, SweptStrategy};
use crate::report::StrategySummary;
use crate::report::bound::Bound;
use crate::report::metric::{Metric, metric};
use crate::report::text_table::{Align, Table};

/// The metrics a sweep reports, in column order.
pub const SWEEP_METRICS: &[&str] = &[
    "success_ratio",
    "client_429_ratio",
    "server_error_ratio",
    "retries_per_request",
    "p50_e2e",
    "p99_e2e",
    "p99_ttft",
    "cost",
    "goodput_ratio",
];

/// [`SWEEP_METRICS`] as vocabulary entries.
pub fn sweep_metrics() -> Vec<&'static Metric> {
    SWEEP_METRICS
        .iter()
        .filter_map(|name| metric(name))
        .collect()
}

/// Whether `summary` meets every bound.
pub fn meets(bounds: &[Bound], summary: &StrategySummary) -> bool {
    Bound::all_met(bounds, summary)
}

fn fixed(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| format!("{v:.4}"))
}

/// The best value of `metric` among `strategy`'s results that meet `bounds`.
pub fn best(strategy: &SweptStrategy, metric: &Metric, bounds: &[Bound]) -> Option<f64> {
    strategy
        .results
        .iter()
        .filter(|result| meets(bounds, &result.summary))
        .filter_map(|result| (metric.read)(&result.summary))
        .fold(None, |best, value| match best {
            Some(best) if !metric.better(value, best) => Some(best),
            _ => Some(value),
        })
}

fn axis_values(run: &SweepRun, result: &CellResult) -> Vec<String> {
    match result.cell {
        Some(cell) => run.cells[cell].values(),
        None => vec![String::new(); run.axes.len()],
    }
}

/// The sweep as CSV: the axis keys, `strategy`, the metrics, `slo_pass`, and with bounds
/// `meets_constraints`.
pub fn grid_csv(run: &SweepRun, bounds: &[Bound]) -> Result<String, csv::Error> {
    let metrics = sweep_metrics();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = run.axes.iter().map(|axis| axis.key.as_str()).collect();
    header.push("strategy");
    header.extend(metrics.iter().map(|m| m.name));
    header.push("slo_pass");
    if !bounds.is_empty() {
        header.push("meets_constraints");
    }
    writer.write_record(&header)?;
    for strategy in &run.strategies {
        for result in &strategy.results {
            let mut record = axis_values(run, result);
            record.push(strategy.name.clone());
            record.extend(metrics.iter().map(|m| fixed((m.read)(&result.summary))));
            record.push(result.summary.slo_pass.to_string());
            if !bounds.is_empty() {
                record.push(meets(bounds, &result.summary).to_string());
            }
            writer.write_record(&record)?;
        }
    }
    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// How the best value of a metric is shown: Markdown bold, or as it is (HTML, where the
/// charts outline the best cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    /// `**value**`.
    Bold,
    /// No mark.
    None,
}

fn table(first: &[String], metrics: &[&Metric], bounds: &[Bound]) -> Table {
    let mut columns: Vec<(&str, Align)> = first.iter().map(|c| (c.as_str(), Align::Left)).collect();
    columns.extend(metrics.iter().map(|m| (m.name, Align::Right)));
    columns.push(("SLO", Align::Left));
    if !bounds.is_empty() {
        columns.push(("constraints", Align::Left));
    }
    Table::new(&columns)
}

fn figures(
    summary: &StrategySummary,
    metrics: &[&Metric],
    bests: &[Option<f64>],
    bounds: &[Bound],
    emphasis: Emphasis,
) -> Vec<String> {
    let mut cells: Vec<String> = metrics
        .iter()
        .zip(bests)
        .map(|(metric, best)| match (metric.read)(summary) {
            None => "—".to_string(),
            Some(value) if Some(value) == *best && emphasis == Emphasis::Bold => {
                format!("**{}**", metric.value_text(value))
            }
            Some(value) => metric.value_text(value),
        })
        .collect();
    cells.push(if summary.slo_pass { "pass" } else { "fail" }.to_string());
    if !bounds.is_empty() {
        cells.push(if meets(bounds, summary) { "met" } else { "✗" }.to_string());
    }
    cells
}

/// The sweep's tables: per strategy the axes reach, its cells (with a note when none meets the
/// constraints), then the strategies simulated once.
pub fn sweep_tables(
    run: &SweepRun,
    bounds: &[Bound],
    emphasis: Emphasis,
) -> Vec<(String, Table, String)> {
    let metrics = sweep_metrics();
    let keys: Vec<String> = run.axes.iter().map(|axis| axis.key.clone()).collect();
    let mut tables = Vec::new();
    for strategy in run.strategies.iter().filter(|s| s.varies) {
        let bests: Vec<Option<f64>> = metrics.iter().map(|m| best(strategy, m, bounds)).collect();
        let mut rows = table(&keys, &metrics, bounds);
        for result in &strategy.results {
            let mut cells = axis_values(run, result);
            cells.extend(figures(&result.summary, &metrics, &bests, bounds, emphasis));
            rows.push(cells);
        }
        let note = if !bounds.is_empty() && bests.iter().all(Option::is_none) {
            "No cell meets the constraints.".to_string()
        } else {
            String::new()
        };
        tables.push((strategy.name.clone(), rows, note));
    }
    let once: Vec<&SweptStrategy> = run.strategies.iter().filter(|s| !s.varies).collect();
    if !once.is_empty() && run.simulates_once() {
        let mut rows = table(&["strategy".to_string()], &metrics, bounds);
        let none = vec![None; metrics.len()];
        for strategy in once {
            for result in &strategy.results {
                let mut cells = vec![strategy.name.clone()];
                cells.extend(figures(&result.summary, &metrics, &none, bounds, emphasis));
                rows.push(cells);
            }
        }
        tables.push((
            ONCE_TITLE.to_string(),
            rows,
            "No axis changes these strategies, so every cell would repeat the same figures."
                .to_string(),
        ));
    }
    tables
}

/// Title of the table of strategies no axis reaches.
pub const ONCE_TITLE: &str = "Not reached by the axes (simulated once)";

/// What bold means, with the constraints when given.
pub fn legend(bounds: &[Bound]) -> String {
    if bounds.is_empty() {
        return "Bold marks the best value of each metric per strategy.".to_string();
    }
    let list: Vec<String> = bounds.iter().map(ToString::to_string).collect();
    format!(
        "Constraints: `{}` — a cell meets them when every one holds; bold marks the best value \
         of each metric among the cells that meet them, per strategy.",
        list.join(", ")
    )
}

/// What part of the sweep a shard's files hold (None for a whole sweep).
pub fn shard_note(run: &SweepRun) -> Option<String> {
    if run.shard.count == 1 {
        return None;
    }
    let once = if run.strategies.iter().any(|s| !s.varies) {
        format!(
            "; the strategies no axis reaches are simulated once, by shard {ONCE_SHARD}/{}",
            run.shard.count
        )
    } else {
        String::new()
    };
    Some(format!(
        "Shard {} of a sharded sweep: the cells at grid positions {} mod {} ({} of the grid's \
         {}){once}. `throttlebox merge` joins the shards into the whole sweep.",
        run.shard,
        run.shard.index,
        run.shard.count,
        run.given_cells(),
        run.cells.len()
    ))
}

/// The sweep as Markdown: a table per strategy the axes reach, then the others.
pub fn grid_markdown(run: &SweepRun, bounds: &[Bound]) -> String {
    let mut out = String::new();
    if let Some(note) = shard_note(run) {
        let _ = writeln!(out, "> {note}\n");
    }
    let _ = write!(out, "{}\n\n", legend(bounds));
    for (title, table, note) in sweep_tables(run, bounds, Emphasis::Bold) {
        let _ = writeln!(out, "### {title}\n");
        out.push_str(&table.render_markdown());
        if !note.is_empty() {
            let _ = writeln!(out, "\n{note}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sweep_metric_is_in_the_vocabulary() {
        assert_eq!(sweep_metrics().len(), SWEEP_METRICS.len());
    }
}
