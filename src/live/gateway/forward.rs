//! Forwarding one attempt to one backend: the client's method, path, query, end-to-end headers
//! (auth included; [`hop_by_hop`](super::hop_by_hop) ones left behind) and buffered body,
//! waiting at most the attempt timeout for the response headers. The body is not read here.
//! A failure says what happened on the backend's side, as a balancer in front of it would tell.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Request, Response, Uri};

use super::GatewayShared;
use super::hop_by_hop;

/// Why an attempt got no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No connection: refused, unreachable, or the connect itself failed.
    Refused,
    /// Connected, then closed or reset before a complete response head.
    Reset,
    /// No response head within the attempt timeout.
    Timeout,
    /// The gateway could not form the request (its own fault: nothing was sent).
    Local,
}

/// How an attempt went.
pub(crate) enum Forwarded {
    /// Response headers arrived.
    Answer(Response<Incoming>),
    /// No HTTP answer.
    Failed(Failure),
}

/// What a client error says happened.
fn classify(error: &hyper_util::client::legacy::Error) -> Failure {
    if error.is_connect() {
        return Failure::Refused;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_user)
        {
            return Failure::Local;
        }
        source = cause.source();
    }
    Failure::Reset
}

/// Send the client's request to pool backend `pool`.
pub(crate) async fn forward(
    shared: &GatewayShared,
    pool: usize,
    parts: &Parts,
    body: Bytes,
) -> Forwarded {
    let base = &shared.backends[pool].base;
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str());
    let Ok(uri) = format!("{base}{path}").parse::<Uri>() else {
        return Forwarded::Failed(Failure::Local);
    };
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = hop_by_hop::request_headers(&parts.headers);
    let sent = shared
        .clock
        .timeout(shared.attempt_timeout, shared.client.request(request))
        .await;
    match sent {
        Ok(Ok(response)) => Forwarded::Answer(response),
        Ok(Err(error)) => Forwarded::Failed(classify(&error)),
        Err(_) => Forwarded::Failed(Failure::Timeout),
    }
}
