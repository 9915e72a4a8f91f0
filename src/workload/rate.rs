//! Time-varying arrival rates (requests per second as a function of run time) for the
//! non-homogeneous Poisson processes: piecewise-constant (constant Poisson, steps, spikes),
//! linear ramp and sinusoid (diurnal).
//!
//! Each profile answers three questions: the rate at `t`, an upper bound of the rate on a
//! segment starting at `t` (for thinning, see `arrivals.rs`), and the expected number of
//! arrivals in `[0, t)` (the integral, for progress bars and tests).

use std::f64::consts::TAU;

/// How finely ramps and sinusoids are cut into segments with their own thinning bound: the
/// acceptance rate inside a segment is at least `1 − (relative change over the segment)`.
const SEGMENTS_PER_RAMP: f64 = 256.0;
const SEGMENTS_PER_PERIOD: f64 = 64.0;

/// A rate in requests per second as a function of seconds since run start.
#[derive(Debug, Clone, PartialEq)]
pub enum RateProfile {
    /// `(start, rate)` pairs with strictly increasing starts; the first starts at 0; each rate
    /// holds until the next start, the last forever.
    Piecewise(Vec<(f64, f64)>),
    /// Linear from `from` at 0 to `to` at `over`, then `to`.
    Ramp {
        /// Rate at 0.
        from: f64,
        /// Rate at `over` and after.
        to: f64,
        /// Ramp length in seconds (> 0).
        over: f64,
    },
    /// `mean + amplitude · sin(2π t / period)`.
    Sine {
        /// Mean rate.
        mean: f64,
        /// Swing (≤ mean).
        amplitude: f64,
        /// Period in seconds (> 0).
        period: f64,
    },
}

impl RateProfile {
    /// A constant rate.
    pub fn constant(rate: f64) -> Self {
        RateProfile::Piecewise(vec![(0.0, rate)])
    }

    /// The rate at `t` seconds.
    pub fn rate(&self, t: f64) -> f64 {
        match self {
            RateProfile::Piecewise(steps) => steps[piece_index(steps, t)].1,
            RateProfile::Ramp { from, to, over } => {
                if t >= *over {
                    *to
                } else {
                    from + (to - from) * (t / over)
                }
            }
            RateProfile::Sine {
                mean,
                amplitude,
                period,
            } => mean + amplitude * (TAU * t / period).sin(),
        }
    }

    /// `(bound, end)`: the rate is at most `bound` on `[t, end)`; `end > t` (or infinite).
    #[inline]
    pub fn bound_from(&self, t: f64) -> (f64, f64) {
        match self {
            RateProfile::Piecewise(steps) => {
                let index = piece_index(steps, t);
                let end = steps.get(index + 1).map_or(f64::INFINITY, |next| next.0);
                (steps[index].1, end)
            }
            RateProfile::Ramp { to, over, .. } => {
                if t >= *over {
                    return (*to, f64::INFINITY);
                }
                let width = over / SEGMENTS_PER_RAMP;
                let end = (((t / width).floor() + 1.0) * width).min(*over);
                let end = if end > t { end } else { t + width };
                (self.rate(t).max(self.rate(end)), end)
            }
            RateProfile::Sine {
                mean,
                amplitude,
                period,
            } => {
                let width = period / SEGMENTS_PER_PERIOD;
                let end = ((t / width).floor() + 1.0) * width;
                let end = if end > t { end } else { t + width };
                // Between consecutive extremes the sinusoid is monotone, so its maximum on
                // [t, end] is at an end unless a peak (t = period/4 + k·period) lies inside.
                let first_peak_at_or_after_t = ((t / period - 0.25).ceil() + 0.25) * period;
                let bound = if first_peak_at_or_after_t <= end {
                    mean + amplitude
                } else {
                    self.rate(t).max(self.rate(end))
                };
                (bound, end)
            }
        }
    }

    /// Expected arrivals in `[0, t)`: the integral of the rate.
    pub fn expected_until(&self, t: f64) -> f64 {
        match self {
            RateProfile::Piecewise(steps) => steps
                .iter()
                .enumerate()
                .map(|(i, &(start, rate))| {
                    let end = steps.get(i + 1).map_or(f64::INFINITY, |next| next.0);
                    rate * (end.min(t) - start).max(0.0)
                })
                .sum(),
            RateProfile::Ramp { from, to, over } => {
                let ramp_part = t.min(*over);
                let ramp = from * ramp_part + (to - from) * ramp_part * ramp_part / (2.0 * over);
                ramp + to * (t - over).max(0.0)
            }
            RateProfile::Sine {
                mean,
                amplitude,
                period,
            } => mean * t + amplitude * period / TAU * (1.0 - (TAU * t / period).cos()),
        }
    }
}

/// Index of the piece holding `t` (the last piece whose start is ≤ t).
fn piece_index(steps: &[(f64, f64)], t: f64) -> usize {
    steps
        .partition_point(|piece| piece.0 <= t)
        .saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_bound_holds(profile: &RateProfile, horizon: f64) {
        let mut t = 0.0;
        while t < horizon {
            let (bound, end) = profile.bound_from(t);
            assert!(end > t, "segment must advance at {t}");
            for k in 0..=20 {
                let s = t + (end.min(horizon) - t) * f64::from(k) / 20.0;
                if s < end {
                    assert!(profile.rate(s) <= bound + 1e-9, "rate above bound at {s}");
                }
            }
            t = end;
        }
    }

    #[test]
    fn bounds_cover_the_rate_everywhere() {
        assert_bound_holds(
            &RateProfile::Ramp {
                from: 1.0,
                to: 50.0,
                over: 100.0,
            },
            150.0,
        );
        assert_bound_holds(
            &RateProfile::Ramp {
                from: 50.0,
                to: 1.0,
                over: 100.0,
            },
            150.0,
        );
        let sine = RateProfile::Sine {
            mean: 10.0,
            amplitude: 8.0,
            period: 60.0,
        };
        assert_bound_holds(&sine, 200.0);
        let steps = RateProfile::Piecewise(vec![(0.0, 1.0), (10.0, 5.0), (20.0, 0.0)]);
        assert_bound_holds(&steps, 30.0);
    }

    #[test]
    fn integrals_match_closed_forms() {
        let ramp = RateProfile::Ramp {
            from: 0.0,
            to: 10.0,
            over: 100.0,
        };
        assert!((ramp.expected_until(100.0) - 500.0).abs() < 1e-9);
        assert!((ramp.expected_until(110.0) - 600.0).abs() < 1e-9);
        let sine = RateProfile::Sine {
            mean: 10.0,
            amplitude: 5.0,
            period: 60.0,
        };
        assert!((sine.expected_until(600.0) - 6000.0).abs() < 1e-6);
        let steps = RateProfile::Piecewise(vec![(0.0, 0.0), (10.0, 5.0), (20.0, 1.0)]);
        assert!((steps.expected_until(30.0) - 60.0).abs() < 1e-9);
    }
}
