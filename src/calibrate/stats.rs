//! The statistics calibration needs, small enough to own: weighted least squares, quantiles,
//! the two-sample Kolmogorov–Smirnov distance, QQ points, Wilson and percentile-bootstrap
//! intervals, and the normal and chi-square tails. Bootstrap resamples use Poisson(1) weights
//! (each row counted k ~ Poisson(1) times, the "Poisson bootstrap") drawn from a named stream,
//! so every interval is reproducible from the seed.

use rand::Rng;

use crate::seed::{self, SimRng};

/// A fitted value with its 95% confidence interval, if one could be computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// 95% interval.
    pub ci: Option<(f64, f64)>,
}

impl Estimate {
    /// A value without an interval.
    pub fn bare(value: f64) -> Estimate {
        Estimate { value, ci: None }
    }

    /// Whether the interval holds `x` (no interval: false).
    pub fn ci_contains(&self, x: f64) -> bool {
        self.ci.is_some_and(|(lo, hi)| lo <= x && x <= hi)
    }
}

/// Mean (0 for no values).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation (0 below two values).
pub fn sd(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

/// Quantile `q` of sorted values (linear interpolation between order statistics).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let position = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let below = position.floor() as usize;
            let above = (below + 1).min(n - 1);
            let fraction = position - below as f64;
            sorted[below] + (sorted[above] - sorted[below]) * fraction
        }
    }
}

/// Sorted copy.
pub fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    values.sort_by(f64::total_cmp);
    values
}

/// Weighted least squares: minimise Σ wᵢ (yᵢ − xᵢ·β)² where `features(i, x)` fills row i's
/// `p` features. `None` when the normal equations are singular.
pub fn least_squares(
    n: usize,
    p: usize,
    features: impl Fn(usize, &mut [f64]),
    y: impl Fn(usize) -> f64,
    weight: impl Fn(usize) -> f64,
) -> Option<Vec<f64>> {
    let mut xtx = vec![0.0; p * p];
    let mut xty = vec![0.0; p];
    let mut x = vec![0.0; p];
    for i in 0..n {
        let w = weight(i);
        if w == 0.0 {
            continue;
        }
        features(i, &mut x);
        let yi = y(i);
        for a in 0..p {
            xty[a] += w * x[a] * yi;
            for b in 0..p {
                xtx[a * p + b] += w * x[a] * x[b];
            }
        }
    }
    solve(&mut xtx, &mut xty, p)
}

