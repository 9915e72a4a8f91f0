//! The charts of `report.html`, drawn with plotters' SVG backend into strings. Text is left
//! to the browser (plotters estimates label sizes without a font library), so the SVG is the
//! same bytes on every machine for the same data.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::data::Points;
use crate::report::ReportError;

/// Width and height of one chart in pixels.
pub const CHART_SIZE: (u32, u32) = (660, 320);
pub(super) const FONT: &str = "sans-serif";

/// Tableau 10: distinguishable colours for lines and stacked areas.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series number `index`.
pub fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Axis titles of a chart.
pub struct Axes<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// X axis description.
    pub x: &'a str,
    /// Y axis description.
    pub y: &'a str,
}

pub(super) fn chart_error(id: &str) -> impl Fn(String) -> ReportError + '_ {
    move |reason| ReportError::Invalid {
        field: format!("report.html chart {id}"),
        reason,
    }
}

/// Draw into a fresh SVG string; `draw` gets the drawing area.
pub(super) fn svg(
    id: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, ReportError> {
    svg_sized(id, CHART_SIZE, draw)
}

/// [`svg`] with another size (width, height in pixels).
pub(super) fn svg_sized(
    id: &str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .map_err(chart_error(id))?;
        draw(&root).map_err(chart_error(id))?;
        root.present()
            .map_err(|e| e.to_string())
            .map_err(chart_error(id))?;
    }
    Ok(out)
}

/// Top of the y axis: the largest value plus room above it for the legend.
fn upper(values: impl Iterator<Item = f64>, floor: f64) -> f64 {
    let top = values.fold(floor, f64::max);
    if top <= 0.0 {
        1.0
    } else {
        top * LEGEND_HEADROOM
    }
}

/// How much taller than the data the y axis is, so the legend does not hide the data.
const LEGEND_HEADROOM: f64 = 1.4;

/// `colour` blended with white (`strength` 1 = the colour itself), opaque so stacked layers
/// keep their colour.
fn tint(colour: RGBColor, strength: f64) -> RGBColor {
    let blend =
        |channel: u8| (f64::from(channel) * strength + 255.0 * (1.0 - strength)).round() as u8;
    RGBColor(blend(colour.0), blend(colour.1), blend(colour.2))
}

/// Axis tick labels: whole numbers without a trailing `.0`, otherwise up to two decimals.
pub(super) fn tick(value: &f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').to_string()
    }
}

fn x_end(layers: &[Points], run_seconds: f64) -> f64 {
    layers
        .iter()
        .flatten()
        .map(|(x, _)| x + 1.0)
        .fold(run_seconds, f64::max)
        .max(1.0)
}

/// Stacked areas: `stacks[i]` is the cumulative sum of layers `0..=i`, labelled `names[i]`.
pub fn stacked_areas(
    id: &str,
    axes: &Axes,
    run_seconds: f64,
    names: &[&str],
    stacks: &[Points],
) -> Result<String, ReportError> {
    let x_max = x_end(stacks, run_seconds);
    let y_max = upper(stacks.iter().flatten().map(|(_, y)| *y), 0.0);
    svg(id, |root| {
        let mut chart = plane(root, axes.title, 0f64..x_max, 0f64..y_max, 58)?;
        numeric_mesh(&mut chart, axes, WHITE.mix(0.0))?;
        // Top layer first, so each lower layer is painted over the one above it.
        for (index, stack) in stacks.iter().enumerate().rev() {
            let colour = colour(index);
            chart
                .draw_series(
                    AreaSeries::new(stack.iter().copied(), 0.0, tint(colour, 0.7))
                        .border_style(colour.stroke_width(1)),
                )
                .map_err(|e| e.to_string())?
                .label(names.get(index).copied().unwrap_or("?"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], tint(colour, 0.7).filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// Where a line chart's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegendAt {
    /// Top right, above the data (the y axis gets headroom for it).
    Top,
    /// Bottom right, inside the plot with a fixed y range (for CDFs, 0..1).
    BottomFixed,
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend label.
    pub label: String,
    /// The points.
    pub points: Points,
    /// Index into the palette (the same strategy or backend keeps its colour across charts).
    pub colour: usize,
}

/// One line per entry of `lines`, with an optional dashed horizontal reference line
/// `reference` (e.g. 100 % utilization).
pub fn lines(
    id: &str,
    axes: &Axes,
    x_range: (f64, f64),
    lines: &[Line],
    y_floor: f64,
    reference: Option<(f64, &str)>,
    legend_at: LegendAt,
) -> Result<String, ReportError> {
    let data_top = upper(
        lines
            .iter()
            .flat_map(|line| line.points.iter().map(|(_, y)| *y)),
        y_floor.max(reference.map_or(0.0, |(y, _)| y)),
    );
    let y_max = match legend_at {
        LegendAt::Top => data_top,
        LegendAt::BottomFixed => y_floor,
    };
    svg(id, |root| {
        let x_span = x_range.0..x_range.1.max(x_range.0 + 1e-3);
        let mut chart = plane(root, axes.title, x_span, 0f64..y_max, 58)?;
        numeric_mesh(&mut chart, axes, BLACK.mix(0.05))?;
        if let Some((y, label)) = reference {
            let style = BLACK.mix(0.6).stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new(
                    [(x_range.0, y), (x_range.1, y)],
                    6,
                    4,
                    style,
                ))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], style));
        }
        for line in lines {
            let style = colour(line.colour).stroke_width(2);
            chart
                .draw_series(LineSeries::new(line.points.iter().copied(), style))
                .map_err(|e| e.to_string())?
                .label(line.label.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], style));
        }
        legend(
            &mut chart,
            match legend_at {
                LegendAt::Top => SeriesLabelPosition::UpperRight,
                LegendAt::BottomFixed => SeriesLabelPosition::LowerRight,
            },
        )
    })
}

