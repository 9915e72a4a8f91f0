//! Prompt token counting with a real BPE (tiktoken-rs, vocabularies embedded in the binary).
//! Each encoding is built once per process, on first use, and shared (building one is
//! expensive: ~20 MB resident and a noticeable pause each). The server builds the encodings its
//! fleet's models use at start; any other is built on the first request that needs it.

use crate::model::Encoding;
use tiktoken_rs::CoreBPE;

fn bpe(encoding: Encoding) -> &'static CoreBPE {
    match encoding {
        Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
        Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
    }
}

/// Build `encodings` now (call once at start, off the request path).
pub fn warm_up(encodings: &[Encoding]) {
    for &encoding in encodings {
        bpe(encoding);
    }
}

/// Tokens of `text`.
pub fn count(encoding: Encoding, text: &str) -> u32 {
    if text.is_empty() {
        return 0;
    }
    u32::try_from(bpe(encoding).encode_ordinary(text).len()).unwrap_or(u32::MAX)
}

/// Chat prompt tokens the way OpenAI counts them: 3 per message, the role, the content, a name
/// (+1), and 3 for the assistant reply priming.
pub fn count_chat<'a, C: AsRef<str>>(
    encoding: Encoding,
    messages: impl IntoIterator<Item = (&'a str, C, Option<&'a str>)>,
) -> u32 {
    let mut total = 3u32;
    for (role, content, name) in messages {
        total = total.saturating_add(3 + count(encoding, role) + count(encoding, content.as_ref()));
        if let Some(name) = name {
            total = total.saturating_add(1 + count(encoding, name));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_reference_tokenizers() {
        assert_eq!(count(Encoding::Cl100kBase, "hello world"), 2);
        assert_eq!(count(Encoding::O200kBase, "hello world"), 2);
        assert_eq!(count(Encoding::O200kBase, ""), 0);
        // OpenAI cookbook: a one-message chat "hello world" as user = 3 + 1 + 2 + 3.
        assert_eq!(
            count_chat(Encoding::O200kBase, [("user", "hello world", None)]),
            9
        );
    }
}
