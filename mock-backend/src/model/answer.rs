//! What the model answers to one request: status, serving deployment, rate headers, and either
//! a response plan or the reason for refusing.

use super::DeploymentId;
use super::faults::FaultRejection;
use super::headers::RateHeaders;
use super::plan::ResponsePlan;
use super::standard::ThrottleReason;
use std::time::Duration;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rejection {
    /// 404: no deployment of that name in the resource.
    DeploymentNotFound,
    /// 400: e.g. chat on an embeddings model.
    OperationNotSupported,
    /// 400 `content_filter`: the prompt tripped the (mock) content filter.
    ContentFiltered,
    /// 400 `context_length_exceeded`.
    ContextLengthExceeded {
        /// The model's context window.
        context_window: u32,
        /// Prompt tokens.
        prompt_tokens: u32,
        /// `max_tokens` when prompt + max_tokens is what overflows; None when the prompt alone does.
        completion_tokens: Option<u32>,
    },
    /// 429 from the standard windows.
    RateLimited {
        /// The blocking window.
        reason: ThrottleReason,
        /// Time until it has room.
        retry_after: Duration,
    },
    /// 429 from a saturated PTU deployment.
    PtuSaturated {
        /// Time until utilization is below 100%.
        retry_after: Duration,
    },
    /// A fault answered.
    Fault(FaultRejection),
}

/// Retry-after of capacity 429s (quota-independent, so no window to compute it from).
pub const CAPACITY_RETRY_AFTER: Duration = Duration::from_secs(1);

impl Rejection {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Rejection::DeploymentNotFound => 404,
            Rejection::OperationNotSupported
            | Rejection::ContentFiltered
            | Rejection::ContextLengthExceeded { .. } => 400,
            Rejection::RateLimited { .. } | Rejection::PtuSaturated { .. } => 429,
            Rejection::Fault(FaultRejection::Capacity) => 429,
            Rejection::Fault(FaultRejection::ServerError(status)) => *status,
            Rejection::Fault(FaultRejection::Unavailable) => 503,
        }
    }
}

/// Admitted with a plan, or refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Act out this plan, then call [`super::Fleet::complete`] with its ticket.
    Admitted(ResponsePlan),
    /// Answer this error now.
    Rejected(Rejection),
}

/// The request went to a PTU deployment first and was forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spillover {
    /// The provisioned deployment that refused.
    pub from: DeploymentId,
    /// Its status.
    pub status: u16,
}

/// The model's answer to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The deployment that produced the answer (after spillover); None for a 404.
    pub deployment: Option<DeploymentId>,
    /// Plan or refusal.
    pub outcome: Outcome,
    /// Rate-limit / utilization headers.
    pub headers: RateHeaders,
    /// Set when a PTU deployment spilled the request over.
    pub spillover: Option<Spillover>,
}

impl Answer {
    /// The answer to a deployment the resource does not have: a 404 with no headers. Also what
    /// a caller of [`super::Fleet::admit_into`] starts from (every field is written over). A
    /// function, not a constant: built in place it is a few tag stores, where a constant of
    /// this size is copied in whole.
    #[inline]
    pub fn not_found() -> Answer {
        Answer {
            status: 404,
            deployment: None,
            outcome: Outcome::Rejected(Rejection::DeploymentNotFound),
            headers: RateHeaders::default(),
            spillover: None,
        }
    }

    /// The plan, if admitted.
    pub fn plan(&self) -> Option<&ResponsePlan> {
        match &self.outcome {
            Outcome::Admitted(plan) => Some(plan),
            Outcome::Rejected(_) => None,
        }
    }
}
