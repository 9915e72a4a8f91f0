//! The scheduler and the end of a run, on the engine's own runtime: a task sleeps on a precise
//! timer (`precise_sleep`: a timerfd on Linux) until each request's intended time and spawns the
//! request on its own worker, never waiting for earlier ones; then it waits for the requests in
//! flight (or, after a stop, at most the drain time before cancelling them).
//!
//! The scheduler's path is the timer, the stop signal, the in-flight count and a spawn, and
//! nothing else: no record, file, terminal, connection or lock shared with an in-process fleet
//! or gateway is waited for there (a request connects, sends, reads and records in its own
//! task; records go through a bounded channel that never blocks). Its own lateness — the
//! moment it decides to send, against the intended time — is kept beside the requests' send
//! lag, so a late send shows whether the timer (the machine) or the dispatch was late.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Counters, EngineContext, EngineStats, InFlight, logical, stop_requested};
use crate::live::error::LiveError;
use crate::live::precise_sleep::PreciseSleep;
use crate::metrics::LatencyHistogram;
use crate::split::{Shard, shard_schedule};
use crate::workload::Workload;

/// What the scheduler did, once every request it sent has ended (or was cancelled).
pub(crate) struct Scheduled {
    /// The engine's counters (send lag and CPU use are filled in by the caller).
    pub stats: EngineStats,
    /// The scheduler's own lateness per scheduled request (scenario time).
    pub decision_lag: LatencyHistogram,
    /// Why the schedule ended early, if it did (the run's result is then this error).
    pub failure: Option<LiveError>,
}

/// Send every request of `workload` that belongs to `shard` on time, wait for them, and
/// account for it. Stops sending when `stop` turns true; requests then in flight get `drain`
/// (wall) to finish.
pub(crate) async fn drive(
    workload: Workload,
    ctx: Arc<EngineContext>,
    counters: Arc<Counters>,
    max_in_flight: u64,
    drain: Duration,
    shard: Shard,
    mut stop: watch::Receiver<bool>,
) -> Scheduled {
    let mut scheduled = Scheduled {
        stats: EngineStats {
            max_in_flight,
            ..EngineStats::default()
        },
        decision_lag: LatencyHistogram::new(),
        failure: None,
    };
    let mut tasks = send_on_schedule(
        workload,
        shard,
        ctx,
        &counters,
        &mut scheduled,
        stop.clone(),
    )
    .await;
    let stats = &mut scheduled.stats;
    if !stats.interrupted {
        // Every request ends by the client timeout; a stop meanwhile bounds the wait.
        tokio::select! {
            () = async { while tasks.join_next().await.is_some() {} } => {}
            () = stop_requested(&mut stop) => stats.interrupted = true,
        }
    }
    if stats.interrupted && !tasks.is_empty() {
        let drain_all = async { while tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(drain, drain_all).await;
        stats.cancelled = tasks.len() as u64;
        tasks.shutdown().await;
    }
    scheduled
}

/// The scheduler loop proper: the requests it spawned, still running.
async fn send_on_schedule(
    workload: Workload,
    shard: Shard,
    ctx: Arc<EngineContext>,
    counters: &Arc<Counters>,
    scheduled: &mut Scheduled,
    mut stop: watch::Receiver<bool>,
) -> JoinSet<()> {
    let stats = &mut scheduled.stats;
    let mut tasks = JoinSet::new();
    let timer = match PreciseSleep::new() {
        Ok(timer) => timer,
        Err(error) => {
            scheduled.failure = Some(LiveError::io("the send timer", error));
            return tasks;
        }
    };
    for item in shard_schedule(workload.requests(), shard) {
        let request = match item {
            Ok(request) => request,
            Err(error) => {
                scheduled.failure = Some(LiveError::from(error));
                break;
            }
        };
        let wait = ctx
            .clock
            .wall_span(request.at.saturating_sub(ctx.clock.now()));
        if wait.is_zero() {
            // Behind schedule (after a stall): sends go out back to back, but the scheduler
            // still yields every coop budget's worth so the requests it spawned can run.
            tokio::task::coop::consume_budget().await;
        }
        tokio::select! {
            biased;
            () = stop_requested(&mut stop) => {
                stats.interrupted = true;
                break;
            }
            slept = timer.sleep(wait) => if let Err(error) = slept {
                scheduled.failure = Some(LiveError::io("the send timer", error));
                break;
            },
        }
        scheduled
            .decision_lag
            .record(ctx.clock.now().saturating_sub(request.at));
        stats.scheduled += 1;
        while tasks.try_join_next().is_some() {}
        if counters.in_flight.load(Ordering::Relaxed) >= stats.max_in_flight {
            stats.dropped += 1;
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let in_flight = counters.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        stats.peak_in_flight = stats.peak_in_flight.max(in_flight);
        stats.sent += 1;
        counters.sent.fetch_add(1, Ordering::Relaxed);
        let guard = InFlight(counters.clone());
        let task_ctx = ctx.clone();
        tasks.spawn(async move {
            let _guard = guard;
            logical::drive(task_ctx, request).await;
        });
    }
    tasks
}
