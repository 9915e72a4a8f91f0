//! Token-count distributions for prompts, `max_tokens` and output lengths: compiled once from a
//! [`SizeDist`], then sampled from a caller-supplied stream.

use rand::Rng;
use rand_distr::{Distribution, Exp, Normal};

use super::config::SizeDist;
use super::error::WorkloadError;
use crate::seed::SimRng;

/// A ready-to-sample token-count distribution. Continuous families are rounded (half away
/// from zero, saturating) and clamped to `[min, max]`.
#[derive(Debug, Clone)]
pub enum SizeSampler {
    /// Always this value.
    Constant(u32),
    /// Uniform integer in the inclusive range.
    Uniform(u32, u32),
    /// Normal.
    Normal {
        /// The distribution.
        dist: Normal<f64>,
        /// Lower clamp.
        min: u32,
        /// Upper clamp.
        max: u32,
    },
    /// Log-normal: `exp` of a normal draw (as `rand_distr::LogNormal` samples it).
    LogNormal {
        /// The distribution of the logarithm.
        log: Normal<f64>,
        /// A logarithm at or above this clamps to `max` whatever `exp` makes of it.
        saturates_from: f64,
        /// Lower clamp.
        min: u32,
        /// Upper clamp.
        max: u32,
    },
    /// Exponential.
    Exp {
        /// The distribution.
        dist: Exp<f64>,
        /// Lower clamp.
        min: u32,
        /// Upper clamp.
        max: u32,
    },
    /// Uniform pick from a list.
    Empirical(Vec<u32>),
}

impl SizeSampler {
    /// Compile `dist`; `path` names it in errors (e.g. `workload.apps[0].prompt_tokens`).
    pub fn new(dist: &SizeDist, path: &str) -> Result<Self, WorkloadError> {
        let clamps = |min: &Option<u32>, max: &Option<u32>| {
            let (min, max) = (min.unwrap_or(1), max.unwrap_or(u32::MAX));
            if min > max {
                return Err(WorkloadError::invalid(
                    format!("{path}.min"),
                    min,
                    format!("must not exceed max = {max}"),
                ));
            }
            Ok((min, max))
        };
        let positive = |field: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                Err(WorkloadError::invalid(
                    format!("{path}.{field}"),
                    value,
                    "must be a finite number > 0",
                ))
            }
        };
        let non_negative = |field: &str, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(value)
            } else {
                Err(WorkloadError::invalid(
                    format!("{path}.{field}"),
                    value,
                    "must be a finite number ≥ 0",
                ))
            }
        };
        Ok(match dist {
            SizeDist::Constant { value } => SizeSampler::Constant(*value),
            SizeDist::Uniform { min, max } => {
                if min > max {
                    return Err(WorkloadError::invalid(
                        format!("{path}.min"),
                        min,
                        format!("must not exceed max = {max}"),
                    ));
                }
                SizeSampler::Uniform(*min, *max)
            }
            SizeDist::Normal {
                mean,
                std,
                min,
                max,
            } => {
                let mean = non_negative("mean", *mean)?;
                let std = non_negative("std", *std)?;
                let (min, max) = clamps(min, max)?;
                let dist = Normal::new(mean, std).map_err(|e| {
                    WorkloadError::invalid(format!("{path}.std"), std, e.to_string())
                })?;
                SizeSampler::Normal { dist, min, max }
            }
            SizeDist::Lognormal {
                median,
                sigma,
                min,
                max,
            } => {
                let median = positive("median", *median)?;
                let sigma = non_negative("sigma", *sigma)?;
                let (min, max) = clamps(min, max)?;
                // `LogNormal::new(μ, σ)` is `Normal::new(μ, σ)` under an `exp`.
                let log = Normal::new(median.ln(), sigma).map_err(|e| {
                    WorkloadError::invalid(format!("{path}.sigma"), sigma, e.to_string())
                })?;
                SizeSampler::LogNormal {
                    log,
                    saturates_from: saturation_log(max),
                    min,
                    max,
                }
            }
            SizeDist::Exponential { mean, min, max } => {
                let mean = positive("mean", *mean)?;
                let (min, max) = clamps(min, max)?;
                let dist = Exp::new(1.0 / mean).map_err(|e| {
                    WorkloadError::invalid(format!("{path}.mean"), mean, e.to_string())
                })?;
                SizeSampler::Exp { dist, min, max }
            }
            SizeDist::Empirical { values } => {
                if values.is_empty() {
                    return Err(WorkloadError::invalid(
                        format!("{path}.values"),
                        "[]",
                        "must list at least one value",
                    ));
                }
                SizeSampler::Empirical(values.clone())
            }
        })
    }

    /// This sampler with draws above `cap` drawn as `cap`, for an output length capped by a
    /// constant `max_tokens`: `x.clamp(min, max).min(cap)` is `x.clamp(min, max.min(cap))`
    /// when `min ≤ cap`, and a lower `max` lets more log-normal draws skip their `exp`.
    pub fn capped(self, cap: u32) -> Self {
        match self {
            SizeSampler::LogNormal { log, min, max, .. } if min <= cap => {
                let max = max.min(cap);
                SizeSampler::LogNormal {
                    log,
                    saturates_from: saturation_log(max),
                    min,
                    max,
                }
            }
            other => other,
        }
    }

    /// One draw.
    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        match self {
            SizeSampler::Constant(value) => *value,
            SizeSampler::Uniform(min, max) => rng.random_range(*min..=*max),
            SizeSampler::Normal { dist, min, max } => clamped(dist.sample(rng), *min, *max),
            SizeSampler::LogNormal {
                log,
                saturates_from,
                min,
                max,
            } => {
                let log = log.sample(rng);
                if log >= *saturates_from {
                    return *max;
                }
                clamped(log.exp(), *min, *max)
            }
            SizeSampler::Exp { dist, min, max } => clamped(dist.sample(rng), *min, *max),
            SizeSampler::Empirical(values) => values[rng.random_range(0..values.len())],
        }
    }
}

