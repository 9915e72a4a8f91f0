//! One deployment's state and decisions: request validation, faults, quota (standard windows or
//! PTU bucket), response planning, settlement. Spillover between deployments is the fleet's job.

use super::DeploymentId;
use super::answer::{Answer, CAPACITY_RETRY_AFTER, Outcome, Rejection};
use super::estimate::{ptu_actual, ptu_estimate, standard_estimate};
use super::family::ModelProfile;
use super::faults::{self, Disruption, FaultEffects, FaultRejection};
use super::headers::RateHeaders;
use super::latency::{LatencyProfile, draw_completion_tokens};
use super::metrics::DeploymentCounters;
use super::plan::{ChunkSchedule, FinishReason, ResponsePlan, Ticket};
use super::ptu::PtuBucket;
use super::request::{ContentFilterTrigger, Operation, RequestShape};
use super::service::ServiceSlots;
use super::standard::{StandardLimiter, StandardVerdict, ThrottleReason};
use super::time::saturating_nanos;
use crate::config::{
    AbortedAccounting, BurstShape, DeploymentConfig, DeploymentKind, Quota, ServiceTime,
    StreamFilterMode, Switches,
};
use crate::seed::{SimRng, stream};
use rand_distr::{Distribution, Exp};
use std::time::Duration;

/// How a request ended, for settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Ran to the end with this many completion tokens (all choices).
    Completed {
        /// Completion tokens sent.
        completion_tokens: u32,
    },
    /// The client went away (or a fault cut it) after this many completion tokens.
    Aborted {
        /// Completion tokens sent before the end.
        tokens_sent: u32,
    },
}

#[derive(Clone)]
enum Limiter {
    Standard(StandardLimiter),
    Provisioned(PtuBucket),
}

#[derive(Clone)]
struct Streams {
    latency: SimRng,
    completion: SimRng,
    faults: SimRng,
    service: SimRng,
}

/// A deployment as the model runs it.
#[derive(Clone)]
pub struct Deployment {
    pub(super) resource: usize,
    pub(super) config: DeploymentConfig,
    pub(super) switches: Switches,
    /// Tokens per content event of a stream under `switches` (see [`stream_tokens_per_chunk`]).
    stream_tokens_per_chunk: u32,
    pub(super) profile: ModelProfile,
    latency: LatencyProfile,
    limiter: Limiter,
    slots: Option<ServiceSlots>,
    rng: Streams,
    pub(super) counters: DeploymentCounters,
    /// Keep the TTFT/ITL histograms and the queue-wait sum of the counters (see
    /// [`super::Fleet::skip_latency_histograms`]).
    pub(super) latency_histograms: bool,
}

/// Tokens per content event of a stream: the burst size when a buffered filter merges bursts,
/// else one. Kept with the switches (set at construction and on reconfiguration) instead of
/// matched on every request.
fn stream_tokens_per_chunk(switches: &Switches) -> u32 {
    match (switches.stream_filter_mode, switches.burst_shape) {
        (StreamFilterMode::Buffered, BurstShape::Merged) => switches.burst_tokens,
        _ => 1,
    }
}

fn rpm_of(config: &DeploymentConfig, profile: &ModelProfile, tpm: u64) -> u64 {
    config
        .rpm
        .unwrap_or_else(|| ((tpm as f64 * profile.rpm_per_1k_tpm / 1000.0).round() as u64).max(1))
}

