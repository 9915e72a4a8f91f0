//! The response body type: a whole buffer, or an SSE stream acted out as hyper polls it. An
//! `Err` from the stream makes hyper drop the connection (a mid-body reset; the server wraps
//! every body in [`FlushBeforeCut`](super::flush_before_cut::FlushBeforeCut) so the bytes
//! before the cut are sent first); a client that leaves makes hyper drop the body, which
//! settles the request as aborted.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::stream::SseStream;

/// Body of every response.
pub enum MockBody {
    /// A complete body (taken on first poll).
    Full(Option<Bytes>),
    /// Server-sent events as they fall due (boxed: a stream's state is 336 bytes, a whole
    /// buffer's a few words).
    Stream(Box<SseStream>),
}

impl MockBody {
    /// A complete body.
    pub fn full(bytes: impl Into<Bytes>) -> MockBody {
        MockBody::Full(Some(bytes.into()))
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            MockBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Stream(stream) => stream
                .poll_next(cx)
                .map(|chunk| chunk.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(bytes) => bytes.is_none(),
            MockBody::Stream(stream) => stream.is_done(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Stream(_) => SizeHint::default(),
        }
    }
}
