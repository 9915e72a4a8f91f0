//! The discrete-event simulator: the scenario's workload replayed through each strategy against
//! the mock fleet's pure model, in virtual time. Events sit in a calendar queue ordered by
//! (time, sequence); the very code the live mock and gateway run decides every admission, 429,
//! retry-after, breaker trip and retry. Memory is bounded by the requests in flight: records
//! stream to a [`crate::report::RecordSink`] as they are produced. A [`StopFlag`] stops a run
//! early; what finished is kept.

mod engine;
mod events;
mod flight;
mod observe;
mod run;

pub use crate::stop::{POLL_EVERY, StopFlag};
pub use engine::{Recorded, Recording, SimError, StrategyOutcome, simulate_strategy};
pub use run::{ExtraFiles, Selection, SimRun, run_all, run_all_until, run_selected_until};
