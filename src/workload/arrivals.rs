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
}

impl ArrivalGen {
    /// The next arrival time in seconds, or `None` when none comes before `horizon`.
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
            ArrivalGen::Thinned { profile, t } => thin(profile, t, rng, horizon)?,
        };
        (at < horizon).then_some(at)
    }
}

fn thin(profile: &RateProfile, t: &mut f64, rng: &mut SimRng, horizon: f64) -> Option<f64> {
    while *t < horizon {
        let (bound, end) = profile.bound_from(*t);
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
        // A piecewise-constant profile's candidate lies in the piece of `t` (before its end), so
        // its rate is the bound: accepted without evaluating the rate or spending a uniform draw.
        if let RateProfile::Piecewise(_) = profile {
            return Some(candidate);
        }
        let rate = profile.rate(candidate);
        // A segment whose rate equals its bound accepts every candidate without a uniform draw.
        if rate >= bound || rng.random::<f64>() * bound < rate {
            return Some(candidate);
        }
    }
    None
}