impl Deployment {
    /// Build from config; RNG streams are named `deployment:<resource>/<name>:<purpose>`.
    pub fn new(
        resource: usize,
        resource_name: &str,
        config: &DeploymentConfig,
        fleet_switches: &Switches,
        seed: u64,
    ) -> Deployment {
        let profile = ModelProfile::resolve(&config.model, &config.model_overrides);
        let switches = fleet_switches.with(&config.switches);
        let limiter = match config.quota() {
            Quota::Standard { tpm, .. } => Limiter::Standard(StandardLimiter::new(
                tpm,
                rpm_of(config, &profile, tpm),
                switches.request_window,
            )),
            Quota::Provisioned { ptu } => Limiter::Provisioned(PtuBucket::new(
                ptu,
                profile.input_tpm_per_ptu,
                switches.ptu_horizon,
            )),
        };
        let named = |purpose: &str| {
            stream(
                seed,
                &format!("deployment:{resource_name}/{}:{purpose}", config.name),
            )
        };
        Deployment {
            resource,
            latency: LatencyProfile::resolve(&config.latency, config.kind, profile.ptu_floor_tps),
            slots: config
                .service
                .as_ref()
                .map(|s| ServiceSlots::new(s.concurrency)),
            rng: Streams {
                latency: named("latency"),
                completion: named("completion"),
                faults: named("faults"),
                service: named("service"),
            },
            config: config.clone(),
            stream_tokens_per_chunk: stream_tokens_per_chunk(&switches),
            switches,
            profile,
            limiter,
            counters: DeploymentCounters::default(),
            latency_histograms: true,
        }
    }

    /// Take a changed configuration (admin patch); window and bucket contents are kept.
    pub fn reconfigure(
        &mut self,
        now: Duration,
        config: &DeploymentConfig,
        fleet_switches: &Switches,
    ) {
        self.profile = ModelProfile::resolve(&config.model, &config.model_overrides);
        self.switches = fleet_switches.with(&config.switches);
        self.stream_tokens_per_chunk = stream_tokens_per_chunk(&self.switches);
        self.latency =
            LatencyProfile::resolve(&config.latency, config.kind, self.profile.ptu_floor_tps);
        match (&mut self.limiter, config.quota()) {
            (Limiter::Standard(limiter), Quota::Standard { tpm, .. }) => {
                limiter.set_quota(tpm, rpm_of(config, &self.profile, tpm));
                limiter.set_window(self.switches.request_window);
            }
            (Limiter::Provisioned(bucket), Quota::Provisioned { ptu }) => {
                bucket.reconfigure(
                    now,
                    ptu,
                    self.profile.input_tpm_per_ptu,
                    self.switches.ptu_horizon,
                );
            }
            _ => {}
        }
        self.slots = match (&config.service, self.slots.take()) {
            (Some(service), Some(mut slots)) => {
                slots.resize(service.concurrency);
                Some(slots)
            }
            (Some(service), None) => Some(ServiceSlots::new(service.concurrency)),
            (None, _) => None,
        };
        self.config = config.clone();
    }

    /// Standard or provisioned.
    pub fn kind(&self) -> DeploymentKind {
        self.config.kind
    }

    /// PTU utilization at `now` (None for standard).
    pub fn utilization(&mut self, now: Duration) -> Option<f64> {
        match &mut self.limiter {
            Limiter::Provisioned(bucket) => Some(bucket.utilization(now)),
            Limiter::Standard(_) => None,
        }
    }

    /// Decide one request (no spillover), written to `out` (every field of it): the caller
    /// keeps the answer where it wants it, without a copy of the answer.
    pub fn answer(
        &mut self,
        now: Duration,
        id: DeploymentId,
        req: &RequestShape<'_>,
        out: &mut Answer,
    ) {
        self.counters.requests += 1;
        if req.client_retry_count > 0 {
            self.counters.client_retries += 1;
        } else {
            self.counters.client_new += 1;
        }
        if let Some(rejection) = self.validate(req) {
            self.counters.bad_requests += 1;
            out.headers = RateHeaders::default();
            return self.reject(now, id, rejection, out);
        }
        if self.config.faults.is_empty() {
            // The usual deployment: with the constant effects inlined, every fault branch (and
            // the rate-limit factor's and the latency multiplier's arithmetic) folds away.
            self.answer_under(now, id, req, &FaultEffects::NONE, out)
        } else {
            self.answer_with_faults(now, id, req, out)
        }
    }

    /// [`Deployment::answer`] of a deployment with a fault timeline, out of line.
    #[inline(never)]
    fn answer_with_faults(
        &mut self,
        now: Duration,
        id: DeploymentId,
        req: &RequestShape<'_>,
        out: &mut Answer,
    ) {
        let effects = faults::evaluate(&self.config.faults, now, &mut self.rng.faults);
        self.answer_under(now, id, req, &effects, out)
    }

