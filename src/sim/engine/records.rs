//! Filling the records of a simulated request: one [`AttemptRecord`] per backend attempt as it
//! ends, the [`RequestRecord`] as the request ends, each folded into the strategy's recorder
//! and streamed to the sink.

use std::time::Duration;

use super::super::flight::Flight;
use super::{Engine, Recorder, Written};
use crate::metrics::{AttemptRecord, ErrorClass, RequestRecord};
use crate::report::RecordSink;
use crate::workload::Request;

impl<R: Recorder> Engine<'_, R> {
    /// The record of `request`, which arrived (and was first sent) at `request.at`.
    pub(super) fn new_record(&self, request: &Request, now: Duration) -> RequestRecord {
        RequestRecord {
            strategy: self.strategy_index,
            request_id: request.id,
            app: request.app,
            intended_start: request.at,
            actual_start: request.at,
            end: now,
            prompt_tokens: request.prompt_tokens,
            stream: request.stream,
            ..RequestRecord::default()
        }
    }

    /// The attempt under way in `flight` ended at `now`.
    pub(super) fn write_attempt<S: RecordSink + ?Sized>(
        &mut self,
        flight: &Flight,
        now: Duration,
        first_token: Option<Duration>,
        sink: &mut S,
    ) -> Written {
        let Some(current) = flight.current.as_ref() else {
            return Ok(());
        };
        let class = if current.timed_out {
            ErrorClass::Timeout
        } else {
            ErrorClass::from_status(current.status)
        };
        let record = AttemptRecord {
            strategy: self.strategy_index,
            request_id: flight.request.id,
            attempt: current.number,
            backend: current.pool,
            start: current.started,
            first_token,
            end: now,
            status: current.status,
            error: class,
            spilled_over: current.served_by.is_some(),
        };
        self.recorder.add_attempt(&record);
        sink.attempt(&record).map_err(Box::new)?;
        Ok(())
    }

    /// The request of `flight` (in `slot`) ended at `now` with `status` and `class`.
    pub(super) fn finish<S: RecordSink + ?Sized>(
        &mut self,
        now: Duration,
        slot: u32,
        flight: &mut Flight,
        status: u16,
        class: ErrorClass,
        sink: &mut S,
    ) -> Written {
        // Filled and written in place, then the slot is freed (no move of the flight).
        if class == ErrorClass::None {
            flight.record.gateway_retries += flight.attempt.retries();
        }
        flight.record.end = now;
        flight.record.status = status;
        flight.record.error = class;
        self.recorder.add_request(&flight.record);
        let written = sink.request(&flight.record);
        self.free.release(slot, flight);
        written.map_err(Box::new)?;
        Ok(())
    }
}

/// The body of the attempt under way in `flight` reached the client: what it carried.
pub(super) fn returned(flight: &mut Flight, first_token: Option<Duration>, completion_tokens: u32) {
    let Some(current) = flight.current.as_ref() else {
        return;
    };
    let (pool, served_by) = (current.pool, current.served_by);
    flight.record.first_token = first_token;
    flight.record.completion_tokens = completion_tokens;
    flight.record.final_backend = Some(pool);
    flight.record.spilled_over = served_by.is_some();
    flight.record.served_by = served_by;
}
