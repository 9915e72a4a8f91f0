//! Requests in flight: a slab of per-request state (the client's retry loop, the gateway's attempt
//! loop, the backend attempt under way, the record being filled), reused through a free list
//! so memory follows concurrency, not run length.

use std::time::Duration;

use aoai_mock::model::{Answer, ResponsePlan};

use crate::balance::Attempt;
use crate::client::ClientLife;
use crate::metrics::RequestRecord;
use crate::workload::Request;

/// The backend attempt under way.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    /// Strategy-side backend id.
    pub backend: usize,
    /// Report backend index (pool order).
    pub pool: u16,
    /// When it was sent.
    pub started: Duration,
    /// Attempt number within the request (1-based).
    pub number: u32,
    /// What the gateway will observe: HTTP status, or 0 for a connection failure.
    pub status: u16,
    /// The gateway gave up waiting (timeout) rather than the connection failing.
    pub timed_out: bool,
    /// The fleet's answer, moved in whole (its rate headers, and its plan when the backend
    /// admitted the request).
    pub answer: Answer,
    /// Report index of the deployment that served after a spillover.
    pub served_by: Option<u16>,
}

/// One logical client request.
#[derive(Debug)]
pub(crate) struct Flight {
    pub request: Request,
    pub gateway: usize,
    /// The client's retry loop.
    pub life: ClientLife,
    pub attempt: Attempt,
    pub record: RequestRecord,
    pub current: Option<Current>,
    /// Bumped whenever a scheduled event of this flight becomes stale.
    pub epoch: u32,
}

/// Slab of flights.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    slots: Vec<Option<Flight>>,
    free: Vec<u32>,
    live: usize,
}

impl Flights {
    /// Store the flight `make` builds (built straight into its slot, no copy of it); returns
    /// its slot.
    #[inline]
    pub fn insert_with(&mut self, make: impl FnOnce() -> Flight) -> u32 {
        self.live += 1;
        match self.free.pop() {
            Some(slot) => {
                if let Some(entry) = self.slots.get_mut(slot as usize) {
                    *entry = Some(make());
                }
                slot
            }
            None => {
                self.slots.push(Some(make()));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The flight in `slot`, if any.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Flight> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// Free the flight in `slot` (dropped in place, not moved out).
    pub fn release(&mut self, slot: u32) {
        if let Some(entry) = self.slots.get_mut(slot as usize)
            && entry.is_some()
        {
            *entry = None;
            self.free.push(slot);
            self.live -= 1;
        }
    }

    /// Flights in progress.
    pub fn live(&self) -> usize {
        self.live
    }

    /// High-water mark of simultaneous flights.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl Current {
    /// The plan, when the backend admitted the request.
    pub fn plan(&self) -> Option<&ResponsePlan> {
        self.answer.plan()
    }
}
