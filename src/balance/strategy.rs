//! `Strategy`: selector + breakers + gateway retry loop + exhaustion answer, and the
//! per-request driver loop both the simulator and the live gateway run:
//!
//! ```text
//! let mut attempt = strategy.begin(now, &RequestInfo { .. });
//! loop {
//!     match strategy.next(now, &mut attempt, rng) {
//!         Step::Send(backend) => { /* forward; when headers arrive: */
//!             match strategy.on_response(now, &mut attempt, backend, &observation, rng) {
//!                 Verdict::Retry => continue,          // the gateway drops this response
//!                 Verdict::Return => { /* stream it to the client, then */
//!                     strategy.on_complete(now, backend, &completion); break }
//!             }
//!         }
//!         Step::WaitUntil(t) => { /* resume at t (gateway retry interval) */ }
//!         Step::Respond(exhausted) => { /* answer with it */ break }
//!     }
//! }
//! ```
//!
//! All mutable state lives in the value (K gateway instances = K values). No clock, no globals.

use std::cmp::Ordering;
use std::time::Duration;

use super::BalanceError;
pub use super::attempt::Attempt;
use super::breaker::{BreakerConfig, Breakers, Outcome, TransitionLog};
use super::composition::Composition;
use super::exhaustion::{DEADLINE_MESSAGE, Exhausted, LITELLM_RPM_MESSAGE, RetryAfterHeader};
use super::mask::{MAX_BACKENDS, Mask};
use super::selector::{PickContext, Selector};
use super::status_set::StatusSet;
use super::types::{
    BackendId, BackendSpec, BackendState, Completion, FailureLogging, Observation, RequestInfo,
    Status, Transition,
};
use crate::seed::SimRng;

mod inert;
mod priority;

/// What the driver does next for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Forward the request to this backend.
    Send(BackendId),
    /// Wait until this time, then call `next` again.
    WaitUntil(Duration),
    /// Answer the client with the gateway's own response.
    Respond(Exhausted),
}

/// What to do with a backend response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Return it to the client; call `on_complete` when its body ends.
    Return,
    /// Drop it and call `next` again (the attempt is closed).
    Retry,
}

/// One balancing strategy of one gateway instance.
#[derive(Debug, Clone)]
pub struct Strategy {
    name: String,
    specs: Vec<BackendSpec>,
    composition: Composition,
    selector: Selector,
    breakers: Breakers,
    inflight: Vec<u32>,
    /// Each priority present and its backends, best first.
    levels: Vec<(u32, Mask)>,
    /// Each backend's level, when ids follow the priority order (see `priority`).
    level_of: Option<Vec<Mask>>,
    /// The backends with a non-streaming fraction not at least 1 (the others never decline
    /// and never draw).
    may_decline: Mask,
    log: TransitionLog,
    /// The responses `on_response` may pass back at once (see the `inert` module).
    inert: StatusSet,
}

impl Strategy {
    /// Builds a strategy from its parts.
    pub fn from_composition(
        name: impl Into<String>,
        composition: Composition,
        backends: &[BackendSpec],
    ) -> Result<Self, BalanceError> {
        let name = name.into();
        if backends.is_empty() {
            return Err(BalanceError::field(
                format!("strategies[{name}].backends"),
                "no backends: a strategy needs at least one",
            ));
        }
        if backends.len() > MAX_BACKENDS {
            return Err(BalanceError::field(
                format!("strategies[{name}].backends"),
                format!(
                    "{} backends; at most {MAX_BACKENDS} are supported",
                    backends.len()
                ),
            ));
        }
        if let BreakerConfig::ApimPerBackend { rules } = &composition.breaker
            && rules.len() != backends.len()
        {
            return Err(BalanceError::field(
                format!("strategies[{name}].backends"),
                format!(
                    "{} backends but {} per-backend breaker rules: pass the imported pool's backend_specs",
                    backends.len(),
                    rules.len()
                ),
            ));
        }
        let mut priorities: Vec<u32> = backends.iter().map(|spec| spec.priority).collect();
        priorities.sort_unstable();
        priorities.dedup();
        let levels: Vec<(u32, Mask)> = priorities
            .into_iter()
            .map(|priority| {
                let members = (0..backends.len())
                    .filter(|id| backends[*id].priority == priority)
                    .collect();
                (priority, members)
            })
            .collect();
        let selector = composition.selector.build(backends);
        let inert = inert::inert_statuses(&composition, &selector);
        Ok(Self {
            selector,
            breakers: composition.breaker.build(backends.len()),
            inflight: vec![0; backends.len()],
            level_of: priority::level_of(backends, &levels),
            levels,
            may_decline: (0..backends.len())
                .filter(|id| {
                    backends[*id]
                        .non_streaming_fraction
                        .is_some_and(|fraction| {
                            // NaN included: `declines` draws for it too.
                            !matches!(
                                fraction.partial_cmp(&1.0),
                                Some(Ordering::Greater | Ordering::Equal)
                            )
                        })
                })
                .collect(),
            specs: backends.to_vec(),
            log: TransitionLog::default(),
            inert,
            composition,
            name,
        })
    }

