//! The estimator behind [`super::latency`]: one fit of the mock's latency model to weighted
//! calls, for a given choice of which parameters are free.
//!
//! Means: E[TTFT] = base + k × p and E[gen] = c × g × (1 + λ × x) for g = n − 1 inter-token
//! gaps and x the load feature, so that E[e2e] is linear in (1, p, g, g × x). Variances:
//! Var[TTFT] = u_A × E[TTFT]² and Var[gen] = u_B × E[gen]² (log-normal multipliers of mean 1,
//! u = e^{σ²} − 1). Weighted least squares with weights 1 / Var, iterated; the u's by least
//! squares of squared residuals on the squared means.

use super::stats::least_squares;

/// One successful call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyRow {
    /// Prompt tokens.
    pub prompt: f64,
    /// Completion tokens − 1 (inter-token gaps), at least 0.
    pub gaps: f64,
    /// Duration, seconds.
    pub e2e: f64,
    /// Time to first token, seconds, if logged.
    pub ttft: Option<f64>,
    /// min(in-flight at its start / 64, 1).
    pub load: f64,
}

/// Which parameters the fit leaves free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// `None`: fit the per-prompt-token cost; `Some(k)`: fixed at k seconds.
    pub per_token: Option<f64>,
    /// Fit a load factor.
    pub load: bool,
    /// Fit TTFT and generation apart from a logged TTFT.
    pub ttft: bool,
}

/// One fit's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// TTFT base, seconds.
    pub base: f64,
    /// Seconds per prompt token.
    pub per_token: f64,
    /// E[seconds per inter-token gap] at no load = e^{σ_B²} / tps.
    pub c: f64,
    /// c × load factor.
    pub c_load: f64,
    /// e^{σ_A²} − 1.
    pub u_a: f64,
    /// e^{σ_B²} − 1.
    pub u_b: f64,
}

impl Params {
    /// `[ttft_base s, per-token s, ttft_jitter, tokens_per_second, tps_jitter, load_factor]`.
    pub fn values(&self) -> [f64; 6] {
        let sigma = |u: f64| (1.0 + u.max(0.0)).ln().sqrt();
        let (sa, sb) = (sigma(self.u_a), sigma(self.u_b));
        [
            self.base,
            self.per_token,
            sa,
            (sb * sb).exp() / self.c,
            sb,
            self.c_load / self.c,
        ]
    }
}

/// The means of one call under `beta`: (E[TTFT], E[gen]).
type Means<'a> = dyn Fn(&[f64], &LatencyRow) -> (f64, f64) + 'a;

/// Σ w r² m² / Σ w m⁴: least squares of r² on m² through the origin.
fn ratio(values: impl Iterator<Item = (f64, f64, f64)>) -> f64 {
    let (mut top, mut bottom) = (0.0, 0.0);
    for (w, r2, m) in values {
        top += w * r2 * m * m;
        bottom += w * m.powi(4);
    }
    if bottom > 0.0 {
        (top / bottom).max(0.0)
    } else {
        0.0
    }
}

/// What a part of the model is fitted to: the observed value of a call, and the known part of
/// its mean (the fixed per-token cost) taken off before least squares.
struct Target<'a> {
    observed: &'a dyn Fn(&LatencyRow) -> f64,
    offset: &'a dyn Fn(&LatencyRow) -> f64,
}

/// Variance factors (u_A, u_B) of the residuals of `rows`, non-negative: least squares of the
/// squared residuals on the squared means, then again weighted by 1 / Var(r²) ∝ 1 / v² (the
/// squared residuals of long generations are far noisier than those of short ones, and would
/// otherwise drown the TTFT term).
fn variances(
    rows: &[&LatencyRow],
    w: &[f64],
    beta: &[f64],
    means: &Means<'_>,
    target: &Target<'_>,
) -> (f64, f64) {
    let y = target.observed;
    let parts: Vec<(f64, f64, f64)> = rows
        .iter()
        .map(|row| {
            let (a, g) = means(beta, row);
            ((y(row) - a - g).powi(2), a, g)
        })
        .collect();
    let solve = |q: &dyn Fn(usize) -> f64| {
        let only = |pick: fn(&(f64, f64, f64)) -> f64| {
            ratio(
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (w[i] * q(i), p.0, pick(p))),
            )
        };
        let has = |pick: fn(&(f64, f64, f64)) -> f64| parts.iter().any(|p| pick(p) != 0.0);
        match (has(|p| p.1), has(|p| p.2)) {
            (false, _) => return (0.0, only(|p| p.2)),
            (_, false) => return (only(|p| p.1), 0.0),
            _ => {}
        }
        let both = least_squares(
            parts.len(),
            2,
            |i, x| x.copy_from_slice(&[parts[i].1.powi(2), parts[i].2.powi(2)]),
            |i| parts[i].0,
            |i| w[i] * q(i),
        );
        match both {
            Some(u) if u[0] >= 0.0 && u[1] >= 0.0 => (u[0], u[1]),
            Some(u) if u[0] < 0.0 => (0.0, only(|p| p.2)),
            _ => (only(|p| p.1), 0.0),
        }
    };
    let (u_a, u_b) = solve(&|_| 1.0);
    let variance = |i: usize| (u_a * parts[i].1.powi(2) + u_b * parts[i].2.powi(2)).max(1e-9);
    solve(&|i| 1.0 / variance(i).powi(2))
}

