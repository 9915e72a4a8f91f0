//! Token-count distributions for prompts, `max_tokens` and output lengths: compiled once from a
//! [`SizeDist`], then sampled from a caller-supplied stream.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal};

use super::config::SizeDist;
use super::error::WorkloadError;
use crate::seed::SimRng;

/// A ready-to-sample token-count distribution.
#[derive(Debug, Clone)]
pub enum SizeSampler {
    /// Always this value.
    Constant(u32),
    /// Uniform integer in the inclusive range.
    Uniform(u32, u32),
    /// A continuous distribution, rounded and clamped.
    Continuous {
        /// The distribution.
        dist: Continuous,
        /// Lower clamp.
        min: u32,
        /// Upper clamp.
        max: u32,
    },
    /// Uniform pick from a list.
    Empirical(Vec<u32>),
}

/// The continuous families.
#[derive(Debug, Clone)]
pub enum Continuous {
    /// Normal.
    Normal(Normal<f64>),
    /// Log-normal.
    LogNormal(LogNormal<f64>),
    /// Exponential.
    Exp(Exp<f64>),
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
                let normal = Normal::new(mean, std).map_err(|e| {
                    WorkloadError::invalid(format!("{path}.std"), std, e.to_string())
                })?;
                SizeSampler::Continuous {
                    dist: Continuous::Normal(normal),
                    min,
                    max,
                }
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
                let lognormal = LogNormal::new(median.ln(), sigma).map_err(|e| {
                    WorkloadError::invalid(format!("{path}.sigma"), sigma, e.to_string())
                })?;
                SizeSampler::Continuous {
                    dist: Continuous::LogNormal(lognormal),
                    min,
                    max,
                }
            }
            SizeDist::Exponential { mean, min, max } => {
                let mean = positive("mean", *mean)?;
                let (min, max) = clamps(min, max)?;
                let exp = Exp::new(1.0 / mean).map_err(|e| {
                    WorkloadError::invalid(format!("{path}.mean"), mean, e.to_string())
                })?;
                SizeSampler::Continuous {
                    dist: Continuous::Exp(exp),
                    min,
                    max,
                }
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

    /// One draw.
    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        match self {
            SizeSampler::Constant(value) => *value,
            SizeSampler::Uniform(min, max) => rng.random_range(*min..=*max),
            SizeSampler::Continuous { dist, min, max } => {
                let raw = match dist {
                    Continuous::Normal(d) => d.sample(rng),
                    Continuous::LogNormal(d) => d.sample(rng),
                    Continuous::Exp(d) => d.sample(rng),
                };
                // Saturating (NaN → 0) before the clamp; the clamp applies the bounds.
                round_to_u32(raw).clamp(*min, *max)
            }
            SizeSampler::Empirical(values) => values[rng.random_range(0..values.len())],
        }
    }
}

/// `raw.round() as u32` (half away from zero, saturating, NaN → 0) without the software
/// `round` call (x86-64 has no rounding instruction before SSE4.1): below 2³² the fraction
/// `raw − ⌊raw⌋` is exact, so comparing it with ½ rounds exactly as `round` does.
fn round_to_u32(raw: f64) -> u32 {
    if raw.is_nan() || raw < 0.5 {
        return 0; // NaN, negatives and [0, ½) all round (then saturate) to 0
    }
    if raw >= f64::from(u32::MAX) {
        return u32::MAX;
    }
    let whole = raw as u32; // truncation: raw < 2³²
    whole + u32::from(raw - f64::from(whole) >= 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

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
