//! One client request through the gateway: answer what no backend serves, read the body under
//! the gateway's limits (both without touching the strategy: a client-side fault never reaches
//! a breaker), pick an instance, and run the strategy's driver loop (`begin` → `next` →
//! forward → `on_response` → relay → `on_complete`) exactly as the simulator does, answering
//! exhaustion itself, and showing the client what the strategy's balancer shows
//! ([`client_view`]: renamed retry headers, buffered streams). Every response carries the
//! throttlebox headers (`x-throttlebox-backend`, `-attempts`, `-retries`, `-trail`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use aoai_mock::http::limits::read_body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Request, Response};

use super::answers;
use super::client_view;
use super::forward::{Failure, Forwarded, forward};
use super::hop_by_hop;
use super::relay::{CompletionHook, Relay};
use super::request_info::request_info;
use super::{GatewayBody, GatewayShared};
use crate::balance::{Attempt, BackendId, Completion, Observation, Status, Step, Verdict};
use crate::live::trail::{self, AttemptStatus, TrailEntry};

/// Longest time spent draining a dropped response so its connection can be reused.
const DRAIN_DROPPED: Duration = Duration::from_secs(2);

/// Serve one request.
pub(crate) async fn handle(
    shared: Arc<GatewayShared>,
    request: Request<Incoming>,
) -> Result<Response<GatewayBody>, Infallible> {
    let received = shared.clock.now();
    let (parts, incoming) = request.into_parts();
    if let Some(answer) = answers::unserved(&parts) {
        return Ok(answer);
    }
    // The body stays in the budget until the request is answered (retries resend it).
    let (body, _held) = match read_body(
        &parts.headers,
        incoming,
        shared.max_body_bytes,
        &shared.budget,
        shared.limits.body_timeout,
    )
    .await
    {
        Ok(read) => read,
        Err(refusal) => return Ok(answers::body_refused(&refusal)),
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
        let mut unsettled = Unsettled {
            shared: &shared,
            instance,
            backend,
            sent,
            armed: true,
        };
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
            Forwarded::Failed(Failure::Timeout) => {
                (AttemptStatus::Timeout, Observation::new(Status::Timeout))
            }
            // What a balancer sees of a refused or reset connection: a connect failure.
            Forwarded::Failed(Failure::Refused | Failure::Reset) => (
                AttemptStatus::Connect,
                Observation::new(Status::ConnectError),
            ),
            // Nothing was sent: nothing to observe; the attempt is settled as it is dropped.
            Forwarded::Failed(Failure::Local) => {
                drop(unsettled);
                let name = &shared.backends[pool].name;
                let mut response = answers::upstream_failure(Failure::Local, name);
                report(response.headers_mut(), &attempt, &trail, None);
                return Ok(response);
            }
        };
        unsettled.armed = false;
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
            let completion = Completion::without_body(now.saturating_sub(sent));
            shared.instances.with(instance, |strategy, _| {
                strategy.on_complete(now, backend, &completion)
            });
        } else {
            entry.end = None;
        }
        trail.push(entry);
        let (renames_retry_headers, buffers_streams) =
            shared.instances.with(instance, |strategy, _| {
                (strategy.renames_retry_headers(), strategy.buffers_streams())
            });
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
                let (mut parts, incoming) = answer.into_parts();
                if renames_retry_headers {
                    client_view::rename_retry_headers(&mut parts.headers);
                }
                Response::from_parts(parts, incoming.boxed())
            }
        };
        if returned_ok && buffers_streams {
            response = client_view::buffered(response).await;
        }
        hop_by_hop::strip_response(response.headers_mut());
        report(response.headers_mut(), &attempt, &trail, Some(name));
        return Ok(response);
    }
}

/// An attempt sent and not yet observed. Dropped before its answer is observed — the client
/// went away and hyper dropped the request, or nothing could be sent — it settles the attempt
/// (`on_complete`, as the relay does for a body cut short) so the backend's count of requests
/// in flight comes back down; the breaker sees nothing.
struct Unsettled<'a> {
    shared: &'a Arc<GatewayShared>,
    instance: usize,
    backend: BackendId,
    sent: Duration,
    /// Still unobserved.
    armed: bool,
}

impl Drop for Unsettled<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let now = self.shared.clock.now();
        let completion = Completion::without_body(now.saturating_sub(self.sent));
        self.shared.instances.with(self.instance, |strategy, _| {
            strategy.on_complete(now, self.backend, &completion)
        });
    }
}

/// Read a response the gateway will not return to the end (bounded), off the request's path.
fn drain(response: Response<Incoming>) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(DRAIN_DROPPED, response.into_body().collect()).await;
    });
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
