//! A metric over seeds: the mean and the 95 % confidence interval of the mean by Student's t
//! (two-sided, n − 1 degrees of freedom), the interval a robust recommendation is judged on.
//! With one seed the interval is the value itself.

use serde::{Deserialize, Serialize};

/// `t(0.975, df)` for df = 1..=30 (the standard table).
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom (beyond the table,
/// 1.96 + 2.4 / df, within 0.002 of the exact value).
pub fn t_quantile_95(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T_975[df - 1],
        _ => 1.96 + 2.4 / df as f64,
    }
}

/// Mean and 95 % interval of one metric over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The mean.
    pub mean: f64,
    /// Lower end of the 95 % confidence interval of the mean.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Sample standard deviation (0 with one seed).
    pub sd: f64,
    /// Seeds it is over.
    pub n: usize,
}

impl Estimate {
    /// The estimate from one value per seed (None when empty).
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Some(Estimate {
                mean,
                low: mean,
                high: mean,
                sd: 0.0,
                n,
            });
        }
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = variance.sqrt();
        let half = t_quantile_95(n - 1) * sd / (n as f64).sqrt();
        Some(Estimate {
            mean,
            low: mean - half,
            high: mean + half,
            sd,
            n,
        })
    }

    /// Half the interval's width.
    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_the_t_interval_of_the_mean() {
        // Five values with mean 3 and sample sd sqrt(2.5).
        let estimate = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(estimate.mean, 3.0);
        let half = 2.776 * 2.5f64.sqrt() / 5f64.sqrt();
        assert!((estimate.half_width() - half).abs() < 1e-12);
        assert!((estimate.low - (3.0 - half)).abs() < 1e-12);
        let one = Estimate::of(&[7.0]).unwrap();
        assert_eq!((one.low, one.mean, one.high), (7.0, 7.0, 7.0));
        assert!(Estimate::of(&[]).is_none());
        assert!((t_quantile_95(60) - 2.000).abs() < 0.002);
        assert!((t_quantile_95(120) - 1.980).abs() < 0.002);
    }
}
