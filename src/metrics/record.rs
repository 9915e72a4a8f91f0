//! The two record types every driver emits (ARCHITECTURE.md, principle 3): one [`RequestRecord`] per
//! logical client request and one [`AttemptRecord`] per backend attempt.
//!
//! Records are plain `Copy` values with no heap data, so producing one costs no allocation.
//! Every time is a timestamp: a `Duration` since the start of the run (virtual time in the
//! simulator, wall clock in live runs). Latencies are derived by methods so the definitions
//! live in one place (loadgen.md §1). Names (strategies, backends, apps) are indices into the
//! run's [`RunSetup`](crate::report::RunSetup) tables.

use std::time::Duration;

/// Index of a strategy in `RunSetup::strategies`.
pub type StrategyIndex = u16;
/// Index of a backend (deployment) in `RunSetup::backends`.
pub type BackendIndex = u16;
/// Index of an application (request-mix entry) in `RunSetup::apps`.
pub type AppIndex = u16;

/// How a request or attempt ended, from the client's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ErrorClass {
    /// Success (2xx).
    #[default]
    None,
    /// HTTP 429.
    Throttled,
    /// HTTP 5xx.
    ServerError,
    /// HTTP 4xx other than 429.
    ClientError,
    /// The connection failed (status 0).
    ConnectError,
    /// The client gave up waiting (status 0).
    Timeout,
    /// The balancer answered without trying a backend (every backend out).
    Exhausted,
}

impl ErrorClass {
    /// Every class, in the order used in outputs.
    pub const ALL: [ErrorClass; 7] = [
        ErrorClass::None,
        ErrorClass::Throttled,
        ErrorClass::ServerError,
        ErrorClass::ClientError,
        ErrorClass::ConnectError,
        ErrorClass::Timeout,
        ErrorClass::Exhausted,
    ];

    /// The class an HTTP status implies. Status 0 (no HTTP answer) maps to `ConnectError`;
    /// callers that know it was a timeout or an exhausted pool set the class themselves.
    pub fn from_status(status: u16) -> ErrorClass {
        match status {
            200..=299 => ErrorClass::None,
            429 => ErrorClass::Throttled,
            500..=599 => ErrorClass::ServerError,
            0 => ErrorClass::ConnectError,
            _ => ErrorClass::ClientError,
        }
    }

    /// The stable lower-case name used in CSV and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::None => "none",
            ErrorClass::Throttled => "throttled",
            ErrorClass::ServerError => "server_error",
            ErrorClass::ClientError => "client_error",
            ErrorClass::ConnectError => "connect_error",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Exhausted => "exhausted",
        }
    }

    /// Inverse of [`ErrorClass::as_str`].
    pub fn parse(text: &str) -> Option<ErrorClass> {
        ErrorClass::ALL
            .into_iter()
            .find(|class| class.as_str() == text)
    }

    /// Position in [`ErrorClass::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The backends a request tried, in order, stored inline (no heap).
///
/// Holds the first [`BackendsTried::CAPACITY`] attempts; later ones are not listed (the
/// request's `attempts` field still counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BackendsTried {
    len: u8,
    ids: [BackendIndex; BackendsTried::CAPACITY],
}

impl BackendsTried {
    /// How many backends are listed at most.
    pub const CAPACITY: usize = 8;

    /// Append a backend; returns `false` (and lists nothing) when the list is full.
    pub fn push(&mut self, backend: BackendIndex) -> bool {
        let len = usize::from(self.len);
        if len == Self::CAPACITY {
            return false;
        }
        self.ids[len] = backend;
        self.len += 1;
        true
    }

    /// The listed backends in the order they were tried.
    pub fn as_slice(&self) -> &[BackendIndex] {
        &self.ids[..usize::from(self.len)]
    }

    /// Forget every entry (for drivers that reuse one record).
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl FromIterator<BackendIndex> for BackendsTried {
    fn from_iter<I: IntoIterator<Item = BackendIndex>>(iter: I) -> Self {
        let mut tried = BackendsTried::default();
        for backend in iter {
            tried.push(backend);
        }
        tried
    }
}

/// One logical client request, however many attempts it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestRecord {
    /// Which strategy served it.
    pub strategy: StrategyIndex,
    /// Unique within a strategy's run; the same id for the same arrival across strategies.
    pub request_id: u64,
    /// The request-mix entry it came from.
    pub app: AppIndex,
    /// When the open-loop schedule wanted it sent.
    pub intended_start: Duration,
    /// When the first attempt was actually sent.
    pub actual_start: Duration,
    /// When the client saw the final answer (end of body, error or timeout).
    pub end: Duration,
    /// When the first content token reached the client (streams; `None` otherwise or on error).
    pub first_token: Option<Duration>,
    /// Final HTTP status the client saw; 0 when there was no HTTP answer.
    pub status: u16,
    /// Final outcome class.
    pub error: ErrorClass,
    /// Backend attempts in total (gateway and client retries included).
    pub attempts: u32,
    /// Retries the client made (new logical send of the same request).
    pub client_retries: u32,
    /// Retries the balancer/gateway made on the client's behalf.
    pub gateway_retries: u32,
    /// Backends tried, in order.
    pub backends_tried: BackendsTried,
    /// The backend whose answer the client got, if any.
    pub final_backend: Option<BackendIndex>,
    /// Prompt tokens (usage of the final answer; the estimate when there was none).
    pub prompt_tokens: u32,
    /// Completion tokens received.
    pub completion_tokens: u32,
    /// Whether the request asked for SSE streaming.
    pub stream: bool,
    /// Whether the final backend spilled the request over to another deployment.
    pub spilled_over: bool,
    /// The deployment (index in `RunSetup::backends`) that served a spilled request.
    pub served_by: Option<BackendIndex>,
}

