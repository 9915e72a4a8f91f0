//! Circuit breakers of the real systems, one module each, behind one small interface.
//!
//! A breaker holds the state of every backend of one gateway instance (so K gateway instances
//! are K independent values). Time only moves when the caller passes `now`: `refresh` applies
//! timer-driven transitions (recorded at the instant they took effect, not when noticed),
//! `available` says whether selection may use a backend, `on_send` lets half-open breakers
//! count probes, `record` feeds a response. Every phase change goes to the `TransitionLog`.
//!
//! Each breaker's parameter struct is a [`Part`]: its serde fields are the settings a scenario
//! writes in `breaker = { … }`, its range checks live beside it. Adding a breaker is its module
//! plus its arm in each `match` of this file (the kinds table, [`BreakerConfig`], [`Breakers`]).

pub mod apim;
pub mod envoy;
pub mod hystrix;
pub mod kong;
pub mod litellm;
pub mod resilience4j;
pub mod throttle_flag;
mod window;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Table;

use super::mask::Mask;
use super::part::{OverrideError, Part, Problem, no_settings, start_from, with_overrides};
use super::types::{BackendId, BackendState, Observation, Phase, Reason, Transition};
use crate::seed::SimRng;

/// A response as a breaker sees it: what came back and when its attempt was sent.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    /// Status and headers.
    pub observation: &'a Observation,
    /// When the attempt was sent (the breakers that time calls subtract it; the others never
    /// pay for the subtraction).
    pub sent_at: Duration,
}

impl Outcome<'_> {
    /// Time from send to the response headers that arrived at `now` (slow-call detection).
    pub fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.sent_at)
    }
}

/// The breaker timeline of one strategy, drained by the driver.
#[derive(Debug, Clone, Default)]
pub struct TransitionLog {
    entries: Vec<Transition>,
}

impl TransitionLog {
    /// Whether no transition waits to be drained.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records one transition.
    pub fn push(
        &mut self,
        at: Duration,
        backend: BackendId,
        from: Phase,
        to: Phase,
        reason: Reason,
    ) {
        self.entries.push(Transition {
            at,
            backend,
            from,
            to,
            reason,
        });
    }

    /// Takes every recorded transition, ordered by time (stable for equal times).
    pub fn drain(&mut self) -> Vec<Transition> {
        let mut out = std::mem::take(&mut self.entries);
        out.sort_by_key(|transition| transition.at);
        out
    }
}

/// The interface each breaker module implements.
pub trait BreakerRule {
    /// Applies transitions due by `now` (trip ended, wait elapsed, a periodic detector's
    /// sweep), drawing from `rng` where the breaker's rule is random.
    fn refresh(&mut self, now: Duration, rng: &mut SimRng, log: &mut TransitionLog);
    /// Whether selection may use `backend` (after `refresh`).
    fn available(&self, backend: BackendId) -> bool;
    /// `backend` was chosen for an attempt at `now`.
    fn on_send(&mut self, now: Duration, backend: BackendId, log: &mut TransitionLog);
    /// A response from `backend` arrived at `now`.
    fn record(
        &mut self,
        now: Duration,
        backend: BackendId,
        outcome: &Outcome<'_>,
        rng: &mut SimRng,
        log: &mut TransitionLog,
    );
    /// The state of `backend` at `now`, without changing anything.
    fn state(&self, now: Duration, backend: BackendId) -> BackendState;
    /// The backends among `0..backends` that [`BreakerRule::available`] lets selection use
    /// (a breaker that tracks its open set overrides this loop). Out of line, as is every
    /// per-attempt method of a breaker whose work is a loop: the strategy inlines the
    /// dispatch, and these bodies would only crowd its registers.
    #[inline(never)]
    fn available_mask(&self, backends: usize) -> Mask {
        (0..backends).filter(|id| self.available(*id)).collect()
    }
    /// The earliest end of a timed open state among `0..backends` at `now` (what
    /// [`BreakerRule::state`] reports as `Open { until: Some(_) }`).
    #[inline(never)]
    fn earliest_reopen(&self, now: Duration, backends: usize) -> Option<Duration> {
        (0..backends)
            .filter_map(|id| match self.state(now, id) {
                BackendState::Open { until } => until,
                _ => None,
            })
            .min()
    }
}

