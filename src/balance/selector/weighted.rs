//! Weighted selection: smooth weighted round-robin (nginx; APIM weighted pools [uncertain],
//! Kong round-robin) and weighted random (`P(b) = w_b / Σw`, LiteLLM simple-shuffle with its
//! weight > rpm > tpm precedence: as LiteLLM 1.108.7 does it over what the config declares, or
//! as the legacy model did over the fleet's limits).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::equal_weights::EqualWeights;
use super::{PickContext, SelectorConfig, uniform};
use crate::balance::mask::{MAX_BACKENDS, Mask};
use crate::balance::part::Part;
use crate::balance::types::{BackendId, BackendSpec, DeclaredWeights};
use crate::seed::SimRng;

/// Smooth WRR: per pick `cur_b += w_b` for every eligible b, choose the argmax (first on a
/// tie), `cur_chosen −= Σw`. All-zero weights count as equal weights.
#[derive(Debug, Clone)]
pub struct SmoothWeighted {
    /// Each backend's current value, by id. One slot per id a [`Mask`] can hold, so the pick
    /// loop (run for every attempt) indexes without a bounds check.
    current: Box<[i64; MAX_BACKENDS]>,
    /// Each backend's weight, read once from its spec (specs never change); 0 past the pool.
    weight: Box<[i64; MAX_BACKENDS]>,
    /// The backends of weight 0.
    zero: Mask,
    /// When every backend weighs the same (1 if all weigh 0): the picks as a queue.
    equal: Option<EqualWeights>,
}

/// The weights smooth WRR uses when every eligible backend weighs 0.
static EQUAL_WEIGHTS: [i64; MAX_BACKENDS] = [1; MAX_BACKENDS];

impl SmoothWeighted {
    /// Fresh state for the backends `specs` (a strategy has at most [`MAX_BACKENDS`]).
    pub fn new(specs: &[BackendSpec]) -> Self {
        let mut weight = Box::new([0; MAX_BACKENDS]);
        for (slot, spec) in weight.iter_mut().zip(specs) {
            *slot = i64::from(spec.weight);
        }
        // The deferred adds grow with the picks: a weight up to 2^20 keeps them inside an
        // i64 for 2^42 picks (a century at a thousand per second).
        let equal = specs
            .split_first()
            .filter(|(first, rest)| rest.iter().all(|spec| spec.weight == first.weight))
            .map(|(first, _)| first.weight.max(1))
            .filter(|weight| *weight <= 1 << 20)
            .map(|weight| EqualWeights::new(i64::from(weight)));
        Self {
            current: Box::new([0; MAX_BACKENDS]),
            weight,
            zero: (0..specs.len())
                .filter(|id| specs[*id].weight == 0)
                .collect(),
            equal,
        }
    }

    /// One smooth-WRR pick over `eligible` (of the backends it was built for): the set is all
    /// it reads, so the strategy calls it without building a [`PickContext`].
    // Always inlined (into the strategy's pick): the equal-weight queue is a few instructions,
    // less than a call; the scan over other weights stays out of line.
    #[inline(always)]
    pub fn pick(&mut self, eligible: Mask) -> Option<BackendId> {
        match &mut self.equal {
            Some(queue) => queue.pick(&mut self.current, eligible),
            None => self.pick_weighted(eligible),
        }
    }

    /// [`Self::pick`] over unequal weights: every eligible member gains its weight, the first
    /// largest is chosen and loses the set's total.
    #[inline(never)]
    fn pick_weighted(&mut self, eligible: Mask) -> Option<BackendId> {
        let weights = if eligible.minus(self.zero).is_empty() {
            &EQUAL_WEIGHTS
        } else {
            &*self.weight
        };
        let current = &mut *self.current;
        // Ids in increasing order; `% MAX_BACKENDS` is a no-op on a mask's ids (all below it)
        // that lets the compiler drop the bounds checks.
        let mut ids = eligible.iter().map(|id| id % MAX_BACKENDS);
        let first = ids.next()?;
        current[first] += weights[first];
        let mut total = weights[first];
        let (mut chosen, mut top) = (first, current[first]);
        for id in ids {
            let weight = weights[id];
            current[id] += weight;
            total += weight;
            if current[id] > top {
                (chosen, top) = (id, current[id]);
            }
        }
        current[chosen] -= total;
        Some(chosen)
    }
}

