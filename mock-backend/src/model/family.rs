//! Model family constants: the model table (`models.toml`, embedded) with the source of each
//! row's figures — RPM ratio, admission defaults, context window, PTU throughput, output weight,
//! latency floor and deployment minimums/increments, body version string, tokenizer — and the
//! lookup from a deployment's `model` to its row (exact name, or the name followed by `-`,
//! longest first), with the deployment's overrides applied.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::config::ModelOverrides;

/// Which BPE the shell uses to count this model's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// gpt-4o, gpt-4.1, gpt-5, o-series.
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

/// A model's provisioned-throughput figures as published (see [`ModelEntry::ptu_source`]).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PtuFigures {
    /// Input tokens per minute one PTU absorbs.
    pub input_tpm_per_ptu: f64,
    /// One output token counts as this many input tokens (the output-to-input ratio).
    pub output_weight: f64,
    /// The latency target: PTU generation never slower than this (tokens/s).
    pub latency_floor_tps: f64,
    /// Global and Data Zone provisioned minimum deployment (None: not published).
    pub global_min: Option<u32>,
    /// Global and Data Zone provisioned scale increment.
    pub global_increment: Option<u32>,
    /// Regional provisioned minimum deployment.
    pub regional_min: Option<u32>,
    /// Regional provisioned scale increment.
    pub regional_increment: Option<u32>,
}

/// Where a row's figures come from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The document.
    pub document: String,
    /// Its revision or date.
    pub revision: String,
    /// When it was read (or why it was not).
    pub read: String,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; {}; read {}",
            self.document, self.revision, self.read
        )
    }
}

/// One row of the model table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// The model name (`gpt-4.1-nano`); matches itself and `name-…` (dated versions).
    pub name: String,
    /// `model` of response bodies.
    pub version: String,
    /// Tokenizer.
    pub encoding: Encoding,
    /// An embeddings model.
    #[serde(default)]
    pub embeddings: bool,
    /// Standard deployments: RPM per 1,000 TPM.
    pub rpm_per_1k_tpm: f64,
    /// Completion tokens the standard estimate assumes without `max_tokens`.
    pub default_completion_estimate: u32,
    /// Whether the standard estimate counts the prompt.
    pub count_prompt: bool,
    /// Context window in tokens.
    pub context_window: u32,
    /// Provisioned-throughput figures.
    pub ptu: PtuFigures,
    /// Key of the source of the PTU figures.
    pub ptu_source: String,
    /// Key of the source of the standard-deployment figures.
    pub quota_source: String,
    /// What the sources do not confirm.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelTable {
    sources: BTreeMap<String, Source>,
    models: Vec<ModelEntry>,
}

/// The model table as shipped.
pub const MODEL_TABLE_TOML: &str = include_str!("models.toml");

/// The row unknown models fall back to.
const FALLBACK_MODEL: &str = "gpt-4o";

static TABLE: LazyLock<ModelTable> = LazyLock::new(|| {
    // Compiled-in data, checked by `the_table_is_well_formed`: a malformed table is a build
    // defect, not an input error, so it stops the program at first use.
    let table: ModelTable =
        toml::from_str(MODEL_TABLE_TOML).unwrap_or_else(|error| panic!("models.toml: {error}"));
    if let Some(problem) = table.problem() {
        panic!("models.toml: {problem}");
    }
    table
});

impl ModelTable {
    /// What makes the table unusable: no fallback row, a duplicate name, an unknown source.
    fn problem(&self) -> Option<String> {
        if !self.models.iter().any(|row| row.name == FALLBACK_MODEL) {
            return Some(format!("no {FALLBACK_MODEL} row to fall back to"));
        }
        for (index, row) in self.models.iter().enumerate() {
            if self.models[..index]
                .iter()
                .any(|other| other.name == row.name)
            {
                return Some(format!("{} is listed twice", row.name));
            }
            for key in [&row.ptu_source, &row.quota_source] {
                if !self.sources.contains_key(key) {
                    return Some(format!("{}: no source {key:?} in [sources]", row.name));
                }
            }
        }
        None
    }
}

/// Every row of the model table, in file order.
pub fn model_table() -> &'static [ModelEntry] {
    &TABLE.models
}

/// The source named `key` in the model table.
pub fn model_source(key: &str) -> Option<&'static Source> {
    TABLE.sources.get(key)
}

/// The row for `model` (case-insensitive): the longest row name equal to it or followed in it
/// by `-`. `gpt-4.1-nano-2025-04-14` is `gpt-4.1-nano`, never `gpt-4.1`; `gpt-4o` is never
/// `gpt-4`.
pub fn model_entry(model: &str) -> Option<&'static ModelEntry> {
    let lower = model.to_ascii_lowercase();
    model_table()
        .iter()
        .filter(|row| {
            lower
                .strip_prefix(row.name.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
        })
        .max_by_key(|row| row.name.len())
}

fn fallback() -> &'static ModelEntry {
    let rows = model_table();
    rows.iter()
        .find(|row| row.name == FALLBACK_MODEL)
        .unwrap_or(&rows[0])
}

impl ModelProfile {
    /// The profile of `model` with `overrides` applied (unknown models: the gpt-4o row with
    /// their own name as version).
    pub fn resolve(model: &str, overrides: &ModelOverrides) -> ModelProfile {
        let row = model_entry(model);
        let base = row.unwrap_or_else(fallback);
        let version = match row {
            Some(row) => row.version.clone(),
            None => model.to_string(),
        };
        ModelProfile {
            rpm_per_1k_tpm: overrides.rpm_per_1k_tpm.unwrap_or(base.rpm_per_1k_tpm),
            default_completion_estimate: overrides
                .default_completion_estimate
                .unwrap_or(base.default_completion_estimate),
            count_prompt: overrides.count_prompt.unwrap_or(base.count_prompt),
            context_window: overrides.context_window.unwrap_or(base.context_window),
            input_tpm_per_ptu: overrides
                .input_tpm_per_ptu
                .unwrap_or(base.ptu.input_tpm_per_ptu),
            output_weight: overrides.output_weight.unwrap_or(base.ptu.output_weight),
            ptu_floor_tps: overrides
                .ptu_floor_tps
                .unwrap_or(base.ptu.latency_floor_tps),
            model_version: overrides.model_version.clone().unwrap_or(version),
            embeddings: base.embeddings,
            encoding: base.encoding,
        }
    }
}

#[cfg(test)]
mod tests;
