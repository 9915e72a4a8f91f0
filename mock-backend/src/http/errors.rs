//! Error bodies with AOAI's wording and envelopes (reference §2, §3, §5.5): the gateway
//! envelope `{"error":{"code","message"}}`, the model envelope `{"error":{"message","type",
//! "param","code"}}`, and the Entra 401 without a wrapper. Wording marked [inferred] in the
//! README where no capture exists.

use crate::config::RateLimitMessage;
use crate::model::{FaultRejection, Operation, Rejection, ThrottleReason, ceil_seconds};

/// A JSON string literal (quoted and escaped).
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// Append `text` as a JSON string literal to `out` (the same text as [`quoted`], without an
/// intermediate string when nothing needs escaping, which is the common case).
pub fn push_quoted(out: &mut String, text: &str) {
    if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(&quoted(text));
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// Gateway envelope.
pub fn gateway(code: &str, message: &str) -> String {
    format!(
        r#"{{"error":{{"code":{},"message":{}}}}}"#,
        quoted(code),
        quoted(message)
    )
}

/// Model (OpenAI-style) envelope; `param`/`code` None render as `null`.
pub fn model(message: &str, param: Option<&str>, code: Option<&str>) -> String {
    let opt = |v: Option<&str>| v.map_or_else(|| "null".to_string(), quoted);
    format!(
        r#"{{"error":{{"message":{},"type":"invalid_request_error","param":{},"code":{}}}}}"#,
        quoted(message),
        opt(param),
        opt(code)
    )
}

/// 401 for a wrong `api-key`.
pub const BAD_KEY: &str = r#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}"#;

/// 401 for a wrong Bearer token (no `error` wrapper).
pub const BAD_BEARER: &str = r#"{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}"#;

/// 401 when neither header is present.
pub const MISSING_KEY: &str = r#"{"error":{"code":"401","message":"Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}}"#;

/// 400 for a prompt that trips the content filter (openai/openai-dotnet#55, verbatim).
pub const PROMPT_FILTERED: &str = r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":true,"severity":"high"},"violence":{"filtered":false,"severity":"safe"}}}}}"#;

/// 404 for a path that is not an AOAI route (or a missing api-version).
pub const RESOURCE_NOT_FOUND: &str = r#"{"error":{"code":"404","message":"Resource not found"}}"#;

/// 405 for a known path with the wrong method.
pub const METHOD_NOT_ALLOWED: &str = r#"{"error":{"code":"405","message":"Method Not Allowed"}}"#;

/// 413 for a body over the limit.
pub fn too_large(limit: u64) -> String {
    gateway(
        "RequestEntityTooLarge",
        &format!("The request body is too large. The maximum size is {limit} bytes."),
    )
}

/// 400 for a body that is not JSON.
pub fn malformed_json() -> String {
    model(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        None,
        None,
    )
}

/// 400 for a missing required property.
pub fn missing_property(name: &str) -> String {
    model(
        &format!("'{name}' is a required property"),
        Some(name),
        None,
    )
}

/// 400 for an empty list that must hold at least one item (OpenAI's wording).
pub fn too_short(name: &str) -> String {
    model(&format!("[] is too short - '{name}'"), None, None)
}

/// 400 for a property of the wrong type or value.
pub fn invalid_value(detail: &str, param: Option<&str>) -> String {
    model(&format!("Invalid request: {detail}"), param, None)
}

/// What a 429 message needs beyond the rejection.
pub struct ThrottleContext<'a> {
    /// The operation.
    pub operation: Operation,
    /// `api-version` as sent (`v1` on the v1 routes).
    pub api_version: &'a str,
    /// Model version for the newer wording.
    pub model: &'a str,
    /// Display region.
    pub region: &'a str,
    /// Wording switch.
    pub wording: RateLimitMessage,
}

