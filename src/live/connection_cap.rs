//! A cap on the connections a client holds open at once, as `wrk -c` or vegeta's
//! `-max-connections` have: a connector that takes a permit before it dials and keeps it inside
//! the connection until the connection closes. hyper-util's pool, when no idle connection is
//! free, races a new dial against the next connection handed back; at the cap the dial waits
//! for a permit, so the request waits for a pooled connection instead — the wait counts in its
//! latency (measured from the intended send), and the connections in use stay warm rather than
//! thousands of new ones being opened after a stall. A dial that loses the race to a pooled
//! connection still finishes in the background when a permit frees (a connection closed), so
//! it only ever replaces a closed connection.

use std::future::Future;
use std::io;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

/// Dials plain TCP like [`HttpConnector`], at most `cap` connections open at once (no cap:
/// unlimited).
#[derive(Clone)]
pub struct CappedConnector {
    inner: HttpConnector,
    permits: Option<Arc<Semaphore>>,
}

impl CappedConnector {
    /// Wrap `inner`, holding at most `cap` connections open (None: no cap).
    pub fn new(inner: HttpConnector, cap: Option<NonZeroUsize>) -> CappedConnector {
        CappedConnector {
            inner,
            permits: cap.map(|cap| Arc::new(Semaphore::new(cap.get()))),
        }
    }
}

impl Service<Uri> for CappedConnector {
    type Response = CappedConnection;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<CappedConnection, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let mut inner = self.inner.clone();
        let permits = self.permits.clone();
        Box::pin(async move {
            let permit = match permits {
                Some(permits) => Some(permits.acquire_owned().await?),
                None => None,
            };
            let io = inner.call(destination).await?;
            Ok(CappedConnection {
                io,
                _permit: permit,
            })
        })
    }
}

/// A dialled connection and the permit it holds until it is dropped (closed).
pub struct CappedConnection {
    io: TokioIo<TcpStream>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Connection for CappedConnection {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl Read for CappedConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for CappedConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}
