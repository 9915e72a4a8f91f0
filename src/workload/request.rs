//! The request a workload emits, and the synthetic prompt text a live client sends for it.

use std::time::Duration;

/// Characters per token assumed for synthetic prompts (English BPE averages about 4).
pub const CHARS_PER_TOKEN: u32 = 4;

/// Index into [`super::Workload::deployments`], so a [`Request`] stays `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeploymentId(pub u16);

/// One logical client request, in the order the workload emits them (time order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// 0-based position in the workload's time-ordered sequence.
    pub id: u64,
    /// Intended send time, from run start.
    pub at: Duration,
    /// Source index: apps in file order, then the trace (0 when the trace is alone).
    pub app: u16,
    /// The deployment name the request targets.
    pub deployment: DeploymentId,
    /// Prompt length in tokens.
    pub prompt_tokens: u32,
    /// Prompt length in characters: `prompt_tokens × CHARS_PER_TOKEN` (what [`prompt_text`]
    /// produces; a character-based token estimate divides it back by 4).
    pub prompt_chars: u32,
    /// `max_tokens` the request sends, if any.
    pub max_tokens: Option<u32>,
    /// Completion length the mock should generate (`x-mock-completion-tokens`), already capped
    /// by `max_tokens`.
    pub output_tokens: u32,
    /// Whether the request asks for SSE streaming.
    pub stream: bool,
    /// The app's priority.
    pub priority: u8,
    /// Session key. Apps: `(app << 32) | session index`; trace rows: `(app << 32) | row
    /// number` (each row its own session, as the trace carries none).
    pub session: u64,
}

/// Characters of a synthetic prompt of `tokens` tokens.
pub fn prompt_chars(tokens: u32) -> u32 {
    tokens.saturating_mul(CHARS_PER_TOKEN)
}

/// Synthetic prompt text of about `tokens` BPE tokens and exactly `4 × tokens` characters:
/// `" the"` repeated. Approximate as a prompt size: it encodes to exactly `tokens` tokens in
/// OpenAI's cl100k and o200k vocabularies (checked in `tests/workload_sizes.rs`), but other
/// tokenizers may split it differently and the chat template adds a few tokens per message;
/// use it for load, not for exact billing.
pub fn prompt_text(tokens: u32) -> String {
    " the".repeat(tokens as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_stays_small_enough_to_copy_by_the_million() {
        // The simulator moves well over a million of these per second.
        assert!(
            std::mem::size_of::<Request>() <= 64,
            "{}",
            std::mem::size_of::<Request>()
        );
    }

    #[test]
    fn a_stream_item_is_no_larger_than_a_request() {
        // The simulator peeks and copies every item of the stream.
        type Item = Option<Result<Request, super::super::WorkloadError>>;
        assert_eq!(std::mem::size_of::<Item>(), std::mem::size_of::<Request>());
    }
}
