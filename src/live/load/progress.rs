//! The progress line of a load run, on stderr once a second (wall time): elapsed wall and
//! scenario time, requests sent, in flight, dropped and done, client-visible 429s, and the p99
//! end-to-end latency so far (scenario time, from the intended send).
//!
//! The collector composes the line; a printer thread of its own writes it. A terminal that
//! stops reading (a paused terminal, a full pipe) blocks only that thread: the collector offers
//! it one line at a time and skips a line the printer is not ready for.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
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
    printer: Option<(SyncSender<String>, JoinHandle<()>)>,
}

impl Progress {
    /// Progress for `label`, printed by a thread started here (none if it cannot be started:
    /// the run goes on without progress lines).
    pub fn new(label: String, clock: LiveClock, counters: Arc<Counters>) -> Progress {
        let (printer, lines) = sync_channel(1);
        let printer = std::thread::Builder::new()
            .name("tb-progress".to_string())
            .spawn(move || print_lines(&lines))
            .ok()
            .map(|thread| (printer, thread));
        Progress {
            label,
            clock,
            counters,
            done: 0,
            throttled: 0,
            e2e: LatencyHistogram::new(),
            next_print: Duration::from_secs(1),
            printer,
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

    /// Offer a line to the printer if a second has passed since the last one (skipped if the
    /// printer is still busy with an earlier line).
    pub fn tick(&mut self) {
        if self.clock.wall_elapsed() >= self.next_print {
            let line = self.line();
            if let Some((printer, _)) = &self.printer {
                let _ = printer.try_send(line);
            }
        }
    }

    /// Print the final line and wait until the printer has written it (so it comes before
    /// whatever the command prints next). Called once every record is folded: nothing waits
    /// on this but the end of the run.
    pub fn finish(mut self) {
        let line = self.line();
        if let Some((printer, thread)) = self.printer.take() {
            let _ = printer.send(line);
            drop(printer);
            let _ = thread.join();
        }
    }

    fn line(&mut self) -> String {
        let wall = self.clock.wall_elapsed();
        self.next_print = wall + Duration::from_secs(1);
        let p99 = self
            .e2e
            .quantile(0.99)
            .map_or("-".to_string(), |p99| format!("{:.3}s", p99.as_secs_f64()));
        format!(
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
        )
    }
}

/// The printer thread: every line it is handed, on stderr, until the collector hangs up.
fn print_lines(lines: &Receiver<String>) {
    for line in lines {
        eprintln!("{line}");
    }
}
