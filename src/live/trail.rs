//! What the throttlebox gateway tells its client about a request, in response headers: the
//! backend that answered, how many backend attempts and gateway retries it took, each attempt
//! (backend, outcome, start and end relative to the gateway receiving the request, scenario
//! time), and whether the gateway answered by itself. The load engine reads them back so a
//! live run's records carry gateway retries and per-backend attempts like the simulator's.
//!
//! `x-throttlebox-trail: openai-3 429 0 2100; openai-1 200 2300 -` — entries separated by
//! `;` (backend names never contain one), fields by spaces: name, status (`connect` or
//! `timeout` for no HTTP answer), start µs, end µs (`-` for the attempt whose body is still
//! coming).

use std::fmt::Write as _;
use std::time::Duration;

use hyper::HeaderMap;

/// Backend that answered.
pub const BACKEND: &str = "x-throttlebox-backend";
/// Backend attempts the gateway made.
pub const ATTEMPTS: &str = "x-throttlebox-attempts";
/// Gateway retries consumed.
pub const RETRIES: &str = "x-throttlebox-retries";
/// Every attempt, in order.
pub const TRAIL: &str = "x-throttlebox-trail";
/// Present (`true`) when the gateway answered by itself: every backend was out.
pub const EXHAUSTED: &str = "x-throttlebox-exhausted";
/// Present on the gateway's own 502/504 when the returned attempt got no HTTP answer.
pub const UPSTREAM_ERROR: &str = "x-throttlebox-upstream-error";
/// Session key the load engine sends (the affinity selectors hash it).
pub const SESSION: &str = "x-throttlebox-session";

/// How one backend attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    /// An HTTP status line.
    Http(u16),
    /// No answer: the connection failed or closed.
    Connect,
    /// No answer within the gateway's attempt timeout.
    Timeout,
}

impl AttemptStatus {
    fn label(self) -> String {
        match self {
            AttemptStatus::Http(code) => code.to_string(),
            AttemptStatus::Connect => "connect".to_string(),
            AttemptStatus::Timeout => "timeout".to_string(),
        }
    }

    fn parse(text: &str) -> Option<AttemptStatus> {
        match text {
            "connect" => Some(AttemptStatus::Connect),
            "timeout" => Some(AttemptStatus::Timeout),
            code => code.parse().ok().map(AttemptStatus::Http),
        }
    }
}

/// One backend attempt as the gateway saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEntry {
    /// Backend name.
    pub backend: String,
    /// Outcome.
    pub status: AttemptStatus,
    /// Sent, after the gateway received the request.
    pub start: Duration,
    /// Outcome known (None: the returned attempt, still streaming).
    pub end: Option<Duration>,
}

/// Render a trail header value.
pub fn encode(entries: &[TrailEntry]) -> String {
    let mut out = String::new();
    for (index, entry) in entries.iter().enumerate() {
        if index > 0 {
            out.push_str("; ");
        }
        let _ = write!(
            out,
            "{} {} {}",
            entry.backend,
            entry.status.label(),
            entry.start.as_micros()
        );
        match entry.end {
            Some(end) => {
                let _ = write!(out, " {}", end.as_micros());
            }
            None => out.push_str(" -"),
        }
    }
    out
}

/// Parse a trail header value; malformed entries are skipped.
pub fn decode(value: &str) -> Vec<TrailEntry> {
    value
        .split(';')
        .filter_map(|entry| {
            let mut fields = entry.split_whitespace();
            let backend = fields.next()?.to_string();
            let status = AttemptStatus::parse(fields.next()?)?;
            let start = Duration::from_micros(fields.next()?.parse().ok()?);
            let end = match fields.next()? {
                "-" => None,
                micros => Some(Duration::from_micros(micros.parse().ok()?)),
            };
            Some(TrailEntry {
                backend,
                status,
                start,
                end,
            })
        })
        .collect()
}

/// Everything a response's throttlebox headers say (all empty for another gateway).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayReport {
    /// The backend that answered.
    pub backend: Option<String>,
    /// Backend attempts made.
    pub attempts: Option<u32>,
    /// Gateway retries consumed.
    pub retries: Option<u32>,
    /// Each attempt.
    pub trail: Vec<TrailEntry>,
    /// The gateway answered by itself.
    pub exhausted: bool,
    /// The returned attempt got no HTTP answer.
    pub upstream_error: Option<AttemptStatus>,
}

impl GatewayReport {
    /// Read the headers of a response.
    pub fn from_headers(headers: &HeaderMap) -> GatewayReport {
        let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        GatewayReport {
            backend: text(BACKEND).map(str::to_string),
            attempts: text(ATTEMPTS).and_then(|v| v.trim().parse().ok()),
            retries: text(RETRIES).and_then(|v| v.trim().parse().ok()),
            trail: text(TRAIL).map(decode).unwrap_or_default(),
            exhausted: text(EXHAUSTED).is_some_and(|v| v.trim() == "true"),
            upstream_error: text(UPSTREAM_ERROR).and_then(|v| AttemptStatus::parse(v.trim())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trail_round_trips_and_bad_entries_are_skipped() {
        let entries = vec![
            TrailEntry {
                backend: "openai-3".into(),
                status: AttemptStatus::Http(429),
                start: Duration::from_micros(0),
                end: Some(Duration::from_micros(2100)),
            },
            TrailEntry {
                backend: "openai-2".into(),
                status: AttemptStatus::Timeout,
                start: Duration::from_micros(2200),
                end: Some(Duration::from_micros(90_000)),
            },
            TrailEntry {
                backend: "openai-1".into(),
                status: AttemptStatus::Http(200),
                start: Duration::from_micros(90_100),
                end: None,
            },
        ];
        let text = encode(&entries);
        assert_eq!(
            text,
            "openai-3 429 0 2100; openai-2 timeout 2200 90000; openai-1 200 90100 -"
        );
        assert_eq!(decode(&text), entries);
        assert_eq!(decode("x 200; openai-1 200 5 -; y nope 1 2").len(), 1);
    }
}
