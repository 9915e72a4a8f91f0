//! The scenario file's `[workload]` table: serde types only (validation lives in `validate.rs`).
//!
//! ```toml
//! [workload]
//! duration = "10m"            # required with apps; optional for a trace (default: its length)
//! [[workload.apps]]
//! name = "chat"
//! deployment = "gpt-4o"
//! arrivals = { process = "poisson", rate = 20.0 }
//! prompt_tokens = { dist = "lognormal", median = 1000, sigma = 0.8, max = 8000 }
//! max_tokens = { dist = "constant", value = 800 }   # absent: the request sends no max_tokens
//! output_tokens = { dist = "exponential", mean = 200 }
//! stream_share = 0.5
//! priority = 1
//! sessions = 100
//! [workload.trace]
//! path = "data/azure-conv-10min.csv"   # relative to the scenario file
//! format = "azure-2023"
//! deployment = "gpt-4o"
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{serde_human, serde_human_opt};

/// The `[workload]` table: synthetic client apps, a trace to replay, or both (merged by time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadConfig {
    /// Length of the run: no request is scheduled at or after it. Required when `apps` is not
    /// empty; for a trace alone it defaults to the trace's own length.
    #[serde(
        default,
        with = "serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<Duration>,
    /// Synthetic client apps, each with its own arrival process and request mix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppConfig>,
    /// A trace to replay (its requests get the app index after the last app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceConfig>,
}

/// One synthetic client app (`[[workload.apps]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// Unique name; it also names the app's random streams (`workload:<name>:arrivals`, ...).
    pub name: String,
    /// The deployment name the app's requests target.
    pub deployment: String,
    /// When requests are sent.
    pub arrivals: ArrivalsConfig,
    /// Prompt length in tokens.
    pub prompt_tokens: SizeDist,
    /// The `max_tokens` the request sends; absent means the request sends none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<SizeDist>,
    /// The completion length the mock will generate (`x-mock-completion-tokens`), capped by
    /// `max_tokens` when that is present.
    pub output_tokens: SizeDist,
    /// Fraction of requests sent with `stream: true` (0 to 1, default 0).
    #[serde(default)]
    pub stream_share: f64,
    /// Priority carried on every request of the app; the balancer decides what it means.
    #[serde(default)]
    pub priority: u8,
    /// Number of distinct session keys the app's requests carry (default 1).
    #[serde(default = "one")]
    pub sessions: u32,
    /// How a request picks its session among `sessions` (default uniform).
    #[serde(default, skip_serializing_if = "SessionPick::is_uniform")]
    pub session_pick: SessionPick,
}

fn one() -> u32 {
    1
}

/// How a request's session key is drawn among an app's sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum SessionPick {
    /// Every session equally likely.
    #[default]
    Uniform,
    /// Zipf over session ranks 1..=sessions with exponent `s` (a few heavy sessions).
    Zipf {
        /// The Zipf exponent (> 0; 1 is the classic Zipf law).
        s: f64,
    },
}

impl SessionPick {
    fn is_uniform(&self) -> bool {
        matches!(self, SessionPick::Uniform)
    }
}

/// An arrival process (requests per second), `arrivals = { process = "...", ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "lowercase", deny_unknown_fields)]
pub enum ArrivalsConfig {
    /// Evenly spaced: request k is sent at k / rate.
    Constant {
        /// Requests per second.
        rate: f64,
    },
    /// Exponential inter-arrivals at a fixed rate.
    Poisson {
        /// Requests per second.
        rate: f64,
    },
    /// Gamma inter-arrivals, shape = burstiness, scale = 1/(rate·burstiness) (as vLLM's
    /// `--burstiness`): 1 is Poisson, below 1 burstier, above 1 more regular. The coefficient of
    /// variation of the gaps is 1/sqrt(burstiness).
    Gamma {
        /// Mean requests per second.
        rate: f64,
        /// Gamma shape.
        burstiness: f64,
    },
    /// Poisson whose rate moves linearly from `from` to `to` over `over` (default: the whole
    /// run), then stays at `to`.
    Ramp {
        /// Rate at time 0.
        from: f64,
        /// Rate at the end of the ramp.
        to: f64,
        /// Ramp length (default: the workload duration).
        #[serde(
            default,
            with = "serde_human_opt",
            skip_serializing_if = "Option::is_none"
        )]
        over: Option<Duration>,
    },
    /// Poisson with a piecewise-constant rate: each step holds from its `at` until the next;
    /// the rate before the first step is 0.
    Steps {
        /// Steps in increasing `at` order.
        steps: Vec<RateStep>,
    },
    /// Poisson at `base` except inside spike windows, where the spike's rate applies.
    Spikes {
        /// Rate outside spikes.
        base: f64,
        /// Non-overlapping spike windows.
        spikes: Vec<Spike>,
    },
    /// Poisson with a sinusoidal rate `mean + amplitude · sin(2π t / period)`.
    Diurnal {
        /// Mean rate.
        mean: f64,
        /// Swing around the mean (≤ mean, so the rate never goes negative).
        amplitude: f64,
        /// Length of one full cycle.
        #[serde(with = "serde_human")]
        period: Duration,
    },
}

