//! The initial design: a Latin hypercube in the unit cube — each of the `n` points in a
//! different `1/n` slice of every dimension — drawn from the seeded stream `tune:design`, the
//! most spread of [`DRAWS`] draws (largest smallest distance between two points, "maximin").
//! It covers every parameter's range evenly with few points, which a grid of the same size
//! cannot do in more than one dimension.

use rand::Rng;
use rand::seq::SliceRandom;

use crate::seed::stream;

/// Latin hypercubes drawn; the most spread one is kept.
pub const DRAWS: usize = 32;

/// `n` points in `[0, 1]^dimensions`, deterministic for `seed`.
pub fn latin_hypercube(n: usize, dimensions: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = stream(seed, "tune:design");
    let mut best: Vec<Vec<f64>> = Vec::new();
    let mut best_spread = f64::NEG_INFINITY;
    for _ in 0..DRAWS {
        let mut points = vec![vec![0.0; dimensions]; n];
        for dimension in 0..dimensions {
            let mut slices: Vec<usize> = (0..n).collect();
            slices.shuffle(&mut rng);
            for (point, slice) in points.iter_mut().zip(slices) {
                point[dimension] = (slice as f64 + rng.random::<f64>()) / n as f64;
            }
        }
        let spread = smallest_distance(&points);
        if spread > best_spread {
            best_spread = spread;
            best = points;
        }
    }
    best
}

fn smallest_distance(points: &[Vec<f64>]) -> f64 {
    let mut smallest = f64::INFINITY;
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let distance: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
            smallest = smallest.min(distance);
        }
    }
    smallest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slice_of_every_dimension_holds_one_point() {
        let points = latin_hypercube(16, 3, 42);
        assert_eq!(points.len(), 16);
        for dimension in 0..3 {
            let mut slices: Vec<usize> = points
                .iter()
                .map(|p| (p[dimension] * 16.0).floor() as usize)
                .collect();
            slices.sort_unstable();
            assert_eq!(slices, (0..16).collect::<Vec<_>>());
        }
        assert_eq!(points, latin_hypercube(16, 3, 42), "same seed, same design");
        assert_ne!(points, latin_hypercube(16, 3, 43));
    }
}
