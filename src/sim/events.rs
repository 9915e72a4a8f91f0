//! The event queue: events ordered by (time, sequence number), so simultaneous events run in the
//! order they were scheduled and every run replays identically.
//!
//! A calendar queue over the packed key `time << 64 | seq`, the time as `seconds << 30 |
//! nanoseconds` (ordered as the time is, and turned back into a `Duration` by a shift and a
//! mask rather than a division): time is cut into buckets of 2^23 ns (about 8 ms; 120 per
//! second, the last of each second short); a ring holds the bucket numbers of the next 16 s
//! (2^11 of them), unsorted, and the bucket being drained is sorted once when it becomes
//! current. Buckets are wide enough to hold a dozen or more events at a thousand requests per
//! second: the ring's live part (buckets and their buffers) stays small beside the flights,
//! where 1 ms buckets spread the same events over eight times as many buckets and cost the
//! 16-backend bench 13–21 % more CPU time (BENCHMARKS.md, seventh pass). Keys are unique, so
//! taking the smallest key of the current bucket (or of the few events scheduled into a bucket
//! already passed, kept in a small heap) hands events out exactly in the order a binary heap
//! on the same key gives, at a few instructions per event instead of a sift through thousands.
//! Events beyond the ring's horizon wait in a heap and move into the ring as it comes near.

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

/// An event keyed by (time, sequence) packed into one integer: the time ([`time_key`]) in
/// the high half, the scheduling sequence in the low half. Sequence numbers are unique, so the
/// key alone orders events exactly as (time, seq) would.
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
        let time = (self.key >> 64) as u64;
        // Keys hold valid nanoseconds: the bound only lets the compiler drop the carry.
        let nanos = (time & NANOS_MASK).min(999_999_999) as u32;
        Duration::new(time >> NANOS_BITS, nanos)
    }
}

/// Bits of a time key below the seconds: the nanoseconds (< 10^9 < 2^30).
const NANOS_BITS: u32 = 30;
const NANOS_MASK: u64 = (1 << NANOS_BITS) - 1;
/// The largest time key: 2^34 − 1 seconds (about 544 years) and 999,999,999 ns.
const MAX_TIME_KEY: u64 = (u64::MAX >> NANOS_BITS << NANOS_BITS) | 999_999_999;

/// The key of time `at`: `seconds << 30 | nanoseconds`, saturating at [`MAX_TIME_KEY`].
fn time_key(at: Duration) -> u64 {
    if at.as_secs() >> (64 - NANOS_BITS) != 0 {
        return MAX_TIME_KEY;
    }
    at.as_secs() << NANOS_BITS | u64::from(at.subsec_nanos())
}

/// Width of a calendar bucket: 2^23 ns (about 8 ms).
const BUCKET_SHIFT: u32 = 23;
/// Bucket numbers in the ring (2^11: 16 s ahead of the current bucket).
const RING: usize = 1 << 11;
const WORDS: usize = RING / 64;

/// The bucket number of `key`.
fn bucket_of(key: u128) -> u64 {
    ((key >> 64) as u64) >> BUCKET_SHIFT
}

