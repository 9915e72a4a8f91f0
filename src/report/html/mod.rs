//! `report.html`: one self-contained page (no fetches; opens from disk) with a banner when the
//! run cannot be trusted, the run's metadata, the head-to-head and outcome tables, charts drawn by plotters (SVG, inlined): latency
//! percentiles over time, the TTFT CDF per strategy, per-second successes and 429s stacked by
//! backend, breaker state per backend and PTU utilization; then the per-backend, SLO and
//! validity tables. The chart kinds other pages draw (heatmaps and curves for `sweep.html` and
//! `tune.html`) and the page frame ([`page`]) are shared from here.
//!
//! Pure and deterministic: the same summary, series and histograms give the same bytes. Never
//! reads a clock and never decides anything about the run.

pub(crate) mod charts;
mod curves;
pub mod data;
mod heatmap;
pub mod page;

use std::fmt::Write as _;

use self::charts::{Axes, LegendAt, Line, lines, stacked_areas, timeline};
pub use self::curves::{Curve, CurvePoint, Curves, Limit, curves};
use self::data::{BackendCount, Points, bucket_seconds, per_backend, stacked};
pub use self::heatmap::{CellMark, HeatAxis, HeatCell, Heatmap, heatmap};
use self::page::{escape, figure};
use super::comparison_tables::{
    backend_shares, head_to_head, outcome_breakdown, slo_verdicts, validity_table,
};
use super::error::ReportError;
use super::format::seconds_text;
use super::labels::Mode;
use super::setup::RunSetup;
use super::summary::Summary;
use crate::metrics::{LatencyHistogram, SecondSeries};

/// What the charts of one strategy are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct StrategyCharts<'a> {
    /// Strategy name.
    pub name: &'a str,
    /// Its per-second series.
    pub series: &'a SecondSeries,
    /// Its full-run TTFT histogram (successful streams, from the intended start).
    pub ttft: &'a LatencyHistogram,
}

/// The ids of the chart `<figure>`s a report of `strategies` strategies contains, in page
/// order (for tests and links).
pub fn chart_ids(strategies: usize) -> Vec<String> {
    let mut ids = vec![
        "chart-latency-p50".to_string(),
        "chart-latency-p99".to_string(),
        "chart-ttft-cdf".to_string(),
    ];
    for kind in ["throughput", "throttled", "breaker", "ptu"] {
        ids.extend((0..strategies).map(|index| format!("chart-{kind}-{index}")));
    }
    ids
}

fn section(out: &mut String, title: &str, note: &str) {
    let _ = write!(
        out,
        "<h2>{}</h2>\n<p class=\"note\">{}</p>\n",
        escape(title),
        escape(note)
    );
}

