//! How many sockets a process may hold, and how the servers treat them: raising the soft
//! open-file limit to the hard one at start-up (Linux defaults the soft limit to 1,024, far
//! below what 10,000 requests in flight need), the share of it a component may spend on
//! connections, the HTTP/1.1 settings every hyper server here applies (the head-read timeout,
//! which also closes idle keep-alive connections, and the largest head buffered), the accept
//! loop both servers run — which closes connections beyond a cap at once instead of letting
//! the process run out of descriptors (after which new connections would wait in the kernel's
//! accept queue, their requests unanswered until the client gives up) and counts connection
//! tasks that panicked — and serving one connection until it ends or the server stops, with a
//! lingering close.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::flush_before_cut::Flushing;

/// How long a server keeps an idle keep-alive connection (no request under way) before
/// closing it, by default: the head-read timeout ([`super::limits::Limits::header_timeout`]).
/// Clients here drop idle pooled connections sooner ([`CLIENT_IDLE`]), so a client never sends
/// on a connection the server is closing.
pub const SERVER_IDLE: Duration = super::limits::DEFAULT_HEADER_TIMEOUT;

/// How long the HTTP clients here keep an idle pooled connection.
pub const CLIENT_IDLE: Duration = Duration::from_secs(30);

/// Descriptors kept back from connection budgets for listeners, files and the runtime.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// This process's soft limit on open files (`u64::MAX` when unlimited; None where it cannot
/// be read).
pub fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        Some(limit.current.unwrap_or(u64::MAX))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Raise this process's soft limit on open files to its hard limit; the limit in force
/// afterwards ([`open_file_limit`]). Call once at start-up of a command that holds many
/// sockets.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            // Refused (e.g. an unlimited hard limit above the kernel's nr_open): keep the
            // soft limit.
            let _ = setrlimit(Resource::Nofile, raised);
        }
    }
    open_file_limit()
}

/// The connections one of `sharers` components of this process may hold: an equal share of
/// the open-file limit after [`RESERVED_DESCRIPTORS`] (None: no known limit).
pub fn connection_budget(sharers: u64) -> Option<usize> {
    let limit = open_file_limit()?;
    let share = limit.saturating_sub(RESERVED_DESCRIPTORS) / sharers.max(1);
    Some(usize::try_from(share).unwrap_or(usize::MAX).max(1))
}

/// An HTTP/1.1 connection builder: hyper's head-read timer runs from the moment a connection
/// waits for its next request, so `header_timeout` bounds both a slowly sent head and an idle
/// keep-alive connection; a head over [`MAX_HEAD_BYTES`](super::limits::MAX_HEAD_BYTES) is
/// answered 431.
pub fn http1_server(header_timeout: Duration) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(super::limits::MAX_HEAD_BYTES);
    builder
}

/// What an accept loop counts.
#[derive(Debug, Default)]
pub struct ConnectionCounters {
    /// Connections closed on arrival: the cap was reached.
    pub refused: AtomicU64,
    /// Connection tasks that ended in a panic (each lost its connection, not the process).
    pub panicked: AtomicU64,
}

/// Serve HTTP/1.1 on `stream` with `service` until the connection ends; when `shutdown` turns
/// true, finish the response under way and close. hyper's own answers to unparsable heads get
/// an AOAI error body ([`ErrorBodies`](super::protocol_errors::ErrorBodies)), and the close
/// lingers ([`Lingering`](super::linger::Lingering)) so an answer given before the whole request
/// was read reaches the client. A body cut in the pass that writes its head still sends the
/// head first ([`Flushing`]).
pub async fn serve_connection<S, B>(
    stream: TcpStream,
    service: S,
    header_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    S: Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: Body + Unpin + Send + 'static,
    B::Error: Unpin + Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let io = TokioIo::new(super::protocol_errors::ErrorBodies::new(
        super::linger::Lingering::new(stream),
    ));
    let connection = http1_server(header_timeout).serve_connection(io, Flushing(service));
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}

/// What the listeners of one server share: the cap on open connections, the counters, the stop
/// signal, and the head-read timeout.
#[derive(Debug, Clone)]
pub struct Listening {
    /// Connections open at once beyond which a new one is closed on arrival.
    pub max_connections: usize,
    /// Refused and panicked connections.
    pub counters: Arc<ConnectionCounters>,
    /// Turns true to stop accepting and finish the responses under way.
    pub shutdown: watch::Receiver<bool>,
    /// [`http1_server`]'s head-read timeout.
    pub header_timeout: Duration,
}

impl Listening {
    /// Serve HTTP/1.1 with `service` on every connection accepted on `socket` ([`accept_connections`],
    /// [`serve_connection`]), on a task of its own, until the stop.
    pub fn spawn<S, B>(&self, socket: TcpListener, service: S) -> JoinHandle<()>
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: Body + Unpin + Send + 'static,
        B::Data: Send,
        B::Error: Unpin + Send + Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Listening {
            max_connections,
            counters,
            shutdown,
            header_timeout,
        } = self.clone();
        let stop = shutdown.clone();
        tokio::spawn(accept_connections(
            socket,
            max_connections,
            counters,
            shutdown,
            move |stream| serve_connection(stream, service.clone(), header_timeout, stop.clone()),
        ))
    }
}

/// Accept connections on `socket` until `shutdown` turns true, serving each with `serve` on a
/// task of its own (Nagle off). With `max_connections` open, a new connection is closed as
/// soon as it is accepted and counted in `counters.refused`; a task that panics is counted in
/// `counters.panicked`. After the stop, waits for the open ones.
pub async fn accept_connections<S, F>(
    socket: TcpListener,
    max_connections: usize,
    counters: Arc<ConnectionCounters>,
    mut shutdown: watch::Receiver<bool>,
    mut serve: S,
) where
    S: FnMut(TcpStream) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    let reaped = |ended: Result<(), tokio::task::JoinError>| {
        if ended.is_err_and(|error| error.is_panic()) {
            counters.panicked.fetch_add(1, Ordering::Relaxed);
        }
    };
    loop {
        tokio::select! {
            // Reap ended connections first, so the cap counts only open ones.
            biased;
            Some(ended) = connections.join_next(), if !connections.is_empty() => reaped(ended),
            _ = shutdown.changed() => break,
            accepted = socket.accept() => match accepted {
                Ok(_) if connections.len() >= max_connections => {
                    counters.refused.fetch_add(1, Ordering::Relaxed);
                }
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve(stream));
                }
                // Out of descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(socket);
    while let Some(ended) = connections.join_next().await {
        reaped(ended);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_split_what_is_left_after_the_reserve() {
        let whole = connection_budget(1).expect("a unix limit");
        let quarter = connection_budget(4).expect("a unix limit");
        assert!(whole >= 1 && quarter >= 1);
        assert!(quarter <= whole / 4 + 1, "{quarter} vs {whole}");
        let limit = open_file_limit().expect("readable");
        assert!(whole as u64 <= limit.saturating_sub(RESERVED_DESCRIPTORS).max(1));
    }

    /// [`Flushing`]: a body cut in the pass that writes its head.
    mod flush_before_cut {
        use std::convert::Infallible;

        use bytes::Bytes;
        use hyper::Response;
        use hyper::service::service_fn;
        use hyper_util::rt::TokioIo;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::{TcpListener, TcpStream};

        use std::pin::Pin;
        use std::task::{Context, Poll};

        use hyper::body::{Body, Frame};

        use super::super::serve_connection;

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
        /// server here runs ([`serve_connection`]), or
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
                    serve_connection(stream, service, timeout, shutdown).await;
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
}
