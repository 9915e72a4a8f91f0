//! The plan's outputs in a run folder: `plan.json` (for automation), `plan.md` — the
//! recommendation sentences first, then the evidence: the workload and run length, the
//! documented calculator figures beside the simulated ones, the break-even loads, each
//! strategy's cheapest fleets and the prices used — `plan.html` (self-contained) and the charts
//! `plan.svg` (SLO metrics against load) and `plan-cost.svg` (monthly cost against load).

use std::fmt::Write as _;

use super::error::PlanError;
use super::recommend::{by_mode_sentence, fleet_text, money, recommendation};
use super::search::{PlanResult, StrategyPlan};
use crate::report::metric::metric;

pub use super::html::plan_html;

/// `plan.json`.
pub const PLAN_JSON: &str = "plan.json";
/// `plan.md`.
pub const PLAN_MD: &str = "plan.md";
/// `plan.html`.
pub const PLAN_HTML: &str = "plan.html";
/// `plan.svg`.
pub const PLAN_SVG: &str = "plan.svg";
/// `plan-cost.svg`.
pub const PLAN_COST_SVG: &str = "plan-cost.svg";
/// The heading the evidence starts at (the HTML puts the cost chart before it).
pub const EVIDENCE_HEADING: &str = "## Evidence";

/// Fleets per strategy listed in the Markdown (the JSON has them all).
const FLEETS_LISTED: usize = 6;

