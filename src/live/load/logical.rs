//! One logical client request, as the calling application lives it: the live shell around the
//! client state machine ([`crate::client`], the one the simulator drives too) — it sends each
//! try, hands what came back to the machine and waits on the live clock until the next try it
//! asks for, or ends the request where the machine does; then one [`RequestRecord`] and one
//! [`AttemptRecord`] per backend attempt (the gateway's trail header lists attempts the client
//! never saw), filled with the same meaning as the simulator's.

use std::sync::Arc;
use std::time::Duration;

use super::try_once::{TryOutcome, TryResult, try_once};
use super::{EngineContext, RecordMessage};
use crate::client::ClientStep;
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
    let mut life = ctx.client.begin(ctx.clock.now());
    record.actual_start = life.started();
    loop {
        let sent = ctx.clock.now();
        let deadline = life.started() + ctx.client.timeout();
        let outcome = try_once(&ctx, &request, url, body.clone(), life.retries(), deadline).await;
        record_try(&ctx, &mut record, sent, &outcome);
        if let TryResult::Success {
            completion_tokens,
            spilled_from,
            served_deployment,
            ..
        } = &outcome.result
        {
            record.first_token = outcome.first_token;
            record.completion_tokens = *completion_tokens;
            record.spilled_over = *spilled_from;
            record.served_by = served_by(&ctx, &record, *spilled_from, served_deployment);
        }
        match ctx.client_step(ctx.clock.now(), &mut life, &outcome.answer()) {
            ClientStep::Send => {}
            ClientStep::WaitUntil(at) => {
                record.client_retries = life.retries();
                ctx.clock.sleep_until(at).await;
            }
            ClientStep::GiveUp { status, error } | ClientStep::Done { status, error } => {
                finish(&ctx, record, outcome.ended, status, error);
                return;
            }
        }
    }
}

/// The report index of the deployment that served a spilled-over request.
fn served_by(
    ctx: &EngineContext,
    record: &RequestRecord,
    spilled_from: bool,
    served_deployment: &Option<String>,
) -> Option<BackendIndex> {
    if !spilled_from {
        return None;
    }
    let backend = record
        .final_backend
        .and_then(|b| ctx.backend_names.get(usize::from(b)))?;
    let deployment = served_deployment.as_deref()?;
    ctx.backend_index(&format!("{backend}/{deployment}"))
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
            TryResult::Failure(answer) => answer.failure_class(),
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
