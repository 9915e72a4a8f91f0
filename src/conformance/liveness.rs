//! Whether the system under test kept answering. A run whose system died or went silent part
//! of the way through measures the death, not the preset, so the lab turns it into a verdict
//! instead of a table (`throttlebox conform` exits 3, as `gate` does for a run it cannot trust).
//!
//! The rule, from the application's side (the driver's records) and the process's:
//! - **exited**: the system's own process (the LiteLLM proxy) exited while requests of the
//!   schedule were still unanswered;
//! - **silent**: from some request on, every request of the schedule got no HTTP answer at all
//!   (connection refused or reset, closed without an answer, a timeout, still open at the
//!   driver's deadline), and there are at least [`SILENT_TAIL`] of them. A transport error or
//!   two is not death: either a later request is answered (the run of failures does not reach
//!   the end), or fewer than [`SILENT_TAIL`] requests fail at the end.
//!
//! In both cases the system "stopped answering at request N": N is the first request after the
//! last one that got an HTTP answer (any status — a 429 or a 500 is an answer).

use std::fmt;

use serde::Serialize;

use super::figures::RealRecord;

/// Fewest unanswered requests at the end of a run that count as a system that stopped
/// answering while its process lives. At the lab's rates (1.7–3.2 req/s) five requests span
/// 1.5–3 s, and the OpenAI SDK tries each three times (its two retries after 0.4–1 s
/// backoffs), so at least 15 connections in a row failed: no transient error does that.
pub const SILENT_TAIL: u64 = 5;

/// How the system stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StopCause {
    /// Its process exited during the run.
    Exited {
        /// The exit status as the OS gave it (`signal: 9 (SIGKILL)`, `exit status: 1`).
        status: String,
    },
    /// Its process lived (or it has none of its own) but answered nothing from then on.
    Silent,
}

/// The verdict on a run whose system stopped answering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stopped {
    /// The system (`litellm-proxy`).
    pub system: String,
    /// The first request after the last one that got an HTTP answer.
    pub request: u64,
    /// Its intended send time, seconds from the start of the schedule.
    pub at_s: f64,
    /// Requests of the schedule from `request` on (none of which got an HTTP answer).
    pub unanswered: u64,
    /// Requests in the schedule.
    pub scheduled: u64,
    /// How it stopped.
    pub cause: StopCause,
    /// The distinct failures the application saw from `request` on (at most three).
    pub errors: Vec<String>,
    /// The last lines of the system's log.
    pub log_tail: String,
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} stopped answering at request {} (t = {:.1} s): ",
            self.system, self.request, self.at_s
        )?;
        match &self.cause {
            StopCause::Exited { status } => write!(f, "its process exited ({status}); ")?,
            StopCause::Silent => write!(f, "its process lived but answered nothing; ")?,
        }
        write!(
            f,
            "{} of the {} scheduled requests from there on got no HTTP answer",
            self.unanswered, self.scheduled
        )?;
        if !self.errors.is_empty() {
            write!(f, " ({})", self.errors.join("; "))?;
        }
        write!(f, ". {}", self.log_tail)
    }
}

/// The first request after the last one that got an HTTP answer (0 when none did).
pub fn first_unanswered(records: &[RealRecord]) -> u64 {
    records
        .iter()
        .filter(|record| record.answered())
        .map(|record| record.id + 1)
        .max()
        .unwrap_or(0)
}

/// What the lab knows about one run, for [`verdict`].
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// The system's name.
    pub system: &'a str,
    /// Every request the driver recorded.
    pub records: &'a [RealRecord],
    /// Intended send time of each request of the schedule, by id.
    pub schedule: &'a [f64],
    /// How the system's own process exited during the run, if it did.
    pub exited: Option<&'a str>,
}