/// A timeline: one row per `names[i]`, with `spans[i]` drawn as open bands over a closed
/// background.
pub fn timeline(
    id: &str,
    axes: &Axes,
    run_seconds: f64,
    names: &[&str],
    spans: &[Vec<(f64, f64)>],
) -> Result<String, ReportError> {
    // Room above the rows for the legend.
    let rows = names.len().max(1) as f64 + 0.8;
    let x_max = spans
        .iter()
        .flatten()
        .map(|(_, to)| *to)
        .fold(run_seconds, f64::max)
        .max(1.0);
    let open = RGBColor(214, 39, 40);
    let closed = RGBColor(44, 160, 44);
    svg(id, |root| {
        let mut chart = plane(root, axes.title, 0f64..x_max, 0f64..rows, 90)?;
        let row_name = |y: &f64| {
            let index = y.floor();
            if (y - index - 0.5).abs() < 1e-9 && index >= 0.0 {
                names
                    .get(index as usize)
                    .map_or(String::new(), |n| (*n).to_string())
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc(axes.x)
            .y_desc(axes.y)
            .y_labels(names.len() * 2 + 3)
            .x_label_formatter(&tick)
            .y_label_formatter(&row_name)
            .disable_y_mesh()
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| e.to_string())?;
        let band = |index: usize, from: f64, to: f64, colour: RGBAColor| {
            let y = index as f64;
            Rectangle::new([(from, y + 0.15), (to, y + 0.85)], colour.filled())
        };
        chart
            .draw_series((0..names.len()).map(|index| band(index, 0.0, x_max, closed.mix(0.35))))
            .map_err(|e| e.to_string())?
            .label("closed")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], closed.mix(0.35).filled())
            });
        chart
            .draw_series(spans.iter().enumerate().flat_map(|(index, spans)| {
                spans
                    .iter()
                    .map(move |(from, to)| band(index, *from, *to, open.mix(0.9)))
            }))
            .map_err(|e| e.to_string())?
            .label("open")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], open.filled()));
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

pub(super) type Plane = Cartesian2d<RangedCoordf64, RangedCoordf64>;

/// A titled chart over `x` × `y` with the page's margins and label areas.
pub(super) fn plane<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    y_label_area: u32,
) -> Result<ChartContext<'a, SVGBackend<'b>, Plane>, String> {
    ChartBuilder::on(root)
        .caption(title, (FONT, 17))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())
}

/// Axes with numeric ticks on both sides and the given style for the fine grid lines.
fn numeric_mesh(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Plane>,
    axes: &Axes<'_>,
    fine_grid: RGBAColor,
) -> Result<(), String> {
    chart
        .configure_mesh()
        .x_desc(axes.x)
        .y_desc(axes.y)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(fine_grid)
        .draw()
        .map_err(|e| e.to_string())
}

pub(super) fn legend<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Plane>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 12))
        .draw()
        .map_err(|e| e.to_string())
}
