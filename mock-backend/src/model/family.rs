//! Model family constants (reference §5.1, §5.3, §6.2): RPM ratio, admission defaults, context
//! window, PTU throughput and output weight, body version string, tokenizer encoding.

use crate::config::ModelOverrides;

/// Which BPE the shell uses to count this model's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// gpt-4o, gpt-4.1, o-series.
    O200kBase,
    /// gpt-35-turbo, gpt-4, text-embedding-*.
    Cl100kBase,
}

/// Constants of one deployment's model after overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelProfile {
    /// RPM per 1,000 TPM.
    pub rpm_per_1k_tpm: f64,
    /// Completion tokens the estimate assumes when `max_tokens` is unset.
    pub default_completion_estimate: u32,
    /// Whether the standard estimate counts `ceil(prompt_chars/4)`.
    pub count_prompt: bool,
    /// Context window in tokens.
    pub context_window: u32,
    /// PTU: input tokens per minute per PTU.
    pub input_tpm_per_ptu: f64,
    /// PTU: one output token counts as this many input tokens.
    pub output_weight: f64,
    /// PTU: generation never slower than this (tokens/s).
    pub ptu_floor_tps: f64,
    /// `model` field of response bodies.
    pub model_version: String,
    /// An embeddings model (chat and completions are refused).
    pub embeddings: bool,
    /// Tokenizer.
    pub encoding: Encoding,
}

struct Row {
    prefix: &'static str,
    rpm_per_1k_tpm: f64,
    default_estimate: u32,
    count_prompt: bool,
    context_window: u32,
    input_tpm_per_ptu: f64,
    output_weight: f64,
    ptu_floor_tps: f64,
    version: &'static str,
    embeddings: bool,
    encoding: Encoding,
}

// One positional row per model reads as a table; named fields would triple its length.
#[allow(clippy::too_many_arguments)]
const fn chat(
    prefix: &'static str,
    rpm: f64,
    estimate: u32,
    count_prompt: bool,
    context: u32,
    ptu_tpm: f64,
    weight: f64,
    floor: f64,
    version: &'static str,
    encoding: Encoding,
) -> Row {
    Row {
        prefix,
        rpm_per_1k_tpm: rpm,
        default_estimate: estimate,
        count_prompt,
        context_window: context,
        input_tpm_per_ptu: ptu_tpm,
        output_weight: weight,
        ptu_floor_tps: floor,
        version,
        embeddings: false,
        encoding,
    }
}

const fn embedding(prefix: &'static str, version: &'static str) -> Row {
    Row {
        prefix,
        rpm_per_1k_tpm: 6.0,
        default_estimate: 0,
        count_prompt: true,
        context_window: 8191,
        input_tpm_per_ptu: 2500.0,
        output_weight: 3.0,
        ptu_floor_tps: 25.0,
        version,
        embeddings: true,
        encoding: Encoding::Cl100kBase,
    }
}

use Encoding::{Cl100kBase as CL, O200kBase as O2};

