//! What a gateway reads from a mock answer, exactly as it would from the wire: `retry-after`
//! (ceil seconds), `retry-after-ms`, `x-ratelimit-*`. Built straight from the model's
//! [`RateHeaders`] (no header strings on the simulator's hot path); a test holds it equal to
//! rendering the headers and parsing them back.

use std::time::Duration;

use aoai_mock::model::{RateHeaders, ceil_millis, ceil_seconds};

use crate::balance::{Observation, Status};

/// What the gateway sees of an attempt's `status` (0 = connection failure): the status alone,
/// for the strategy's pass-back test before any header is read.
#[inline]
pub fn observed_status(status: u16, timed_out: bool) -> Status {
    match (status, timed_out) {
        (_, true) => Status::Timeout,
        (0, false) => Status::ConnectError,
        (code, false) => Status::Http(code),
    }
}

/// The observation of a response whose [`observed_status`] is `status`, with `headers`.
pub fn observation_of(status: Status, headers: &RateHeaders) -> Observation {
    let mut observation = Observation::new(status);
    if let Some(wait) = headers.retry_after {
        // `RateHeaders::retry_after_seconds` (ceil, at least 1) without a second look at the
        // option.
        observation = observation
            .with_retry_after_secs(ceil_seconds(wait).max(1))
            .with_retry_after_ms(ceil_millis(wait));
    }
    let whole_seconds = |d: Duration| Duration::from_secs(ceil_seconds(d));
    observation
        .with_resets(
            headers.reset_requests.map(whole_seconds),
            headers.reset_tokens.map(whole_seconds),
        )
        .with_remaining(headers.remaining_requests, headers.remaining_tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The simulator must see exactly what a live gateway parses off the wire.
    #[test]
    fn equals_rendering_the_headers_and_parsing_them_back() {
        let ms = Duration::from_millis;
        let cases = [
            RateHeaders::default(),
            RateHeaders {
                retry_after: Some(ms(2_001)),
                remaining_requests: Some(0),
                remaining_tokens: Some(12),
                limit_requests: Some(10),
                limit_tokens: Some(1000),
                reset_requests: Some(ms(9_400)),
                reset_tokens: Some(ms(31_000)),
                policy_id: Some("DeploymentRatelimit-Token"),
                utilization: None,
            },
            RateHeaders {
                retry_after: Some(ms(1)),
                utilization: Some(1.02),
                ..RateHeaders::default()
            },
        ];
        for headers in cases {
            for status in [200, 429, 503] {
                let rendered = headers.render();
                let parsed = Observation::from_headers(Status::Http(status), |name| {
                    rendered
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.as_str())
                });
                assert_eq!(
                    observation_of(Status::Http(status), &headers),
                    parsed,
                    "{headers:?}"
                );
            }
        }
    }
}
