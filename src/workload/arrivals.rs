//! Arrival-time generators: a lazy, seeded sequence of send times (seconds from run start) for
//! one app. Nothing is precomputed or collected, so memory does not grow with the run's length.
//!
//! - constant: request k at exactly k / rate (no drift from summing gaps);
//! - Gamma: a renewal process with Gamma(shape = burstiness, scale = 1/(rate·burstiness)) gaps,
//!   as vLLM's `--burstiness`;
//! - Poisson with any rate profile (constant, ramp, steps, spikes, diurnal): thinning (Lewis &
//!   Shedler) against a piecewise-constant upper bound. A candidate gap is drawn from Exp(bound)
//!   on the current segment; if it overshoots the segment's end, time moves to the end and a
//!   fresh gap is drawn there (exact, by memorylessness); otherwise the candidate is accepted
//!   with probability rate(t)/bound. This samples the non-homogeneous process exactly, unlike
//!   "draw the next gap at the rate of the previous arrival".

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma};

use super::rate::RateProfile;
use crate::seed::SimRng;

/// A compiled arrival process; call [`ArrivalGen::next_at`] with the app's arrivals stream.
#[derive(Debug, Clone)]
pub enum ArrivalGen {
    /// Evenly spaced.
    Constant {
        /// Requests per second (> 0).
        rate: f64,
        /// Index of the next request.
        next_index: u64,
    },
    /// Gamma renewal process.
    Gamma {
        /// Gap distribution.
        gaps: Gamma<f64>,
        /// Time of the previous arrival (0 before the first).
        t: f64,
    },
    /// Non-homogeneous Poisson by thinning.
    Thinned {
        /// The rate over time.
        profile: RateProfile,
        /// Current time of the thinning walk.
        t: f64,
    },
    /// Poisson with a piecewise-constant rate (constant, steps, spikes): the thinning walk
    /// with the piece of `t` tracked by a cursor instead of searched for on every draw.
    Stepped {
        /// `(start, rate)` pieces as in [`RateProfile::Piecewise`].
        pieces: Vec<(f64, f64)>,
        /// Index of the piece holding `t` (starts only grow, and so does `t`).
        piece: usize,
        /// That piece's rate.
        bound: f64,
        /// That piece's end (the next start; infinite for the last; −∞ before the first
        /// draw, so that the first draw finds its piece).
        end: f64,
        /// Current time of the thinning walk.
        t: f64,
    },
}

impl ArrivalGen {
    /// The generator for Poisson arrivals at `profile`'s rate.
    pub fn poisson(profile: RateProfile) -> Self {
        match profile {
            RateProfile::Piecewise(pieces) => ArrivalGen::Stepped {
                pieces,
                piece: 0,
                bound: 0.0,
                end: f64::NEG_INFINITY,
                t: 0.0,
            },
            profile => ArrivalGen::Thinned { profile, t: 0.0 },
        }
    }

    /// The next arrival time in seconds, or `None` when none comes before `horizon`.
    // Called once per request from `AppStream::next` alone: inlined there, it costs no call.
    #[inline(always)]
    pub fn next_at(&mut self, rng: &mut SimRng, horizon: f64) -> Option<f64> {
        let at = match self {
            ArrivalGen::Constant { rate, next_index } => {
                let at = *next_index as f64 / *rate;
                *next_index += 1;
                at
            }
            ArrivalGen::Gamma { gaps, t } => {
                *t += gaps.sample(rng);
                *t
            }
            ArrivalGen::Thinned { profile, t } => thin(
                t,
                rng,
                horizon,
                |t| profile.bound_from(t),
                |rng, candidate, bound| {
                    // A piecewise-constant profile's candidate lies in the piece of `t` (before
                    // its end), so its rate is the bound: accepted without a uniform draw.
                    if let RateProfile::Piecewise(_) = profile {
                        return true;
                    }
                    let rate = profile.rate(candidate);
                    // A segment whose rate equals its bound accepts every candidate without a
                    // uniform draw.
                    rate >= bound || rng.random::<f64>() * bound < rate
                },
            )?,
            ArrivalGen::Stepped {
                pieces,
                piece,
                bound,
                end,
                t,
            } => thin(
                t,
                rng,
                horizon,
                |t| {
                    if t >= *end {
                        // The last piece starting at or before `t`, as `RateProfile::bound_from`
                        // finds it, reached by stepping forward (`t` never decreases).
                        while pieces.get(*piece + 1).is_some_and(|next| next.0 <= t) {
                            *piece += 1;
                        }
                        *bound = pieces.get(*piece).map_or(0.0, |current| current.1);
                        *end = pieces.get(*piece + 1).map_or(f64::INFINITY, |next| next.0);
                    }
                    (*bound, *end)
                },
                // The rate is constant on a piece: the bound, so every candidate is accepted.
                |_, _, _| true,
            )?,
        };
        (at < horizon).then_some(at)
    }
}

