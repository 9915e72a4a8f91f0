//! Selectors: which eligible backend takes the next attempt.
//!
//! A selector sees only the eligible set (`Mask`: breaker closed, not excluded by the retry
//! loop, narrowed to the best priority group when the strategy groups by priority) plus
//! in-flight counts; it never returns a backend outside that set. Selectors that learn from
//! traffic (latency, usage, headroom) get `on_send`, `on_response` and `on_complete` hooks.
//! Enum dispatch keeps strategies `Clone` and allocation-free per request.
//!
//! Each selector's parameter struct is a [`Part`]: its serde fields are the settings a scenario
//! writes in `selector = { … }`, its range checks live beside it. Adding a selector is its
//! module plus its arm in each `match` of this file (the kinds table, [`SelectorConfig`],
//! [`Selector`]).

pub mod affinity;
mod equal_weights;
pub mod headroom;
pub mod latency;
pub mod least_outstanding;
pub mod peak_ewma;
pub mod usage;
pub mod weighted;

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use toml::Table;

use super::mask::Mask;
use super::part::{OverrideError, Part, Problem, no_settings, start_from, with_overrides};
use super::types::{BackendId, BackendSpec, Completion, Observation};
use crate::seed::SimRng;

/// What a selector may look at for one pick.
#[derive(Debug, Clone, Copy)]
pub struct PickContext<'a> {
    /// Time of the pick.
    pub now: Duration,
    /// All backends, by id.
    pub specs: &'a [BackendSpec],
    /// Backends the pick may return.
    pub eligible: Mask,
    /// Attempts in flight per backend.
    pub inflight: &'a [u32],
    /// Estimated tokens of the request.
    pub est_tokens: u64,
    /// Hash of the session key, if any.
    pub session: Option<u64>,
    /// Whether the request streams.
    pub stream: bool,
}

/// Which selector a strategy uses, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SelectorConfig {
    /// Uniform random over the eligible set.
    Random,
    /// Round-robin in backend order.
    RoundRobin,
    /// Smooth weighted round-robin (nginx), equal weights = round-robin.
    SmoothWeighted,
    /// Weighted random `P(b) = w_b / Σw`.
    WeightedRandom(weighted::WeightSource),
    /// First eligible backend in configured order (PowerProxy failover).
    Ordered,
    /// Fewest in-flight requests over the whole eligible set.
    LeastOutstanding(least_outstanding::LeastOutstandingConfig),
    /// Fewest in-flight requests among `d` sampled backends (JSQ(d), P2C for d = 2).
    PowerOfD(least_outstanding::PowerOfDConfig),
    /// P2C on the Peak-EWMA latency cost (tower, Finagle).
    PeakEwma(peak_ewma::PeakEwmaConfig),
    /// LiteLLM lowest-latency with a buffer.
    LowestLatency(latency::LatencyConfig),
    /// LiteLLM usage-based v2 (fixed-minute TPM).
    Usage(usage::UsageConfig),
    /// Most token headroom from `x-ratelimit-remaining-*` with refill since the observation.
    TokenHeadroom(headroom::HeadroomConfig),
    /// Consistent hash of the session key.
    Affinity(affinity::AffinityConfig),
}

impl SelectorConfig {
    /// Every kind `selector = { kind = … }` can name, with the parameters it starts from.
    pub fn kinds() -> [SelectorConfig; 12] {
        [
            SelectorConfig::Random,
            SelectorConfig::RoundRobin,
            SelectorConfig::SmoothWeighted,
            SelectorConfig::WeightedRandom(weighted::WeightSource::Weight),
            SelectorConfig::Ordered,
            SelectorConfig::LeastOutstanding(Default::default()),
            SelectorConfig::PowerOfD(Default::default()),
            SelectorConfig::PeakEwma(Default::default()),
            SelectorConfig::LowestLatency(Default::default()),
            SelectorConfig::Usage(Default::default()),
            SelectorConfig::TokenHeadroom(Default::default()),
            SelectorConfig::Affinity(Default::default()),
        ]
    }