    /// [`Deployment::answer`] of a valid request under the faults' `effects`.
    #[inline(always)]
    fn answer_under(
        &mut self,
        now: Duration,
        id: DeploymentId,
        req: &RequestShape<'_>,
        effects: &FaultEffects,
        out: &mut Answer,
    ) {
        if let Some(rejection) = effects.rejection {
            out.headers = RateHeaders::default();
            match rejection {
                FaultRejection::Capacity => {
                    self.counters.throttled_capacity += 1;
                    if self.switches.emit_retry_after {
                        out.headers.retry_after = Some(CAPACITY_RETRY_AFTER);
                    }
                }
                _ => self.counters.fault_errors += 1,
            }
            return self.reject(now, id, Rejection::Fault(rejection), out);
        }
        let (estimate, ptu_charge) = match self.charge(now, req, effects, &mut out.headers) {
            Ok(charged) => charged,
            Err(rejection) => return self.reject(now, id, rejection, out),
        };
        if let Limiter::Provisioned(bucket) = &mut self.limiter {
            let util = bucket.utilization(now);
            out.headers.utilization =
                (!req.stream || self.switches.ptu_util_header_on_429_and_stream).then_some(util);
        }
        self.admitted(now, id, req, effects, (estimate, ptu_charge), out)
    }

    fn validate(&self, req: &RequestShape<'_>) -> Option<Rejection> {
        if self.profile.embeddings != (req.operation == Operation::Embeddings) {
            return Some(Rejection::OperationNotSupported);
        }
        if req.content_filter == ContentFilterTrigger::Prompt {
            return Some(Rejection::ContentFiltered);
        }
        let window = self.profile.context_window;
        if req.prompt_tokens > window {
            return Some(Rejection::ContextLengthExceeded {
                context_window: window,
                prompt_tokens: req.prompt_tokens,
                completion_tokens: None,
            });
        }
        match req.max_tokens {
            Some(max)
                if req.operation != Operation::Embeddings
                    && u64::from(req.prompt_tokens) + u64::from(max) > u64::from(window) =>
            {
                Some(Rejection::ContextLengthExceeded {
                    context_window: window,
                    prompt_tokens: req.prompt_tokens,
                    completion_tokens: Some(max),
                })
            }
            _ => None,
        }
    }

    /// The refusal, around the headers already in `out`.
    fn reject(&mut self, now: Duration, id: DeploymentId, rejection: Rejection, out: &mut Answer) {
        if let Limiter::Provisioned(bucket) = &mut self.limiter
            && self.switches.ptu_util_header_on_429_and_stream
        {
            out.headers.utilization = Some(bucket.utilization(now));
        }
        out.status = rejection.status();
        out.deployment = Some(id);
        out.outcome = Outcome::Rejected(rejection);
        out.spillover = None;
    }

    /// Quota admission: the standard and PTU estimates charged, or the refusal. The quota's
    /// rate headers (none for PTU) are written to `headers`, so the answer is built around
    /// them without moving them again.
    #[inline(always)]
    fn charge(
        &mut self,
        now: Duration,
        req: &RequestShape<'_>,
        effects: &FaultEffects,
        headers: &mut RateHeaders,
    ) -> Result<(u64, f64), Rejection> {
        let switches = &self.switches;
        match &mut self.limiter {
            Limiter::Standard(limiter) => {
                let estimate =
                    standard_estimate(&self.profile, switches.n_multiplies_estimate, req);
                let verdict = limiter.admit_with_headers(
                    now,
                    estimate,
                    effects.limit_factor,
                    switches,
                    headers,
                );
                match verdict {
                    StandardVerdict::Admitted => {
                        self.counters.tokens_estimated += estimate;
                        Ok((estimate, 0.0))
                    }
                    StandardVerdict::Throttled {
                        reason,
                        retry_after,
                    } => {
                        match reason {
                            ThrottleReason::Tokens => self.counters.throttled_tokens += 1,
                            ThrottleReason::Requests => self.counters.throttled_requests += 1,
                        }
                        if switches.emit_retry_after {
                            headers.retry_after = Some(retry_after);
                        }
                        headers.policy_id = Some(match reason {
                            ThrottleReason::Tokens => "DeploymentRatelimit-Token",
                            ThrottleReason::Requests => "DeploymentRatelimit-Request",
                        });
                        Err(Rejection::RateLimited {
                            reason,
                            retry_after,
                        })
                    }
                }
            }
            Limiter::Provisioned(bucket) => {
                *headers = RateHeaders::default();
                let estimate = ptu_estimate(&self.profile, switches.n_multiplies_estimate, req);
                match bucket.admit(now, estimate, switches.ptu_overshoot_pct) {
                    Ok(()) => {
                        self.counters.tokens_estimated += estimate.round() as u64;
                        Ok((0, estimate))
                    }
                    Err(retry_after) => {
                        self.counters.throttled_utilization += 1;
                        headers.retry_after = Some(retry_after);
                        Err(Rejection::PtuSaturated { retry_after })
                    }
                }
            }
        }
    }