/// The one setting of the two weight-driven selectors, smooth WRR and weighted random:
/// `selector = { weighted = "smooth" | "random" }` switches between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weighting {
    /// Which of the two.
    pub weighted: WeightedMode,
}

/// Weighted selection inside a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightedMode {
    /// Smooth weighted round-robin.
    Smooth,
    /// Weighted random over the backends' `weight`.
    Random,
}

impl Part for Weighting {}

impl Weighting {
    /// The selector this setting stands for.
    pub fn selector(self) -> SelectorConfig {
        match self.weighted {
            WeightedMode::Smooth => SelectorConfig::SmoothWeighted,
            WeightedMode::Random => SelectorConfig::WeightedRandom(WeightSource::Weight),
        }
    }
}

/// Where weighted random reads a backend's weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightSource {
    /// `BackendSpec::weight`.
    Weight,
    /// The legacy model of LiteLLM simple-shuffle, decided by the first eligible deployment:
    /// weights if they differ (a spec has no "unset" weight, so equal weights read as unset),
    /// else its rpm limit if it has one, else its tpm limit if it has one, else uniform. Missing
    /// values = 0. It weighs by the fleet's quotas, which LiteLLM never sees.
    LitellmShuffle,
    /// LiteLLM 1.108.7 simple-shuffle (`litellm/router_strategy/simple_shuffle.py`
    /// `simple_shuffle`): the first of `weight`, `rpm`, `tpm` whose largest declared value
    /// over the eligible deployments is positive weighs the draw (`random.choices`, missing =
    /// 0); nothing declared → `random.choice`, uniform.
    LitellmDeclared,
}

