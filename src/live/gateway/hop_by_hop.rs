//! Headers that belong to one hop (RFC 9110 §7.6.1) and never cross the gateway, in either
//! direction: `Connection` and every header it names, `Proxy-Authorization`,
//! `Proxy-Authenticate`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`,
//! `Upgrade`; on the way to a backend also `Host` and `Content-Length` (hyper writes its own)
//! and `Expect` (the gateway has already read the body).

use hyper::HeaderMap;
use hyper::header::{
    CONNECTION, CONTENT_LENGTH, EXPECT, HOST, HeaderName, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION,
    TRANSFER_ENCODING,
};

/// Hop-by-hop by name, whatever `Connection` says.
fn always(name: &HeaderName) -> bool {
    name == CONNECTION
        || name == TRANSFER_ENCODING
        || name == PROXY_AUTHORIZATION
        || name == PROXY_AUTHENTICATE
        || matches!(
            name.as_str(),
            "keep-alive" | "proxy-connection" | "te" | "trailer" | "upgrade"
        )
}

/// The header names listed in `headers`' `Connection` values (lower-case tokens).
fn named_by_connection(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|token| token.trim().to_ascii_lowercase())
        .filter(|token| !token.is_empty())
        .collect()
}

/// The headers of a client request to send on to a backend.
pub(crate) fn request_headers(headers: &HeaderMap) -> HeaderMap {
    let named = named_by_connection(headers);
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let own = name == HOST || name == CONTENT_LENGTH || name == EXPECT;
        if !own && !always(name) && !named.iter().any(|n| n == name.as_str()) {
            out.append(name, value.clone());
        }
    }
    out
}

/// Remove from a backend's response the headers that stay on the backend's hop
/// (`Content-Length` stays: it frames the body the client gets).
pub(crate) fn strip_response(headers: &mut HeaderMap) {
    let named = named_by_connection(headers);
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| always(name) || named.iter().any(|n| n == name.as_str()))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn connection_named_and_proxy_headers_stay_behind() {
        let request = map(&[
            ("connection", "keep-alive, X-Private"),
            ("connection", "x-other"),
            ("x-private", "1"),
            ("x-other", "2"),
            ("proxy-authorization", "Basic x"),
            ("api-key", "k"),
            ("host", "gateway"),
            ("content-length", "2"),
            ("expect", "100-continue"),
            ("te", "trailers"),
        ]);
        let sent = request_headers(&request);
        let names: Vec<&str> = sent.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, vec!["api-key"]);
        let mut response = map(&[
            ("connection", "x-backend"),
            ("x-backend", "1"),
            ("proxy-authenticate", "Basic"),
            ("content-length", "2"),
            ("retry-after", "3"),
        ]);
        strip_response(&mut response);
        let mut names: Vec<&str> = response.keys().map(|n| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, vec!["content-length", "retry-after"]);
    }
}
