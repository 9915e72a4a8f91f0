//! Whether a run can be trusted: what the load generator measured about itself (send lag,
//! requests it never sent or cancelled, an interruption, its CPU) turned into a verdict per
//! strategy, [`Validity`], written into `summary.json`. Pure: the same measurements and
//! context give the same verdict.
//!
//! Every tolerance scales with what the run is judged on (README, "Validity"):
//!
//! - **median send lag ≤ 10 ms of wall time** — the generator keeps its schedule at all
//!   (inference-perf treats a median schedule delay above 10 ms as a broken run);
//! - **p99 send lag ≤ 10 % of the smallest latency the run compares** — the tightest latency
//!   SLO or the smaller of the measured TTFT median (from the actual send, so the lag does not
//!   widen its own limit) and e2e median: latency is measured from the intended send, so the
//!   generator's own delay adds to it; a tenth of the figure is the resolution the gate judges
//!   at (default budgets +10 %);
//! - **max send lag ≤ half the shortest rate-limit window** (10 s for AOAI's PAYG request
//!   window): after a stall the requests due during it go out at once, and a stall of half a
//!   window pushes 1.5 windows' worth of requests into one — enough to throttle a deployment
//!   running at two thirds of its quota, which the simulator would never show;
//! - **never-sent + cancelled requests ≤ 10 % of the tightest ratio tolerance** (the ratio
//!   SLOs' slack, at most the gate's default 0.5-point success budget): they have no record, so
//!   each could have moved the success ratio;
//! - **time scale × per-hop overhead ≤ 10 % of the smallest latency compared** — every real
//!   hop costs about 1 ms of wall time (the gateway adds under 1 ms at p50, BENCHMARKS.md),
//!   which a time scale K turns into K ms of scenario time the model does not have (README,
//!   "--time-scale");
//! - **engine CPU saturation ≤ 90 %**, **engine CPU wait ≤ 25 %** (the share of the wall time
//!   its threads were ready to run but the machine gave them no CPU) and **no records lost**,
//!   when the engine reports them;
//! - **not interrupted**.
//!
//! Simulator runs are valid by construction (virtual time has no lag); an interrupted run is
//! marked on the summary itself.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::format;

/// Median send lag (wall time) above which the generator is behind its schedule.
pub const MEDIAN_LAG_LIMIT_WALL: Duration = Duration::from_millis(10);
/// Share of the smallest compared latency the p99 send lag and the per-hop overhead may reach.
pub const LATENCY_SHARE: f64 = 0.10;
/// Share of the shortest rate-limit window the largest send lag may reach.
pub const WINDOW_SHARE: f64 = 0.5;
/// Share of the ratio tolerance the requests without a record may reach.
pub const MISSING_SHARE_OF_TOLERANCE: f64 = 0.10;
/// The ratio tolerance when no ratio SLO is tighter: the gate's default success budget.
pub const DEFAULT_RATIO_TOLERANCE: f64 = 0.005;
/// Wall time one real HTTP hop adds (order of magnitude, BENCHMARKS.md).
pub const PER_HOP_OVERHEAD_WALL: Duration = Duration::from_millis(1);
/// Engine CPU saturation (0..1) above which it cannot keep a schedule.
pub const CPU_SATURATION_LIMIT: f64 = 0.9;
/// Share of the wall time the engine's threads may spend ready to run but waiting for a CPU
/// (a starved machine) before its timing is not to be trusted: in the runs that reproduced
/// issue #10's stalls the engine waited 25–54 % of the time, on a quiet machine ~0.
pub const CPU_WAIT_LIMIT: f64 = 0.25;

/// Send-lag quantiles, in scenario time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LagQuantiles {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
}

/// What the load generator measured about itself for one strategy.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EngineMeasurements {
    /// Requests the schedule produced.
    pub scheduled: u64,
    /// Requests sent.
    pub sent: u64,
    /// Requests never sent (due while at the in-flight cap).
    pub never_sent: u64,
    /// Requests cancelled (in flight when the drain after a stop ran out).
    pub cancelled: u64,
    /// Send lag (actual − intended send), scenario time.
    pub send_lag: LagQuantiles,
    /// Stopped early by a signal.
    pub interrupted: bool,
    /// Scenario time the strategy's schedule covered.
    pub covered: Duration,
    /// Share (0..1) of the engine's CPU budget it used, when the engine reports it.
    pub cpu_saturation: Option<f64>,
    /// Share (0..1) of the wall time the engine was ready to run but waited for a CPU, when
    /// the engine reports it (Linux).
    pub cpu_wait: Option<f64>,
    /// Records the engine produced but could not keep, when it reports them.
    pub records_lost: Option<u64>,
}

