//! throttlebox: replay Azure OpenAI balancing strategies and circuit breakers on the same
//! workload, against a faithful mock, in virtual time (`sim`) and over real sockets (`live`).
//!
//! Everything that decides is pure and takes `now` and a seeded RNG (see README, Architecture);
//! the simulator and the live shells are two drivers of the same code.

pub use aoai_mock::duration;

pub mod balance;
pub mod calibrate;
pub mod client;
pub mod conformance;
pub mod gate;
pub mod live;
pub mod metrics;
pub mod parallel;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod seed;
pub mod shard;
pub mod sim;
pub mod split;
pub mod stop;
pub mod sweep;
pub mod tune;
pub mod workload;
