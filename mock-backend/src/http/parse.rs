//! Request bodies: JSON → the fields the mock uses, then token and character counts for the
//! model. Unknown fields are ignored (clients send many); wrong types are a 400.

use super::payload::EmbeddingEncoding;
use super::tokens;
use crate::model::{ContentFilterTrigger, Encoding, Operation, RequestShape};

/// Prompt text that makes the mock refuse the prompt with a content-filter 400.
pub const FILTER_PROMPT_MARKER: &str = "[mock:filter-prompt]";
/// Prompt text that makes the mock cut the completion with `finish_reason: "content_filter"`.
pub const FILTER_COMPLETION_MARKER: &str = "[mock:filter-completion]";
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Message>>,
    #[serde(default)]
    prompt: Option<Texts>,
    #[serde(default)]
    input: Option<Texts>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    max_completion_tokens: Option<u32>,
    #[serde(default)]
    n: Option<u32>,
    #[serde(default)]
    best_of: Option<u32>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    #[serde(default)]
    dimensions: Option<u32>,
    #[serde(default)]
    encoding_format: Option<String>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Texts {
    One(String),
    Many(Vec<String>),
    TokenIds(Vec<u32>),
    TokenLists(Vec<Vec<u32>>),
}

/// Why a body was refused (all 400s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON at all.
    Malformed,
    /// A required property is absent.
    Missing(&'static str),
    /// A required list is empty (`messages: []`, `input: []`).
    TooShort(&'static str),
    /// A property has the wrong type or value.
    Invalid(String),
}

/// A prompt's size as the model counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    /// Tokens by the deployment's BPE.
    pub prompt_tokens: u32,
    /// Characters of text.
    pub prompt_chars: u32,
}

/// A parsed request body.
pub struct ParsedRequest {
    /// Body `model` (the deployment on /openai/v1).
    pub model: Option<String>,
    operation: Operation,
    messages: Vec<Message>,
    texts: Vec<String>,
    token_inputs: Vec<usize>,
    /// `max_completion_tokens` or `max_tokens`.
    pub max_tokens: Option<u32>,
    /// `max(n, best_of, 1)`.
    pub choices: u32,
    /// `stream: true`.
    pub stream: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// Embeddings `dimensions`.
    pub dimensions: Option<u32>,
    /// Embeddings `encoding_format`.
    pub embedding_encoding: EmbeddingEncoding,
}

/// Parse the body of `operation`.
pub fn parse(operation: Operation, bytes: &[u8]) -> Result<ParsedRequest, BodyError> {
    let body: Body = serde_json::from_slice(bytes).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => BodyError::Invalid(error.to_string()),
        _ => BodyError::Malformed,
    })?;
    let (messages, inputs) = match operation {
        Operation::ChatCompletions => match body.messages {
            None => return Err(BodyError::Missing("messages")),
            Some(messages) if messages.is_empty() => return Err(BodyError::TooShort("messages")),
            Some(messages) => (messages, None),
        },
        Operation::Completions => (
            Vec::new(),
            Some(body.prompt.ok_or(BodyError::Missing("prompt"))?),
        ),
        Operation::Embeddings => match body.input {
            None => return Err(BodyError::Missing("input")),
            Some(Texts::Many(texts)) if texts.is_empty() => {
                return Err(BodyError::TooShort("input"));
            }
            Some(input) => (Vec::new(), Some(input)),
        },
    };
    let (texts, token_inputs) = match inputs {
        None => (Vec::new(), Vec::new()),
        Some(Texts::One(text)) => (vec![text], Vec::new()),
        Some(Texts::Many(texts)) => (texts, Vec::new()),
        Some(Texts::TokenIds(ids)) => (Vec::new(), vec![ids.len()]),
        Some(Texts::TokenLists(lists)) => (Vec::new(), lists.iter().map(Vec::len).collect()),
    };
    if body.max_tokens == Some(0) || body.max_completion_tokens == Some(0) {
        return Err(BodyError::Invalid(
            "max_tokens must be at least 1".to_string(),
        ));
    }
    let embedding_encoding = match body.encoding_format.as_deref() {
        None | Some("float") => EmbeddingEncoding::Float,
        Some("base64") => EmbeddingEncoding::Base64,
        Some(other) => {
            return Err(BodyError::Invalid(format!(
                "encoding_format must be 'float' or 'base64', not {other:?}"
            )));
        }
    };
    let choices = body.n.unwrap_or(1).max(body.best_of.unwrap_or(1)).max(1);
    if choices > 128 {
        return Err(BodyError::Invalid(format!(
            "n = {choices} is above the maximum of 128"
        )));
    }
    Ok(ParsedRequest {
        model: body.model,
        operation,
        messages,
        texts,
        token_inputs,
        max_tokens: body.max_completion_tokens.or(body.max_tokens),
        choices,
        stream: body.stream.unwrap_or(false) && operation != Operation::Embeddings,
        include_usage: body
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
        dimensions: body.dimensions,
        embedding_encoding,
    })
}