/// The body of a model rejection.
pub fn rejection(rejection: &Rejection, deployment: &str, context: &ThrottleContext<'_>) -> String {
    match *rejection {
        Rejection::DeploymentNotFound => gateway(
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        ),
        Rejection::ContentFiltered => PROMPT_FILTERED.to_string(),
        Rejection::OperationNotSupported => gateway(
            "OperationNotSupported",
            &format!(
                "The {} operation does not work with the specified model, {deployment}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.",
                context.operation.camel_name()
            ),
        ),
        Rejection::ContextLengthExceeded {
            context_window,
            prompt_tokens,
            completion_tokens,
        } => {
            let message = match completion_tokens {
                Some(completion) => format!(
                    "This model's maximum context length is {context_window} tokens. However, you requested {} tokens ({prompt_tokens} in the messages, {completion} in the completion). Please reduce the length of the messages or completion.",
                    u64::from(prompt_tokens) + u64::from(completion)
                ),
                None => format!(
                    "This model's maximum context length is {context_window} tokens. However, your messages resulted in {prompt_tokens} tokens. Please reduce the length of the messages."
                ),
            };
            model(&message, Some("messages"), Some("context_length_exceeded"))
        }
        Rejection::RateLimited {
            reason,
            retry_after,
        } => gateway(
            "429",
            &rate_limit_message(reason, ceil_seconds(retry_after).max(1), context),
        ),
        Rejection::PtuSaturated { retry_after } => gateway(
            "429",
            &format!(
                "Requests to the {} Operation under Azure OpenAI API version {} have exceeded the provisioned throughput capacity of this deployment. Please retry after {} seconds.",
                context.operation.create_name(),
                context.api_version,
                ceil_seconds(retry_after).max(1)
            ),
        ),
        Rejection::Fault(FaultRejection::Capacity) => gateway(
            "429",
            "The service is temporarily unable to process your request. Please try again later.",
        ),
        Rejection::Fault(FaultRejection::Unavailable) => gateway(
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please try again later.",
        ),
        Rejection::Fault(FaultRejection::ServerError(500)) => gateway(
            "InternalServerError",
            "The server had an error while processing your request. Sorry about that!",
        ),
        Rejection::Fault(FaultRejection::ServerError(status)) => gateway(
            &status.to_string(),
            "The server had an error while processing your request. Sorry about that!",
        ),
    }
}

fn rate_limit_message(reason: ThrottleReason, seconds: u64, c: &ThrottleContext<'_>) -> String {
    let limit = match reason {
        ThrottleReason::Tokens => "token rate limit",
        ThrottleReason::Requests => "call rate limit",
    };
    match c.wording {
        RateLimitMessage::Classic => format!(
            "Requests to the {} Operation under Azure OpenAI API version {} have exceeded {limit} of your current OpenAI S0 pricing tier. Please retry after {seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
            c.operation.create_name(),
            c.api_version
        ),
        RateLimitMessage::NamedModel => format!(
            "Your requests to {model} for {model} in {region} have exceeded the {limit} for your current AIServices S0 pricing tier. This request was for {op} under Azure OpenAI API version {version}. Please retry after {seconds} seconds.",
            model = c.model,
            region = c.region,
            op = c.operation.create_name(),
            version = c.api_version
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn context(wording: RateLimitMessage) -> ThrottleContext<'static> {
        ThrottleContext {
            operation: Operation::ChatCompletions,
            api_version: "2024-10-21",
            model: "gpt-4o",
            region: "East US",
            wording,
        }
    }

    #[test]
    fn push_quoted_writes_what_serde_json_writes() {
        for text in [
            "",
            "plain words",
            "gpt-4o",
            "quote \" and \\ slash",
            "tab\tnew\nline\u{1}",
            "é ✓",
        ] {
            let mut out = String::from("x");
            push_quoted(&mut out, text);
            assert_eq!(
                out,
                format!("x{}", serde_json::to_string(text).unwrap()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn context_length_message_matches_the_capture() {
        let body = rejection(
            &Rejection::ContextLengthExceeded {
                context_window: 4096,
                prompt_tokens: 3177,
                completion_tokens: Some(1024),
            },
            "d",
            &context(RateLimitMessage::Classic),
        );
        assert_eq!(
            body,
            r#"{"error":{"message":"This model's maximum context length is 4096 tokens. However, you requested 4201 tokens (3177 in the messages, 1024 in the completion). Please reduce the length of the messages or completion.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#
        );
    }

    #[test]
    fn rate_limit_messages_state_the_seconds_and_the_limit() {
        let throttled = Rejection::RateLimited {
            reason: ThrottleReason::Tokens,
            retry_after: Duration::from_millis(6_200),
        };
        let body = rejection(&throttled, "d", &context(RateLimitMessage::Classic));
        assert!(body.contains("ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit"), "{body}");
        assert!(body.contains("Please retry after 7 seconds."), "{body}");
        let calls = Rejection::RateLimited {
            reason: ThrottleReason::Requests,
            retry_after: Duration::from_secs(3),
        };
        let body = rejection(&calls, "d", &context(RateLimitMessage::NamedModel));
        assert!(
            body.contains(
                "Your requests to gpt-4o for gpt-4o in East US have exceeded the call rate limit"
            ),
            "{body}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["error"]["code"], "429");
    }
}