    /// The strategy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its backends, by id.
    pub fn backends(&self) -> &[BackendSpec] {
        &self.specs
    }

    /// Its resolved parts.
    pub fn composition(&self) -> &Composition {
        &self.composition
    }

    /// Attempts in flight per backend.
    pub fn inflight(&self) -> &[u32] {
        &self.inflight
    }

    /// Starts the driver loop for one request.
    #[inline]
    pub fn begin(&mut self, now: Duration, request: &RequestInfo) -> Attempt {
        Attempt::new(now, request)
    }

    fn deadline(&self, attempt: &Attempt) -> Option<Duration> {
        self.composition
            .deadline
            .map(|limit| attempt.started + limit)
    }

    /// Backends whose breaker lets them take traffic (after `refresh`).
    #[inline]
    fn available(&self) -> Mask {
        self.breakers.available_mask(self.specs.len())
    }

    #[inline]
    fn in_panic(&self, available: Mask) -> bool {
        self.composition.panic_threshold.is_some_and(|threshold| {
            (available.count() as u64) * 100 < u64::from(threshold) * self.specs.len() as u64
        })
    }

    /// Backends the loop may use now, before priority grouping, given the `available` ones.
    #[inline]
    fn candidates(&self, attempt: &Attempt, available: Mask) -> Mask {
        let all = Mask::all(self.specs.len());
        let pool = if self.in_panic(available) {
            all
        } else {
            available
        };
        let pool = pool.minus(attempt.declined.unwrap_or(Mask::EMPTY));
        if self.composition.retry.exclude_tried {
            pool.minus(attempt.tried)
        } else {
            pool
        }
    }

    /// The backends that decline a request by their non-streaming fraction (only those with
    /// a fraction below 1 can; they draw in id order).
    fn declining(&self, stream: bool, rng: &mut SimRng) -> Mask {
        if stream {
            return Mask::EMPTY;
        }
        self.may_decline
            .iter()
            .filter(|id| self.specs[*id].declines(stream, rng))
            .collect()
    }

    /// The candidates of one priority group: the best group present, or with an
    /// overprovisioning factor the group Envoy's priority load draws.
    #[inline]
    fn best_group(&self, candidates: Mask, available: Mask, rng: &mut SimRng) -> Mask {
        if !self.composition.priority_groups {
            return candidates;
        }
        let drawn = self
            .composition
            .overprovisioning
            .and_then(|factor| self.envoy_priority(factor, available, rng))
            .map(|priority| self.group(candidates, priority))
            .filter(|group| !group.is_empty());
        if let Some(group) = drawn {
            return group;
        }
        // Ids in priority order (the usual pool): the lowest candidate's level is the best.
        if let Some(level_of) = &self.level_of {
            return candidates
                .first()
                .map_or(candidates, |best| candidates.and(level_of[best]));
        }
        // The best priority present among the candidates: the first level (best first) that
        // holds one of them.
        self.levels
            .iter()
            .map(|(_, members)| candidates.and(*members))
            .find(|group| !group.is_empty())
            .unwrap_or(candidates)
    }

    #[inline(always)]
    fn send(&mut self, now: Duration, attempt: &mut Attempt, backend: BackendId) -> Step {
        self.breakers.on_send(now, backend, &mut self.log);
        self.selector.on_send(now, backend, attempt.est_tokens);
        self.inflight[backend] += 1;
        attempt.tried = attempt.tried.with(backend);
        attempt.sends += 1;
        attempt.in_flight = Some((backend, now));
        Step::Send(backend)
    }

    /// Takes a retry if the policy allows one after `status` (whose integer `retry-after`
    /// was `retry_after_s`); returns the wait, or None.
    #[inline]
    fn take_retry(
        &self,
        now: Duration,
        attempt: &mut Attempt,
        status: Status,
        retry_after_s: Option<Duration>,
        rng: &mut SimRng,
    ) -> Option<Duration> {
        // Most responses are not retried: the condition is checked in line.
        if !self.composition.retry.wants(status, attempt.retries) {
            return None;
        }
        if self.retries_at_once(attempt) {
            attempt.retries += 1;
            return Some(Duration::ZERO);
        }
        self.retry_wait(now, attempt, retry_after_s, rng)
    }