/// Gaussian elimination with partial pivoting on a p×p system.
fn solve(a: &mut [f64], b: &mut [f64], p: usize) -> Option<Vec<f64>> {
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    for col in 0..p {
        let pivot =
            (col..p).max_by(|&i, &j| a[i * p + col].abs().total_cmp(&a[j * p + col].abs()))?;
        if a[pivot * p + col].abs() <= scale * 1e-12 {
            return None;
        }
        for k in 0..p {
            a.swap(col * p + k, pivot * p + k);
        }
        b.swap(col, pivot);
        for row in col + 1..p {
            let factor = a[row * p + col] / a[col * p + col];
            for k in col..p {
                a[row * p + k] -= factor * a[col * p + k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; p];
    for row in (0..p).rev() {
        let tail: f64 = (row + 1..p).map(|k| a[row * p + k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row * p + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Two-sample Kolmogorov–Smirnov distance: the largest gap between the empirical CDFs.
pub fn ks_distance(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (mut i, mut j, mut gap) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        gap = gap.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    gap
}

/// QQ points: `points` matching quantiles of two sorted samples (0.5% to 99.5%).
pub fn qq(a: &[f64], b: &[f64], points: usize) -> Vec<(f64, f64)> {
    if a.is_empty() || b.is_empty() || points < 2 {
        return Vec::new();
    }
    (0..points)
        .map(|k| {
            let q = 0.005 + 0.99 * k as f64 / (points - 1) as f64;
            (quantile(a, q), quantile(b, q))
        })
        .collect()
}

/// Wilson 95% interval of a proportion `k / n`.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (z, n, p) = (1.96f64, n as f64, k as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// P(X > x) for X ~ χ²(dof), by the Wilson–Hilferty cube-root approximation.
pub fn chi_square_sf(x: f64, dof: f64) -> f64 {
    if dof <= 0.0 {
        return 1.0;
    }
    let k = 2.0 / (9.0 * dof);
    normal_sf(((x / dof).cbrt() - (1.0 - k)) / k.sqrt())
}

/// A Poisson-bootstrap runner on the named stream `calibrate:bootstrap:<name>`.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    rng: SimRng,
    reps: usize,
}

impl Bootstrap {
    /// `reps` resamples (0: no intervals) drawn from `seed`'s stream for `name`.
    pub fn new(seed: u64, name: &str, reps: usize) -> Bootstrap {
        Bootstrap {
            rng: seed::stream(seed, &format!("calibrate:bootstrap:{name}")),
            reps,
        }
    }

    fn poisson_one(&mut self) -> f64 {
        let mut u: f64 = self.rng.random();
        let (mut k, mut term) = (0u32, (-1.0f64).exp());
        while u > term && k < 20 {
            u -= term;
            k += 1;
            term /= f64::from(k);
        }
        f64::from(k)
    }

    /// 95% percentile intervals of the `K` values `fit(weights)` returns over the resamples
    /// (resamples where `fit` fails are left out; fewer than 20 left: no interval).
    pub fn intervals<const K: usize>(
        &mut self,
        n: usize,
        mut fit: impl FnMut(&[f64]) -> Option<[f64; K]>,
    ) -> [Option<(f64, f64)>; K] {
        let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(self.reps); K];
        let mut weights = vec![0.0; n];
        for _ in 0..self.reps {
            for w in weights.iter_mut() {
                *w = self.poisson_one();
            }
            if let Some(values) = fit(&weights) {
                for (k, value) in values.into_iter().enumerate() {
                    draws[k].push(value);
                }
            }
        }
        std::array::from_fn(|k| {
            let values = sorted(draws[k].iter().copied());
            (values.len() >= 20).then(|| (quantile(&values, 0.025), quantile(&values, 0.975)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_a_plane() {
        let xs: Vec<(f64, f64)> = (0..50).map(|i| (f64::from(i), f64::from(i % 7))).collect();
        let beta = least_squares(
            xs.len(),
            3,
            |i, x| x.copy_from_slice(&[1.0, xs[i].0, xs[i].1]),
            |i| 2.0 + 0.5 * xs[i].0 - 3.0 * xs[i].1,
            |_| 1.0,
        )
        .unwrap();
        for (got, want) in beta.iter().zip([2.0, 0.5, -3.0]) {
            assert!((got - want).abs() < 1e-9, "{beta:?}");
        }
        assert!(
            least_squares(
                5,
                2,
                |_, x| x.copy_from_slice(&[1.0, 1.0]),
                |_| 1.0,
                |_| 1.0
            )
            .is_none()
        );
    }

    #[test]
    fn ks_quantiles_and_intervals() {
        let a = sorted((0..100).map(f64::from));
        assert_eq!(ks_distance(&a, &a), 0.0);
        let shifted = sorted((50..150).map(f64::from));
        assert!((ks_distance(&a, &shifted) - 0.5).abs() < 1e-9);
        assert_eq!(quantile(&a, 0.5), 49.5);
        let (lo, hi) = wilson(50, 100).unwrap();
        assert!(lo < 0.5 && hi > 0.5 && hi - lo < 0.21);
        assert!((normal_sf(1.96) - 0.025).abs() < 1e-3);
        // χ²(10): the 95th percentile is 18.307.
        assert!((chi_square_sf(18.307, 10.0) - 0.05).abs() < 0.003);
    }

    #[test]
    fn bootstrap_interval_of_a_mean_covers_it_and_is_reproducible() {
        let values: Vec<f64> = (0..400).map(|i| f64::from(i % 10)).collect();
        let run = || {
            Bootstrap::new(1, "test", 200).intervals(values.len(), |w| {
                let total: f64 = w.iter().sum();
                Some([values.iter().zip(w).map(|(v, w)| v * w).sum::<f64>() / total])
            })
        };
        let [ci] = run();
        let (lo, hi) = ci.unwrap();
        assert!(lo < 4.5 && 4.5 < hi && hi - lo < 0.7, "{lo} {hi}");
        assert_eq!(run(), [ci]);
    }
}