/// The plan as pretty JSON with a trailing newline.
pub fn plan_json(plan: &PlanResult) -> Result<String, PlanError> {
    let mut text = serde_json::to_string_pretty(plan).map_err(|error| PlanError::Output {
        path: PLAN_JSON.to_string(),
        message: error.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}

/// The plan as Markdown.
pub fn plan_markdown(plan: &PlanResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Capacity plan: {}\n", plan.scenario);
    let _ = writeln!(out, "## Recommendation\n");
    for strategy in &plan.strategies {
        let _ = writeln!(out, "- {}", recommendation(plan, strategy));
        if let Some(sentence) = by_mode_sentence(strategy) {
            let _ = writeln!(out, "  {sentence}");
        }
    }
    out.push('\n');
    for note in plan.prices.notes.iter().chain(&plan.run.warnings) {
        let _ = writeln!(out, "- Note: {note}");
    }
    if !plan.prices.notes.is_empty() || !plan.run.warnings.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{EVIDENCE_HEADING}\n");
    workload(&mut out, plan);
    calculator(&mut out, plan);
    break_even(&mut out, plan);
    for strategy in &plan.strategies {
        fleets(&mut out, strategy);
    }
    prices(&mut out, plan);
    if !plan.skipped_strategies.is_empty() {
        let _ = writeln!(
            out,
            "Not planned: {}.\n",
            plan.skipped_strategies.join("; ")
        );
    }
    let _ = writeln!(
        out,
        "Charts: `{}` (monthly cost against load), `{}` (SLO metrics against load).",
        super::output::PLAN_COST_SVG,
        super::output::PLAN_SVG
    );
    out
}

fn workload(out: &mut String, plan: &PlanResult) {
    let _ = writeln!(out, "### The load\n");
    let run = &plan.run;
    let lengthened = if run.lengthened {
        format!(
            " (the scenario's {:.0} s, lengthened so an overload of one PTU increment fills the bucket)",
            run.scenario_seconds
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "Targets `{}` at the scenario's load × {} (growth) × {:.2} (headroom {:.0}%): {:.3} req/s planned, candidates tested at {:.3} req/s for {:.0} s each{lengthened}. Seed {}; {} candidate fleets simulated{}; costs at the planned load (PAYG spend simulated there), 730 hours a month.\n",
        plan.targets.join(", "),
        plan.growth,
        1.0 + plan.headroom,
        plan.headroom * 100.0,
        plan.planned_rate_rps,
        plan.tested_rate_rps,
        run.seconds,
        plan.seed,
        plan.candidates_simulated,
        if plan.spillover {
            ", with pool and spillover overflow"
        } else {
            ""
        },
    );
}

fn calculator(out: &mut String, plan: &PlanResult) {
    let _ = writeln!(
        out,
        "### PTU calculator (Microsoft's documented formula) beside the simulation\n"
    );
    let load = &plan.load;
    let Some(first) = plan.sizings.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "{} at {:.1} calls/min on average, {} in the busiest minute; mean prompt {:.0} and output {:.0} tokens; {} input TPM per PTU, output weight {}, cache hit rate {:.0}% (the simulated workload sends no cached tokens). Model figures: {}.\n",
        plan.model,
        load.calls_per_min,
        load.peak_calls_per_min,
        load.mean_prompt_tokens,
        load.mean_output_tokens,
        first.input_tpm_per_ptu,
        first.output_weight,
        plan.cache_hit_rate * 100.0,
        plan.model_source
            .as_deref()
            .unwrap_or("not in the model table"),
    );
    let mut header = "| figure | calls/min | normalized TPM | raw PTU |".to_string();
    let mut rule = "|---|---|---|---|".to_string();
    for sizing in &plan.sizings {
        let _ = write!(
            header,
            " {} ({}/{}) |",
            sizing.kind.label(),
            sizing.min,
            sizing.increment
        );
        rule.push_str("---|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    type Pick = fn(&super::calculator::AnalyticEstimate) -> &super::calculator::Calculation;
    let rows: [(&str, Pick); 4] = [
        ("**calculator** (busiest minute, as documented)", |a| {
            &a.calculator
        }),
        ("calculator with headroom", |a| &a.calculator_with_headroom),
        ("mean rate", |a| &a.mean_rate),
        ("mean rate with headroom", |a| &a.mean_rate_with_headroom),
    ];
    for (label, pick) in rows {
        let Some(first) = plan.analytical.first() else {
            continue;
        };
        let calc = pick(first);
        let _ = write!(
            out,
            "| {label} | {:.1} | {:.0} | {:.2} |",
            calc.calls_per_min, calc.normalized_tpm, calc.ptu_raw
        );
        for estimate in &plan.analytical {
            let _ = write!(out, " {} |", pick(estimate).ptu);
        }
        out.push('\n');
    }
    for strategy in &plan.strategies {
        let _ = write!(
            out,
            "| simulated, {} (smallest PTU-only fleet meeting the targets with headroom) | {:.1} | - | - |",
            strategy.strategy,
            plan.tested_rate_rps * 60.0
        );
        for sizing in &plan.sizings {
            let smallest = strategy
                .fleets
                .iter()
                .map(|f| f.shape)
                .filter(|s| s.ptu > 0 && !s.has_payg() && sizing.fits(s.ptu))
                .map(|s| s.ptu)
                .min();
            let _ = write!(
                out,
                " {} |",
                smallest.map_or("-".to_string(), |p| p.to_string())
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nThe calculator assumes one steady call shape; the simulation replays the workload's arrivals, sizes, retries and the balancer, so it differs where bursts and routing matter. A PTU-only fleet below the load's sustained demand ({:.2} PTU at the tested load: the mean rate, no cached tokens, as the simulated bucket drains) is not accepted even when its run passes: the bucket would fill after the run ends. For the same reason a PTU fleet with overflow is charged at least the share of the demand its PTUs cannot drain as PAYG.\n",
        plan.sustained_ptu_at_tested
    );
    if let Some(payg) = &plan.payg_estimate {
        let _ = writeln!(
            out,
            "Pay-as-you-go: the admission estimate (prompt + max_tokens) asks for {:.0} TPM; × {:.2} → **{} × {}k TPM** deployments.\n",
            payg.tpm_needed,
            1.0 + plan.headroom,
            payg.count_with_headroom,
            payg.deployment_tpm / 1000
        );
    }
}

fn break_even(out: &mut String, plan: &PlanResult) {
    if plan.break_even.is_empty() {
        return;
    }
    let _ = writeln!(out, "### PTU or pay-as-you-go: break-even load\n");
    let _ = writeln!(
        out,
        "A PTU-only fleet sized by the formula above (busiest minute, {:.0}% headroom) against the same calls on pay-as-you-go; above the break-even load the PTUs never cost more. A hybrid (a PTU base with PAYG or spillover overflow) can beat both: the recommendations and the fleets below are priced from the simulation.\n",
        plan.headroom * 100.0
    );
    let _ = writeln!(
        out,
        "| deployment type | pricing mode | per PTU-month | break-even | planned load |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for entry in &plan.break_even {
        let rate = plan
            .prices
            .rate(entry.deployment_type, entry.mode)
            .map_or(0.0, |rate| rate.per_ptu_month);
        let verdict = match entry.load_rps {
            Some(rps) if rps <= plan.planned_rate_rps => format!("{rps:.2} req/s (PTU cheaper)"),
            Some(rps) => format!("{rps:.2} req/s (PAYG cheaper)"),
            None => "never at these prices (PAYG cheaper)".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {verdict} | {:.2} req/s |",
            entry.deployment_type.label(),
            entry.mode.label(),
            money(rate),
            plan.planned_rate_rps
        );
    }
    out.push('\n');
}

fn fleets(out: &mut String, strategy: &StrategyPlan) {
    if strategy.fleets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Fleets meeting the targets: {} ({} of {}, cheapest first; all in plan.json)\n",
        strategy.strategy,
        strategy.fleets.len().min(FLEETS_LISTED),
        strategy.fleets.len()
    );
    let _ = writeln!(
        out,
        "| fleet | p99 TTFT | success | PAYG / hour | cheapest as | per month | per year |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for fleet in strategy.fleets.iter().take(FLEETS_LISTED) {
        let value = |name: &str| {
            metric(name)
                .zip(fleet.figures.get(name))
                .map_or("-".to_string(), |(m, v)| m.value_text(*v))
        };
        let Some(cost) = fleet.cheapest() else {
            continue;
        };
        let how = super::choose::Choice {
            fleet: fleet.clone(),
            cost: *cost,
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            fleet.label,
            value("p99_ttft"),
            value("success_ratio"),
            money(fleet.payg_per_hour),
            fleet_text(&how),
            money(cost.total.per_month),
            money(cost.total.per_year)
        );
    }
    out.push('\n');
}

fn prices(out: &mut String, plan: &PlanResult) {
    let _ = writeln!(
        out,
        "### Prices{}\n",
        plan.prices
            .currency
            .as_ref()
            .map_or(String::new(), |c| format!(" (the examples are in {c})"))
    );
    let _ = writeln!(
        out,
        "| deployment type | pricing mode | as quoted | per PTU-month | from |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for rate in &plan.prices.ptu {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            rate.deployment_type.label(),
            rate.mode.label(),
            money(rate.quoted),
            money(rate.per_ptu_month),
            rate.origin.label()
        );
    }
    let _ = writeln!(
        out,
        "| pay-as-you-go | per 1k tokens | {} in / {} out | - | {} |\n",
        plan.prices.payg_input_per_1k,
        plan.prices.payg_output_per_1k,
        plan.prices.payg_origin.label()
    );
}
