//! `tune.html`: one self-contained page (no fetches) with the search drawn three ways, from
//! the full-fidelity evaluations only (lower fidelities are biased by their short runs):
//!
//! - a **heatmap of the objective over every pair of parameters**: the space cut into cells
//!   (12 per range, a cell per integer or choice when fewer), each showing the best setting
//!   evaluated in it — crossed out when it breaks a constraint, outlined where the
//!   recommendation is, blank where nothing was evaluated (other parameters are not held);
//! - **sensitivity curves**: the objective and each constrained metric along one parameter
//!   through the recommendation (the others held at its values), with 95 % intervals, the
//!   constraint bounds dashed and the recommended value marked;
//! - the **convergence** of the search: every evaluation's objective against the simulated
//!   requests spent, and the best setting meeting the constraints so far.

use std::fmt::Write as _;

use super::evaluate::Evaluation;
use super::param::{Domain, Param};
use super::search::TuneRun;
use crate::report::ReportError;
use crate::report::html::page::{escape, figure, head, tail};
use crate::report::html::{
    CellMark, Curve, CurvePoint, Curves, HeatAxis, HeatCell, Heatmap, Limit, curves, heatmap,
};
use crate::report::metric::{Metric, lookup};

/// Cells per continuous range in a heatmap.
const CELLS: usize = 12;
/// Most heatmaps (parameter pairs) drawn.
const MAX_PAIRS: usize = 6;

fn cells_of(param: &Param) -> usize {
    match &param.domain {
        Domain::Choice(choices) => choices.len(),
        Domain::Integer { low, high } => ((high - low + 1) as usize).min(CELLS),
        _ => CELLS,
    }
}

fn cell_index(param: &Param, u: f64) -> usize {
    let cells = cells_of(param);
    ((u * cells as f64).floor() as usize).min(cells - 1)
}

fn cell_labels(param: &Param) -> Vec<String> {
    let cells = cells_of(param);
    (0..cells)
        .map(|cell| param.decode((cell as f64 + 0.5) / cells as f64))
        .collect()
}

fn pairs(run: &TuneRun) -> Vec<(usize, usize)> {
    let n = run.context.params.len();
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .take(MAX_PAIRS)
        .collect()
}

fn through(run: &TuneRun) -> Option<&Evaluation> {
    run.recommended
        .or(run.best)
        .map(|index| &run.evaluations[index])
}

/// The ids of the chart figures `tune_html` draws for `run`, in page order (for tests).
pub fn tune_chart_ids(run: &TuneRun) -> Vec<String> {
    let mut ids: Vec<String> = pairs(run)
        .into_iter()
        .map(|(i, j)| format!("chart-heatmap-{i}-{j}"))
        .collect();
    if through(run).is_some() {
        for (index, param) in run.context.params.iter().enumerate() {
            if param.is_ordered() {
                ids.extend(
                    sensitivity_metrics(run)
                        .iter()
                        .map(|metric| format!("chart-sensitivity-{index}-{}", metric.name)),
                );
            }
        }
    }
    ids.push("chart-convergence".to_string());
    ids
}

/// The objective's metric, then each constrained metric once.
fn sensitivity_metrics(run: &TuneRun) -> Vec<&'static Metric> {
    let mut metrics = vec![run.context.objective.metric];
    for bound in &run.context.bounds {
        if !metrics.iter().any(|m| m.name == bound.metric.name) {
            metrics.push(bound.metric);
        }
    }
    metrics
}

