//! Sliding windows of call outcomes shared by the failure-rate breakers (resilience4j,
//! Hystrix): count-based (a ring of the last N outcomes) or time-based (N one-second buckets).
//! O(1) per call for count-based, O(N) for time-based; no allocation after construction.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the sliding window is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlidingWindow {
    /// The last `window_size` calls.
    CountBased,
    /// The last `window_size` seconds.
    TimeBased,
}

/// Counts of calls, failures and slow calls.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tally {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Tally {
    pub(crate) fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failures += u32::from(failed);
        self.slow += u32::from(slow);
    }
}

/// The sliding window of one backend: a ring of call outcomes or of 1 s buckets.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// Count-based: outcome bits (1 = failed, 2 = slow) of the last N calls.
    ring: Vec<u8>,
    next: usize,
    filled: usize,
    totals: Tally,
    /// Time-based: (second, tally) per bucket.
    buckets: Vec<(u64, Tally)>,
}

impl Window {
    /// An empty window of `size` calls or seconds.
    pub(crate) fn new(kind: SlidingWindow, size: u32) -> Self {
        let size = size.max(1) as usize;
        match kind {
            SlidingWindow::CountBased => Self {
                ring: vec![0; size],
                next: 0,
                filled: 0,
                totals: Tally::default(),
                buckets: Vec::new(),
            },
            SlidingWindow::TimeBased => Self {
                ring: Vec::new(),
                next: 0,
                filled: 0,
                totals: Tally::default(),
                buckets: vec![(u64::MAX, Tally::default()); size],
            },
        }
    }

    /// Forgets every outcome.
    pub(crate) fn clear(&mut self) {
        self.ring.iter_mut().for_each(|bits| *bits = 0);
        self.next = 0;
        self.filled = 0;
        self.totals = Tally::default();
        self.buckets
            .iter_mut()
            .for_each(|bucket| *bucket = (u64::MAX, Tally::default()));
    }

    /// Adds one outcome and returns the window's totals.
    pub(crate) fn add(&mut self, now: Duration, failed: bool, slow: bool) -> Tally {
        if !self.ring.is_empty() {
            if self.filled == self.ring.len() {
                let old = self.ring[self.next];
                self.totals.calls -= 1;
                self.totals.failures -= u32::from(old & 1);
                self.totals.slow -= u32::from(old >> 1);
            } else {
                self.filled += 1;
            }
            self.ring[self.next] = u8::from(failed) | (u8::from(slow) << 1);
            self.next = (self.next + 1) % self.ring.len();
            self.totals.add(failed, slow);
            return self.totals;
        }
        let size = self.buckets.len() as u64;
        let second = now.as_secs();
        let slot = &mut self.buckets[(second % size) as usize];
        if slot.0 != second {
            *slot = (second, Tally::default());
        }
        slot.1.add(failed, slow);
        let mut totals = Tally::default();
        for (bucket_second, tally) in &self.buckets {
            if *bucket_second != u64::MAX && *bucket_second + size > second {
                totals.calls += tally.calls;
                totals.failures += tally.failures;
                totals.slow += tally.slow;
            }
        }
        totals
    }
}

/// The end of a half-open period of a failure-rate breaker: a failed probe opens the backend
/// again (the caller sets how long), passing probes close it and forget its window. Logs the
/// transition and returns whether the backend is open again.
pub(crate) fn end_probes(
    window: &mut Window,
    probes_failed: bool,
    now: Duration,
    backend: crate::balance::BackendId,
    log: &mut super::TransitionLog,
) -> bool {
    use crate::balance::{Phase, Reason};
    if probes_failed {
        log.push(
            now,
            backend,
            Phase::HalfOpen,
            Phase::Open,
            Reason::ProbeFailed,
        );
    } else {
        window.clear();
        log.push(
            now,
            backend,
            Phase::HalfOpen,
            Phase::Closed,
            Reason::ProbesSucceeded,
        );
    }
    probes_failed
}