    /// The 200 answer around the headers already in `out`: plan the response of a request
    /// charged `(estimate, ptu_charge)`, written where the caller keeps it (no copy of it).
    /// Inlined into both paths of [`Deployment::answer`], so the fault-free one plans with
    /// the constant effects.
    #[inline(always)]
    fn admitted(
        &mut self,
        now: Duration,
        id: DeploymentId,
        req: &RequestShape<'_>,
        effects: &FaultEffects,
        (estimate, ptu_charge): (u64, f64),
        out: &mut Answer,
    ) {
        let choices = req.choices.max(1);
        let (per_choice, finish_reason) = self.completion_length(req);
        let multiplier = effects.latency_multiplier;
        // TTFT and ITL in nanoseconds, the schedule's unit (see `ChunkSchedule`).
        let (mut ttft, mut itl) = if req.operation == Operation::Embeddings {
            (
                self.latency
                    .draw_embeddings(&mut self.rng.latency, multiplier),
                0,
            )
        } else {
            let draw = self.latency.draw(
                &mut self.rng.latency,
                req.prompt_tokens,
                self.counters.in_flight,
                multiplier,
            );
            (draw.ttft_nanos, draw.itl_nanos)
        };
        let mut queue_wait = Duration::ZERO;
        if let Some(slots) = &mut self.slots {
            let service_time = match self
                .config
                .service
                .as_ref()
                .and_then(|s| s.service_time.as_ref())
            {
                Some(ServiceTime::Fixed(d)) => Some(*d),
                Some(ServiceTime::Exponential(mean)) => {
                    Some(draw_exponential(&mut self.rng.service, *mean))
                }
                None => None,
            };
            let busy = match service_time {
                Some(service) => {
                    // The slot time is the whole processing time: tokens spread evenly over it.
                    let steps = per_choice.max(1);
                    let spread = if per_choice == 0 {
                        Duration::ZERO
                    } else {
                        service / steps
                    };
                    let first =
                        service.saturating_sub(spread.saturating_mul(steps.saturating_sub(1)));
                    (ttft, itl) = (saturating_nanos(first), saturating_nanos(spread));
                    service
                }
                None => Duration::from_nanos(ttft).saturating_add(
                    Duration::from_nanos(itl).saturating_mul(per_choice.saturating_sub(1)),
                ),
            };
            queue_wait = slots.reserve(now, busy);
        }
        // Without a queue or a first-byte delay (the usual plan) headers can go out at once and
        // the first token is the TTFT itself: no `Duration` sum and conversion to do.
        let (start, start_nanos) = if queue_wait.is_zero() && effects.first_byte_delay.is_zero() {
            (Duration::ZERO, 0)
        } else {
            let start = queue_wait.saturating_add(effects.first_byte_delay);
            (start, saturating_nanos(start))
        };
        let tokens_per_chunk = if req.stream {
            self.stream_tokens_per_chunk
        } else {
            1
        };
        let stall = match effects.stall {
            Some((at, pause)) if req.stream => Some((at, saturating_nanos(pause))),
            _ => None,
        };
        let schedule = ChunkSchedule::from_nanos(
            start_nanos.saturating_add(ttft),
            itl,
            per_choice,
            tokens_per_chunk,
            stall,
        );
        let total = schedule.end();
        let completion_tokens = per_choice.saturating_mul(choices);
        self.counters.admitted += 1;
        self.counters.in_flight += 1;
        if effects.disruption != Disruption::None {
            self.counters.disrupted += 1;
        }
        if self.latency_histograms {
            self.counters.ttft.observe(schedule.ttft());
            if req.operation != Operation::Embeddings {
                self.counters.itl.observe(schedule.itl());
            }
            self.counters.queue_wait_seconds_sum += queue_wait.as_secs_f64();
        }
        out.status = 200;
        out.deployment = Some(id);
        out.outcome = Outcome::Admitted(ResponsePlan {
            ticket: Ticket {
                deployment: id,
                ptu_estimate: ptu_charge,
                estimate,
                prompt_tokens: req.prompt_tokens,
                cached_tokens: req.cached_tokens,
                completion_tokens,
            },
            prompt_tokens: req.prompt_tokens,
            completion_tokens,
            choices,
            finish_reason,
            queue_wait,
            headers_at: if req.stream { start } else { total },
            schedule,
            total,
            disruption: effects.disruption,
            stream: req.stream,
        });
        out.spillover = None;
    }

