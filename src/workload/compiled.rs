//! [`Workload`]: a validated, compiled `[workload]` table that can replay its request sequence
//! any number of times, plus the expected-rate summary progress bars need.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::app::{AppPlan, AppStream};
use super::config::WorkloadConfig;
use super::error::WorkloadError;
use super::merge::{Requests, Source};
use super::request::DeploymentId;
use super::trace::{TracePlan, TraceStream};

/// The name [`Workload::app_names`] gives the trace source.
pub const TRACE_SOURCE_NAME: &str = "trace";

/// A compiled workload: a seed plus plans; each [`Workload::requests`] call replays the same
/// sequence from the start.
#[derive(Debug, Clone)]
pub struct Workload {
    seed: u64,
    duration: Option<Duration>,
    apps: Vec<Arc<AppPlan>>,
    trace: Option<TracePlan>,
    deployments: Vec<Arc<str>>,
    source_names: Vec<String>,
}

/// What a progress bar needs to know before the run.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSummary {
    /// The run's length if known (configured, or bounded by the trace window).
    pub duration: Option<Duration>,
    /// Expected total requests if known (synthetic apps always; a trace only via
    /// `window.max_requests` × `rate_scale`, as counting its rows would read the whole file).
    pub expected_requests: Option<f64>,
    /// Per source, in source-index order.
    pub sources: Vec<AppSummary>,
}

/// One source's expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSummary {
    /// App name, or `"trace"`.
    pub name: String,
    /// Expected requests over the run, if known.
    pub expected_requests: Option<f64>,
}

impl WorkloadSummary {
    /// Expected requests per second over the run, if both figures are known.
    pub fn expected_rate(&self) -> Option<f64> {
        let seconds = self.duration?.as_secs_f64();
        (seconds > 0.0).then_some(self.expected_requests? / seconds)
    }
}

impl WorkloadConfig {
    /// Check every value (ranges, orderings, unique app names, required fields); errors name
    /// the key path (`workload.apps[0].arrivals.rate`) and the value. Does not open the trace
    /// file ([`Workload::new`] does).
    pub fn validate(&self) -> Result<(), WorkloadError> {
        compile(self, Path::new(""), 0).map(|_| ())
    }
}

impl Workload {
    /// Validate and compile `cfg`; a trace path is resolved against `base_dir` (the scenario
    /// file's directory) and its header checked now, so a bad file fails before the run.
    pub fn new(cfg: &WorkloadConfig, base_dir: &Path, seed: u64) -> Result<Self, WorkloadError> {
        let workload = compile(cfg, base_dir, seed)?;
        if let Some(trace) = &workload.trace {
            trace.open()?;
        }
        Ok(workload)
    }

    /// The requests in time order, numbered from 0: lazy, constant memory, the same sequence
    /// on every call. Synthetic apps cannot fail; a trace yields one `Err` (file, line, column,
    /// value) at its first bad row, after which the iterator ends.
    pub fn requests(&self) -> Requests {
        let mut sources: Vec<Source> = self
            .apps
            .iter()
            .map(|plan| {
                let duration = self.duration.unwrap_or(Duration::ZERO);
                Source::App(AppStream::new(Arc::clone(plan), self.seed, duration))
            })
            .collect();
        if let Some(trace) = &self.trace {
            sources.push(Source::Trace(Box::new(TraceStream::new(
                trace.clone(),
                self.seed,
                self.duration,
            ))));
        }
        Requests::new(sources)
    }

    /// Source names by `Request::app` index: the apps in file order, then `"trace"`.
    pub fn app_names(&self) -> &[String] {
        &self.source_names
    }

    /// Deployment names by [`DeploymentId`], in order of first mention.
    pub fn deployments(&self) -> &[Arc<str>] {
        &self.deployments
    }

    /// The name of deployment `id`.
    pub fn deployment_name(&self, id: DeploymentId) -> &str {
        self.deployments
            .get(usize::from(id.0))
            .map_or("", |name| name)
    }

