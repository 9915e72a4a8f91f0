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
        if let Some(timer) = self.timer(offset) {
            timer.await;
        }
    }

    /// A timer that fires `offset` after start, or None when that time has already been reached.
    ///
    /// The check comes first because tokio rounds a deadline up to its next 1 ms timer tick: a
    /// zero-latency plan would otherwise wait up to a millisecond for a time already reached.
    pub fn timer(&self, offset: Duration) -> Option<tokio::time::Sleep> {
        if self.now() >= offset {
            return None;
        }
        Some(match self.start.checked_add(offset) {
            Some(deadline) => tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)),
            // Beyond what `Instant` can hold: tokio clamps this to its far future (never, here).
            None => tokio::time::sleep(Duration::MAX),
        })
    }

    /// Seconds since the Unix epoch (for `created`).
    pub fn unix_seconds(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    #[tokio::test]
    async fn a_time_already_reached_is_not_waited_for() {
        let clock = Clock::start();
        let reached = clock.now();
        let mut sleep = std::pin::pin!(clock.sleep_until(reached));
        // Ready on the first poll, without a round trip through tokio's millisecond timer wheel.
        let first_poll = sleep.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(first_poll, Poll::Ready(()));
        assert!(clock.timer(reached).is_none());
        assert!(clock.timer(reached + Duration::from_secs(60)).is_some());
    }
}
