//! LiteLLM `latency-based-routing` (`router_strategy/lowest_latency.py` at 015b945).
//!
//! Per deployment a list of at most `max_samples` samples: on success `latency /
//! completion_tokens` (streams also store a TTFT sample: `TTFT / completion_tokens`, or raw
//! TTFT after PR #40202 — switch `stream_sample`); a timeout stores 1000 s; other errors are
//! ignored. A full list keeps its first `max−1` entries and replaces the last (switch
//! `list_update`: `replace-last` as pinned, or `fifo`). The whole entry expires `ttl` after the
//! last success. Selection: unseen deployments average 0 (tried first); drop deployments whose
//! minute usage would exceed their TPM/RPM; pick uniformly among those with
//! `avg ≤ lowest × (1 + buffer)`; streams rank by `Σ TTFT / len(latency list)`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{PickContext, uniform};
use crate::balance::mask::Mask;
use crate::balance::part::{Part, Problem};
use crate::balance::types::{BackendId, Completion, Observation, Status};
use crate::seed::SimRng;

/// How a full sample list takes a new sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListUpdate {
    /// `list[:max-1] + [new]`: the first max−1 samples stay forever (pinned LiteLLM).
    ReplaceLast,
    /// Drop the oldest.
    Fifo,
}

/// What a streamed request stores as its TTFT sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StreamSample {
    /// `TTFT / completion_tokens` (pinned version).
    TtftPerToken,
    /// Raw TTFT (PR #40202).
    RawTtft,
}

/// Lowest-latency parameters (`routing_strategy_args`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyConfig {
    /// `lowest_latency_buffer` (0; docs suggest 0.5).
    pub buffer: f64,
    /// `max_latency_list_size` (10).
    pub max_samples: u32,
    /// `ttl` (3600 s).
    #[serde(with = "aoai_mock::duration::serde_human")]
    pub ttl: Duration,
    /// List update switch.
    pub list_update: ListUpdate,
    /// Stream sample switch.
    pub stream_sample: StreamSample,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            buffer: 0.0,
            max_samples: 10,
            ttl: Duration::from_secs(3600),
            list_update: ListUpdate::ReplaceLast,
            stream_sample: StreamSample::TtftPerToken,
        }
    }
}

impl Part for LatencyConfig {
    fn check(&self) -> Result<(), Problem> {
        if self.buffer.is_nan() || self.buffer < 0.0 {
            return Err(Problem::new(
                "buffer",
                format!("{}: must be ≥ 0", self.buffer),
            ));
        }
        if self.max_samples == 0 {
            return Err(Problem::new("max_samples", "0: must be at least 1"));
        }
        Ok(())
    }
}

/// Sample of a litellm.Timeout, in seconds.
const TIMEOUT_SAMPLE_S: f64 = 1000.0;

#[derive(Debug, Clone)]
struct Samples {
    latency: Vec<f64>,
    ttft: Vec<f64>,
    last_success: Option<Duration>,
    minute: u64,
    minute_tokens: u64,
    minute_requests: u64,
}

/// Latency lists of every deployment.
#[derive(Debug, Clone)]
pub struct LowestLatency {
    config: LatencyConfig,
    deployments: Vec<Samples>,
}

fn push(list: &mut Vec<f64>, max: usize, value: f64, update: ListUpdate) {
    if list.len() < max {
        list.push(value);
        return;
    }
    match update {
        ListUpdate::ReplaceLast => {
            if let Some(last) = list.last_mut() {
                *last = value;
            }
        }
        ListUpdate::Fifo => {
            list.rotate_left(1);
            if let Some(last) = list.last_mut() {
                *last = value;
            }
        }
    }
}

impl LowestLatency {
    /// No samples yet.
    pub fn new(config: LatencyConfig, n: usize) -> Self {
        let max = config.max_samples.max(1) as usize;
        let empty = Samples {
            latency: Vec::with_capacity(max),
            ttft: Vec::with_capacity(max),
            last_success: None,
            minute: 0,
            minute_tokens: 0,
            minute_requests: 0,
        };
        Self {
            config,
            deployments: vec![empty; n],
        }
    }

