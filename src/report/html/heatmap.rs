//! The heatmap chart kind: a metric over two settings, one cell per pair of values, coloured on
//! the viridis scale with the better end bright, the value written in each cell when they fit,
//! cells that break a constraint crossed out, a chosen cell outlined, and a colour bar spanning
//! the cells that meet the constraints (the others clamped to its ends). Used by `sweep.html`
//! (a cell per grid cell) and `tune.html` (cells of the search space).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{FONT, svg_sized};
use crate::report::ReportError;

/// Size of a heatmap in pixels.
pub const HEATMAP_SIZE: (u32, u32) = (660, 440);
/// Width of the colour bar strip on the right.
const BAR_STRIP: u32 = 118;
/// Most cells per axis that still get their value written in.
const MAX_WRITTEN: usize = 12;

/// One axis: its description and a label per cell index (empty: no label at that index).
#[derive(Debug, Clone, Copy)]
pub struct HeatAxis<'a> {
    /// Axis description (`breaker.trip_duration`).
    pub desc: &'a str,
    /// Label of each cell position.
    pub labels: &'a [String],
}

/// How a cell is marked besides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellMark {
    /// Nothing.
    Plain,
    /// Breaks a constraint: crossed out and faded.
    Infeasible,
    /// The chosen setting: outlined.
    Chosen,
}

/// One cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatCell {
    /// The value (None: not evaluated; drawn light grey).
    pub value: Option<f64>,
    /// Its mark.
    pub mark: CellMark,
}

/// What to draw.
pub struct Heatmap<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// Horizontal axis.
    pub x: HeatAxis<'a>,
    /// Vertical axis.
    pub y: HeatAxis<'a>,
    /// `cells[y][x]`.
    pub cells: &'a [Vec<HeatCell>],
    /// Whether higher values are better (the better end is drawn bright).
    pub higher_is_better: bool,
    /// How a value is written (in cells and on the colour bar).
    pub value_text: &'a dyn Fn(f64) -> String,
}

fn label_at(labels: &[String], position: f64) -> String {
    let index = position.round();
    if (position - index).abs() > 1e-6 || index < 0.0 {
        return String::new();
    }
    labels.get(index as usize).cloned().unwrap_or_default()
}

