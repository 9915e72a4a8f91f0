//! Rendering a decided request: a refusal body with its headers now, or the admitted plan acted
//! out — wait (or fault) until the headers are due, then a whole body or a stream.

use super::decide::Decided;
use super::errors::{self, ThrottleContext};
use super::ids;
use super::mock_body::MockBody;
use super::payload;
use super::respond::{self, Identity};
use super::state::{Settlement, Shared};
use super::stream;
use super::stream::{Cut, StreamJob};
use crate::config::ClientRequestIdFallback;
use crate::model::{Operation, Outcome};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{HeaderMap, Response};
use std::sync::Arc;

/// What the request asked for, beyond what the model saw.
pub struct Wanted<'a> {
    /// The operation.
    pub operation: Operation,
    /// `api-version` (`v1` on the v1 routes).
    pub api_version: &'a str,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// Embeddings `dimensions`.
    pub dimensions: Option<u32>,
    /// Number of embedding inputs.
    pub inputs: usize,
    /// Embeddings `encoding_format`.
    pub embedding_encoding: payload::EmbeddingEncoding,
    /// `x-ms-client-request-id` as sent.
    pub client_request_id: Option<HeaderValue>,
}

fn spillover_headers(decided: &Decided, headers: &mut HeaderMap) {
    if let (Some(spill), Some(from), true) = (
        decided.answer.spillover,
        &decided.spilled_from,
        decided.spillover_headers,
    ) {
        if let Ok(value) = HeaderValue::from_str(from) {
            headers.insert("x-ms-spillover-from-deployment", value);
        }
        headers.insert("x-ms-spillover-error", HeaderValue::from(spill.status));
    }
}

/// Render `decided` for listener `index`.
pub async fn render(
    shared: Arc<Shared>,
    index: usize,
    mut decided: Decided,
    wanted: Wanted<'_>,
) -> Result<Response<MockBody>, Cut> {
    let listener = &shared.listeners[index];
    let id = Identity {
        apim_request_id: std::mem::take(&mut decided.apim_request_id),
        request_id: std::mem::take(&mut decided.request_id),
        region: listener.region.clone(),
        client_request_id: wanted.client_request_id.clone(),
        client_id_not_set: decided.client_id_fallback == ClientRequestIdFallback::NotSet,
        model_session: listener.model_session.clone(),
    };
    let answer = decided.answer;
    let plan = match answer.outcome {
        Outcome::Rejected(rejection) => {
            let context = ThrottleContext {
                operation: wanted.operation,
                api_version: wanted.api_version,
                model: &decided.model_version,
                region: listener.region.to_str().unwrap_or(""),
                wording: decided.wording,
            };
            let mut response = respond::json(
                answer.status,
                errors::rejection(&rejection, &decided.served, &context),
                id,
            );
            respond::rate_headers(&answer.headers, response.headers_mut());
            spillover_headers(&decided, response.headers_mut());
            return Ok(response);
        }
        Outcome::Admitted(plan) => plan,
    };
    let settlement = Settlement::new(shared.clone(), plan.ticket);
    let job = StreamJob {
        shared: shared.clone(),
        received_at: decided.received_at,
        plan,
        id: decided.completion_id.clone(),
        model: decided.model_version.clone(),
        fingerprint: format!(
            "fp_{:010x}",
            ids::stable_tag(&decided.served) & 0xff_ffff_ffff
        ),
        created: shared.clock.unix_seconds(),
        words_start: decided.words_start,
        include_usage: wanted.include_usage,
        operation: wanted.operation,
        async_filter: decided.async_filter,
    };
    respond::wait_or_disrupt(&shared, job.received_at, &plan, plan.headers_at).await?;
    let (body, content_type) = if plan.stream {
        (
            MockBody::Stream(Box::new(stream::sse_stream(job, settlement))),
            "text/event-stream",
        )
    } else {
        let text = if wanted.operation == Operation::Embeddings {
            let dimensions = wanted
                .dimensions
                .unwrap_or_else(|| payload::default_dimensions(&job.model));
            payload::embeddings_body(
                &job.model,
                wanted.inputs,
                dimensions,
                plan.prompt_tokens,
                ids::stable_tag(&job.id),
                wanted.embedding_encoding,
            )
        } else {
            respond::completion_body(&job)
        };
        settlement.completed(plan.completion_tokens);
        (MockBody::full(text), "application/json")
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    respond::identity_headers(id, headers);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if plan.stream {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    respond::success_headers(&decided.served, &plan, headers);
    respond::rate_headers(&answer.headers, headers);
    spillover_headers(&decided, headers);
    Ok(response)
}
