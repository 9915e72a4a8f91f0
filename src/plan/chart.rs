//! The plan's SLO chart: p99 TTFT and success ratio of each strategy's recommended fleet against the
//! offered load (requests per second), with the targets as dashed lines and the planned load
//! as a vertical line. Drawn with `plotters` into an SVG string (no fonts needed: SVG text is
//! laid out by the viewer).

use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use super::error::PlanError;
use super::search::PlanResult;

/// One panel: which figure, its axis label, and how to scale it for display.
struct Panel {
    figure: &'static str,
    label: &'static str,
    scale: f64,
}

const PANELS: [Panel; 2] = [
    Panel {
        figure: "p99_ttft",
        label: "p99 TTFT (s)",
        scale: 1.0,
    },
    Panel {
        figure: "success_ratio",
        label: "success (%)",
        scale: 100.0,
    },
];

/// The chart as SVG text.
pub fn plan_svg(plan: &PlanResult) -> Result<String, PlanError> {
    render(super::output::PLAN_SVG, |svg| draw(plan, svg))
}

/// SVG text drawn by `draw`; a drawing error names the file `path`.
pub(super) fn render(
    path: &str,
    draw: impl FnOnce(&mut String) -> Result<(), String>,
) -> Result<String, PlanError> {
    let mut svg = String::new();
    draw(&mut svg).map_err(|message| PlanError::Output {
        path: path.to_string(),
        message,
    })?;
    Ok(svg)
}

fn draw(plan: &PlanResult, svg: &mut String) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::with_string(svg, (900, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let panels = root.split_evenly((2, 1));
    let max_rate = plan
        .strategies
        .iter()
        .flat_map(|s| s.curve.iter().map(|p| p.rate_rps))
        .fold(plan.tested_rate_rps, f64::max)
        * 1.05;
    for (area, panel) in panels.iter().zip(&PANELS) {
        let values = plan
            .strategies
            .iter()
            .flat_map(|s| s.curve.iter().filter_map(|p| p.figures.get(panel.figure)))
            .map(|v| v * panel.scale);
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (low, high) = if low.is_finite() {
            (low, high)
        } else {
            (0.0, 1.0)
        };
        let targets: Vec<f64> = plan_targets(plan, panel);
        let low = targets.iter().copied().fold(low, f64::min);
        let high = targets.iter().copied().fold(high, f64::max);
        let pad = ((high - low) * 0.08).max(1e-3);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{} against load — {}", panel.label, plan.scenario),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..max_rate, (low - pad)..(high + pad))
            .map_err(|e| error(&e))?;
        chart
            .configure_mesh()
            .x_desc("offered load (requests/s)")
            .y_desc(panel.label)
            .draw()
            .map_err(|e| error(&e))?;
        for target in targets {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, target), (max_rate, target)],
                    6,
                    4,
                    RED.stroke_width(1),
                ))
                .map_err(|e| error(&e))?;
        }
        let planned = plan.planned_rate_rps;
        chart
            .draw_series(LineSeries::new(
                vec![(planned, low - pad), (planned, high + pad)],
                BLACK.mix(0.4),
            ))
            .map_err(|e| error(&e))?
            .label("planned load")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
        for (index, strategy) in plan.strategies.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();
            let points: Vec<(f64, f64)> = strategy
                .curve
                .iter()
                .filter_map(|p| {
                    p.figures
                        .get(panel.figure)
                        .map(|v| (p.rate_rps, v * panel.scale))
                })
                .collect();
            let label = match &strategy.recommendation {
                Some(choice) => format!("{} ({})", strategy.strategy, choice.fleet.label),
                None => strategy.strategy.clone(),
            };
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(|e| error(&e))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|point| Circle::new(point, 3, color.filled())),
                )
                .map_err(|e| error(&e))?;
        }
        legend(&mut chart)?;
    }
    root.present().map_err(|e| error(&e))
}

/// The series legend both plan charts draw, upper left on a translucent white box.
pub(super) fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(|e| e.to_string())
}

/// Target bounds on this panel's figure, in display units.
fn plan_targets(plan: &PlanResult, panel: &Panel) -> Vec<f64> {
    plan.targets
        .iter()
        .filter_map(|text| {
            let target = super::target::parse_targets(text)
                .ok()?
                .into_iter()
                .next()?;
            (target.metric.name == panel.figure).then_some(target.value * panel.scale)
        })
        .collect()
}
