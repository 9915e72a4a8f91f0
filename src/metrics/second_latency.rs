//! Per-second latency percentiles (p50, p99 of the requests that ended in each second) with
//! memory that does not grow with run length beyond 16 bytes per second.
//!
//! A ring of [`WINDOW_SECONDS`] slots holds the most recent seconds. A slot keeps its first
//! [`EXACT_SAMPLES`] latencies as they are (exact nearest-rank percentiles, and finalising a
//! sparse second costs a sort of a few values); a busier second spills into the slot's
//! HdrHistogram (µs, 2 significant digits: bucket resolution < 1%; kept as flat counts, see
//! [`SecondCounts`]), which is only reset when it was used. When a slot is needed for a newer second, the second
//! it held is *finalised*: its p50/p99 are stored and the histogram is reset and reused, so
//! after warm-up nothing is allocated. Drivers emit request records when requests end, so
//! records arrive in (nearly) end order; a record whose second has already been finalised
//! (more than [`WINDOW_SECONDS`] behind the newest second seen in its slot) is counted in
//! [`SecondLatency::late_samples`] and left out of that second's percentiles. Every other
//! per-second count is exact regardless of order.

use std::time::Duration;

use super::flat_histogram::{SecondCounts, micros};

/// How many recent seconds keep a live histogram.
pub const WINDOW_SECONDS: usize = 64;

/// Samples per second kept exactly before spilling into the histogram.
pub const EXACT_SAMPLES: usize = 64;

/// p50 and p99 of one second, in µs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Finalised {
    p50: u32,
    p99: u32,
}

#[derive(Debug)]
struct Slot {
    second: usize,
    /// The first samples of the second, exact (µs).
    exact: Vec<u32>,
    /// Every sample once `exact` overflowed; empty otherwise (µs to one hour, 2 significant
    /// digits, as an HdrHistogram of `u32` counts).
    histogram: SecondCounts,
}

impl Slot {
    fn new(second: usize) -> Slot {
        Slot {
            second,
            exact: Vec::with_capacity(EXACT_SAMPLES),
            histogram: SecondCounts::new(),
        }
    }

    fn record(&mut self, micros: u64) {
        if self.histogram.is_empty() && self.exact.len() < EXACT_SAMPLES {
            self.exact.push(u32::try_from(micros).unwrap_or(u32::MAX));
            return;
        }
        if self.histogram.is_empty() {
            for value in self.exact.drain(..) {
                self.histogram.record(u64::from(value));
            }
        }
        self.histogram.record(micros);
    }

    fn percentiles(&self) -> Option<Finalised> {
        if !self.histogram.is_empty() {
            return percentiles(&self.histogram);
        }
        if self.exact.is_empty() {
            return None;
        }
        let mut sorted = self.exact.clone();
        sorted.sort_unstable();
        let rank =
            |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Some(Finalised {
            p50: rank(0.5),
            p99: rank(0.99),
        })
    }

    fn reuse(&mut self, second: usize) {
        self.second = second;
        self.exact.clear();
        if !self.histogram.is_empty() {
            self.histogram.reset();
        }
    }
}

/// Per-second p50/p99 of end-to-end latency over a sliding window of live histograms.
#[derive(Debug, Default)]
pub struct SecondLatency {
    slots: Vec<Option<Slot>>,
    finalised: Vec<Option<Finalised>>,
    late: u64,
}

fn percentiles(histogram: &SecondCounts) -> Option<Finalised> {
    if histogram.is_empty() {
        return None;
    }
    let at = |q: f64| {
        let value = SecondCounts::median_equivalent(histogram.value_at_quantile(q));
        u32::try_from(value).unwrap_or(u32::MAX)
    };
    Some(Finalised {
        p50: at(0.5),
        p99: at(0.99),
    })
}

impl SecondLatency {
    /// Record the latency of a request that ended in `second`.
    pub fn record(&mut self, second: usize, latency: Duration) {
        if self.slots.is_empty() {
            self.slots.resize_with(WINDOW_SECONDS, || None);
        }
        let micros = micros(latency);
        let index = second % WINDOW_SECONDS;
        let slot = match &mut self.slots[index] {
            Some(slot) if slot.second == second => slot,
            Some(slot) if slot.second > second => {
                self.late += 1;
                return;
            }
            Some(slot) => {
                let done = slot.percentiles();
                if self.finalised.len() <= slot.second {
                    self.finalised.resize(slot.second + 1, None);
                }
                self.finalised[slot.second] = done;
                slot.reuse(second);
                slot
            }
            empty @ None => empty.insert(Slot::new(second)),
        };
        slot.record(micros);
    }

