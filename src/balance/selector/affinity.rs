//! Session affinity by consistent hashing (rendezvous / highest-random-weight): a session key
//! goes to the eligible backend with the highest `mix(key, backend)` score, so a key keeps its
//! backend while that backend is available, and only the keys of a backend that goes away move
//! (APIM `sessionAffinity`, LiteLLM `deployment_affinity`, Kong `consistent-hashing`).
//! Requests without a key use uniform random. Switch `on_unavailable`: `rehash` (re-pin to the
//! next-highest score, LiteLLM) or `fail-fast` (no backend, Higress `failFast` proposal).

use serde::{Deserialize, Serialize};

use super::{PickContext, uniform};
use crate::balance::mask::Mask;
use crate::balance::part::Part;
use crate::balance::types::{BackendId, BackendSpec};
use crate::seed::SimRng;

/// What happens when a key's own backend is not eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnavailable {
    /// Next-highest score among the eligible.
    Rehash,
    /// No backend: the strategy's exhaustion answer.
    FailFast,
}

/// Affinity parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffinityConfig {
    /// Switch.
    pub on_unavailable: OnUnavailable,
}

impl Default for AffinityConfig {
    fn default() -> Self {
        Self {
            on_unavailable: OnUnavailable::Rehash,
        }
    }
}

impl Part for AffinityConfig {}

/// FNV-1a of a string: stable across runs and platforms.
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per-backend hash seeds (from the names, so ids can be reordered safely).
#[derive(Debug, Clone)]
pub struct Affinity {
    config: AffinityConfig,
    seeds: Vec<u64>,
}

impl Affinity {
    /// Seeds from backend names.
    pub fn new(config: AffinityConfig, specs: &[BackendSpec]) -> Self {
        Self {
            config,
            seeds: specs.iter().map(|spec| fnv1a(&spec.name)).collect(),
        }
    }

    fn top(&self, key: u64, among: Mask) -> Option<BackendId> {
        among
            .iter()
            .max_by_key(|id| (mix(key ^ self.seeds[*id]), usize::MAX - id))
    }

    /// One pick.
    pub fn pick(&mut self, ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
        let Some(key) = ctx.session else {
            return uniform(ctx.eligible, rng);
        };
        match self.config.on_unavailable {
            OnUnavailable::Rehash => self.top(key, ctx.eligible),
            OnUnavailable::FailFast => self
                .top(key, Mask::all(ctx.specs.len()))
                .filter(|id| ctx.eligible.contains(*id)),
        }
    }
}