    /// This selector with a `selector = { … }` table written onto it: `kind` swaps in that
    /// kind's defaults first; every other key is a setting of the (new) kind, refused by name
    /// if it has none such.
    pub fn overridden(&self, given: &Table) -> Result<SelectorConfig, OverrideError> {
        use weighted::{WeightSource, WeightedMode, Weighting};
        let (start, settings) =
            start_from(self, given, &Self::kinds(), Self::kind_name, "selector")?;
        let described = format!("selector is {}", start.kind_name());
        let described = described.as_str();
        let weighting = |weighted| {
            with_overrides(&Weighting { weighted }, &settings, described).map(Weighting::selector)
        };
        Ok(match &start {
            SelectorConfig::SmoothWeighted => weighting(WeightedMode::Smooth)?,
            SelectorConfig::WeightedRandom(WeightSource::Weight) => {
                weighting(WeightedMode::Random)?
            }
            SelectorConfig::Random
            | SelectorConfig::RoundRobin
            | SelectorConfig::WeightedRandom(_)
            | SelectorConfig::Ordered => {
                no_settings(&settings, described)?;
                start
            }
            SelectorConfig::LeastOutstanding(config) => {
                SelectorConfig::LeastOutstanding(with_overrides(config, &settings, described)?)
            }
            SelectorConfig::PowerOfD(config) => {
                SelectorConfig::PowerOfD(with_overrides(config, &settings, described)?)
            }
            SelectorConfig::PeakEwma(config) => {
                SelectorConfig::PeakEwma(with_overrides(config, &settings, described)?)
            }
            SelectorConfig::LowestLatency(config) => {
                SelectorConfig::LowestLatency(with_overrides(config, &settings, described)?)
            }
            SelectorConfig::Usage(config) => {
                SelectorConfig::Usage(with_overrides(config, &settings, described)?)
            }
            SelectorConfig::TokenHeadroom(config) => {
                SelectorConfig::TokenHeadroom(with_overrides(config, &settings, described)?)
            }
            SelectorConfig::Affinity(config) => {
                SelectorConfig::Affinity(with_overrides(config, &settings, described)?)
            }
        })
    }

    /// Range checks of the parameters.
    pub fn check(&self) -> Result<(), Problem> {
        match self {
            SelectorConfig::Random
            | SelectorConfig::RoundRobin
            | SelectorConfig::SmoothWeighted
            | SelectorConfig::WeightedRandom(_)
            | SelectorConfig::Ordered => Ok(()),
            SelectorConfig::LeastOutstanding(config) => config.check(),
            SelectorConfig::PowerOfD(config) => config.check(),
            SelectorConfig::PeakEwma(config) => config.check(),
            SelectorConfig::LowestLatency(config) => config.check(),
            SelectorConfig::Usage(config) => config.check(),
            SelectorConfig::TokenHeadroom(config) => config.check(),
            SelectorConfig::Affinity(config) => config.check(),
        }
    }

    /// The kind's name as written in config.
    pub fn kind_name(&self) -> &'static str {
        match self {
            SelectorConfig::Random => "random",
            SelectorConfig::RoundRobin => "round-robin",
            SelectorConfig::SmoothWeighted => "smooth-weighted",
            SelectorConfig::WeightedRandom(_) => "weighted-random",
            SelectorConfig::Ordered => "ordered",
            SelectorConfig::LeastOutstanding(_) => "least-outstanding",
            SelectorConfig::PowerOfD(_) => "power-of-d",
            SelectorConfig::PeakEwma(_) => "peak-ewma",
            SelectorConfig::LowestLatency(_) => "lowest-latency",
            SelectorConfig::Usage(_) => "usage",
            SelectorConfig::TokenHeadroom(_) => "token-headroom",
            SelectorConfig::Affinity(_) => "affinity",
        }
    }

    /// Builds the selector state for `specs`.
    pub fn build(&self, specs: &[BackendSpec]) -> Selector {
        let n = specs.len();
        match self {
            SelectorConfig::Random => Selector::Random,
            SelectorConfig::RoundRobin => Selector::RoundRobin { cursor: 0 },
            SelectorConfig::SmoothWeighted => {
                Selector::SmoothWeighted(weighted::SmoothWeighted::new(specs))
            }
            SelectorConfig::WeightedRandom(source) => Selector::WeightedRandom(*source),
            SelectorConfig::Ordered => Selector::Ordered,
            SelectorConfig::LeastOutstanding(config) => Selector::LeastOutstanding(*config),
            SelectorConfig::PowerOfD(config) => Selector::PowerOfD(*config),
            SelectorConfig::PeakEwma(config) => {
                Selector::PeakEwma(peak_ewma::PeakEwma::new(*config, n))
            }
            SelectorConfig::LowestLatency(config) => {
                Selector::LowestLatency(latency::LowestLatency::new(*config, n))
            }
            SelectorConfig::Usage(config) => Selector::Usage(usage::UsageBased::new(*config, n)),
            SelectorConfig::TokenHeadroom(config) => {
                Selector::TokenHeadroom(headroom::TokenHeadroom::new(*config, specs))
            }
            SelectorConfig::Affinity(config) => {
                Selector::Affinity(affinity::Affinity::new(*config, specs))
            }
        }
    }
}