    /// p50 and p99 of `second`, if any request ended in it (and was not late).
    pub fn percentiles(&self, second: usize) -> Option<(Duration, Duration)> {
        let live = self
            .slots
            .get(second % WINDOW_SECONDS.max(1))
            .and_then(Option::as_ref)
            .filter(|slot| slot.second == second);
        let found = match live {
            Some(slot) => slot.percentiles(),
            None => self.finalised.get(second).copied().flatten(),
        };
        found.map(|f| {
            (
                Duration::from_micros(u64::from(f.p50)),
                Duration::from_micros(u64::from(f.p99)),
            )
        })
    }

    /// Latency samples that arrived after their second was finalised.
    pub fn late_samples(&self) -> u64 {
        self.late
    }

    /// Every second's p50 and p99 in µs, from second 0 to `seconds − 1` (what
    /// [`SecondLatency::percentiles`] answers, as plain data).
    pub fn to_micros(&self, seconds: usize) -> Vec<Option<[u32; 2]>> {
        (0..seconds)
            .map(|second| {
                self.percentiles(second).map(|(p50, p99)| {
                    [p50, p99].map(|value| u32::try_from(value.as_micros()).unwrap_or(u32::MAX))
                })
            })
            .collect()
    }

    /// The percentiles [`SecondLatency::to_micros`] gave, every second finalised, with `late`
    /// late samples.
    pub fn from_micros(seconds: &[Option<[u32; 2]>], late: u64) -> SecondLatency {
        SecondLatency {
            slots: Vec::new(),
            finalised: seconds
                .iter()
                .map(|second| second.map(|[p50, p99]| Finalised { p50, p99 }))
                .collect(),
            late,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_seconds_are_exact_and_busy_ones_spill_into_the_histogram() {
        let mut latency = SecondLatency::default();
        for millis in [30, 10, 20] {
            latency.record(5, Duration::from_millis(millis));
        }
        let ms = Duration::from_millis;
        assert_eq!(latency.percentiles(5), Some((ms(20), ms(30))));
        for millis in 1..=1000 {
            latency.record(6, Duration::from_millis(millis));
        }
        let (p50, p99) = latency.percentiles(6).unwrap();
        assert!((p50.as_millis() as i64 - 500).abs() <= 5, "{p50:?}");
        assert!((p99.as_millis() as i64 - 990).abs() <= 10, "{p99:?}");
        // Reusing the slots keeps finalised values and starts clean.
        latency.record(5 + WINDOW_SECONDS, ms(7));
        latency.record(6 + WINDOW_SECONDS, ms(9));
        assert_eq!(latency.percentiles(5), Some((ms(20), ms(30))));
        assert_eq!(latency.percentiles(6), Some((p50, p99)));
        assert_eq!(
            latency.percentiles(6 + WINDOW_SECONDS),
            Some((ms(9), ms(9)))
        );
    }

    #[test]
    fn percentiles_survive_finalisation_and_late_samples_are_counted() {
        let mut latency = SecondLatency::default();
        for millis in 1..=100 {
            latency.record(0, Duration::from_millis(millis));
        }
        latency.record(1, Duration::from_millis(7));
        let (p50, p99) = latency.percentiles(0).unwrap();
        assert!((p50.as_micros() as i64 - 50_000).abs() <= 250, "{p50:?}");
        assert!((p99.as_micros() as i64 - 99_000).abs() <= 500, "{p99:?}");
        // Second WINDOW_SECONDS reuses second 0's slot: second 0 is finalised, unchanged.
        latency.record(WINDOW_SECONDS, Duration::from_millis(3));
        assert_eq!(latency.percentiles(0), Some((p50, p99)));
        latency.record(0, Duration::from_secs(10));
        assert_eq!(latency.late_samples(), 1);
        assert_eq!(latency.percentiles(0), Some((p50, p99)));
        assert!(latency.percentiles(1).is_some());
        assert_eq!(latency.percentiles(2), None);
    }
}
