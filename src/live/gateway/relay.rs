//! Passing a backend's returned body to the client frame by frame, without buffering, while
//! watching it: the first content event (TTFT), the usage, and the end. When the body ends —
//! completely, cut by an error, or dropped because the client went away — the strategy learns
//! the completion (`on_complete`), exactly once.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use super::GatewayShared;
use crate::balance::{BackendId, Completion};
use crate::live::sse::BodyWatch;

/// What `on_complete` needs about the returned attempt.
pub(crate) struct CompletionHook {
    pub shared: Arc<GatewayShared>,
    pub instance: usize,
    pub backend: BackendId,
    pub started: Duration,
    pub stream: bool,
    /// Prompt tokens estimated from the request, when the body reports no usage.
    pub prompt_estimate: u64,
}

/// The relayed body.
pub(crate) struct Relay {
    inner: Incoming,
    watch: BodyWatch,
    first_token: Option<Duration>,
    hook: Option<CompletionHook>,
}

impl Relay {
    pub fn new(inner: Incoming, hook: CompletionHook) -> Relay {
        Relay {
            inner,
            watch: BodyWatch::new(hook.stream),
            first_token: None,
            hook: Some(hook),
        }
    }

    fn finish(&mut self) {
        let Some(hook) = self.hook.take() else {
            return;
        };
        let now = hook.shared.clock.now();
        let (usage, content_events) = self.watch.finish();
        let latency = now.saturating_sub(hook.started);
        let completion = Completion {
            latency,
            // A non-streaming client sees the whole body at once: first token = end.
            ttft: match (hook.stream, self.first_token) {
                (true, first) => first.map(|at| at.saturating_sub(hook.started)),
                (false, _) => Some(latency),
            },
            prompt_tokens: usage.map_or(hook.prompt_estimate, |u| u64::from(u.prompt_tokens)),
            completion_tokens: usage.map_or(u64::from(content_events), |u| {
                u64::from(u.completion_tokens)
            }),
            stream: hook.stream,
        };
        hook.shared.instances.with(hook.instance, |strategy, _| {
            strategy.on_complete(now, hook.backend, &completion)
        });
    }
}

impl Body for Relay {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && this.watch.feed(data)
                    && this.first_token.is_none()
                    && let Some(hook) = &this.hook
                {
                    this.first_token = Some(hook.shared.clock.now());
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.finish();
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.finish();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.finish();
    }
}
