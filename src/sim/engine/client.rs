//! The simulator's shell around the client state machine ([`crate::client`]): what a request's
//! client receives — a gateway's own answer, a backend's failure passed through, a body — goes
//! to [`crate::client::Client::on_answer`], and its step becomes an event on the virtual
//! clock (the next try) or the request's end.

use std::time::Duration;

use super::super::events::EventKind;
use super::super::flight::Flight;
use super::{Engine, Recorder, Written, request_info};
use crate::balance::{Exhausted, Observation, RetryAfterHeader};
use crate::client::{ClientAnswer, ClientStep};
use crate::report::RecordSink;

impl<R: Recorder> Engine<'_, R> {
    /// The gateway answered by itself (every backend out).
    pub(super) fn gateway_answer<S: RecordSink + ?Sized>(
        &mut self,
        now: Duration,
        slot: u32,
        flight: &mut Flight,
        answer: Exhausted,
        sink: &mut S,
    ) -> Written {
        let mut observation = Observation::http(answer.status);
        if let Some(wait) = answer.retry_after {
            observation = match answer.retry_after_header {
                RetryAfterHeader::Millis => {
                    observation.with_retry_after_ms(wait.as_millis() as u64)
                }
                _ => observation.with_retry_after_secs(wait.as_secs().max(1)),
            };
        }
        let answer = ClientAnswer::Failure {
            observation,
            exhausted: true,
        };
        self.client_answer(now, slot, flight, answer, sink)
    }

    /// The client of `flight` (in `slot`) received `answer` at `now`: retry as the SDK does,
    /// or end.
    pub(super) fn client_answer<S: RecordSink + ?Sized>(
        &mut self,
        now: Duration,
        slot: u32,
        flight: &mut Flight,
        answer: ClientAnswer,
        sink: &mut S,
    ) -> Written {
        let failed = matches!(answer, ClientAnswer::Failure { .. });
        if failed {
            // The gateway's retries behind a failed answer (a success counts them at the end).
            flight.record.gateway_retries += flight.attempt.retries();
        }
        let step = self
            .client
            .on_answer(now, &mut flight.life, &answer, &mut self.client_rng);
        match step {
            ClientStep::Send | ClientStep::WaitUntil(_) => {
                let at = match step {
                    ClientStep::WaitUntil(at) => at,
                    _ => now,
                };
                flight.record.client_retries = flight.life.retries();
                let info = request_info(&flight.request);
                flight.attempt = self.gateways[flight.gateway].begin(at, &info);
                flight.current = None;
                let epoch = flight.bump();
                self.queue.push(at, EventKind::Dispatch { slot, epoch });
                Ok(())
            }
            ClientStep::GiveUp { status, error } => {
                if let Some(current) = flight.current.as_ref() {
                    flight.record.final_backend = Some(current.pool);
                }
                self.finish(now, slot, flight, status, error, sink)
            }
            ClientStep::Done { status, error } => {
                self.finish(now, slot, flight, status, error, sink)
            }
        }
    }
}
