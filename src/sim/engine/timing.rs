//! One backend attempt in virtual time: the fleet model admits or refuses it, and the events
//! that follow — when the gateway learns the outcome (at once for a refusal, at the headers,
//! at a connection reset, or at its own attempt timeout) and when a returned body ends (or a
//! fault cuts it) — with the fleet settled for whatever the gateway stopped waiting for.

use std::time::Duration;

use aoai_mock::model::{
    Completion as FleetCompletion, Disruption, Operation, RequestShape, ResponsePlan,
};

use super::super::events::EventKind;
use super::super::flight::{Current, Flight};
use super::super::observe::{observation_of, observed_status};
use super::records::returned;
use super::{Engine, Recorder, Written};
use crate::balance::{Completion, Verdict};
use crate::client::ClientAnswer;
use crate::report::RecordSink;

impl<R: Recorder> Engine<'_, R> {
    /// Send the request of `flight` (in `slot`) to strategy backend `backend`: the fleet
    /// model decides.
    pub(super) fn send<S: RecordSink + ?Sized>(
        &mut self,
        now: Duration,
        slot: u32,
        flight: &mut Flight,
        backend: usize,
        sink: &mut S,
    ) -> Written {
        let pool = self.resolved.to_pool[backend];
        let request = flight.request;
        let shape = RequestShape {
            operation: Operation::ChatCompletions,
            prompt_tokens: request.prompt_tokens,
            prompt_chars: request.prompt_chars,
            max_tokens: request.max_tokens,
            stream: request.stream,
            include_usage: request.stream,
            forced_completion_tokens: Some(request.output_tokens),
            client_retry_count: flight.life.retries(),
            ..RequestShape::default()
        };
        let deployment = usize::from(request.deployment.0);
        flight.record.attempts += 1;
        flight.record.backends_tried.push(pool as u16);
        // Built in place in the flight, the fleet writing its answer there (the attempt state
        // is large: no stack copy of it).
        let current = flight.current.insert(Current {
            backend,
            pool: pool as u16,
            started: now,
            number: flight.record.attempts,
            status: 0,
            timed_out: false,
            served_by: None,
        });
        let answer = &mut flight.answer;
        self.wiring
            .admit(&mut self.fleet, now, (pool, deployment), &shape, answer);
        current.status = answer.status;
        current.served_by = self.wiring.served_by(pool, answer);
        let headers_after = outcome_after(current, answer.plan(), self.attempt_timeout);
        let epoch = flight.bump();
        if headers_after.is_zero() {
            // A refusal: the gateway sees it at once (no event needed).
            return self.headers(now, slot, flight, sink);
        }
        self.queue
            .push(now + headers_after, EventKind::Headers { slot, epoch });
        Ok(())
    }

    /// The current attempt's outcome reaches the gateway.
    pub(super) fn headers<S: RecordSink + ?Sized>(
        &mut self,
        now: Duration,
        slot: u32,
        flight: &mut Flight,
        sink: &mut S,
    ) -> Written {
        // The attempt is read in place (no copy of it on this per-attempt path).
        let Some(current) = flight.current.as_ref() else {
            return Ok(());
        };
        let status = observed_status(current.status, current.timed_out);
        let gateway = flight.gateway;
        // Most responses are successes the strategy passes back unread: no observation built.
        let verdict = if self.gateways[gateway].passes_back(status) {
            Verdict::Return
        } else {
            let obs = observation_of(status, &flight.answer.headers);
            self.gateways[gateway].on_response(
                now,
                &mut flight.attempt,
                current.backend,
                &obs,
                &mut self.balance_rngs[gateway],
            )
        };
        let (backend, started) = (current.backend, current.started);
        let plan = flight.answer.plan();
        let admitted_ok = current.status / 100 == 2 && plan.is_some();
        let body_ends = plan.map(|plan| body_end(plan, started));
        self.log_transitions(gateway);
        match verdict {
            Verdict::Return if admitted_ok => {
                let Some(end) = body_ends else {
                    return Ok(());
                };
                if end <= now {
                    // Non-streamed: the headers came with the whole body.
                    return self.body_end(now, slot, flight, sink);
                }
                let epoch = flight.bump();
                self.queue.push(end, EventKind::BodyEnd { slot, epoch });
                Ok(())
            }
            Verdict::Return => {
                self.abandon_plan(now, flight);
                let completion = Completion::without_body(now - started);
                self.gateways[gateway].on_complete(now, backend, &completion);
                self.write_attempt(flight, now, None, sink)?;
                // What reaches the client: LiteLLM renames the backend's retry headers. Built
                // again here rather than kept from above: carrying it as an `Option` through
                // every response cost 17 instructions per request on the bench, more than this
                // rebuild on the failures returned.
                let obs = observation_of(status, &flight.answer.headers);
                let seen = self.gateways[gateway].client_observation(&obs);
                self.client_answer(now, slot, flight, ClientAnswer::failure(seen), sink)
            }
            Verdict::Retry => {
                self.abandon_plan(now, flight);
                self.write_attempt(flight, now, None, sink)?;
                self.dispatch(now, slot, flight, sink)
            }
        }
    }

    /// A returned 2xx body ended (or was cut by a fault).
    pub(super) fn body_end<S: RecordSink + ?Sized>(
        &mut self,
        now: Duration,
        slot: u32,
        flight: &mut Flight,
        sink: &mut S,
    ) -> Written {
        let Some(current) = flight.current.as_ref() else {
            return Ok(());
        };
        let Some(plan) = flight.answer.plan() else {
            return Ok(());
        };
        let cut = cut_short(plan);
        let latency = now - current.started;
        // The first token's offset from the send: the TTFT is this offset, and it went out by
        // now when the offset is within the latency (`Duration` arithmetic is exact, so this is
        // `started + offset <= now` without the sum).
        let first_offset = if plan.stream { plan.ttft() } else { plan.total };
        let first_sent = first_offset <= latency;
        let tokens = if cut {
            tokens_before(plan, latency)
        } else {
            plan.completion_tokens
        };
        self.fleet.complete(
            now,
            &plan.ticket,
            if cut {
                FleetCompletion::Aborted {
                    tokens_sent: tokens,
                }
            } else {
                FleetCompletion::Completed {
                    completion_tokens: tokens,
                }
            },
        );
        let ttft = first_sent.then_some(first_offset);
        let completion = Completion {
            latency,
            ttft,
            prompt_tokens: u64::from(plan.prompt_tokens),
            completion_tokens: u64::from(tokens),
            stream: plan.stream,
        };
        let gateway = flight.gateway;
        self.gateways[gateway].on_complete(now, current.backend, &completion);
        // A non-streaming client sees no first token, only the whole body; behind a balancer
        // that buffers streams, the first token reaches the client with the end of the body.
        let first_token_at = if !plan.stream {
            None
        } else if self.gateways[gateway].buffers_streams() {
            Some(now)
        } else {
            first_sent.then(|| current.started + first_offset)
        };
        let status = current.status;
        self.write_attempt(flight, now, first_token_at, sink)?;
        returned(flight, first_token_at, tokens);
        let answer = if cut {
            ClientAnswer::Cut {
                status,
                timed_out: false,
            }
        } else {
            ClientAnswer::Success { status }
        };
        self.client_answer(now, slot, flight, answer, sink)
    }

    /// Settle an admitted request the gateway stopped waiting for (timeout or reset).
    fn abandon_plan(&mut self, now: Duration, flight: &Flight) {
        let plan = flight.plan();
        if let Some(plan) = plan {
            self.fleet.complete(
                now,
                &plan.ticket,
                FleetCompletion::Aborted { tokens_sent: 0 },
            );
        }
    }
}

