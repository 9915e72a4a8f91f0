//! Priority levels beyond the best one: the level of each backend when ids follow the
//! priority order (then the best level present is the lowest candidate's, with no scan of the
//! levels), a named level's members, and Envoy's priority load.

use rand::Rng;

use super::Strategy;
use crate::balance::mask::Mask;
use crate::balance::types::BackendSpec;
use crate::seed::SimRng;

/// The members of each backend's level, by id, when priorities never decrease with the id;
/// None otherwise.
pub(super) fn level_of(backends: &[BackendSpec], levels: &[(u32, Mask)]) -> Option<Vec<Mask>> {
    if !backends
        .windows(2)
        .all(|pair| pair[0].priority <= pair[1].priority)
    {
        return None;
    }
    Some(
        backends
            .iter()
            .map(|spec| members(levels, spec.priority))
            .collect(),
    )
}

/// The backends of level `priority` (none when no backend has it).
fn members(levels: &[(u32, Mask)], priority: u32) -> Mask {
    levels
        .iter()
        .find(|(level, _)| *level == priority)
        .map_or(Mask::EMPTY, |(_, members)| *members)
}

impl Strategy {
    /// The members of `candidates` in priority group `priority`.
    pub(super) fn group(&self, candidates: Mask, priority: u32) -> Mask {
        candidates.and(members(&self.levels, priority))
    }

    /// Envoy's priority load: level i's health is `min(100, healthy share × factor × 100)`;
    /// levels take `min(what is left, health × 100 / min(100, Σ health))` in order. Draws the
    /// level of one request (no draw when the first level taking traffic takes it all); None
    /// in panic or when nothing is healthy (the caller falls back to the best group).
    pub(super) fn envoy_priority(
        &self,
        factor: f64,
        available: Mask,
        rng: &mut SimRng,
    ) -> Option<u32> {
        if self.in_panic(available) {
            return None;
        }
        let health = |members: Mask| {
            let healthy = members.and(available).count() as f64 / members.count() as f64;
            (healthy * factor * 100.0).min(100.0)
        };
        let total = self
            .levels
            .iter()
            .map(|(_, members)| health(*members))
            .sum::<f64>()
            .min(100.0);
        if total <= 0.0 {
            return None;
        }
        // Loads in level order; the first positive one decides whether a draw is needed.
        let mut left = 100.0;
        let mut loads = self.levels.iter().map(move |(priority, members)| {
            let load = (health(*members) * 100.0 / total).min(left);
            left -= load;
            (*priority, load)
        });
        let (first, load) = loads.find(|(_, load)| *load > 0.0)?;
        if load >= 100.0 {
            return Some(first);
        }
        let mut draw = rng.random::<f64>() * 100.0 - load;
        if draw < 0.0 {
            return Some(first);
        }
        for (priority, load) in loads {
            if draw < load {
                return Some(priority);
            }
            draw -= load;
        }
        self.levels.last().map(|(priority, _)| *priority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::{Preset, StrategyConfig};

    fn pool(priorities: &[u32]) -> Strategy {
        let specs: Vec<BackendSpec> = priorities
            .iter()
            .enumerate()
            .map(|(id, priority)| BackendSpec::named(format!("b{id}")).with_priority(*priority))
            .collect();
        Strategy::new(&StrategyConfig::preset("p", Preset::ApimPool), &specs).expect("builds")
    }

    /// The lowest candidate's level is the first level holding a candidate, on every subset.
    #[test]
    fn the_lowest_candidates_level_is_the_best_present() {
        let mut rng = crate::seed::stream(3, "levels");
        for priorities in [
            &[1, 1, 2, 2, 2, 3][..],
            &[1, 2, 3, 4, 5, 6],
            &[4; 6],
            &[0, 0, 9, 9, 9, 9],
        ] {
            let fast = pool(priorities);
            assert!(fast.level_of.is_some());
            let mut scan = fast.clone();
            scan.level_of = None;
            let all = Mask::all(priorities.len());
            for candidates in 0..=all.0 {
                let candidates = Mask(candidates);
                assert_eq!(
                    fast.best_group(candidates, all, &mut rng),
                    scan.best_group(candidates, all, &mut rng),
                    "{priorities:?} {candidates:?}"
                );
            }
        }
        assert!(pool(&[2, 1, 1]).level_of.is_none());
    }
}