/// The verdict on a run, `None` when the system answered to the end (see the module's rule);
/// `log_tail` is called only for a stopped system.
pub fn verdict(facts: RunFacts<'_>, log_tail: impl FnOnce() -> String) -> Option<Stopped> {
    let scheduled = facts.schedule.len() as u64;
    let request = first_unanswered(facts.records);
    let unanswered = scheduled.saturating_sub(request);
    let cause = match facts.exited {
        Some(status) if unanswered > 0 => StopCause::Exited {
            status: status.to_string(),
        },
        _ if unanswered >= SILENT_TAIL => StopCause::Silent,
        _ => return None,
    };
    let mut errors: Vec<String> = Vec::new();
    for record in facts.records.iter().filter(|r| r.id >= request) {
        let text = record
            .error
            .clone()
            .unwrap_or_else(|| record.outcome.clone());
        if errors.len() < 3 && !errors.contains(&text) {
            errors.push(text);
        }
    }
    Some(Stopped {
        system: facts.system.to_string(),
        request,
        at_s: facts.schedule.get(request as usize).copied().unwrap_or(0.0),
        unanswered,
        scheduled,
        cause,
        errors,
        log_tail: log_tail(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64, status: u16) -> RealRecord {
        RealRecord {
            id,
            at_s: Some(id as f64 * 0.5),
            outcome: if status == 0 { "transport_error" } else { "ok" }.to_string(),
            status,
            ttft_s: None,
            e2e_s: None,
            send_lag_s: None,
            error: (status == 0).then(|| "ConnectError: [Errno 111] Connection refused".into()),
            tries: None,
        }
    }

    /// 40 requests every 0.5 s; those in `refused` got no HTTP answer, the others a 200.
    fn run(refused: &[u64]) -> Vec<RealRecord> {
        (0..40)
            .map(|id| record(id, if refused.contains(&id) { 0 } else { 200 }))
            .collect()
    }

    fn judge(records: &[RealRecord], exited: Option<&str>) -> Option<Stopped> {
        let schedule: Vec<f64> = (0..40).map(|id| id as f64 * 0.5).collect();
        let facts = RunFacts {
            system: "litellm-proxy",
            records,
            schedule: &schedule,
            exited,
        };
        verdict(facts, || "litellm-proxy.log (last lines): …".to_string())
    }

    #[test]
    fn a_transport_error_or_two_is_not_death() {
        // In the middle, with answers after them.
        assert_eq!(judge(&run(&[7, 8, 20]), None), None);
        // At the very end, fewer than SILENT_TAIL.
        assert_eq!(judge(&run(&[38, 39]), None), None);
        assert_eq!(judge(&run(&[36, 37, 38, 39]), None), None);
        // A 429 or a 500 is an answer, however many.
        let mut throttled = run(&[]);
        for record in &mut throttled[20..] {
            record.status = 429;
        }
        assert_eq!(judge(&throttled, None), None);
    }

    #[test]
    fn every_request_unanswered_from_some_point_to_the_end_is_a_stop() {
        let refused: Vec<u64> = (35..40).collect();
        let stopped = judge(&run(&refused), None).expect("five unanswered at the end");
        assert_eq!(
            (stopped.request, stopped.unanswered, stopped.at_s),
            (35, 5, 17.5)
        );
        assert_eq!(stopped.cause, StopCause::Silent);
        assert_eq!(
            stopped.errors,
            ["ConnectError: [Errno 111] Connection refused"]
        );
        // Requests never recorded after the last answer (the driver was stopped) count too.
        let cut: Vec<RealRecord> = run(&[]).into_iter().take(30).collect();
        let stopped = judge(&cut, None).expect("ten never answered");
        assert_eq!((stopped.request, stopped.unanswered), (30, 10));
    }

    #[test]
    fn an_exited_process_is_a_stop_as_soon_as_a_request_went_unanswered() {
        let stopped = judge(&run(&[39]), Some("signal: 9 (SIGKILL)")).expect("exited");
        assert_eq!((stopped.request, stopped.unanswered), (39, 1));
        let text = stopped.to_string();
        assert!(
            text.starts_with("litellm-proxy stopped answering at request 39 (t = 19.5 s): its process exited (signal: 9 (SIGKILL))"),
            "{text}"
        );
        assert!(text.contains("litellm-proxy.log (last lines)"), "{text}");
        // Exiting after every request was answered harms no figure.
        assert_eq!(judge(&run(&[]), Some("exit status: 0")), None);
    }
}
