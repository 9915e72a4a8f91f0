//! One synthetic client app: its compiled plan (arrival process, size samplers, session
//! picker) and the lazy stream of its requests, each purpose drawing from its own named RNG
//! stream so changing one app (or one of its distributions) never shifts another's draws.

use std::sync::Arc;
use std::time::Duration;

use aoai_mock::model::duration_from_secs_f64;
use rand::Rng;
use rand_distr::{Distribution, Zipf};

use super::arrivals::ArrivalGen;
use super::config::{AppConfig, ArrivalsConfig, SessionPick};
use super::error::WorkloadError;
use super::rate::RateProfile;
use super::request::{DeploymentId, Request, prompt_chars};
use super::sizes::SizeSampler;
use crate::seed::{self, SimRng};

/// An app compiled from its [`AppConfig`]: everything checked, nothing drawn yet.
#[derive(Debug, Clone)]
pub struct AppPlan {
    /// The app's name (names its RNG streams).
    pub name: String,
    /// Source index of the app.
    pub index: u16,
    /// Target deployment.
    pub deployment: DeploymentId,
    arrivals: ArrivalGen,
    expected_requests: f64,
    prompt_tokens: SizeSampler,
    max_tokens: Option<SizeSampler>,
    output_tokens: SizeSampler,
    stream_share: f64,
    priority: u8,
    sessions: SessionPicker,
}

#[derive(Debug, Clone)]
enum SessionPicker {
    Uniform(u32),
    Zipf(Zipf<f64>),
}

impl AppPlan {
    /// Compile `cfg` (at `path`, e.g. `workload.apps[0]`) for a run of `duration`.
    pub fn new(
        cfg: &AppConfig,
        path: &str,
        index: u16,
        deployment: DeploymentId,
        duration: Duration,
    ) -> Result<Self, WorkloadError> {
        if cfg.name.trim().is_empty() {
            return Err(WorkloadError::invalid(
                format!("{path}.name"),
                format!("{:?}", cfg.name),
                "must not be empty",
            ));
        }
        let (arrivals, expected_requests) =
            compile_arrivals(&cfg.arrivals, &format!("{path}.arrivals"), duration)?;
        if !(0.0..=1.0).contains(&cfg.stream_share) {
            return Err(WorkloadError::invalid(
                format!("{path}.stream_share"),
                cfg.stream_share,
                "must be between 0 and 1",
            ));
        }
        if cfg.sessions == 0 {
            return Err(WorkloadError::invalid(
                format!("{path}.sessions"),
                0,
                "must be at least 1",
            ));
        }
        let sessions = match cfg.session_pick {
            SessionPick::Uniform => SessionPicker::Uniform(cfg.sessions),
            SessionPick::Zipf { s } => {
                let zipf = Zipf::new(f64::from(cfg.sessions), s)
                    .ok()
                    .filter(|_| s.is_finite() && s > 0.0)
                    .ok_or_else(|| {
                        WorkloadError::invalid(
                            format!("{path}.session_pick.s"),
                            s,
                            "must be a finite number > 0",
                        )
                    })?;
                SessionPicker::Zipf(zipf)
            }
        };
        let max_tokens = cfg
            .max_tokens
            .as_ref()
            .map(|d| SizeSampler::new(d, &format!("{path}.max_tokens")))
            .transpose()?;
        let mut output_tokens =
            SizeSampler::new(&cfg.output_tokens, &format!("{path}.output_tokens"))?;
        if let Some(SizeSampler::Constant(cap)) = max_tokens {
            // The stream caps every output at `cap` anyway; the sampler can know it up front.
            output_tokens = output_tokens.capped(cap);
        }
        Ok(AppPlan {
            name: cfg.name.clone(),
            index,
            deployment,
            arrivals,
            expected_requests,
            prompt_tokens: SizeSampler::new(&cfg.prompt_tokens, &format!("{path}.prompt_tokens"))?,
            max_tokens,
            output_tokens,
            stream_share: cfg.stream_share,
            priority: cfg.priority,
            sessions,
        })
    }

    /// Expected number of requests over the run (the rate's integral).
    pub fn expected_requests(&self) -> f64 {
        self.expected_requests
    }
}

