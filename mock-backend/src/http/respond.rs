//! Building responses: the identity headers every AOAI response carries, the 2xx extras, rate
//! and spillover headers, and acting out an admitted plan in wall-clock time (sleep until the
//! planned offsets, reset or hang as the fault says; the SSE events themselves are in `stream`).

use super::mock_body::MockBody;
use super::payload::{self, Completion};
use super::state::Shared;
use super::stream::{Cut, StreamJob};
use crate::model::{Disruption, RateHeaders, ResponsePlan, ceil_millis};
use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Response, StatusCode};
use std::time::Duration;

/// The per-response identity: ids, region, echoed client id, model session.
pub struct Identity {
    /// `apim-request-id`.
    pub apim_request_id: String,
    /// `x-request-id`.
    pub request_id: String,
    /// `x-ms-region`.
    pub region: HeaderValue,
    /// Echoed `x-ms-client-request-id`, if sent.
    pub client_request_id: Option<HeaderValue>,
    /// What to send when none was sent: true = `Not-Set`, false = the apim id.
    pub client_id_not_set: bool,
    /// `azureml-model-session`.
    pub model_session: HeaderValue,
}

/// Response header names, parsed once at compile time (not on every insert).
mod names {
    use hyper::header::HeaderName;
    pub const APIM_REQUEST_ID: HeaderName = HeaderName::from_static("apim-request-id");
    pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
    pub const X_MS_REGION: HeaderName = HeaderName::from_static("x-ms-region");
    pub const X_MS_CLIENT_REQUEST_ID: HeaderName =
        HeaderName::from_static("x-ms-client-request-id");
    pub const AZUREML_MODEL_SESSION: HeaderName = HeaderName::from_static("azureml-model-session");
    pub const X_CONTENT_TYPE_OPTIONS: HeaderName =
        HeaderName::from_static("x-content-type-options");
    pub const STRICT_TRANSPORT_SECURITY: HeaderName =
        HeaderName::from_static("strict-transport-security");
    pub const X_MS_DEPLOYMENT_NAME: HeaderName = HeaderName::from_static("x-ms-deployment-name");
    pub const X_MS_RAI_INVOKED: HeaderName = HeaderName::from_static("x-ms-rai-invoked");
    pub const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
    /// The planned server time in ms, under AOAI's three names.
    pub const SERVER_TIMES: [HeaderName; 3] = [
        HeaderName::from_static("cmp-upstream-response-duration"),
        HeaderName::from_static("ms-azureml-model-time"),
        HeaderName::from_static("x-envoy-upstream-service-time"),
    ];
}

/// A header value from an owned string, reusing its buffer (None if not a valid value).
fn owned_value(text: String) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(Bytes::from(text)).ok()
}

/// Headers every response carries (reference §4, checklist 7).
pub fn identity_headers(id: Identity, headers: &mut HeaderMap) {
    let apim_request_id = owned_value(id.apim_request_id);
    let client = match id.client_request_id {
        Some(value) => value,
        None if id.client_id_not_set => HeaderValue::from_static("Not-Set"),
        None => apim_request_id
            .clone()
            .unwrap_or(HeaderValue::from_static("Not-Set")),
    };
    if let Some(value) = apim_request_id {
        headers.insert(names::APIM_REQUEST_ID, value);
    }
    if let Some(value) = owned_value(id.request_id) {
        headers.insert(names::X_REQUEST_ID, value);
    }
    headers.insert(names::X_MS_REGION, id.region);
    headers.insert(names::X_MS_CLIENT_REQUEST_ID, client);
    headers.insert(names::AZUREML_MODEL_SESSION, id.model_session);
    headers.insert(
        names::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        names::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains; preload"),
    );
}

/// Rate-limit / utilization headers.
pub fn rate_headers(rate: &RateHeaders, headers: &mut HeaderMap) {
    for (name, value) in rate.render() {
        if let Some(value) = owned_value(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// A complete JSON response.
pub fn json(status: u16, body: impl Into<Bytes>, id: Identity) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    identity_headers(id, headers);
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Headers only 2xx responses carry (checklist 8), with server times from the plan.
pub fn success_headers(deployment: &str, plan: &ResponsePlan, headers: &mut HeaderMap) {
    if let Ok(value) = HeaderValue::from_str(deployment) {
        headers.insert(names::X_MS_DEPLOYMENT_NAME, value);
    }
    headers.insert(names::X_MS_RAI_INVOKED, HeaderValue::from_static("true"));
    headers.insert(names::X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    let millis = HeaderValue::from(ceil_millis(if plan.stream {
        plan.headers_at
    } else {
        plan.total
    }));
    for name in names::SERVER_TIMES {
        headers.insert(name, millis.clone());
    }
}

/// Sleep until the plan's disruption or `until`, whichever is first. Err = cut the connection.
pub async fn wait_or_disrupt(
    shared: &Shared,
    received_at: Duration,
    plan: &ResponsePlan,
    until: Duration,
) -> Result<(), Cut> {
    match plan.disruption {
        Disruption::Hang(after) => {
            shared.clock.sleep_until(received_at + after).await;
            Err(cut("hang fault: closing without a response"))
        }
        Disruption::ResetAt(at) if at <= until || !plan.stream => {
            shared.clock.sleep_until(received_at + at.min(until)).await;
            Err(cut("connection reset fault"))
        }
        _ => {
            shared.clock.sleep_until(received_at + until).await;
            Ok(())
        }
    }
}

fn cut(reason: &'static str) -> Cut {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, reason)
}

/// Non-stream body of an admitted chat/completions request.
pub fn completion_body(job: &StreamJob) -> String {
    payload::completion_body(
        &Completion {
            id: &job.id,
            created: job.created,
            model: &job.model,
            fingerprint: &job.fingerprint,
            words_start: job.words_start,
            operation: job.operation,
        },
        &job.plan,
    )
}
