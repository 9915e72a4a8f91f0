//! What the client of the gateway sees of a returned backend answer, when the strategy models a
//! balancer that changes it, as the simulator models it (`Strategy::client_observation`,
//! `Strategy::buffers_streams`):
//!
//! - **Renamed retry headers.** LiteLLM's proxy passes a backend's failure back with its headers
//!   prefixed `llm_provider-` (litellm 1.108.7, `litellm_core_utils/core_helpers.py`
//!   `process_response_headers`), so the client reads no `retry-after`/`retry-after-ms` and
//!   backs off exponentially.
//! - **Buffered streams.** openai-priority-loadbalancer 1.1.1 sends with
//!   `httpx.AsyncClient().send()` without `stream=True`, so the client sees nothing of a 2xx body
//!   until it ended: the gateway reads it whole (bounded) before answering.

use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{CONTENT_LENGTH, HeaderName, HeaderValue};
use hyper::{HeaderMap, Response};

use super::GatewayBody;

/// The retry headers a balancer that renames them renames, and their new names.
const RENAMED: [(&str, &str); 2] = [
    ("retry-after", "llm_provider-retry-after"),
    ("retry-after-ms", "llm_provider-retry-after-ms"),
];

/// Largest 2xx body read whole for a buffering strategy; beyond it the answer is cut (a bound
/// on what one backend answer can make the gateway hold).
pub(crate) const MAX_BUFFERED_BODY: usize = 64 << 20;

/// Rename the retry headers of a backend answer passed back to the client.
pub(crate) fn rename_retry_headers(headers: &mut HeaderMap) {
    for (name, renamed) in RENAMED {
        let values: Vec<HeaderValue> = headers.get_all(name).iter().cloned().collect();
        if values.is_empty() {
            continue;
        }
        headers.remove(name);
        let renamed = HeaderName::from_static(renamed);
        for value in values {
            headers.append(renamed.clone(), value);
        }
    }
}

/// `response` with its body read to the end first (the client's first byte comes with the
/// body's end); a 502 from the gateway when the body breaks or passes [`MAX_BUFFERED_BODY`].
pub(crate) async fn buffered(response: Response<GatewayBody>) -> Response<GatewayBody> {
    let (mut parts, body) = response.into_parts();
    match Limited::new(body, MAX_BUFFERED_BODY).collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Response::from_parts(
                parts,
                Full::new(bytes).map_err(|never| match never {}).boxed(),
            )
        }
        Err(_) => {
            parts.status = hyper::StatusCode::BAD_GATEWAY;
            parts.headers.remove(CONTENT_LENGTH);
            let body = r#"{"error":{"code":"502","message":"the backend's response body broke or was too large to buffer"}}"#;
            parts.headers.insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Response::from_parts(
                parts,
                Full::new(bytes::Bytes::from_static(body.as_bytes()))
                    .map_err(|never| match never {})
                    .boxed(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_headers_are_renamed_and_others_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        headers.insert("retry-after-ms", HeaderValue::from_static("6500"));
        headers.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from_static("0"),
        );
        rename_retry_headers(&mut headers);
        assert!(headers.get("retry-after").is_none());
        assert!(headers.get("retry-after-ms").is_none());
        assert_eq!(headers["llm_provider-retry-after"], "7");
        assert_eq!(headers["llm_provider-retry-after-ms"], "6500");
        assert_eq!(headers["x-ratelimit-remaining-tokens"], "0");
    }
}