    /// [`Self::take_retry`] once the policy wants a retry: the wait, unless it would pass the
    /// deadline.
    #[inline(never)]
    fn retry_wait(
        &self,
        now: Duration,
        attempt: &mut Attempt,
        retry_after_s: Option<Duration>,
        rng: &mut SimRng,
    ) -> Option<Duration> {
        let retry = &self.composition.retry;
        // LiteLLM retries at once while the group has another healthy deployment.
        let healthy = retry.litellm_backoff && self.specs.len() > 1 && !self.available().is_empty();
        let wait = retry.wait(attempt.retries, healthy, retry_after_s, rng);
        if self
            .deadline(attempt)
            .is_some_and(|deadline| now + wait >= deadline)
        {
            return None;
        }
        attempt.retries += 1;
        Some(wait)
    }

    /// The next step of the driver loop for `attempt` at `now`.
    // The hint measured 5 instructions per request fewer on the 16-backend benchmark (the
    // same hint on `on_response` measured 5 more, so it has none).
    #[inline]
    pub fn next(&mut self, now: Duration, attempt: &mut Attempt, rng: &mut SimRng) -> Step {
        if let Some((backend, _)) = attempt.in_flight.take() {
            self.inflight[backend] = self.inflight[backend].saturating_sub(1);
        }
        if now < attempt.not_before {
            return Step::WaitUntil(attempt.not_before);
        }
        if self
            .deadline(attempt)
            .is_some_and(|deadline| now >= deadline)
        {
            return Step::Respond(Exhausted {
                status: 504,
                retry_after: None,
                retry_after_header: RetryAfterHeader::Seconds,
                body_message: DEADLINE_MESSAGE,
            });
        }
        if attempt.declined.is_none() {
            attempt.declined = Some(self.declining(attempt.stream, rng));
        }
        self.pick_and_send(now, attempt, rng)
    }

    /// The pick of [`Self::next`] once the request may go out at `now`. Straight-line: a
    /// pre-call rejection that lets the loop pick again calls `next` anew, which then passes
    /// its checks unchanged (nothing in flight, no wait set, same `now`). A loop here measured
    /// more instructions per attempt: its invariant addresses were hoisted and spilled.
    #[inline(always)]
    fn pick_and_send(&mut self, now: Duration, attempt: &mut Attempt, rng: &mut SimRng) -> Step {
        let available = self
            .breakers
            .refreshed_mask(now, rng, &mut self.log, self.specs.len());
        let eligible = self.best_group(self.candidates(attempt, available), available, rng);
        // Smooth WRR (the APIM pool's selector) reads nothing but the eligible set: its
        // pick skips building the context the other selectors read.
        let picked = match &mut self.selector {
            Selector::SmoothWeighted(state) => state.pick(eligible),
            selector => selector.pick(
                &PickContext {
                    now,
                    specs: &self.specs,
                    eligible,
                    inflight: &self.inflight,
                    est_tokens: attempt.est_tokens,
                    session: attempt.session,
                    stream: attempt.stream,
                },
                rng,
            ),
        };
        match picked {
            Some(backend) => {
                if self
                    .selector
                    .pre_call_rejects(now, backend, &self.specs[backend])
                {
                    if let Some(step) = self.reject_pre_call(now, attempt, backend, rng) {
                        return step;
                    }
                    return self.next(now, attempt, rng);
                }
                self.send(now, attempt, backend)
            }
            None => {
                let Some(answer) = self.composition.exhaustion.answer(
                    now,
                    || self.breakers.earliest_reopen(now, self.specs.len()),
                    || self.breakers.shortest_cooldown(now),
                ) else {
                    return self.send(now, attempt, 0);
                };
                if !self.composition.retry.retry_exhaustion {
                    return Step::Respond(answer);
                }
                match self.take_retry(now, attempt, Status::Http(answer.status), None, rng) {
                    Some(wait) if !wait.is_zero() => {
                        attempt.not_before = now + wait;
                        Step::WaitUntil(attempt.not_before)
                    }
                    // An immediate retry sees the same pool at the same instant: the
                    // remaining retries would all meet the same answer.
                    Some(_) | None => Step::Respond(answer),
                }
            }
        }
    }

