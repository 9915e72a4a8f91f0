//! Response bodies in AOAI's shapes (reference §7, §8): non-stream chat, legacy completions and
//! embeddings, and the SSE events of a stream. Written directly as JSON text (keys in AOAI's
//! alphabetical order); every dynamic string from config goes through [`quoted`].

use super::errors::{push_quoted, quoted};
use super::ids;
use crate::model::{FinishReason, Operation, ResponsePlan};
use bytes::Bytes;
use std::fmt::Write;

const PROMPT_FILTER: &str = r#"[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]"#;
const CONTENT_FILTER: &str = r#"{"hate":{"filtered":false,"severity":"safe"},"protected_material_code":{"filtered":false,"detected":false},"protected_material_text":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}"#;
const FILTERED: &str = r#"{"hate":{"filtered":false,"severity":"safe"},"protected_material_code":{"filtered":false,"detected":false},"protected_material_text":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":true,"severity":"high"},"violence":{"filtered":false,"severity":"safe"}}"#;
const CHUNK_FILTER: &str = r#"{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}"#;

/// Identity of one completion: shared by every event of a stream.
pub struct Completion<'a> {
    /// `chatcmpl-…` / `cmpl-…`.
    pub id: &'a str,
    /// Unix seconds.
    pub created: u64,
    /// Model version.
    pub model: &'a str,
    /// `fp_…`.
    pub fingerprint: &'a str,
    /// Start in the word list for the generated text.
    pub words_start: usize,
    /// Chat or legacy completions.
    pub operation: Operation,
}

/// The `usage` object.
pub fn usage(prompt_tokens: u32, completion_tokens: u32) -> String {
    let mut out = String::with_capacity(320);
    push_usage(&mut out, prompt_tokens, completion_tokens);
    out
}

/// Append the `usage` object to `out`.
fn push_usage(out: &mut String, prompt_tokens: u32, completion_tokens: u32) {
    let _ = write!(
        out,
        r#"{{"completion_tokens":{completion_tokens},"completion_tokens_details":{{"accepted_prediction_tokens":0,"audio_tokens":0,"reasoning_tokens":0,"rejected_prediction_tokens":0}},"prompt_tokens":{prompt_tokens},"prompt_tokens_details":{{"audio_tokens":0,"cached_tokens":0}},"total_tokens":{}}}"#,
        u64::from(prompt_tokens) + u64::from(completion_tokens)
    );
}

/// Non-stream body of a chat or completions request, written into one buffer.
pub fn completion_body(c: &Completion<'_>, plan: &ResponsePlan) -> String {
    let per_choice = plan.schedule.tokens;
    let text = ids::words(c.words_start, 0, per_choice);
    let finish = plan.finish_reason.as_str();
    let filter = if plan.finish_reason == FinishReason::ContentFilter {
        FILTERED
    } else {
        CONTENT_FILTER
    };
    let mut out = String::with_capacity(1536 + (text.len() + 400) * plan.choices as usize);
    out.push_str(r#"{"choices":["#);
    for index in 0..plan.choices {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"content_filter_results":{filter},"finish_reason":"{finish}","index":{index},"logprobs":null,"#
        );
        match c.operation {
            Operation::Completions => {
                out.push_str(r#""text":"#);
                push_quoted(&mut out, &text);
                out.push('}');
            }
            _ => {
                out.push_str(r#""message":{"annotations":[],"content":"#);
                push_quoted(&mut out, &text);
                out.push_str(r#","refusal":null,"role":"assistant"}}"#);
            }
        }
    }
    let object = match c.operation {
        Operation::Completions => "text_completion",
        _ => "chat.completion",
    };
    let _ = write!(out, r#"],"created":{},"id":"{}","model":"#, c.created, c.id);
    push_quoted(&mut out, c.model);
    let _ = write!(
        out,
        r#","object":"{object}","prompt_filter_results":{PROMPT_FILTER},"service_tier":"default","system_fingerprint":"{}","usage":"#,
        c.fingerprint
    );
    push_usage(&mut out, plan.prompt_tokens, plan.completion_tokens);
    out.push('}');
    out
}

/// How embedding vectors are written (`encoding_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingEncoding {
    /// A JSON array of numbers (`"float"`, the API default).
    Float,
    /// Base64 of little-endian f32 values (`"base64"`, openai-python's default).
    Base64,
}

/// Embeddings body: one pseudo-random unit-scale vector per input, `dimensions` long.
pub fn embeddings_body(
    model: &str,
    inputs: usize,
    dimensions: u32,
    prompt_tokens: u32,
    seed: u64,
    encoding: EmbeddingEncoding,
) -> String {
    use base64::Engine;
    let mut out = String::with_capacity(inputs * dimensions as usize * 12 + 256);
    out.push_str(r#"{"data":["#);
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 / (1u64 << 53) as f64 * 0.2 - 0.1) as f32
    };
    for index in 0..inputs {
        if index > 0 {
            out.push(',');
        }
        out.push_str(r#"{"embedding":"#);
        match encoding {
            EmbeddingEncoding::Float => {
                out.push('[');
                for d in 0..dimensions {
                    if d > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{:.6}", next());
                }
                out.push(']');
            }
            EmbeddingEncoding::Base64 => {
                let bytes: Vec<u8> = (0..dimensions).flat_map(|_| next().to_le_bytes()).collect();
                out.push('"');
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
                out.push('"');
            }
        }
        let _ = write!(out, r#","index":{index},"object":"embedding"}}"#);
    }
    let _ = write!(
        out,
        r#"],"model":{},"object":"list","usage":{{"prompt_tokens":{prompt_tokens},"total_tokens":{prompt_tokens}}}}}"#,
        quoted(model)
    );
    out
}

/// Default embedding size of a model.
pub fn default_dimensions(model: &str) -> u32 {
    if model.contains("3-large") {
        3072
    } else {
        1536
    }
}

/// The end of a chunk's JSON (see [`StreamEvents::tail`]).
struct Tail<'a>(&'a StreamEvents);

impl std::fmt::Display for Tail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.identity)?;
        if self.0.async_filter {
            f.write_str(r#","usage":null"#)?;
        }
        Ok(())
    }
}

/// One SSE frame.
fn frame(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 8);
    out.push_str("data: ");
    out.push_str(json);
    out.push_str("\n\n");
    out
}