    fn expire(&mut self, now: Duration, backend: BackendId) {
        let ttl = self.config.ttl;
        let entry = &mut self.deployments[backend];
        if entry
            .last_success
            .is_some_and(|at| now.saturating_sub(at) > ttl)
        {
            entry.latency.clear();
            entry.ttft.clear();
            entry.last_success = None;
        }
        let minute = now.as_secs() / 60;
        if entry.minute != minute {
            entry.minute = minute;
            entry.minute_tokens = 0;
            entry.minute_requests = 0;
        }
    }

    /// The average the selection ranks `backend` by, in seconds (per token unless raw TTFT).
    pub fn average(&self, backend: BackendId, stream: bool) -> f64 {
        let entry = &self.deployments[backend];
        if entry.latency.is_empty() && entry.ttft.is_empty() {
            return 0.0;
        }
        if stream && !entry.ttft.is_empty() {
            return entry.ttft.iter().sum::<f64>() / entry.latency.len().max(1) as f64;
        }
        entry.latency.iter().sum::<f64>() / entry.latency.len().max(1) as f64
    }

    /// One pick.
    pub fn pick(&mut self, ctx: &PickContext<'_>, rng: &mut SimRng) -> Option<BackendId> {
        let mut admitted = Mask::EMPTY;
        let mut lowest = f64::INFINITY;
        for id in ctx.eligible.iter() {
            self.expire(ctx.now, id);
            let entry = &self.deployments[id];
            let spec = &ctx.specs[id];
            let over_tpm = spec
                .tpm_limit
                .is_some_and(|tpm| entry.minute_tokens + ctx.est_tokens > tpm);
            let over_rpm = spec
                .rpm_limit
                .is_some_and(|rpm| entry.minute_requests + 1 > rpm);
            if over_tpm || over_rpm {
                continue;
            }
            admitted = admitted.with(id);
            lowest = lowest.min(self.average(id, ctx.stream));
        }
        let threshold = lowest * (1.0 + self.config.buffer);
        let within: Mask = admitted
            .iter()
            .filter(|id| self.average(*id, ctx.stream) <= threshold)
            .collect();
        uniform(within, rng)
    }

    /// A timeout stores the 1000 s sample.
    pub fn on_response(&mut self, now: Duration, backend: BackendId, observation: &Observation) {
        if observation.status == Status::Timeout {
            self.expire(now, backend);
            let max = self.config.max_samples.max(1) as usize;
            let update = self.config.list_update;
            push(
                &mut self.deployments[backend].latency,
                max,
                TIMEOUT_SAMPLE_S,
                update,
            );
        }
    }

    /// A success stores its samples and counts minute usage.
    pub fn on_complete(&mut self, now: Duration, backend: BackendId, completion: &Completion) {
        self.expire(now, backend);
        let max = self.config.max_samples.max(1) as usize;
        let update = self.config.list_update;
        let per_token = |value: Duration| {
            let seconds = value.as_secs_f64();
            if completion.completion_tokens > 0 {
                seconds / completion.completion_tokens as f64
            } else {
                seconds
            }
        };
        let stream_sample = self.config.stream_sample;
        let entry = &mut self.deployments[backend];
        push(
            &mut entry.latency,
            max,
            per_token(completion.latency),
            update,
        );
        if completion.stream
            && let Some(ttft) = completion.ttft
        {
            let sample = match stream_sample {
                StreamSample::TtftPerToken => per_token(ttft),
                StreamSample::RawTtft => ttft.as_secs_f64(),
            };
            push(&mut entry.ttft, max, sample, update);
        }
        entry.last_success = Some(now);
        entry.minute_tokens += completion.prompt_tokens + completion.completion_tokens;
        entry.minute_requests += 1;
    }
}
