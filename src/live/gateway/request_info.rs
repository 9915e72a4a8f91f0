//! What the gateway knows about a request before it picks a backend, read from the body and
//! headers the way the simulator derives it from the workload: estimated tokens = prompt
//! characters / 4 + `max_tokens` (else the `x-mock-completion-tokens` the load engine sends),
//! the session key, and whether the client asked for a stream.

use hyper::HeaderMap;
use serde::Deserialize;

use crate::balance::{RequestInfo, session_hash};
use crate::live::trail::SESSION;
use crate::workload::CHARS_PER_TOKEN;

#[derive(Deserialize, Default)]
struct Body {
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    prompt: Option<serde_json::Value>,
    #[serde(default)]
    input: Option<serde_json::Value>,
    #[serde(default)]
    max_tokens: Option<u64>,
    #[serde(default)]
    max_completion_tokens: Option<u64>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    user: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<serde_json::Value>,
}

/// Characters of text in a JSON value (strings, arrays of strings or content parts).
fn text_chars(value: &serde_json::Value) -> u64 {
    match value {
        serde_json::Value::String(text) => text.chars().count() as u64,
        serde_json::Value::Array(items) => items.iter().map(text_chars).sum(),
        serde_json::Value::Object(part) => part.get("text").map_or(0, text_chars),
        _ => 0,
    }
}

/// The request info of a body and its headers (an unreadable body estimates zero tokens).
pub fn request_info(headers: &HeaderMap, body: &[u8]) -> RequestInfo {
    let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
    let chars: u64 = parsed
        .messages
        .iter()
        .filter_map(|message| message.content.as_ref())
        .chain(parsed.prompt.as_ref())
        .chain(parsed.input.as_ref())
        .map(text_chars)
        .sum();
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let output = parsed
        .max_tokens
        .or(parsed.max_completion_tokens)
        .or_else(|| header("x-mock-completion-tokens")?.trim().parse().ok())
        .unwrap_or(0);
    let session = header(SESSION)
        .map(|key| key.trim().parse().unwrap_or_else(|_| session_hash(key)))
        .or_else(|| parsed.user.as_deref().map(session_hash));
    RequestInfo {
        est_tokens: chars.div_ceil(u64::from(CHARS_PER_TOKEN)) + output,
        session,
        stream: parsed.stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_prompt_characters_and_max_tokens_and_the_session_header() {
        let mut headers = HeaderMap::new();
        headers.insert(SESSION, "77".parse().unwrap());
        let body = br#"{"messages":[{"role":"user","content":" the the the"}],"max_tokens":40,"stream":true}"#;
        let info = request_info(&headers, body);
        assert_eq!(
            info,
            RequestInfo {
                est_tokens: 3 + 40,
                session: Some(77),
                stream: true
            }
        );
        headers.insert("x-mock-completion-tokens", "9".parse().unwrap());
        headers.insert(SESSION, "thread-a".parse().unwrap());
        let info = request_info(
            &headers,
            br#"{"messages":[{"content":[{"type":"text","text":"abcd"}]}]}"#,
        );
        assert_eq!(info.est_tokens, 1 + 9);
        assert_eq!(info.session, Some(session_hash("thread-a")));
        assert_eq!(request_info(&HeaderMap::new(), b"not json").est_tokens, 0);
    }
}
