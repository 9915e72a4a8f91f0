//! CI regression gates: judge a run (`results/<run>/summary.json`) against its absolute SLOs
//! and against a committed baseline (`results/baselines/NAME.json`) with per-metric budgets,
//! and write the verdict as JUnit XML and Markdown. A run that cannot be trusted (interrupted,
//! or a strategy whose validity failed) is refused before anything is judged ([`refusal`]).
//!
//! Simulator runs are deterministic and compared exactly; live runs are compared over repeated
//! runs with a Mann–Whitney U test and an effect-size budget (see [`judge`]). This module only
//! reads summaries and writes verdicts: it never runs a scenario and never reads a clock.

pub mod baseline;
pub mod budget;
pub mod error;
pub mod judge;
pub mod junit;
pub mod mann_whitney;
pub mod markdown;
pub mod trust;

/// The metric vocabulary gates judge in (it lives in [`crate::report::metric`]).
pub use crate::report::metric::{Figures, METRICS, Metric, Unit, figures, metric};
pub use baseline::{
    BASELINE_VERSION, Baseline, BaselineStrategy, DEFAULT_ALPHA, GateSection, load_summary,
};
pub use budget::{Allowance, Budget, BudgetSet, DEFAULT_BUDGETS};
pub use error::GateError;
pub use judge::{GateVerdict, MIN_LIVE_RUNS, RuleCase, Status, judge};
pub use junit::junit_xml;
pub use mann_whitney::{Alternative, UTest, mann_whitney_u, normal_survival};
pub use markdown::gate_markdown;
pub use trust::{TRUST_RULE_PREFIX, refusal};

/// `gate.xml`, written into the run folder.
pub const GATE_XML: &str = "gate.xml";
/// `gate.md`, written into the run folder.
pub const GATE_MD: &str = "gate.md";