/// Min-queue of events.
#[derive(Debug)]
pub(crate) struct EventQueue {
    /// The current bucket's events, sorted by key, largest first (the next event is last).
    current: Vec<Event>,
    /// Number of the current bucket.
    now_bucket: u64,
    /// Buckets `now_bucket + 1 .. now_bucket + RING`, at index `number % RING`, unsorted
    /// (arrays of a fixed length: an index masked to it needs no bounds check).
    ring: Box<[Vec<Event>; RING]>,
    /// Bit `i` set when `ring[i]` is not empty.
    occupied: Box<[u64; WORDS]>,
    /// Events in the ring.
    in_ring: usize,
    /// Events of buckets at or beyond `now_bucket + RING` (when they were scheduled).
    later: BinaryHeap<Reverse<Event>>,
    /// Events scheduled into a bucket before `now_bucket` (after the queue moved on to a
    /// later bucket to answer a peek): all earlier than every other event.
    early: BinaryHeap<Reverse<Event>>,
    seq: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue {
            current: Vec::new(),
            now_bucket: 0,
            // Built on the heap (an array this size on the stack would be 384 KiB).
            ring: (0..RING)
                .map(|_| Vec::new())
                .collect::<Box<[_]>>()
                .try_into()
                .unwrap_or_else(|_| unreachable!("RING buckets were collected")),
            occupied: Box::new([0; WORDS]),
            in_ring: 0,
            later: BinaryHeap::new(),
            early: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl EventQueue {
    /// Schedule `kind` at `at` (times beyond 544 years saturate, keeping their order of
    /// scheduling).
    #[inline]
    pub fn push(&mut self, at: Duration, kind: EventKind) {
        self.seq += 1;
        let event = Event {
            key: (u128::from(time_key(at)) << 64) | u128::from(self.seq),
            kind,
        };
        let bucket = bucket_of(event.key);
        // Nearly every event lands in the ring, after the current bucket and within its
        // reach (`1 <= bucket - now_bucket < RING`; an earlier bucket wraps round to a huge
        // difference): that case inline, the others out of line.
        if bucket.wrapping_sub(self.now_bucket).wrapping_sub(1) < RING as u64 - 1 {
            self.ring_push(bucket, event);
        } else {
            self.push_outside_ring(bucket, event);
        }
    }

    /// [`Self::push`] of an event into the current bucket, an earlier one or one beyond the
    /// ring's reach.
    #[cold]
    #[inline(never)]
    fn push_outside_ring(&mut self, bucket: u64, event: Event) {
        if bucket == self.now_bucket {
            // Keep the current bucket sorted (largest key first).
            let at = self.current.partition_point(|other| other.key > event.key);
            self.current.insert(at, event);
        } else if bucket < self.now_bucket {
            self.early.push(Reverse(event));
        } else {
            // `RING` or more buckets ahead (the nearer ones went to the ring).
            self.later.push(Reverse(event));
        }
    }

    #[inline]
    fn ring_push(&mut self, bucket: u64, event: Event) {
        let index = (bucket % RING as u64) as usize;
        self.ring[index].push(event);
        self.occupied[index / 64] |= 1 << (index % 64);
        self.in_ring += 1;
    }

    /// The number of the first occupied ring bucket after the current one, if any.
    fn next_in_ring(&self) -> Option<u64> {
        if self.in_ring == 0 {
            return None;
        }
        let start = ((self.now_bucket + 1) % RING as u64) as usize;
        // Scan the words from `start` round the ring (the start word twice: its high bits
        // first, its low bits last).
        let mut word = start / 64;
        let mut bits = self.occupied[word] & (u64::MAX << (start % 64));
        for _ in 0..=WORDS {
            if bits != 0 {
                let index = word * 64 + bits.trailing_zeros() as usize;
                let ahead = (index + RING - start) % RING;
                return Some(self.now_bucket + 1 + ahead as u64);
            }
            word = (word + 1) % WORDS;
            bits = self.occupied[word];
        }
        None
    }

    /// Make the next occupied bucket current (the current one being empty).
    fn advance(&mut self) {
        let in_ring = self.next_in_ring();
        let later = self.later.peek().map(|Reverse(event)| bucket_of(event.key));
        let next = match (in_ring, later) {
            (Some(ring), Some(later)) => ring.min(later),
            (Some(ring), None) => ring,
            (None, Some(later)) => later,
            (None, None) => return,
        };
        self.now_bucket = next;
        // Events of the buckets now within the ring's reach join it (the current one too).
        while let Some(Reverse(event)) = self.later.peek().copied() {
            let bucket = bucket_of(event.key);
            if bucket - next >= RING as u64 {
                break;
            }
            self.later.pop();
            self.ring_push(bucket, event);
        }
        let index = (next % RING as u64) as usize;
        std::mem::swap(&mut self.current, &mut self.ring[index]);
        self.occupied[index / 64] &= !(1 << (index % 64));
        self.in_ring -= self.current.len();
        self.current
            .sort_unstable_by_key(|event| Reverse(event.key));
    }

    /// The earliest event, without taking it.
    #[cfg(test)]
    fn peek(&mut self) -> Option<Event> {
        if let Some(Reverse(event)) = self.early.peek() {
            return Some(*event);
        }
        if self.current.is_empty() {
            self.advance();
        }
        self.current.last().copied()
    }

    /// Time of the earliest event.
    #[cfg(test)]
    pub fn peek_time(&mut self) -> Option<Duration> {
        self.peek().map(|event| event.at())
    }

    /// The flight slot of the event that will be taken next (if it belongs to a flight): a
    /// hint for prefetching, read without changing the queue. Known whenever an event is
    /// queued, the current bucket being refilled as it empties ([`Self::pop_due`]).
    #[inline]
    pub fn next_slot(&self) -> Option<u32> {
        let event = match self.early.peek() {
            Some(Reverse(event)) => event,
            None => self.current.last()?,
        };
        match event.kind {
            EventKind::Dispatch { slot, .. }
            | EventKind::Headers { slot, .. }
            | EventKind::BodyEnd { slot, .. } => Some(slot),
            EventKind::Sample => None,
        }
    }

    /// Take the earliest event.
    pub fn pop(&mut self) -> Option<(Duration, EventKind)> {
        self.pop_due(Duration::MAX)
    }

    /// Take the earliest event if it is due at or before `until` (what a peek at its time
    /// followed by a pop gives, in one look at the head: the driver's step when an arrival at
    /// `until` is pending).
    #[inline]
    pub fn pop_due(&mut self, until: Duration) -> Option<(Duration, EventKind)> {
        // Every key of a time at or before `until` is at most this one: `time_key` keeps the
        // order of times, and a saturated `until` is later than every key's time.
        let limit = (u128::from(time_key(until)) << 64) | u128::from(u64::MAX);
        let event = if self.early.is_empty() {
            if self.current.is_empty() {
                self.advance();
            }
            match self.current.last() {
                Some(event) if event.key <= limit => self.current.pop(),
                _ => None,
            }
        } else {
            match self.early.peek() {
                Some(Reverse(event)) if event.key <= limit => {
                    self.early.pop().map(|Reverse(event)| event)
                }
                _ => None,
            }
        };
        // The bucket after an emptied one is made current at once, so that the event after
        // this one is known while this one runs ([`Self::next_slot`]). Events then scheduled
        // into a bucket passed over go to `early`, which keeps the order exact.
        if event.is_some() && self.current.is_empty() && self.early.is_empty() {
            self.advance();
        }
        event.map(|event| (event.at(), event.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

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

    #[test]
    fn time_keys_order_as_times_and_read_back_exactly() {
        let mut rng = crate::seed::stream(8, "time-key-test");
        let mut times: Vec<Duration> = (0..10_000)
            .map(|_| match rng.random_range(0..3) {
                0 => Duration::from_nanos(rng.random_range(0..5_000_000_000)),
                1 => Duration::new(
                    rng.random_range(0..1 << 34),
                    rng.random_range(0..1_000_000_000),
                ),
                _ => Duration::new(rng.random_range(0..100), 999_999_999),
            })
            .collect();
        times.extend([
            Duration::ZERO,
            Duration::new(1, 0),
            Duration::new((1 << 34) - 1, 999_999_999),
        ]);
        times.sort();
        for pair in times.windows(2) {
            assert!(time_key(pair[0]) <= time_key(pair[1]), "{pair:?}");
            assert_eq!(pair[0] == pair[1], time_key(pair[0]) == time_key(pair[1]));
        }
        for at in times {
            let event = Event {
                key: u128::from(time_key(at)) << 64,
                kind: EventKind::Sample,
            };
            assert_eq!(event.at(), at);
        }
        let beyond = Duration::new(1 << 34, 0);
        assert_eq!(time_key(beyond), MAX_TIME_KEY);
        assert_eq!(time_key(Duration::MAX), MAX_TIME_KEY);
    }

    /// The reference order: a binary heap on (time, seq).
    #[derive(Default)]
    struct Reference {
        heap: BinaryHeap<Reverse<(Duration, u64, u32)>>,
        seq: u64,
    }

    impl Reference {
        fn push(&mut self, at: Duration, slot: u32) {
            self.seq += 1;
            self.heap.push(Reverse((at, self.seq, slot)));
        }

        fn pop(&mut self) -> Option<(Duration, u32)> {
            self.heap.pop().map(|Reverse((at, _, slot))| (at, slot))
        }

        fn peek(&self) -> Option<(Duration, u32)> {
            self.heap.peek().map(|Reverse((at, _, slot))| (*at, *slot))
        }
    }

    #[test]
    fn pops_in_the_order_of_a_binary_heap_on_time_and_sequence() {
        // Pushes at, after and (after a peek) before the head, with many ties, interleaved
        // with peeks and pops: the order must be exactly (time, scheduling order).
        let mut rng = crate::seed::stream(7, "event-queue-test");
        let mut queue = EventQueue::default();
        let mut reference = Reference::default();
        let mut now = Duration::ZERO;
        let mut slot = 0u32;
        for _ in 0..20_000 {
            match rng.random_range(0..10) {
                0..=4 => {
                    let ahead = match rng.random_range(0..4) {
                        0 => Duration::ZERO,
                        1 => Duration::from_nanos(rng.random_range(0..1_000)),
                        2 => Duration::from_millis(rng.random_range(0..5_000)),
                        _ => Duration::from_secs(rng.random_range(0..100)),
                    };
                    slot += 1;
                    queue.push(now + ahead, EventKind::Headers { slot, epoch: 0 });
                    reference.push(now + ahead, slot);
                }
                5 => {
                    let _ = queue.peek_time();
                }
                6 => {
                    // The driver's step with an arrival pending at `until`: the head only if
                    // it is due by then.
                    let until = now + Duration::from_micros(rng.random_range(0..2_000));
                    let due = reference.peek().is_some_and(|(at, _)| at <= until);
                    let expected = if due { reference.pop() } else { None };
                    let got = queue.pop_due(until).map(|(at, kind)| match kind {
                        EventKind::Headers { slot, .. } => (at, slot),
                        other => panic!("unexpected {other:?}"),
                    });
                    assert_eq!(got, expected);
                }
                _ => {
                    let expected = reference.pop();
                    assert_eq!(queue.peek_time(), expected.map(|(at, _)| at));
                    let got = queue.pop().map(|(at, kind)| match kind {
                        EventKind::Headers { slot, .. } => (at, slot),
                        other => panic!("unexpected {other:?}"),
                    });
                    assert_eq!(got, expected);
                    if let Some((at, _)) = got {
                        // The driver's clock may run ahead of the queue (arrivals).
                        now = at + Duration::from_millis(rng.random_range(0..3));
                        // After a pop the next event is known (the prefetch hint).
                        assert_eq!(queue.next_slot(), reference.peek().map(|(_, slot)| slot));
                    }
                }
            }
            // The hint, when given, names the event taken next.
            if let Some(slot) = queue.next_slot() {
                assert_eq!(Some(slot), reference.peek().map(|(_, slot)| slot));
            }
        }
        while let Some(expected) = reference.pop() {
            let got = queue.pop().map(|(at, kind)| match kind {
                EventKind::Headers { slot, .. } => (at, slot),
                other => panic!("unexpected {other:?}"),
            });
            assert_eq!(got, Some(expected));
        }
        assert_eq!(queue.pop(), None);
        assert_eq!(queue.peek_time(), None);
    }
}