/// What the measurements are judged against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidityContext {
    /// Scenario time per wall time.
    pub time_scale: f64,
    /// Real HTTP hops a request crosses (engine → gateway → mock: 2).
    pub hops: u32,
    /// The scenario's length.
    pub planned: Duration,
    /// The shortest rate-limit window of the fleet (None: no windowed quota).
    pub shortest_window: Option<Duration>,
    /// The tightest latency SLO (None: none configured).
    pub tightest_latency_slo: Option<Duration>,
    /// The smallest latency median measured (TTFT or e2e; None: no success).
    pub smallest_measured_latency: Option<Duration>,
    /// The tightest ratio the run is judged on (see [`DEFAULT_RATIO_TOLERANCE`]).
    pub ratio_tolerance: f64,
}

/// The limits a verdict applied (seconds of scenario time; `null`: the rule did not apply).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidityLimits {
    /// Median send lag.
    pub send_lag_p50_s: f64,
    /// p99 send lag.
    pub send_lag_p99_s: Option<f64>,
    /// Largest send lag.
    pub send_lag_max_s: Option<f64>,
    /// Share of scheduled requests without a record (never sent + cancelled).
    pub missing_share: f64,
    /// Scenario time the real hops may add per request.
    pub hop_overhead_s: Option<f64>,
}

/// One strategy's verdict, with the figures it was drawn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validity {
    /// No reason below.
    pub valid: bool,
    /// Why not, one line each, starting with the rule's name (`send_lag_p99: …`).
    pub reasons: Vec<String>,
    /// Scenario time covered (the scenario's length unless interrupted).
    pub covered_s: f64,
    /// Scenario time per wall time (1 in `sim`).
    pub time_scale: f64,
    /// Requests the schedule produced.
    pub scheduled: u64,
    /// Requests sent.
    pub sent: u64,
    /// Requests never sent (in-flight cap).
    pub never_sent: u64,
    /// Requests cancelled after a stop.
    pub cancelled: u64,
    /// Median send lag, scenario seconds.
    pub send_lag_p50_s: f64,
    /// p99 send lag, scenario seconds.
    pub send_lag_p99_s: f64,
    /// Largest send lag, scenario seconds.
    pub send_lag_max_s: f64,
    /// Scenario time the real hops add to every request (time scale × hops × ~1 ms).
    pub hop_overhead_s: f64,
    /// Engine CPU saturation (0..1), when reported.
    pub engine_cpu_saturation: Option<f64>,
    /// Share (0..1) of the wall time the engine waited for a CPU, when reported.
    #[serde(default)]
    pub engine_cpu_wait: Option<f64>,
    /// Records lost, when reported.
    pub records_lost: Option<u64>,
    /// The limits applied (`null` in `sim`: no rule applies to virtual time).
    pub limits: Option<ValidityLimits>,
}

impl Validity {
    /// A simulated strategy: every request sent on time (virtual time), the whole run covered.
    pub fn by_construction(requests: u64, planned: Duration) -> Validity {
        let measured = EngineMeasurements {
            scheduled: requests,
            sent: requests,
            covered: planned,
            ..EngineMeasurements::default()
        };
        Validity::of(&measured, 1.0, Duration::ZERO, Vec::new(), None)
    }

    /// The verdict with these reasons, the figures of `measured` (rounded as every summary
    /// figure) and the limits applied.
    fn of(
        measured: &EngineMeasurements,
        time_scale: f64,
        hop_overhead: Duration,
        reasons: Vec<String>,
        limits: Option<ValidityLimits>,
    ) -> Validity {
        let seconds = format::seconds;
        Validity {
            valid: reasons.is_empty(),
            reasons,
            covered_s: seconds(measured.covered),
            time_scale,
            scheduled: measured.scheduled,
            sent: measured.sent,
            never_sent: measured.never_sent,
            cancelled: measured.cancelled,
            send_lag_p50_s: seconds(measured.send_lag.p50),
            send_lag_p99_s: seconds(measured.send_lag.p99),
            send_lag_max_s: seconds(measured.send_lag.max),
            hop_overhead_s: seconds(hop_overhead),
            engine_cpu_saturation: measured
                .cpu_saturation
                .map(|share| format::round(share, format::RATIO_DIGITS)),
            engine_cpu_wait: measured
                .cpu_wait
                .map(|share| format::round(share, format::RATIO_DIGITS)),
            records_lost: measured.records_lost,
            limits,
        }
    }
}

/// The ratio tolerance of a run with these ratio SLOs.
pub fn ratio_tolerance(min_success_ratio: Option<f64>, max_client_429_ratio: Option<f64>) -> f64 {
    [
        min_success_ratio.map(|ratio| 1.0 - ratio),
        max_client_429_ratio,
    ]
    .into_iter()
    .flatten()
    .filter(|slack| *slack > 0.0)
    .fold(DEFAULT_RATIO_TOLERANCE, f64::min)
}

fn secs(duration: Duration) -> String {
    let mut text = String::new();
    format::push_seconds(&mut text, duration);
    text + " s"
}

