//! `sweep.html`: one self-contained page (no fetches) drawing every metric of the sweep — with
//! one axis, a curve per strategy the axis reaches against the axis's values; with two or more,
//! a heatmap per strategy over the first two axes (one per combination of the others' values) —
//! with the constraints as dashed limits or crossed-out cells and each strategy's best cell
//! outlined; then the tables of `sweep.md`. Pure: the same sweep gives the same bytes.

use std::fmt::Write as _;

use super::grid::position;
use super::run::{SweepRun, SweptStrategy};
use super::table::{Emphasis, best, legend, meets, shard_note, sweep_metrics, sweep_tables};
use crate::report::ReportError;
use crate::report::bound::Bound;
use crate::report::html::page::{escape, figure, head, tail};
use crate::report::html::{
    CellMark, Curve, CurvePoint, Curves, HeatAxis, HeatCell, Heatmap, Limit, curves, heatmap,
};
use crate::report::metric::Metric;

/// Most heatmaps drawn per metric and strategy (combinations of the third and later axes).
const MAX_SLICES: usize = 12;

/// The complete `sweep.html` text.
pub fn sweep_html(run: &SweepRun, bounds: &[Bound], scenario: &str) -> Result<String, ReportError> {
    let title = format!("throttlebox sweep: {scenario}");
    let mut out = head(&title);
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let axes: Vec<String> = run
        .axes
        .iter()
        .map(|axis| format!("{} = {}", axis.key, axis.values.join(", ")))
        .collect();
    if let Some(note) = shard_note(run) {
        let _ = writeln!(
            out,
            "<p class=\"note\">{}</p>",
            escape(&note.replace('`', ""))
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">Axes: {}. {} of {} cells finished. {}</p>",
        escape(&axes.join("; ")),
        run.finished_cells,
        run.given_cells(),
        escape(&legend(bounds).replace('`', ""))
    );
    for metric in sweep_metrics() {
        let _ = writeln!(out, "<h2>{}</h2>", escape(metric.name));
        out.push_str("<div class=\"charts\">\n");
        match run.axes.len() {
            0 => {}
            1 => out.push_str(&curve_figure(run, metric, bounds)?),
            _ => {
                for (index, strategy) in run.strategies.iter().enumerate() {
                    if strategy.varies {
                        out.push_str(&heatmap_figures(run, metric, bounds, index, strategy)?);
                    }
                }
            }
        }
        out.push_str("</div>\n");
    }
    for (title, table, note) in sweep_tables(run, bounds, Emphasis::None) {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&title));
        out.push_str(&table.render_html());
        if !note.is_empty() {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&note));
        }
    }
    out.push_str(&tail());
    Ok(out)
}

fn limits(metric: &Metric, bounds: &[Bound]) -> Vec<Limit> {
    bounds
        .iter()
        .filter(|bound| bound.metric.name == metric.name)
        .map(|bound| Limit {
            y: bound.value,
            label: bound.to_string(),
        })
        .collect()
}

fn curve_figure(run: &SweepRun, metric: &Metric, bounds: &[Bound]) -> Result<String, ReportError> {
    let axis = &run.axes[0];
    let drawn: Vec<Curve> = run
        .strategies
        .iter()
        .enumerate()
        .filter(|(_, strategy)| strategy.varies)
        .map(|(index, strategy)| Curve {
            label: strategy.name.clone(),
            points: strategy
                .results
                .iter()
                .filter_map(|result| {
                    let cell = result.cell?;
                    Some(CurvePoint {
                        x: position(&run.axes, cell)[0] as f64,
                        y: (metric.read)(&result.summary)?,
                        interval: None,
                    })
                })
                .collect(),
            colour: index,
            joined: true,
        })
        .collect();
    let id = format!("chart-{}", metric.name);
    let chart_title = format!("{} against {}", metric.name, axis.key);
    let label = |x: f64| {
        let index = x.round();
        if (x - index).abs() > 1e-6 || index < 0.0 {
            return String::new();
        }
        axis.values.get(index as usize).cloned().unwrap_or_default()
    };
    let svg = curves(
        &id,
        &Curves {
            title: &chart_title,
            x_desc: &axis.key,
            y_desc: &metric.axis_title(),
            x_range: (-0.5, axis.values.len() as f64 - 0.5),
            x_ticks: axis.values.len(),
            x_text: &label,
            y_text: &|y| metric.tick_text(y),
            curves: &drawn,
            limits: &limits(metric, bounds),
            marker: None,
        },
    )?;
    Ok(figure(
        &id,
        &svg,
        &format!(
            "{chart_title}, a line per strategy the axis reaches; dashed: the constraints on it."
        ),
    ))
}

