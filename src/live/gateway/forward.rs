//! Forwarding one attempt to one backend: the client's method, path, query, headers (auth
//! included; hop-by-hop headers dropped) and buffered body, waiting at most the attempt timeout
//! for the response headers. The body is not read here.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::http::request::Parts;
use hyper::{Request, Response, Uri};

use super::GatewayShared;
use crate::live::trail::AttemptStatus;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and those hyper sets itself.
pub(crate) fn is_hop_by_hop(name: &hyper::header::HeaderName) -> bool {
    name == CONNECTION
        || name == TRANSFER_ENCODING
        || name == HOST
        || name == CONTENT_LENGTH
        || matches!(
            name.as_str(),
            "keep-alive" | "proxy-connection" | "te" | "trailer" | "upgrade"
        )
}

/// How an attempt went.
pub(crate) enum Forwarded {
    /// Response headers arrived.
    Answer(Response<Incoming>),
    /// No HTTP answer.
    Failed(AttemptStatus),
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
        return Forwarded::Failed(AttemptStatus::Connect);
    };
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    for (name, value) in &parts.headers {
        if !is_hop_by_hop(name) {
            headers.append(name, value.clone());
        }
    }
    let sent = shared
        .clock
        .timeout(shared.attempt_timeout, shared.client.request(request))
        .await;
    match sent {
        Ok(Ok(response)) => Forwarded::Answer(response),
        Ok(Err(_)) => Forwarded::Failed(AttemptStatus::Connect),
        Err(_) => Forwarded::Failed(AttemptStatus::Timeout),
    }
}
