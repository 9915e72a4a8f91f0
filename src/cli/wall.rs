//! The command line's only use of the wall clock: naming result folders and timing runs for
//! progress output. Nothing here reaches the simulator.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant, SystemTime};

/// A stopwatch.
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Start now.
    pub fn start() -> Self {
        Stopwatch(Instant::now())
    }

    /// Time since start.
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// `YYYYmmddTHHMMSSZ` (UTC) for folder names.
pub fn timestamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
}