impl ParsedRequest {
    /// Each message's content as one text (parts joined; borrowed when it is a plain string).
    fn message_texts(&self) -> impl Iterator<Item = Cow<'_, str>> {
        self.messages.iter().map(|m| match &m.content {
            Some(Content::Text(text)) => Cow::Borrowed(text.as_str()),
            Some(Content::Parts(parts)) => {
                Cow::Owned(parts.iter().filter_map(|p| p.text.as_deref()).collect())
            }
            None => Cow::Borrowed(""),
        })
    }

    /// The content-filter marker in the prompt, if any (the prompt marker wins).
    fn content_filter(&self) -> ContentFilterTrigger {
        let mut trigger = ContentFilterTrigger::None;
        let mut visit = |text: &str| {
            if text.contains(FILTER_PROMPT_MARKER) {
                trigger = ContentFilterTrigger::Prompt;
            } else if text.contains(FILTER_COMPLETION_MARKER)
                && trigger == ContentFilterTrigger::None
            {
                trigger = ContentFilterTrigger::Completion;
            }
        };
        self.message_texts().for_each(|t| visit(&t));
        self.texts.iter().for_each(|t| visit(t));
        trigger
    }

    /// Number of embedding inputs (1 for chat and completions).
    pub fn inputs(&self) -> usize {
        (self.texts.len() + self.token_inputs.len()).max(1)
    }

    /// Bytes of prompt text (what tokenizing costs grows with).
    pub fn text_bytes(&self) -> usize {
        let messages: usize = self.message_texts().map(|text| text.len()).sum();
        messages + self.texts.iter().map(String::len).sum::<usize>()
    }

    /// Prompt tokens (by `encoding`'s BPE) and characters: the costly part of [`Self::shape`].
    pub fn measure(&self, encoding: Encoding) -> Measured {
        let (prompt_tokens, prompt_chars) = match self.operation {
            Operation::ChatCompletions => {
                let mut chars = 0usize;
                let tokens = tokens::count_chat(
                    encoding,
                    self.messages
                        .iter()
                        .zip(self.message_texts())
                        .map(|(m, text)| {
                            chars += text.chars().count();
                            (m.role.as_deref().unwrap_or("user"), text, m.name.as_deref())
                        }),
                );
                (tokens, u32::try_from(chars).unwrap_or(u32::MAX))
            }
            Operation::Completions => {
                let tokens: u32 = self
                    .texts
                    .iter()
                    .map(|t| tokens::count(encoding, t))
                    .sum::<u32>()
                    + self.token_inputs.iter().map(|n| *n as u32).sum::<u32>();
                let chars: usize = self.texts.iter().map(|t| t.chars().count()).sum::<usize>()
                    + self.token_inputs.iter().map(|n| n * 4).sum::<usize>();
                (tokens, u32::try_from(chars).unwrap_or(u32::MAX))
            }
            Operation::Embeddings => {
                let tokens: u32 = self
                    .texts
                    .iter()
                    .map(|t| tokens::count(encoding, t))
                    .sum::<u32>()
                    + self.token_inputs.iter().map(|n| *n as u32).sum::<u32>();
                let lengths = self
                    .texts
                    .iter()
                    .map(|t| t.chars().count())
                    .chain(self.token_inputs.iter().map(|n| n * 4));
                (tokens, RequestShape::embedding_chars(lengths))
            }
        };
        Measured {
            prompt_tokens,
            prompt_chars,
        }
    }

    /// The model's view of this request, with its prompt `measured`.
    pub fn shape<'a>(
        &self,
        measured: Measured,
        spillover_header: Option<&'a str>,
    ) -> RequestShape<'a> {
        let Measured {
            prompt_tokens,
            prompt_chars,
        } = measured;
        RequestShape {
            operation: self.operation,
            prompt_tokens,
            cached_tokens: 0,
            prompt_chars,
            max_tokens: self.max_tokens,
            choices: self.choices,
            stream: self.stream,
            include_usage: self.include_usage,
            forced_completion_tokens: None,
            spillover_header,
            client_retry_count: 0,
            content_filter: self.content_filter(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_bodies_parse_and_measure() {
        let body = br#"{"messages":[{"role":"user","content":"hello world"}],"max_tokens":50,"n":2,"stream":true,"stream_options":{"include_usage":true},"temperature":0.2}"#;
        let parsed = parse(Operation::ChatCompletions, body).unwrap();
        assert_eq!(
            (
                parsed.max_tokens,
                parsed.choices,
                parsed.stream,
                parsed.include_usage
            ),
            (Some(50), 2, true, true)
        );
        let shape = parsed.shape(parsed.measure(Encoding::O200kBase), None);
        assert_eq!((shape.prompt_tokens, shape.prompt_chars), (9, 11));
    }

    #[test]
    fn content_parts_are_joined() {
        let body = br#"{"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"x"}}]}]}"#;
        let parsed = parse(Operation::ChatCompletions, body).unwrap();
        assert_eq!(parsed.measure(Encoding::O200kBase).prompt_chars, 4);
        assert_eq!(parsed.text_bytes(), 4);
    }

    #[test]
    fn refusals_are_classified() {
        assert_eq!(
            parse(Operation::ChatCompletions, b"{not json").err(),
            Some(BodyError::Malformed)
        );
        assert_eq!(
            parse(Operation::ChatCompletions, b"{}").err(),
            Some(BodyError::Missing("messages"))
        );
        assert_eq!(
            parse(Operation::Embeddings, b"{}").err(),
            Some(BodyError::Missing("input"))
        );
        assert!(matches!(
            parse(
                Operation::ChatCompletions,
                br#"{"messages":[],"max_tokens":"x"}"#
            ),
            Err(BodyError::Invalid(_))
        ));
        assert_eq!(
            parse(Operation::ChatCompletions, br#"{"messages":[]}"#).err(),
            Some(BodyError::TooShort("messages"))
        );
        assert_eq!(
            parse(Operation::Embeddings, br#"{"input":[]}"#).err(),
            Some(BodyError::TooShort("input"))
        );
    }

    #[test]
    fn embeddings_estimate_chars_are_rounded_per_input() {
        let parsed = parse(Operation::Embeddings, br#"{"input":["a","bbbbb"]}"#).unwrap();
        assert_eq!(parsed.inputs(), 2);
        assert_eq!(parsed.measure(Encoding::Cl100kBase).prompt_chars, 4 + 8);
    }
}