/// The complete `report.html` text.
pub fn report_html(
    summary: &Summary,
    setup: &RunSetup,
    strategies: &[StrategyCharts<'_>],
) -> Result<String, ReportError> {
    let run_seconds = setup.duration.as_secs_f64();
    let longest = strategies
        .iter()
        .map(|strategy| strategy.series.seconds())
        .max()
        .unwrap_or(0);
    let bucket = bucket_seconds(longest);
    let per = if bucket == 1 {
        "per second".to_string()
    } else {
        format!("per second, mean over {bucket} s buckets")
    };
    let backend_names: Vec<&str> = setup.backends.iter().map(|b| b.name.as_str()).collect();
    let backends = backend_names.len();

    let mut out = page::head(&format!("throttlebox run: {}", summary.scenario));
    let _ = writeln!(
        out,
        "<h1>throttlebox run: {}</h1>",
        escape(&summary.scenario)
    );
    out.push_str(&page::banner(
        "This run cannot be trusted as it stands: its figures are incomplete or distorted by the \
         load generator itself, so do not compare them (Validity, below).",
        &summary.distrust(),
    ));
    out.push_str("<table class=\"meta\">\n");
    let mut meta = |key: &str, value: String| {
        let _ = writeln!(out, "<tr><th>{key}</th><td>{}</td></tr>", escape(&value));
    };
    meta("mode", summary.mode.as_str().to_string());
    meta("seed", summary.seed.to_string());
    meta("duration s", seconds_text(Some(summary.duration_s)));
    if let Some(command) = &summary.command {
        meta("command", command.clone());
    }
    if let Some(started_at) = &summary.started_at {
        meta("started at", started_at.clone());
    }
    meta("throttlebox", summary.throttlebox_version.clone());
    meta("summary schema", summary.schema_version.to_string());
    out.push_str("</table>\n");

    section(
        &mut out,
        "Head to head",
        "Final outcome of each logical request as the client saw it; latencies in seconds \
         from the intended start (open loop), over successful requests. Definitions: report.md.",
    );
    out.push_str(&head_to_head(summary).render_html());
    section(
        &mut out,
        "Outcomes",
        "Every final outcome class as a share of requests; a row adds up to 100 %.",
    );
    out.push_str(&outcome_breakdown(summary).render_html());

    let x_range = (0.0, run_seconds.max(longest as f64).max(1.0));
    section(
        &mut out,
        "Latency over time",
        &format!(
            "End-to-end latency percentiles of the requests that ended in each second ({per}); \
             whole-run percentiles are in the table above."
        ),
    );
    out.push_str("<div class=\"charts\">\n");
    let latency: Vec<_> = strategies.iter().map(|s| data::latency(s.series)).collect();
    let pick_p50: fn(&(Points, Points)) -> &Points = |(p50, _)| p50;
    let pick_p99: fn(&(Points, Points)) -> &Points = |(_, p99)| p99;
    for (id, label, pick) in [
        ("chart-latency-p50", "p50", pick_p50),
        ("chart-latency-p99", "p99", pick_p99),
    ] {
        let drawn: Vec<Line> = strategies
            .iter()
            .zip(&latency)
            .enumerate()
            .map(|(index, (strategy, percentiles))| Line {
                label: strategy.name.to_string(),
                points: pick(percentiles).clone(),
                colour: index,
            })
            .collect();
        let title = format!("End-to-end latency {label} per second");
        let axes = Axes {
            title: &title,
            x: "run time (s)",
            y: &format!("{label} latency (s)"),
        };
        let svg = lines(id, &axes, x_range, &drawn, 0.0, None, LegendAt::Top)?;
        out.push_str(&figure(
            id,
            &svg,
            &format!("{title}, one line per strategy ({per})."),
        ));
    }
    out.push_str("</div>\n");

    section(
        &mut out,
        "Time to first token",
        "Cumulative distribution of TTFT of successful streams, from the intended start: the \
         share of requests whose first token arrived within x seconds.",
    );
    out.push_str("<div class=\"charts\">\n");
    let cdfs: Vec<Line> = strategies
        .iter()
        .enumerate()
        .map(|(index, strategy)| Line {
            label: strategy.name.to_string(),
            points: data::cdf(strategy.ttft),
            colour: index,
        })
        .collect();
    let ttft_max = cdfs
        .iter()
        .flat_map(|line| line.points.iter().map(|(x, _)| *x))
        .fold(0.0, f64::max);
    let axes = Axes {
        title: "TTFT CDF",
        x: "time to first token (s)",
        y: "share of requests",
    };
    let svg = lines(
        "chart-ttft-cdf",
        &axes,
        (0.0, ttft_max * 1.02),
        &cdfs,
        1.0,
        None,
        LegendAt::BottomFixed,
    )?;
    out.push_str(&figure(
        "chart-ttft-cdf",
        &svg,
        "TTFT CDF, one line per strategy.",
    ));
    out.push_str("</div>\n");

    for (kind, title, note) in [
        (
            BackendCount::Ok,
            "Successes by backend",
            "Attempts answered 2xx per second, stacked by backend",
        ),
        (
            BackendCount::Throttled,
            "429s by backend",
            "Attempts answered 429 per second, stacked by backend, retries included",
        ),
    ] {
        let (slug, y) = match kind {
            BackendCount::Ok => ("throughput", "2xx attempts/s"),
            BackendCount::Throttled => ("throttled", "429 attempts/s"),
        };
        section(&mut out, title, &format!("{note} ({per})."));
        out.push_str("<div class=\"charts\">\n");
        for (index, strategy) in strategies.iter().enumerate() {
            let id = format!("chart-{slug}-{index}");
            let stacks = stacked(&per_backend(strategy.series, backends, kind));
            let chart_title = format!("{title}: {}", strategy.name);
            let axes = Axes {
                title: &chart_title,
                x: "run time (s)",
                y,
            };
            let svg = stacked_areas(&id, &axes, x_range.1, &backend_names, &stacks)?;
            out.push_str(&figure(&id, &svg, &chart_title));
        }
        out.push_str("</div>\n");
    }

    section(
        &mut out,
        "Breaker state",
        "Per backend: red where its breaker was open at any time during the second, green \
         where it stayed closed (half-open counts as closed).",
    );
    out.push_str("<div class=\"charts\">\n");
    for (index, strategy) in strategies.iter().enumerate() {
        let id = format!("chart-breaker-{index}");
        let spans = data::breaker_open_spans(strategy.series, backends);
        let chart_title = format!("Breakers: {}", strategy.name);
        let axes = Axes {
            title: &chart_title,
            x: "run time (s)",
            y: "backend",
        };
        let svg = timeline(&id, &axes, x_range.1, &backend_names, &spans)?;
        out.push_str(&figure(&id, &svg, &chart_title));
    }
    out.push_str("</div>\n");

    section(
        &mut out,
        "PTU utilization",
        &format!(
            "Mean of the utilization samples of each PTU backend ({per}); above 100 % the \
             deployment answers 429."
        ),
    );
    out.push_str("<div class=\"charts\">\n");
    for (index, strategy) in strategies.iter().enumerate() {
        let id = format!("chart-ptu-{index}");
        let drawn: Vec<Line> = data::utilization(strategy.series, backends)
            .into_iter()
            .map(|(backend, points)| Line {
                label: backend_names[backend].to_string(),
                points,
                colour: backend,
            })
            .collect();
        let chart_title = format!("PTU utilization: {}", strategy.name);
        let axes = Axes {
            title: &chart_title,
            x: "run time (s)",
            y: "utilization (%)",
        };
        let svg = lines(
            &id,
            &axes,
            x_range,
            &drawn,
            100.0,
            Some((100.0, "100 %")),
            LegendAt::Top,
        )?;
        let caption = if drawn.is_empty() {
            format!("{chart_title} (no PTU backend was sampled)")
        } else {
            chart_title
        };
        out.push_str(&figure(&id, &svg, &caption));
    }
    out.push_str("</div>\n");

    section(
        &mut out,
        "Traffic per backend",
        "Attempts and answers per backend.",
    );
    out.push_str(&backend_shares(summary).render_html());
    if summary
        .strategies
        .iter()
        .any(|strategy| !strategy.slo.is_empty())
    {
        section(&mut out, "SLO verdicts", "One row per strategy and rule.");
        out.push_str(&slo_verdicts(summary).render_html());
    }
    if summary.mode != Mode::Sim {
        section(
            &mut out,
            "Validity",
            "What the load generator measured about itself, in scenario time, against the \
             limits that keep the figures comparable (README, Validity).",
        );
        out.push_str(&validity_table(summary).render_html());
    }
    out.push_str(&page::tail());
    Ok(out)
}
