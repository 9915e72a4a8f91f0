//! The live shells' clock: scenario time since the run's zero, `scale` times faster than the
//! wall clock (`--time-scale`). It is the mock's own [`Clock`], so an in-process fleet, the
//! gateway and the load engine share one epoch and one scale: a planned offset means the same
//! instant to all three, and every time they record is already in scenario time.
//!
//! This is the only place the live shells read or wait on time; nothing pure sees it.

use std::future::Future;
use std::time::Duration;

use aoai_mock::http::clock::Clock;

/// Scenario time for the live shells.
#[derive(Debug, Clone, Copy)]
pub struct LiveClock {
    inner: Clock,
    /// Scenario time already elapsed at `inner`'s zero (a clock started late: see
    /// [`LiveClock::started_late`]).
    ahead: Duration,
}

/// A wait that ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl LiveClock {
    /// A clock whose zero is now, `time_scale` times faster than the wall clock.
    pub fn start(time_scale: f64) -> LiveClock {
        LiveClock {
            inner: Clock::scaled(time_scale),
            ahead: Duration::ZERO,
        }
    }

    /// A clock whose zero was `late` (wall time) ago: a shard of a live run that woke after
    /// the shared `--start-at` instant keeps that instant as its zero, so every request it
    /// sends is late by at least that much (and its send lag says so).
    pub fn started_late(time_scale: f64, late: Duration) -> LiveClock {
        let inner = Clock::scaled(time_scale);
        LiveClock {
            ahead: late.mul_f64(inner.scale()),
            inner,
        }
    }

    /// The clock of an in-process mock fleet (same zero, same scale).
    pub fn sharing(mock: Clock) -> LiveClock {
        LiveClock {
            inner: mock,
            ahead: Duration::ZERO,
        }
    }

    /// How many times faster than the wall clock scenario time runs.
    pub fn scale(&self) -> f64 {
        self.inner.scale()
    }

    /// Scenario time since the zero.
    pub fn now(&self) -> Duration {
        self.inner.now().saturating_add(self.ahead)
    }

    /// Wall time since the zero (progress output).
    pub fn wall_elapsed(&self) -> Duration {
        self.wall_span(self.now())
    }

    /// The wall-clock length of a scenario-time span.
    pub fn wall_span(&self, scenario: Duration) -> Duration {
        Duration::try_from_secs_f64(scenario.as_secs_f64() / self.scale()).unwrap_or(Duration::MAX)
    }

    /// Sleep until scenario time `at` (at once if it has passed).
    pub async fn sleep_until(&self, at: Duration) {
        self.inner.sleep_until(at.saturating_sub(self.ahead)).await;
    }

    /// Block this (non-async) thread for `wall` of wall time: a batching interval for a
    /// thread that polls (the load engine's record collector), never a synchronisation.
    #[allow(clippy::disallowed_methods)]
    pub fn pause_thread(wall: Duration) {
        std::thread::sleep(wall);
    }

    /// Sleep for a scenario-time span.
    pub async fn sleep(&self, span: Duration) {
        self.sleep_until(self.now().saturating_add(span)).await;
    }

    /// Run `future` until scenario time `deadline`; `Err(Elapsed)` if it is not done by then.
    pub async fn deadline<F: Future>(
        &self,
        deadline: Duration,
        future: F,
    ) -> Result<F::Output, Elapsed> {
        tokio::select! {
            output = future => Ok(output),
            () = self.sleep_until(deadline) => Err(Elapsed),
        }
    }

    /// Run `future` for at most a scenario-time span.
    pub async fn timeout<F: Future>(
        &self,
        span: Duration,
        future: F,
    ) -> Result<F::Output, Elapsed> {
        self.deadline(self.now().saturating_add(span), future).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_convert_between_scenario_and_wall_time() {
        let clock = LiveClock::start(20.0);
        assert_eq!(
            clock.wall_span(Duration::from_secs(10)),
            Duration::from_millis(500)
        );
        assert_eq!(
            LiveClock::start(1.0).wall_span(Duration::from_millis(7)),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn a_clock_started_late_is_ahead_by_the_lateness_in_scenario_time() {
        let clock = LiveClock::started_late(10.0, Duration::from_millis(300));
        let now = clock.now();
        assert!(now >= Duration::from_secs(3), "{now:?}");
        assert!(now < Duration::from_secs(60), "{now:?}");
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_expires_and_a_ready_future_wins() {
        let clock = LiveClock::start(1000.0);
        assert_eq!(
            clock
                .deadline(Duration::ZERO, std::future::pending::<()>())
                .await,
            Err(Elapsed)
        );
        assert_eq!(
            clock.timeout(Duration::from_secs(60), async { 7 }).await,
            Ok(7)
        );
    }
}
