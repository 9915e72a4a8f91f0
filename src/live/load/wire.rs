//! What one workload request looks like on the wire: the chat-completions URL of its
//! deployment, a JSON body with a synthetic prompt of its size (`prompt_text`), `max_tokens`,
//! `stream` (+ `include_usage`), and the headers that tell the mock how long to answer
//! (`x-mock-completion-tokens`), which client retry this is (`x-stainless-retry-count`) and the
//! session (for affinity selectors).

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request as HttpRequest};

use crate::live::trail::SESSION;
use crate::workload::{Request, prompt_text};

/// API version the engine asks for (supports `stream_options.include_usage`).
pub const API_VERSION: &str = "2024-10-21";

/// The JSON body of `request` (built once per logical request, reused by its retries).
pub fn body(request: &Request) -> Bytes {
    let mut body = serde_json::json!({
        "messages": [{ "role": "user", "content": prompt_text(request.prompt_tokens) }],
        "stream": request.stream,
    });
    if let Some(max_tokens) = request.max_tokens {
        body["max_tokens"] = max_tokens.into();
    }
    if request.stream {
        body["stream_options"] = serde_json::json!({ "include_usage": true });
    }
    Bytes::from(body.to_string())
}

/// `{target}/openai/deployments/{deployment}/chat/completions?api-version=…`.
pub fn url(target: &str, deployment: &str) -> String {
    format!(
        "{}/openai/deployments/{deployment}/chat/completions?api-version={API_VERSION}",
        target.trim_end_matches('/')
    )
}

/// The HTTP request for try number `retry` (0 = first) of `request`.
pub fn http_request(
    url: &str,
    api_key: &HeaderValue,
    request: &Request,
    body: Bytes,
    retry: u32,
) -> Option<HttpRequest<Full<Bytes>>> {
    HttpRequest::builder()
        .method(Method::POST)
        .uri(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("api-key", api_key.clone())
        .header("x-mock-completion-tokens", request.output_tokens)
        .header("x-stainless-retry-count", retry)
        .header(SESSION, request.session)
        .body(Full::new(body))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::DeploymentId;
    use std::time::Duration;

    #[test]
    fn a_streamed_request_asks_for_usage_and_carries_its_sizes() {
        let request = Request {
            id: 3,
            at: Duration::ZERO,
            app: 0,
            deployment: DeploymentId(0),
            prompt_tokens: 3,
            prompt_chars: 12,
            max_tokens: Some(50),
            output_tokens: 20,
            stream: true,
            priority: 0,
            session: 9,
        };
        let json: serde_json::Value = serde_json::from_slice(&body(&request)).unwrap();
        assert_eq!(json["messages"][0]["content"], " the the the");
        assert_eq!(json["max_tokens"], 50);
        assert_eq!(json["stream_options"]["include_usage"], true);
        let key = HeaderValue::from_static("k");
        let http = http_request(
            &url("http://h:1/", "gpt-4o"),
            &key,
            &request,
            body(&request),
            2,
        )
        .unwrap();
        assert_eq!(
            http.uri().to_string(),
            "http://h:1/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(http.headers()["x-mock-completion-tokens"], "20");
        assert_eq!(http.headers()["x-stainless-retry-count"], "2");
        assert_eq!(http.headers()[SESSION], "9");
    }
}
