//! The one locked step of a request: ask the model, and copy out (while holding the lock) what
//! rendering needs — names, switches, ids from the seeded stream. Nothing here awaits.

use super::ids;
use super::state::Shared;
use crate::config::{ClientRequestIdFallback, RateLimitMessage};
use crate::model::{Answer, DeploymentId, Operation, RequestShape};
use std::time::Duration;

/// The model's answer plus everything rendering needs, owned.
pub struct Decided {
    /// The model's answer.
    pub answer: Answer,
    /// Name of the deployment that served (after spillover).
    pub served: String,
    /// PTU deployment that spilled over, if any.
    pub spilled_from: Option<String>,
    /// Model version for bodies and 429 wording.
    pub model_version: String,
    /// 429 wording switch.
    pub wording: RateLimitMessage,
    /// `x-ms-client-request-id` fallback switch.
    pub client_id_fallback: ClientRequestIdFallback,
    /// Spillover headers switch.
    pub spillover_headers: bool,
    /// Stream in the asynchronous content-filter shape.
    pub async_filter: bool,
    /// `apim-request-id`.
    pub apim_request_id: String,
    /// `x-request-id`.
    pub request_id: String,
    /// `chatcmpl-…` / `cmpl-…`.
    pub completion_id: String,
    /// Start of the generated words.
    pub words_start: usize,
    /// When the request was received (its body read): the plan's offsets count from here, so
    /// the mock's own parsing and tokenizing are part of the planned latency, not added to it.
    pub received_at: Duration,
}

/// Ask the model about `shape` sent to `target` and received at `received_at`, under the lock.
pub fn decide(
    shared: &Shared,
    received_at: Duration,
    target: DeploymentId,
    shape: &RequestShape<'_>,
    operation: Operation,
) -> Decided {
    let mut core = shared.core();
    let now = shared.clock.now();
    let answer = core.fleet.admit_to(now, target, shape);
    let view = core.fleet.deployment(answer.deployment.unwrap_or(target));
    let (served, model_version) = (view.name.to_string(), view.model_version.to_string());
    let switches = view.switches;
    let (wording, client_id_fallback, spillover_headers) = (
        switches.rate_limit_message,
        switches.client_request_id_fallback,
        switches.spillover_headers,
    );
    let async_filter = switches.stream_filter_mode == crate::config::StreamFilterMode::Async;
    let spilled_from = answer
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
        spilled_from,
        model_version,
        wording,
        client_id_fallback,
        spillover_headers,
        async_filter,
        apim_request_id: ids::uuid(&mut core.ids),
        request_id: ids::uuid(&mut core.ids),
        completion_id: ids::alnum_id(&mut core.ids, prefix, 29),
        words_start: ids::word_start(&mut core.ids),
        received_at,
    }
}