/// Judge `measured` in `context`.
pub fn assess(measured: &EngineMeasurements, context: &ValidityContext) -> Validity {
    let scale = if context.time_scale.is_finite() && context.time_scale > 0.0 {
        context.time_scale
    } else {
        1.0
    };
    let mut reasons = Vec::new();
    if measured.interrupted {
        reasons.push(format!(
            "interrupted: stopped by a signal after {} of {} scenario time",
            secs(measured.covered),
            secs(context.planned)
        ));
    }
    let lag = measured.send_lag;
    let p50_limit = MEDIAN_LAG_LIMIT_WALL.mul_f64(scale);
    if lag.p50 > p50_limit {
        reasons.push(format!(
            "send_lag_p50: median send lag {:.1} ms of wall time > {} ms: the generator is \
             behind its schedule (inference-perf's bound)",
            lag.p50.div_f64(scale).as_secs_f64() * 1e3,
            MEDIAN_LAG_LIMIT_WALL.as_millis()
        ));
    }
    let reference = [
        context
            .tightest_latency_slo
            .map(|slo| (slo, "the tightest latency SLO")),
        context
            .smallest_measured_latency
            .map(|latency| (latency, "the smallest latency median measured")),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|(latency, _)| *latency);
    let p99_limit = reference.map(|(latency, _)| latency.mul_f64(LATENCY_SHARE));
    if let (Some(limit), Some((latency, what))) = (p99_limit, reference) {
        if lag.p99 > limit {
            reasons.push(format!(
                "send_lag_p99: p99 send lag {} > {} (10% of {what}, {}): the generator's own delay \
             shows in the latencies",
                secs(lag.p99),
                secs(limit),
                secs(latency)
            ));
        }
    }
    let max_limit = context
        .shortest_window
        .map(|window| window.mul_f64(WINDOW_SHARE));
    if let (Some(limit), Some(window)) = (max_limit, context.shortest_window) {
        if lag.max > limit {
            reasons.push(format!(
                "send_lag_max: largest send lag {} > {} (half the {} rate-limit window): requests \
             due during a stall went out in a burst",
                secs(lag.max),
                secs(limit),
                secs(window)
            ));
        }
    }
    let missing = measured.never_sent + measured.cancelled;
    let missing_limit = context.ratio_tolerance * MISSING_SHARE_OF_TOLERANCE;
    let missing_share = if measured.scheduled == 0 {
        0.0
    } else {
        missing as f64 / measured.scheduled as f64
    };
    // Compared in requests (with a hair of slack for the float product), so exactly the
    // allowed count passes.
    let allowed = missing_limit * measured.scheduled as f64 * (1.0 + 1e-9);
    if missing as f64 > allowed {
        reasons.push(format!(
            "never_sent: {} of {} scheduled requests never sent (in-flight cap) and {} \
             cancelled: {:.2}% without a record > {:.3}% (10% of the {:.2}-point ratio \
             tolerance)",
            measured.never_sent,
            measured.scheduled,
            measured.cancelled,
            missing_share * 100.0,
            missing_limit * 100.0,
            context.ratio_tolerance * 100.0
        ));
    }
    let hop_overhead = PER_HOP_OVERHEAD_WALL
        .saturating_mul(context.hops)
        .mul_f64(scale);
    let hop_limit = p99_limit;
    if let (Some(limit), Some((latency, what))) = (hop_limit, reference) {
        if hop_overhead > limit {
            reasons.push(format!(
                "time_scale: time scale {scale} × {} hop(s) × ~{} ms of wall time = {} of scenario \
             time per request > {} (10% of {what}, {}): lower --time-scale",
                context.hops,
                PER_HOP_OVERHEAD_WALL.as_millis(),
                secs(hop_overhead),
                secs(limit),
                secs(latency)
            ));
        }
    }
    if let Some(saturation) = measured
        .cpu_saturation
        .filter(|saturation| *saturation > CPU_SATURATION_LIMIT)
    {
        reasons.push(format!(
            "engine_cpu: the engine used {:.0}% of its CPU > {:.0}%: it cannot keep a schedule",
            saturation * 100.0,
            CPU_SATURATION_LIMIT * 100.0
        ));
    }
    if let Some(wait) = measured.cpu_wait.filter(|wait| *wait > CPU_WAIT_LIMIT) {
        reasons.push(format!(
            "engine_cpu_wait: the engine waited for a CPU {:.0}% of the time > {:.0}%: the \
             machine starved it",
            wait * 100.0,
            CPU_WAIT_LIMIT * 100.0
        ));
    }
    if let Some(lost) = measured.records_lost.filter(|lost| *lost > 0) {
        reasons.push(format!(
            "records_lost: {lost} records were produced but not kept"
        ));
    }
    let seconds = format::seconds;
    let limits = ValidityLimits {
        send_lag_p50_s: seconds(p50_limit),
        send_lag_p99_s: p99_limit.map(seconds),
        send_lag_max_s: max_limit.map(seconds),
        missing_share: format::round(missing_limit, 6),
        hop_overhead_s: hop_limit.map(seconds),
    };
    Validity::of(measured, scale, hop_overhead, reasons, Some(limits))
}
