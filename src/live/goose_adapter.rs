//! Closed-model load through goose 0.19, embedded as a library — the only module that names
//! goose (its API churns). Users loop request → response → think time against the target;
//! each request takes the next entry of the workload's seeded schedule for its size, deployment
//! and stream flag (not its time: a closed model has no intended send time, so a record's
//! intended start is its actual send). Our own hook in the transaction reads the stream,
//! records TTFT and end-to-end as goose custom rows (`TTFT chat`, `E2E chat`), classifies 429s
//! apart from errors (`THROTTLED chat`, marked success for goose's error rate), and writes the
//! same records as the open-loop engine, so the same summary and report come out, labelled
//! closed-model. goose writes its own HTML report into the run directory.
//!
//! goose runs one attack per process (global Ctrl-C handler and killswitch): call this once.
//! goose catches SIGINT itself (its killswitch); a stop from the caller (SIGTERM) pulls the
//! same killswitch, and either way the run is written, marked `interrupted`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use goose::config::GooseConfiguration;
use goose::prelude::{
    GooseAttack, GooseMethod, GooseRequest, GooseUser, Scenario as GooseScenario, Transaction,
    TransactionResult,
};
use hyper::header::HeaderValue;

use super::clock::LiveClock;
use super::error::LiveError;
use super::load::logical::{finish, record_try};
use super::load::try_once::{TryOutcome, TryResult};
use super::load::{EngineContext, LoadOptions, LoadPlan};
use super::load::{collector, records};
use super::setup::{drop_unmeasured_rows, live_setup};
use super::sse::BodyWatch;
use super::trail::{GatewayReport, SESSION};
use super::verdict::validity_context;
use crate::balance::{Observation, Status};
use crate::client::ClientAnswer;
use crate::metrics::RequestRecord;
use crate::report::StrategyRecorder;
use crate::report::validity::assess;
use crate::report::{
    EngineMeasurements, RunDir, RunOutputs, RunSink, StrategyOutputs, Summary, write_run,
};
use crate::scenario::Scenario;
use crate::workload::{Request, Requests, Workload};
use tokio::sync::watch;

/// File goose writes its own report to, in the run directory.
pub const GOOSE_REPORT: &str = "goose-report.html";

/// Closed-model settings.
#[derive(Debug, Clone)]
pub struct GooseOptions {
    /// Base URL to drive.
    pub target: String,
    /// Concurrent users.
    pub users: usize,
    /// Time to start them all (wall).
    pub ramp_up: Duration,
    /// Hold time after the ramp-up (wall).
    pub run_time: Duration,
    /// Pause between a user's requests (wall).
    pub think_time: Duration,
    /// `api-key` header value.
    pub api_key: String,
    /// The target's time scale (records are kept in scenario time).
    pub time_scale: f64,
}

/// A finished closed-model run.
#[derive(Debug)]
pub struct GooseOutcome {
    /// The summary (one strategy, named `<label> (closed-model)`).
    pub summary: Summary,
    /// Requests completed.
    pub requests: u64,
    /// Completed requests per wall second over goose's run.
    pub requests_per_second: f64,
    /// goose's own HTML report.
    pub goose_report: PathBuf,
    /// Stopped early (SIGINT through goose's handler, or the caller's stop).
    pub interrupted: bool,
}

/// What every goose user shares.
struct Shared {
    engine: EngineContext,
    schedule: Mutex<(Workload, Requests)>,
}

impl Shared {
    /// The next request shape of the schedule (from the start again when it runs out).
    fn next_request(&self) -> Option<Request> {
        let mut guard = self.schedule.lock().unwrap_or_else(PoisonError::into_inner);
        let (workload, requests) = &mut *guard;
        match requests.next() {
            Some(Ok(request)) => Some(request),
            _ => {
                *requests = workload.requests();
                requests.next().and_then(Result::ok)
            }
        }
    }
}

fn goose_error(error: impl std::fmt::Display) -> LiveError {
    LiveError::Goose(error.to_string())
}

