//! One logical client request, as the calling application lives it: tries until success or
//! until the scenario's client retry policy gives up (`ClientRetryPolicy::delay`, honouring
//! `retry-after(-ms)`), within the client timeout; then one [`RequestRecord`] and one
//! [`AttemptRecord`] per backend attempt (the gateway's trail header lists attempts the client
//! never saw), filled with the same meaning as the simulator's.

use std::sync::Arc;
use std::time::Duration;

use super::try_once::{TryOutcome, TryResult, try_once};
use super::{EngineContext, RecordMessage};
use crate::live::trail::AttemptStatus;
use crate::metrics::{AttemptRecord, BackendIndex, ErrorClass, RequestRecord};
use crate::workload::Request;

/// Drive `request` to its end and send its records.
pub(crate) async fn drive(ctx: Arc<EngineContext>, request: Request) {
    let url = &ctx.urls[usize::from(request.deployment.0)];
    let body = super::wire::body(&request);
    let mut record = RequestRecord {
        strategy: ctx.strategy,
        request_id: request.id,
        app: request.app,
        intended_start: request.at,
        prompt_tokens: request.prompt_tokens,
        stream: request.stream,
        ..RequestRecord::default()
    };
    loop {
        let sent = ctx.clock.now();
        if record.attempts == 0 && record.client_retries == 0 {
            record.actual_start = sent;
        }
        let deadline = record.actual_start + ctx.client.timeout;
        let outcome = try_once(
            &ctx,
            &request,
            url,
            body.clone(),
            record.client_retries,
            deadline,
        )
        .await;
        record_try(&ctx, &mut record, sent, &outcome);
        match outcome.result {
            TryResult::Success {
                status,
                completion_tokens,
                cut,
                timed_out,
                spilled_from,
                served_deployment,
            } => {
                record.first_token = outcome.first_token;
                record.completion_tokens = completion_tokens;
                record.spilled_over = spilled_from;
                record.served_by = if spilled_from {
                    let backend = record
                        .final_backend
                        .and_then(|b| ctx.backend_names.get(usize::from(b)));
                    backend
                        .zip(served_deployment)
                        .and_then(|(backend, deployment)| {
                            ctx.backend_index(&format!("{backend}/{deployment}"))
                        })
                } else {
                    None
                };
                // A stream cut mid-body: the SDK raises; it does not retry a half-read stream.
                let class = match (cut, timed_out) {
                    (_, true) => ErrorClass::Timeout,
                    (true, false) => ErrorClass::ConnectError,
                    (false, false) => ErrorClass::None,
                };
                finish(&ctx, record, outcome.ended, status, class);
                return;
            }
            TryResult::Failure {
                status,
                observation,
                class,
            } => {
                let now = ctx.clock.now();
                let elapsed = now.saturating_sub(record.actual_start);
                let wait = ctx.retry_delay(record.client_retries, &observation);
                match wait {
                    Some(wait) if elapsed + wait < ctx.client.timeout => {
                        record.client_retries += 1;
                        ctx.clock.sleep(wait).await;
                    }
                    _ => {
                        finish(&ctx, record, outcome.ended, status, class);
                        return;
                    }
                }
            }
        }
    }
}

/// Send the finished request's record.
pub(crate) fn finish(
    ctx: &EngineContext,
    mut record: RequestRecord,
    end: Duration,
    status: u16,
    class: ErrorClass,
) {
    record.end = end;
    record.status = status;
    record.error = class;
    ctx.send(RecordMessage::Request(record));
}

/// Fold a try sent at `sent` into `record` (attempts, backends tried, gateway retries) and send
/// its attempt records: the gateway's trail when there is one, else the try itself.
pub(crate) fn record_try(
    ctx: &EngineContext,
    record: &mut RequestRecord,
    sent: Duration,
    outcome: &TryOutcome,
) {
    record.gateway_retries += outcome.report.retries.unwrap_or(0);
    let spilled = matches!(
        outcome.result,
        TryResult::Success {
            spilled_from: true,
            ..
        }
    );
    if outcome.report.attempts.is_none() {
        // Not a throttlebox gateway: the try is the only attempt the client knows of.
        let (status, class) = match &outcome.result {
            TryResult::Success { status, .. } => (*status, ErrorClass::None),
            TryResult::Failure { status, class, .. } => (*status, *class),
        };
        record.attempts += 1;
        let backend = outcome
            .report
            .backend
            .as_deref()
            .and_then(|name| ctx.backend_index(name))
            .or(ctx.fallback_backend);
        if let Some(backend) = backend {
            record.backends_tried.push(backend);
            record.final_backend = Some(backend);
            let attempt = Attempt {
                backend,
                start: sent,
                first_token: outcome.first_token,
                end: outcome.ended,
                status,
                error: class,
                spilled_over: spilled,
            };
            emit(ctx, record, attempt);
        }
        return;
    }
    for entry in &outcome.report.trail {
        record.attempts += 1;
        let Some(backend) = ctx.backend_index(&entry.backend).or(ctx.fallback_backend) else {
            continue;
        };
        record.backends_tried.push(backend);
        record.final_backend = Some(backend);
        let (status, class) = match entry.status {
            AttemptStatus::Http(code) => (code, ErrorClass::from_status(code)),
            AttemptStatus::Connect => (0, ErrorClass::ConnectError),
            AttemptStatus::Timeout => (0, ErrorClass::Timeout),
        };
        let returned = entry.end.is_none();
        let end = entry
            .end
            .map_or(outcome.ended, |end| (sent + end).min(outcome.ended));
        let attempt = Attempt {
            backend,
            start: sent + entry.start,
            first_token: if returned { outcome.first_token } else { None },
            end,
            status,
            error: class,
            spilled_over: returned && spilled,
        };
        emit(ctx, record, attempt);
    }
}

/// An attempt's facts, before the request's numbering is added.
struct Attempt {
    backend: BackendIndex,
    start: Duration,
    first_token: Option<Duration>,
    end: Duration,
    status: u16,
    error: ErrorClass,
    spilled_over: bool,
}

fn emit(ctx: &EngineContext, record: &RequestRecord, attempt: Attempt) {
    ctx.send(RecordMessage::Attempt(AttemptRecord {
        strategy: ctx.strategy,
        request_id: record.request_id,
        attempt: record.attempts,
        backend: attempt.backend,
        start: attempt.start,
        first_token: attempt.first_token,
        end: attempt.end,
        status: attempt.status,
        error: attempt.error,
        spilled_over: attempt.spilled_over,
    }));
}