/// The complete `tune.html` text.
pub fn tune_html(run: &TuneRun) -> Result<String, ReportError> {
    let context = &run.context;
    let title = format!("throttlebox tune: {} on {}", context.strategy, run.scenario);
    let mut out = head(&title);
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let constraints: Vec<String> = context.bounds.iter().map(ToString::to_string).collect();
    let recommendation = match run.recommended {
        Some(index) => format!(
            "Recommended: {}.",
            run.evaluations[index].setting.label(&context.params)
        ),
        None => "No setting evaluated meets the constraints.".to_string(),
    };
    let _ = writeln!(
        out,
        "<p class=\"note\">Objective {}; constraints {}; {} seed(s); {} of {} budgeted simulated \
         requests.{} {}</p>",
        escape(&context.objective.text()),
        escape(&if constraints.is_empty() {
            "none".to_string()
        } else {
            constraints.join(", ")
        }),
        context.seeds.len(),
        run.used,
        run.budget,
        if run.interrupted { " Interrupted." } else { "" },
        escape(&recommendation)
    );
    let pairs = pairs(run);
    if !pairs.is_empty() {
        out.push_str(
            "<h2>Objective over two parameters</h2>\n<p class=\"note\">Each cell shows \
            the best setting evaluated at full fidelity within it (the other parameters vary); \
            crossed out: it breaks a constraint; outlined: the recommendation; blank: not \
            evaluated.</p>\n<div class=\"charts\">\n",
        );
        for (i, j) in pairs {
            out.push_str(&heatmap_figure(run, i, j)?);
        }
        out.push_str("</div>\n");
    }
    if let Some(centre) = through(run) {
        out.push_str(
            "<h2>Sensitivity</h2>\n<p class=\"note\">Along one parameter through the \
            recommendation, the others held: mean over the seeds with its 95 % interval; dashed \
            red: the constraint's bound; dashed grey: the recommended value.</p>\n\
            <div class=\"charts\">\n",
        );
        for (index, param) in context.params.iter().enumerate() {
            if param.is_ordered() {
                for metric in sensitivity_metrics(run) {
                    out.push_str(&sensitivity_figure(run, centre, index, metric)?);
                }
            }
        }
        out.push_str("</div>\n");
    }
    out.push_str("<h2>Convergence</h2>\n<div class=\"charts\">\n");
    out.push_str(&convergence_figure(run)?);
    out.push_str("</div>\n");
    out.push_str(&tail());
    Ok(out)
}

fn heatmap_figure(run: &TuneRun, i: usize, j: usize) -> Result<String, ReportError> {
    let params = &run.context.params;
    let objective = run.context.objective;
    let (x_labels, y_labels) = (cell_labels(&params[i]), cell_labels(&params[j]));
    let mut best: Vec<Vec<Option<&Evaluation>>> = vec![vec![None; x_labels.len()]; y_labels.len()];
    for evaluation in run.evaluations.iter().filter(|e| e.full) {
        let position = evaluation.setting.position(params);
        let (x, y) = (
            cell_index(&params[i], position[i]),
            cell_index(&params[j], position[j]),
        );
        let slot = &mut best[y][x];
        let better = slot.is_none_or(|held| {
            super::judge::rank(&evaluation.verdict, &held.verdict, &objective).is_lt()
        });
        if better {
            *slot = Some(evaluation);
        }
    }
    let chosen = run.recommended.map(|index| {
        let position = run.evaluations[index].setting.position(params);
        (
            cell_index(&params[i], position[i]),
            cell_index(&params[j], position[j]),
        )
    });
    let cells: Vec<Vec<HeatCell>> = best
        .iter()
        .enumerate()
        .map(|(y, row)| {
            row.iter()
                .enumerate()
                .map(|(x, held)| HeatCell {
                    value: held.and_then(|e| e.verdict.objective.map(|o| o.mean)),
                    mark: match held {
                        Some(e) if !e.verdict.feasible => CellMark::Infeasible,
                        _ if chosen == Some((x, y)) => CellMark::Chosen,
                        _ => CellMark::Plain,
                    },
                })
                .collect()
        })
        .collect();
    let id = format!("chart-heatmap-{i}-{j}");
    let metric = objective.metric;
    let title = format!(
        "{} over {} and {}",
        metric.name, params[i].key, params[j].key
    );
    let svg = heatmap(
        &id,
        &Heatmap {
            title: &title,
            x: HeatAxis {
                desc: &params[i].key,
                labels: &x_labels,
            },
            y: HeatAxis {
                desc: &params[j].key,
                labels: &y_labels,
            },
            cells: &cells,
            higher_is_better: objective.maximise,
            value_text: &|v| metric.short_text(v),
        },
    )?;
    Ok(figure(
        &id,
        &svg,
        &format!("{title} ({}).", metric.axis_title()),
    ))
}

fn unit_ticks(param: &Param) -> impl Fn(f64) -> String + '_ {
    move |u: f64| {
        if (-1e-9..=1.0 + 1e-9).contains(&u) {
            param.decode(u)
        } else {
            String::new()
        }
    }
}