/// How long after sending the gateway learns the attempt's outcome: at once for a refusal; for
/// an admitted request when its headers go out, unless the connection fails first or the
/// gateway's `attempt_timeout` fires first (then `current` records the failure).
fn outcome_after(
    current: &mut Current,
    plan: Option<&ResponsePlan>,
    attempt_timeout: Duration,
) -> Duration {
    let timing = plan.map(|plan| (plan.disruption, plan.headers_at));
    let after = match timing {
        None => Duration::ZERO,
        Some((disruption, headers_at)) => match disruption {
            Disruption::None => headers_at,
            Disruption::ResetAt(at) if at < headers_at => {
                current.status = 0;
                at
            }
            Disruption::ResetAt(_) => headers_at,
            Disruption::Hang(after) => {
                current.status = 0;
                after
            }
        },
    };
    if after > attempt_timeout {
        current.status = 0;
        current.timed_out = true;
        attempt_timeout
    } else {
        after
    }
}

/// When a returned body ends (absolute): at its end, or where a fault cuts it.
fn body_end(plan: &ResponsePlan, started: Duration) -> Duration {
    match plan.disruption {
        Disruption::ResetAt(at) if at < plan.total => started + at,
        _ => started + plan.total,
    }
}

/// Whether a fault cuts the returned body.
fn cut_short(plan: &ResponsePlan) -> bool {
    matches!(plan.disruption, Disruption::ResetAt(at) if at < plan.total)
}

/// Completion tokens emitted within `elapsed` of admission.
fn tokens_before(plan: &ResponsePlan, elapsed: Duration) -> u32 {
    let schedule = &plan.schedule;
    let emitted = (0..schedule.chunks())
        .take_while(|k| schedule.offset(*k) <= elapsed)
        .last();
    emitted.map_or(0, |k| schedule.tokens_through(k) * plan.choices)
}