fn heatmap_figures(
    run: &SweepRun,
    metric: &Metric,
    bounds: &[Bound],
    index: usize,
    strategy: &SweptStrategy,
) -> Result<String, ReportError> {
    let (x_axis, y_axis) = (&run.axes[0], &run.axes[1]);
    // Outline the best cells only where some cell is not best.
    let best_value = best(strategy, metric, bounds).filter(|best| {
        strategy
            .results
            .iter()
            .any(|r| (metric.read)(&r.summary) != Some(*best))
    });
    let rest: usize = run.axes[2..].iter().map(|a| a.values.len()).product();
    let mut out = String::new();
    for slice in 0..rest.min(MAX_SLICES) {
        let mut cells = vec![
            vec![
                HeatCell {
                    value: None,
                    mark: CellMark::Plain,
                };
                x_axis.values.len()
            ];
            y_axis.values.len()
        ];
        let mut fixed = Vec::new();
        for result in &strategy.results {
            let Some(cell) = result.cell else { continue };
            let at = position(&run.axes, cell);
            let slice_of = at[2..]
                .iter()
                .zip(&run.axes[2..])
                .fold(0, |acc, (i, axis)| acc * axis.values.len() + i);
            if slice_of != slice {
                continue;
            }
            if fixed.is_empty() {
                fixed = run.cells[cell].overrides[2..]
                    .iter()
                    .map(|o| format!("{}={}", o.key, o.value_label()))
                    .collect();
            }
            let value = (metric.read)(&result.summary);
            let mark = if !meets(bounds, &result.summary) {
                CellMark::Infeasible
            } else if value.is_some() && value == best_value {
                CellMark::Chosen
            } else {
                CellMark::Plain
            };
            cells[at[1]][at[0]] = HeatCell { value, mark };
        }
        let id = format!("chart-{}-{index}-{slice}", metric.name);
        let mut chart_title = format!("{}: {}", metric.name, strategy.name);
        if !fixed.is_empty() {
            chart_title.push_str(&format!(" ({})", fixed.join(", ")));
        }
        let svg = heatmap(
            &id,
            &Heatmap {
                title: &chart_title,
                x: HeatAxis {
                    desc: &x_axis.key,
                    labels: &x_axis.values,
                },
                y: HeatAxis {
                    desc: &y_axis.key,
                    labels: &y_axis.values,
                },
                cells: &cells,
                higher_is_better: metric.higher_is_better,
                value_text: &|v| metric.short_text(v),
            },
        )?;
        out.push_str(&figure(
            &id,
            &svg,
            &format!(
                "{chart_title} in {}: crossed out where a constraint breaks, outlined: the best \
                 cell that meets them.",
                if metric.unit_text().is_empty() {
                    "its unit".to_string()
                } else {
                    metric.unit_text().to_string()
                }
            ),
        ));
    }
    if rest > MAX_SLICES {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} more combinations of the other axes: see sweep.csv.</p>",
            rest - MAX_SLICES
        );
    }
    Ok(out)
}

/// The ids of the chart figures `sweep_html` draws for `run`, in page order (for tests).
pub fn sweep_chart_ids(run: &SweepRun) -> Vec<String> {
    let rest: usize = run.axes.iter().skip(2).map(|a| a.values.len()).product();
    let mut ids = Vec::new();
    for metric in sweep_metrics() {
        match run.axes.len() {
            0 => {}
            1 => ids.push(format!("chart-{}", metric.name)),
            _ => {
                for (index, strategy) in run.strategies.iter().enumerate() {
                    if strategy.varies {
                        ids.extend(
                            (0..rest.min(MAX_SLICES))
                                .map(|slice| format!("chart-{}-{index}-{slice}", metric.name)),
                        );
                    }
                }
            }
        }
    }
    ids
}
