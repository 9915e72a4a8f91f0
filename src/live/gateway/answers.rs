//! Responses the gateway writes itself: the strategy's exhaustion answer (status,
//! `retry-after` / `retry-after-ms`, AOAI-like JSON error body), a 502/504 when the returned
//! attempt got no HTTP answer, and a 400 for a request body it could not read.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use super::GatewayBody;
use crate::balance::{Exhausted, RetryAfterHeader};
use crate::live::trail::{AttemptStatus, EXHAUSTED, UPSTREAM_ERROR};

/// A JSON error response: `{"error":{"code":…,"message":…}}`.
pub fn json_error(status: u16, code: &str, message: &str) -> Response<GatewayBody> {
    let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
    let mut response = Response::new(
        Full::new(Bytes::from(body))
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
pub fn upstream_failure(status: AttemptStatus, backend: &str) -> Response<GatewayBody> {
    let (code, label, what) = match status {
        AttemptStatus::Timeout => (504, "timeout", "did not answer within the attempt timeout"),
        _ => (502, "connect", "closed or refused the connection"),
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
        assert_eq!(upstream_failure(AttemptStatus::Timeout, "b").status(), 504);
    }
}