/// The heatmap as an SVG string.
pub fn heatmap(id: &str, map: &Heatmap<'_>) -> Result<String, ReportError> {
    let nx = map.x.labels.len().max(1);
    let ny = map.y.labels.len().max(1);
    // The scale spans the cells that meet the constraints (all cells when none does), so
    // their differences show; the others are clamped to its ends.
    let scaled = |only_feasible: bool| -> Vec<f64> {
        map.cells
            .iter()
            .flatten()
            .filter(|cell| !only_feasible || cell.mark != CellMark::Infeasible)
            .filter_map(|cell| cell.value)
            .collect()
    };
    let values = match scaled(true) {
        feasible if feasible.is_empty() => scaled(false),
        feasible => feasible,
    };
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // 0 = worst, 1 = best.
    let goodness = |value: f64| {
        let t = if high > low {
            ((value - low) / (high - low)).clamp(0.0, 1.0)
        } else {
            0.5
        };
        if map.higher_is_better { t } else { 1.0 - t }
    };
    let write_values = nx <= MAX_WRITTEN && ny <= MAX_WRITTEN;
    svg_sized(id, HEATMAP_SIZE, |root| {
        let (plot, bar) = root.split_horizontally(HEATMAP_SIZE.0 - BAR_STRIP);
        let mut chart = ChartBuilder::on(&plot)
            .caption(map.title, (FONT, 17))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(map.x.desc)
            .y_desc(map.y.desc)
            .x_labels(nx.min(MAX_WRITTEN))
            .y_labels(ny.min(MAX_WRITTEN))
            .x_label_formatter(&|v| label_at(map.x.labels, *v))
            .y_label_formatter(&|v| label_at(map.y.labels, *v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(|e| e.to_string())?;
        let corners = |x: usize, y: usize| {
            let (x, y) = (x as f64, y as f64);
            [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)]
        };
        let mut fills = Vec::new();
        let mut crosses = Vec::new();
        let mut outlines = Vec::new();
        let mut texts = Vec::new();
        for (y, row) in map.cells.iter().enumerate() {
            for (x, cell) in row.iter().enumerate() {
                let Some(value) = cell.value else {
                    fills.push(Rectangle::new(
                        corners(x, y),
                        RGBColor(240, 240, 242).filled(),
                    ));
                    continue;
                };
                let t = goodness(value);
                let colour = ViridisRGB::get_color(t);
                let faded = cell.mark == CellMark::Infeasible;
                fills.push(Rectangle::new(
                    corners(x, y),
                    if faded {
                        colour.mix(0.35).filled()
                    } else {
                        colour.filled()
                    },
                ));
                if faded {
                    let [(x0, y0), (x1, y1)] = corners(x, y);
                    let (dx, dy) = ((x1 - x0) * 0.18, (y1 - y0) * 0.18);
                    let red = RGBColor(190, 30, 30).stroke_width(2);
                    crosses.push(PathElement::new(
                        vec![(x0 + dx, y0 + dy), (x1 - dx, y1 - dy)],
                        red,
                    ));
                    crosses.push(PathElement::new(
                        vec![(x0 + dx, y1 - dy), (x1 - dx, y0 + dy)],
                        red,
                    ));
                }
                if cell.mark == CellMark::Chosen {
                    // Black outside, white inside: visible on dark and bright cells alike.
                    let [(x0, y0), (x1, y1)] = corners(x, y);
                    let inset = 0.07;
                    outlines.push(Rectangle::new(corners(x, y), BLACK.stroke_width(3)));
                    outlines.push(Rectangle::new(
                        [(x0 + inset, y0 + inset), (x1 - inset, y1 - inset)],
                        WHITE.stroke_width(2),
                    ));
                }
                if write_values {
                    let ink = if t > 0.55 || faded { &BLACK } else { &WHITE };
                    let style = TextStyle::from((FONT, 11).into_font())
                        .color(ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    texts.push(Text::new(
                        (map.value_text)(value),
                        (x as f64, y as f64),
                        style,
                    ));
                }
            }
        }
        chart.draw_series(fills).map_err(|e| e.to_string())?;
        chart.draw_series(crosses).map_err(|e| e.to_string())?;
        chart.draw_series(texts).map_err(|e| e.to_string())?;
        chart.draw_series(outlines).map_err(|e| e.to_string())?;
        colour_bar(&bar, low, high, map)
    })
}

/// The colour bar: the better end on top, its value above it, the worse below, then the key.
fn colour_bar(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    low: f64,
    high: f64,
    map: &Heatmap<'_>,
) -> Result<(), String> {
    let (top, bottom, left, right) = (70i32, 300i32, 14i32, 34i32);
    let steps = 46;
    for step in 0..steps {
        let t = 1.0 - f64::from(step) / f64::from(steps - 1);
        let y0 = top + (bottom - top) * step / steps;
        let y1 = top + (bottom - top) * (step + 1) / steps;
        area.draw(&Rectangle::new(
            [(left, y0), (right, y1)],
            ViridisRGB::get_color(t).filled(),
        ))
        .map_err(|e| e.to_string())?;
    }
    let style = TextStyle::from((FONT, 11).into_font()).color(&BLACK);
    let (best, worst) = if !low.is_finite() {
        (String::from("—"), String::from("—"))
    } else if map.higher_is_better {
        ((map.value_text)(high), (map.value_text)(low))
    } else {
        ((map.value_text)(low), (map.value_text)(high))
    };
    let lines = [
        (top - 22, "better".to_string()),
        (top - 8, best),
        (bottom + 14, worst),
        (bottom + 40, "✕ breaks a".to_string()),
        (bottom + 54, "constraint".to_string()),
        (bottom + 74, "▢ chosen".to_string()),
    ];
    for (y, text) in lines {
        area.draw(&Text::new(text, (left - 4, y), style.clone()))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heatmap_writes_its_values_marks_and_labels() {
        let labels = vec!["5s".to_string(), "10s".to_string()];
        let cells = vec![
            vec![
                HeatCell {
                    value: Some(1.0),
                    mark: CellMark::Chosen,
                },
                HeatCell {
                    value: Some(2.0),
                    mark: CellMark::Infeasible,
                },
            ],
            vec![
                HeatCell {
                    value: None,
                    mark: CellMark::Plain,
                },
                HeatCell {
                    value: Some(3.0),
                    mark: CellMark::Plain,
                },
            ],
        ];
        let svg = heatmap(
            "t",
            &Heatmap {
                title: "cost",
                x: HeatAxis {
                    desc: "trip",
                    labels: &labels,
                },
                y: HeatAxis {
                    desc: "interval",
                    labels: &labels,
                },
                cells: &cells,
                higher_is_better: false,
                value_text: &|v| format!("{v:.1}"),
            },
        )
        .expect("drawn");
        for text in ["1.0", "2.0", "3.0", "10s", "trip", "interval", "▢ chosen"] {
            assert!(svg.contains(&format!(">\n{text}\n<")), "{text} missing");
        }
    }
}
