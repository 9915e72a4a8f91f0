//! The curves chart kind: a metric against one setting (or against work done), one line or
//! set of points per series, optional confidence intervals as vertical bars, dashed horizontal
//! limits (constraint bounds) and a dashed vertical marker (the chosen value). The x axis is
//! numeric; `x_text` writes its ticks, so a caller can plot positions (grid value indices, a
//! parameter's unit coordinate) and label them with the values they stand for. Used by
//! `sweep.html` (one axis) and `tune.html` (sensitivity and convergence).

use plotters::prelude::*;

use super::charts::{FONT, colour, legend, plane, svg};
use crate::report::ReportError;

/// One point, with an optional interval around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Position on the x axis.
    pub x: f64,
    /// The value.
    pub y: f64,
    /// Lower and upper ends of its interval, when known.
    pub interval: Option<(f64, f64)>,
}

/// One series.
#[derive(Debug, Clone)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// The points, in x order when joined.
    pub points: Vec<CurvePoint>,
    /// Palette index.
    pub colour: usize,
    /// Join the points with a line (else points only).
    pub joined: bool,
}

/// A horizontal limit (a constraint's bound).
#[derive(Debug, Clone)]
pub struct Limit {
    /// Its value on the y axis.
    pub y: f64,
    /// Legend label (`success_ratio>=99.9%`).
    pub label: String,
}

/// What to draw.
pub struct Curves<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// X axis description.
    pub x_desc: &'a str,
    /// Y axis description.
    pub y_desc: &'a str,
    /// The x range shown.
    pub x_range: (f64, f64),
    /// How many x ticks at most.
    pub x_ticks: usize,
    /// How an x position is labelled (empty: no label there).
    pub x_text: &'a dyn Fn(f64) -> String,
    /// How a y value is labelled.
    pub y_text: &'a dyn Fn(f64) -> String,
    /// The series.
    pub curves: &'a [Curve],
    /// Horizontal limits.
    pub limits: &'a [Limit],
    /// A vertical marker at x, with its legend label.
    pub marker: Option<(f64, &'a str)>,
}

/// Share of the y range left free above the data for the legend.
const LEGEND_ROOM: f64 = 0.45;

fn y_range(curves: &[Curve], limits: &[Limit]) -> (f64, f64) {
    let values = curves
        .iter()
        .flat_map(|curve| curve.points.iter())
        .flat_map(|point| {
            let (low, high) = point.interval.unwrap_or((point.y, point.y));
            [point.y, low, high]
        })
        .chain(limits.iter().map(|limit| limit.y))
        .filter(|value| value.is_finite());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let span = (high - low).max(high.abs().max(1e-9) * 0.02);
    (low - span * 0.08, high + span * (0.08 + LEGEND_ROOM))
}

/// The chart as an SVG string.
pub fn curves(id: &str, chart: &Curves<'_>) -> Result<String, ReportError> {
    let (y_low, y_high) = y_range(chart.curves, chart.limits);
    let (x_low, x_high) = chart.x_range;
    let x_high = x_high.max(x_low + 1e-9);
    svg(id, |root| {
        let mut plot = plane(root, chart.title, x_low..x_high, y_low..y_high, 70)?;
        plot.configure_mesh()
            .x_desc(chart.x_desc)
            .y_desc(chart.y_desc)
            .x_labels(chart.x_ticks.max(2))
            .x_label_formatter(&|v| (chart.x_text)(*v))
            .y_label_formatter(&|v| (chart.y_text)(*v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .light_line_style(BLACK.mix(0.04))
            .draw()
            .map_err(|e| e.to_string())?;
        let limit_style = RGBColor(190, 30, 30).stroke_width(1);
        for limit in chart.limits {
            plot.draw_series(DashedLineSeries::new(
                [(x_low, limit.y), (x_high, limit.y)],
                6,
                4,
                limit_style,
            ))
            .map_err(|e| e.to_string())?
            .label(limit.label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], limit_style));
        }
        if let Some((x, label)) = chart.marker {
            let style = BLACK.mix(0.55).stroke_width(1);
            plot.draw_series(DashedLineSeries::new(
                [(x, y_low), (x, y_high)],
                4,
                4,
                style,
            ))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], style));
        }
        for curve in chart.curves {
            let paint = colour(curve.colour);
            let points: Vec<(f64, f64)> = curve.points.iter().map(|p| (p.x, p.y)).collect();
            plot.draw_series(curve.points.iter().filter_map(|point| {
                point.interval.map(|(low, high)| {
                    PathElement::new(vec![(point.x, low), (point.x, high)], paint.stroke_width(1))
                })
            }))
            .map_err(|e| e.to_string())?;
            if curve.joined {
                plot.draw_series(LineSeries::new(
                    points.iter().copied(),
                    paint.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
            }
            plot.draw_series(
                points
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 3, paint.filled())),
            )
            .map_err(|e| e.to_string())?
            .label(curve.label.as_str())
            .legend(move |(x, y)| Circle::new((x + 7, y), 3, paint.filled()));
        }
        legend(&mut plot, SeriesLabelPosition::UpperRight)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_draw_series_limits_and_marker_with_their_labels() {
        let curve = Curve {
            label: "apim".to_string(),
            points: vec![
                CurvePoint {
                    x: 0.0,
                    y: 0.99,
                    interval: Some((0.98, 1.0)),
                },
                CurvePoint {
                    x: 1.0,
                    y: 0.995,
                    interval: None,
                },
            ],
            colour: 0,
            joined: true,
        };
        let labels = ["5s".to_string(), "10s".to_string()];
        let svg = curves(
            "c",
            &Curves {
                title: "success",
                x_desc: "trip",
                y_desc: "success (%)",
                x_range: (-0.5, 1.5),
                x_ticks: 2,
                x_text: &|x| {
                    let i = x.round();
                    if (x - i).abs() < 1e-6 && (0.0..2.0).contains(&i) {
                        labels[i as usize].clone()
                    } else {
                        String::new()
                    }
                },
                y_text: &|y| format!("{:.1}", y * 100.0),
                curves: &[curve],
                limits: &[Limit {
                    y: 0.999,
                    label: "success>=99.9%".to_string(),
                }],
                marker: Some((1.0, "chosen")),
            },
        )
        .expect("drawn");
        for text in ["apim", "success&gt;=99.9%", "chosen", "5s", "10s", "trip"] {
            assert!(svg.contains(text), "{text} missing");
        }
    }
}
