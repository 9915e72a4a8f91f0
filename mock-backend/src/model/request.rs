//! What the model needs to know about a request: numbers only, no text, so the simulator can
//! build one without a tokenizer and the shell builds one after tokenizing.

/// The AOAI operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// `chat/completions`.
    ChatCompletions,
    /// Legacy `completions`.
    Completions,
    /// `embeddings`.
    Embeddings,
}

impl Operation {
    /// The operation name in 429 messages (`ChatCompletions_Create`, …).
    pub fn create_name(self) -> &'static str {
        match self {
            Operation::ChatCompletions => "ChatCompletions_Create",
            Operation::Completions => "Completions_Create",
            Operation::Embeddings => "Embeddings_Create",
        }
    }

    /// The operation name in `OperationNotSupported` messages.
    pub fn camel_name(self) -> &'static str {
        match self {
            Operation::ChatCompletions => "chatCompletion",
            Operation::Completions => "completion",
            Operation::Embeddings => "embeddings",
        }
    }
}

/// Content-filter test markers found in the prompt (checklist item 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentFilterTrigger {
    /// No marker.
    #[default]
    None,
    /// The prompt is refused with a 400 `content_filter`.
    Prompt,
    /// The completion is cut with `finish_reason: "content_filter"` (HTTP 200).
    Completion,
}

/// One request as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestShape<'a> {
    /// Chat, completions or embeddings.
    pub operation: Operation,
    /// Prompt tokens as the tokenizer counts them (billing, context check, PTU estimate).
    pub prompt_tokens: u32,
    /// Prompt tokens served from cache (discounted from the PTU estimate).
    pub cached_tokens: u32,
    /// Characters the standard estimate counts (`ceil(prompt_chars/4)`). For embeddings with
    /// several inputs pass [`RequestShape::embedding_chars`] so the estimate is `Σ ceil(len_i/4)`.
    pub prompt_chars: u32,
    /// `max_tokens` / `max_completion_tokens`.
    pub max_tokens: Option<u32>,
    /// `max(n, best_of, 1)`.
    pub choices: u32,
    /// `stream: true`.
    pub stream: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// `x-mock-completion-tokens`: completion length per choice (still capped).
    pub forced_completion_tokens: Option<u32>,
    /// `x-ms-spillover-deployment` request header.
    pub spillover_header: Option<&'a str>,
    /// `x-stainless-retry-count` (0 = a new request).
    pub client_retry_count: u32,
    /// Content-filter test marker.
    pub content_filter: ContentFilterTrigger,
}

impl Default for RequestShape<'_> {
    fn default() -> Self {
        RequestShape {
            operation: Operation::ChatCompletions,
            prompt_tokens: 0,
            cached_tokens: 0,
            prompt_chars: 0,
            max_tokens: None,
            choices: 1,
            stream: false,
            include_usage: false,
            forced_completion_tokens: None,
            spillover_header: None,
            client_retry_count: 0,
            content_filter: ContentFilterTrigger::None,
        }
    }
}

impl RequestShape<'_> {
    /// A chat request known only by numbers (the simulator's case): `prompt_chars` is taken as
    /// 4 × `prompt_tokens`, so the standard estimate counts about one token per prompt token.
    pub fn chat(prompt_tokens: u32, max_tokens: Option<u32>) -> Self {
        RequestShape {
            prompt_tokens,
            prompt_chars: prompt_tokens.saturating_mul(4),
            max_tokens,
            ..RequestShape::default()
        }
    }

    /// `prompt_chars` for embeddings inputs of these character lengths: each rounded up to a
    /// multiple of 4, so the estimate sums the per-input ceilings (reference §5.3).
    pub fn embedding_chars(lengths: impl IntoIterator<Item = usize>) -> u32 {
        let total: usize = lengths.into_iter().map(|len| len.div_ceil(4) * 4).sum();
        u32::try_from(total).unwrap_or(u32::MAX)
    }
}
