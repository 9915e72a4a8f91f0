//! One HTTP request on the data path, start to end: route, auth, body limits and parsing,
//! tokenizing, asking the model (one short lock), and rendering its answer.

use super::answer;
use super::arguments;
use super::auth;
use super::decide;
use super::errors::{self, ThrottleContext};
use super::ids;
use super::limits::{self, BodyRefusal};
use super::mock_body::MockBody;
use super::models_list;
use super::parse::{self, BodyError, Measured, ParsedRequest};
use super::respond::{self, Identity};
use super::router::{self, Route};
use super::state::{Listener, Shared, ShellCounters};
use super::stream::Cut;
use crate::model::{DeploymentId, Operation, Outcome};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Request, Response};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// Serve one request on listener `index`.
pub async fn handle(
    shared: Arc<Shared>,
    index: usize,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, Cut> {
    let listener = &shared.listeners[index];
    match router::route(request.method(), request.uri().path()) {
        Route::NotFound => {
            ShellCounters::bump(&listener.counters.unknown_paths);
            Ok(refusal(
                &shared,
                listener,
                request.headers(),
                404,
                errors::RESOURCE_NOT_FOUND,
            ))
        }
        Route::MethodNotAllowed(allow) => {
            ShellCounters::bump(&listener.counters.wrong_methods);
            let mut response = refusal(
                &shared,
                listener,
                request.headers(),
                405,
                errors::METHOD_NOT_ALLOWED,
            );
            response
                .headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
            Ok(response)
        }
        Route::Models => Ok(models(&shared, listener, request.headers())),
        Route::Inference {
            deployment,
            operation,
        } => {
            let deployment = deployment.map(str::to_string);
            inference(shared.clone(), index, request, deployment, operation).await
        }
    }
}

/// `GET /openai/v1/models` on `listener`: its resource's deployments, behind the same auth.
fn models(shared: &Shared, listener: &Listener, headers: &HeaderMap) -> Response<MockBody> {
    if let Some(body) = auth::check(headers, &listener.api_keys) {
        ShellCounters::bump(&listener.counters.unauthorized);
        return refusal(shared, listener, headers, 401, body);
    }
    let body = {
        let core = shared.core();
        core.fleet
            .config()
            .resources
            .iter()
            .find(|resource| resource.name == listener.name)
            .map(models_list::body)
            .unwrap_or_default()
    };
    respond::json(200, body, identity(shared, listener, headers))
}

/// Identity of a response no deployment decided (fresh ids, the fleet-wide client-id fallback).
fn identity(shared: &Shared, listener: &Listener, headers: &HeaderMap) -> Identity {
    let (apim_request_id, request_id) = {
        let mut core = shared.core();
        (ids::uuid(&mut core.ids), ids::uuid(&mut core.ids))
    };
    Identity {
        apim_request_id,
        request_id,
        region: listener.region.clone(),
        client_request_id: headers.get("x-ms-client-request-id").cloned(),
        client_id_not_set: shared.client_id_not_set,
        model_session: listener.model_session.clone(),
    }
}

/// A refusal decided by the shell. Every one but a 400 is decided before the request body is
/// read (a 400 judges the body), so when the request has one the answer closes the connection
/// ([`limits::close_after`]); the 404 for an unknown `/openai/v1` model closes needlessly.
fn refusal(
    shared: &Shared,
    listener: &Listener,
    headers: &HeaderMap,
    status: u16,
    body: impl Into<Bytes>,
) -> Response<MockBody> {
    let mut response = respond::json(status, body, identity(shared, listener, headers));
    if status != 400 && limits::has_body(headers) {
        limits::close_after(response.headers_mut());
    }
    response
}

fn header_u32(headers: &HeaderMap, name: &str) -> Result<Option<u32>, String> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map(Some)
            .ok_or_else(|| format!("header {name} must be a non-negative integer")),
    }
}

/// Why a request stops before the model decides it.
enum Early {
    /// Refused by the shell: status, body, and which counter to bump.
    Refused(u16, String, fn(&ShellCounters) -> &AtomicU64),
    /// The model's 404 for this deployment name.
    UnknownDeployment(String),
    /// The body was not read to the end (too large, no budget, too slow, broken, cut).
    Body(BodyRefusal),
}

fn bad_body(body: String) -> Early {
    Early::Refused(400, body, |c| &c.bad_bodies)
}

