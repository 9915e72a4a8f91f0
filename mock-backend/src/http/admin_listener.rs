//! The admin listener: the operations endpoints ([`super::admin`]) on a port of their own, off
//! the data path — loopback by default, and behind a bearer token when one is set (required
//! for any other address). The data listeners answer these paths 404, so a client of the API,
//! or a gateway forwarding its traffic, can neither read the fleet's keys nor change a quota.
//!
//! It reports the whole fleet; its routes take the shared state, so reporting one resource
//! (one listener per resource, as issue #13 plans) is a filter in [`super::admin`], not a
//! change here.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{ALLOW, AUTHORIZATION, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::admin;
use super::errors;
use super::mock_body::MockBody;
use super::state::Shared;

/// Where the admin listener listens and what it asks of callers.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminOptions {
    /// Address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl std::fmt::Debug for AdminOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminOptions")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl AdminOptions {
    /// 127.0.0.1, any free port, no token.
    pub fn loopback() -> AdminOptions {
        AdminOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token: None,
        }
    }

    /// Refuse to serve the admin API beyond this machine without a token.
    pub fn check(&self) -> Result<(), String> {
        let loopback = match self.listen.ip() {
            IpAddr::V4(ip) => ip.is_loopback(),
            IpAddr::V6(ip) => ip.is_loopback(),
        };
        if !loopback && self.token.as_deref().is_none_or(str::is_empty) {
            return Err(format!(
                "--admin-listen {}: the admin API (fleet config, quota changes) may listen beyond \
                 loopback only with a token (--admin-token or AOAI_MOCK_ADMIN_TOKEN)",
                self.listen
            ));
        }
        Ok(())
    }
}

/// Equal without telling, by its timing, how much of a guess was right.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

fn authorized(request: &Request<Incoming>, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
        .is_some_and(|given| same_secret(given, token.as_bytes()))
}

fn json(status: StatusCode, body: String) -> Response<MockBody> {
    admin::text(status, "application/json", body)
}

/// Serve one admin request.
pub async fn handle(
    shared: Arc<Shared>,
    token: Option<Arc<str>>,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    if !authorized(&request, token.as_deref()) {
        return Ok(json(
            StatusCode::UNAUTHORIZED,
            errors::gateway(
                "401",
                "The admin API needs `Authorization: Bearer <admin token>`.",
            ),
        ));
    }
    let path = request.uri().path().trim_end_matches('/');
    let method = request.method();
    let allowed = match path {
        "/metrics" => "GET",
        "/admin/config" | "/++/config" => "GET, PATCH",
        _ => {
            return Ok(json(
                StatusCode::NOT_FOUND,
                errors::RESOURCE_NOT_FOUND.to_string(),
            ));
        }
    };
    Ok(match (path, method) {
        ("/metrics", &Method::GET) => admin::metrics(&shared),
        (_, &Method::GET | &Method::PATCH) if allowed.contains("PATCH") => {
            admin::config(&shared, request).await
        }
        _ => {
            let mut response = json(
                StatusCode::METHOD_NOT_ALLOWED,
                errors::METHOD_NOT_ALLOWED.to_string(),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allowed));
            response
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_a_token_is_required() {
        assert!(AdminOptions::loopback().check().is_ok());
        let open = AdminOptions {
            listen: "0.0.0.0:9000".parse().unwrap(),
            token: None,
        };
        assert!(open.check().unwrap_err().contains("0.0.0.0:9000"));
        let guarded = AdminOptions {
            token: Some("s3cret".into()),
            ..open
        };
        assert!(guarded.check().is_ok());
        assert!(!format!("{guarded:?}").contains("s3cret"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
        assert!(!same_secret(b"", b"abc"));
    }
}
