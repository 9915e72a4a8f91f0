//! Fitting the workload: one synthetic app per caller the logs identify (AOAI's `objectId`,
//! APIM's `ApimSubscriptionId`, or a mapped `app` column; at most eight, the rest pooled as
//! `other`), each with its arrival process ([`super::arrivals`]), prompt and completion
//! lengths ([`super::tokens`]) and stream share (Wilson interval).
//!
//! Arrivals are the calls that were not answered 429: a throttled call is taken as retried by
//! its client, and the scenario's `[client]` replays those retries, so counting 429s would
//! count requests twice (a note gives how many were left out).

use std::time::Duration;

use super::Note;
use super::arrivals::{ArrivalFit, fit_arrivals};
use super::record::{LogRecord, LogSet, NameId};
use super::stats::{Bootstrap, Estimate, wilson};
use super::tokens::{TokenFit, TokenModel, fit_tokens};
use crate::workload::{AppConfig, SessionPick, SizeDist, WorkloadConfig};

/// Apps kept apart at most; the rest are pooled as `other`.
const MAX_APPS: usize = 8;
/// Calls an app needs to be kept apart.
const MIN_APP_CALLS: usize = 30;
/// Median prompt length when the logs have none (illustrative; a note says so).
pub const DEFAULT_PROMPT_MEDIAN: f64 = 900.0;
/// Sessions per app (the logs do not identify sessions).
const SESSIONS: u32 = 100;

/// What the workload fit needs besides the logs.
#[derive(Debug, Clone)]
pub struct WorkloadOptions {
    /// Empirical or log-normal token lengths.
    pub tokens: TokenModel,
    /// Width of the rate profile's steps (default from the span of the logs).
    pub bin_s: Option<f64>,
    /// The `max_tokens` the calls sent, if known.
    pub max_tokens: Option<u32>,
    /// Scenario seed (bootstrap streams).
    pub seed: u64,
    /// Bootstrap resamples.
    pub bootstrap: usize,
}

/// One fitted app.
#[derive(Debug, Clone)]
pub struct AppFit {
    /// App name.
    pub name: String,
    /// Arrivals.
    pub arrivals: ArrivalFit,
    /// Prompt lengths (None: not in the logs).
    pub prompt: Option<TokenFit>,
    /// Completion lengths (None: not in the logs).
    pub completion: Option<TokenFit>,
    /// Share of streamed calls (None: not in the logs).
    pub stream_share: Option<Estimate>,
    /// What the scenario gets.
    pub config: AppConfig,
}

/// The fitted workload.
#[derive(Debug, Clone)]
pub struct WorkloadFit {
    /// Run start: the first arrival, nanoseconds.
    pub start_ns: i64,
    /// Run length, seconds.
    pub duration_s: f64,
    /// Width of the rate steps, seconds.
    pub bin_s: f64,
    /// The apps.
    pub apps: Vec<AppFit>,
    /// What the scenario gets.
    pub config: WorkloadConfig,
}

fn default_bin(span_s: f64) -> f64 {
    match span_s {
        s if s <= 1800.0 => 60.0,
        s if s <= 7200.0 => 300.0,
        s if s <= 43_200.0 => 900.0,
        _ => 3600.0,
    }
}

