//! Rate-limit and utilization header values of one answer, and their rendering to pairs.

use std::time::Duration;

/// The quota-related headers of an answer. `None` = not sent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateHeaders {
    /// `x-ratelimit-remaining-requests`.
    pub remaining_requests: Option<u64>,
    /// `x-ratelimit-remaining-tokens`.
    pub remaining_tokens: Option<u64>,
    /// `x-ratelimit-limit-requests`.
    pub limit_requests: Option<u64>,
    /// `x-ratelimit-limit-tokens`.
    pub limit_tokens: Option<u64>,
    /// `x-ratelimit-reset-requests` (rendered as ceil seconds).
    pub reset_requests: Option<Duration>,
    /// `x-ratelimit-reset-tokens` (rendered as ceil seconds).
    pub reset_tokens: Option<Duration>,
    /// `retry-after-ms` (exact) and `retry-after` (ceil seconds, at least 1).
    pub retry_after: Option<Duration>,
    /// `policy-id` on 429s.
    pub policy_id: Option<&'static str>,
    /// `azure-openai-deployment-utilization` as a fraction (rendered `NN.N%`).
    pub utilization: Option<f64>,
}

/// Whole seconds, rounded up: the seconds plus one for any fraction, in integers (no 128-bit
/// division: the simulator rounds every rate header of every attempt), wrapping past
/// `u64::MAX` as a cast of the exact quotient would.
#[inline]
pub fn ceil_seconds(duration: Duration) -> u64 {
    duration
        .as_secs()
        .wrapping_add(u64::from(duration.subsec_nanos() != 0))
}

/// Whole milliseconds, rounded up: the seconds' milliseconds (whole, so they round nothing)
/// plus the fraction's rounded up, wrapping as a cast of the exact quotient would.
#[inline]
pub fn ceil_millis(duration: Duration) -> u64 {
    duration
        .as_secs()
        .wrapping_mul(1_000)
        .wrapping_add(u64::from(duration.subsec_nanos().div_ceil(1_000_000)))
}

impl RateHeaders {
    /// `retry-after` in seconds as sent (ceil, at least 1).
    #[inline]
    pub fn retry_after_seconds(&self) -> Option<u64> {
        self.retry_after.map(|d| ceil_seconds(d).max(1))
    }

    /// The header pairs, in a fixed order.
    pub fn render(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(8);
        let mut push = |name: &'static str, value: Option<u64>| {
            if let Some(value) = value {
                out.push((name, value.to_string()));
            }
        };
        push("x-ratelimit-remaining-requests", self.remaining_requests);
        push("x-ratelimit-limit-requests", self.limit_requests);
        push("x-ratelimit-remaining-tokens", self.remaining_tokens);
        push("x-ratelimit-limit-tokens", self.limit_tokens);
        push(
            "x-ratelimit-reset-requests",
            self.reset_requests.map(ceil_seconds),
        );
        push(
            "x-ratelimit-reset-tokens",
            self.reset_tokens.map(ceil_seconds),
        );
        push("retry-after", self.retry_after_seconds());
        push("retry-after-ms", self.retry_after.map(ceil_millis));
        if let Some(policy) = self.policy_id {
            out.push(("policy-id", policy.to_string()));
        }
        if let Some(utilization) = self.utilization {
            out.push((
                "azure-openai-deployment-utilization",
                format!("{:.1}%", utilization * 100.0),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// The integer roundings equal the exact quotient rounded up (and cast), next to every
    /// boundary and at random.
    #[test]
    fn rounding_up_equals_the_exact_division() {
        let mut rng = crate::seed::stream(3, "headers-ceil-test");
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
            let exact = |unit: u128| value.as_nanos().div_ceil(unit) as u64;
            assert_eq!(ceil_seconds(value), exact(1_000_000_000), "{value:?}");
            assert_eq!(ceil_millis(value), exact(1_000_000), "{value:?}");
        }
    }

    #[test]
    fn renders_seconds_rounded_up_and_percent_with_one_decimal() {
        let headers = RateHeaders {
            retry_after: Some(Duration::from_millis(2_001)),
            policy_id: Some("DeploymentRatelimit-Token"),
            utilization: Some(0.8934),
            remaining_tokens: Some(5),
            ..RateHeaders::default()
        };
        let pairs = headers.render();
        let get = |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("retry-after"), Some("3"));
        assert_eq!(get("retry-after-ms"), Some("2001"));
        assert_eq!(get("azure-openai-deployment-utilization"), Some("89.3%"));
        assert_eq!(get("x-ratelimit-remaining-tokens"), Some("5"));
        assert_eq!(get("x-ratelimit-limit-tokens"), None);
    }

    #[test]
    fn a_sub_second_retry_after_still_says_one_second() {
        let headers = RateHeaders {
            retry_after: Some(Duration::from_millis(1)),
            ..RateHeaders::default()
        };
        assert_eq!(headers.retry_after_seconds(), Some(1));
    }
}