/// The SSE events of one stream. Owns what it needs (the identity rendered once), so a stream
/// body can keep it for the stream's life without the completion's strings.
pub struct StreamEvents {
    /// Start in the word list for the generated text.
    words_start: usize,
    /// Chat or legacy completions.
    operation: Operation,
    /// `"created":…,"id":…,"model":…,"object":…,"system_fingerprint":…`.
    identity: String,
    /// Asynchronous content-filter mode (every chunk also ends with `,"usage":null`).
    async_filter: bool,
}

impl StreamEvents {
    /// Events for `completion`; `async_filter` selects the asynchronous content-filter shape.
    pub fn new(completion: Completion<'_>, async_filter: bool) -> StreamEvents {
        let object = match completion.operation {
            Operation::Completions => "text_completion",
            _ => "chat.completion.chunk",
        };
        let identity = format!(
            r#""created":{},"id":"{}","model":{},"object":"{object}","system_fingerprint":"{}""#,
            completion.created,
            completion.id,
            quoted(completion.model),
            completion.fingerprint
        );
        StreamEvents {
            words_start: completion.words_start,
            operation: completion.operation,
            identity,
            async_filter,
        }
    }

    /// What ends every chunk: the identity, plus `,"usage":null` in async-filter mode.
    fn tail(&self) -> Tail<'_> {
        Tail(self)
    }

    /// First event: empty choices with the prompt filter results.
    pub fn prelude(&self) -> Bytes {
        if self.async_filter {
            return Bytes::from(frame(&format!(
                r#"{{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":{PROMPT_FILTER},"usage":null}}"#
            )));
        }
        Bytes::from(frame(&format!(
            r#"{{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":{PROMPT_FILTER}}}"#
        )))
    }

    /// Role events (one per choice) — chat only, sent with the first content.
    pub fn roles(&self, choices: u32, out: &mut String) {
        if self.operation != Operation::ChatCompletions {
            return;
        }
        for index in 0..choices {
            out.push_str(&frame(&format!(
                r#"{{"choices":[{{"content_filter_results":{{}},"delta":{{"content":"","refusal":null,"role":"assistant"}},"finish_reason":null,"index":{index},"logprobs":null}}],{}}}"#,
                self.tail()
            )));
        }
    }

    /// Content events of tokens `from..to` (one per choice); returns the characters of one
    /// choice's text. Buffered mode attaches filter results to each event, async mode does not.
    pub fn content(&self, choices: u32, from: u32, to: u32, out: &mut String) -> usize {
        let raw = ids::words(self.words_start, from, to);
        let text = quoted(&raw);
        let filter = if self.async_filter {
            String::new()
        } else {
            format!(r#""content_filter_results":{CHUNK_FILTER},"#)
        };
        for index in 0..choices {
            let json = match self.operation {
                Operation::Completions => format!(
                    r#"{{"choices":[{{{filter}"finish_reason":null,"index":{index},"logprobs":null,"text":{text}}}],{}}}"#,
                    self.tail()
                ),
                _ => format!(
                    r#"{{"choices":[{{{filter}"delta":{{"content":{text}}},"finish_reason":null,"index":{index},"logprobs":null}}],{}}}"#,
                    self.tail()
                ),
            };
            out.push_str(&frame(&json));
        }
        raw.chars().count()
    }

    /// Async mode: the annotation event covering characters `start..end` of the content.
    pub fn annotation(&self, start: usize, end: usize, out: &mut String) {
        out.push_str(&frame(&format!(
            r#"{{"choices":[{{"content_filter_offsets":{{"check_offset":{start},"end_offset":{end},"start_offset":{start}}},"content_filter_results":{CHUNK_FILTER},"finish_reason":null,"index":0}}],"created":0,"id":"","model":"","object":"","usage":null}}"#
        )));
    }

    /// Whether this stream uses the asynchronous filter shape.
    pub fn is_async(&self) -> bool {
        self.async_filter
    }

    /// Finish events (one per choice).
    pub fn finish(&self, choices: u32, reason: FinishReason, out: &mut String) {
        let reason = reason.as_str();
        for index in 0..choices {
            let json = match self.operation {
                Operation::Completions => format!(
                    r#"{{"choices":[{{"content_filter_results":{{}},"finish_reason":"{reason}","index":{index},"logprobs":null,"text":""}}],{}}}"#,
                    self.tail()
                ),
                _ => format!(
                    r#"{{"choices":[{{"content_filter_results":{{}},"delta":{{}},"finish_reason":"{reason}","index":{index},"logprobs":null}}],{}}}"#,
                    self.tail()
                ),
            };
            out.push_str(&frame(&json));
        }
    }

    /// The usage event (`stream_options.include_usage`).
    pub fn usage(&self, prompt_tokens: u32, completion_tokens: u32, out: &mut String) {
        out.push_str(&frame(&format!(
            r#"{{"choices":[],{},"usage":{}}}"#,
            self.identity,
            usage(prompt_tokens, completion_tokens)
        )));
    }

    /// `data: [DONE]`.
    pub fn done(out: &mut String) {
        out.push_str("data: [DONE]\n\n");
    }
}
