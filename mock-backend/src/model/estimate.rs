//! Admission estimates: what a request is charged before it runs (reference §5.3, §6.3).
//! Billing (`usage`) is separate and comes from the tokenizer.

use super::family::ModelProfile;
use super::request::{Operation, RequestShape};

/// Standard (PAYG) estimate:
/// `ceil(prompt_chars/4)` (if the model counts the prompt) `+ (max_tokens ?? default) × choices`;
/// embeddings: `ceil(prompt_chars/4)`.
pub fn standard_estimate(
    profile: &ModelProfile,
    n_multiplies: bool,
    req: &RequestShape<'_>,
) -> u64 {
    let prompt = u64::from(req.prompt_chars).div_ceil(4);
    if req.operation == Operation::Embeddings {
        return prompt;
    }
    let prompt_part = if profile.count_prompt { prompt } else { 0 };
    prompt_part + completion_allowance(profile, n_multiplies, req)
}

/// PTU estimate: `(prompt − cached) + output_weight × (max_tokens ?? default) × choices`.
pub fn ptu_estimate(profile: &ModelProfile, n_multiplies: bool, req: &RequestShape<'_>) -> f64 {
    let input = f64::from(req.prompt_tokens.saturating_sub(req.cached_tokens));
    if req.operation == Operation::Embeddings {
        return input;
    }
    input + profile.output_weight * completion_allowance(profile, n_multiplies, req) as f64
}

/// PTU charge of what actually ran: `(prompt − cached) + output_weight × completion`.
pub fn ptu_actual(
    profile: &ModelProfile,
    prompt_tokens: u32,
    cached_tokens: u32,
    completion_tokens: u32,
) -> f64 {
    f64::from(prompt_tokens.saturating_sub(cached_tokens))
        + profile.output_weight * f64::from(completion_tokens)
}

fn completion_allowance(profile: &ModelProfile, n_multiplies: bool, req: &RequestShape<'_>) -> u64 {
    let per_choice = u64::from(
        req.max_tokens
            .unwrap_or(profile.default_completion_estimate),
    );
    let multiplier = if n_multiplies {
        u64::from(req.choices.max(1))
    } else {
        1
    };
    per_choice * multiplier
}

#[cfg(test)]
mod tests {
    //! Golden vectors: the drop in `x-ratelimit-remaining-tokens` observed by stuartleeks/aoai-testing
    //! (reference §5.3). Prompts of 14 tokens are ~32 characters of message content.
    use super::*;
    use crate::config::ModelOverrides;

    fn profile(model: &str) -> ModelProfile {
        ModelProfile::resolve(model, &ModelOverrides::default())
    }

    fn chat(chars: u32, max_tokens: Option<u32>) -> RequestShape<'static> {
        RequestShape {
            prompt_chars: chars,
            max_tokens,
            ..RequestShape::default()
        }
    }

    #[test]
    fn gpt35_ignores_the_prompt_and_defaults_to_16() {
        let gpt35 = profile("gpt-35-turbo");
        for chars in [60, 144, 84, 580, 3656] {
            assert_eq!(standard_estimate(&gpt35, true, &chat(chars, None)), 16);
        }
        assert_eq!(standard_estimate(&gpt35, true, &chat(60, Some(1000))), 1000);
        let completions = |max| RequestShape {
            operation: Operation::Completions,
            prompt_chars: 28,
            max_tokens: max,
            ..RequestShape::default()
        };
        assert_eq!(standard_estimate(&gpt35, true, &completions(None)), 16);
        assert_eq!(
            standard_estimate(&gpt35, true, &completions(Some(1000))),
            1000
        );
        assert_eq!(
            standard_estimate(&gpt35, true, &completions(Some(2000))),
            2000
        );
    }

    #[test]
    fn gpt4_and_gpt4o_count_the_prompt_and_default_to_640() {
        for model in ["gpt-4", "gpt-4o"] {
            let p = profile(model);
            assert_eq!(standard_estimate(&p, true, &chat(32, None)), 648, "{model}");
            assert_eq!(
                standard_estimate(&p, true, &chat(32, Some(2000))),
                2008,
                "{model}"
            );
        }
        assert_eq!(
            standard_estimate(&profile("gpt-4"), true, &chat(32, Some(1000))),
            1008
        );
    }

    #[test]
    fn embeddings_sum_per_input_ceilings() {
        let ada = profile("text-embedding-ada-002");
        let one = RequestShape {
            operation: Operation::Embeddings,
            prompt_chars: 44,
            ..RequestShape::default()
        };
        assert_eq!(standard_estimate(&ada, true, &one), 11);
        let several = RequestShape {
            operation: Operation::Embeddings,
            prompt_chars: RequestShape::embedding_chars([1, 1, 5]),
            ..RequestShape::default()
        };
        assert_eq!(standard_estimate(&ada, true, &several), 1 + 1 + 2);
    }

    #[test]
    fn a_numbers_only_chat_request_counts_its_prompt_tokens() {
        let req = RequestShape::chat(100, Some(50));
        assert_eq!(standard_estimate(&profile("gpt-4o"), true, &req), 150);
        assert_eq!(
            ptu_estimate(&profile("gpt-4o"), true, &req),
            100.0 + 4.0 * 50.0
        );
    }

    #[test]
    fn choices_multiply_the_completion_part_unless_switched_off() {
        let p = profile("gpt-4o");
        let req = RequestShape {
            prompt_chars: 32,
            max_tokens: Some(100),
            choices: 3,
            ..RequestShape::default()
        };
        assert_eq!(standard_estimate(&p, true, &req), 8 + 300);
        assert_eq!(standard_estimate(&p, false, &req), 8 + 100);
    }

    #[test]
    fn ptu_estimate_weights_output_and_discounts_cache() {
        let p = profile("gpt-4.1");
        let req = RequestShape {
            prompt_tokens: 1000,
            cached_tokens: 200,
            max_tokens: Some(100),
            ..RequestShape::default()
        };
        assert_eq!(ptu_estimate(&p, true, &req), 800.0 + 4.0 * 100.0);
        assert_eq!(ptu_actual(&p, 1000, 200, 50), 800.0 + 200.0);
    }
}
