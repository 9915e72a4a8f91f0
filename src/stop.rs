//! [`StopFlag`]: how a caller asks synchronous runs (strategies of `sim`, cells of a sweep,
//! candidate fleets of a plan) to stop early — the command line raises it on SIGINT or
//! SIGTERM. Workers poll it between strategies and, inside a strategy, every
//! [`POLL_EVERY`] events, so a stop takes effect within milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Events the simulator processes between two looks at the flag.
pub const POLL_EVERY: u32 = 4096;

/// A shared "stop now" flag (cheap to clone; every clone sees the same flag).
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// A flag that is not raised.
    pub fn new() -> StopFlag {
        StopFlag::default()
    }

    /// Ask every holder to stop.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