/// The thinning walk from `t`: `segment(t)` is `(bound, end)` as [`RateProfile::bound_from`];
/// `accept(rng, candidate, bound)` decides a candidate inside its segment.
#[inline(always)]
fn thin(
    t: &mut f64,
    rng: &mut SimRng,
    horizon: f64,
    mut segment: impl FnMut(f64) -> (f64, f64),
    mut accept: impl FnMut(&mut SimRng, f64, f64) -> bool,
) -> Option<f64> {
    while *t < horizon {
        let (bound, end) = segment(*t);
        if bound <= 0.0 {
            if end.is_infinite() {
                return None;
            }
            *t = end;
            continue;
        }
        let gap: f64 = Exp1.sample(rng);
        let candidate = *t + gap / bound;
        if candidate >= end {
            *t = end;
            continue;
        }
        *t = candidate;
        if accept(rng, candidate, bound) {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn times(mut arrivals: ArrivalGen, horizon: f64) -> Vec<u64> {
        let mut rng = crate::seed::stream(3, "arrivals-test");
        std::iter::from_fn(|| arrivals.next_at(&mut rng, horizon))
            .map(f64::to_bits)
            .collect()
    }

    #[test]
    fn the_shared_fast_conversion_of_arrival_times_is_std_from_secs_f64() {
        use aoai_mock::model::duration_from_secs_f64;
        let mut values = vec![
            0.0,
            -0.0,
            1e-300,
            1e-10,
            4.9e-10,
            5e-10,
            5.000000001e-10,
            1.0,
        ];
        // Exact ties: m / 1024 s is m · 976,562.5 ns for odd m.
        for whole in [0.0, 1.0, 299.0, 65_536.0, 4_294_967_000.0] {
            values.extend((0..20_000_u32).map(|m| whole + f64::from(2 * m + 1) / 1024.0));
        }
        // Just below a whole second (rounding up carries into it), up to the top of the range.
        for whole in [0.0_f64, 1.0, 7.0, 299.0, 1e6, 4_294_967_295.0] {
            let mut x = whole + 1.0;
            for _ in 0..2_000 {
                x = x.next_down();
                values.push(x);
            }
        }
        // Dyadic values at every scale of the fast path and around its edges.
        for e in -40..40 {
            let p = 2f64.powi(e);
            for k in [1.0, 1.5, 3.0, 0.999_999_999_5, 1.000_000_000_5] {
                let x = p * k;
                values.extend([x, x.next_up(), x.next_down()]);
            }
        }
        let mut rng = crate::seed::stream(1, "duration-test");
        for _ in 0..200_000 {
            values.push(rng.random::<f64>() * 300.0);
            values.push(rng.random::<f64>() * 4e9);
            values.push(rng.random::<f64>() * 1e-6);
            // Any bit pattern below 2³³ s.
            values.push(f64::from_bits(
                rng.random_range(0..0x4200_0000_0000_0000_u64),
            ));
            // Values a whisker from a half nanosecond.
            let ns = f64::from(rng.random_range(0..300_000_u32)) * 1e6 + 0.5;
            for x in [ns / 1e9, (ns / 1e9).next_up(), (ns / 1e9).next_down()] {
                values.push(x);
            }
        }
        for x in values {
            assert_eq!(
                duration_from_secs_f64(x),
                Duration::from_secs_f64(x),
                "{x:e}"
            );
        }
    }

    #[test]
    fn stepped_walk_draws_what_the_searching_walk_draws() {
        let profiles = [
            vec![(0.0, 50.0)],
            vec![(0.0, 0.0), (3.0, 40.0), (7.5, 0.0), (9.0, 120.0)],
            vec![
                (0.0, 20.0),
                (2.0, 200.0),
                (2.5, 20.0),
                (2.5, 90.0),
                (6.0, 20.0),
            ],
            vec![(0.0, 10.0), (1e-9, 0.0), (4.0, 0.0), (5.0, 300.0)],
            vec![(0.0, 0.0), (12.0, 5.0)],
            vec![(1.0, 30.0), (2.0, 60.0)],
        ];
        for pieces in profiles {
            for horizon in [0.0, 2.5, 10.0, 11.0] {
                let profile = RateProfile::Piecewise(pieces.clone());
                let searching = ArrivalGen::Thinned {
                    profile: profile.clone(),
                    t: 0.0,
                };
                let stepped = ArrivalGen::poisson(profile);
                assert!(matches!(stepped, ArrivalGen::Stepped { .. }));
                assert_eq!(
                    times(stepped, horizon),
                    times(searching, horizon),
                    "{pieces:?}"
                );
            }
        }
    }
}