fn sensitivity_figure(
    run: &TuneRun,
    centre: &Evaluation,
    index: usize,
    metric: &'static Metric,
) -> Result<String, ReportError> {
    let params = &run.context.params;
    let param = &params[index];
    let mut points: Vec<CurvePoint> = run
        .evaluations
        .iter()
        .filter(|e| e.full)
        .filter(|e| {
            e.setting
                .0
                .iter()
                .zip(&centre.setting.0)
                .enumerate()
                .all(|(k, (a, b))| k == index || a == b)
        })
        .filter_map(|e| {
            let estimate = e.estimates.get(metric.name)?;
            Some(CurvePoint {
                x: param.encode(&e.setting.0[index]),
                y: estimate.mean,
                interval: (estimate.n > 1).then_some((estimate.low, estimate.high)),
            })
        })
        .collect();
    points.sort_by(|a, b| a.x.total_cmp(&b.x));
    points.dedup_by(|a, b| a.x == b.x);
    let limits: Vec<Limit> = run
        .context
        .bounds
        .iter()
        .filter(|bound| bound.metric.name == metric.name)
        .map(|bound| Limit {
            y: bound.value,
            label: bound.to_string(),
        })
        .collect();
    let id = format!("chart-sensitivity-{index}-{}", metric.name);
    let title = format!("{} along {}", metric.name, param.key);
    let marker_label = format!("chosen {}", centre.setting.0[index]);
    let ticks = unit_ticks(param);
    let svg = curves(
        &id,
        &Curves {
            title: &title,
            x_desc: &param.key,
            y_desc: &metric.axis_title(),
            x_range: (0.0, 1.0),
            x_ticks: 6,
            x_text: &ticks,
            y_text: &|y| metric.tick_text(y),
            curves: &[Curve {
                label: format!("{} (mean, 95 % interval)", metric.name),
                points,
                colour: 0,
                joined: true,
            }],
            limits: &limits,
            marker: Some((param.encode(&centre.setting.0[index]), &marker_label)),
        },
    )?;
    Ok(figure(
        &id,
        &svg,
        &format!("{title}, the other parameters at the recommendation's values."),
    ))
}

fn requests_text(requests: f64) -> String {
    if requests >= 1e6 {
        format!("{:.1}M", requests / 1e6)
    } else if requests >= 1e3 {
        format!("{:.0}k", requests / 1e3)
    } else {
        format!("{requests:.0}")
    }
}

fn convergence_figure(run: &TuneRun) -> Result<String, ReportError> {
    let objective = run.context.objective;
    let metric = objective.metric;
    let point = |e: &Evaluation| {
        e.verdict.objective.map(|o| CurvePoint {
            x: e.requests_after as f64,
            y: o.mean,
            interval: None,
        })
    };
    let mut best_so_far: Vec<CurvePoint> = Vec::new();
    let mut best: Option<f64> = None;
    for e in run
        .evaluations
        .iter()
        .filter(|e| e.full && e.verdict.feasible)
    {
        let Some(value) = e.verdict.objective.map(|o| o.mean) else {
            continue;
        };
        if best.is_none_or(|held| objective.better(value, held)) {
            best = Some(value);
        }
        if let Some(best) = best {
            best_so_far.push(CurvePoint {
                x: e.requests_after as f64,
                y: best,
                interval: None,
            });
        }
    }
    let series = [
        Curve {
            label: "best meeting the constraints".to_string(),
            points: best_so_far,
            colour: 0,
            joined: true,
        },
        Curve {
            label: "full fidelity, meets them".to_string(),
            points: run
                .evaluations
                .iter()
                .filter(|e| e.full && e.verdict.feasible)
                .filter_map(point)
                .collect(),
            colour: 2,
            joined: false,
        },
        Curve {
            label: "full fidelity, breaks one".to_string(),
            points: run
                .evaluations
                .iter()
                .filter(|e| e.full && !e.verdict.feasible)
                .filter_map(point)
                .collect(),
            colour: 3,
            joined: false,
        },
        Curve {
            label: "lower fidelity (shorter, fewer seeds)".to_string(),
            points: run
                .evaluations
                .iter()
                .filter(|e| !e.full)
                .filter_map(point)
                .collect(),
            colour: 7,
            joined: false,
        },
    ];
    let id = "chart-convergence";
    let title = format!("{} of each evaluation against work done", metric.name);
    let svg = curves(
        id,
        &Curves {
            title: &title,
            x_desc: "simulated requests spent",
            y_desc: &lookup(metric.name).map_or(metric.name.to_string(), |m| m.axis_title()),
            x_range: (0.0, (run.used.max(1)) as f64),
            x_ticks: 6,
            x_text: &requests_text,
            y_text: &|y| metric.tick_text(y),
            curves: &series,
            limits: &[],
            marker: None,
        },
    )?;
    Ok(figure(
        id,
        &svg,
        &format!("{title}: the search's convergence."),
    ))
}
