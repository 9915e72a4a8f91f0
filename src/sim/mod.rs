//! The discrete-event simulator: the scenario's workload replayed through each strategy against
//! the mock fleet's pure model, in virtual time. Events sit in a heap ordered by (time,
//! sequence); the very code the live mock and gateway run decides every admission, 429,
//! retry-after, breaker trip and retry. Memory is bounded by the requests in flight: records
//! stream to a [`RecordSink`] as they are produced.

mod engine;
mod events;
mod flight;
mod observe;
mod run;
mod sink;

pub use engine::{SimError, StrategyOutcome, reason_label, simulate_strategy};
pub use observe::observation;
pub use run::{SimRun, run_all};
pub use sink::{CsvSink, DiscardSink, RecordSink};
