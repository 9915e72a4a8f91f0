//! The plan's cost chart: monthly cost against offered load (requests per second) for
//! pay-as-you-go, PTUs in each priced mode (hourly, 1-month and 1-year reservation) sized by
//! the documented formula, and the hybrid (a PTU base sized for the planned mean rate plus
//! PAYG above it); the planned load as a vertical line, break-even loads as dotted lines, and
//! each strategy's recommended fleet at the planned load as a marker. Drawn with `plotters`.

use plotters::prelude::*;

use super::error::PlanError;
use super::recommend::money;
use super::search::PlanResult;

/// The cost chart as SVG text (an empty chart with a note when no PTU type is priced).
pub fn cost_svg(plan: &PlanResult) -> Result<String, PlanError> {
    super::chart::render(super::output::PLAN_COST_SVG, |svg| draw(plan, svg))
}

fn draw(plan: &PlanResult, svg: &mut String) -> Result<(), String> {
    let error = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::with_string(svg, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| error(&e))?;
    let Some(curve) = &plan.cost_curve else {
        root.draw(&Text::new(
            "no PTU deployment type is priced",
            (20, 20),
            ("sans-serif", 16),
        ))
        .map_err(|e| error(&e))?;
        return root.present().map_err(|e| error(&e));
    };
    let max_rps = curve.loads_rps.last().copied().unwrap_or(1.0).max(1e-6);
    let markers: Vec<(f64, f64, String)> = plan
        .strategies
        .iter()
        .filter_map(|s| {
            let choice = s.recommendation.as_ref()?;
            Some((
                plan.planned_rate_rps,
                choice.cost.total.per_month,
                s.strategy.clone(),
            ))
        })
        .collect();
    // Up to 1.3 × PAYG's cost at the right edge (and the markers): lines dearer than that leave
    // the chart at its top rather than squash the ones that compete.
    let top = curve
        .series
        .first()
        .and_then(|payg| payg.per_month.last().copied())
        .into_iter()
        .chain(markers.iter().map(|m| m.1))
        .fold(1.0, f64::max)
        * 1.3;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Monthly cost against load — {} ({})",
                plan.scenario,
                curve.deployment_type.label()
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..max_rps, 0.0..top)
        .map_err(|e| error(&e))?;
    chart
        .configure_mesh()
        .x_desc("offered load (requests/s)")
        .y_desc("cost per month")
        .y_label_formatter(&|v| money(*v))
        .draw()
        .map_err(|e| error(&e))?;
    chart
        .draw_series(LineSeries::new(
            vec![(plan.planned_rate_rps, 0.0), (plan.planned_rate_rps, top)],
            BLACK.mix(0.4),
        ))
        .map_err(|e| error(&e))?
        .label(format!("planned load {:.2} req/s", plan.planned_rate_rps))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.4)));
    for entry in plan
        .break_even
        .iter()
        .filter(|b| b.deployment_type == curve.deployment_type)
    {
        let Some(rps) = entry.load_rps.filter(|&rps| rps <= max_rps) else {
            continue;
        };
        chart
            .draw_series(DashedLineSeries::new(
                vec![(rps, 0.0), (rps, top)],
                2,
                4,
                BLACK.mix(0.25).stroke_width(1),
            ))
            .map_err(|e| error(&e))?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("break-even {}", entry.mode.label()),
                (rps, top * 0.97),
                ("sans-serif", 11),
            )))
            .map_err(|e| error(&e))?;
    }
    for (index, series) in curve.series.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let points = below(
            curve
                .loads_rps
                .iter()
                .copied()
                .zip(series.per_month.iter().copied()),
            top,
        );
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| error(&e))?
            .label(series.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .draw_series(
            markers
                .iter()
                .map(|(x, y, _)| Circle::new((*x, *y), 5, BLACK.filled())),
        )
        .map_err(|e| error(&e))?
        .label("recommended fleets (simulated, at the planned load)")
        .legend(|(x, y)| Circle::new((x + 9, y), 4, BLACK.filled()));
    super::chart::legend(&mut chart)?;
    root.present().map_err(|e| error(&e))
}

/// The points of a line up to where it first rises above `top`, ending on `top`.
fn below(points: impl Iterator<Item = (f64, f64)>, top: f64) -> Vec<(f64, f64)> {
    let mut kept: Vec<(f64, f64)> = Vec::new();
    for (x, y) in points {
        if y > top {
            if let Some(&(x0, y0)) = kept.last() {
                let at = if y > y0 {
                    x0 + (x - x0) * (top - y0) / (y - y0)
                } else {
                    x
                };
                kept.push((at, top));
            }
            break;
        }
        kept.push((x, y));
    }
    kept
}
