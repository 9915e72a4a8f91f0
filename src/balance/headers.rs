//! Reading an `Observation` from response headers, once for both drivers (the simulator hands
//! over the mock's header values, the live gateway hyper's). Pure: header lookup is a closure.
//!
//! `retry-after-ms` is milliseconds (fractions allowed); `retry-after` is whole seconds (an
//! HTTP-date cannot be read without a wall clock and is ignored); `x-ratelimit-reset-*` is
//! seconds as AOAI writes it (`10`) or an OpenAI-style duration (`6m0s`, `20ms`);
//! `x-ratelimit-remaining-*` are counts. Unreadable values are treated as absent.

use std::time::Duration;

use super::types::{Observation, Status};

fn seconds(value: &str) -> Option<Duration> {
    let value = value.trim();
    let number: f64 = value.parse().ok()?;
    (number.is_finite() && number >= 0.0).then(|| Duration::from_secs_f64(number))
}

fn reset(value: &str) -> Option<Duration> {
    seconds(value).or_else(|| aoai_mock::duration::parse(value.trim()).ok())
}

fn millis(value: &str) -> Option<Duration> {
    seconds(value).map(|as_seconds| as_seconds / 1000)
}

fn count(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

impl Observation {
    /// The observation for `status` with headers looked up (case-insensitively, by the caller)
    /// through `header(name)`, names given in lower case.
    pub fn from_headers<'a>(status: Status, header: impl Fn(&str) -> Option<&'a str>) -> Self {
        let retry_after_s = header("retry-after")
            .and_then(seconds)
            .map(|d| Duration::from_secs(d.as_secs()));
        let retry_after_ms = header("retry-after-ms").and_then(millis);
        Observation {
            status,
            retry_after: retry_after_ms.or(retry_after_s),
            retry_after_s,
            retry_after_ms,
            ratelimit_reset_requests: header("x-ratelimit-reset-requests").and_then(reset),
            ratelimit_reset_tokens: header("x-ratelimit-reset-tokens").and_then(reset),
            ratelimit_remaining_requests: header("x-ratelimit-remaining-requests").and_then(count),
            ratelimit_remaining_tokens: header("x-ratelimit-remaining-tokens").and_then(count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observe(pairs: &[(&'static str, &'static str)]) -> Observation {
        Observation::from_headers(Status::Http(429), |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| *value)
        })
    }

    #[test]
    fn aoai_429_headers() {
        let obs = observe(&[
            ("retry-after", "7"),
            ("retry-after-ms", "6500.5"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-remaining-requests", "12"),
            ("x-ratelimit-reset-requests", "10"),
            ("x-ratelimit-reset-tokens", "6m0s"),
        ]);
        assert_eq!(obs.retry_after_s, Some(Duration::from_secs(7)));
        assert_eq!(obs.retry_after_ms, Some(Duration::from_micros(6_500_500)));
        assert_eq!(obs.retry_after, obs.retry_after_ms);
        assert_eq!(obs.ratelimit_remaining_tokens, Some(0));
        assert_eq!(obs.ratelimit_remaining_requests, Some(12));
        assert_eq!(obs.ratelimit_reset_requests, Some(Duration::from_secs(10)));
        assert_eq!(obs.ratelimit_reset_tokens, Some(Duration::from_secs(360)));
    }

    #[test]
    fn unreadable_values_are_absent() {
        let obs = observe(&[
            ("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("retry-after-ms", "-5"),
        ]);
        assert_eq!(obs.retry_after, None);
        assert_eq!(obs.retry_after_ms, None);
        let only_seconds = observe(&[("retry-after", "3")]);
        assert_eq!(only_seconds.retry_after, Some(Duration::from_secs(3)));
    }
}
