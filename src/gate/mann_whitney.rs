//! The Mann–Whitney U rank test (Wilcoxon rank-sum) with the normal approximation, the tie
//! correction of the variance and the continuity correction — the method scipy's
//! `mannwhitneyu(x, y, method="asymptotic")` uses. Live runs are noisy: ranks compare repeated
//! runs without assuming a distribution, so one slow run cannot flap the gate.

/// Which way the alternative hypothesis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// `x` and `y` differ in either direction.
    TwoSided,
    /// `x` tends to be greater than `y`.
    Greater,
    /// `x` tends to be less than `y`.
    Less,
}

/// The outcome of a test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UTest {
    /// U of the first sample: pairs (x, y) with x > y, ties counting one half.
    pub u_x: f64,
    /// The normal deviate used for the p-value (with continuity correction).
    pub z: f64,
    /// The p-value under the chosen alternative.
    pub p_value: f64,
    /// Common-language effect size `u_x / (n_x · n_y)`: the chance that a random x exceeds a
    /// random y (0.5 = no effect).
    pub effect: f64,
}

/// Test whether `x` and `y` come from the same distribution. `None` when either sample is
/// empty or a value is not finite.
pub fn mann_whitney_u(x: &[f64], y: &[f64], alternative: Alternative) -> Option<UTest> {
    if x.is_empty() || y.is_empty() || x.iter().chain(y).any(|value| !value.is_finite()) {
        return None;
    }
    let (n_x, n_y) = (x.len() as f64, y.len() as f64);
    let n = n_x + n_y;
    let (ranks, tie_term) = ranks_with_ties(x, y);
    let rank_sum_x: f64 = ranks[..x.len()].iter().sum();
    let u_x = rank_sum_x - n_x * (n_x + 1.0) / 2.0;
    let u_y = n_x * n_y - u_x;
    let mean = n_x * n_y / 2.0;
    let variance = n_x * n_y / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    let u = match alternative {
        Alternative::TwoSided => u_x.max(u_y),
        Alternative::Greater => u_x,
        Alternative::Less => u_y,
    };
    let (z, p_value) = if variance > 0.0 {
        let z = (u - mean - 0.5) / variance.sqrt();
        let tail = normal_survival(z);
        let p = match alternative {
            Alternative::TwoSided => (2.0 * tail).min(1.0),
            _ => tail,
        };
        (z, p)
    } else {
        // Every value tied: no evidence either way.
        (0.0, 1.0)
    };
    Some(UTest {
        u_x,
        z,
        p_value,
        effect: u_x / (n_x * n_y),
    })
}

/// Mid-ranks (1-based) of the pooled samples in input order, and Σ(t³ − t) over tie groups.
fn ranks_with_ties(x: &[f64], y: &[f64]) -> (Vec<f64>, f64) {
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by(|&a, &b| pooled[a].total_cmp(&pooled[b]));
    let mut ranks = vec![0.0; pooled.len()];
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && pooled[order[end]] == pooled[order[start]] {
            end += 1;
        }
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = mid_rank;
        }
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    (ranks, tie_term)
}

/// P(Z > z) for a standard normal Z.
pub fn normal_survival(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}