/// Run `scenario`'s first strategy slot as a closed-model load on `options.target`, writing
/// `results/<run>/` into `dir` (plus goose's `goose-report.html`). `stop` ends the attack
/// early (as goose's own SIGINT handler does); what was measured is still written.
pub async fn run_goose(
    scenario: &Scenario,
    dir: &RunDir,
    options: &GooseOptions,
    command: &str,
    mut stop: watch::Receiver<bool>,
) -> Result<GooseOutcome, LiveError> {
    if options.users == 0 {
        return Err(LiveError::invalid("--users", "at least one user"));
    }
    let workload = scenario.workload()?;
    let label = scenario
        .strategies
        .first()
        .map_or("target".to_string(), |s| s.config.name.clone());
    let clock = LiveClock::start(options.time_scale);
    // The run's length is the attack's (ramp-up + hold), in scenario time.
    let planned =
        (options.ramp_up + options.run_time).mul_f64(options.time_scale.max(f64::MIN_POSITIVE));
    let (mut setup, fallback) = live_setup(scenario, planned, true);
    setup.strategies = vec![format!("{label} (closed-model)")];
    let setup = Arc::new(setup);
    let api_key = HeaderValue::from_str(&options.api_key)
        .map_err(|_| LiveError::invalid("--api-key", "not a valid header value"))?;
    let plan = LoadPlan {
        target: options.target.clone(),
        strategy: 0,
        setup: setup.clone(),
        clock,
        options: LoadOptions {
            fallback_backend: fallback,
            ..LoadOptions::default()
        },
        label,
    };
    let (records, receiver) = records::channel(plan.options.record_buffer);
    let sink = RunSink::Csv(Box::new(dir.csv_sink(setup.clone())?));
    let recorder = StrategyRecorder::new(0, setup.clone());
    let collector = collector::spawn(receiver, recorder, sink, None)?;
    let schedule = workload.requests();
    let shared = Arc::new(Shared {
        engine: EngineContext::new(scenario, &workload, &plan, api_key, records),
        schedule: Mutex::new((workload, schedule)),
    });
    let report_path = dir.path().join(GOOSE_REPORT);
    let killswitch = tokio::spawn(async move {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                return;
            }
        }
        goose::trigger_killswitch("stopped by a signal");
    });
    let metrics = attack(shared.clone(), options, &report_path).await;
    killswitch.abort();
    let interrupted = goose::is_killswitch_triggered();
    let covered = clock.now().min(planned);
    drop(shared);
    let (recorder, sink, _) = collector.finish().await?;
    sink.finish()?;
    let metrics = metrics?;
    let (mut strategy, series, histograms) = recorder.finish_recording();
    // A closed model sends each request when its user is ready: no schedule, no send lag.
    let measured = EngineMeasurements {
        scheduled: strategy.requests,
        sent: strategy.requests,
        interrupted,
        covered: if interrupted { covered } else { planned },
        ..EngineMeasurements::default()
    };
    let context = validity_context(scenario.fleet(), &setup, &strategy, options.time_scale, 1);
    strategy.validity = assess(&measured, &context);
    drop_unmeasured_rows(&mut strategy, fallback);
    let mut summary = Summary::new(&setup, vec![strategy]).with_command(command);
    if interrupted {
        summary = summary.mark_interrupted();
    }
    let outputs = RunOutputs {
        setup: &setup,
        summary: &summary,
        strategies: vec![StrategyOutputs {
            name: setup.strategies[0].as_str(),
            series: &series,
            histograms: &histograms,
        }],
        report_appendix: String::new(),
        extra_files: Vec::new(),
    };
    write_run(dir, &outputs)?;
    let requests = summary.strategies[0].requests;
    let seconds = (metrics.duration as f64).max(1e-9);
    Ok(GooseOutcome {
        summary,
        requests,
        requests_per_second: requests as f64 / seconds,
        goose_report: report_path,
        interrupted,
    })
}

/// Configure and execute the attack.
async fn attack(
    shared: Arc<Shared>,
    options: &GooseOptions,
    report: &std::path::Path,
) -> Result<goose::metrics::GooseMetrics, LiveError> {
    let whole_seconds = |d: Duration| format!("{}s", d.as_secs().max(1));
    let args = vec![
        "--host".to_string(),
        options.target.clone(),
        "--users".to_string(),
        options.users.to_string(),
        "--increase-rate".to_string(),
        format!(
            "{}",
            options.users as f64 / options.ramp_up.as_secs_f64().max(0.001)
        ),
        "--run-time".to_string(),
        whole_seconds(options.run_time),
        "--no-telnet".to_string(),
        "--quiet".to_string(),
        // Keep the ramp-up's samples, as our records do.
        "--no-reset-metrics".to_string(),
        "--no-gzip".to_string(),
        "--no-print-metrics".to_string(),
        "--report-file".to_string(),
        report.display().to_string(),
    ];
    let config = GooseConfiguration::parse_args_default(&args).map_err(goose_error)?;
    let transaction_shared = shared.clone();
    let transaction = Transaction::new(Arc::new(move |user: &mut GooseUser| {
        let shared = transaction_shared.clone();
        Box::pin(async move { chat(user, shared).await })
    }))
    .set_name("chat");
    let mut users = GooseScenario::new("throttlebox").register_transaction(transaction);
    if !options.think_time.is_zero() {
        users = users
            .set_wait_time(options.think_time, options.think_time)
            .map_err(goose_error)?;
    }
    GooseAttack::initialize_with_config(config)
        .map_err(goose_error)?
        .register_scenario(users)
        .execute()
        .await
        .map_err(goose_error)
}

