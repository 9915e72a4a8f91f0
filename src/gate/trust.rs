//! Refusing runs that cannot be trusted. Before any rule is judged, every run given (RUN and
//! its `--runs` repeats) must have finished (not `interrupted`) and every strategy in it must
//! be valid (`validity.valid`): a gate on figures the load generator itself distorted would
//! pass or fail for the wrong reason. A refusal is a verdict of its own — one failing
//! `trust.*` case per reason — that the command reports with exit code 3, not 1.

use super::judge::{GateVerdict, RuleCase, Status};
use crate::report::Summary;

/// Prefix of the rules of a refusal.
pub const TRUST_RULE_PREFIX: &str = "trust.";

fn case(strategy: &str, rule: &str, run: &str, message: String) -> RuleCase {
    RuleCase {
        strategy: strategy.to_string(),
        rule: format!("{TRUST_RULE_PREFIX}{rule}"),
        status: Status::Fail,
        expected: "a complete, valid run".to_string(),
        actual: run.to_string(),
        change: String::new(),
        message,
    }
}

/// The refusal of `runs` (`(folder, summary)`, the run first), or None when every run can be
/// trusted.
pub fn refusal(runs: &[(String, Summary)]) -> Option<GateVerdict> {
    let mut cases = Vec::new();
    for (folder, summary) in runs {
        if summary.interrupted {
            cases.push(case(
                "(run)",
                "interrupted",
                folder,
                format!(
                    "{folder} was interrupted: {} of {} strategies written",
                    summary.strategies.len(),
                    summary.strategies_planned
                ),
            ));
        }
        for strategy in &summary.strategies {
            for reason in &strategy.validity.reasons {
                cases.push(case(
                    &strategy.name,
                    "validity",
                    folder,
                    format!("{folder}: {reason}"),
                ));
            }
        }
    }
    let (_, first) = runs.first()?;
    (!cases.is_empty()).then(|| GateVerdict {
        scenario: first.scenario.clone(),
        seed: first.seed,
        mode: first.mode,
        runs: runs.len(),
        cases,
    })
}

impl GateVerdict {
    /// Whether this verdict refuses the run as untrustworthy (see [`refusal`]).
    pub fn refused(&self) -> bool {
        self.cases
            .iter()
            .any(|case| case.status == Status::Fail && case.rule.starts_with(TRUST_RULE_PREFIX))
    }
}
