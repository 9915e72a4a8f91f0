//! [`Shard`]: `--shard K/N`, shard K (0-based) of N, and the one rule every sharded command
//! applies to pick its items: item `i` (a strategy, a sweep cell, a planned strategy, a
//! request of the schedule) belongs to shard `i mod N`. One rule for everything keeps the split
//! easy to state and check (`merge` verifies that N shards together hold every item exactly
//! once), spreads items of unequal cost (a grid's slowest axis, a long strategy) evenly, and
//! on a schedule it is a deterministic thinning: shard K sends every N-th request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Most shards a run may be split into (a Kubernetes Indexed Job allows 100,000 completions;
/// a bound keeps a typo such as `0/1000000000` from being taken at its word).
pub const MAX_SHARDS: u32 = 100_000;

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// K: which shard, from 0.
    pub index: u32,
    /// N: how many shards the run is split into.
    pub count: u32,
}

/// Why a `--shard` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard {text:?}: {reason}")]
pub struct ShardParseError {
    text: String,
    reason: &'static str,
}

impl Shard {
    /// The whole run as one shard (`0/1`).
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether item `item` belongs to this shard (`item mod N == K`).
    pub fn owns(self, item: u64) -> bool {
        item % u64::from(self.count) == u64::from(self.index)
    }

    /// The shard that owns item `item` among `count` shards.
    pub fn owner(item: u64, count: u32) -> u32 {
        // `item mod count` < count, which fits a u32.
        (item % u64::from(count.max(1))) as u32
    }

    /// The positions of `0..len` this shard owns, in order.
    pub fn positions(self, len: usize) -> Vec<usize> {
        (0..len).filter(|&i| self.owns(i as u64)).collect()
    }

    /// The items of `items` this shard owns, in order.
    pub fn pick<T>(self, items: impl IntoIterator<Item = T>) -> impl Iterator<Item = T> {
        items
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.owns(*i as u64))
            .map(|(_, item)| item)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardParseError;

    /// `K/N` with 0 ≤ K < N ≤ [`MAX_SHARDS`], e.g. `0/4` (a Kubernetes Indexed Job's
    /// `$(JOB_COMPLETION_INDEX)/4`).
    fn from_str(text: &str) -> Result<Shard, ShardParseError> {
        let refuse = |reason| ShardParseError {
            text: text.to_string(),
            reason,
        };
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| refuse("expected K/N, e.g. 0/4 (shard K of N, K from 0)"))?;
        let index: u32 = index
            .trim()
            .parse()
            .map_err(|_| refuse("K is not a whole number"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| refuse("N is not a whole number"))?;
        if count == 0 || count > MAX_SHARDS {
            return Err(refuse("N must be 1 to 100000"));
        }
        if index >= count {
            return Err(refuse("K must be below N (shards count from 0)"));
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_refuses_the_rest_with_the_value() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(" 0 / 1 ".parse(), Ok(Shard::WHOLE));
        for bad in ["4/4", "1", "a/2", "1/0", "-1/2", "0/100001", ""] {
            let error = bad.parse::<Shard>().expect_err(bad).to_string();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn n_shards_hold_every_item_exactly_once() {
        for count in 1..=5 {
            let mut seen = vec![0u32; 23];
            for index in 0..count {
                let shard = Shard { index, count };
                for position in shard.positions(seen.len()) {
                    seen[position] += 1;
                    assert_eq!(Shard::owner(position as u64, count), index);
                }
                assert_eq!(shard.pick(0..23).collect::<Vec<_>>(), shard.positions(23));
            }
            assert!(seen.iter().all(|&n| n == 1), "{count}: {seen:?}");
        }
    }
}
