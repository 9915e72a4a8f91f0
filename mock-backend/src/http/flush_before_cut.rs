//! A response body whose error is held back for one poll. hyper's server aborts a connection on
//! a body error without flushing what it had buffered, so a body cut in the same poll as its
//! head reached the client as a bare close: the gateway relaying a backend's head, first bytes
//! and reset read together, or the mock cutting a stream whose reset time passed while its
//! head was being written. Held back, the error lets hyper flush first: the client sees the
//! head and the bytes before the cut, then the cut — a reset mid-body, as planned. Every
//! server here serves through [`Flushing`] (in [`serve_connection`](super::sockets::serve_connection)),
//! so no response body is left out (tested there: a module of its own tests importing the
//! sockets would close an import cycle).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::Service;
use hyper::{Request, Response};

/// `inner`, with its error delivered one poll late.
pub struct FlushBeforeCut<B: Body> {
    inner: B,
    /// The cut, held while hyper flushes what came before it.
    cut: Option<B::Error>,
}

impl<B: Body> FlushBeforeCut<B> {
    pub fn new(inner: B) -> FlushBeforeCut<B> {
        FlushBeforeCut { inner, cut: None }
    }
}

impl<B: Body + Unpin> Body for FlushBeforeCut<B>
where
    B::Error: Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.get_mut();
        if let Some(error) = this.cut.take() {
            return Poll::Ready(Some(Err(error)));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Err(error))) => {
                // Pending ends hyper's write pass with a flush; the wake brings it straight
                // back for the cut.
                this.cut = Some(error);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.cut.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `service` with every response body in a [`FlushBeforeCut`]. Its future is boxed: hyper
/// keeps a connection's service future inline for the connection's whole life, so a box keeps
/// only a pointer there (the mock's `handle` future is ~4 KB; see BENCHMARKS.md, memory with
/// 10,000 open streams), freed when the response head is ready.
#[derive(Debug, Clone)]
pub struct Flushing<S>(pub S);

/// The future of a [`Flushing`] service's response.
type Flushed<B, E> = Pin<Box<dyn Future<Output = Result<Response<FlushBeforeCut<B>>, E>> + Send>>;

impl<S, B> Service<Request<Incoming>> for Flushing<S>
where
    S: Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Body + Unpin,
{
    type Response = Response<FlushBeforeCut<B>>;
    type Error = S::Error;
    type Future = Flushed<B, S::Error>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let answered = self.0.call(request);
        Box::pin(async move {
            answered
                .await
                .map(|response| response.map(FlushBeforeCut::new))
        })
    }
}
