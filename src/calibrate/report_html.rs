//! `calibration.html`: the Markdown report's content as one self-contained page (no fetches,
//! the style and probes of `report.html`), plus charts drawn with the report's plotters
//! builder: the arrival rate per step (logged, fitted, re-simulated) and QQ plots of every
//! compared distribution against the identity line.

use std::fmt::Write as _;

use super::Calibration;
use super::quality::DistCheck;
use super::report::{WORKLOAD_ONLY, facts};
use super::tables::{sections, skipped};
use crate::report::ReportError;
use crate::report::html::charts::{Axes, LegendAt, Line, lines};
use crate::report::html::page::{escape, figure, head, tail};

/// Ids of the chart figures a calibration's page contains, in page order.
pub fn chart_ids(cal: &Calibration) -> Vec<String> {
    let qq = cal.quality.workload.len()
        + cal
            .quality
            .backends
            .iter()
            .filter(|(_, b)| b.is_some())
            .count();
    std::iter::once("chart-rate".to_string())
        .chain((0..qq).map(|k| format!("chart-qq-{k}")))
        .collect()
}

fn rate_chart(cal: &Calibration) -> Result<String, ReportError> {
    let series = |pick: fn(&(f64, f64, f64, f64)) -> f64| {
        cal.quality
            .rates
            .iter()
            .map(|r| (r.0, pick(r)))
            .collect::<Vec<_>>()
    };
    let drawn = [
        ("logged", series(|r| r.1), 0),
        ("fitted", series(|r| r.2), 3),
        ("re-simulated", series(|r| r.3), 2),
    ]
    .map(|(label, points, colour)| Line {
        label: label.to_string(),
        points,
        colour,
    });
    let end = cal.workload.duration_s / 60.0;
    let axes = Axes {
        title: "Arrival rate per step",
        x: "minutes from the first call",
        y: "requests per second",
    };
    let svg = lines(
        "chart-rate",
        &axes,
        (0.0, end.max(1e-3)),
        &drawn,
        0.0,
        None,
        LegendAt::Top,
    )?;
    Ok(figure(
        "chart-rate",
        &svg,
        &format!(
            "Arrivals per {:.0} s step: logged, the fitted rate, and the calibrated workload drawn again.",
            cal.workload.bin_s
        ),
    ))
}

fn qq_chart(id: &str, title: &str, check: &DistCheck, model: &str) -> Result<String, ReportError> {
    let top = check
        .qq
        .iter()
        .map(|(a, b)| a.max(*b))
        .fold(0.0, f64::max)
        .max(1e-9);
    let drawn = [
        Line {
            label: format!("quantiles (KS {:.3})", check.ks),
            points: check.qq.clone(),
            colour: 0,
        },
        Line {
            label: "identity".to_string(),
            points: vec![(0.0, 0.0), (top, top)],
            colour: 7,
        },
    ];
    let axes = Axes {
        title,
        x: "logged",
        y: model,
    };
    let svg = lines(id, &axes, (0.0, top), &drawn, 0.0, None, LegendAt::Top)?;
    Ok(figure(
        id,
        &svg,
        &format!(
            "QQ plot of {title}: 0.5% to 99.5% quantiles, logged against {model}; on the identity line when they agree."
        ),
    ))
}

/// The whole page.
pub fn html(cal: &Calibration, command: &str) -> Result<String, ReportError> {
    let mut out = head("throttlebox calibration");
    out.push_str("<style>table.meta td{word-break:break-all}</style>\n");
    out.push_str("<h1>throttlebox calibration</h1>\n<table class=\"meta\">\n");
    for (key, value) in facts(cal, command) {
        let _ = writeln!(out, "<tr><th>{key}</th><td>{}</td></tr>", escape(&value));
    }
    out.push_str("</table>\n");
    if cal.workload_only {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", escape(WORKLOAD_ONLY));
    }
    if !cal.skipped.is_empty() {
        out.push_str("<p class=\"note\">Rows left out:</p>\n");
        out.push_str(&skipped(cal).render_html());
    }
    out.push_str("<h2>What the logs could not identify</h2>\n<ul>\n");
    if cal.notes.is_empty() {
        out.push_str("<li>Nothing: every parameter was fitted.</li>\n");
    }
    for note in &cal.notes {
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: {}</li>",
            escape(&note.topic),
            escape(&note.text)
        );
    }
    out.push_str("</ul>\n");
    let mut qq_index = 0;
    for section in sections(cal) {
        let _ = write!(
            out,
            "<h2>{}</h2>\n<p class=\"note\">{}</p>\n",
            escape(&section.title),
            escape(&section.note)
        );
        out.push_str(&section.table.render_html());
        if section.title == "Workload" {
            let _ = write!(out, "<div class=\"charts\">\n{}</div>\n", rate_chart(cal)?);
        }
        if section.title.starts_with("Distributions") {
            out.push_str("<div class=\"charts\">\n");
            for check in &cal.quality.workload {
                out.push_str(&qq_chart(
                    &format!("chart-qq-{qq_index}"),
                    &check.name,
                    check,
                    "re-simulated",
                )?);
                qq_index += 1;
            }
            for (name, check) in &cal.quality.backends {
                if let Some(check) = check {
                    out.push_str(&qq_chart(
                        &format!("chart-qq-{qq_index}"),
                        &format!("{name} call duration (s)"),
                        &check.durations,
                        "model",
                    )?);
                    qq_index += 1;
                }
            }
            out.push_str("</div>\n");
        }
    }
    out.push_str(&tail());
    Ok(out)
}
