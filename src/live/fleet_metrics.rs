//! Per-backend truth through any gateway (`load --target URL --fleet-metrics ADMIN_URL`): the
//! mock fleet's own counters, read from its admin listener's `GET /metrics` before and after a
//! strategy's run, fill the per-backend rows that a third-party gateway (LiteLLM's proxy, …)
//! leaves empty, since it tells the client nothing of where each attempt went.
//!
//! Every series on that page is labelled with its `resource` and `deployment` and the page is
//! served once for the whole fleet, so summing by `resource` is exact: a pool backend is a
//! resource, and its row is the sum over the resource's deployments of the difference after −
//! before. Whatever else sent to the fleet meanwhile is counted too (say so in the report).
//!
//! The parse and the arithmetic are pure; [`scrape`] is the one request, bounded in time and
//! size.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper::header::AUTHORIZATION;

use super::error::LiveError;
use super::http_client::http_client;
use crate::report::StrategySummary;

/// Longest wait for the metrics page.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest metrics page read (a fleet of hundreds of deployments is well below).
const MAX_PAGE_BYTES: usize = 16 << 20;

/// One resource's counters (summed over its deployments).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceCounts {
    /// `aoai_mock_requests_total`: attempts it answered.
    pub requests: u64,
    /// `aoai_mock_admitted_total`: answered 2xx (a plan was made).
    pub admitted: u64,
    /// `aoai_mock_throttled_total`, every reason: 429s.
    pub throttled: u64,
    /// `aoai_mock_fault_errors_total`: 5xx from faults.
    pub fault_errors: u64,
    /// `aoai_mock_disrupted_total`: admitted, then reset or hung.
    pub disrupted: u64,
    /// `aoai_mock_completed_total`: admitted and run to the end.
    pub completed: u64,
}

impl ResourceCounts {
    fn since(self, before: ResourceCounts) -> ResourceCounts {
        ResourceCounts {
            requests: self.requests.saturating_sub(before.requests),
            admitted: self.admitted.saturating_sub(before.admitted),
            throttled: self.throttled.saturating_sub(before.throttled),
            fault_errors: self.fault_errors.saturating_sub(before.fault_errors),
            disrupted: self.disrupted.saturating_sub(before.disrupted),
            completed: self.completed.saturating_sub(before.completed),
        }
    }
}

/// Counters by resource name.
pub type FleetCounts = BTreeMap<String, ResourceCounts>;

/// The value of label `name` in a `{a="x",b="y"}` label set (no escapes in resource names
/// matter here: a name with a quote is not found, and its row stays empty).
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &labels[start..];
    Some(&rest[..rest.find('"')?])
}

/// The counters of a Prometheus text page of the mock, by resource.
pub fn parse(page: &str) -> FleetCounts {
    let mut counts = FleetCounts::new();
    for line in page.lines().filter(|line| !line.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Some((name, labels)) = series.split_once('{') else {
            continue;
        };
        let Some(resource) = label(labels, "resource") else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let entry = counts.entry(resource.to_string()).or_default();
        let field = match name {
            "aoai_mock_requests_total" => &mut entry.requests,
            "aoai_mock_admitted_total" => &mut entry.admitted,
            "aoai_mock_throttled_total" => &mut entry.throttled,
            "aoai_mock_fault_errors_total" => &mut entry.fault_errors,
            "aoai_mock_disrupted_total" => &mut entry.disrupted,
            "aoai_mock_completed_total" => &mut entry.completed,
            _ => continue,
        };
        *field += value as u64;
    }
    counts
}

/// Fill `summary`'s rows of the pool backends (`(backend, resource)` pairs) with what the
/// fleet counted between `before` and `after`; the other rows (the opaque `target`) stay.
/// Errors name a resource the page does not report.
pub fn fill_backends(
    summary: &mut StrategySummary,
    pool: &[(String, String)],
    before: &FleetCounts,
    after: &FleetCounts,
) -> Result<(), LiveError> {
    let mut counted = Vec::with_capacity(pool.len());
    for (backend, resource) in pool {
        let Some(now) = after.get(resource) else {
            return Err(LiveError::invalid(
                "--fleet-metrics",
                format!(
                    "the fleet's /metrics reports no resource {resource:?} (backend {backend}): \
                     is it the fleet the gateway sends to?"
                ),
            ));
        };
        let then = before.get(resource).copied().unwrap_or_default();
        counted.push((backend, now.since(then)));
    }
    let attempts: u64 = counted.iter().map(|(_, c)| c.requests).sum();
    let successes: u64 = counted.iter().map(|(_, c)| c.completed).sum();
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    for (backend, counts) in counted {
        let Some(row) = summary.backends.iter_mut().find(|row| &row.name == backend) else {
            continue;
        };
        let ok = counts.admitted.saturating_sub(counts.disrupted);
        row.attempts = counts.requests;
        row.attempt_share = share(counts.requests, attempts);
        row.ok = ok;
        row.throttled = counts.throttled;
        row.server_error = counts.fault_errors;
        row.other_error = counts
            .requests
            .saturating_sub(ok + counts.throttled + counts.fault_errors);
        // A returned 2xx ends its request: each completed attempt is one success.
        row.successes = counts.completed;
        row.success_share = share(counts.completed, successes);
    }
    Ok(())
}

/// `GET {admin}/metrics` (with `Authorization: Bearer token` when given), parsed.
pub async fn scrape(admin: &str, token: Option<&str>) -> Result<FleetCounts, LiveError> {
    let url = format!("{}/metrics", admin.trim_end_matches('/'));
    let failed = |why: String| LiveError::invalid("--fleet-metrics", format!("GET {url}: {why}"));
    let mut request = Request::get(&url);
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::new()))
        .map_err(|error| failed(error.to_string()))?;
    let page = async {
        let response = http_client(None)
            .request(request)
            .await
            .map_err(|error| failed(error.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("answered {}", response.status())));
        }
        Limited::new(response.into_body(), MAX_PAGE_BYTES)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|error| failed(error.to_string()))
    };
    let bytes = tokio::time::timeout(SCRAPE_TIMEOUT, page)
        .await
        .map_err(|_| failed(format!("no answer within {SCRAPE_TIMEOUT:?}")))??;
    Ok(parse(&String::from_utf8_lossy(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"# HELP aoai_mock_requests_total Requests.
# TYPE aoai_mock_requests_total counter
aoai_mock_requests_total{resource="east",deployment="chat"} 7
aoai_mock_requests_total{resource="east",deployment="embed"} 3
aoai_mock_requests_total{resource="west",deployment="chat"} 5
aoai_mock_throttled_total{resource="east",deployment="chat",reason="tokens"} 2
aoai_mock_throttled_total{resource="east",deployment="chat",reason="requests"} 1
aoai_mock_completed_total{resource="west",deployment="chat"} 4
aoai_mock_ttft_seconds_bucket{resource="west",deployment="chat",le="0.5"} 4
"#;

    #[test]
    fn counters_are_summed_by_resource_over_deployments_and_reasons() {
        let counts = parse(PAGE);
        assert_eq!(counts["east"].requests, 10);
        assert_eq!(counts["east"].throttled, 3);
        assert_eq!(counts["west"].requests, 5);
        assert_eq!(counts["west"].completed, 4);
        assert_eq!(counts.len(), 2);
    }
}