    /// Completion tokens per choice and why generation stops. Inlined: out of line it costs
    /// twice its work in the call and the spills around it.
    #[inline(always)]
    fn completion_length(&mut self, req: &RequestShape<'_>) -> (u32, FinishReason) {
        if req.operation == Operation::Embeddings {
            return (0, FinishReason::Stop);
        }
        let wanted = match req.forced_completion_tokens {
            Some(forced) => forced,
            None => {
                draw_completion_tokens(&self.config.completion_tokens, &mut self.rng.completion)
            }
        };
        let room = self
            .profile
            .context_window
            .saturating_sub(req.prompt_tokens)
            .max(1);
        let cap = req.max_tokens.map_or(room, |max| max.clamp(1, room));
        let (tokens, reason) = if wanted >= cap {
            (cap, FinishReason::Length)
        } else {
            (wanted.max(1), FinishReason::Stop)
        };
        if req.content_filter == ContentFilterTrigger::Completion {
            return cut_by_filter(tokens);
        }
        (tokens, reason)
    }

    /// Settle an admitted request: in-flight, billing, PTU correction.
    pub fn settle(&mut self, now: Duration, ticket: &Ticket, completion: Completion) {
        self.counters.in_flight = self.counters.in_flight.saturating_sub(1);
        let charged_completion = match completion {
            Completion::Completed { completion_tokens } => {
                self.counters.completed += 1;
                Some(completion_tokens)
            }
            Completion::Aborted { tokens_sent } => {
                self.counters.aborted += 1;
                match self.switches.aborted_stream_accounting {
                    AbortedAccounting::ChargeGenerated => Some(tokens_sent),
                    AbortedAccounting::ChargeEstimate => None,
                }
            }
        };
        let billed_completion = charged_completion.unwrap_or(ticket.completion_tokens);
        self.counters.tokens_billed +=
            u64::from(ticket.prompt_tokens) + u64::from(billed_completion);
        if let (Limiter::Provisioned(bucket), Some(completion_tokens)) =
            (&mut self.limiter, charged_completion)
        {
            let actual = ptu_actual(
                &self.profile,
                ticket.prompt_tokens,
                ticket.cached_tokens,
                completion_tokens,
            );
            bucket.correct(now, actual - ticket.ptu_estimate);
        }
    }
}

/// A completion of `tokens` the content filter cuts: halfway (what was generated is billed).
/// Out of line and cold, so the usual path does not compute it on the side.
#[cold]
#[inline(never)]
fn cut_by_filter(tokens: u32) -> (u32, FinishReason) {
    (tokens.div_ceil(2), FinishReason::ContentFilter)
}

fn draw_exponential(rng: &mut SimRng, mean: Duration) -> Duration {
    match Exp::new(1.0 / mean.as_secs_f64().max(1e-9)) {
        Ok(exp) => super::time::seconds(exp.sample(rng)),
        Err(_) => mean,
    }
}
