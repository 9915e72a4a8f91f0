//! The HTTP/1.1 client the gateway and the load engine send with: hyper-util's pooled client
//! (keep-alive, idle connections closed after 30 s, no idle-connection cap, Nagle off), with an
//! optional cap on open connections ([`CappedConnector`]), bodies buffered in memory (requests
//! are small; responses are streamed by the caller frame by frame).

use std::num::NonZeroUsize;

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
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.enforce_http(true);
    Client::builder(TokioExecutor::new())
        // Without a timer hyper-util never evicts idle connections: they would hold a
        // descriptor each, here and at the server, until the process ends.
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(CLIENT_IDLE)
        .pool_max_idle_per_host(usize::MAX)
        .build(CappedConnector::new(connector, max_connections))
}
