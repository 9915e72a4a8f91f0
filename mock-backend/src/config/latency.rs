//! Latency, completion-length and service-model settings of one deployment.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Per-deployment latency profile. Absent fields take the defaults of the deployment kind
/// (standard: 600ms TTFT base, 80 tok/s; provisioned: 400ms, 60 tok/s, never below the model's
/// PTU floor).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyConfig {
    /// Fixed part of the time to first token.
    #[serde(
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttft_base: Option<Duration>,
    /// Added to TTFT per prompt token (prefill), e.g. `20us`.
    #[serde(
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttft_per_prompt_token: Option<Duration>,
    /// Log-normal sigma of the TTFT multiplier (0 = no jitter; mean multiplier is 1).
    pub ttft_jitter: Option<f64>,
    /// Mean generation speed, tokens per second.
    pub tokens_per_second: Option<f64>,
    /// Log-normal sigma of the per-request speed multiplier.
    pub tps_jitter: Option<f64>,
    /// Standard only: inter-token latency grows by `load_factor × in_flight / saturation_in_flight`.
    pub load_factor: Option<f64>,
    /// In-flight requests at which the load factor applies fully (default 64).
    pub saturation_in_flight: Option<u32>,
    /// Time an embeddings request takes (default 100ms, jittered with `ttft_jitter`).
    #[serde(
        with = "crate::duration::serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub embeddings_time: Option<Duration>,
}

/// How many tokens a completion has when the request does not force it, spelled as the
/// workload's token distributions: `{ dist = "constant", value = N }`, `"uniform"`,
/// `"lognormal"`, `"exponential"` (the old `distribution = "fixed"` spelling is read by
/// [`super::spelling`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum CompletionTokens {
    /// Always `value`.
    Constant {
        /// The completion length.
        value: u32,
    },
    /// Uniform in `min..=max`.
    Uniform {
        /// Smallest length.
        min: u32,
        /// Largest length.
        max: u32,
    },
    /// Log-normal with the given median and sigma.
    Lognormal {
        /// Median length.
        median: f64,
        /// Sigma of the underlying normal.
        sigma: f64,
    },
    /// Exponential with the given mean (at least 1 token).
    Exponential {
        /// Mean length.
        mean: f64,
    },
}

impl Default for CompletionTokens {
    fn default() -> Self {
        CompletionTokens::Uniform { min: 20, max: 400 }
    }
}

/// Distribution of a slot's service time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceTime {
    /// Exponential with this mean.
    #[serde(with = "crate::duration::serde_human")]
    Exponential(Duration),
    /// Always this long.
    #[serde(with = "crate::duration::serde_human")]
    Fixed(Duration),
}

/// Optional FIFO service model: `concurrency` slots; a request waits for the earliest free one
/// and the wait adds to its TTFT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Number of processing slots.
    pub concurrency: u32,
    /// Time in a slot from start to last token. Absent: the latency model's TTFT + generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_time: Option<ServiceTime>,
}
