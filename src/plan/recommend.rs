//! The sentences a plan opens with: per strategy one recommendation — fleet, deployment type,
//! pricing mode, monthly cost, headroom and knee — and the cheapest fleet per pricing mode,
//! so a reader sees at once whether hourly PTUs, reserved PTUs or pay-as-you-go win.

use super::choose::Choice;
use super::fleet::Overflow;
use super::prices::FleetCost;
use super::search::{PlanResult, StrategyPlan};

/// `1,234`, `12.35`: whole units from 100 up, cents below.
pub fn money(value: f64) -> String {
    if value.abs() < 100.0 {
        return format!("{value:.2}");
    }
    let whole = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// `150 PTU Global Provisioned on a 1-year reservation + 1 × 100k TPM pay-as-you-go overflow`.
pub fn fleet_text(choice: &Choice) -> String {
    describe(choice, true)
}

/// The fleet and deployment type, with the pricing mode when `with_mode`.
fn describe(choice: &Choice, with_mode: bool) -> String {
    let shape = choice.fleet.shape;
    let payg = format!("{} × {}k TPM", shape.payg, shape.payg_tpm / 1000);
    let ptu = |cost: &FleetCost| match (cost.deployment_type, cost.mode) {
        (Some(kind), Some(mode)) if with_mode => {
            format!(
                "{} PTU {} on {}",
                shape.ptu,
                kind.label(),
                mode_phrase(mode)
            )
        }
        (Some(kind), _) => format!("{} PTU {}", shape.ptu, kind.label()),
        _ => format!("{} PTU", shape.ptu),
    };
    match (shape.ptu, shape.payg, shape.overflow) {
        (0, _, _) => format!("{payg} pay-as-you-go (no PTU)"),
        (_, 0, _) => ptu(&choice.cost),
        (_, _, Overflow::Pool) => {
            format!("{} + {payg} pay-as-you-go overflow", ptu(&choice.cost))
        }
        (_, count, Overflow::Spillover) => format!(
            "{} spilling over to a {}k TPM standard deployment",
            ptu(&choice.cost),
            u64::from(count) * shape.payg_tpm / 1000
        ),
    }
}

fn mode_phrase(mode: super::prices::PricingMode) -> String {
    match mode {
        super::prices::PricingMode::Hourly => "hourly billing".to_string(),
        other => format!("a {}", other.label()),
    }
}

/// The recommendation sentence of one strategy.
pub fn recommendation(plan: &PlanResult, strategy: &StrategyPlan) -> String {
    let Some(choice) = &strategy.recommendation else {
        return format!(
            "**{}**: none of the candidates meets `{}` at {:.2} req/s — widen the search (--max-payg, --ptu-max) or relax the targets.",
            strategy.strategy,
            plan.targets.join(", "),
            plan.tested_rate_rps
        );
    };
    let cost = &choice.cost.total;
    let knee = match (strategy.knee_rps, strategy.headroom) {
        (Some(rps), Some(headroom)) => format!(
            "its knee is {}{rps:.2} req/s, {:+.0}% over the planned load",
            if strategy.knee_is_lower_bound {
                "at least "
            } else {
                ""
            },
            headroom * 100.0
        ),
        _ => "its knee was not found".to_string(),
    };
    format!(
        "**{}**: deploy {} — **{} per month** ({} per hour, {} per year) at the planned {:.2} req/s; it meets `{}` with the required {:.0}% headroom (tested at {:.2} req/s) and {knee}.",
        strategy.strategy,
        fleet_text(choice),
        money(cost.per_month),
        money(cost.per_hour),
        money(cost.per_year),
        plan.planned_rate_rps,
        plan.targets.join(", "),
        plan.headroom * 100.0,
        plan.tested_rate_rps,
    )
}

/// `Cheapest when PTUs are paid hourly: …; on a 1-year reservation: …`, saying when the
/// winner changes between pay-as-you-go and PTU.
pub fn by_mode_sentence(strategy: &StrategyPlan) -> Option<String> {
    if strategy.by_mode.is_empty() {
        return None;
    }
    let parts: Vec<String> = strategy
        .by_mode
        .iter()
        .map(|entry| {
            format!(
                "{}: {} ({}/month)",
                match entry.mode {
                    super::prices::PricingMode::Hourly => "paid hourly".to_string(),
                    mode => format!("on a {}", mode.label()),
                },
                describe(&entry.choice, false),
                money(entry.choice.cost.total.per_month)
            )
        })
        .collect();
    let payg_wins: Vec<&str> = strategy
        .by_mode
        .iter()
        .filter(|entry| entry.choice.fleet.shape.ptu == 0)
        .map(|entry| entry.mode.label())
        .collect();
    let ptu_wins: Vec<&str> = strategy
        .by_mode
        .iter()
        .filter(|entry| entry.choice.fleet.shape.ptu > 0)
        .map(|entry| entry.mode.label())
        .collect();
    let verdict = if !payg_wins.is_empty() && !ptu_wins.is_empty() {
        format!(
            " Pay-as-you-go is cheapest with {} PTU prices; PTU is cheapest with {} prices.",
            payg_wins.join(" or "),
            ptu_wins.join(" or ")
        )
    } else {
        String::new()
    };
    Some(format!(
        "Cheapest when PTUs are {}.{verdict}",
        parts.join("; ")
    ))
}
