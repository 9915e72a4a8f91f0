//! The verdict as Markdown (`gate.md`) for a pull-request comment: the outcome first, the
//! failed rules next, then every rule in a table.

use std::fmt::Write as _;

use super::judge::{GateVerdict, RuleCase, Status};

/// The Markdown text of `verdict`; `baseline` names the baseline file in the heading.
pub fn gate_markdown(verdict: &GateVerdict, baseline: &str) -> String {
    let mut out = String::new();
    let failed: Vec<&RuleCase> = verdict.failures().collect();
    let outcome = if verdict.refused() {
        "⛔ REFUSED: the run cannot be trusted (nothing was judged)"
    } else if failed.is_empty() {
        "✅ PASS"
    } else {
        "❌ FAIL"
    };
    let _ = writeln!(out, "### throttlebox gate: {outcome}\n");
    let _ = writeln!(
        out,
        "Scenario `{}`, seed {}, {} mode ({} run{}), against `{baseline}`. {} rules, {} failed.\n",
        verdict.scenario,
        verdict.seed,
        verdict.mode.as_str(),
        verdict.runs,
        if verdict.runs == 1 { "" } else { "s" },
        verdict.cases.len(),
        failed.len()
    );
    if !failed.is_empty() {
        let _ = writeln!(out, "**Failed:**\n");
        for case in &failed {
            let _ = writeln!(
                out,
                "- `{}` / `{}`: {}",
                case.strategy, case.rule, case.message
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "| strategy | rule | expected | actual | change (budget) | verdict |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for case in &verdict.cases {
        let mark = match case.status {
            Status::Pass => "pass",
            Status::Fail => "**FAIL**",
            Status::Skipped => "skipped",
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {mark} |",
            escape(&case.strategy),
            case.rule,
            escape(&case.expected),
            escape(&case.actual),
            escape(&case.change),
        );
    }
    if verdict.mode == crate::report::Mode::Sim {
        let _ = writeln!(
            out,
            "\nSimulator runs are deterministic: an unchanged scenario and code give identical figures, so any change shown is caused by the change under review."
        );
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}