    /// The configured duration (`None`: a trace alone, which lasts as long as the trace).
    pub fn duration(&self) -> Option<Duration> {
        self.duration
    }

    /// Expected duration and request counts, for progress bars.
    pub fn summary(&self) -> WorkloadSummary {
        let mut sources: Vec<AppSummary> = self
            .apps
            .iter()
            .map(|plan| AppSummary {
                name: plan.name.clone(),
                expected_requests: Some(plan.expected_requests()),
            })
            .collect();
        let mut duration = self.duration;
        if let Some(trace) = &self.trace {
            duration = duration.or(trace.window_length());
            sources.push(AppSummary {
                name: TRACE_SOURCE_NAME.to_string(),
                expected_requests: trace
                    .max_rows()
                    .map(|rows| rows as f64 * trace.rate_scale()),
            });
        }
        let expected_requests = sources.iter().map(|s| s.expected_requests).sum();
        WorkloadSummary {
            duration,
            expected_requests,
            sources,
        }
    }
}

fn compile(cfg: &WorkloadConfig, base_dir: &Path, seed: u64) -> Result<Workload, WorkloadError> {
    if cfg.apps.is_empty() && cfg.trace.is_none() {
        return Err(WorkloadError::invalid(
            "workload",
            "(no apps, no trace)",
            "needs at least one [[workload.apps]] or a [workload.trace]",
        ));
    }
    if cfg.duration.is_some_and(|d| d.is_zero()) {
        return Err(WorkloadError::invalid(
            "workload.duration",
            "0",
            "must be longer than 0",
        ));
    }
    let sources = cfg.apps.len() + usize::from(cfg.trace.is_some());
    if sources > usize::from(u16::MAX) {
        return Err(WorkloadError::invalid(
            "workload.apps",
            format!("{} apps", cfg.apps.len()),
            "too many apps (at most 65534)",
        ));
    }
    let app_duration = match (cfg.duration, cfg.apps.is_empty()) {
        (Some(duration), _) => duration,
        (None, true) => Duration::ZERO,
        (None, false) => {
            return Err(WorkloadError::invalid(
                "workload.duration",
                "(missing)",
                "required when [[workload.apps]] are given (e.g. duration = \"10m\")",
            ));
        }
    };
    let mut deployments: Vec<Arc<str>> = Vec::new();
    let mut deployment_id = |name: &str, path: String| {
        if name.trim().is_empty() {
            return Err(WorkloadError::invalid(
                path,
                "\"\"",
                "must name a deployment",
            ));
        }
        let index = deployments
            .iter()
            .position(|d| &**d == name)
            .unwrap_or_else(|| {
                deployments.push(Arc::from(name));
                deployments.len() - 1
            });
        Ok(DeploymentId(index as u16))
    };
    let mut apps = Vec::with_capacity(cfg.apps.len());
    let mut source_names: Vec<String> = Vec::with_capacity(sources);
    for (i, app) in cfg.apps.iter().enumerate() {
        let path = format!("workload.apps[{i}]");
        if source_names.contains(&app.name) {
            return Err(WorkloadError::invalid(
                format!("{path}.name"),
                format!("{:?}", app.name),
                "app names must be unique (they name the app's random streams)",
            ));
        }
        let deployment = deployment_id(&app.deployment, format!("{path}.deployment"))?;
        apps.push(Arc::new(AppPlan::new(
            app,
            &path,
            i as u16,
            deployment,
            app_duration,
        )?));
        source_names.push(app.name.clone());
    }
    let trace = match &cfg.trace {
        Some(trace_cfg) => {
            let deployment =
                deployment_id(&trace_cfg.deployment, "workload.trace.deployment".into())?;
            let index = cfg.apps.len() as u16;
            source_names.push(TRACE_SOURCE_NAME.to_string());
            Some(TracePlan::new(
                trace_cfg,
                "workload.trace",
                base_dir,
                index,
                deployment,
            )?)
        }
        None => None,
    };
    Ok(Workload {
        seed,
        duration: cfg.duration,
        apps,
        trace,
        deployments,
        source_names,
    })
}