/// A continuous draw rounded, then clamped (saturating, NaN → 0, before the clamp).
/// `max(min).min(max)` is `clamp(min, max)` for the `min ≤ max` that `new` and `capped`
/// guarantee, without `clamp`'s assertion, which kept it an out-of-line call per draw.
#[inline(always)]
fn clamped(raw: f64, min: u32, max: u32) -> u32 {
    round_to_u32(raw).max(min).min(max)
}

/// A logarithm from which on a log-normal draw clamps to `max`: `exp` of it is at least
/// `max − ½`, which rounds to `max` or more. The margin of 2⁻³⁰ (a relative 10⁻⁹ after `exp`)
/// dwarfs the errors of `ln` and `exp` (under an ulp each), so the skipped `exp` could not
/// have landed below `max − ½`. NaN (no `max − ½ > 0`) never compares: nothing is skipped.
fn saturation_log(max: u32) -> f64 {
    (f64::from(max) - 0.5).ln() + 2f64.powi(-30)
}

/// `raw.round() as u32` (half away from zero, saturating, NaN → 0) without the software
/// `round` call (x86-64 has no rounding instruction before SSE4.1): below 2³² the fraction
/// `raw − ⌊raw⌋` is exact, so comparing it with ½ rounds exactly as `round` does. The
/// saturating cast needs no range checks of its own: NaN and negatives truncate to 0 with a
/// fraction that is NaN or negative (no round-up), and from `u32::MAX` on the round-up
/// saturates.
fn round_to_u32(raw: f64) -> u32 {
    let whole = raw as u32; // truncation toward zero, saturating
    whole.saturating_add(u32::from(raw - f64::from(whole) >= 0.5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand_distr::LogNormal;

    #[test]
    fn lognormal_draws_as_rand_distr_with_or_without_skipping_exp() {
        let cases = [
            (800.0, 0.6, 1, 8000, None),
            (150.0, 0.6, 1, u32::MAX, Some(300)),
            (150.0, 2.5, 1, 400, Some(300)),
            (150.0, 2.5, 200, u32::MAX, Some(100)),
            (3.0, 3.0, 0, 1, None),
            (3.0, 3.0, 0, 0, Some(5)),
            (1e9, 1.0, 1, u32::MAX, None),
        ];
        for (median, sigma, min, max, cap) in cases {
            let dist = SizeDist::Lognormal {
                median,
                sigma,
                min: Some(min),
                max: Some(max),
            };
            let mut sampler = SizeSampler::new(&dist, "t").unwrap();
            if let Some(cap) = cap {
                sampler = sampler.capped(cap);
            }
            let reference = LogNormal::new(f64::ln(median), sigma).unwrap();
            let (mut a, mut b) = (crate::seed::stream(5, "s"), crate::seed::stream(5, "s"));
            for _ in 0..100_000 {
                let expected = round_to_u32(reference.sample(&mut b)).clamp(min, max);
                let expected = cap.map_or(expected, |cap| expected.min(cap));
                let drawn = sampler.sample(&mut a);
                let drawn = cap.map_or(drawn, |cap| drawn.min(cap));
                assert_eq!(drawn, expected, "{median} {sigma} {min} {max} {cap:?}");
            }
        }
    }

    #[test]
    fn rounding_to_u32_matches_round_then_cast() {
        let mut values = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1.5,
            -0.5,
            -0.0,
            0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            4294967294.5,
            4294967294.499999,
            f64::from(u32::MAX),
            f64::from(u32::MAX) + 0.5,
            1e300,
        ];
        for n in [1_u32, 2, 7, 300, 8000, 1 << 20, u32::MAX - 1] {
            let n = f64::from(n);
            for x in [n, n - 0.5, n + 0.5, n.next_down(), n.next_up()] {
                values.extend([x, (x - 0.5).next_down(), (x - 0.5).next_up()]);
            }
        }
        let mut rng = crate::seed::stream(1, "round");
        for _ in 0..100_000 {
            values.push(rng.random::<f64>() * 10_000.0);
            values.push(f64::from_bits(rng.random::<u64>()));
        }
        for x in values {
            assert_eq!(round_to_u32(x), x.round() as u32, "{x:?}");
        }
    }
}