    /// LiteLLM's pre-call RPM check raised a local 429 for `backend`: the cooldown logic sees
    /// it, the retry loop may go on (None: pick again now).
    fn reject_pre_call(
        &mut self,
        now: Duration,
        attempt: &mut Attempt,
        backend: BackendId,
        rng: &mut SimRng,
    ) -> Option<Step> {
        let observation = Observation::http(429).with_retry_after_secs(60);
        let outcome = Outcome {
            observation: &observation,
            sent_at: now,
        };
        self.breakers
            .record(now, backend, &outcome, rng, &mut self.log);
        attempt.tried = attempt.tried.with(backend);
        match self.take_retry(now, attempt, observation.status, None, rng) {
            Some(wait) if !wait.is_zero() => {
                attempt.not_before = now + wait;
                Some(Step::WaitUntil(attempt.not_before))
            }
            Some(_) => None,
            None => Some(Step::Respond(Exhausted {
                status: 429,
                retry_after: Some(Duration::from_secs(60)),
                retry_after_header: RetryAfterHeader::Seconds,
                body_message: LITELLM_RPM_MESSAGE,
            })),
        }
    }

    /// [`Self::on_response`] for any response: feeds the breaker and the selector, then
    /// decides whether the gateway retries.
    #[inline(never)]
    fn record_response(
        &mut self,
        now: Duration,
        attempt: &mut Attempt,
        backend: BackendId,
        observation: &Observation,
        rng: &mut SimRng,
    ) -> Verdict {
        let sent_at = match attempt.in_flight {
            Some((id, at)) if id == backend => at,
            _ => now,
        };
        let outcome = Outcome {
            observation,
            sent_at,
        };
        let failed = !observation.status.is_success();
        let logged = !(failed
            && attempt.failure_logged
            && self.composition.failure_logging == FailureLogging::FirstPerRequest);
        if logged {
            self.breakers
                .record(now, backend, &outcome, rng, &mut self.log);
            self.selector.on_response(now, backend, observation);
            attempt.failure_logged |= failed;
        } else {
            // The in-flight count this attempt raised is never lowered (see FailureLogging).
            self.inflight[backend] += 1;
        }
        if self.composition.retry.require_remaining {
            let available = self
                .breakers
                .refreshed_mask(now, rng, &mut self.log, self.specs.len());
            if self.candidates(attempt, available).is_empty() {
                return Verdict::Return;
            }
        }
        match self.take_retry(
            now,
            attempt,
            observation.status,
            observation.retry_after_s,
            rng,
        ) {
            Some(wait) => {
                attempt.not_before = now + wait;
                attempt.in_flight = None;
                self.inflight[backend] = self.inflight[backend].saturating_sub(1);
                Verdict::Retry
            }
            None => Verdict::Return,
        }
    }

    /// The body of a response `on_response` returned ended at `now`.
    #[inline]
    pub fn on_complete(&mut self, now: Duration, backend: BackendId, completion: &Completion) {
        if let Some(count) = self.inflight.get_mut(backend) {
            *count = count.saturating_sub(1);
            self.selector.on_complete(now, backend, completion);
        }
    }

    /// The response the client sees for a backend answer this strategy passes back: the same,
    /// without its `retry-after` headers when the balancer renames them.
    pub fn client_observation(&self, observation: &Observation) -> Observation {
        if self.composition.renames_retry_headers {
            observation.without_retry_after()
        } else {
            *observation
        }
    }

    /// Whether a backend answer passed back reaches the client with its retry headers renamed
    /// (see [`Composition::renames_retry_headers`]).
    pub fn renames_retry_headers(&self) -> bool {
        self.composition.renames_retry_headers
    }

    /// Whether the client sees a stream's first byte only at its end (see
    /// [`Composition::buffers_streams`]).
    pub fn buffers_streams(&self) -> bool {
        self.composition.buffers_streams
    }

    /// Whether breaker transitions wait to be drained (a driver checks this for every
    /// attempt; most find none).
    pub fn has_transitions(&self) -> bool {
        !self.log.is_empty()
    }

    /// Takes the breaker transitions recorded so far, in time order.
    pub fn drain_transitions(&mut self) -> Vec<Transition> {
        self.log.drain()
    }

    /// Breaker state of `backend` at `now`.
    pub fn backend_state(&self, now: Duration, backend: BackendId) -> BackendState {
        self.breakers.state(now, backend)
    }

    /// Breaker state of every backend at `now`.
    pub fn backend_states(&self, now: Duration) -> Vec<BackendState> {
        (0..self.specs.len())
            .map(|id| self.breakers.state(now, id))
            .collect()
    }
}
