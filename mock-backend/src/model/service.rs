//! FIFO service model: `concurrency` slots, each free from some time on. A request starts at
//! `max(now, earliest free)` and holds that slot for its service time. Kept as a small heap of
//! free-at times (no per-request scan).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// The slots of one deployment.
#[derive(Debug, Clone)]
pub struct ServiceSlots {
    free_at: BinaryHeap<Reverse<Duration>>,
}

impl ServiceSlots {
    /// `concurrency` slots, all free from time zero.
    pub fn new(concurrency: u32) -> ServiceSlots {
        ServiceSlots {
            free_at: (0..concurrency.max(1))
                .map(|_| Reverse(Duration::ZERO))
                .collect(),
        }
    }

    /// Number of slots.
    #[cfg(test)]
    pub fn concurrency(&self) -> u32 {
        self.free_at.len() as u32
    }

    /// Resize to `concurrency` slots (admin patch): added slots are free now, removed ones are
    /// the latest-free.
    pub fn resize(&mut self, concurrency: u32) {
        let mut times: Vec<Duration> = self.free_at.drain().map(|Reverse(t)| t).collect();
        times.sort();
        times.resize(concurrency.max(1) as usize, Duration::ZERO);
        self.free_at = times.into_iter().map(Reverse).collect();
    }

    /// Reserve a slot for a request arriving at `now` that needs `service`; returns the wait.
    pub fn reserve(&mut self, now: Duration, service: Duration) -> Duration {
        let earliest = self.free_at.pop().map_or(Duration::ZERO, |Reverse(t)| t);
        let start = now.max(earliest);
        self.free_at.push(Reverse(start.saturating_add(service)));
        start - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn requests_queue_fifo_behind_busy_slots() {
        let mut slots = ServiceSlots::new(2);
        assert_eq!(slots.reserve(s(0), s(10)), s(0));
        assert_eq!(slots.reserve(s(0), s(4)), s(0));
        // Both busy: the next waits for the slot free at 4 s, the one after for 8 s (4 + 4)...
        assert_eq!(slots.reserve(s(1), s(4)), s(3));
        assert_eq!(slots.reserve(s(1), s(1)), s(7));
        // ...and one arriving after everything drained does not wait.
        assert_eq!(slots.reserve(s(100), s(1)), s(0));
    }

    #[test]
    fn resizing_keeps_the_earliest_free_slots() {
        let mut slots = ServiceSlots::new(1);
        slots.reserve(s(0), s(10));
        slots.resize(2);
        assert_eq!(slots.concurrency(), 2);
        assert_eq!(slots.reserve(s(1), s(1)), s(0), "the added slot is free");
        assert_eq!(slots.reserve(s(1), s(1)), s(1), "then the one free at 2 s");
    }
}