/// One step of a `steps` process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    /// When the step starts (from run start).
    #[serde(with = "serde_human")]
    pub at: Duration,
    /// Requests per second from `at` on.
    pub rate: f64,
}

/// One spike window of a `spikes` process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spike {
    /// When the spike starts.
    #[serde(with = "serde_human")]
    pub at: Duration,
    /// How long it lasts.
    #[serde(rename = "for", with = "serde_human")]
    pub length: Duration,
    /// Requests per second during the spike.
    pub rate: f64,
}

/// A distribution of token counts, `{ dist = "...", ... }`. Continuous draws are rounded to the
/// nearest integer and clamped to `[min, max]` (`min` defaults to 1, `max` to unbounded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum SizeDist {
    /// Always `value`.
    Constant {
        /// The count.
        value: u32,
    },
    /// Uniform integer in `[min, max]` inclusive.
    Uniform {
        /// Smallest value.
        min: u32,
        /// Largest value.
        max: u32,
    },
    /// Normal, clamped.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (≥ 0).
        std: f64,
        /// Lower clamp (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        /// Upper clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// Log-normal given by its median (e^mu) and sigma, clamped.
    Lognormal {
        /// Median (> 0).
        median: f64,
        /// Sigma of the underlying normal (≥ 0).
        sigma: f64,
        /// Lower clamp (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        /// Upper clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// Exponential with the given mean, clamped.
    Exponential {
        /// Mean (> 0).
        mean: f64,
        /// Lower clamp (default 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        /// Upper clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// One of `values`, each equally likely (list a value twice to weight it).
    Empirical {
        /// The observed counts (non-empty).
        values: Vec<u32>,
    },
}

/// `[workload.trace]`: replay a `TIMESTAMP,ContextTokens,GeneratedTokens`-style CSV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceConfig {
    /// The CSV file, relative to the scenario file's directory unless absolute.
    pub path: PathBuf,
    /// Column layout and timestamp form (default `azure-2023`).
    #[serde(default)]
    pub format: TraceFormat,
    /// Time compression: 2.0 replays the trace twice as fast (halves every offset).
    #[serde(default = "unit")]
    pub speedup: f64,
    /// Request-count scaling. Below 1 each row is kept with probability `rate_scale`; above 1
    /// each row is sent `floor(rate_scale)` times plus once more with probability
    /// `frac(rate_scale)`, the extra copies placed uniformly at random between the row's time
    /// and the next row's (seeded), carrying the row's token counts.
    #[serde(default = "unit")]
    pub rate_scale: f64,
    /// Which part of the trace to replay (offsets in trace time, before `speedup`).
    #[serde(default)]
    pub window: TraceWindow,
    /// The deployment name every trace request targets.
    pub deployment: String,
    /// What `max_tokens` the requests send: `"output"` (the row's GeneratedTokens), a fixed
    /// number, or absent (none sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<TraceMaxTokens>,
    /// Fraction of requests sent with `stream: true` (0 to 1, default 0).
    #[serde(default)]
    pub stream_share: f64,
    /// Priority of every trace request (default 0).
    #[serde(default)]
    pub priority: u8,
}

fn unit() -> f64 {
    1.0
}

