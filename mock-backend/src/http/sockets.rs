//! How many sockets a process may hold, and how the servers treat idle ones: raising the
//! soft open-file limit to the hard one at start-up (Linux defaults the soft limit to 1,024,
//! far below what 10,000 requests in flight need), the share of it a component may spend on
//! connections, and the idle keep-alive timeout every hyper server here applies so that idle
//! client connections do not hold descriptors forever; and the accept loop both servers run,
//! which closes connections beyond a cap at once instead of letting the process run out of
//! descriptors (after which new connections would wait in the kernel's accept queue, their
//! requests unanswered until the client gives up).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a server keeps an idle keep-alive connection (no request under way) before
/// closing it. Clients here drop idle pooled connections sooner ([`CLIENT_IDLE`]), so a
/// client never sends on a connection the server is closing.
pub const SERVER_IDLE: Duration = Duration::from_secs(60);

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

/// An HTTP/1.1 connection builder with the idle keep-alive timeout: hyper's header-read
/// timer runs while a connection waits for its next request, so it closes idle connections.
pub fn http1_server() -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(SERVER_IDLE);
    builder
}

/// Accept connections on `socket` until `shutdown` turns true, serving each with `serve` on a
/// task of its own (Nagle off). With `max_connections` open, a new connection is closed as
/// soon as it is accepted and counted in `refused`. After the stop, waits for the open ones.
pub async fn accept_connections<S, F>(
    socket: TcpListener,
    max_connections: usize,
    refused: Arc<AtomicU64>,
    mut shutdown: watch::Receiver<bool>,
    mut serve: S,
) where
    S: FnMut(TcpStream) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // Reap ended connections first, so the cap counts only open ones.
            biased;
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
            accepted = socket.accept() => match accepted {
                Ok(_) if connections.len() >= max_connections => {
                    refused.fetch_add(1, Ordering::Relaxed);
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
    while connections.join_next().await.is_some() {}
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
}