/// Group arrivals by app: the largest callers apart, the rest as `other`.
fn groups<'a>(set: &'a LogSet, arrivals: &[&'a LogRecord]) -> Vec<(String, Vec<&'a LogRecord>)> {
    let mut counts: Vec<(Option<NameId>, usize)> = Vec::new();
    for record in arrivals {
        match counts.iter_mut().find(|(id, _)| *id == record.app) {
            Some(entry) => entry.1 += 1,
            None => counts.push((record.app, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| set.name(a.0).cmp(set.name(b.0))));
    if counts.len() <= 1 {
        return vec![("app".to_string(), arrivals.to_vec())];
    }
    let kept: Vec<Option<NameId>> = counts
        .iter()
        .filter(|(id, n)| id.is_some() && *n >= MIN_APP_CALLS)
        .take(MAX_APPS)
        .map(|(id, _)| *id)
        .collect();
    let mut out: Vec<(String, Vec<&LogRecord>)> = kept
        .iter()
        .map(|id| {
            (
                set.name(*id).to_string(),
                arrivals.iter().copied().filter(|r| r.app == *id).collect(),
            )
        })
        .collect();
    let rest: Vec<&LogRecord> = arrivals
        .iter()
        .copied()
        .filter(|r| !kept.contains(&r.app))
        .collect();
    if !rest.is_empty() {
        out.push(("other".to_string(), rest));
    }
    out
}

/// Fit the workload of `set`, targeting `deployment`.
pub fn fit_workload(
    set: &LogSet,
    deployment: &str,
    options: &WorkloadOptions,
    notes: &mut Vec<Note>,
) -> WorkloadFit {
    let arrivals: Vec<&LogRecord> = set.records.iter().filter(|r| !r.throttled()).collect();
    let throttled = set.records.len() - arrivals.len();
    if throttled > 0 {
        notes.push(Note::new("workload", format!("{throttled} calls answered 429 are not counted as arrivals (taken as retried by their client; the scenario's [client] replays retries)")));
    }
    let start_ns = arrivals.first().map_or(0, |r| r.start_ns);
    let span_s = arrivals
        .last()
        .map_or(0.0, |r| (r.start_ns - start_ns) as f64 / 1e9);
    let mean_gap = if arrivals.len() > 1 {
        span_s / (arrivals.len() - 1) as f64
    } else {
        1.0
    };
    let duration_s = (span_s + mean_gap).ceil().max(1.0);
    let bin_s = options.bin_s.unwrap_or_else(|| default_bin(span_s));
    let apps: Vec<AppFit> = groups(set, &arrivals)
        .into_iter()
        .map(|(name, records)| {
            fit_app(
                &name, &records, start_ns, duration_s, bin_s, deployment, options, notes,
            )
        })
        .collect();
    notes.push(Note::new(
        "workload",
        format!("sessions per app are not in the logs: {SESSIONS} (uniform)"),
    ));
    let config = WorkloadConfig {
        duration: Some(Duration::from_secs_f64(duration_s)),
        apps: apps.iter().map(|app| app.config.clone()).collect(),
        trace: None,
    };
    WorkloadFit {
        start_ns,
        duration_s,
        bin_s,
        apps,
        config,
    }
}

#[allow(clippy::too_many_arguments)]
fn fit_app(
    name: &str,
    records: &[&LogRecord],
    start_ns: i64,
    duration_s: f64,
    bin_s: f64,
    deployment: &str,
    options: &WorkloadOptions,
    notes: &mut Vec<Note>,
) -> AppFit {
    let bootstrap =
        |what: &str| Bootstrap::new(options.seed, &format!("{what}:{name}"), options.bootstrap);
    let times: Vec<f64> = records
        .iter()
        .map(|r| (r.start_ns - start_ns) as f64 / 1e9)
        .collect();
    let arrivals = fit_arrivals(
        name,
        &times,
        duration_s,
        bin_s,
        &mut bootstrap("arrivals"),
        notes,
    );
    let succeeded: Vec<&&LogRecord> = records.iter().filter(|r| r.succeeded()).collect();
    let prompts: Vec<u32> = succeeded.iter().filter_map(|r| r.prompt).collect();
    let completions: Vec<u32> = succeeded.iter().filter_map(|r| r.completion).collect();
    let prompt = fit_tokens(&prompts, options.tokens, &mut bootstrap("prompt"));
    let completion = fit_tokens(&completions, options.tokens, &mut bootstrap("completion"));
    let mut default_size = |what: &str, median: f64, sigma: f64| {
        notes.push(Note::new(name, format!("{what} tokens not in the logs: log-normal median {median}, sigma {sigma} (illustrative default)")));
        SizeDist::Lognormal {
            median,
            sigma,
            min: None,
            max: None,
        }
    };
    let prompt_dist = prompt
        .as_ref()
        .map(|f| f.dist.clone())
        .unwrap_or_else(|| default_size("prompt", DEFAULT_PROMPT_MEDIAN, 0.5));
    let completion_dist = completion
        .as_ref()
        .map(|f| f.dist.clone())
        .unwrap_or_else(|| default_size("completion", 180.0, 0.6));
    if prompt.is_some() && completion.is_some() {
        notes.push(Note::new(name, "prompt and completion lengths are drawn independently (their correlation in the logs is not reproduced)"));
    }
    let streams: Vec<bool> = records.iter().filter_map(|r| r.stream).collect();
    let streamed = streams.iter().filter(|s| **s).count() as u64;
    let stream_share = (!streams.is_empty()).then(|| Estimate {
        value: streamed as f64 / streams.len() as f64,
        ci: wilson(streamed, streams.len() as u64),
    });
    if stream_share.is_none() {
        notes.push(Note::new(name, "streaming not in the logs: stream_share 0"));
    }
    let config = AppConfig {
        name: name.to_string(),
        deployment: deployment.to_string(),
        arrivals: arrivals.process.clone(),
        prompt_tokens: prompt_dist,
        max_tokens: options.max_tokens.map(|value| SizeDist::Constant { value }),
        output_tokens: completion_dist,
        stream_share: stream_share.map_or(0.0, |s| (s.value * 1e4).round() / 1e4),
        priority: 0,
        sessions: SESSIONS,
        session_pick: SessionPick::Uniform,
    };
    AppFit {
        name: name.to_string(),
        arrivals,
        prompt,
        completion,
        stream_share,
        config,
    }
}
