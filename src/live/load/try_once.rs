//! One HTTP try of one logical request: send, wait for the headers, read the body frame by
//! frame (timing the first content event of a stream), all within the request's client
//! deadline. What the try saw is returned (and, as [`TryOutcome::answer`], what the client
//! state machine is told); nothing is recorded or decided here.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, Response};

use super::EngineContext;
use crate::balance::{Observation, Status};
use crate::client::ClientAnswer;
use crate::live::sse::BodyWatch;
use crate::live::trail::{AttemptStatus, GatewayReport};
use crate::workload::Request;

/// How a try ended.
#[derive(Debug)]
pub(crate) enum TryResult {
    /// A 2xx whose body was read (to the end unless `cut`: the connection failed, or the
    /// client deadline passed when `timed_out`).
    Success {
        status: u16,
        completion_tokens: u32,
        cut: bool,
        timed_out: bool,
        spilled_from: bool,
        served_deployment: Option<String>,
    },
    /// Anything else, as the client state machine takes it.
    Failure(ClientAnswer),
}

/// What one try saw.
#[derive(Debug)]
pub(crate) struct TryOutcome {
    pub report: GatewayReport,
    pub ended: Duration,
    pub first_token: Option<Duration>,
    pub result: TryResult,
}

impl TryOutcome {
    /// What the client state machine is told about this try.
    pub fn answer(&self) -> ClientAnswer {
        match &self.result {
            TryResult::Success {
                status, cut: false, ..
            } => ClientAnswer::Success { status: *status },
            TryResult::Success {
                status, timed_out, ..
            } => ClientAnswer::Cut {
                status: *status,
                timed_out: *timed_out,
            },
            TryResult::Failure(answer) => *answer,
        }
    }
}

/// A try that got no HTTP answer (`status`: a connection failure or a timeout).
fn no_answer(status: Status) -> TryResult {
    TryResult::Failure(ClientAnswer::failure(Observation::new(status)))
}

/// Send try `retry` of `request` and read its answer before scenario time `deadline`.
pub(crate) async fn try_once(
    ctx: &EngineContext,
    request: &Request,
    url: &str,
    body: bytes::Bytes,
    retry: u32,
    deadline: Duration,
) -> TryOutcome {
    let Some(http) = super::wire::http_request(url, &ctx.api_key, request, body, retry) else {
        return TryOutcome {
            report: GatewayReport::default(),
            ended: ctx.clock.now(),
            first_token: None,
            result: TryResult::Failure(ClientAnswer::Unsendable),
        };
    };
    let answer = ctx.clock.deadline(deadline, ctx.http.request(http)).await;
    let response = match answer {
        Ok(Ok(response)) => response,
        Ok(Err(_)) => {
            return TryOutcome {
                report: GatewayReport::default(),
                ended: ctx.clock.now(),
                first_token: None,
                result: no_answer(Status::ConnectError),
            };
        }
        Err(_) => {
            return TryOutcome {
                report: GatewayReport::default(),
                ended: ctx.clock.now(),
                first_token: None,
                result: no_answer(Status::Timeout),
            };
        }
    };
    let status = response.status().as_u16();
    let report = GatewayReport::from_headers(response.headers());
    if (200..300).contains(&status) {
        read_success(ctx, request, response, report, deadline).await
    } else {
        let answer = ClientAnswer::Failure {
            observation: observation(status, &report, response.headers()),
            exhausted: report.exhausted,
        };
        // Read the (small) error body so the connection goes back to the pool.
        let _ = ctx
            .clock
            .deadline(deadline, response.into_body().collect())
            .await;
        TryOutcome {
            report,
            ended: ctx.clock.now(),
            first_token: None,
            result: TryResult::Failure(answer),
        }
    }
}

fn observation(status: u16, report: &GatewayReport, headers: &HeaderMap) -> Observation {
    match report.upstream_error {
        Some(AttemptStatus::Timeout) => Observation::new(Status::Timeout),
        Some(_) => Observation::new(Status::ConnectError),
        None => Observation::from_headers(Status::Http(status), |name| {
            headers.get(name).and_then(|value| value.to_str().ok())
        }),
    }
}

async fn read_success(
    ctx: &EngineContext,
    request: &Request,
    response: Response<Incoming>,
    report: GatewayReport,
    deadline: Duration,
) -> TryOutcome {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    let spilled_from = header("x-ms-spillover-from-deployment").is_some();
    let served_deployment = header("x-ms-deployment-name").map(str::to_string);
    let mut body = response.into_body();
    let mut watch = BodyWatch::new(request.stream);
    let mut first_token = None;
    let mut cut = false;
    let mut timed_out = false;
    loop {
        match ctx.clock.deadline(deadline, body.frame()).await {
            Ok(None) => break,
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && watch.feed(data)
                    && first_token.is_none()
                {
                    first_token = Some(ctx.clock.now());
                }
            }
            Ok(Some(Err(_))) => {
                cut = true;
                break;
            }
            Err(_) => {
                (cut, timed_out) = (true, true);
                break;
            }
        }
    }
    let ended = ctx.clock.now();
    let (usage, content_events) = watch.finish();
    let completion_tokens = usage.map_or(content_events, |usage| usage.completion_tokens);
    TryOutcome {
        report,
        ended,
        first_token: first_token.filter(|_| request.stream),
        result: TryResult::Success {
            status,
            completion_tokens,
            cut,
            timed_out,
            spilled_from,
            served_deployment,
        },
    }
}