/// Which breaker a strategy uses, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum BreakerConfig {
    /// No breaker: every backend is always available.
    None,
    /// APIM backend circuit breaker rule, the same on every backend.
    Apim(apim::ApimRule),
    /// APIM rules per backend (member backends of an imported pool), by backend id.
    ApimPerBackend {
        /// Rule of each backend; None = that backend has no breaker.
        rules: Vec<Option<apim::ApimRule>>,
    },
    /// One qualifying response throttles a backend until a header-given time.
    ThrottleFlag(throttle_flag::ThrottleFlagRule),
    /// Envoy outlier detection (consecutive failures).
    Envoy(envoy::EnvoyRule),
    /// resilience4j failure-rate breaker.
    Resilience4j(resilience4j::Resilience4jRule),
    /// Hystrix error-percentage breaker.
    Hystrix(hystrix::HystrixRule),
    /// LiteLLM router cooldown.
    Litellm(litellm::LitellmRule),
    /// Kong AI Proxy Advanced `max_fails` / `fail_timeout`.
    Kong(kong::KongRule),
}

impl BreakerConfig {
    /// Every kind `breaker = { kind = … }` can name, with the parameters it starts from.
    pub fn kinds() -> [BreakerConfig; 8] {
        [
            BreakerConfig::None,
            BreakerConfig::Apim(apim::ApimRule::default()),
            BreakerConfig::ThrottleFlag(throttle_flag::ThrottleFlagRule::default()),
            BreakerConfig::Envoy(envoy::EnvoyRule::default()),
            BreakerConfig::Resilience4j(resilience4j::Resilience4jRule::default()),
            BreakerConfig::Hystrix(hystrix::HystrixRule::default()),
            BreakerConfig::Litellm(litellm::LitellmRule::default()),
            BreakerConfig::Kong(kong::KongRule::default()),
        ]
    }

    /// This breaker with a `breaker = { … }` table written onto it: `kind` swaps in that
    /// kind's defaults first; every other key is a setting of the (new) kind, refused by name
    /// if it has none such. Per-backend APIM rules (an imported pool) take it rule by rule.
    pub fn overridden(&self, given: &Table) -> Result<BreakerConfig, OverrideError> {
        let (start, settings) =
            start_from(self, given, &Self::kinds(), Self::kind_name, "breaker")?;
        let described = format!("breaker is {}", start.kind_name());
        let described = described.as_str();
        Ok(match &start {
            BreakerConfig::None => {
                no_settings(&settings, described)?;
                BreakerConfig::None
            }
            BreakerConfig::Apim(rule) => {
                BreakerConfig::Apim(with_overrides(rule, &settings, described)?)
            }
            BreakerConfig::ApimPerBackend { rules } => BreakerConfig::ApimPerBackend {
                rules: rules
                    .iter()
                    .map(|rule| {
                        rule.as_ref()
                            .map(|rule| with_overrides(rule, &settings, described))
                            .transpose()
                    })
                    .collect::<Result<_, _>>()?,
            },
            BreakerConfig::ThrottleFlag(rule) => {
                BreakerConfig::ThrottleFlag(with_overrides(rule, &settings, described)?)
            }
            BreakerConfig::Envoy(rule) => {
                BreakerConfig::Envoy(with_overrides(rule, &settings, described)?)
            }
            BreakerConfig::Resilience4j(rule) => {
                BreakerConfig::Resilience4j(with_overrides(rule, &settings, described)?)
            }
            BreakerConfig::Hystrix(rule) => {
                BreakerConfig::Hystrix(with_overrides(rule, &settings, described)?)
            }
            BreakerConfig::Litellm(rule) => {
                BreakerConfig::Litellm(with_overrides(rule, &settings, described)?)
            }
            BreakerConfig::Kong(rule) => {
                BreakerConfig::Kong(with_overrides(rule, &settings, described)?)
            }
        })
    }

