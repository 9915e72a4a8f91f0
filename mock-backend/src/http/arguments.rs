//! Strict argument checking (switch `strict_arguments`, off by default): the request arguments
//! AOAI accepts per operation and API version, and its 400 for the others ("Unrecognized request
//! argument supplied: …", seen from AOAI for `functions` before 2023-07-01-preview,
//! `max_completion_tokens` before 2024-09-01-preview, `reasoning_effort`, and misspelled names).
//! Pure: names and a version in, an error body out.
//!
//! Each argument carries the first API version that accepts it, from the AOAI inference REST
//! reference (data-plane `inference.json` of each version). Versions compare as their
//! `YYYY-MM-DD[-preview]` strings, and `v1` (the version-less surface) accepts every argument
//! here. An approximation, said in the README: a preview's argument counts as accepted by every
//! later version, GA included, although a GA version sometimes lacks a preview's feature.

use super::errors;
use crate::model::Operation;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;

/// Accepted by every API version.
const ALWAYS: &str = "";

/// `(argument, first API version accepting it)` for chat completions.
const CHAT: &[(&str, &str)] = &[
    ("messages", ALWAYS),
    ("model", ALWAYS),
    ("temperature", ALWAYS),
    ("top_p", ALWAYS),
    ("n", ALWAYS),
    ("stream", ALWAYS),
    // Its own version rule is the `include_usage_strict` switch.
    ("stream_options", ALWAYS),
    ("stop", ALWAYS),
    ("max_tokens", ALWAYS),
    ("presence_penalty", ALWAYS),
    ("frequency_penalty", ALWAYS),
    ("logit_bias", ALWAYS),
    ("user", ALWAYS),
    ("functions", "2023-07-01-preview"),
    ("function_call", "2023-07-01-preview"),
    ("tools", "2023-12-01-preview"),
    ("tool_choice", "2023-12-01-preview"),
    ("response_format", "2023-12-01-preview"),
    ("seed", "2023-12-01-preview"),
    ("logprobs", "2023-12-01-preview"),
    ("top_logprobs", "2023-12-01-preview"),
    ("data_sources", "2024-02-15-preview"),
    ("parallel_tool_calls", "2024-07-01-preview"),
    ("max_completion_tokens", "2024-09-01-preview"),
    ("store", "2024-12-01-preview"),
    ("metadata", "2024-12-01-preview"),
    ("reasoning_effort", "2024-12-01-preview"),
    ("prediction", "2025-01-01-preview"),
    ("modalities", "2025-01-01-preview"),
    ("audio", "2025-01-01-preview"),
];

/// Legacy completions.
const COMPLETIONS: &[(&str, &str)] = &[
    ("prompt", ALWAYS),
    ("model", ALWAYS),
    ("suffix", ALWAYS),
    ("max_tokens", ALWAYS),
    ("temperature", ALWAYS),
    ("top_p", ALWAYS),
    ("n", ALWAYS),
    ("stream", ALWAYS),
    ("stream_options", ALWAYS),
    ("logprobs", ALWAYS),
    ("echo", ALWAYS),
    ("stop", ALWAYS),
    ("presence_penalty", ALWAYS),
    ("frequency_penalty", ALWAYS),
    ("best_of", ALWAYS),
    ("logit_bias", ALWAYS),
    ("user", ALWAYS),
    ("seed", "2023-12-01-preview"),
];

/// Embeddings.
const EMBEDDINGS: &[(&str, &str)] = &[
    ("input", ALWAYS),
    ("model", ALWAYS),
    ("user", ALWAYS),
    ("input_type", ALWAYS),
    ("encoding_format", "2023-12-01-preview"),
    ("dimensions", "2024-02-01"),
];

fn accepted(operation: Operation) -> &'static [(&'static str, &'static str)] {
    match operation {
        Operation::ChatCompletions => CHAT,
        Operation::Completions => COMPLETIONS,
        Operation::Embeddings => EMBEDDINGS,
    }
}

/// Whether `api_version` accepts an argument first accepted by `since`.
fn accepts(api_version: &str, since: &str) -> bool {
    api_version == "v1" || api_version >= since
}

/// The top-level arguments of `body` that `operation` at `api_version` does not accept, sorted.
/// A body that is not a JSON object has none (the parser's own 400 answers it).
pub fn unrecognized(operation: Operation, api_version: &str, body: &[u8]) -> Vec<String> {
    let Ok(arguments) = serde_json::from_slice::<BTreeMap<String, IgnoredAny>>(body) else {
        return Vec::new();
    };
    let table = accepted(operation);
    arguments
        .into_keys()
        .filter(|name| {
            !table
                .iter()
                .any(|(known, since)| known == name && accepts(api_version, since))
        })
        .collect()
}

/// AOAI's 400 body for `names` (non-empty, sorted): singular for one, plural for several.
pub fn refusal(names: &[String]) -> String {
    let message = match names {
        [one] => format!("Unrecognized request argument supplied: {one}"),
        _ => format!(
            "Unrecognized request arguments supplied: {}",
            names.join(", ")
        ),
    };
    errors::model(&message, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_judged_by_operation_and_version() {
        let body = br#"{"messages":[],"max_completion_tokens":5,"functions":[],"topP":1}"#;
        assert_eq!(
            unrecognized(Operation::ChatCompletions, "2023-05-15", body),
            ["functions", "max_completion_tokens", "topP"]
        );
        assert_eq!(
            unrecognized(Operation::ChatCompletions, "2024-10-21", body),
            ["topP"]
        );
        assert_eq!(
            unrecognized(
                Operation::ChatCompletions,
                "v1",
                br#"{"reasoning_effort":"low"}"#
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            unrecognized(
                Operation::Embeddings,
                "2024-10-21",
                br#"{"input":"a","messages":[]}"#
            ),
            ["messages"]
        );
        assert!(unrecognized(Operation::ChatCompletions, "2024-10-21", b"[1]").is_empty());
    }

    #[test]
    fn the_message_is_aoais() {
        assert_eq!(
            refusal(&["functions".into()]),
            r#"{"error":{"message":"Unrecognized request argument supplied: functions","type":"invalid_request_error","param":null,"code":null}}"#
        );
        assert!(
            refusal(&["frequencyPenalty".into(), "topP".into()])
                .contains("Unrecognized request arguments supplied: frequencyPenalty, topP")
        );
    }
}
