//! The seeded schedule as a file: one JSON line per request of the workload, in send order —
//! the very requests `sim` replays and `load` sends — so a client that is not throttlebox (the
//! lab's Python driver) can send the same ones at the same intended times.

use std::io::Write;

use serde::Serialize;

use crate::workload::{Request, Workload, WorkloadError};

/// One line of the schedule file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduledRequest<'a> {
    /// Position in the workload's sequence (the `id` of `requests.csv`).
    pub id: u64,
    /// Intended send time, seconds from the start of the run.
    pub at_s: f64,
    /// Deployment (model group) the request names.
    pub deployment: &'a str,
    /// Prompt length in tokens (the driver sends `workload::prompt_text` of it).
    pub prompt_tokens: u32,
    /// `max_tokens`, if the request sends one.
    pub max_tokens: Option<u32>,
    /// Completion length the simulator forces (a fleet that fixes its completion length makes
    /// a gateway that drops `x-mock-completion-tokens` produce the same).
    pub output_tokens: u32,
    /// Whether the request streams.
    pub stream: bool,
}

impl<'a> ScheduledRequest<'a> {
    /// The line of `request`.
    pub fn new(workload: &'a Workload, request: &Request) -> Self {
        Self {
            id: request.id,
            at_s: request.at.as_secs_f64(),
            deployment: workload.deployment_name(request.deployment),
            prompt_tokens: request.prompt_tokens,
            max_tokens: request.max_tokens,
            output_tokens: request.output_tokens,
            stream: request.stream,
        }
    }
}

/// Errors writing a schedule.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The workload could not produce its requests.
    #[error("workload: {0}")]
    Workload(#[from] WorkloadError),
    /// Writing failed.
    #[error("writing the schedule: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes every request of `workload` to `out`, one JSON object a line; returns how many.
pub fn write_schedule(workload: &Workload, out: &mut impl Write) -> Result<u64, ScheduleError> {
    let mut count = 0;
    for request in workload.requests() {
        let request = request?;
        let line = serde_json::to_string(&ScheduledRequest::new(workload, &request))
            .map_err(std::io::Error::other)?;
        writeln!(out, "{line}")?;
        count += 1;
    }
    Ok(count)
}
