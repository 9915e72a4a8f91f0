//! Standard (pay-as-you-go) limiter: a sliding request window (RPM/6 per 10 s, or RPM/60 per 1 s)
//! and a sliding 60 s window of estimated tokens; admit iff a request slot is free and
//! `estimate ≤ TPM − used` (reference §5.2). Also produces the `x-ratelimit-*` values.

use super::headers::RateHeaders;
use super::time::saturating_nanos;
use super::window::{RingWindow, Tally};
use crate::config::{LimitRequestsHeaderMode, RequestWindow, Switches};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ThrottleReason {
    /// The token (TPM) window.
    Tokens,
    /// The request (RPM) window.
    Requests,
}

/// The standard limiter's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardVerdict {
    /// Charged `estimate` tokens and one request.
    Admitted,
    /// Refused; room appears after `retry_after`.
    Throttled {
        /// The blocking limit.
        reason: ThrottleReason,
        /// Time until the blocking window has room for this request.
        retry_after: Duration,
    },
}

/// State of one standard deployment's windows.
#[derive(Debug, Clone)]
pub struct StandardLimiter {
    tpm: u64,
    rpm: u64,
    window: RequestWindow,
    /// `compute_limits(1.0)`: the limits without a rate-limit fault, computed
    /// once per quota change instead of with `floor`/`ceil` on every request.
    unadjusted: Limits,
    requests: RingWindow,
    minute: RingWindow,
}

impl StandardLimiter {
    /// A limiter for `tpm` tokens and `rpm` requests per minute.
    pub fn new(tpm: u64, rpm: u64, window: RequestWindow) -> StandardLimiter {
        let mut limiter = StandardLimiter {
            tpm,
            rpm,
            window,
            unadjusted: Limits::default(),
            requests: RingWindow::new(window_length(window), 100),
            minute: RingWindow::new(MINUTE, 600),
        };
        limiter.unadjusted = limiter.compute_limits(1.0);
        limiter
    }

    /// Change the quota (admin patch); what the windows hold is kept.
    pub fn set_quota(&mut self, tpm: u64, rpm: u64) {
        self.tpm = tpm;
        self.rpm = rpm;
        self.unadjusted = self.compute_limits(1.0);
    }

    /// Change the request window (switch patch); the request window restarts empty.
    pub fn set_window(&mut self, window: RequestWindow) {
        if window != self.window {
            self.window = window;
            self.requests = RingWindow::new(window_length(window), 100);
            self.unadjusted = self.compute_limits(1.0);
        }
    }

    /// The limits under a rate-limit adjustment `factor`.
    fn limits(&self, factor: f64) -> Limits {
        if factor == 1.0 {
            self.unadjusted
        } else {
            self.compute_limits(factor)
        }
    }

    fn compute_limits(&self, factor: f64) -> Limits {
        let per_window = match self.window {
            RequestWindow::TenSeconds => 6.0,
            RequestWindow::OneSecond => 60.0,
        };
        Limits {
            tokens: (self.tpm as f64 * factor).floor() as u64,
            requests: ((self.rpm as f64 * factor) / per_window).ceil().max(1.0) as u64,
            requests_per_minute: (self.rpm as f64 * factor).ceil() as u64,
        }
    }

    /// Admit or throttle a request of `estimate` tokens at `now`.
    #[cfg(test)]
    pub fn admit(
        &mut self,
        now: Duration,
        estimate: u64,
        factor: f64,
        switches: &Switches,
    ) -> StandardVerdict {
        let now = self.advance(now);
        self.admit_advanced(now, estimate, self.limits(factor), switches)
    }

    /// The `x-ratelimit-*` values at `now` (after this request was counted).
    #[cfg(test)]
    pub fn headers(&mut self, now: Duration, factor: f64, switches: &Switches) -> RateHeaders {
        let now = self.advance(now);
        let mut headers = RateHeaders::default();
        self.headers_advanced(now, self.limits(factor), switches, &mut headers);
        headers
    }

    /// [`StandardLimiter::admit`] then [`StandardLimiter::headers`] (written to `headers`) at
    /// the same `now`: each window is advanced once and the limits are looked up once, where
    /// the two calls would advance each window three times. Inlined into each admission
    /// path, so a constant rate-limit factor folds.
    #[inline(always)]
    pub fn admit_with_headers(
        &mut self,
        now: Duration,
        estimate: u64,
        factor: f64,
        switches: &Switches,
        headers: &mut RateHeaders,
    ) -> StandardVerdict {
        let now = self.advance(now);
        let limits = self.limits(factor);
        let verdict = self.admit_advanced(now, estimate, limits, switches);
        self.headers_advanced(now, limits, switches, headers);
        verdict
    }