/// The lazy request stream of one app (requests carry `id = 0`; the merge numbers them).
#[derive(Debug, Clone)]
pub struct AppStream {
    plan: Arc<AppPlan>,
    arrivals: ArrivalGen,
    horizon: f64,
    rngs: AppRngs,
}

/// One RNG stream per purpose: `workload:<app>:<purpose>`.
#[derive(Debug, Clone)]
struct AppRngs {
    arrivals: SimRng,
    prompt_tokens: SimRng,
    max_tokens: SimRng,
    output_tokens: SimRng,
    stream: SimRng,
    sessions: SimRng,
}

impl AppRngs {
    fn new(seed: u64, app: &str) -> Self {
        let named = |purpose: &str| seed::stream(seed, &format!("workload:{app}:{purpose}"));
        AppRngs {
            arrivals: named("arrivals"),
            prompt_tokens: named("prompt_tokens"),
            max_tokens: named("max_tokens"),
            output_tokens: named("output_tokens"),
            stream: named("stream"),
            sessions: named("sessions"),
        }
    }
}

impl AppStream {
    /// A fresh stream of `plan`'s requests under scenario `seed`, ending before `duration`.
    pub fn new(plan: Arc<AppPlan>, seed: u64, duration: Duration) -> Self {
        AppStream {
            arrivals: plan.arrivals.clone(),
            horizon: duration.as_secs_f64(),
            rngs: AppRngs::new(seed, &plan.name),
            plan,
        }
    }
}

impl Iterator for AppStream {
    type Item = Request;

    // Inlined into the merge, whose fast path is nothing but this call (saves a call and a
    // copy of the request per draw).
    #[inline(always)]
    fn next(&mut self) -> Option<Request> {
        let at = self
            .arrivals
            .next_at(&mut self.rngs.arrivals, self.horizon)?;
        let plan = &*self.plan;
        let rngs = &mut self.rngs;
        let prompt_tokens = plan.prompt_tokens.sample(&mut rngs.prompt_tokens);
        let max_tokens = plan
            .max_tokens
            .as_ref()
            .map(|s| s.sample(&mut rngs.max_tokens));
        let output = plan.output_tokens.sample(&mut rngs.output_tokens);
        let session = match &plan.sessions {
            SessionPicker::Uniform(n) => rngs.sessions.random_range(0..*n),
            // Zipf yields ranks 1..=n as floats.
            SessionPicker::Zipf(zipf) => (zipf.sample(&mut rngs.sessions) as u32).max(1) - 1,
        };
        Some(Request {
            id: 0,
            at: duration_from_secs_f64(at),
            app: plan.index,
            deployment: plan.deployment,
            prompt_tokens,
            prompt_chars: prompt_chars(prompt_tokens),
            max_tokens,
            output_tokens: max_tokens.map_or(output, |cap| output.min(cap)),
            stream: rngs.stream.random::<f64>() < plan.stream_share,
            priority: plan.priority,
            session: (u64::from(plan.index) << 32) | u64::from(session),
        })
    }
}

