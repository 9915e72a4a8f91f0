//! Reading AOAI response bodies as they arrive: server-sent events split into `data:`
//! payloads across arbitrary frame boundaries, which payloads carry content (TTFT is the first
//! `data:` event with a non-empty delta), and the token `usage` of a stream's usage chunk or a
//! JSON body. Shared by the gateway (its selectors' completion feedback) and the load engine.

use serde::Deserialize;

/// Token usage reported by the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Completion tokens.
    #[serde(default)]
    pub completion_tokens: u32,
}

/// What one `data:` event said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseEvent {
    /// `data: [DONE]`.
    Done,
    /// A JSON chunk.
    Chunk {
        /// It carries generated text (a non-empty `delta.content` or `text`).
        content: bool,
        /// Its `usage`, when not null.
        usage: Option<Usage>,
    },
    /// A payload that is not JSON.
    Other,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// Classify one `data:` payload. Compact JSON (what AOAI and the mock send) is read without a
/// JSON parse unless it carries a usage object (streams have thousands of chunks per second
/// under load); anything else falls back to a full parse.
pub fn classify(payload: &[u8]) -> SseEvent {
    if payload == b"[DONE]" {
        return SseEvent::Done;
    }
    if !payload.starts_with(b"{") {
        return SseEvent::Other;
    }
    if !contains(payload, b"\": ") {
        let content =
            starts_text(payload, b"\"content\":\"") || starts_text(payload, b"\"text\":\"");
        let usage = if contains(payload, b"\"usage\":{") {
            serde_json::from_slice::<Chunk>(payload)
                .ok()
                .and_then(|chunk| chunk.usage)
        } else {
            None
        };
        return SseEvent::Chunk { content, usage };
    }
    match serde_json::from_slice::<Chunk>(payload) {
        Ok(chunk) => SseEvent::Chunk {
            content: chunk.choices.iter().any(|choice| {
                let delta = choice.delta.as_ref().and_then(|d| d.content.as_deref());
                delta
                    .or(choice.text.as_deref())
                    .is_some_and(|text| !text.is_empty())
            }),
            usage: chunk.usage,
        },
        Err(_) => SseEvent::Other,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Whether `key` (e.g. `"content":"`) occurs followed by at least one character of text.
fn starts_text(haystack: &[u8], key: &[u8]) -> bool {
    haystack
        .windows(key.len() + 1)
        .any(|window| window.starts_with(key) && window[key.len()] != b'"')
}

/// The `usage` of a whole (non-streamed) JSON body, if it has one.
pub fn body_usage(body: &[u8]) -> Option<Usage> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        usage: Option<Usage>,
    }
    serde_json::from_slice::<Body>(body).ok()?.usage
}

/// Splits a byte stream into `data:` payloads (multi-line `data:` fields of one event are
/// joined with `\n`, as the SSE specification says).
#[derive(Debug, Default)]
pub struct SseScanner {
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
}

impl SseScanner {
    /// Feed the next bytes; `on_event` gets each complete event's data payload.
    pub fn feed(&mut self, bytes: &[u8], mut on_event: impl FnMut(&[u8])) {
        for &byte in bytes {
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            if self.line.is_empty() {
                if self.has_data {
                    on_event(&self.data);
                }
                self.data.clear();
                self.has_data = false;
            } else if let Some(value) = self.line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            self.line.clear();
        }
    }
}

/// Follows a response body as it arrives: whether content has started, the usage seen, and
/// content events counted (a fallback for the completion length when no usage comes).
#[derive(Debug, Default)]
pub struct BodyWatch {
    stream: bool,
    scanner: SseScanner,
    /// Non-stream bodies are kept (up to a bound) to read their `usage` at the end.
    kept: Vec<u8>,
    content_events: u32,
    usage: Option<Usage>,
}

/// Most bytes of a non-streamed body kept to read its usage.
const KEEP_LIMIT: usize = 1 << 20;

impl BodyWatch {
    /// A watch over an SSE body (`stream`) or a JSON body.
    pub fn new(stream: bool) -> BodyWatch {
        BodyWatch {
            stream,
            ..BodyWatch::default()
        }
    }

    /// Feed a frame; returns true when it carried the first content of a stream.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        if !self.stream {
            if self.kept.len() + bytes.len() <= KEEP_LIMIT {
                self.kept.extend_from_slice(bytes);
            }
            return false;
        }
        let before = self.content_events;
        let (events, usage) = (&mut self.content_events, &mut self.usage);
        self.scanner.feed(bytes, |payload| {
            if let SseEvent::Chunk {
                content,
                usage: seen,
            } = classify(payload)
            {
                if content {
                    *events += 1;
                }
                if seen.is_some() {
                    *usage = seen;
                }
            }
        });
        before == 0 && self.content_events > 0
    }

    /// The body ended: the usage it reported, else what was counted (completion tokens =
    /// content events of a stream).
    pub fn finish(&mut self) -> (Option<Usage>, u32) {
        if !self.stream && self.usage.is_none() {
            self.usage = body_usage(&self.kept);
        }
        (self.usage, self.content_events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str =
        r#"data: {"choices":[{"delta":{"content":"","role":"assistant"},"index":0}]}"#;
    const WORD: &str = r#"data: {"choices":[{"delta":{"content":"The"},"index":0}]}"#;
    const USAGE: &str = r#"data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#;

    #[test]
    fn events_split_across_frames_are_joined_and_content_starts_at_the_first_word() {
        let text = format!("{ROLE}\n\n{WORD}\n\n{USAGE}\n\ndata: [DONE]\n\n");
        let bytes = text.as_bytes();
        let mut watch = BodyWatch::new(true);
        let mut first = Vec::new();
        for (index, piece) in bytes.chunks(7).enumerate() {
            if watch.feed(piece) {
                first.push(index);
            }
        }
        assert_eq!(first.len(), 1, "content starts exactly once");
        let word_end = ROLE.len() + 2 + WORD.len() + 2;
        assert_eq!(
            first[0],
            (word_end - 1) / 7,
            "at the frame that completes the word event"
        );
        let (usage, events) = watch.finish();
        assert_eq!(
            usage,
            Some(Usage {
                prompt_tokens: 9,
                completion_tokens: 2
            })
        );
        assert_eq!(events, 1);
    }

    #[test]
    fn a_role_only_chunk_is_not_content_and_crlf_lines_work() {
        assert_eq!(
            classify(br#"{"choices":[{"delta":{"content":""}}]}"#),
            SseEvent::Chunk {
                content: false,
                usage: None
            }
        );
        assert_eq!(classify(b"[DONE]"), SseEvent::Done);
        let mut scanner = SseScanner::default();
        let mut seen = Vec::new();
        scanner.feed(b"data: a\r\ndata: b\r\n\r\n: comment\n\n", |p| {
            seen.push(p.to_vec())
        });
        assert_eq!(seen, vec![b"a\nb".to_vec()]);
    }

    #[test]
    fn a_json_body_reports_its_usage_at_the_end() {
        let mut watch = BodyWatch::new(false);
        assert!(!watch.feed(br#"{"choices":[{"message":{"content":"hi"}}],"#));
        watch.feed(br#""usage":{"prompt_tokens":5,"completion_tokens":1}}"#);
        assert_eq!(
            watch.finish().0,
            Some(Usage {
                prompt_tokens: 5,
                completion_tokens: 1
            })
        );
    }
}