fn weight_of(source: WeightSource, spec: &BackendSpec, by: Option<ByLimit>) -> u64 {
    match (source, by) {
        (WeightSource::Weight | WeightSource::LitellmDeclared, _)
        | (WeightSource::LitellmShuffle, None) => u64::from(spec.weight),
        (WeightSource::LitellmShuffle, Some(ByLimit::Rpm)) => spec.rpm_limit.unwrap_or(0),
        (WeightSource::LitellmShuffle, Some(ByLimit::Tpm)) => spec.tpm_limit.unwrap_or(0),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByLimit {
    Rpm,
    Tpm,
}

/// LiteLLM 1.108.7 simple-shuffle over the declared `weight`, `rpm`, `tpm`.
fn litellm_declared(ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
    let metrics: [fn(&DeclaredWeights) -> Option<f64>; 3] = [|d| d.weight, |d| d.rpm, |d| d.tpm];
    for metric in metrics {
        let weight = |id: BackendId| {
            ctx.specs[id]
                .declared
                .as_ref()
                .and_then(metric)
                .unwrap_or(0.0)
        };
        let largest = ctx.eligible.iter().map(weight).fold(0.0, f64::max);
        if largest <= 0.0 {
            continue;
        }
        // random.choices: cumulative weights, then the first whose sum exceeds U·total.
        let total: f64 = ctx.eligible.iter().map(|id| weight(id).max(0.0)).sum();
        let mut draw = rng.random::<f64>() * total;
        for id in ctx.eligible.iter() {
            let w = weight(id).max(0.0);
            if draw < w {
                return Some(id);
            }
            draw -= w;
        }
        return ctx.eligible.iter().filter(|id| weight(*id) > 0.0).last();
    }
    uniform(ctx.eligible, rng)
}

/// Weighted random pick: `r = U·Σw`, walk subtracting. All-zero weights → uniform.
pub fn weighted_random(
    source: WeightSource,
    ctx: &PickContext<'_>,
    rng: &mut SimRng,
) -> Option<BackendId> {
    if source == WeightSource::LitellmDeclared {
        return litellm_declared(ctx, rng);
    }
    let mut by = None;
    if source == WeightSource::LitellmShuffle {
        let first = ctx.eligible.first()?;
        let equal_weights = ctx
            .eligible
            .iter()
            .all(|id| ctx.specs[id].weight == ctx.specs[first].weight);
        if equal_weights {
            by = if ctx.specs[first].rpm_limit.is_some() {
                Some(ByLimit::Rpm)
            } else if ctx.specs[first].tpm_limit.is_some() {
                Some(ByLimit::Tpm)
            } else {
                return uniform(ctx.eligible, rng);
            };
        }
    }
    let total: u64 = ctx
        .eligible
        .iter()
        .map(|id| weight_of(source, &ctx.specs[id], by))
        .sum();
    if total == 0 {
        return uniform(ctx.eligible, rng);
    }
    let mut remaining = rng.random_range(0..total);
    for id in ctx.eligible.iter() {
        let weight = weight_of(source, &ctx.specs[id], by);
        if remaining < weight {
            return Some(id);
        }
        remaining -= weight;
    }
    ctx.eligible.first()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Smooth WRR as nginx states it, over a plain vector: what the pick must equal.
    fn reference_pick(state: &mut [(i64, i64)], zero: Mask, eligible: Mask) -> Option<BackendId> {
        let all_zero = eligible.minus(zero).is_empty();
        let mut total = 0;
        let mut best: Option<(BackendId, i64)> = None;
        for id in eligible.iter() {
            let (current, weight) = &mut state[id];
            let weight = if all_zero { 1 } else { *weight };
            *current += weight;
            total += weight;
            if best.is_none_or(|(_, top)| *current > top) {
                best = Some((id, *current));
            }
        }
        let (chosen, _) = best?;
        state[chosen].0 -= total;
        Some(chosen)
    }

    #[test]
    fn smooth_pick_equals_the_reference_over_changing_eligible_sets() {
        let mixed = [1, 1, 3, 0, 2, 1, 1, 5, 0, 1, 1, 1, 4, 1, 1, 2];
        // Equal weights (all 1, all 3, all 0) take the queue of `EqualWeights`.
        for weights in [mixed, [1; 16], [3; 16], [0; 16]] {
            check_against_reference(weights);
        }
    }

    fn check_against_reference(weights: [u32; 16]) {
        let specs: Vec<BackendSpec> = weights
            .iter()
            .enumerate()
            .map(|(id, w)| BackendSpec::named(format!("b{id}")).with_weight(*w))
            .collect();
        let mut fast = SmoothWeighted::new(&specs);
        assert_eq!(
            fast.equal.is_some(),
            weights.iter().all(|w| *w == weights[0])
        );
        let mut state: Vec<(i64, i64)> = weights.iter().map(|w| (0, i64::from(*w))).collect();
        let zero = fast.zero;
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        for round in 0..20_000 {
            // Mostly stable sets (as breakers leave them), sometimes all-zero or empty ones.
            let eligible = match round % 11 {
                // Long runs of one set, as between breaker transitions.
                _ if round % 3_000 >= 2_000 => Mask(0xb5e3 >> (round / 3_000)),
                0 => Mask(rng.random::<u64>() & 0xffff),
                1 if round % 2 == 0 => Mask::EMPTY.with(3),
                1 => Mask::EMPTY.with(3).with(8),
                2 => Mask::EMPTY,
                3..=6 => Mask::all(8),
                _ => Mask::all(8).minus(Mask(rng.random::<u64>() & 0x0f)),
            };
            assert_eq!(
                fast.pick(eligible),
                reference_pick(&mut state, zero, eligible),
                "round {round}, weights {weights:?}"
            );
        }
        if let Some(queue) = &mut fast.equal {
            queue.settle(&mut fast.current);
        }
        let current: Vec<i64> = state.iter().map(|(current, _)| *current).collect();
        assert_eq!(&fast.current[..16], &current[..], "{weights:?}");
    }
}