/// Check an arrival process and compile it, with its expected count over `duration`.
fn compile_arrivals(
    cfg: &ArrivalsConfig,
    path: &str,
    duration: Duration,
) -> Result<(ArrivalGen, f64), WorkloadError> {
    let seconds = duration.as_secs_f64();
    let rate_at = |field: &str, value: f64, positive: bool| {
        let ok = value.is_finite() && (value > 0.0 || (!positive && value == 0.0));
        if ok {
            Ok(value)
        } else {
            let need = if positive { "> 0" } else { "≥ 0" };
            Err(WorkloadError::invalid(
                format!("{path}.{field}"),
                value,
                format!("must be a finite rate {need} (requests per second)"),
            ))
        }
    };
    let thinned = |profile: RateProfile| {
        let expected = profile.expected_until(seconds);
        (ArrivalGen::poisson(profile), expected)
    };
    Ok(match cfg {
        ArrivalsConfig::Constant { rate } => {
            let rate = rate_at("rate", *rate, true)?;
            let expected = (rate * seconds).ceil();
            (
                ArrivalGen::Constant {
                    rate,
                    next_index: 0,
                },
                expected,
            )
        }
        ArrivalsConfig::Poisson { rate } => {
            thinned(RateProfile::constant(rate_at("rate", *rate, true)?))
        }
        ArrivalsConfig::Gamma { rate, burstiness } => {
            let rate = rate_at("rate", *rate, true)?;
            if !(burstiness.is_finite() && *burstiness > 0.0) {
                return Err(WorkloadError::invalid(
                    format!("{path}.burstiness"),
                    burstiness,
                    "must be a finite number > 0 (1 = Poisson, < 1 burstier)",
                ));
            }
            let gaps =
                rand_distr::Gamma::new(*burstiness, 1.0 / (rate * burstiness)).map_err(|e| {
                    WorkloadError::invalid(format!("{path}.burstiness"), burstiness, e.to_string())
                })?;
            (ArrivalGen::Gamma { gaps, t: 0.0 }, rate * seconds)
        }
        ArrivalsConfig::Ramp { from, to, over } => {
            let from = rate_at("from", *from, false)?;
            let to = rate_at("to", *to, false)?;
            let over = over.unwrap_or(duration);
            if over.is_zero() {
                return Err(WorkloadError::invalid(
                    format!("{path}.over"),
                    crate::duration::format(over),
                    "must be longer than 0 (it defaults to workload.duration)",
                ));
            }
            thinned(RateProfile::Ramp {
                from,
                to,
                over: over.as_secs_f64(),
            })
        }
        ArrivalsConfig::Steps { steps } => {
            if steps.is_empty() {
                return Err(WorkloadError::invalid(
                    format!("{path}.steps"),
                    "[]",
                    "must list at least one {at, rate}",
                ));
            }
            let mut pieces = Vec::with_capacity(steps.len() + 1);
            for (i, step) in steps.iter().enumerate() {
                let rate = rate_at(&format!("steps[{i}].rate"), step.rate, false)?;
                let start = step.at.as_secs_f64();
                if i > 0 && step.at <= steps[i - 1].at {
                    return Err(WorkloadError::invalid(
                        format!("{path}.steps[{i}].at"),
                        crate::duration::format(step.at),
                        "steps must be in strictly increasing `at` order",
                    ));
                }
                if i == 0 && start > 0.0 {
                    pieces.push((0.0, 0.0));
                }
                pieces.push((start, rate));
            }
            thinned(RateProfile::Piecewise(pieces))
        }
        ArrivalsConfig::Spikes { base, spikes } => {
            let base = rate_at("base", *base, false)?;
            let mut pieces = vec![(0.0, base)];
            let mut previous_end = Duration::ZERO;
            for (i, spike) in spikes.iter().enumerate() {
                let rate = rate_at(&format!("spikes[{i}].rate"), spike.rate, false)?;
                if spike.length.is_zero() {
                    return Err(WorkloadError::invalid(
                        format!("{path}.spikes[{i}].for"),
                        "0",
                        "a spike must last longer than 0",
                    ));
                }
                if i > 0 && spike.at < previous_end {
                    return Err(WorkloadError::invalid(
                        format!("{path}.spikes[{i}].at"),
                        crate::duration::format(spike.at),
                        "spikes must be listed in time order and must not overlap",
                    ));
                }
                let (start, end) = (
                    spike.at.as_secs_f64(),
                    (spike.at + spike.length).as_secs_f64(),
                );
                if start == 0.0 {
                    pieces[0].1 = rate;
                } else if pieces.last().is_some_and(|last| last.0 == start) {
                    // A spike starting exactly where the previous one ended.
                    if let Some(last) = pieces.last_mut() {
                        last.1 = rate;
                    }
                } else {
                    pieces.push((start, rate));
                }
                pieces.push((end, base));
                previous_end = spike.at + spike.length;
            }
            thinned(RateProfile::Piecewise(pieces))
        }
        ArrivalsConfig::Diurnal {
            mean,
            amplitude,
            period,
        } => {
            let mean = rate_at("mean", *mean, true)?;
            if !(amplitude.is_finite() && (0.0..=mean).contains(amplitude)) {
                return Err(WorkloadError::invalid(
                    format!("{path}.amplitude"),
                    amplitude,
                    format!("must be between 0 and mean = {mean} (the rate cannot go negative)"),
                ));
            }
            if period.is_zero() {
                return Err(WorkloadError::invalid(
                    format!("{path}.period"),
                    "0",
                    "must be longer than 0",
                ));
            }
            thinned(RateProfile::Sine {
                mean,
                amplitude: *amplitude,
                period: period.as_secs_f64(),
            })
        }
    })
}
