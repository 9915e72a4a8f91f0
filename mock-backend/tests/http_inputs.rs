//! Routing, auth and bad-input handling over loopback: every refusal has AOAI's status and
//! body, never an empty 500; successful bodies and headers have AOAI's shape.

use crate::common;
use common::*;

fn fleet_toml() -> String {
    format!(
        r#"
seed = 3
max_body_bytes = 2048
[[resources]]
name = "east"
region = "East US"
api_keys = ["k"]
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
model_overrides = {{ context_window = 4096 }}
{INSTANT}
[[resources.deployments]]
name = "embed"
model = "text-embedding-3-small"
kind = "standard"
tpm = 1000000
{INSTANT}
[[resources.deployments]]
name = "legacy"
model = "gpt-35-turbo"
kind = "standard"
tpm = 1000000
{INSTANT}
[[resources]]
name = "open"
region = "West US"
api_keys = []
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
{INSTANT}
"#
    )
}

#[tokio::test]
async fn wrong_key_wrong_token_and_no_header_get_aoai_401s() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let path = chat_path("chat");
    let body = chat_body(5, false);
    let bad_key = send(addr, "POST", &path, &[("api-key", "nope")], &body).await;
    assert_eq!(bad_key.status, 401);
    assert_eq!(bad_key.json()["error"]["code"], "401");
    assert!(
        bad_key
            .body
            .contains("Access denied due to invalid subscription key or wrong API endpoint")
    );
    assert!(bad_key.header("apim-request-id").is_some());
    let bad_token = send(
        addr,
        "POST",
        &path,
        &[("authorization", "Bearer nope")],
        &body,
    )
    .await;
    assert_eq!(bad_token.status, 401);
    assert_eq!(bad_token.json()["statusCode"], 401);
    assert!(
        bad_token.json().get("error").is_none(),
        "the Entra 401 has no error wrapper"
    );
    let missing = send(addr, "POST", &path, &[], &body).await;
    assert_eq!(missing.status, 401);
    let good_token = send(addr, "POST", &path, &[("authorization", "Bearer k")], &body).await;
    assert_eq!(good_token.status, 200);
    // An empty key list accepts any key, but not a missing one.
    let open = fleet.listener("open").unwrap().addr;
    assert_eq!(
        send(open, "POST", &path, &[("api-key", "whatever")], &body)
            .await
            .status,
        200
    );
    assert_eq!(send(open, "POST", &path, &[], &body).await.status, 401);
    fleet.shutdown().await;
}