/// Longest prefix first. Unknown models fall back to the gpt-4o row with their own name as version.
const TABLE: &[Row] = &[
    chat(
        "gpt-35-turbo",
        6.0,
        16,
        false,
        16_385,
        2500.0,
        3.0,
        25.0,
        "gpt-35-turbo-0125",
        CL,
    ),
    chat(
        "gpt-3.5-turbo",
        6.0,
        16,
        false,
        16_385,
        2500.0,
        3.0,
        25.0,
        "gpt-35-turbo-0125",
        CL,
    ),
    chat(
        "gpt-4o-mini",
        6.0,
        640,
        true,
        128_000,
        37_000.0,
        3.0,
        33.0,
        "gpt-4o-mini-2024-07-18",
        O2,
    ),
    chat(
        "gpt-4o",
        6.0,
        640,
        true,
        128_000,
        2500.0,
        3.0,
        25.0,
        "gpt-4o-2024-11-20",
        O2,
    ),
    chat(
        "gpt-4.1-nano",
        1.0,
        640,
        true,
        1_047_576,
        14_900.0,
        4.0,
        50.0,
        "gpt-4.1-nano-2025-04-14",
        O2,
    ),
    chat(
        "gpt-4.1-mini",
        1.0,
        640,
        true,
        1_047_576,
        14_900.0,
        4.0,
        50.0,
        "gpt-4.1-mini-2025-04-14",
        O2,
    ),
    chat(
        "gpt-4.1",
        1.0,
        640,
        true,
        1_047_576,
        3000.0,
        4.0,
        44.0,
        "gpt-4.1-2025-04-14",
        O2,
    ),
    chat(
        "gpt-4",
        6.0,
        640,
        true,
        8192,
        2500.0,
        3.0,
        25.0,
        "gpt-4-0613",
        CL,
    ),
    chat(
        "o1-mini",
        0.1,
        640,
        true,
        128_000,
        2500.0,
        3.0,
        25.0,
        "o1-mini-2024-09-12",
        O2,
    ),
    chat(
        "o1",
        1.0 / 6.0,
        640,
        true,
        200_000,
        230.0,
        3.0,
        25.0,
        "o1-2024-12-17",
        O2,
    ),
    chat(
        "o3-mini",
        0.1,
        640,
        true,
        200_000,
        2500.0,
        3.0,
        66.0,
        "o3-mini-2025-01-31",
        O2,
    ),
    chat(
        "o3",
        1.0,
        640,
        true,
        200_000,
        2500.0,
        3.0,
        25.0,
        "o3-2025-04-16",
        O2,
    ),
    chat(
        "o4-mini",
        1.0,
        640,
        true,
        200_000,
        2500.0,
        3.0,
        25.0,
        "o4-mini-2025-04-16",
        O2,
    ),
    embedding("text-embedding-ada-002", "text-embedding-ada-002"),
    embedding("text-embedding-3-small", "text-embedding-3-small"),
    embedding("text-embedding-3-large", "text-embedding-3-large"),
];

impl ModelProfile {
    /// The profile of `model` with `overrides` applied.
    pub fn resolve(model: &str, overrides: &ModelOverrides) -> ModelProfile {
        let lower = model.to_ascii_lowercase();
        let row = TABLE
            .iter()
            .filter(|row| lower.starts_with(row.prefix))
            .max_by_key(|row| row.prefix.len());
        let fallback = &TABLE[3];
        let base = row.unwrap_or(fallback);
        let version = match row {
            Some(row) => row.version.to_string(),
            None => model.to_string(),
        };
        ModelProfile {
            rpm_per_1k_tpm: overrides.rpm_per_1k_tpm.unwrap_or(base.rpm_per_1k_tpm),
            default_completion_estimate: overrides
                .default_completion_estimate
                .unwrap_or(base.default_estimate),
            count_prompt: overrides.count_prompt.unwrap_or(base.count_prompt),
            context_window: overrides.context_window.unwrap_or(base.context_window),
            input_tpm_per_ptu: overrides
                .input_tpm_per_ptu
                .unwrap_or(base.input_tpm_per_ptu),
            output_weight: overrides.output_weight.unwrap_or(base.output_weight),
            ptu_floor_tps: overrides.ptu_floor_tps.unwrap_or(base.ptu_floor_tps),
            model_version: overrides.model_version.clone().unwrap_or(version),
            embeddings: base.embeddings,
            encoding: base.encoding,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_versions_are_concrete() {
        let none = ModelOverrides::default();
        assert_eq!(
            ModelProfile::resolve("gpt-4o-mini", &none).input_tpm_per_ptu,
            37_000.0
        );
        assert_eq!(
            ModelProfile::resolve("gpt-4o", &none).input_tpm_per_ptu,
            2500.0
        );
        assert_eq!(ModelProfile::resolve("gpt-4.1", &none).output_weight, 4.0);
        assert_eq!(ModelProfile::resolve("gpt-4", &none).context_window, 8192);
        assert_eq!(ModelProfile::resolve("o3-mini", &none).rpm_per_1k_tpm, 0.1);
        assert!(ModelProfile::resolve("text-embedding-3-small", &none).embeddings);
        assert_eq!(
            ModelProfile::resolve("my-model", &none).model_version,
            "my-model"
        );
    }

    #[test]
    fn overrides_apply() {
        let overrides = ModelOverrides {
            context_window: Some(4096),
            count_prompt: Some(true),
            ..Default::default()
        };
        let profile = ModelProfile::resolve("gpt-35-turbo", &overrides);
        assert_eq!(profile.context_window, 4096);
        assert!(profile.count_prompt);
    }
}
