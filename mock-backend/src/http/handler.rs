//! One HTTP request, start to end: route, auth, body limits and parsing, tokenizing, asking the
//! model (one short lock), and rendering its answer.

use super::admin;
use super::answer;
use super::auth;
use super::body::MockBody;
use super::decide;
use super::errors::{self, ThrottleContext};
use super::ids;
use super::parse::{self, BodyError};
use super::respond::{self, Cut, Identity};
use super::router::{self, Route};
use super::state::{Listener, Shared, ShellCounters};
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
    let decided = decide::decide(&shared, target, &shape, operation);
    let wanted = answer::Wanted {
        operation,
        api_version: &api_version,
        include_usage: parsed.include_usage,
        dimensions: parsed.dimensions,
        inputs: parsed.inputs(),
        client_request_id: request.headers().get("x-ms-client-request-id").cloned(),
    };
    answer::render(shared.clone(), index, decided, wanted).await
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
