//! The progress line of a load run, on stderr once a second (wall time): elapsed wall and
//! scenario time, requests sent, in flight, dropped and done, client-visible 429s, and the p99
//! end-to-end latency so far (scenario time, from the intended send).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Counters;
use crate::live::clock::LiveClock;
use crate::metrics::{ErrorClass, LatencyHistogram, RequestRecord};

/// Progress state (owned by the collector).
pub(crate) struct Progress {
    label: String,
    clock: LiveClock,
    counters: Arc<Counters>,
    done: u64,
    throttled: u64,
    e2e: LatencyHistogram,
    next_print: Duration,
}

impl Progress {
    pub fn new(label: String, clock: LiveClock, counters: Arc<Counters>) -> Progress {
        Progress {
            label,
            clock,
            counters,
            done: 0,
            throttled: 0,
            e2e: LatencyHistogram::new(),
            next_print: Duration::from_secs(1),
        }
    }

    /// Count a finished request.
    pub fn observe(&mut self, record: &RequestRecord) {
        self.done += 1;
        if record.error == ErrorClass::Throttled {
            self.throttled += 1;
        }
        self.e2e.record(record.e2e());
    }

    /// Print if a second has passed since the last line.
    pub fn tick(&mut self) {
        if self.clock.wall_elapsed() >= self.next_print {
            self.print();
        }
    }

    /// Print now.
    pub fn print(&mut self) {
        let wall = self.clock.wall_elapsed();
        self.next_print = wall + Duration::from_secs(1);
        let p99 = self
            .e2e
            .quantile(0.99)
            .map_or("-".to_string(), |p99| format!("{:.3}s", p99.as_secs_f64()));
        eprintln!(
            "  [{}] {:>6.1}s wall ({:.0}s scenario): sent {}, in flight {}, dropped {}, done {}, 429s {}, p99 {}",
            self.label,
            wall.as_secs_f64(),
            self.clock.now().as_secs_f64(),
            self.counters.sent.load(Ordering::Relaxed),
            self.counters.in_flight.load(Ordering::Relaxed),
            self.counters.dropped.load(Ordering::Relaxed),
            self.done,
            self.throttled,
            p99
        );
    }
}
