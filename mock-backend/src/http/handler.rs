//! One HTTP request, start to end: route, auth, body limits and parsing, tokenizing, asking the
//! model (one short lock), and rendering its answer.

use super::admin;
use super::auth;
use super::bodies;
use super::body::MockBody;
use super::errors::{self, ThrottleContext};
use super::ids;
use super::parse::{self, BodyError, ParsedRequest};
use super::respond::{self, Cut, Identity, StreamJob};
use super::router::{self, Route};
use super::state::{Listener, Settlement, Shared, ShellCounters};
use crate::config::ClientRequestIdFallback;
use crate::model::{Operation, Outcome};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Request, Response};
use std::sync::Arc;

/// Serve one request on listener `index`.
pub async fn handle(
    shared: Arc<Shared>,
    index: usize,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, Cut> {
    let listener = &shared.listeners[index];
    let path = request.uri().path().to_string();
    match router::route(request.method(), &path) {
        Route::Metrics => Ok(admin::metrics(&shared)),
        Route::AdminConfig => Ok(admin::config(&shared, listener, request).await),
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
        Route::Inference {
            deployment,
            operation,
        } => {
            let deployment = deployment.map(str::to_string);
            inference(shared.clone(), index, request, deployment, operation).await
        }
    }
}

/// Identity of a response the model did not decide (fresh ids, `Not-Set` fallback).
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
        client_id_not_set: true,
        model_session: listener.model_session.clone(),
    }
}

fn refusal(
    shared: &Shared,
    listener: &Listener,
    headers: &HeaderMap,
    status: u16,
    body: impl Into<Bytes>,
) -> Response<MockBody> {
    respond::json(status, body, &identity(shared, listener, headers))
}

fn header_u32(request: &Request<Incoming>, name: &str) -> Result<Option<u32>, String> {
    match request.headers().get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map(Some)
            .ok_or_else(|| format!("header {name} must be a non-negative integer")),
    }
}