    /// Advance both windows to `now`, returned in nanoseconds.
    #[inline]
    fn advance(&mut self, now: Duration) -> u64 {
        let now = saturating_nanos(now);
        self.requests.advance(now);
        self.minute.advance(now);
        now
    }

    /// [`StandardLimiter::admit`] with both windows advanced to `now` (nanoseconds) and the
    /// limits looked up.
    #[inline(always)]
    fn admit_advanced(
        &mut self,
        now: u64,
        estimate: u64,
        Limits {
            tokens: token_limit,
            requests: request_limit,
            ..
        }: Limits,
        switches: &Switches,
    ) -> StandardVerdict {
        let used_requests = self.requests.held().requests;
        let used_tokens = self.minute.held().tokens;
        let verdict = if used_requests >= request_limit {
            let excess = used_requests + 1 - request_limit;
            let wait = self
                .requests
                .time_until(now, |freed| freed.requests >= excess);
            StandardVerdict::Throttled {
                reason: ThrottleReason::Requests,
                retry_after: wait.map_or(window_length(self.window), Duration::from_nanos),
            }
        } else if estimate > token_limit.saturating_sub(used_tokens) {
            let missing = estimate - token_limit.saturating_sub(used_tokens);
            let wait = if estimate > token_limit {
                None
            } else {
                self.minute.time_until(now, |freed| freed.tokens >= missing)
            };
            StandardVerdict::Throttled {
                reason: ThrottleReason::Tokens,
                retry_after: wait.map_or(MINUTE, Duration::from_nanos),
            }
        } else {
            StandardVerdict::Admitted
        };
        match verdict {
            StandardVerdict::Admitted => {
                let tally = Tally {
                    tokens: estimate,
                    requests: 1,
                };
                self.requests.add_advanced(tally);
                self.minute.add_advanced(tally);
            }
            StandardVerdict::Throttled { .. } if switches.rejected_count_toward_rpm => {
                self.requests.add_advanced(Tally {
                    tokens: 0,
                    requests: 1,
                });
            }
            StandardVerdict::Throttled { .. } => {}
        }
        verdict
    }

    /// [`StandardLimiter::headers`] with both windows advanced to `now` (nanoseconds) and the
    /// limits under `factor` looked up, written to `headers` (every field of it) field by
    /// field: building the value and moving it in cost twice the stores.
    #[inline(always)]
    fn headers_advanced(
        &mut self,
        now: u64,
        limits: Limits,
        switches: &Switches,
        headers: &mut RateHeaders,
    ) {
        let token_limit = limits.tokens;
        let used_tokens = self.minute.held().tokens;
        let (limit_requests, used_requests) = match switches.limit_requests_header_mode {
            LimitRequestsHeaderMode::PerTenSeconds => {
                (limits.requests, self.requests.held().requests)
            }
            LimitRequestsHeaderMode::PerMinute => {
                (limits.requests_per_minute, self.minute.held().requests)
            }
        };
        headers.remaining_requests = Some(limit_requests.saturating_sub(used_requests));
        headers.remaining_tokens = Some(token_limit.saturating_sub(used_tokens));
        let emit_limits = switches.emit_limit_headers;
        headers.limit_requests = emit_limits.then_some(limit_requests);
        headers.limit_tokens = emit_limits.then_some(token_limit);
        (headers.reset_requests, headers.reset_tokens) = if switches.emit_reset_headers {
            (
                Some(Duration::from_nanos(
                    self.requests.time_until_oldest_expires(now),
                )),
                Some(Duration::from_nanos(
                    self.minute.time_until_oldest_expires(now),
                )),
            )
        } else {
            (None, None)
        };
        headers.retry_after = None;
        headers.policy_id = None;
        headers.utilization = None;
    }
}

/// A standard deployment's limits under one rate-limit factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Limits {
    /// Tokens per minute.
    tokens: u64,
    /// Requests per request window (at least 1).
    requests: u64,
    /// Requests per minute, as the per-minute `x-ratelimit-limit-requests` says: kept with
    /// the others, so the header is not converted from `f64` on every request (nor
    /// speculatively, whatever the header mode).
    requests_per_minute: u64,
}

