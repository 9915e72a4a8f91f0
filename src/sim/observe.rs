//! What a gateway reads from a mock answer, exactly as it would from the wire: `retry-after`
//! (ceil seconds), `retry-after-ms`, `x-ratelimit-*`. Built straight from the model's
//! [`RateHeaders`] (no header strings on the simulator's hot path); a test holds it equal to
//! rendering the headers and parsing them back.

use std::time::Duration;

use aoai_mock::model::RateHeaders;

use crate::balance::{Observation, Status};

/// The observation of a response with `status` (0 = connection failure) and `headers`.
pub fn observation(status: u16, timed_out: bool, headers: &RateHeaders) -> Observation {
    observation_of(observed_status(status, timed_out), headers)
}

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
        // `RateHeaders::retry_after_seconds`: ceil, at least 1.
        observation = observation
            .with_retry_after_secs(seconds_up(wait).max(1))
            .with_retry_after_ms(millis_up(wait));
    }
    let whole_seconds = |d: Duration| Duration::from_secs(seconds_up(d));
    observation
        .with_resets(
            headers.reset_requests.map(whole_seconds),
            headers.reset_tokens.map(whole_seconds),
        )
        .with_remaining(headers.remaining_requests, headers.remaining_tokens)
}

/// [`aoai_mock::model::ceil_seconds`] without its 128-bit division (one per rate header per
/// attempt here): the whole seconds plus one for any fraction, wrapping as that function's
/// cast of the exact quotient does.
#[inline]
fn seconds_up(duration: Duration) -> u64 {
    duration
        .as_secs()
        .wrapping_add(u64::from(duration.subsec_nanos() != 0))
}

/// [`aoai_mock::model::ceil_millis`] without its 128-bit division: the whole seconds' milliseconds
/// (a multiple of 10^6 nanoseconds, so they round nothing) plus the fraction's, rounded up,
/// wrapping as that function's cast does.
#[inline]
fn millis_up(duration: Duration) -> u64 {
    duration
        .as_secs()
        .wrapping_mul(1_000)
        .wrapping_add(u64::from(duration.subsec_nanos().div_ceil(1_000_000)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aoai_mock::model::{ceil_millis, ceil_seconds};
    use rand::Rng;

    /// The integer roundings equal the mock's, next to every boundary and at random.
    #[test]
    fn rounding_up_equals_the_mocks_division() {
        let mut rng = crate::seed::stream(3, "observe-ceil-test");
        let mut values = vec![Duration::ZERO, Duration::MAX];
        for secs in [
            0,
            1,
            59,
            u64::MAX / 1_000,
            u64::MAX / 1_000 + 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            for nanos in [
                0,
                1,
                999_999,
                1_000_000,
                1_000_001,
                500_000_000,
                999_999_999,
            ] {
                values.push(Duration::new(secs, nanos));
            }
        }
        for _ in 0..100_000 {
            let shift = rng.random_range(0..64);
            values.push(Duration::new(
                rng.random_range(0..=u64::MAX >> shift),
                rng.random_range(0..1_000_000_000),
            ));
        }
        for value in values {
            assert_eq!(seconds_up(value), ceil_seconds(value), "{value:?}");
            assert_eq!(millis_up(value), ceil_millis(value), "{value:?}");
        }
    }

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
                assert_eq!(observation(status, false, &headers), parsed, "{headers:?}");
            }
        }
    }
}
