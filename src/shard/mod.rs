//! Sharded runs: one run split over N processes (or N pods of a Kubernetes Indexed Job) and
//! merged back exactly.
//!
//! Uses the split rule of `crate::split` ([`Shard`]: item `i` belongs to shard `i mod N`). Owns what each shard
//! records about itself (`shard.json`: [`ShardManifest`], written through [`ShardIdentity`]),
//! the checks that shards belong together ([`read_shards`]) and the merges
//! ([`merge_strategy_shards`], [`merge_sweep_shards`], [`merge_live_shards`]) that rebuild the
//! unsharded run's files through the ordinary writers, and the pooling of `tune --shard K/N`
//! searches ([`merge_tune_shards`], a `starts` split: an independent multi-start search whose
//! merged recommendation is the best of the shards' evaluations, not the unsharded tune's).
//!
//! **What a shard splits.** `sim --shard K/N` runs whole strategies (a `strategies` split), and
//! `sweep`/`plan --shard K/N` whole cells and planned strategies — never part of a simulation's
//! requests: in a simulation every backend must see the whole load (its quota windows, PTU
//! bucket and breakers react to all of it), so a shard simulating a part of the requests
//! against its own model of the fleet would change the physics, not share the work. The live
//! open-loop engine is different: there one real fleet (or gateway) takes the union of every
//! shard's requests, so live shards split the schedule's requests ([`shard_schedule`], a
//! `requests` split), start together at [`StartAt`], and ship their running totals
//! ([`crate::metrics::StrategyTotals`]) so the merge can recompute the whole run's summary.
//!
//! Reads the wall clock only in [`StartAt`] (the shared start of live shards); otherwise pure
//! apart from reading and writing the shard folders.

mod digest;
mod error;
mod folders;
mod live_verdict;
mod manifest;
mod merge_live;
mod merge_run;
mod merge_sweep;
mod merge_tune;
mod ordered_rows;
mod records;
mod series_sum;
mod totals;
mod write;

pub use crate::split::{
    MAX_SHARDS, START_PAST_TOLERANCE, Shard, ShardParseError, StartAt, StartAtParseError, Started,
    shard_schedule,
};
pub use digest::{Fnv64, ScheduleDigest, scenario_digest, schedule_digest};
pub use error::ShardError;
pub use folders::{ShardFolder, read_shards};
pub use live_verdict::START_SKEW_LIMIT_WALL;
pub use manifest::{
    AxisRecord, LivePart, SHARD_FORMAT, SHARD_JSON, SetupRecord, ShardManifest, Split,
    StrategyPart, SweepPart, TunePart, TuneSetup,
};
pub use merge_live::merge_live_shards;
pub use merge_run::merge_strategy_shards;
pub use merge_sweep::{MergedSweep, merge_sweep_shards};
pub use merge_tune::merge_tune_shards;
pub use write::{ShardIdentity, without_shard_flag};
