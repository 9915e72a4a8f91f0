//! The shell's only access to the wall clock: time since start (the model's `now`), sleeping
//! until a planned offset, and the Unix time for `created` fields.
#![allow(clippy::disallowed_types)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wall clock anchored at server start.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn start() -> Clock {
        Clock {
            start: Instant::now(),
        }
    }

    /// Time since start.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Sleep until `offset` after start (returns at once if it has passed).
    pub async fn sleep_until(&self, offset: Duration) {
        match self.start.checked_add(offset) {
            Some(deadline) => {
                tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await
            }
            None => std::future::pending().await,
        }
    }

    /// Seconds since the Unix epoch (for `created`).
    pub fn unix_seconds(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}
