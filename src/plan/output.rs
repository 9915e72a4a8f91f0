//! The plan's outputs in a run folder: `plan.json` (for automation), `plan.md`, `plan.html`
//! (self-contained: inline style and the chart as inline SVG) and `plan.svg`.

use std::fmt::Write as _;

use super::error::PlanError;
use super::search::{PlanResult, StrategyPlan};
use crate::report::metric::metric;

/// `plan.json`.
pub const PLAN_JSON: &str = "plan.json";
/// `plan.md`.
pub const PLAN_MD: &str = "plan.md";
/// `plan.html`.
pub const PLAN_HTML: &str = "plan.html";
/// `plan.svg`.
pub const PLAN_SVG: &str = "plan.svg";

/// Fleets per strategy listed in the Markdown (the JSON has them all).
const FLEETS_LISTED: usize = 5;

/// The plan as pretty JSON with a trailing newline.
pub fn plan_json(plan: &PlanResult) -> Result<String, PlanError> {
    let mut text = serde_json::to_string_pretty(plan).map_err(|error| PlanError::Output {
        path: PLAN_JSON.to_string(),
        message: error.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}

fn figure(plan: &StrategyPlan, name: &str) -> String {
    let Some(best) = &plan.best else {
        return "-".to_string();
    };
    match (metric(name), best.figures.get(name)) {
        (Some(metric), Some(value)) => metric.value_text(*value),
        _ => "-".to_string(),
    }
}

fn knee_text(plan: &StrategyPlan) -> String {
    match (plan.knee_rps, plan.headroom) {
        (Some(rps), Some(headroom)) => format!(
            "{}{rps:.2} req/s ({:+.0}% over the planned load)",
            if plan.knee_is_lower_bound { "≥ " } else { "" },
            headroom * 100.0
        ),
        _ => "-".to_string(),
    }
}

/// The plan as Markdown.
pub fn plan_markdown(plan: &PlanResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Capacity plan: {}\n", plan.scenario);
    let _ = writeln!(
        out,
        "Targets `{}` at the scenario's load × {} (growth) × {:.2} (headroom {:.0}%): {:.3} req/s planned, candidates tested at {:.3} req/s. Seed {}; {} candidate fleets simulated.\n",
        plan.targets.join(", "),
        plan.growth,
        1.0 + plan.headroom,
        plan.headroom * 100.0,
        plan.planned_rate_rps,
        plan.tested_rate_rps,
        plan.seed,
        plan.candidates_simulated
    );
    let _ = writeln!(out, "## Cheapest fleet per strategy\n");
    let _ = writeln!(
        out,
        "| strategy | fleet | cost / hour | p99 TTFT | success | client 429 | knee (targets stop holding) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for strategy in &plan.strategies {
        let (fleet, cost) = match &strategy.best {
            Some(best) => (best.label.clone(), format!("{:.4}", best.cost_per_hour)),
            None => (
                "**none of the candidates meets the targets**".to_string(),
                "-".to_string(),
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {fleet} | {cost} | {} | {} | {} | {} |",
            strategy.strategy,
            figure(strategy, "p99_ttft"),
            figure(strategy, "success_ratio"),
            figure(strategy, "client_429_ratio"),
            knee_text(strategy)
        );
    }
    let _ = writeln!(
        out,
        "\nFigures at the tested load (planned × (1 + headroom)); cost from the scenario's `[costs]`.\n"
    );
    let a = &plan.analytical;
    let s = &plan.sizing;
    let _ = writeln!(
        out,
        "## Analytical estimate (Azure capacity calculator formula)\n"
    );
    let _ = writeln!(
        out,
        "{} at {:.1} calls/min (busiest minute {}), mean prompt {:.0} and output {:.0} tokens; {} input TPM per PTU, output weight {}, minimum {} and increment {} PTU:\n",
        plan.model,
        plan.load.calls_per_min,
        plan.load.peak_calls_per_min,
        plan.load.mean_prompt_tokens,
        plan.load.mean_output_tokens,
        s.input_tpm_per_ptu,
        s.output_weight,
        s.min,
        s.increment
    );
    let _ = writeln!(
        out,
        "- input-equivalent TPM = calls/min × (prompt + w_out × output) = {:.0}",
        a.tpm_equivalent
    );
    let _ = writeln!(
        out,
        "- PTU = {:.2} raw → **{} PTU**; with {:.0}% headroom **{} PTU**; busiest minute with headroom {} PTU",
        a.ptu_raw,
        a.ptu,
        plan.headroom * 100.0,
        a.ptu_with_headroom,
        a.ptu_peak_minute
    );
    if let (Some(count), Some(tpm)) = (a.payg_count_with_headroom, plan.payg_tpms.first()) {
        let _ = writeln!(
            out,
            "- PAYG: admission estimate (prompt + max_tokens) {:.0} TPM × {:.2} → **{count} × {}k TPM** deployments",
            a.payg_tpm_needed,
            1.0 + plan.headroom,
            tpm / 1000
        );
    }
    let _ = writeln!(
        out,
        "\nThe simulated answer differs where bursts, retries, breakers and the balancer's choices matter; the calculator assumes one steady size.\n"
    );
    for strategy in plan.strategies.iter().filter(|s| s.fleets.len() > 1) {
        let _ = writeln!(
            out,
            "## Cheapest fleets meeting the targets: {} ({} of {}; all in plan.json)\n",
            strategy.strategy,
            strategy.fleets.len().min(FLEETS_LISTED),
            strategy.fleets.len()
        );
        let _ = writeln!(out, "| fleet | cost / hour | p99 TTFT | success |");
        let _ = writeln!(out, "|---|---|---|---|");
        for fleet in strategy.fleets.iter().take(FLEETS_LISTED) {
            let value = |name: &str| {
                metric(name)
                    .zip(fleet.figures.get(name))
                    .map_or("-".to_string(), |(m, v)| m.value_text(*v))
            };
            let _ = writeln!(
                out,
                "| {} | {:.4} | {} | {} |",
                fleet.label,
                fleet.cost_per_hour,
                value("p99_ttft"),
                value("success_ratio")
            );
        }
        out.push('\n');
    }
    if !plan.skipped_strategies.is_empty() {
        let _ = writeln!(
            out,
            "Not planned: {}.\n",
            plan.skipped_strategies.join("; ")
        );
    }
    let _ = writeln!(out, "Chart: `plan.svg` (SLO metrics against load).");
    out
}

/// The plan as a self-contained HTML page (inline CSS, inline SVG chart).
pub fn plan_html(plan: &PlanResult, svg: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Capacity plan: {}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}th{{background:#f3f3f3}}code{{background:#f3f3f3;padding:0 3px}}</style></head><body>\n",
        escape(&plan.scenario)
    );
    out.push_str(&markdown_to_html(&plan_markdown(plan)));
    let _ = write!(
        out,
        "<h2>SLO metrics against load</h2>\n<figure>{svg}</figure>\n</body></html>\n"
    );
    out
}

/// The small subset of Markdown `plan_markdown` writes: headings, tables (first row the
/// header), bullets, paragraphs, `code` and **bold**.
fn markdown_to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut table_rows = 0;
    for line in markdown.lines() {
        let is_row = line.starts_with('|');
        if !is_row && table_rows > 0 {
            out.push_str("</table>\n");
            table_rows = 0;
        }
        if line.starts_with("|---") {
            continue;
        }
        if let Some(row) = line.strip_prefix('|') {
            if table_rows == 0 {
                out.push_str("<table>\n");
            }
            let tag = if table_rows == 0 { "th" } else { "td" };
            out.push_str("<tr>");
            for cell in row.trim_end_matches('|').split(" | ") {
                let _ = write!(out, "<{tag}>{}</{tag}>", inline(cell.trim()));
            }
            out.push_str("</tr>\n");
            table_rows += 1;
        } else if let Some(heading) = line.strip_prefix("## ") {
            let _ = writeln!(out, "<h2>{}</h2>", inline(heading));
        } else if let Some(heading) = line.strip_prefix("# ") {
            let _ = writeln!(out, "<h1>{}</h1>", inline(heading));
        } else if let Some(item) = line.strip_prefix("- ") {
            let _ = writeln!(out, "<p>• {}</p>", inline(item));
        } else if !line.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", inline(line));
        }
    }
    if table_rows > 0 {
        out.push_str("</table>\n");
    }
    out
}

fn inline(text: &str) -> String {
    let mut out = String::new();
    let escaped = escape(text);
    let mut bold = false;
    let mut code = false;
    let mut rest = escaped.as_str();
    while let Some(index) = rest.find(['*', '`']) {
        out.push_str(&rest[..index]);
        if rest[index..].starts_with("**") {
            out.push_str(if bold { "</b>" } else { "<b>" });
            bold = !bold;
            rest = &rest[index + 2..];
        } else if rest[index..].starts_with('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = &rest[index + 1..];
        } else {
            out.push('*');
            rest = &rest[index + 1..];
        }
    }
    out.push_str(rest);
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
