//! `--start-at`: the wall-clock instant every shard of a live run starts its schedule at, so
//! the N shards' parts of one schedule line up at the target. The only clock module of the
//! shard layer: it reads the system clock to parse, compare and wait; nothing else here does.
//!
//! A shard that reaches the instant late (a pod scheduled after it, a slow image pull) still
//! takes the instant as its time zero, so every request it sends is late by at least that much
//! — which its send lag records and `validity` judges — rather than silently shifting its part
//! of the schedule against the other shards'.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far in the past a `--start-at` may be when a shard reads it and still run (late, which
/// its send lag and the merge's start-skew check then show): a pod or process that starts
/// later than that was not part of a coordinated start, and is refused.
pub const START_PAST_TOLERANCE: Duration = Duration::from_secs(1);

/// A shared start instant (UTC), to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StartAt {
    since_epoch: Duration,
}

/// Why a `--start-at` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--start-at {text:?}: {reason} (expected RFC 3339 in UTC, e.g. 2026-12-07T10:00:00Z)")]
pub struct StartAtParseError {
    text: String,
    reason: String,
}

/// How the wait for the start ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The instant came; the caller woke this long after it (the time the system clock read
    /// past it; zero when it was on time to the clock's resolution).
    At {
        /// How late the wait ended.
        late: Duration,
    },
    /// The stop future completed first.
    Stopped,
}

impl StartAt {
    /// The instant `since_epoch` after 1970-01-01T00:00:00Z.
    pub fn from_unix(since_epoch: Duration) -> StartAt {
        StartAt { since_epoch }
    }

    /// Time since the Unix epoch.
    pub fn since_epoch(self) -> Duration {
        self.since_epoch
    }

    /// Now, by the system clock.
    pub fn now() -> StartAt {
        StartAt {
            since_epoch: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        }
    }

    /// `Ok(time left)` before the instant, `Err(time past it)` at or after it.
    pub fn remaining(self) -> Result<Duration, Duration> {
        let now = StartAt::now().since_epoch;
        match self.since_epoch.checked_sub(now) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(now - self.since_epoch),
        }
    }

    /// Refuse an instant more than `tolerance` in the past (a clear message for the command
    /// line: the instant, how long ago it was, and what to give instead).
    pub fn refuse_if_past(self, tolerance: Duration) -> Result<(), String> {
        match self.remaining() {
            Err(past) if past > tolerance => Err(format!(
                "--start-at {self}: that instant was {} ago (more than the {} tolerance): give every shard one start instant still to come, e.g. a minute ahead (`date -u -d +1min +%FT%TZ`)",
                humantime::format_duration(Duration::from_millis(past.as_millis() as u64)),
                humantime::format_duration(tolerance),
            )),
            _ => Ok(()),
        }
    }

    /// Wait until the instant by the system clock (sleeping on the runtime's timer and
    /// re-reading the clock, so a clock step while waiting is followed), or until `stop`
    /// completes.
    pub async fn wait(self, stop: impl Future<Output = ()>) -> Started {
        tokio::pin!(stop);
        loop {
            let left = match self.remaining() {
                Ok(left) => left,
                Err(late) => return Started::At { late },
            };
            // Re-read the clock at least every second (a stepped clock) and at the end.
            let nap = left.min(Duration::from_secs(1));
            tokio::select! {
                () = tokio::time::sleep(nap) => {}
                () = &mut stop => return Started::Stopped,
            }
        }
    }
}

impl fmt::Display for StartAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = UNIX_EPOCH + self.since_epoch;
        write!(f, "{}", humantime::format_rfc3339_millis(time))
    }
}

impl FromStr for StartAt {
    type Err = StartAtParseError;

    fn from_str(text: &str) -> Result<StartAt, StartAtParseError> {
        let refuse = |reason: String| StartAtParseError {
            text: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        if !trimmed.ends_with(['Z', 'z']) {
            return Err(refuse(
                "no time zone: give the instant in UTC with a trailing Z".to_string(),
            ));
        }
        let time = humantime::parse_rfc3339_weak(trimmed).map_err(|e| refuse(e.to_string()))?;
        let since_epoch = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| refuse("before 1970".to_string()))?;
        Ok(StartAt { since_epoch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_rfc3339_and_refuses_the_rest_with_the_value() {
        let at: StartAt = "2026-12-07T10:00:00.250Z".parse().unwrap();
        assert_eq!(
            at.since_epoch(),
            Duration::from_secs(1_796_637_600) + Duration::from_millis(250)
        );
        assert_eq!(at.to_string(), "2026-12-07T10:00:00.250Z");
        for bad in [
            "2026-12-07T10:00:00",
            "tomorrow",
            "2026-13-07T10:00:00Z",
            "",
        ] {
            let error = bad.parse::<StartAt>().expect_err(bad).to_string();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[tokio::test]
    async fn a_past_instant_starts_at_once_late_and_a_stop_ends_the_wait() {
        let past = StartAt::from_unix(StartAt::now().since_epoch() - Duration::from_secs(5));
        match past.wait(std::future::pending()).await {
            Started::At { late } => assert!(late >= Duration::from_secs(5), "{late:?}"),
            Started::Stopped => panic!("nothing stopped it"),
        }
        let far = StartAt::from_unix(StartAt::now().since_epoch() + Duration::from_secs(3600));
        assert_eq!(far.wait(std::future::ready(())).await, Started::Stopped);
        assert!(far.remaining().is_ok());
        assert_eq!(far.refuse_if_past(START_PAST_TOLERANCE), Ok(()));
        let error = past
            .refuse_if_past(START_PAST_TOLERANCE)
            .expect_err("5 s in the past");
        assert!(error.contains(&past.to_string()), "{error}");
        assert!(error.contains("ago"), "{error}");
    }
}