/// The column layout of a trace file: `"azure-2023"`, `"azure-2024"` or a column table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "RawTraceFormat")]
pub enum TraceFormat {
    /// A known layout by name.
    Named(NamedTraceFormat),
    /// Any CSV with a header, by column names.
    Columns(TraceColumns),
}

impl Default for TraceFormat {
    fn default() -> Self {
        TraceFormat::Named(NamedTraceFormat::Azure2023)
    }
}

/// What `format = ...` may be written as, before the name is checked (so an unknown name gets
/// an error that lists the known ones instead of serde's "did not match any variant").
#[derive(Deserialize)]
#[serde(untagged)]
enum RawTraceFormat {
    Name(String),
    Columns(TraceColumns),
}

impl TryFrom<RawTraceFormat> for TraceFormat {
    type Error = String;

    fn try_from(raw: RawTraceFormat) -> Result<Self, String> {
        match raw {
            RawTraceFormat::Columns(columns) => Ok(TraceFormat::Columns(columns)),
            RawTraceFormat::Name(name) => match name.as_str() {
                "azure-2023" => Ok(TraceFormat::Named(NamedTraceFormat::Azure2023)),
                "azure-2024" => Ok(TraceFormat::Named(NamedTraceFormat::Azure2024)),
                _ => Err(format!(
                    "unknown trace format {name:?}: write \"azure-2023\", \"azure-2024\" or \
                     {{ timestamp = \"col\", timestamp_kind = \"datetime|seconds\", \
                     prompt = \"col\", output = \"col\" }}"
                )),
            },
        }
    }
}

/// The Azure LLM inference traces: `TIMESTAMP,ContextTokens,GeneratedTokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NamedTraceFormat {
    /// 2023 (Splitwise): `2023-11-16 18:15:46.6805900`, seven fractional digits.
    #[serde(rename = "azure-2023")]
    Azure2023,
    /// 2024 (DynamoLLM): `2024-05-10 00:00:00.009930+00:00`, fraction sometimes absent.
    #[serde(rename = "azure-2024")]
    Azure2024,
}

/// A column mapping for other trace CSVs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceColumns {
    /// Header name of the timestamp column.
    pub timestamp: String,
    /// How that column is written.
    pub timestamp_kind: TimestampKind,
    /// Header name of the prompt-token column.
    pub prompt: String,
    /// Header name of the output-token column.
    pub output: String,
}

/// How a trace's timestamp column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimestampKind {
    /// `YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM]` (a `T` separator is accepted too).
    Datetime,
    /// A number of seconds (decimals allowed), e.g. BurstGPT's `Timestamp`.
    Seconds,
}

/// Which part of a trace to replay. Offsets are from the first row's timestamp, in trace time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceWindow {
    /// Skip rows before this offset (default 0). A kept row is sent at
    /// `(row offset − from) / speedup` from run start.
    #[serde(
        default,
        with = "serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub from: Option<Duration>,
    /// Stop at rows at or after this offset.
    #[serde(
        default,
        with = "serde_human_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<Duration>,
    /// Stop after this many rows have been read inside the window (before rate scaling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u64>,
}

/// `max_tokens = "output"` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, try_from = "RawTraceMaxTokens")]
pub enum TraceMaxTokens {
    /// The row's GeneratedTokens.
    Output(OutputKeyword),
    /// A fixed value (the output is capped by it).
    Fixed(u32),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawTraceMaxTokens {
    Word(String),
    Number(u32),
}

impl TryFrom<RawTraceMaxTokens> for TraceMaxTokens {
    type Error = String;

    fn try_from(raw: RawTraceMaxTokens) -> Result<Self, String> {
        match raw {
            RawTraceMaxTokens::Number(cap) => Ok(TraceMaxTokens::Fixed(cap)),
            RawTraceMaxTokens::Word(word) if word == "output" => {
                Ok(TraceMaxTokens::Output(OutputKeyword::Output))
            }
            RawTraceMaxTokens::Word(word) => Err(format!(
                "max_tokens = {word:?}: write \"output\" (the row's GeneratedTokens) or a number"
            )),
        }
    }
}

/// The keyword `"output"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKeyword {
    /// Use the row's output token count.
    Output,
}
