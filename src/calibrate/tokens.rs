//! Fitting a token-count distribution (prompt or completion lengths): the empirical
//! distribution (up to 1,000 equally likely quantile points, so the scenario file stays
//! readable) or, when asked, a log-normal matched to the median and the interquartile range
//! (sigma = ln(q75 / q25) / 1.349), clamped to the observed range. Quantile matching rather
//! than maximum likelihood: real prompt lengths have a heavy short tail (Azure's conversation
//! trace: the geometric mean is 26% below the median), which would drag a likelihood fit's
//! median away from the data's. The median, 90th percentile and sigma carry bootstrap
//! intervals; the report's KS distance says how far the family is from the data.

use super::stats::{Bootstrap, Estimate, quantile, sorted};
use crate::workload::SizeDist;

/// Points an empirical distribution keeps at most.
pub const EMPIRICAL_POINTS: usize = 1000;

/// Which family the scenario gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenModel {
    /// The observed distribution (quantile points).
    #[default]
    Empirical,
    /// A log-normal fitted by maximum likelihood.
    Lognormal,
}

/// One fitted token distribution.
#[derive(Debug, Clone)]
pub struct TokenFit {
    /// What the scenario gets.
    pub dist: SizeDist,
    /// Counts seen.
    pub n: usize,
    /// Median with its interval.
    pub median: Estimate,
    /// 90th percentile with its interval.
    pub p90: Estimate,
    /// Log-normal sigma matched to the interquartile range, with its interval.
    pub sigma: Estimate,
}

/// The `q` quantile of sorted `values` under bootstrap weights `w` (aligned with `values`).
fn weighted_quantile(values: &[f64], w: &[f64], q: f64) -> f64 {
    let total: f64 = w.iter().sum();
    let mut seen = 0.0;
    for (value, weight) in values.iter().zip(w) {
        seen += weight;
        if seen >= q * total {
            return *value;
        }
    }
    values.last().copied().unwrap_or(f64::NAN)
}

/// Fit `counts` (at least one) with `model`.
pub fn fit_tokens(
    counts: &[u32],
    model: TokenModel,
    bootstrap: &mut Bootstrap,
) -> Option<TokenFit> {
    if counts.is_empty() {
        return None;
    }
    let values = sorted(counts.iter().map(|c| f64::from(*c)));
    let matched = |w: &[f64]| {
        let at = |q: f64| weighted_quantile(&values, w, q).max(1.0);
        (at(0.5), (at(0.75) / at(0.25)).ln() / 1.349)
    };
    let ones = vec![1.0; values.len()];
    let (median, sigma) = matched(&ones);
    let [median_ci, p90_ci, sigma_ci] = bootstrap.intervals(values.len(), |w| {
        (w.iter().sum::<f64>() > 0.0).then(|| {
            [
                weighted_quantile(&values, w, 0.5),
                weighted_quantile(&values, w, 0.9),
                matched(w).1,
            ]
        })
    });
    let min = values[0].max(1.0) as u32;
    let max = values[values.len() - 1].max(1.0) as u32;
    let dist = match model {
        TokenModel::Lognormal => SizeDist::Lognormal {
            median: (median * 10.0).round() / 10.0,
            sigma: (sigma * 1000.0).round() / 1000.0,
            min: Some(min),
            max: Some(max),
        },
        TokenModel::Empirical if values.len() <= EMPIRICAL_POINTS => SizeDist::Empirical {
            values: counts_sorted(&values),
        },
        TokenModel::Empirical => SizeDist::Empirical {
            values: (0..EMPIRICAL_POINTS)
                .map(|k| {
                    let q = (k as f64 + 0.5) / EMPIRICAL_POINTS as f64;
                    let index = ((q * values.len() as f64) as usize).min(values.len() - 1);
                    values[index] as u32
                })
                .collect(),
        },
    };
    Some(TokenFit {
        dist,
        n: values.len(),
        median: Estimate {
            value: quantile(&values, 0.5),
            ci: median_ci,
        },
        p90: Estimate {
            value: quantile(&values, 0.9),
            ci: p90_ci,
        },
        sigma: Estimate {
            value: sigma,
            ci: sigma_ci,
        },
    })
}

fn counts_sorted(values: &[f64]) -> Vec<u32> {
    values.iter().map(|v| *v as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empirical_keeps_the_quantiles_and_lognormal_the_log_moments() {
        let counts: Vec<u32> = (1..=5000).map(|i| i % 1000 + 1).collect();
        let mut bootstrap = Bootstrap::new(1, "t", 50);
        let fit = fit_tokens(&counts, TokenModel::Empirical, &mut bootstrap).unwrap();
        let SizeDist::Empirical { values } = &fit.dist else {
            panic!()
        };
        assert_eq!(values.len(), EMPIRICAL_POINTS);
        assert!((f64::from(values[500]) - 500.0).abs() <= 2.0);
        assert!(fit.median.ci_contains(fit.median.value));
        let few = fit_tokens(&[3, 1, 2], TokenModel::Empirical, &mut bootstrap).unwrap();
        assert_eq!(
            few.dist,
            SizeDist::Empirical {
                values: vec![1, 2, 3]
            }
        );
        let lognormal =
            fit_tokens(&[100, 100, 100], TokenModel::Lognormal, &mut bootstrap).unwrap();
        assert_eq!(
            lognormal.dist,
            SizeDist::Lognormal {
                median: 100.0,
                sigma: 0.0,
                min: Some(100),
                max: Some(100)
            }
        );
    }
}
