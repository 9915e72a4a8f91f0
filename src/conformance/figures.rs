//! The figures the lab compares, measured the same way on both sides: from a simulated
//! strategy's summary, or from a real run's per-request outcomes (what the calling application
//! saw) plus the mock fleet's own per-deployment request counters (what reached each backend,
//! whatever gateway stood in between).

use serde::{Deserialize, Serialize};

use crate::report::StrategySummary;

/// One HTTP attempt the client made for a request (its own retries included): seconds from
/// the intended send when the answer's head arrived or the attempt failed, the status (0: no
/// answer), and the answer's `retry-after-ms`, `retry-after` and `llm_provider-retry-after`.
pub type ClientTry = (f64, u16, Option<String>, Option<String>, Option<String>);

/// How one request ended for the application, as the lab's driver records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealRecord {
    /// The request's position in the schedule.
    pub id: u64,
    /// Its intended send time, seconds from the start of the schedule.
    #[serde(default)]
    pub at_s: Option<f64>,
    /// `ok`, `throttled` (a backend's 429 passed through), `exhausted` (the balancer's own
    /// answer), `server_error`, `client_error`, `broken_stream` (a 200 whose body broke off),
    /// `transport_error` (no HTTP answer: connection refused or reset, closed unanswered) or
    /// `timeout`.
    pub outcome: String,
    /// HTTP status the application saw (0: none).
    pub status: u16,
    /// First content token, seconds from the intended send (successful streams).
    pub ttft_s: Option<f64>,
    /// End of the answer, seconds from the intended send.
    pub e2e_s: Option<f64>,
    /// How late the driver sent it, seconds.
    #[serde(default)]
    pub send_lag_s: Option<f64>,
    /// What the transport failure was (`ConnectError: [Errno 111] Connection refused`).
    #[serde(default)]
    pub error: Option<String>,
    /// The client's HTTP attempts (SDK modes; none for the Router library).
    #[serde(default)]
    pub tries: Option<Vec<ClientTry>>,
}

impl RealRecord {
    /// Whether the application got an HTTP answer at all (any status).
    pub fn answered(&self) -> bool {
        self.status > 0
    }
}

/// The compared figures of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Logical requests.
    pub requests: u64,
    /// Share that succeeded.
    pub success: f64,
    /// Share that ended on a backend's 429 passed through to the application.
    pub passed_429: f64,
    /// Share that ended on the balancer's own "nothing available" answer.
    pub exhausted: f64,
    /// Per backend (scenario order): its share of all backend attempts.
    pub attempt_shares: Vec<(String, f64)>,
    /// Backend attempts per logical request (client and balancer retries included).
    pub attempts_per_request: f64,
    /// The application's own HTTP tries per logical request (1 + the SDK's retries): what the
    /// client waited through, apart from what the balancer did behind one try.
    pub client_tries_per_request: f64,
    /// Median time to first token of successful streams, from the intended send (seconds).
    pub ttft_p50: Option<f64>,
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl Figures {
    /// The figures of a simulated strategy.
    pub fn from_sim(summary: &StrategySummary) -> Figures {
        let requests = summary.requests;
        Figures {
            requests,
            success: ratio(summary.outcomes.ok, requests),
            passed_429: ratio(summary.outcomes.throttled, requests),
            exhausted: ratio(summary.outcomes.exhausted, requests),
            attempt_shares: summary
                .backends
                .iter()
                .map(|backend| (backend.name.clone(), backend.attempt_share))
                .collect(),
            attempts_per_request: ratio(summary.attempts, requests),
            client_tries_per_request: ratio(requests + summary.client_retries, requests),
            ttft_p50: summary.ttft.p50_s,
        }
    }

    /// The figures of a real run: the driver's records and each backend's request count as
    /// the mock counted it (name, attempts), in scenario order. A record without tries (the
    /// Router library, called once per request) counts one.
    pub fn from_real(records: &[RealRecord], attempts: &[(String, u64)]) -> Figures {
        let requests = records.len() as u64;
        let tries: u64 = records
            .iter()
            .map(|r| r.tries.as_ref().map_or(1, |tries| tries.len() as u64))
            .sum();
        let count = |outcome: &str| records.iter().filter(|r| r.outcome == outcome).count() as u64;
        let total: u64 = attempts.iter().map(|(_, n)| n).sum();
        let mut ttfts: Vec<f64> = records
            .iter()
            .filter(|r| r.outcome == "ok")
            .filter_map(|r| r.ttft_s)
            .collect();
        ttfts.sort_by(f64::total_cmp);
        Figures {
            requests,
            success: ratio(count("ok"), requests),
            passed_429: ratio(count("throttled"), requests),
            exhausted: ratio(count("exhausted"), requests),
            attempt_shares: attempts
                .iter()
                .map(|(name, n)| (name.clone(), ratio(*n, total)))
                .collect(),
            attempts_per_request: ratio(total, requests),
            client_tries_per_request: ratio(tries, requests),
            ttft_p50: median(&ttfts),
        }
    }

    /// Every compared figure as (name, kind, value), in table order.
    pub fn metrics(&self) -> Vec<(String, MetricKind, Option<f64>)> {
        let mut rows = vec![
            ("success".to_string(), MetricKind::Share, Some(self.success)),
            (
                "429 passed through".to_string(),
                MetricKind::Share,
                Some(self.passed_429),
            ),
            (
                "429 exhausted (balancer's own)".to_string(),
                MetricKind::Share,
                Some(self.exhausted),
            ),
        ];
        rows.extend(self.attempt_shares.iter().map(|(name, share)| {
            (
                format!("attempt share {name}"),
                MetricKind::Share,
                Some(*share),
            )
        }));
        rows.push((
            "attempts per request".to_string(),
            MetricKind::Ratio,
            Some(self.attempts_per_request),
        ));
        rows.push((
            "client tries per request".to_string(),
            MetricKind::Ratio,
            Some(self.client_tries_per_request),
        ));
        rows.push((
            "TTFT p50 (s)".to_string(),
            MetricKind::Seconds,
            self.ttft_p50,
        ));
        rows
    }
}

/// What a figure measures, which decides how its bound is floored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricKind {
    /// A share of requests or attempts (0..1).
    Share,
    /// A ratio such as attempts per request.
    Ratio,
    /// A latency in seconds.
    Seconds,
}

/// The median of sorted values (the mean of the middle two for an even count).
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64, outcome: &str, ttft: Option<f64>) -> RealRecord {
        RealRecord {
            id,
            at_s: None,
            outcome: outcome.to_string(),
            status: 0,
            ttft_s: ttft,
            e2e_s: None,
            send_lag_s: None,
            error: None,
            tries: None,
        }
    }

    #[test]
    fn real_figures_count_outcomes_shares_and_the_median_of_successful_streams() {
        let records = [
            record(0, "ok", Some(0.4)),
            record(1, "ok", Some(0.6)),
            record(2, "throttled", None),
            record(3, "exhausted", Some(9.0)),
        ];
        let attempts = [("a".to_string(), 3), ("b".to_string(), 1)];
        let figures = Figures::from_real(&records, &attempts);
        assert_eq!(figures.requests, 4);
        assert_eq!(
            (figures.success, figures.passed_429, figures.exhausted),
            (0.5, 0.25, 0.25)
        );
        assert_eq!(figures.attempt_shares[0], ("a".to_string(), 0.75));
        assert_eq!(figures.attempts_per_request, 1.0);
        assert_eq!(figures.client_tries_per_request, 1.0, "no tries: one each");
        assert_eq!(figures.ttft_p50, Some(0.5));
    }
}