/// A deployment found by name, with what the shell needs before asking the model.
struct Found {
    target: DeploymentId,
    encoding: crate::model::Encoding,
    strict_usage: bool,
    strict_arguments: bool,
}

fn lookup(shared: &Shared, listener: &Listener, name: &str) -> Option<Found> {
    let core = shared.core();
    let target = core.fleet.deployment_index(listener.resource, name)?;
    let view = core.fleet.deployment(target);
    Some(Found {
        target,
        encoding: view.encoding,
        strict_usage: view.switches.include_usage_strict,
        strict_arguments: view.switches.strict_arguments,
    })
}

/// A request that passed the shell's checks.
struct Ready {
    target: DeploymentId,
    parsed: ParsedRequest,
    encoding: crate::model::Encoding,
    forced: Option<u32>,
    retry_count: u32,
    /// When the body had been read: the origin of the plan's times.
    received_at: std::time::Duration,
    /// The body's bytes stay in the budget until its prompt is counted (a large one may wait
    /// its turn to be tokenized: the budget bounds how many wait).
    held: limits::Reservation,
}

async fn inference(
    shared: Arc<Shared>,
    index: usize,
    request: Request<Incoming>,
    path_deployment: Option<String>,
    operation: Operation,
) -> Result<Response<MockBody>, Cut> {
    let listener = &shared.listeners[index];
    let (parts, incoming) = request.into_parts();
    let headers = &parts.headers;
    let api_version = match (&path_deployment, router::api_version(parts.uri.query())) {
        (_, Some(version)) => version.to_string(),
        (Some(_), None) => String::new(),
        (None, None) => "v1".to_string(),
    };
    let ready = prepare(
        &shared,
        listener,
        headers,
        incoming,
        path_deployment,
        operation,
        &api_version,
    )
    .await;
    let ready = match ready {
        Ok(ready) => ready,
        Err(Early::Refused(status, body, counter)) => {
            ShellCounters::bump(counter(&listener.counters));
            return Ok(refusal(&shared, listener, headers, status, body));
        }
        Err(Early::UnknownDeployment(name)) => {
            let mut response = unknown(&shared, listener, headers, &name, operation, &api_version);
            // A deployment named in the path is looked up before the body is read.
            if limits::has_body(headers) {
                limits::close_after(response.headers_mut());
            }
            return Ok(response);
        }
        Err(Early::Body(cause)) => {
            let Some((status, body, retry_after)) = limits::refusal_answer(&cause) else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "request body cut short",
                ));
            };
            let counters = &listener.counters;
            ShellCounters::bump(match cause {
                BodyRefusal::TooLarge { .. } => &counters.too_large,
                BodyRefusal::OverBudget => &counters.over_budget,
                BodyRefusal::TimedOut(_) => &counters.timed_out,
                _ => &counters.bad_bodies,
            });
            let mut response = refusal(&shared, listener, headers, status, body);
            // Whatever the status, the body was not read to the end.
            limits::close_after(response.headers_mut());
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(hyper::header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            return Ok(response);
        }
    };
    let spillover_header = headers
        .get("x-ms-spillover-deployment")
        .and_then(|v| v.to_str().ok());
    let (parsed, measured) = measure(&shared, ready.parsed, ready.encoding).await?;
    drop(ready.held);
    let mut shape = parsed.shape(measured, spillover_header);
    shape.forced_completion_tokens = ready.forced;
    shape.client_retry_count = ready.retry_count;
    let decided = decide::decide(&shared, ready.received_at, ready.target, &shape, operation);
    let wanted = answer::Wanted {
        operation,
        api_version: &api_version,
        include_usage: parsed.include_usage,
        dimensions: parsed.dimensions,
        inputs: parsed.inputs(),
        embedding_encoding: parsed.embedding_encoding,
        client_request_id: headers.get("x-ms-client-request-id").cloned(),
    };
    answer::render(shared.clone(), index, decided, wanted).await
}

/// Count `parsed`'s prompt: a small one here; a large one on the blocking pool, one at a time,
/// so a client's megabytes of prompt (seconds of BPE) never stall the threads every other
/// request runs on, nor take more than one core.
async fn measure(
    shared: &Shared,
    parsed: ParsedRequest,
    encoding: crate::model::Encoding,
) -> Result<(ParsedRequest, Measured), Cut> {
    if parsed.text_bytes() <= limits::LARGE_PROMPT_BYTES {
        let measured = parsed.measure(encoding);
        return Ok((parsed, measured));
    }
    let _turn = shared
        .tokenizing
        .acquire()
        .await
        .map_err(std::io::Error::other)?;
    tokio::task::spawn_blocking(move || {
        let measured = parsed.measure(encoding);
        (parsed, measured)
    })
    .await
    .map_err(std::io::Error::other)
}

