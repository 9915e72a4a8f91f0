//! The split of a run into shards, as the drivers need it: [`Shard`] (`--shard K/N` and the
//! one rule "item `i` belongs to shard `i mod N`"), a live shard's part of the seeded schedule
//! ([`shard_schedule`]) and the shared start instant ([`StartAt`]). A leaf the live engine and
//! the sharded commands both use; writing and merging shard folders is `crate::shard`'s.

mod schedule;
mod spec;
mod start;

pub use schedule::shard_schedule;
pub use spec::{MAX_SHARDS, Shard, ShardParseError};
pub use start::{START_PAST_TOLERANCE, StartAt, StartAtParseError, Started};
