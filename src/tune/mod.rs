//! `throttlebox tune`: search a strategy's settings (breaker, retry, any `--set` key) for the
//! best objective under constraints, instead of gridding them, and recommend a setting that is
//! robust — good over several seeds with common random numbers (judged on confidence
//! intervals) and not on a cliff edge (its neighbours meet the constraints too).
//!
//! Owns the search space ([`param`]), the objective and the judging rule ([`judge`]), the
//! statistics over seeds ([`stats`]), the initial design ([`design`]), evaluation with a
//! budget in simulated requests ([`evaluate`]), the search ([`search`]), the neighbourhood
//! checks ([`robust`]) and the outputs: the config fragments to paste ([`fragment`]),
//! `tune.json`/`tune.md` ([`output`]) and `tune.html` ([`html`]). Every decision depends on simulated figures only, so the same inputs
//! give byte-identical outputs on any machine.

mod choice;
pub mod design;
pub mod error;
pub mod evaluate;
pub mod fragment;
pub mod html;
pub mod judge;
pub mod output;
pub mod param;
pub mod pool;
mod ranking;
mod robust;
pub mod search;
pub mod stats;

pub use error::TuneError;
pub use evaluate::{Evaluation, Fidelity, Setting, Stage};
pub use html::{tune_chart_ids, tune_html};
pub use judge::{JudgeRule, Objective};
pub use output::{TUNE_HTML, TUNE_JSON, TUNE_MD, tune_json, tune_markdown};
pub use param::{Domain, Param};
pub use pool::{ShardSearch, Shared, pool};
pub use search::{Check, MergedFrom, TuneRequest, TuneRun, shard_budget, tune};
pub use stats::Estimate;

/// Simulated requests one CPU-second buys, for `--budget-cpu`: a conservative figure (a
/// release build now replays about 600,000 per CPU-second of the embedded default scenario's
/// ten-minute runs, per-run costs included, on the reference machine: BENCHMARKS.md,
/// "Tuning"), kept so existing budgets keep their search paths. The budget is turned into
/// requests before the search starts, so the result never depends on the machine.
pub const REQUESTS_PER_CPU_SECOND: u64 = 150_000;
