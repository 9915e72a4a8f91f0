//! A response body whose error is held back for one poll. hyper's server aborts a connection on
//! a body error without flushing what it had buffered, so a body cut in the same poll as its
//! head reached the client as a bare close: the gateway relaying a backend's head, first bytes
//! and reset read together, or the mock cutting a stream whose reset time passed while its
//! head was being written. Held back, the error lets hyper flush first: the client sees the
//! head and the bytes before the cut, then the cut — a reset mid-body, as planned. Every
//! server here serves through [`Flushing`] (in [`serve_connection`](super::sockets::serve_connection)),
//! so no response body is left out.

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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use hyper::Response;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    const BEFORE_THE_CUT: &str = "{\"partial\"";

    /// A body that is ready with a few bytes and then its cut at once, as a backend's body is
    /// when its head, first bytes and reset were read together.
    struct CutAtOnce {
        sent: bool,
    }

    impl Body for CutAtOnce {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            let this = self.get_mut();
            if this.sent {
                return Poll::Ready(Some(Err(std::io::Error::from(
                    std::io::ErrorKind::ConnectionReset,
                ))));
            }
            this.sent = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                BEFORE_THE_CUT.as_bytes(),
            )))))
        }
    }

    /// What a raw client reads from a real hyper server answering one request with a 200
    /// promising 100 bytes and a [`CutAtOnce`] body, until the server closes: a server as every
    /// server here runs ([`serve_connection`](super::super::sockets::serve_connection)), or
    /// hyper's own when `bare`.
    async fn what_the_client_reads(bare: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.expect("accept");
            let service = service_fn(move |_| async move {
                let mut response = Response::new(CutAtOnce { sent: false });
                response
                    .headers_mut()
                    .insert("content-length", hyper::header::HeaderValue::from(100));
                Ok::<_, Infallible>(response)
            });
            if bare {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            } else {
                let (_stop, shutdown) = tokio::sync::watch::channel(false);
                let timeout = std::time::Duration::from_secs(10);
                super::super::sockets::serve_connection(stream, service, timeout, shutdown).await;
            }
        });
        let mut client = TcpStream::connect(addr).await.expect("connect");
        client
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .expect("write");
        let mut read = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            client.read_to_end(&mut read),
        )
        .await
        .expect("the server closes after the cut");
        server.await.expect("server task");
        String::from_utf8_lossy(&read).into_owned()
    }

    #[tokio::test]
    async fn a_cut_right_after_the_head_reaches_the_client_after_the_head_and_its_bytes() {
        let read = what_the_client_reads(false).await;
        assert!(read.starts_with("HTTP/1.1 200"), "{read:?}");
        assert!(read.ends_with(BEFORE_THE_CUT), "{read:?}");
    }

    #[tokio::test]
    async fn without_it_hyper_closes_with_nothing_sent() {
        // Why the wrapper exists: should a hyper upgrade flush before aborting, this fails and
        // the wrapper can go.
        let read = what_the_client_reads(true).await;
        assert_eq!(
            read, "",
            "hyper now flushes before aborting on a body error"
        );
    }
}