async fn inference(
    shared: Arc<Shared>,
    index: usize,
    request: Request<Incoming>,
    path_deployment: Option<String>,
    operation: Operation,
) -> Result<Response<MockBody>, Cut> {
    let listener = &shared.listeners[index];
    let counters = &listener.counters;
    if let Some(body) = auth::check(request.headers(), &listener.api_keys) {
        ShellCounters::bump(&counters.unauthorized);
        return Ok(refusal(&shared, listener, request.headers(), 401, body));
    }
    let api_version = router::api_version(request.uri().query()).map(str::to_string);
    let api_version = match (&path_deployment, api_version) {
        (Some(_), None) => {
            ShellCounters::bump(&counters.unknown_paths);
            return Ok(refusal(
                &shared,
                listener,
                request.headers(),
                404,
                errors::RESOURCE_NOT_FOUND,
            ));
        }
        (_, Some(version)) => version,
        (None, None) => "v1".to_string(),
    };
    if let Some(name) = &path_deployment {
        let known = shared
            .core()
            .fleet
            .deployment_index(listener.resource, name)
            .is_some();
        if !known {
            return Ok(unknown(
                &shared,
                listener,
                request.headers(),
                name,
                operation,
                &api_version,
            ));
        }
    }
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > shared.max_body_bytes) {
        ShellCounters::bump(&counters.too_large);
        return Ok(refusal(
            &shared,
            listener,
            request.headers(),
            413,
            errors::too_large(shared.max_body_bytes),
        ));
    }
    let forced = header_u32(&request, "x-mock-completion-tokens");
    let retry_count = header_u32(&request, "x-stainless-retry-count")
        .ok()
        .flatten()
        .unwrap_or(0);
    let spillover_header = request
        .headers()
        .get("x-ms-spillover-deployment")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, incoming) = request.into_parts();
    let request = Request::from_parts(parts, ());
    let bytes = match Limited::new(incoming, shared.max_body_bytes as usize)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            ShellCounters::bump(&counters.too_large);
            return Ok(refusal(
                &shared,
                listener,
                request.headers(),
                413,
                errors::too_large(shared.max_body_bytes),
            ));
        }
        Err(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "request body cut short",
            ));
        }
    };
    let forced = match forced {
        Ok(forced) => forced,
        Err(message) => {
            ShellCounters::bump(&counters.bad_bodies);
            return Ok(refusal(
                &shared,
                listener,
                request.headers(),
                400,
                errors::invalid_value(&message, None),
            ));
        }
    };
    let parsed = match parse::parse(operation, &bytes) {
        Ok(parsed) => parsed,
        Err(error) => {
            ShellCounters::bump(&counters.bad_bodies);
            let body = match error {
                BodyError::Malformed => errors::malformed_json(),
                BodyError::Missing(name) => errors::missing_property(name),
                BodyError::Invalid(detail) => errors::invalid_value(&detail, None),
            };
            return Ok(refusal(&shared, listener, request.headers(), 400, body));
        }
    };
    let deployment = match path_deployment.or_else(|| parsed.model.clone()) {
        Some(name) => name,
        None => {
            ShellCounters::bump(&counters.bad_bodies);
            return Ok(refusal(
                &shared,
                listener,
                request.headers(),
                400,
                errors::missing_property("model"),
            ));
        }
    };
    let lookup = {
        let core = shared.core();
        core.fleet
            .deployment_index(listener.resource, &deployment)
            .map(|id| {
                let view = core.fleet.deployment(id);
                (id, view.encoding, view.switches.include_usage_strict)
            })
    };
    let Some((target, encoding, strict_usage)) = lookup else {
        return Ok(unknown(
            &shared,
            listener,
            request.headers(),
            &deployment,
            operation,
            &api_version,
        ));
    };
    if strict_usage
        && parsed.include_usage
        && api_version.as_str() < "2024-09-01-preview"
        && api_version != "v1"
    {
        ShellCounters::bump(&counters.bad_bodies);
        let body = errors::model(
            "stream_options is not supported by this api-version",
            Some("stream_options"),
            None,
        );
        return Ok(refusal(&shared, listener, request.headers(), 400, body));
    }
    let mut shape = parsed.shape(encoding, spillover_header.as_deref());
    shape.forced_completion_tokens = forced;
    shape.client_retry_count = retry_count;
    admitted_or_refused(
        shared.clone(),
        index,
        &request,
        target,
        shape,
        &parsed,
        operation,
        &api_version,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn admitted_or_refused(
    shared: Arc<Shared>,
    index: usize,
    request: &Request<()>,
    target: crate::model::DeploymentId,
    shape: crate::model::RequestShape<'_>,
    parsed: &ParsedRequest,
    operation: Operation,
    api_version: &str,
) -> Result<Response<MockBody>, Cut> {
    let listener = &shared.listeners[index];
    struct Decided {
        answer: crate::model::Answer,
        served: String,
        from: Option<String>,
        model_version: String,
        wording: crate::config::RateLimitMessage,
        client_id_fallback: ClientRequestIdFallback,
        spillover_headers: bool,
        apim: String,
        request_id: String,
        completion_id: String,
        words_start: usize,
        admitted_at: std::time::Duration,
    }
    let decided = {
        let mut core = shared.core();
        let now = shared.clock.now();
        let answer = core.fleet.admit_to(now, target, &shape);
        let served_id = answer.deployment.unwrap_or(target);
        let view = core.fleet.deployment(served_id);
        let (served, model_version, switches) = (
            view.name.to_string(),
            view.model_version.to_string(),
            (
                view.switches.rate_limit_message,
                view.switches.client_request_id_fallback,
                view.switches.spillover_headers,
            ),
        );
        let from = answer
            .spillover
            .map(|s| core.fleet.deployment(s.from).name.to_string());
        let prefix = if operation == Operation::Completions {
            "cmpl-"
        } else {
            "chatcmpl-"
        };
        Decided {
            answer,
            served,
            from,
            model_version,
            wording: switches.0,
            client_id_fallback: switches.1,
            spillover_headers: switches.2,
            apim: ids::uuid(&mut core.ids),
            request_id: ids::uuid(&mut core.ids),
            completion_id: ids::alnum_id(&mut core.ids, prefix, 29),
            words_start: ids::word_start(&mut core.ids),
            admitted_at: now,
        }
    };
    let id = Identity {
        apim_request_id: decided.apim,
        request_id: decided.request_id,
        region: listener.region.clone(),
        client_request_id: request.headers().get("x-ms-client-request-id").cloned(),
        client_id_not_set: decided.client_id_fallback == ClientRequestIdFallback::NotSet,
        model_session: listener.model_session.clone(),
    };
    let answer = decided.answer;
    let spill_headers = |headers: &mut hyper::HeaderMap| {
        if let (Some(spill), Some(from), true) =
            (answer.spillover, &decided.from, decided.spillover_headers)
        {
            if let Ok(value) = HeaderValue::from_str(from) {
                headers.insert("x-ms-spillover-from-deployment", value);
            }
            headers.insert("x-ms-spillover-error", HeaderValue::from(spill.status));
        }
    };
    let plan = match answer.outcome {
        Outcome::Rejected(rejection) => {
            let context = ThrottleContext {
                operation,
                api_version,
                model: &decided.model_version,
                region: listener.region.to_str().unwrap_or(""),
                wording: decided.wording,
            };
            let mut response = respond::json(
                answer.status,
                errors::rejection(&rejection, &decided.served, &context),
                &id,
            );
            respond::rate_headers(&answer.headers, response.headers_mut());
            spill_headers(response.headers_mut());
            return Ok(response);
        }
        Outcome::Admitted(plan) => plan,
    };
    let settlement = Settlement::new(shared.clone(), plan.ticket);
    let job = StreamJob {
        shared: shared.clone(),
        admitted_at: decided.admitted_at,
        plan,
        id: decided.completion_id,
        model: decided.model_version,
        fingerprint: format!(
            "fp_{:010x}",
            ids::stable_tag(&decided.served) & 0xff_ffff_ffff
        ),
        created: shared.clock.unix_seconds(),
        words_start: decided.words_start,
        include_usage: parsed.include_usage,
        operation,
    };
    respond::wait_or_disrupt(&shared, job.admitted_at, &plan, plan.headers_at).await?;
    let (body, content_type) = if plan.stream {
        (respond::stream(job, settlement), "text/event-stream")
    } else {
        let text = if operation == Operation::Embeddings {
            let dimensions = parsed
                .dimensions
                .unwrap_or_else(|| bodies::default_dimensions(&job.model));
            bodies::embeddings_body(
                &job.model,
                parsed.inputs(),
                dimensions,
                plan.prompt_tokens,
                ids::stable_tag(&job.id),
            )
        } else {
            respond::completion_body(&job)
        };
        settlement.completed(plan.completion_tokens);
        (MockBody::full(text), "application/json")
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    respond::identity_headers(&id, headers);
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if plan.stream {
        headers.insert(
            hyper::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
    }
    respond::success_headers(&decided.served, &plan, headers);
    respond::rate_headers(&answer.headers, headers);
    spill_headers(headers);
    Ok(response)
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
            &id,
        ),
        Outcome::Admitted(_) => respond::json(404, errors::RESOURCE_NOT_FOUND, &id),
    }
}