/// Weighted least squares of the target on `features`, reweighted twice by 1 / Var.
fn fit_means(
    rows: &[&LatencyRow],
    w: &[f64],
    p: usize,
    features: &dyn Fn(&LatencyRow, &mut [f64]),
    target: &Target<'_>,
    means: &Means<'_>,
) -> Option<(Vec<f64>, (f64, f64))> {
    let y = |row: &LatencyRow| (target.observed)(row) - (target.offset)(row);
    let fit = |weights: &dyn Fn(usize) -> f64| {
        least_squares(
            rows.len(),
            p,
            |i, x| features(rows[i], x),
            |i| y(rows[i]),
            weights,
        )
    };
    let mut beta = fit(&|i| w[i])?;
    for _ in 0..2 {
        let (u_a, u_b) = variances(rows, w, &beta, means, target);
        let weight = |i: usize| {
            let (a, g) = means(&beta, rows[i]);
            w[i] / (u_a * a * a + u_b * g * g).max(1e-9)
        };
        beta = fit(&weight).unwrap_or(beta);
    }
    let u = variances(rows, w, &beta, means, target);
    Some((beta, u))
}

/// Fit `rows` under weights `w` (aligned with `rows`).
pub fn fit(rows: &[LatencyRow], w: &[f64], spec: Spec) -> Option<Params> {
    let k0 = spec.per_token.unwrap_or(0.0);
    let free_k = spec.per_token.is_none();
    let pa = 1 + usize::from(free_k);
    let pb = 1 + usize::from(spec.load);
    let ttft_x = move |row: &LatencyRow, x: &mut [f64]| {
        x[0] = 1.0;
        if free_k {
            x[1] = row.prompt;
        }
    };
    let gen_x = move |row: &LatencyRow, x: &mut [f64]| {
        x[0] = row.gaps;
        if spec.load {
            x[1] = row.gaps * row.load;
        }
    };
    let prefill = move |row: &LatencyRow| k0 * row.prompt;
    let dot = |x: &[f64], beta: &[f64]| x.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>();
    let ttft_mean = move |beta: &[f64], row: &LatencyRow| {
        let mut x = [0.0; 2];
        ttft_x(row, &mut x[..pa]);
        dot(&x[..pa], beta) + k0 * row.prompt
    };
    let gen_mean = move |beta: &[f64], row: &LatencyRow| {
        let mut x = [0.0; 2];
        gen_x(row, &mut x[..pb]);
        dot(&x[..pb], beta)
    };
    let (a, b, u_a, u_b) = if spec.ttft {
        let timed: Vec<(&LatencyRow, f64)> = rows
            .iter()
            .zip(w)
            .filter(|(r, _)| r.ttft.is_some())
            .map(|(r, w)| (r, *w))
            .collect();
        let (t_rows, t_w): (Vec<&LatencyRow>, Vec<f64>) = timed.iter().copied().unzip();
        let (a, (u_a, _)) = fit_means(
            &t_rows,
            &t_w,
            pa,
            &ttft_x,
            &Target {
                observed: &|r| r.ttft.unwrap_or(0.0),
                offset: &prefill,
            },
            &|beta, r| (ttft_mean(beta, r), 0.0),
        )?;
        let (g_rows, g_w): (Vec<&LatencyRow>, Vec<f64>) =
            timed.into_iter().filter(|(r, _)| r.gaps >= 1.0).unzip();
        let (b, (_, u_b)) = fit_means(
            &g_rows,
            &g_w,
            pb,
            &gen_x,
            &Target {
                observed: &|r| r.e2e - r.ttft.unwrap_or(0.0),
                offset: &|_| 0.0,
            },
            &|beta, r| (0.0, gen_mean(beta, r)),
        )?;
        (a, b, u_a, u_b)
    } else {
        let all: Vec<&LatencyRow> = rows.iter().collect();
        let features = |row: &LatencyRow, x: &mut [f64]| {
            ttft_x(row, &mut x[..pa]);
            gen_x(row, &mut x[pa..]);
        };
        let (beta, (u_a, u_b)) = fit_means(
            &all,
            w,
            pa + pb,
            &features,
            &Target {
                observed: &|r| r.e2e,
                offset: &prefill,
            },
            &|beta, r| (ttft_mean(&beta[..pa], r), gen_mean(&beta[pa..], r)),
        )?;
        (beta[..pa].to_vec(), beta[pa..].to_vec(), u_a, u_b)
    };
    Some(Params {
        base: a[0],
        per_token: if free_k { a[1] } else { k0 },
        c: b[0],
        c_load: if spec.load { b[1] } else { 0.0 },
        u_a,
        u_b,
    })
}