    /// Range checks of the parameters (every rule, for per-backend APIM rules).
    pub fn check(&self) -> Result<(), Problem> {
        match self {
            BreakerConfig::None => Ok(()),
            BreakerConfig::Apim(rule) => rule.check(),
            BreakerConfig::ApimPerBackend { rules } => {
                rules.iter().flatten().try_for_each(Part::check)
            }
            BreakerConfig::ThrottleFlag(rule) => rule.check(),
            BreakerConfig::Envoy(rule) => rule.check(),
            BreakerConfig::Resilience4j(rule) => rule.check(),
            BreakerConfig::Hystrix(rule) => rule.check(),
            BreakerConfig::Litellm(rule) => rule.check(),
            BreakerConfig::Kong(rule) => rule.check(),
        }
    }

    /// The kind's name as written in config (`apim`, `throttle-flag`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            BreakerConfig::None => "none",
            BreakerConfig::Apim(_) | BreakerConfig::ApimPerBackend { .. } => "apim",
            BreakerConfig::ThrottleFlag(_) => "throttle-flag",
            BreakerConfig::Envoy(_) => "envoy",
            BreakerConfig::Resilience4j(_) => "resilience4j",
            BreakerConfig::Hystrix(_) => "hystrix",
            BreakerConfig::Litellm(_) => "litellm",
            BreakerConfig::Kong(_) => "kong",
        }
    }

    /// Builds the per-backend state for `n` backends.
    pub fn build(&self, n: usize) -> Breakers {
        match self {
            BreakerConfig::None => Breakers::None,
            BreakerConfig::Apim(rule) => Breakers::Apim(apim::ApimBreaker::new(rule.clone(), n)),
            BreakerConfig::ApimPerBackend { rules } => {
                Breakers::Apim(apim::ApimBreaker::per_backend(rules.clone()))
            }
            BreakerConfig::ThrottleFlag(rule) => {
                Breakers::ThrottleFlag(throttle_flag::ThrottleFlagBreaker::new(rule.clone(), n))
            }
            BreakerConfig::Envoy(rule) => {
                Breakers::Envoy(envoy::EnvoyBreaker::new(rule.clone(), n))
            }
            BreakerConfig::Resilience4j(rule) => {
                Breakers::Resilience4j(resilience4j::Resilience4jBreaker::new(rule.clone(), n))
            }
            BreakerConfig::Hystrix(rule) => {
                Breakers::Hystrix(hystrix::HystrixBreaker::new(rule.clone(), n))
            }
            BreakerConfig::Litellm(rule) => {
                Breakers::Litellm(litellm::LitellmBreaker::new(rule.clone(), n))
            }
            BreakerConfig::Kong(rule) => Breakers::Kong(kong::KongBreaker::new(rule.clone(), n)),
        }
    }
}

/// The breaker state of every backend of one strategy (enum dispatch: no allocation, `Clone`).
/// `repr(u8)`: an explicit tag byte, so each per-attempt dispatch reads it instead of decoding
/// a niche in a variant's fields.
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum Breakers {
    /// No breaker.
    None,
    /// APIM.
    Apim(apim::ApimBreaker),
    /// Throttle flag.
    ThrottleFlag(throttle_flag::ThrottleFlagBreaker),
    /// Envoy.
    Envoy(envoy::EnvoyBreaker),
    /// resilience4j.
    Resilience4j(resilience4j::Resilience4jBreaker),
    /// Hystrix.
    Hystrix(hystrix::HystrixBreaker),
    /// LiteLLM.
    Litellm(litellm::LitellmBreaker),
    /// Kong.
    Kong(kong::KongBreaker),
}

