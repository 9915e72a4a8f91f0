//! [`Attempt`]: the per-request state of a strategy's driver loop (what the simulator keeps
//! for every request in flight and [`Strategy::begin`](super::Strategy::begin) creates again
//! on every client retry). Its fields belong to the strategy; callers read it through the
//! accessors.

use std::time::Duration;

use super::mask::Mask;
use super::types::{BackendId, RequestInfo};

/// Per-request state of the driver loop.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub(super) started: Duration,
    pub(super) est_tokens: u64,
    pub(super) session: Option<u64>,
    pub(super) stream: bool,
    pub(super) tried: Mask,
    /// Backends that declined the request by their non-streaming fraction (None: not yet
    /// drawn; drawn at the first pick, once per request, as PowerProxy's single pass does).
    pub(super) declined: Option<Mask>,
    pub(super) sends: u32,
    pub(super) retries: u32,
    pub(super) not_before: Duration,
    pub(super) in_flight: Option<(BackendId, Duration)>,
    /// A failed attempt of this request has been logged (see
    /// [`FailureLogging`](super::FailureLogging)).
    pub(super) failure_logged: bool,
}

impl Attempt {
    /// A request that begins at `now`, nothing tried yet.
    #[inline]
    pub(super) fn new(now: Duration, request: &RequestInfo) -> Self {
        Self {
            started: now,
            est_tokens: request.est_tokens,
            session: request.session,
            stream: request.stream,
            tried: Mask::EMPTY,
            declined: None,
            sends: 0,
            retries: 0,
            not_before: now,
            in_flight: None,
            failure_logged: false,
        }
    }

    /// Backend attempts sent so far.
    pub fn sends(&self) -> u32 {
        self.sends
    }

    /// Gateway retries consumed so far.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Whether `backend` was tried for this request.
    pub fn tried(&self, backend: BackendId) -> bool {
        self.tried.contains(backend)
    }

    /// When the request began.
    pub fn started(&self) -> Duration {
        self.started
    }
}