impl RequestRecord {
    /// End-to-end latency from the intended start (coordinated-omission safe).
    pub fn e2e(&self) -> Duration {
        self.end.saturating_sub(self.intended_start)
    }

    /// How late the generator sent the request (actual − intended).
    pub fn send_lag(&self) -> Duration {
        self.actual_start.saturating_sub(self.intended_start)
    }

    /// Time to first token from the intended start (loadgen.md §1, CO-safe).
    pub fn ttft(&self) -> Option<Duration> {
        self.first_token
            .map(|at| at.saturating_sub(self.intended_start))
    }

    /// Time to first token from the actual send.
    pub fn ttft_from_send(&self) -> Option<Duration> {
        self.first_token
            .map(|at| at.saturating_sub(self.actual_start))
    }

    /// Whether the client got a successful answer.
    pub fn succeeded(&self) -> bool {
        self.error == ErrorClass::None
    }

    /// Retries of both kinds.
    pub fn retries(&self) -> u32 {
        self.client_retries + self.gateway_retries
    }

    /// The deployment that did the work and bills for it: `served_by` after a spillover,
    /// otherwise the final backend.
    pub fn billed_backend(&self) -> Option<BackendIndex> {
        if self.spilled_over {
            self.served_by.or(self.final_backend)
        } else {
            self.final_backend
        }
    }
}

/// One attempt on one backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttemptRecord {
    /// Which strategy made it.
    pub strategy: StrategyIndex,
    /// The logical request it belongs to.
    pub request_id: u64,
    /// 1-based attempt number within the request.
    pub attempt: u32,
    /// The backend it went to.
    pub backend: BackendIndex,
    /// When it was sent.
    pub start: Duration,
    /// When its first content token arrived, if any.
    pub first_token: Option<Duration>,
    /// When it ended.
    pub end: Duration,
    /// HTTP status; 0 when there was no HTTP answer.
    pub status: u16,
    /// Outcome class.
    pub error: ErrorClass,
    /// Whether the backend spilled it over to another deployment.
    pub spilled_over: bool,
}

impl AttemptRecord {
    /// Time to first token from this attempt's send.
    pub fn ttft(&self) -> Option<Duration> {
        self.first_token.map(|at| at.saturating_sub(self.start))
    }

    /// How long the attempt took.
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_classes_and_names_round_trip() {
        assert_eq!(ErrorClass::from_status(200), ErrorClass::None);
        assert_eq!(ErrorClass::from_status(429), ErrorClass::Throttled);
        assert_eq!(ErrorClass::from_status(503), ErrorClass::ServerError);
        assert_eq!(ErrorClass::from_status(400), ErrorClass::ClientError);
        assert_eq!(ErrorClass::from_status(0), ErrorClass::ConnectError);
        for class in ErrorClass::ALL {
            assert_eq!(ErrorClass::parse(class.as_str()), Some(class));
            assert_eq!(ErrorClass::ALL[class.index()], class);
        }
        assert_eq!(ErrorClass::parse("nope"), None);
    }

    #[test]
    fn backends_tried_keeps_the_first_eight_in_order() {
        let tried: BackendsTried = (0..10).collect();
        assert_eq!(tried.as_slice(), &[0, 1, 2, 3, 4, 5, 6, 7]);
        let mut tried = tried;
        assert!(!tried.push(9));
        tried.clear();
        assert!(tried.push(3));
        assert_eq!(tried.as_slice(), &[3]);
    }

    #[test]
    fn latencies_are_measured_from_the_intended_start() {
        let record = RequestRecord {
            intended_start: Duration::from_millis(1000),
            actual_start: Duration::from_millis(1040),
            first_token: Some(Duration::from_millis(1300)),
            end: Duration::from_millis(2500),
            ..RequestRecord::default()
        };
        assert_eq!(record.send_lag(), Duration::from_millis(40));
        assert_eq!(record.ttft(), Some(Duration::from_millis(300)));
        assert_eq!(record.ttft_from_send(), Some(Duration::from_millis(260)));
        assert_eq!(record.e2e(), Duration::from_millis(1500));
    }

    #[test]
    fn a_spilled_request_bills_the_deployment_that_served_it() {
        let mut record = RequestRecord {
            final_backend: Some(0),
            served_by: Some(2),
            ..RequestRecord::default()
        };
        assert_eq!(
            record.billed_backend(),
            Some(0),
            "not spilled: final backend"
        );
        record.spilled_over = true;
        assert_eq!(record.billed_backend(), Some(2));
    }
}
