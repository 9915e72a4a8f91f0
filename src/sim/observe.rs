//! What a gateway reads from a mock answer, exactly as it would from the wire: `retry-after`
//! (ceil seconds), `retry-after-ms`, `x-ratelimit-*`. Built straight from the model's
//! [`RateHeaders`] (no header strings on the simulator's hot path); a test holds it equal to
//! rendering the headers and parsing them back.

use std::time::Duration;

use aoai_mock::model::{RateHeaders, ceil_millis, ceil_seconds};

use crate::balance::{Observation, Status};

/// The observation of a response with `status` (0 = connection failure) and `headers`.
pub fn observation(status: u16, timed_out: bool, headers: &RateHeaders) -> Observation {
    let status = match (status, timed_out) {
        (_, true) => Status::Timeout,
        (0, false) => Status::ConnectError,
        (code, false) => Status::Http(code),
    };
    let mut observation = Observation::new(status);
    if let Some(seconds) = headers.retry_after_seconds() {
        observation = observation.with_retry_after_secs(seconds);
    }
    if let Some(wait) = headers.retry_after {
        observation = observation.with_retry_after_ms(ceil_millis(wait));
    }
    let whole_seconds = |d: Duration| Duration::from_secs(ceil_seconds(d));
    observation
        .with_resets(
            headers.reset_requests.map(whole_seconds),
            headers.reset_tokens.map(whole_seconds),
        )
        .with_remaining(headers.remaining_requests, headers.remaining_tokens)
}
