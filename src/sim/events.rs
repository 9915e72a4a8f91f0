//! The event heap: events ordered by (time, sequence number), so simultaneous events run in the
//! order they were scheduled and every run replays identically.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// What happens at an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EventKind {
    /// Ask the strategy for the next step of request `slot` (first try, gateway retry wait,
    /// client retry).
    Dispatch { slot: u32, epoch: u32 },
    /// The current attempt's status and headers (or its failure) reach the gateway.
    Headers { slot: u32, epoch: u32 },
    /// The returned response's body ends.
    BodyEnd { slot: u32, epoch: u32 },
    /// Once per virtual second: utilization samples.
    Sample,
}

/// An event keyed by (time, sequence) packed into one integer: the time in nanoseconds in
/// the high half, the scheduling sequence in the low half. Sequence numbers are unique, so the
/// key alone orders events exactly as (time, seq) would, with one comparison per heap step.
#[derive(Debug, Clone, Copy)]
struct Event {
    key: u128,
    kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Event {}

impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Event {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl Event {
    fn at(&self) -> Duration {
        let nanos = (self.key >> 64) as u64;
        Duration::new(nanos / 1_000_000_000, (nanos % 1_000_000_000) as u32)
    }
}

/// Min-heap of events.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Reverse<Event>>,
    seq: u64,
}

impl EventQueue {
    /// Schedule `kind` at `at` (times beyond 584 years saturate, keeping their order of
    /// scheduling).
    pub fn push(&mut self, at: Duration, kind: EventKind) {
        self.seq += 1;
        let nanos = u64::try_from(at.as_nanos()).unwrap_or(u64::MAX);
        self.heap.push(Reverse(Event {
            key: (u128::from(nanos) << 64) | u128::from(self.seq),
            kind,
        }));
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<Duration> {
        self.heap.peek().map(|Reverse(event)| event.at())
    }

    /// Take the earliest event.
    pub fn pop(&mut self) -> Option<(Duration, EventKind)> {
        self.heap
            .pop()
            .map(|Reverse(event)| (event.at(), event.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_scheduling_order() {
        let mut queue = EventQueue::default();
        let s = Duration::from_secs;
        queue.push(s(2), EventKind::Sample);
        queue.push(s(1), EventKind::Headers { slot: 7, epoch: 0 });
        queue.push(s(1), EventKind::Dispatch { slot: 3, epoch: 0 });
        assert_eq!(queue.peek_time(), Some(s(1)));
        assert_eq!(
            queue.pop(),
            Some((s(1), EventKind::Headers { slot: 7, epoch: 0 }))
        );
        assert_eq!(
            queue.pop(),
            Some((s(1), EventKind::Dispatch { slot: 3, epoch: 0 }))
        );
        assert_eq!(queue.pop(), Some((s(2), EventKind::Sample)));
        assert_eq!(queue.pop(), None);
    }
}