macro_rules! dispatch {
    ($self:expr, $rule:ident => $body:expr, none => $none:expr) => {
        match $self {
            Breakers::None => $none,
            Breakers::Apim($rule) => $body,
            Breakers::ThrottleFlag($rule) => $body,
            Breakers::Envoy($rule) => $body,
            Breakers::Resilience4j($rule) => $body,
            Breakers::Hystrix($rule) => $body,
            Breakers::Litellm($rule) => $body,
            Breakers::Kong($rule) => $body,
        }
    };
}

// The per-attempt dispatchers are always inlined: the strategy then pays one jump-table
// branch and the rule's own inlined checks (APIM's are a compare or two), not a call that
// saves every register to branch again.
impl Breakers {
    /// The backends among `0..backends` that [`BreakerRule::available`] lets selection use
    /// (one dispatch for the whole pool: this runs for every attempt).
    #[inline(always)]
    pub fn available_mask(&self, backends: usize) -> Mask {
        dispatch!(
            self,
            rule => rule.available_mask(backends),
            none => Mask::all(backends)
        )
    }

    /// [`BreakerRule::refresh`] at `now`, then [`Self::available_mask`], behind one dispatch
    /// (every pick needs both; no caller refreshes without reading the mask).
    #[inline(always)]
    pub fn refreshed_mask(
        &mut self,
        now: Duration,
        rng: &mut SimRng,
        log: &mut TransitionLog,
        backends: usize,
    ) -> Mask {
        dispatch!(
            self,
            rule => {
                rule.refresh(now, rng, log);
                rule.available_mask(backends)
            },
            none => Mask::all(backends)
        )
    }

    /// See [`BreakerRule::earliest_reopen`] (one dispatch for the whole pool).
    #[inline]
    pub fn earliest_reopen(&self, now: Duration, backends: usize) -> Option<Duration> {
        dispatch!(self, rule => rule.earliest_reopen(now, backends), none => None)
    }

    /// See [`BreakerRule::on_send`].
    #[inline(always)]
    pub fn on_send(&mut self, now: Duration, backend: BackendId, log: &mut TransitionLog) {
        dispatch!(self, rule => rule.on_send(now, backend, log), none => ())
    }

    /// See [`BreakerRule::record`].
    #[inline(always)]
    pub fn record(
        &mut self,
        now: Duration,
        backend: BackendId,
        outcome: &Outcome<'_>,
        rng: &mut SimRng,
        log: &mut TransitionLog,
    ) {
        dispatch!(self, rule => rule.record(now, backend, outcome, rng, log), none => ())
    }

    /// LiteLLM: the shortest configured cooldown among the active ones (else the router's
    /// default); None for every other breaker.
    #[inline]
    pub fn shortest_cooldown(&self, now: Duration) -> Option<Duration> {
        match self {
            Breakers::Litellm(rule) => Some(rule.shortest_cooldown(now)),
            _ => None,
        }
    }

    /// See [`BreakerRule::state`].
    pub fn state(&self, now: Duration, backend: BackendId) -> BackendState {
        dispatch!(self, rule => rule.state(now, backend), none => BackendState::Closed)
    }
}

/// Applies a closing timer: if `until` has passed, clears it and records Open → Closed at `until`.
pub(crate) fn expire(
    open_until: &mut Option<Duration>,
    now: Duration,
    backend: BackendId,
    log: &mut TransitionLog,
) {
    if let Some(until) = *open_until
        && now >= until
    {
        *open_until = None;
        log.push(
            until,
            backend,
            Phase::Open,
            Phase::Closed,
            Reason::TimerExpired,
        );
    }
}

/// The state of a backend that is open until an optional deadline.
pub(crate) fn timed_state(open_until: Option<Duration>, now: Duration) -> BackendState {
    match open_until {
        Some(until) if now < until => BackendState::Open { until: Some(until) },
        _ => BackendState::Closed,
    }
}

/// The status code for a trip reason (0 for transport errors).
pub(crate) fn status_code(observation: &Observation) -> u16 {
    observation.status.code().unwrap_or(0)
}