#[tokio::test]
async fn unknown_deployment_path_and_method() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let missing = chat(
        addr,
        "nope",
        &chat_body(5, false),
        &[("x-ms-client-request-id", "abc")],
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "DeploymentNotFound");
    assert_eq!(missing.header("x-ms-region"), Some("East US"));
    assert_eq!(missing.header("x-ms-client-request-id"), Some("abc"));
    let path = send(
        addr,
        "POST",
        "/openai/deployments/chat/images/generations?api-version=2024-10-21",
        &[("api-key", "k")],
        "{}",
    )
    .await;
    assert_eq!(
        (path.status, path.json()["error"]["code"].as_str()),
        (404, Some("404"))
    );
    let no_version = send(
        addr,
        "POST",
        "/openai/deployments/chat/chat/completions",
        &[("api-key", "k")],
        &chat_body(5, false),
    )
    .await;
    assert_eq!(no_version.status, 404);
    let wrong_method = send(addr, "GET", &chat_path("chat"), &[("api-key", "k")], "").await;
    assert_eq!(
        (wrong_method.status, wrong_method.header("allow")),
        (405, Some("POST"))
    );
    assert!(wrong_method.json()["error"]["code"].is_string());
    let text = metrics(&fleet).await;
    assert_eq!(
        metric(
            &text,
            r#"aoai_mock_deployment_not_found_total{resource="east"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"aoai_mock_shell_refusals_total{resource="east",status="405"}"#
        ),
        1.0
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn bad_bodies_get_openai_style_400s() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let malformed = chat(addr, "chat", "{not json", &[]).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.json()["error"]["type"], "invalid_request_error");
    let no_messages = chat(addr, "chat", r#"{"max_tokens":5}"#, &[]).await;
    assert_eq!(no_messages.status, 400);
    assert_eq!(
        no_messages.json()["error"]["message"],
        "'messages' is a required property"
    );
    let wrong_type = chat(addr, "chat", r#"{"messages":[],"max_tokens":"five"}"#, &[]).await;
    assert_eq!(wrong_type.status, 400);
    // 4096 context: 9 prompt tokens + 4090 > 4096.
    let too_long = chat(addr, "chat", &chat_body(4090, false), &[]).await;
    assert_eq!(too_long.status, 400);
    let error = &too_long.json()["error"];
    assert_eq!(error["code"], "context_length_exceeded");
    assert_eq!(error["param"], "messages");
    assert_eq!(
        error["message"],
        "This model's maximum context length is 4096 tokens. However, you requested 4099 tokens (9 in the messages, 4090 in the completion). Please reduce the length of the messages or completion."
    );
    let bad_header = chat(
        addr,
        "chat",
        &chat_body(5, false),
        &[("x-mock-completion-tokens", "lots")],
    )
    .await;
    assert_eq!(bad_header.status, 400);
    let huge = format!(
        r#"{{"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(4000)
    );
    let too_large = chat(addr, "chat", &huge, &[]).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.json()["error"]["code"], "RequestEntityTooLarge");
    let chat_on_embeddings = chat(addr, "embed", &chat_body(5, false), &[]).await;
    assert_eq!(
        (
            chat_on_embeddings.status,
            chat_on_embeddings.json()["error"]["code"].as_str()
        ),
        (400, Some("OperationNotSupported"))
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_chat_response_has_aoai_headers_and_body() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let reply = chat(
        addr,
        "chat",
        &chat_body(50, false),
        &[
            ("x-mock-completion-tokens", "7"),
            ("x-ms-client-request-id", "client-1"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200);
    for name in [
        "apim-request-id",
        "x-request-id",
        "azureml-model-session",
        "cmp-upstream-response-duration",
        "ms-azureml-model-time",
        "x-envoy-upstream-service-time",
    ] {
        assert!(reply.header(name).is_some(), "missing {name}");
    }
    assert_eq!(reply.header("x-ms-region"), Some("East US"));
    assert_eq!(reply.header("x-ms-client-request-id"), Some("client-1"));
    assert_eq!(reply.header("x-ms-deployment-name"), Some("chat"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(
        reply
            .header("strict-transport-security")
            .unwrap()
            .starts_with("max-age=31536000")
    );
    assert_eq!(reply.header("x-ms-rai-invoked"), Some("true"));
    assert_eq!(reply.header("apim-request-id").unwrap().len(), 36);
    let body = reply.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-2024-11-20");
    assert_eq!(body["id"].as_str().unwrap().len(), "chatcmpl-".len() + 29);
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["usage"]["prompt_tokens"], 9);
    assert_eq!(body["usage"]["completion_tokens"], 7);
    assert_eq!(body["usage"]["total_tokens"], 16);
    assert_eq!(body["prompt_filter_results"][0]["prompt_index"], 0);
    // Capped by max_tokens → "length"; n = 2 doubles the completion usage.
    let capped = chat(
        addr,
        "chat",
        r#"{"messages":[{"role":"user","content":"hello world"}],"max_tokens":3,"n":2}"#,
        &[("x-mock-completion-tokens", "7")],
    )
    .await;
    let body = capped.json();
    assert_eq!(
        (
            body["choices"][1]["finish_reason"].as_str(),
            body["usage"]["completion_tokens"].as_u64()
        ),
        (Some("length"), Some(6))
    );
    // No client id: Not-Set.
    assert_eq!(
        chat(addr, "chat", &chat_body(5, false), &[])
            .await
            .header("x-ms-client-request-id"),
        Some("Not-Set")
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn v1_routes_take_the_deployment_from_the_body() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let headers = [("api-key", "k")];
    let reply = send(
        addr,
        "POST",
        "/openai/v1/chat/completions",
        &headers,
        r#"{"model":"chat","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(
        (reply.status, reply.header("x-ms-deployment-name")),
        (200, Some("chat"))
    );
    let no_model = send(
        addr,
        "POST",
        "/openai/v1/chat/completions",
        &headers,
        r#"{"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(no_model.status, 400);
    assert_eq!(no_model.json()["error"]["param"], "model");
    let unknown = send(
        addr,
        "POST",
        "/openai/v1/chat/completions",
        &headers,
        r#"{"model":"zzz","messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(unknown.status, 404);
    let embeddings = send(
        addr,
        "POST",
        "/openai/v1/embeddings",
        &headers,
        r#"{"model":"embed","input":["this is a test","hello world"],"dimensions":8}"#,
    )
    .await;
    assert_eq!(embeddings.status, 200);
    let body = embeddings.json();
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][1]["embedding"].as_array().unwrap().len(), 8);
    assert_eq!(
        body["usage"]["prompt_tokens"],
        4 + 2,
        "cl100k: 'this is a test' = 4, 'hello world' = 2"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn legacy_completions_have_text_choices_and_usage() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let path = "/openai/deployments/legacy/completions?api-version=2024-10-21";
    let reply = send(
        addr,
        "POST",
        path,
        &[("api-key", "k"), ("x-mock-completion-tokens", "4")],
        r#"{"prompt":"hello world"}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["object"], "text_completion");
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"));
    assert!(body["choices"][0]["text"].is_string());
    assert_eq!(
        (
            body["usage"]["prompt_tokens"].as_u64(),
            body["usage"]["completion_tokens"].as_u64()
        ),
        (Some(2), Some(4))
    );
    // gpt-35-turbo's estimate is the flat 16 (prompt ignored).
    assert_eq!(
        reply.header_u64("x-ratelimit-remaining-tokens"),
        1_000_000 - 16
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn request_ids_follow_the_seed() {
    let first_id = || async {
        let fleet = start(&fleet_toml()).await;
        let reply = chat(addr(&fleet), "chat", &chat_body(5, false), &[]).await;
        fleet.shutdown().await;
        (
            reply.header("apim-request-id").unwrap().to_string(),
            reply.json()["id"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(first_id().await, first_id().await);
}

#[tokio::test]
async fn content_filter_markers_refuse_the_prompt_or_cut_the_completion() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    let prompt = r#"{"messages":[{"role":"user","content":"please [mock:filter-prompt]"}]}"#;
    let refused = chat(addr, "chat", prompt, &[]).await;
    assert_eq!(refused.status, 400);
    let error = &refused.json()["error"];
    assert_eq!(
        (
            error["code"].as_str(),
            error["param"].as_str(),
            error["status"].as_u64()
        ),
        (Some("content_filter"), Some("prompt"), Some(400))
    );
    assert_eq!(error["innererror"]["code"], "ResponsibleAIPolicyViolation");
    assert_eq!(
        error["innererror"]["content_filter_result"]["sexual"]["filtered"],
        true
    );
    let completion =
        r#"{"messages":[{"role":"user","content":"tell me [mock:filter-completion]"}]}"#;
    let cut = chat(
        addr,
        "chat",
        completion,
        &[("x-mock-completion-tokens", "10")],
    )
    .await;
    assert_eq!(cut.status, 200);
    let body = cut.json();
    assert_eq!(body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        body["choices"][0]["content_filter_results"]["sexual"]["filtered"],
        true
    );
    assert_eq!(
        body["usage"]["completion_tokens"], 5,
        "what was generated before the cut is billed"
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn include_usage_is_refused_on_old_api_versions_only_in_strict_mode() {
    let strict = fleet_toml().replacen(
        "model_overrides = { context_window = 4096 }",
        "model_overrides = { context_window = 4096 }\nswitches = { include_usage_strict = true }",
        1,
    );
    let fleet = start(&strict).await;
    let strict_addr = addr(&fleet);
    let body = chat_body(5, true);
    let old = send(
        strict_addr,
        "POST",
        "/openai/deployments/chat/chat/completions?api-version=2024-05-01-preview",
        &[("api-key", "k")],
        &body,
    )
    .await;
    assert_eq!(
        (old.status, old.json()["error"]["param"].as_str()),
        (400, Some("stream_options"))
    );
    let new = send(
        strict_addr,
        "POST",
        "/openai/deployments/chat/chat/completions?api-version=2024-10-21",
        &[("api-key", "k")],
        &body,
    )
    .await;
    assert_eq!(new.status, 200);
    fleet.shutdown().await;
    let lenient = start(&fleet_toml()).await;
    let old = send(
        addr(&lenient),
        "POST",
        "/openai/deployments/chat/chat/completions?api-version=2024-05-01-preview",
        &[("api-key", "k")],
        &body,
    )
    .await;
    assert_eq!(old.status, 200);
    lenient.shutdown().await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_a_413_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fleet = start(&fleet_toml()).await;
    let mut stream = tokio::net::TcpStream::connect(addr(&fleet)).await.unwrap();
    let chunk = "x".repeat(1500);
    let request = format!(
        "POST {} HTTP/1.1\r\nhost: x\r\napi-key: k\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chat_path("chat"),
        chunk.len(),
        chunk.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&response).contains("RequestEntityTooLarge") {
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(
            n > 0,
            "connection closed before a 413: {}",
            String::from_utf8_lossy(&response)
        );
        response.extend_from_slice(&buffer[..n]);
    }
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 413"));
    fleet.shutdown().await;
}

#[tokio::test]
async fn embeddings_honour_encoding_format_base64() {
    use base64::Engine;
    let fleet = start(&fleet_toml()).await;
    let headers = [("api-key", "k")];
    let path = "/openai/deployments/embed/embeddings?api-version=2024-10-21";
    let reply = send(
        addr(&fleet),
        "POST",
        path,
        &headers,
        r#"{"input":"hello world","encoding_format":"base64","dimensions":16}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    let encoded = reply.json()["data"][0]["embedding"]
        .as_str()
        .expect("a base64 string")
        .to_string();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    assert_eq!(bytes.len(), 16 * 4, "16 little-endian f32 values");
    let bad = send(
        addr(&fleet),
        "POST",
        path,
        &headers,
        r#"{"input":"x","encoding_format":"hex"}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
    fleet.shutdown().await;
}