fn window_length(window: RequestWindow) -> Duration {
    match window {
        RequestWindow::TenSeconds => Duration::from_secs(10),
        RequestWindow::OneSecond => Duration::from_secs(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn a_1000_tpm_deployment_admits_one_request_per_10s_over_a_minute() {
        // 1,000 TPM → 6 RPM → 1 request per 10 s; embeddings of 11 tokens never hit TPM.
        let switches = Switches::default();
        let mut limiter = StandardLimiter::new(1000, 6, RequestWindow::TenSeconds);
        let admitted = (0..600)
            .filter(|i| {
                limiter.admit(secs(f64::from(*i) * 0.1), 11, 1.0, &switches)
                    == StandardVerdict::Admitted
            })
            .count();
        assert_eq!(admitted, 6);
    }

    #[test]
    fn back_to_back_calls_get_one_200_and_the_429s_do_not_consume_the_window() {
        // aoai-testing embeddings.md: "1 s spacing" at 1,000 TPM → calls 1 and 10 get 200. With
        // each call's own duration the spacing was a bit over 1 s, so call 10 started after the
        // 10 s window; 1.12 s spacing puts call 10 at 10.08 s.
        let switches = Switches::default();
        let mut limiter = StandardLimiter::new(1000, 6, RequestWindow::TenSeconds);
        let statuses: Vec<bool> = (0..10)
            .map(|i| {
                limiter.admit(secs(f64::from(i) * 1.12), 11, 1.0, &switches)
                    == StandardVerdict::Admitted
            })
            .collect();
        assert_eq!(
            statuses,
            [
                true, false, false, false, false, false, false, false, false, true
            ]
        );
    }

    #[test]
    fn a_one_second_window_allows_rpm_over_60_per_second() {
        // 600 RPM on the 1 s window: 10 per sliding second (a 10 s window would allow 100 at once).
        let switches = Switches::default();
        let mut limiter = StandardLimiter::new(1_000_000, 600, RequestWindow::OneSecond);
        let burst = (0..20)
            .filter(|_| limiter.admit(secs(0.5), 1, 1.0, &switches) == StandardVerdict::Admitted)
            .count();
        assert_eq!(burst, 10);
        // The burst sits in the 10 ms bucket [0.50, 0.51) and leaves at 1.50 s.
        assert_eq!(
            limiter.admit(secs(1.49), 1, 1.0, &switches),
            StandardVerdict::Throttled {
                reason: ThrottleReason::Requests,
                retry_after: Duration::from_millis(10)
            }
        );
        assert_eq!(
            limiter.admit(secs(1.5), 1, 1.0, &switches),
            StandardVerdict::Admitted
        );
    }

    #[test]
    fn rejected_requests_can_count_toward_rpm() {
        let switches = Switches {
            rejected_count_toward_rpm: true,
            ..Switches::default()
        };
        let mut limiter = StandardLimiter::new(1000, 6, RequestWindow::TenSeconds);
        assert_eq!(
            limiter.admit(secs(0.0), 1, 1.0, &switches),
            StandardVerdict::Admitted
        );
        assert!(matches!(
            limiter.admit(secs(5.0), 1, 1.0, &switches),
            StandardVerdict::Throttled { .. }
        ));
        // The first entry left at 10 s but the rejected one (at 5 s) still fills the window.
        assert!(matches!(
            limiter.admit(secs(10.5), 1, 1.0, &switches),
            StandardVerdict::Throttled { .. }
        ));
    }

    #[test]
    fn token_window_admits_iff_estimate_fits_what_remains() {
        // aoai-testing chat.md: 10K TPM, max_tokens 2000 → 5 admitted (remaining 0), 6th 429.
        let switches = Switches::default();
        let mut limiter = StandardLimiter::new(10_000, 60, RequestWindow::TenSeconds);
        let results: Vec<StandardVerdict> = (0..6)
            .map(|i| limiter.admit(secs(f64::from(i)), 2000, 1.0, &switches))
            .collect();
        assert!(results[..5].iter().all(|v| *v == StandardVerdict::Admitted));
        // Blocked until the call at t=0 leaves the 60 s window: 60 s − 5 s.
        assert_eq!(
            results[5],
            StandardVerdict::Throttled {
                reason: ThrottleReason::Tokens,
                retry_after: secs(55.0)
            }
        );
        assert_eq!(
            limiter.headers(secs(5.0), 1.0, &switches).remaining_tokens,
            Some(0)
        );
        // gpt-4 cost 1008: nine fit in 10K (928 left), the tenth does not.
        let mut limiter = StandardLimiter::new(10_000, 60, RequestWindow::TenSeconds);
        let admitted = (0..10)
            .filter(|i| {
                limiter.admit(secs(f64::from(*i) * 1.0), 1008, 1.0, &switches)
                    == StandardVerdict::Admitted
            })
            .count();
        assert_eq!(admitted, 9);
        assert_eq!(
            limiter.headers(secs(9.5), 1.0, &switches).remaining_tokens,
            Some(928)
        );
    }

    #[test]
    fn request_retry_after_is_the_time_until_the_window_frees_a_slot() {
        let switches = Switches::default();
        let mut limiter = StandardLimiter::new(1000, 6, RequestWindow::TenSeconds);
        assert_eq!(
            limiter.admit(secs(2.0), 1, 1.0, &switches),
            StandardVerdict::Admitted
        );
        assert_eq!(
            limiter.admit(secs(3.5), 1, 1.0, &switches),
            StandardVerdict::Throttled {
                reason: ThrottleReason::Requests,
                retry_after: secs(8.5)
            }
        );
    }

    #[test]
    fn an_estimate_larger_than_the_quota_waits_a_whole_window() {
        let switches = Switches::default();
        let mut limiter = StandardLimiter::new(1000, 6, RequestWindow::TenSeconds);
        assert_eq!(
            limiter.admit(secs(1.0), 5000, 1.0, &switches),
            StandardVerdict::Throttled {
                reason: ThrottleReason::Tokens,
                retry_after: MINUTE
            }
        );
    }

    #[test]
    fn admit_with_headers_equals_admit_then_headers() {
        // Both windows, throttles of each kind, rate-limit factors and header modes.
        let switch_sets = [
            Switches::default(),
            Switches {
                limit_requests_header_mode: LimitRequestsHeaderMode::PerMinute,
                emit_reset_headers: true,
                rejected_count_toward_rpm: true,
                ..Switches::default()
            },
        ];
        for switches in &switch_sets {
            for window in [RequestWindow::TenSeconds, RequestWindow::OneSecond] {
                let mut general = StandardLimiter::new(20_000, 120, window);
                let mut combined = general.clone();
                for i in 0..400u32 {
                    let now = Duration::from_millis(u64::from(i) * 137);
                    let estimate = u64::from(i % 7) * 900;
                    let factor = if i % 5 == 0 { 0.5 } else { 1.0 };
                    let verdict = general.admit(now, estimate, factor, switches);
                    let headers = general.headers(now, factor, switches);
                    let mut combined_headers = RateHeaders::default();
                    let combined_verdict = combined.admit_with_headers(
                        now,
                        estimate,
                        factor,
                        switches,
                        &mut combined_headers,
                    );
                    assert_eq!((combined_verdict, combined_headers), (verdict, headers));
                }
            }
        }
    }

    #[test]
    fn headers_follow_the_switches() {
        let mut limiter = StandardLimiter::new(10_000, 60, RequestWindow::TenSeconds);
        let switches = Switches::default();
        limiter.admit(secs(0.0), 1000, 1.0, &switches);
        let h = limiter.headers(secs(0.0), 1.0, &switches);
        assert_eq!(
            (
                h.remaining_requests,
                h.limit_requests,
                h.remaining_tokens,
                h.limit_tokens
            ),
            (Some(9), Some(10), Some(9000), Some(10_000))
        );
        assert_eq!(h.reset_tokens, None);
        let per_minute = Switches {
            limit_requests_header_mode: LimitRequestsHeaderMode::PerMinute,
            emit_reset_headers: true,
            ..Switches::default()
        };
        let h = limiter.headers(secs(1.0), 1.0, &per_minute);
        assert_eq!(
            (h.remaining_requests, h.limit_requests),
            (Some(59), Some(60))
        );
        assert_eq!(h.reset_tokens, Some(secs(59.0)));
        assert_eq!(h.reset_requests, Some(secs(9.0)));
        let quiet = Switches {
            emit_limit_headers: false,
            ..Switches::default()
        };
        let h = limiter.headers(secs(1.0), 0.5, &quiet);
        assert_eq!(
            (h.limit_requests, h.limit_tokens, h.remaining_tokens),
            (None, None, Some(4000))
        );
    }
}
