//! Weighted selection: smooth weighted round-robin (nginx; APIM weighted pools [uncertain],
//! Kong round-robin) and weighted random (`P(b) = w_b / Σw`, LiteLLM simple-shuffle with its
//! weight > rpm > tpm precedence: as LiteLLM 1.108.7 does it over what the config declares, or
//! as the legacy model did over the fleet's limits).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{PickContext, SelectorConfig, uniform};
use crate::balance::mask::Mask;
use crate::balance::part::Part;
use crate::balance::types::{BackendId, BackendSpec, DeclaredWeights};
use crate::seed::SimRng;

/// Smooth WRR: per pick `cur_b += w_b` for every eligible b, choose the argmax (first on a
/// tie), `cur_chosen −= Σw`. All-zero weights count as equal weights.
#[derive(Debug, Clone)]
pub struct SmoothWeighted {
    /// Each backend's current value and its weight (read once from its spec: specs never
    /// change).
    state: Vec<(i64, i64)>,
    /// The backends of weight 0.
    zero: Mask,
}

impl SmoothWeighted {
    /// Fresh state for the backends `specs`.
    pub fn new(specs: &[BackendSpec]) -> Self {
        Self {
            state: specs
                .iter()
                .map(|spec| (0, i64::from(spec.weight)))
                .collect(),
            zero: (0..specs.len())
                .filter(|id| specs[*id].weight == 0)
                .collect(),
        }
    }

    /// One smooth-WRR pick over `ctx.eligible` (of the backends it was built for).
    pub fn pick(&mut self, ctx: &PickContext<'_>) -> Option<BackendId> {
        let all_zero = ctx.eligible.minus(self.zero).is_empty();
        let mut total = 0;
        let mut best: Option<(BackendId, i64)> = None;
        for id in ctx.eligible.iter() {
            let (current, weight) = &mut self.state[id];
            let weight = if all_zero { 1 } else { *weight };
            *current += weight;
            total += weight;
            let value = *current;
            if best.is_none_or(|(_, top)| value > top) {
                best = Some((id, value));
            }
        }
        let (chosen, _) = best?;
        self.state[chosen].0 -= total;
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
