//! The k-way merge of the sources' request streams into one time-ordered sequence. Order is
//! total and deterministic: by intended time, then source index (apps in file order, then the
//! trace), then each source's own sequence (a source has at most one request in the heap).
//! Requests are numbered here, 0-based.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use super::app::AppStream;
use super::error::WorkloadError;
use super::request::Request;
use super::trace::TraceStream;

/// One source of requests.
#[derive(Debug)]
pub enum Source {
    /// A synthetic app (infallible).
    App(AppStream),
    /// A trace replay (reads a file, so fallible).
    Trace(Box<TraceStream>),
}

impl Source {
    fn next_request(&mut self) -> Option<Result<Request, WorkloadError>> {
        match self {
            Source::App(app) => app.next().map(Ok),
            Source::Trace(trace) => trace.next(),
        }
    }
}

/// The workload's requests in time order; see [`super::Workload::requests`].
///
/// After an error (only trace input can fail) the error is yielded once and the iterator ends.
#[derive(Debug)]
pub struct Requests {
    sources: Vec<Source>,
    heads: Vec<Option<Request>>,
    heap: BinaryHeap<Reverse<(Duration, usize)>>,
    next_id: u64,
    pending_error: Option<WorkloadError>,
    finished: bool,
}

impl Requests {
    pub(crate) fn new(sources: Vec<Source>) -> Self {
        let mut merged = Requests {
            heads: vec![None; sources.len()],
            heap: BinaryHeap::with_capacity(sources.len()),
            sources,
            next_id: 0,
            pending_error: None,
            finished: false,
        };
        // A lone app is read straight through by `next` (no head, no heap).
        if !merged.lone_app() {
            for index in 0..merged.sources.len() {
                merged.refill(index);
            }
        }
        merged
    }

    fn lone_app(&self) -> bool {
        matches!(self.sources.as_slice(), [Source::App(_)])
    }

    fn refill(&mut self, index: usize) {
        if self.pending_error.is_some() {
            return;
        }
        match self.sources[index].next_request() {
            Some(Ok(request)) => {
                self.heap.push(Reverse((request.at, index)));
                self.heads[index] = Some(request);
            }
            Some(Err(error)) => self.pending_error = Some(error),
            None => {}
        }
    }

    /// `request` with the next id of the merged stream.
    fn numbered(&mut self, mut request: Request) -> Request {
        request.id = self.next_id;
        self.next_id += 1;
        request
    }
}

impl Iterator for Requests {
    type Item = Result<Request, WorkloadError>;

    // No inline hint: with the simulator's drive loop holding the next arrival itself, a hint
    // here measured 26 instructions per request more (16-backend benchmark), not fewer.
    fn next(&mut self) -> Option<Self::Item> {
        if let [Source::App(app)] = self.sources.as_mut_slice() {
            // One synthetic app cannot fail and needs no merge: its next request is the next.
            let request = app.next()?;
            return Some(Ok(self.numbered(request)));
        }
        if self.finished {
            return None;
        }
        if let Some(error) = self.pending_error.take() {
            self.finished = true;
            return Some(Err(error));
        }
        let Reverse((_, index)) = self.heap.pop()?;
        let request = self.heads[index].take()?;
        self.refill(index);
        Some(Ok(self.numbered(request)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Requests>();
    }
}
