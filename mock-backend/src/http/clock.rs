//! The shell's only access to the wall clock: time since start (the model's `now`), sleeping
//! until a planned offset, and the Unix time for `created` fields.
//!
//! A clock may run `scale` times faster than the wall clock (live runs that compress scenario
//! time): `now` is wall time since start × `scale`, and sleeping until an offset sleeps until
//! start + offset / `scale`. Every time the model sees stays in scenario time.
#![allow(clippy::disallowed_types)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Wall clock anchored at server start, optionally compressed.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    scale: f64,
}

impl Clock {
    /// A clock whose zero is now, running at wall-clock speed.
    pub fn start() -> Clock {
        Clock::scaled(1.0)
    }

    /// A clock whose zero is now, running `scale` times faster than the wall clock (a scale
    /// that is not finite and positive counts as 1).
    pub fn scaled(scale: f64) -> Clock {
        Clock {
            start: Instant::now(),
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    /// How many times faster than the wall clock this clock runs.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The wall-clock instant of this clock's zero (for shells that share the epoch).
    pub fn epoch(&self) -> Instant {
        self.start
    }

    /// Time since start (scenario time).
    pub fn now(&self) -> Duration {
        let wall = self.start.elapsed();
        if self.scale == 1.0 {
            wall
        } else {
            wall.mul_f64(self.scale)
        }
    }

    /// Sleep until `offset` (scenario time) after start (returns at once if it has passed).
    pub async fn sleep_until(&self, offset: Duration) {
        if let Some(timer) = self.timer(offset) {
            timer.await;
        }
    }

    /// A timer that fires `offset` (scenario time) after start, or None when that time has
    /// already been reached.
    ///
    /// The check comes first because tokio rounds a deadline up to its next 1 ms timer tick: a
    /// zero-latency plan would otherwise wait up to a millisecond for a time already reached.
    pub fn timer(&self, offset: Duration) -> Option<tokio::time::Sleep> {
        if self.now() >= offset {
            return None;
        }
        let wall = if self.scale == 1.0 {
            Some(offset)
        } else {
            Duration::try_from_secs_f64(offset.as_secs_f64() / self.scale).ok()
        };
        Some(match wall.and_then(|wall| self.start.checked_add(wall)) {
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

    #[test]
    fn a_scaled_clock_runs_faster_and_bad_scales_count_as_one() {
        assert_eq!(Clock::scaled(0.0).scale(), 1.0);
        assert_eq!(Clock::scaled(f64::NAN).scale(), 1.0);
        let clock = Clock::scaled(50.0);
        let wall = clock.epoch().elapsed();
        let now = clock.now();
        assert!(now >= wall.mul_f64(50.0), "{now:?} vs wall {wall:?}");
    }
}
