//! Sim against real, figure by figure, with bounds taken from the simulator itself: the same
//! strategy simulated on several seeds gives each figure's seed-to-seed spread (standard
//! deviation); a real run agrees when it lies within three of those of the simulation on its
//! own seed (the same schedule), floored at half a point for shares and ratios and 2% for
//! latencies so a figure the simulator never moves (0 exhausted, say) is not held to exactly 0.

use std::fmt::Write;

use serde::Serialize;

use super::figures::{Figures, MetricKind};

/// Standard deviations of seed-to-seed spread a real run may lie from the simulation.
pub const SPREAD_FACTOR: f64 = 3.0;
/// Smallest bound on a share or ratio (half a percentage point).
pub const SHARE_FLOOR: f64 = 0.005;
/// Smallest bound on a latency, relative to the simulated value.
pub const LATENCY_FLOOR: f64 = 0.02;

/// Mean, standard deviation and range of one figure over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Mean over the seeds.
    pub mean: f64,
    /// Sample standard deviation (0 with one seed).
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (None when empty).
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Some(Spread {
            mean,
            sd: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// One figure compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The figure.
    pub metric: String,
    /// Its kind.
    pub kind: MetricKind,
    /// Simulated on the real run's seed (the same schedule).
    pub sim: Option<f64>,
    /// Over the seeds simulated.
    pub spread: Option<Spread>,
    /// Measured on the real system.
    pub real: Option<f64>,
    /// Largest |real − sim| that counts as agreement.
    pub bound: f64,
    /// Whether |real − sim| ≤ bound (false when either side has no value).
    pub within: bool,
}

impl Row {
    /// Whether the real figure lies within `factor` standard deviations of the simulation (with
    /// the same floors): the test suite holds the short pass to 4 σ, which keeps the chance of a
    /// false alarm over its ~30 figures near 0.2% per run where 3 σ would give ~8%.
    pub fn within_factor(&self, factor: f64) -> bool {
        match (self.sim, self.real) {
            (Some(sim), Some(real)) => {
                (real - sim).abs() <= bound_with(factor, self.kind, sim, self.spread) + 1e-12
            }
            _ => false,
        }
    }
}

/// The bound of a figure with this spread around `sim`.
pub fn bound(kind: MetricKind, sim: f64, spread: Option<Spread>) -> f64 {
    bound_with(SPREAD_FACTOR, kind, sim, spread)
}

fn bound_with(factor: f64, kind: MetricKind, sim: f64, spread: Option<Spread>) -> f64 {
    let from_spread = spread.map_or(0.0, |s| factor * s.sd);
    let floor = match kind {
        MetricKind::Share | MetricKind::Ratio => SHARE_FLOOR,
        MetricKind::Seconds => LATENCY_FLOOR * sim.abs(),
    };
    from_spread.max(floor)
}

/// Compares `real` with `sim` (the simulation on the real run's seed), using the spread of
/// `seeds` (simulations of the same strategy on other seeds, `sim` included or not).
pub fn compare(sim: &Figures, seeds: &[Figures], real: &Figures) -> Vec<Row> {
    let real_metrics = real.metrics();
    let seed_metrics: Vec<_> = seeds.iter().map(Figures::metrics).collect();
    sim.metrics()
        .into_iter()
        .enumerate()
        .map(|(index, (metric, kind, sim_value))| {
            let values: Vec<f64> = seed_metrics
                .iter()
                .filter_map(|metrics| metrics.get(index).and_then(|m| m.2))
                .collect();
            let spread = Spread::of(&values);
            let real_value = real_metrics.get(index).and_then(|m| m.2);
            let bound = sim_value.map_or(0.0, |s| bound(kind, s, spread));
            let within = match (sim_value, real_value) {
                (Some(s), Some(r)) => (r - s).abs() <= bound + 1e-12,
                _ => false,
            };
            Row {
                metric,
                kind,
                sim: sim_value,
                spread,
                real: real_value,
                bound,
                within,
            }
        })
        .collect()
}

fn cell(kind: MetricKind, value: Option<f64>) -> String {
    match (kind, value) {
        (_, None) => "–".to_string(),
        (MetricKind::Share, Some(v)) => format!("{:.2}%", v * 100.0),
        (MetricKind::Ratio, Some(v)) => format!("{v:.3}"),
        (MetricKind::Seconds, Some(v)) => format!("{v:.3}"),
    }
}

fn amount(kind: MetricKind, value: f64) -> String {
    match kind {
        MetricKind::Share => format!("{:.2} pt", value * 100.0),
        _ => format!("{value:.3}"),
    }
}

/// The comparison as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    table(rows, true)
}

/// The figures of an invalid run (its system stopped answering) as a Markdown table whose
/// last column agrees or disagrees with nothing.
pub fn markdown_invalid(rows: &[Row]) -> String {
    table(rows, false)
}

fn table(rows: &[Row], valid: bool) -> String {
    let mut out = String::from(
        "| figure | sim (same seed) | sim over seeds: mean ± sd [min, max] | real | Δ real − sim | bound | agrees |\n|---|---:|---:|---:|---:|---:|:---:|\n",
    );
    for row in rows {
        let spread = row.spread.map_or("–".to_string(), |s| {
            format!(
                "{} ± {} [{}, {}]",
                cell(row.kind, Some(s.mean)),
                amount(row.kind, s.sd),
                cell(row.kind, Some(s.min)),
                cell(row.kind, Some(s.max))
            )
        });
        let delta = match (row.sim, row.real) {
            (Some(s), Some(r)) => amount(row.kind, r - s),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.metric,
            cell(row.kind, row.sim),
            spread,
            cell(row.kind, row.real),
            delta,
            amount(row.kind, row.bound),
            match (valid, row.within) {
                (false, _) => "invalid run",
                (true, true) => "yes",
                (true, false) => "**no**",
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_three_seed_to_seed_deviations_floored() {
        let spread = Spread::of(&[0.10, 0.12, 0.14]).expect("values");
        assert!((spread.sd - 0.02).abs() < 1e-12);
        assert!((bound(MetricKind::Share, 0.12, Some(spread)) - 0.06).abs() < 1e-12);
        let flat = Spread::of(&[0.0, 0.0]).expect("values");
        assert_eq!(bound(MetricKind::Share, 0.0, Some(flat)), SHARE_FLOOR);
        assert!((bound(MetricKind::Seconds, 0.5, Some(flat)) - 0.01).abs() < 1e-12);
    }
}
