//! A sliding window as a ring of fixed-width time buckets, with running totals.
//!
//! Adding and reading are O(1) amortised (advancing clears the buckets that fell out, at most
//! one ring's worth); nothing scans the admitted requests. An entry counted in bucket `i`
//! (time `[i·w, (i+1)·w)`) leaves the window at `(i + n)·w`, so the effective window length is
//! between `n·w − w` and `n·w`: resolution is one bucket.

use std::time::Duration;

/// What one bucket (and the whole window) holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Tokens (estimated) admitted.
    pub tokens: u64,
    /// Requests admitted.
    pub requests: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.tokens += other.tokens;
        self.requests += other.requests;
    }

    fn sub(&mut self, other: Tally) {
        self.tokens = self.tokens.saturating_sub(other.tokens);
        self.requests = self.requests.saturating_sub(other.requests);
    }
}

/// Ring-bucketed sliding window. Times are nanoseconds since the run's start (see
/// [`saturating_nanos`](super::time::saturating_nanos)): integer arithmetic only, no `Duration` or `u128` work per request.
#[derive(Debug, Clone)]
pub struct RingWindow {
    bucket_nanos: u64,
    buckets: Box<[Tally]>,
    /// Absolute index of the newest bucket.
    head: u64,
    /// Where the newest bucket ends, `(head + 1) × bucket_nanos` (saturating): before it,
    /// advancing has nothing to do, found with one comparison instead of a division.
    head_end: u64,
    /// `head % buckets.len()`, kept in step with `head` (no division per request).
    head_slot: usize,
    total: Tally,
}

impl RingWindow {
    /// A window of `length` cut into `buckets` buckets.
    pub fn new(length: Duration, buckets: usize) -> RingWindow {
        let buckets = buckets.max(1);
        let bucket_nanos = (length.as_nanos() / buckets as u128).max(1) as u64;
        RingWindow {
            bucket_nanos,
            buckets: vec![Tally::default(); buckets].into_boxed_slice(),
            head: 0,
            head_end: bucket_nanos,
            head_slot: 0,
            total: Tally::default(),
        }
    }

    fn slot(&self, index: u64) -> usize {
        (index % self.buckets.len() as u64) as usize
    }

    /// Drop the buckets that left the window by `now` (nanoseconds).
    #[inline]
    pub fn advance(&mut self, now: u64) {
        if now < self.head_end {
            return;
        }
        self.advance_to(now / self.bucket_nanos);
    }

    fn advance_to(&mut self, index: u64) {
        if index <= self.head {
            return;
        }
        let ring = self.buckets.len();
        if index - self.head >= ring as u64 {
            self.buckets.fill(Tally::default());
            self.total = Tally::default();
            self.head_slot = self.slot(index);
        } else {
            for _ in self.head + 1..=index {
                self.head_slot += 1;
                if self.head_slot == ring {
                    self.head_slot = 0;
                }
                let old = std::mem::take(&mut self.buckets[self.head_slot]);
                self.total.sub(old);
            }
        }
        self.head = index;
        self.head_end = index.saturating_add(1).saturating_mul(self.bucket_nanos);
    }

    /// Count `tally` at `now` (nanoseconds).
    #[cfg(test)]
    pub fn add(&mut self, now: u64, tally: Tally) {
        self.advance(now);
        self.add_advanced(tally);
    }

    /// Count `tally` in the newest bucket: [`RingWindow::add`] for a window already advanced
    /// to the time it is counted at (so a limiter advances each window once per request).
    #[inline]
    pub fn add_advanced(&mut self, tally: Tally) {
        self.buckets[self.head_slot].add(tally);
        self.total.add(tally);
    }

    /// What the window holds at `now` (nanoseconds).
    #[cfg(test)]
    pub fn total(&mut self, now: u64) -> Tally {
        self.advance(now);
        self.total
    }

    /// What the window holds as last advanced: [`RingWindow::total`] at that time.
    #[inline]
    pub fn held(&self) -> Tally {
        self.total
    }

    /// Nanoseconds from `now` until the expired part of the window satisfies `enough` (called
    /// with the running sum of what has expired, oldest first); `None` if even an empty window
    /// does not. Only called on the throttle path; it stops at the first bucket that suffices.
    pub fn time_until(&mut self, now: u64, enough: impl Fn(Tally) -> bool) -> Option<u64> {
        self.advance(now);
        let ring = self.buckets.len() as u64;
        let mut freed = Tally::default();
        if enough(freed) {
            return Some(0);
        }
        let oldest = (self.head + 1).saturating_sub(ring);
        for index in oldest..=self.head {
            let bucket = self.buckets[self.slot(index)];
            if bucket == Tally::default() {
                continue;
            }
            freed.add(bucket);
            if enough(freed) {
                let expires = (index + ring) * self.bucket_nanos;
                return Some(expires.saturating_sub(now));
            }
        }
        None
    }

    /// Nanoseconds from `now` until the oldest entry leaves (zero when empty).
    pub fn time_until_oldest_expires(&mut self, now: u64) -> u64 {
        self.advance(now);
        let empty = self.total == Tally::default();
        self.time_until(now, |freed| empty || freed != Tally::default())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> u64 {
        n * 1_000_000
    }

    #[test]
    fn entries_leave_after_the_window() {
        let mut w = RingWindow::new(Duration::from_secs(10), 100);
        w.add(
            ms(50),
            Tally {
                tokens: 5,
                requests: 1,
            },
        );
        w.add(
            ms(4_000),
            Tally {
                tokens: 7,
                requests: 1,
            },
        );
        assert_eq!(w.total(ms(9_999)).tokens, 12);
        assert_eq!(
            w.total(ms(10_000)).tokens,
            7,
            "bucket [0,100ms) leaves at 10s"
        );
        assert_eq!(w.total(ms(14_000)).tokens, 0);
        assert_eq!(w.total(ms(100_000)), Tally::default());
    }

    #[test]
    fn time_until_counts_from_the_oldest_bucket() {
        let mut w = RingWindow::new(Duration::from_secs(60), 600);
        w.add(
            ms(1_000),
            Tally {
                tokens: 100,
                requests: 1,
            },
        );
        w.add(
            ms(30_000),
            Tally {
                tokens: 100,
                requests: 1,
            },
        );
        assert_eq!(
            w.time_until(ms(40_000), |f| f.tokens >= 50),
            Some(ms(21_000))
        );
        assert_eq!(
            w.time_until(ms(40_000), |f| f.tokens >= 150),
            Some(ms(50_000))
        );
        assert_eq!(w.time_until(ms(40_000), |f| f.tokens >= 500), None);
        assert_eq!(w.time_until_oldest_expires(ms(40_000)), ms(21_000));
    }

    #[test]
    fn long_gaps_clear_everything() {
        let mut w = RingWindow::new(Duration::from_secs(1), 10);
        w.add(
            ms(0),
            Tally {
                tokens: 1,
                requests: 1,
            },
        );
        w.add(
            ms(950),
            Tally {
                tokens: 1,
                requests: 1,
            },
        );
        assert_eq!(w.total(ms(5_000)), Tally::default());
        assert_eq!(w.time_until_oldest_expires(ms(5_000)), 0);
    }
}