/// The shell's checks, in AOAI's order: auth, api-version, deployment (path), size, body,
/// deployment (v1 body `model`), arguments (when strict), api-version features.
async fn prepare(
    shared: &Shared,
    listener: &Listener,
    headers: &HeaderMap,
    incoming: Incoming,
    path_deployment: Option<String>,
    operation: Operation,
    api_version: &str,
) -> Result<Ready, Early> {
    if let Some(body) = auth::check(headers, &listener.api_keys) {
        return Err(Early::Refused(401, body.to_string(), |c| &c.unauthorized));
    }
    if api_version.is_empty() {
        return Err(Early::Refused(
            404,
            errors::RESOURCE_NOT_FOUND.to_string(),
            |c| &c.unknown_paths,
        ));
    }
    // Deployments named in the path are looked up before the body is read (AOAI's gateway 404s
    // first); on /openai/v1 the body's `model` names it.
    let found = match &path_deployment {
        Some(name) => Some(
            lookup(shared, listener, name).ok_or_else(|| Early::UnknownDeployment(name.clone()))?,
        ),
        None => None,
    };
    let (bytes, held) = limits::read_body(
        headers,
        incoming,
        shared.max_body_bytes,
        &shared.budget,
        shared.limits.body_timeout,
    )
    .await
    .map_err(Early::Body)?;
    let received_at = shared.clock.now();
    let forced = header_u32(headers, "x-mock-completion-tokens")
        .map_err(|message| bad_body(errors::invalid_value(&message, None)))?;
    let retry_count = header_u32(headers, "x-stainless-retry-count")
        .ok()
        .flatten()
        .unwrap_or(0);
    let parsed = parse::parse(operation, &bytes).map_err(|error| {
        bad_body(match error {
            BodyError::Malformed => errors::malformed_json(),
            BodyError::Missing(name) => errors::missing_property(name),
            BodyError::TooShort(name) => errors::too_short(name),
            BodyError::Invalid(detail) => errors::invalid_value(&detail, None),
        })
    })?;
    let Found {
        target,
        encoding,
        strict_usage,
        strict_arguments,
    } = match found {
        Some(found) => found,
        None => {
            let name = parsed
                .model
                .as_deref()
                .ok_or_else(|| bad_body(errors::missing_property("model")))?;
            lookup(shared, listener, name)
                .ok_or_else(|| Early::UnknownDeployment(name.to_string()))?
        }
    };
    if strict_arguments {
        let names = arguments::unrecognized(operation, api_version, &bytes);
        if !names.is_empty() {
            return Err(bad_body(arguments::refusal(&names)));
        }
    }
    if strict_usage
        && parsed.include_usage
        && api_version < "2024-09-01-preview"
        && api_version != "v1"
    {
        return Err(bad_body(errors::model(
            "stream_options is not supported by this api-version",
            Some("stream_options"),
            None,
        )));
    }
    Ok(Ready {
        target,
        parsed,
        encoding,
        forced,
        retry_count,
        received_at,
        held,
    })
}

/// The model's 404 for a deployment the resource does not have (counted by the model).
fn unknown(
    shared: &Shared,
    listener: &Listener,
    headers: &HeaderMap,
    name: &str,
    operation: Operation,
    api_version: &str,
) -> Response<MockBody> {
    let id = identity(shared, listener, headers);
    let now = shared.clock.now();
    let answer = shared.core().fleet.admit(
        now,
        listener.resource,
        name,
        &crate::model::RequestShape {
            operation,
            ..Default::default()
        },
    );
    let context = ThrottleContext {
        operation,
        api_version,
        model: "",
        region: "",
        wording: crate::config::RateLimitMessage::Classic,
    };
    match answer.outcome {
        Outcome::Rejected(rejection) => respond::json(
            answer.status,
            errors::rejection(&rejection, name, &context),
            id,
        ),
        Outcome::Admitted(_) => respond::json(404, errors::RESOURCE_NOT_FOUND, id),
    }
}
