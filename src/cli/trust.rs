//! Saying on the terminal whether a run can be trusted, and the exit code that follows: the
//! reasons of every invalid strategy and an interruption, after the table.

use throttlebox::report::Summary;

use super::Outcome;
use super::signals::Signal;

/// Print why `summary` cannot be trusted (nothing when it can); true when it cannot.
pub fn print_distrust(summary: &Summary) -> bool {
    if summary.strategies.is_empty() {
        eprintln!("stopped before any strategy finished: nothing to write");
        return true;
    }
    let lines = summary.distrust();
    if !lines.is_empty() {
        eprintln!("this run cannot be trusted as it stands:");
        for line in &lines {
            eprintln!("  - {line}");
        }
    }
    !lines.is_empty()
}

/// The exit outcome of a run command: the signal that stopped it first (130/143), then an
/// untrusted run under `--strict` (3), then a missed SLO under `--check-slo` (1).
pub fn run_outcome(
    signal: Option<Signal>,
    summary: &Summary,
    strict: bool,
    check_slo: bool,
) -> Outcome {
    let untrusted = print_distrust(summary);
    let slo_failed = summary
        .strategies
        .iter()
        .any(|strategy| strategy.slo.iter().any(|verdict| !verdict.pass));
    if let Some(signal) = signal {
        Outcome::Interrupted(signal)
    } else if strict && untrusted {
        Outcome::Untrusted
    } else if check_slo && slo_failed {
        Outcome::Failed
    } else {
        Outcome::Ok
    }
}
