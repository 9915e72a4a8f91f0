//! The body of a streaming response: acts out an admitted plan's SSE events as hyper polls for
//! them — sleep until each event is due, render it, hand it over — with no task or channel of
//! its own. A client that leaves drops the body, which settles the request as aborted.

use super::payload::{Completion, StreamEvents};
use super::state::{Settlement, Shared};
use crate::model::{Disruption, ResponsePlan};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// Async filter mode: characters between annotation events ("guaranteed within a ~1,000-character window").
const ASYNC_ANNOTATION_CHARS: usize = 1000;

/// What the stream sends next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The prelude (`choices: []`, prompt filter results).
    Prelude,
    /// Content chunk `k` of the schedule (the role events go with chunk 0).
    Chunk(u32),
    /// Finish (and annotation, usage) events and `[DONE]`.
    Finish,
    /// Nothing: the stream ended or was cut.
    Done,
}

/// Why a connection is closed without a (complete) response.
pub type Cut = std::io::Error;

/// What rendering an admitted response (a whole body or a stream) needs, owned.
pub struct StreamJob {
    /// Shared state (for settlement and the clock).
    pub shared: Arc<Shared>,
    /// When the request was received (plan offsets count from here).
    pub received_at: Duration,
    /// The plan.
    pub plan: ResponsePlan,
    /// Completion id.
    pub id: String,
    /// Model version.
    pub model: String,
    /// `fp_…`.
    pub fingerprint: String,
    /// Unix seconds.
    pub created: u64,
    /// Word list start.
    pub words_start: usize,
    /// Send the usage event.
    pub include_usage: bool,
    /// Chat or legacy completions.
    pub operation: crate::model::Operation,
    /// Asynchronous content-filter stream shape.
    pub async_filter: bool,
}

/// A stream in progress.
pub struct SseStream {
    shared: Arc<Shared>,
    received_at: Duration,
    plan: ResponsePlan,
    events: StreamEvents,
    include_usage: bool,
    /// Taken when the stream completes; dropped early, it settles the request as aborted.
    settlement: Option<Settlement>,
    step: Step,
    /// Characters of one choice's text sent so far, and up to where the last annotation covered.
    chars_sent: usize,
    annotated_to: usize,
    /// The wait for the next event, when it is not due yet.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// The stream of `job`'s events (its headers are being sent now).
pub fn sse_stream(job: StreamJob, settlement: Settlement) -> SseStream {
    let events = StreamEvents::new(
        Completion {
            id: &job.id,
            created: job.created,
            model: &job.model,
            fingerprint: &job.fingerprint,
            words_start: job.words_start,
            operation: job.operation,
        },
        job.async_filter,
    );
    SseStream {
        shared: job.shared,
        received_at: job.received_at,
        plan: job.plan,
        events,
        include_usage: job.include_usage,
        settlement: Some(settlement),
        step: Step::Prelude,
        chars_sent: 0,
        annotated_to: 0,
        timer: None,
    }
}

fn cut_mid_stream() -> Cut {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset fault (mid-stream)",
    )
}

impl SseStream {
    /// Arm the timer for `offset` after the request was received; false when that time has passed.
    fn wait_for(&mut self, offset: Duration) -> bool {
        self.timer = self
            .shared
            .clock
            .timer(self.received_at + offset)
            .map(Box::pin);
        self.timer.is_some()
    }

    /// The next chunk of bytes, an instruction to cut the connection, or the end.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Cut>>> {
        loop {
            if let Some(timer) = self.timer.as_mut() {
                ready!(timer.as_mut().poll(cx));
                self.timer = None;
            }
            let schedule = self.plan.schedule;
            match self.step {
                Step::Prelude => {
                    self.step = Step::Chunk(0);
                    return Poll::Ready(Some(Ok(self.events.prelude())));
                }
                Step::Chunk(k) if k < schedule.chunks() => {
                    let due = schedule.offset(k);
                    if let Disruption::ResetAt(at) = self.plan.disruption
                        && at < due
                    {
                        if self.wait_for(at) {
                            continue;
                        }
                        self.step = Step::Done;
                        return Poll::Ready(Some(Err(cut_mid_stream())));
                    }
                    if self.wait_for(due) {
                        continue;
                    }
                    self.step = Step::Chunk(k + 1);
                    return Poll::Ready(Some(Ok(self.content(k))));
                }
                Step::Chunk(_) => {
                    self.step = Step::Finish;
                }
                Step::Finish => {
                    self.step = Step::Done;
                    let last = self.finish();
                    if let Some(settlement) = self.settlement.take() {
                        settlement.completed(self.plan.completion_tokens);
                    }
                    return Poll::Ready(Some(Ok(last)));
                }
                Step::Done => return Poll::Ready(None),
            }
        }
    }

    /// Whether nothing more will be sent.
    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// Content chunk `k` (with the role events before the first).
    fn content(&mut self, k: u32) -> Bytes {
        let (plan, events) = (&self.plan, &self.events);
        let schedule = plan.schedule;
        let mut batch = String::new();
        if k == 0 {
            events.roles(plan.choices, &mut batch);
        }
        let through = schedule.tokens_through(k);
        self.chars_sent += events.content(
            plan.choices,
            through - schedule.tokens_in(k),
            through,
            &mut batch,
        );
        if events.is_async() && self.chars_sent - self.annotated_to >= ASYNC_ANNOTATION_CHARS {
            events.annotation(self.annotated_to, self.chars_sent, &mut batch);
            self.annotated_to = self.chars_sent;
        }
        if let Some(settlement) = self.settlement.as_mut() {
            settlement.tokens_sent = through * plan.choices;
        }
        Bytes::from(batch)
    }

    /// The last chunk: finish events, the closing annotation (async mode), usage, `[DONE]`.
    fn finish(&self) -> Bytes {
        let (plan, events) = (&self.plan, &self.events);
        let mut batch = String::new();
        if plan.schedule.chunks() == 0 {
            events.roles(plan.choices, &mut batch);
        }
        events.finish(plan.choices, plan.finish_reason, &mut batch);
        if events.is_async() {
            // A passing async stream has an annotation after the finish event.
            events.annotation(self.annotated_to, self.chars_sent, &mut batch);
        }
        if self.include_usage {
            events.usage(plan.prompt_tokens, plan.completion_tokens, &mut batch);
        }
        StreamEvents::done(&mut batch);
        Bytes::from(batch)
    }
}
