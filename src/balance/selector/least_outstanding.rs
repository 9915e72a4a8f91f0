//! Load-aware selection on in-flight counts: least outstanding over the whole eligible set
//! (Envoy/Kong least-connections with equal weights; LiteLLM least-busy with its quirk) and
//! power-of-d choices (JSQ(d); tower `p2c` samples two distinct endpoints with `sample_floyd2`,
//! lower load wins, tie → first sampled).

use rand::Rng;
use serde::{Deserialize, Serialize};
use toml::Table;

use super::{PickContext, uniform};
use crate::balance::mask::{MAX_BACKENDS, Mask};
use crate::balance::part::{Part, Problem};
use crate::balance::types::BackendId;
use crate::seed::SimRng;

/// How ties on the lowest count are broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TieBreak {
    /// Lowest backend id (LiteLLM: first in dict order).
    First,
    /// Uniform among the tied.
    Random,
}

/// Least outstanding requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeastOutstandingConfig {
    /// Tie break.
    pub tie_break: TieBreak,
    /// LiteLLM least-busy (`least_busy.py` at 00e06b8): argmin over every deployment in the
    /// request-count map (all of them; unseen = 0), cooled or not; if that argmin is not
    /// eligible, `random.choice` over the eligible set. Set by the LiteLLM version modelled.
    #[serde(skip)]
    pub litellm_quirk: bool,
}

impl Default for LeastOutstandingConfig {
    /// Random tie break over the eligible set (`selector = { kind = "least-outstanding" }`).
    fn default() -> Self {
        Self {
            tie_break: TieBreak::Random,
            litellm_quirk: false,
        }
    }
}

impl Part for LeastOutstandingConfig {
    fn settle(&mut self, before: &Self, _written: &Table) {
        self.litellm_quirk = before.litellm_quirk;
    }
}

impl LeastOutstandingConfig {
    /// One pick.
    pub fn pick(&self, ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
        let candidates = if self.litellm_quirk {
            Mask::all(ctx.specs.len())
        } else {
            ctx.eligible
        };
        let lowest = candidates.iter().map(|id| ctx.inflight[id]).min()?;
        let tied: Mask = candidates
            .iter()
            .filter(|id| ctx.inflight[*id] == lowest)
            .collect();
        let chosen = match self.tie_break {
            TieBreak::First => tied.first(),
            TieBreak::Random => uniform(tied, rng),
        }?;
        if ctx.eligible.contains(chosen) {
            Some(chosen)
        } else {
            uniform(ctx.eligible, rng)
        }
    }
}

/// Power of d choices on in-flight counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerOfDConfig {
    /// Number of samples (2 = P2C).
    pub d: u32,
    /// Distinct samples (tower) or with replacement (the supermarket model).
    pub distinct: bool,
}

impl Default for PowerOfDConfig {
    /// P2C with distinct samples (`selector = { kind = "power-of-d" }`).
    fn default() -> Self {
        Self {
            d: 2,
            distinct: true,
        }
    }
}

impl Part for PowerOfDConfig {
    fn check(&self) -> Result<(), Problem> {
        if self.d == 0 {
            return Err(Problem::new("d", "0: must be at least 1"));
        }
        Ok(())
    }
}

/// Draws `d` backends of `eligible` into `out`, returning how many were drawn (`min(d, count)`
/// when distinct). Partial Fisher–Yates on a stack array: no allocation.
pub fn sample(
    eligible: Mask,
    d: usize,
    distinct: bool,
    rng: &mut SimRng,
    out: &mut [BackendId; MAX_BACKENDS],
) -> usize {
    let mut members = [0usize; MAX_BACKENDS];
    let mut count = 0;
    for id in eligible.iter() {
        members[count] = id;
        count += 1;
    }
    if count == 0 {
        return 0;
    }
    let draws = d.min(MAX_BACKENDS);
    if !distinct {
        for slot in out.iter_mut().take(draws) {
            *slot = members[rng.random_range(0..count)];
        }
        return draws;
    }
    let draws = draws.min(count);
    for i in 0..draws {
        let j = rng.random_range(i..count);
        members.swap(i, j);
        out[i] = members[i];
    }
    draws
}

impl PowerOfDConfig {
    /// One pick: the sampled backend with the fewest in-flight requests, first sampled on a tie.
    pub fn pick(&self, ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
        if ctx.eligible.count() == 1 {
            return ctx.eligible.first();
        }
        let mut drawn = [0usize; MAX_BACKENDS];
        let n = sample(
            ctx.eligible,
            self.d.max(1) as usize,
            self.distinct,
            rng,
            &mut drawn,
        );
        drawn[..n]
            .iter()
            .copied()
            .min_by_key(|id| ctx.inflight[*id])
    }
}
