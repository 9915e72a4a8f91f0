//! The HTTP/1.1 client the gateway and the load engine send with: hyper-util's pooled client
//! (keep-alive, idle connections closed after 30 s, no idle-connection cap, Nagle off), with an
//! optional cap on open connections ([`CappedConnector`]) and an optional connect timeout (the
//! load engine's: a handshake that never completes — a full accept queue drops the SYNs —
//! fails instead of holding the request until its client timeout), bodies buffered in memory
//! (requests are small; responses are streamed by the caller frame by frame).

use std::num::NonZeroUsize;
use std::time::Duration;

use aoai_mock::http::sockets::CLIENT_IDLE;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::connection_cap::CappedConnector;

/// The pooled client.
pub type HttpClient = Client<CappedConnector, Full<Bytes>>;

/// A keep-alive client for plain `http://` targets holding at most `max_connections`
/// connections open (None: as many as requests in flight need).
pub fn http_client(max_connections: Option<NonZeroUsize>) -> HttpClient {
    connecting_client(max_connections, None)
}

/// [`http_client`] whose connects fail after `connect_timeout` (wall time; None: they wait as
/// long as the kernel retries the handshake, about two minutes).
pub fn connecting_client(
    max_connections: Option<NonZeroUsize>,
    connect_timeout: Option<Duration>,
) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.enforce_http(true);
    connector.set_connect_timeout(connect_timeout);
    Client::builder(TokioExecutor::new())
        // Without a timer hyper-util never evicts idle connections: they would hold a
        // descriptor each, here and at the server, until the process ends.
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(CLIENT_IDLE)
        .pool_max_idle_per_host(usize::MAX)
        .build(CappedConnector::new(connector, max_connections))
}
