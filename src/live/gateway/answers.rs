//! Responses the gateway writes itself, all in AOAI's error shape: the strategy's exhaustion
//! answer (status, `retry-after` / `retry-after-ms`), a 502/504 saying what happened when the
//! returned attempt got no HTTP answer, and what it judges without any backend — a method or
//! path no backend serves (404/405, admin and metrics paths included: they are never
//! forwarded) and a body it would not read (413, 408, 400 for broken framing, 503 with
//! `retry-after` when its body budget is full). None of these feeds a breaker.

use aoai_mock::http::errors;
use aoai_mock::http::limits::{BodyRefusal, close_after, has_body, refusal_answer};
use aoai_mock::http::router::{Route, route};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};

use super::GatewayBody;
use super::forward::Failure;
use crate::balance::{Exhausted, RetryAfterHeader};
use crate::live::trail::{EXHAUSTED, UPSTREAM_ERROR};

/// A JSON response with `body` as it is.
fn json(status: u16, body: impl Into<Bytes>) -> Response<GatewayBody> {
    let mut response = Response::new(
        Full::new(body.into())
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON error response: `{"error":{"code":…,"message":…}}`.
pub fn json_error(status: u16, code: &str, message: &str) -> Response<GatewayBody> {
    json(status, errors::gateway(code, message))
}

/// The strategy's answer when every backend is out.
pub fn exhausted(answer: &Exhausted) -> Response<GatewayBody> {
    let mut response = json_error(
        answer.status,
        &answer.status.to_string(),
        answer.body_message,
    );
    let headers = response.headers_mut();
    headers.insert(EXHAUSTED, HeaderValue::from_static("true"));
    if let Some(wait) = answer.retry_after {
        match answer.retry_after_header {
            RetryAfterHeader::Millis => {
                headers.insert("retry-after-ms", HeaderValue::from(wait.as_millis() as u64));
            }
            RetryAfterHeader::Seconds => {
                headers.insert("retry-after", HeaderValue::from(wait.as_secs().max(1)));
            }
        }
    }
    response
}

/// The returned attempt on `backend` got no HTTP answer.
pub fn upstream_failure(failure: Failure, backend: &str) -> Response<GatewayBody> {
    let (code, label, what) = match failure {
        Failure::Timeout => (504, "timeout", "did not answer within the attempt timeout"),
        Failure::Refused => (502, "connect", "refused the connection"),
        Failure::Reset => (502, "connect", "closed the connection before answering"),
        Failure::Local => (
            502,
            "connect",
            "could not be sent the request by the gateway",
        ),
    };
    let mut response = json_error(
        code,
        &code.to_string(),
        &format!("backend {backend} {what}"),
    );
    response
        .headers_mut()
        .insert(UPSTREAM_ERROR, HeaderValue::from_static(label));
    response
}

/// The gateway's own answer to a request no backend serves (an unknown path, `OPTIONS *`, the
/// mock's admin and metrics paths, a method other than POST); None when it is an inference
/// request to forward. Its body is left unread, so with one the connection closes after.
pub fn unserved(parts: &Parts) -> Option<Response<GatewayBody>> {
    let mut response = match route(&parts.method, parts.uri.path()) {
        Route::Inference { .. } | Route::Models => return None,
        Route::NotFound => json(404, errors::RESOURCE_NOT_FOUND),
        Route::MethodNotAllowed(allow) => {
            let mut response = json(405, errors::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
            response
        }
    };
    if has_body(&parts.headers) {
        close_after(response.headers_mut());
    }
    Some(response)
}

/// The answer to a request body the gateway did not read to the end (the connection closes
/// after it).
pub fn body_refused(refusal: &BodyRefusal) -> Response<GatewayBody> {
    let Some((status, body, retry_after)) = refusal_answer(refusal) else {
        // The client is gone; whatever is written here goes nowhere.
        return json_error(
            400,
            "400",
            "The request body ended before its declared length.",
        );
    };
    let mut response = json(status, body);
    close_after(response.headers_mut());
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn exhaustion_answers_carry_their_wait_in_the_named_header() {
        let answer = Exhausted {
            status: 429,
            retry_after: Some(Duration::from_millis(10_000)),
            retry_after_header: RetryAfterHeader::Millis,
            body_message: "busy",
        };
        let response = exhausted(&answer);
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after-ms"], "10000");
        assert_eq!(response.headers()[EXHAUSTED], "true");
        let seconds = exhausted(&Exhausted {
            retry_after: Some(Duration::from_millis(300)),
            retry_after_header: RetryAfterHeader::Seconds,
            ..answer
        });
        assert_eq!(seconds.headers()["retry-after"], "1", "at least one second");
        assert_eq!(upstream_failure(Failure::Timeout, "b").status(), 504);
    }

    #[test]
    fn only_inference_posts_are_left_to_the_backends() {
        let parts = |method: &str, uri: &str| {
            hyper::Request::builder()
                .method(method)
                .uri(uri)
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        let chat = "/openai/deployments/d/chat/completions?api-version=2024-10-21";
        assert!(unserved(&parts("POST", chat)).is_none());
        let wrong_method = unserved(&parts("GET", chat)).expect("answered");
        assert_eq!(wrong_method.status(), 405);
        assert_eq!(wrong_method.headers()[ALLOW], "POST");
        for path in ["*", "/metrics", "/admin/config", "/++/config", "/"] {
            let answer = unserved(&parts("OPTIONS", path)).expect("answered");
            assert_eq!(answer.status(), 404, "{path}");
        }
        let busy = body_refused(&BodyRefusal::OverBudget);
        assert_eq!(busy.status(), 503);
        assert!(busy.headers().contains_key(RETRY_AFTER));
        assert_eq!(
            busy.headers()["connection"],
            "close",
            "its body was not read"
        );
    }
}
