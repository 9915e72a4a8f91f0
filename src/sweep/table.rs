//! The sweep grid as CSV (one row per cell and strategy) and as a Markdown table with the best
//! value of each metric in bold.

use std::fmt::Write as _;

use super::grid::CellResult;
use crate::report::StrategySummary;

/// A metric column: name, whether higher is better, and how to read it.
pub struct Metric {
    /// Column name.
    pub name: &'static str,
    /// Higher is better (else lower is).
    pub higher_is_better: bool,
    /// Read the value (None: not measured).
    pub read: fn(&StrategySummary) -> Option<f64>,
}

/// The metrics of a sweep table.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "success_ratio",
        higher_is_better: true,
        read: |s| Some(s.success_ratio),
    },
    Metric {
        name: "client_429_ratio",
        higher_is_better: false,
        read: |s| Some(s.client_429_ratio),
    },
    Metric {
        name: "server_error_ratio",
        higher_is_better: false,
        read: |s| Some(s.server_error_ratio),
    },
    Metric {
        name: "retries_per_request",
        higher_is_better: false,
        read: |s| Some(s.retries_per_request),
    },
    Metric {
        name: "e2e_p50_s",
        higher_is_better: false,
        read: |s| s.e2e.p50_s,
    },
    Metric {
        name: "e2e_p99_s",
        higher_is_better: false,
        read: |s| s.e2e.p99_s,
    },
    Metric {
        name: "ttft_p99_s",
        higher_is_better: false,
        read: |s| s.ttft.p99_s,
    },
    Metric {
        name: "cost",
        higher_is_better: false,
        read: |s| Some(s.cost.total),
    },
    Metric {
        name: "goodput_ratio",
        higher_is_better: true,
        read: |s| Some(s.goodput.ratio),
    },
];

fn rows(results: &[CellResult]) -> impl Iterator<Item = (&CellResult, &StrategySummary)> {
    results
        .iter()
        .flat_map(|result| result.summary.strategies.iter().map(move |s| (result, s)))
}

fn best(results: &[CellResult], metric: &Metric) -> Option<f64> {
    let values = rows(results).filter_map(|(_, s)| (metric.read)(s));
    if metric.higher_is_better {
        values.fold(None, |best, v| Some(best.map_or(v, |b: f64| b.max(v))))
    } else {
        values.fold(None, |best, v| Some(best.map_or(v, |b: f64| b.min(v))))
    }
}

fn fixed(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| format!("{v:.4}"))
}

/// The grid as CSV: the axis keys, `strategy`, the metrics, `slo_pass`.
pub fn grid_csv(keys: &[String], results: &[CellResult]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .chain(["strategy"])
        .chain(METRICS.iter().map(|m| m.name))
        .chain(["slo_pass"])
        .collect();
    writer.write_record(&header)?;
    for (result, strategy) in rows(results) {
        let mut record: Vec<String> = result
            .cell
            .overrides
            .iter()
            .map(|o| o.value_label())
            .collect();
        record.push(strategy.name.clone());
        record.extend(METRICS.iter().map(|m| fixed((m.read)(strategy))));
        record.push(strategy.slo_pass.to_string());
        writer.write_record(&record)?;
    }
    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The grid as a Markdown table, the best value of each metric in bold.
pub fn grid_markdown(keys: &[String], results: &[CellResult]) -> String {
    let bests: Vec<Option<f64>> = METRICS.iter().map(|m| best(results, m)).collect();
    let mut out = String::new();
    let header: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .chain(["strategy"])
        .chain(METRICS.iter().map(|m| m.name))
        .chain(["SLO"])
        .collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for (result, strategy) in rows(results) {
        let mut cells: Vec<String> = result
            .cell
            .overrides
            .iter()
            .map(|o| o.value_label())
            .collect();
        cells.push(strategy.name.clone());
        for (metric, best) in METRICS.iter().zip(&bests) {
            let value = (metric.read)(strategy);
            let text = fixed(value);
            cells.push(if value.is_some() && value == *best {
                format!("**{text}**")
            } else {
                text
            });
        }
        cells.push(if strategy.slo_pass { "pass" } else { "fail" }.to_string());
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(
        out,
        "\nBold: the best value of each metric over the whole grid."
    );
    out
}