/// Selector state of one strategy. `repr(u8)`: an explicit tag byte, so each per-attempt
/// dispatch reads it instead of decoding a niche in a variant's fields.
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum Selector {
    /// Uniform random.
    Random,
    /// Round-robin; `cursor` is the next id to try first.
    RoundRobin {
        /// Next id to try first.
        cursor: usize,
    },
    /// Smooth weighted round-robin.
    SmoothWeighted(weighted::SmoothWeighted),
    /// Weighted random.
    WeightedRandom(weighted::WeightSource),
    /// First available in order.
    Ordered,
    /// Least outstanding.
    LeastOutstanding(least_outstanding::LeastOutstandingConfig),
    /// Power of d choices.
    PowerOfD(least_outstanding::PowerOfDConfig),
    /// P2C Peak-EWMA.
    PeakEwma(peak_ewma::PeakEwma),
    /// LiteLLM lowest latency.
    LowestLatency(latency::LowestLatency),
    /// LiteLLM usage-based v2.
    Usage(usage::UsageBased),
    /// Token headroom.
    TokenHeadroom(headroom::TokenHeadroom),
    /// Session affinity.
    Affinity(affinity::Affinity),
}

/// A uniform draw from the eligible set (no draw when it has one member).
pub fn uniform(eligible: Mask, rng: &mut SimRng) -> Option<BackendId> {
    match eligible.count() {
        0 => None,
        1 => eligible.first(),
        count => eligible.nth(rng.random_range(0..count)),
    }
}

impl Selector {
    /// Picks one backend of `ctx.eligible`, or None when the set is empty (or, for a selector
    /// with an admission rule such as usage-based, when no eligible backend admits the request).
    #[inline]
    pub fn pick(&mut self, ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
        if ctx.eligible.is_empty() {
            return None;
        }
        match self {
            Selector::Random => uniform(ctx.eligible, rng),
            Selector::RoundRobin { cursor } => {
                let n = ctx.specs.len();
                let chosen = (0..n)
                    .map(|offset| (*cursor + offset) % n)
                    .find(|id| ctx.eligible.contains(*id))?;
                *cursor = (chosen + 1) % n;
                Some(chosen)
            }
            Selector::SmoothWeighted(state) => state.pick(ctx.eligible),
            Selector::WeightedRandom(source) => weighted::weighted_random(*source, ctx, rng),
            Selector::Ordered => ctx.eligible.first(),
            Selector::LeastOutstanding(config) => config.pick(ctx, rng),
            Selector::PowerOfD(config) => config.pick(ctx, rng),
            Selector::PeakEwma(state) => state.pick(ctx, rng),
            Selector::LowestLatency(state) => state.pick(ctx, rng),
            Selector::Usage(state) => state.pick(ctx, rng),
            Selector::TokenHeadroom(state) => state.pick(ctx),
            Selector::Affinity(state) => state.pick(ctx, rng),
        }
    }

    /// The check a system makes after picking and before sending (LiteLLM usage-based: counts
    /// the request against the minute's RPM and says whether it is over).
    #[inline]
    pub fn pre_call_rejects(
        &mut self,
        now: Duration,
        backend: BackendId,
        spec: &BackendSpec,
    ) -> bool {
        match self {
            Selector::Usage(state) => state.pre_call_rejects(now, backend, spec),
            _ => false,
        }
    }

    /// An attempt of `est_tokens` was sent to `backend` at `now`.
    #[inline]
    pub fn on_send(&mut self, now: Duration, backend: BackendId, est_tokens: u64) {
        if let Selector::TokenHeadroom(state) = self {
            state.on_send(now, backend, est_tokens);
        }
    }

    /// Whether [`Self::on_response`] changes anything (the selectors it dispatches to).
    pub fn hears_responses(&self) -> bool {
        matches!(
            self,
            Selector::TokenHeadroom(_) | Selector::LowestLatency(_)
        )
    }

    /// Response headers from `backend` arrived at `now`.
    #[inline]
    pub fn on_response(&mut self, now: Duration, backend: BackendId, observation: &Observation) {
        match self {
            Selector::TokenHeadroom(state) => state.on_response(now, backend, observation),
            Selector::LowestLatency(state) => state.on_response(now, backend, observation),
            _ => {}
        }
    }

    /// The body of a response from `backend` ended at `now`.
    #[inline]
    pub fn on_complete(&mut self, now: Duration, backend: BackendId, completion: &Completion) {
        match self {
            Selector::PeakEwma(state) => state.on_complete(now, backend, completion),
            Selector::LowestLatency(state) => state.on_complete(now, backend, completion),
            Selector::Usage(state) => state.on_complete(now, backend, completion),
            _ => {}
        }
    }
}