/// One request of one user: send through goose, read the body through our hook, record.
async fn chat(user: &mut GooseUser, shared: Arc<Shared>) -> TransactionResult {
    let Some(request) = shared.next_request() else {
        return Ok(());
    };
    let ctx = &shared.engine;
    let url = ctx.urls[usize::from(request.deployment.0)].clone();
    let builder = user
        .get_request_builder(&GooseMethod::Post, &url)?
        .header("content-type", "application/json")
        .header("api-key", ctx.api_key.clone())
        .header("x-mock-completion-tokens", request.output_tokens)
        .header("x-stainless-retry-count", 0)
        .header(SESSION, request.session)
        .body(super::load::wire::body(&request).to_vec());
    let goose_request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path(url.as_str())
        .name("chat")
        .set_request_builder(builder)
        .build();
    let sent = ctx.clock.now();
    let mut goose = user.request(goose_request).await?;
    let mut record = RequestRecord {
        strategy: ctx.strategy,
        request_id: request.id,
        app: request.app,
        intended_start: sent,
        actual_start: sent,
        prompt_tokens: request.prompt_tokens,
        stream: request.stream,
        ..RequestRecord::default()
    };
    let outcome = match goose.response {
        Err(_) => TryOutcome {
            report: GatewayReport::default(),
            ended: ctx.clock.now(),
            first_token: None,
            result: TryResult::Failure(ClientAnswer::failure(Observation::new(
                Status::ConnectError,
            ))),
        },
        Ok(mut response) => {
            let status = response.status().as_u16();
            let report = GatewayReport::from_headers(response.headers());
            if status == 429 {
                user.set_success(&mut goose.request)?;
            }
            let mut watch = BodyWatch::new(request.stream);
            let mut first_token = None;
            let mut cut = false;
            loop {
                match response.chunk().await {
                    Ok(Some(bytes)) => {
                        if watch.feed(&bytes) && first_token.is_none() {
                            first_token = Some(ctx.clock.now());
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        cut = true;
                        break;
                    }
                }
            }
            let ended = ctx.clock.now();
            let (usage, events) = watch.finish();
            let result = if (200..300).contains(&status) {
                TryResult::Success {
                    status,
                    completion_tokens: usage.map_or(events, |u| u.completion_tokens),
                    cut,
                    timed_out: false,
                    spilled_from: false,
                    served_deployment: None,
                }
            } else {
                TryResult::Failure(ClientAnswer::Failure {
                    observation: Observation::new(Status::Http(status)),
                    exhausted: report.exhausted,
                })
            };
            TryOutcome {
                report,
                ended,
                first_token: first_token.filter(|_| request.stream),
                result,
            }
        }
    };
    record_try(ctx, &mut record, sent, &outcome);
    // One try, no retries (a closed model's user moves on): the try's answer ends the request.
    let (status, class) = outcome.answer().failure_class();
    let wall = |scenario: Duration| ctx.clock.wall_span(scenario);
    let e2e = wall(outcome.ended.saturating_sub(sent));
    match outcome.result {
        TryResult::Success {
            completion_tokens,
            cut,
            ..
        } => {
            if let Some(first) = outcome.first_token {
                let ttft = wall(first.saturating_sub(sent));
                user.record_custom_request_duration(
                    "SSE",
                    "TTFT chat",
                    ttft,
                    true,
                    Some(status),
                    None,
                )
                .await?;
            }
            user.record_custom_request_duration("SSE", "E2E chat", e2e, !cut, Some(status), None)
                .await?;
            record.first_token = outcome.first_token;
            record.completion_tokens = completion_tokens;
            finish(ctx, record, outcome.ended, status, class);
        }
        TryResult::Failure(_) => {
            if status == 429 {
                user.record_custom_request_duration(
                    "POST",
                    "THROTTLED chat",
                    e2e,
                    true,
                    Some(429),
                    None,
                )
                .await?;
            }
            finish(ctx, record, outcome.ended, status, class);
        }
    }
    Ok(())
}
