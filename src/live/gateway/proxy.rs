//! One client request through the gateway: buffer the (small) body, pick an instance, and run
//! the strategy's driver loop (`begin` → `next` → forward → `on_response` → relay →
//! `on_complete`) exactly as the simulator does, answering exhaustion itself. Every response
//! carries the throttlebox headers (`x-throttlebox-backend`, `-attempts`, `-retries`, `-trail`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Request, Response};

use super::answers;
use super::forward::{Forwarded, forward, is_hop_by_hop};
use super::relay::{CompletionHook, Relay};
use super::request_info::request_info;
use super::{GatewayBody, GatewayShared};
use crate::balance::{Attempt, Completion, Observation, Status, Step, Verdict};
use crate::live::trail::{self, AttemptStatus, TrailEntry};

/// Largest request body the gateway buffers.
const MAX_REQUEST_BODY: usize = 16 << 20;

/// Longest time spent draining a dropped response so its connection can be reused.
const DRAIN_DROPPED: Duration = Duration::from_secs(2);

/// Serve one request.
pub(crate) async fn handle(
    shared: Arc<GatewayShared>,
    request: Request<Incoming>,
) -> Result<Response<GatewayBody>, Infallible> {
    let received = shared.clock.now();
    let (parts, incoming) = request.into_parts();
    let body = match Limited::new(incoming, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(answers::json_error(
                400,
                "InvalidRequest",
                "request body unreadable or larger than 16 MiB",
            ));
        }
    };
    let info = request_info(&parts.headers, &body);
    let instance = shared.instances.pick();
    let mut attempt = shared
        .instances
        .with(instance, |strategy, _| strategy.begin(received, &info));
    let mut trail: Vec<TrailEntry> = Vec::new();
    loop {
        let now = shared.clock.now();
        let step = shared.instances.with(instance, |strategy, rng| {
            strategy.next(now, &mut attempt, rng)
        });
        let backend = match step {
            Step::WaitUntil(at) => {
                shared.clock.sleep_until(at).await;
                continue;
            }
            Step::Respond(answer) => {
                let mut response = answers::exhausted(&answer);
                report(response.headers_mut(), &attempt, &trail, None);
                return Ok(response);
            }
            Step::Send(backend) => backend,
        };
        let pool = shared.to_pool[backend];
        let sent = shared.clock.now();
        let forwarded = forward(&shared, pool, &parts, body.clone()).await;
        let now = shared.clock.now();
        let (status, observation) = match &forwarded {
            Forwarded::Answer(response) => {
                let status = response.status().as_u16();
                let headers = response.headers();
                let observation = Observation::from_headers(Status::Http(status), |name| {
                    headers.get(name).and_then(|value| value.to_str().ok())
                });
                (AttemptStatus::Http(status), observation)
            }
            Forwarded::Failed(AttemptStatus::Timeout) => {
                (AttemptStatus::Timeout, Observation::new(Status::Timeout))
            }
            Forwarded::Failed(_) => (
                AttemptStatus::Connect,
                Observation::new(Status::ConnectError),
            ),
        };
        let verdict = shared.instances.with(instance, |strategy, rng| {
            strategy.on_response(now, &mut attempt, backend, &observation, rng)
        });
        let name = &shared.backends[pool].name;
        let mut entry = TrailEntry {
            backend: name.clone(),
            status,
            start: sent.saturating_sub(received),
            end: Some(now.saturating_sub(received)),
        };
        if verdict == Verdict::Retry {
            trail.push(entry);
            if let Forwarded::Answer(dropped) = forwarded {
                drain(dropped);
            }
            continue;
        }
        let returned_ok = matches!(status, AttemptStatus::Http(200..=299));
        if !returned_ok {
            // The simulator's view: a response that is not a success completes at its headers.
            let completion = Completion {
                latency: now.saturating_sub(sent),
                ttft: None,
                prompt_tokens: 0,
                completion_tokens: 0,
                stream: false,
            };
            shared.instances.with(instance, |strategy, _| {
                strategy.on_complete(now, backend, &completion)
            });
        } else {
            entry.end = None;
        }
        trail.push(entry);
        let mut response = match forwarded {
            Forwarded::Failed(failure) => answers::upstream_failure(failure, name),
            Forwarded::Answer(answer) if returned_ok => {
                let hook = CompletionHook {
                    shared: shared.clone(),
                    instance,
                    backend,
                    started: sent,
                    stream: info.stream,
                    prompt_estimate: info.est_tokens,
                };
                let (parts, incoming) = answer.into_parts();
                Response::from_parts(parts, Relay::new(incoming, hook).boxed())
            }
            Forwarded::Answer(answer) => {
                let (parts, incoming) = answer.into_parts();
                Response::from_parts(parts, incoming.boxed())
            }
        };
        strip_hop_by_hop(response.headers_mut());
        report(response.headers_mut(), &attempt, &trail, Some(name));
        return Ok(response);
    }
}

/// Read a response the gateway will not return to the end (bounded), off the request's path.
fn drain(response: Response<Incoming>) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_DROPPED, response.into_body().collect()).await;
    });
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let names: Vec<_> = headers
        .keys()
        .filter(|name| is_hop_by_hop(name) && *name != hyper::header::CONTENT_LENGTH)
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}

/// Add the throttlebox headers.
fn report(headers: &mut HeaderMap, attempt: &Attempt, trail: &[TrailEntry], backend: Option<&str>) {
    if let Some(value) = backend.and_then(|name| HeaderValue::from_str(name).ok()) {
        headers.insert(trail::BACKEND, value);
    }
    headers.insert(trail::ATTEMPTS, HeaderValue::from(attempt.sends()));
    headers.insert(trail::RETRIES, HeaderValue::from(attempt.retries()));
    if let Ok(value) = HeaderValue::from_str(&trail::encode(trail)) {
        headers.insert(trail::TRAIL, value);
    }
}
