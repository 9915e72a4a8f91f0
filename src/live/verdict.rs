//! The live shells' side of a run's validity: what the load engine measured
//! ([`EngineStats`], wall time) and what the scenario judges it against, turned into the
//! inputs of the pure verdict in [`crate::report::validity`].

use std::time::Duration;

use aoai_mock::config::{DeploymentKind, FleetConfig, RequestWindow};

use super::load::EngineStats;
use crate::report::validity::{LagQuantiles, ratio_tolerance};
use crate::report::{EngineMeasurements, RunSetup, StrategySummary, ValidityContext};

/// A PTU deployment's utilization bucket drains over about a minute: a burst shorter than that
/// is absorbed (README, Capacity planning), so it counts as a 60 s window.
const PTU_WINDOW: Duration = Duration::from_secs(60);

/// The engine's figures in scenario time (`time_scale` scenario seconds per wall second);
/// `covered` is the scenario time its schedule reached.
pub fn engine_measurements(
    stats: &EngineStats,
    time_scale: f64,
    covered: Duration,
) -> EngineMeasurements {
    let scenario = |wall_us: u64| Duration::from_micros(wall_us).mul_f64(time_scale);
    let lag = &stats.send_lag_wall_us;
    EngineMeasurements {
        scheduled: stats.scheduled,
        sent: stats.sent,
        never_sent: stats.dropped,
        cancelled: stats.cancelled,
        send_lag: LagQuantiles {
            p50: scenario(lag.p50),
            p99: scenario(lag.p99),
            max: scenario(lag.max),
        },
        interrupted: stats.interrupted,
        covered,
        cpu_saturation: stats.cpu_saturation,
        cpu_wait: stats.cpu_wait,
        records_lost: Some(stats.records_lost),
    }
}

/// What a live strategy's figures are judged against: its scenario's windows and SLOs, the
/// latencies it measured, the time scale and the real hops a request crosses.
pub fn validity_context(
    fleet: &FleetConfig,
    setup: &RunSetup,
    summary: &StrategySummary,
    time_scale: f64,
    hops: u32,
) -> ValidityContext {
    let slo = &setup.slo;
    // TTFT from the actual send: the generator's own lag must not widen its own limit.
    let measured = [summary.ttft_from_send.p50_s, summary.e2e.p50_s]
        .into_iter()
        .flatten()
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map(Duration::from_secs_f64)
        .min();
    ValidityContext {
        time_scale,
        hops,
        planned: setup.duration,
        shortest_window: shortest_rate_limit_window(fleet),
        tightest_latency_slo: [slo.p99_ttft, slo.p95_e2e, slo.p99_e2e]
            .into_iter()
            .flatten()
            .min(),
        smallest_measured_latency: measured,
        ratio_tolerance: ratio_tolerance(slo.min_success_ratio, slo.max_client_429_ratio),
    }
}

/// The shortest rate-limit window of any deployment of `fleet`: a standard deployment's
/// request window (10 s, or 1 s with `request_window = "1s"`), a provisioned one's
/// [`PTU_WINDOW`].
pub fn shortest_rate_limit_window(fleet: &FleetConfig) -> Option<Duration> {
    fleet
        .resources
        .iter()
        .flat_map(|resource| &resource.deployments)
        .map(|deployment| match deployment.kind {
            DeploymentKind::Provisioned => PTU_WINDOW,
            DeploymentKind::Standard => {
                match fleet.switches.with(&deployment.switches).request_window {
                    RequestWindow::TenSeconds => Duration::from_secs(10),
                    RequestWindow::OneSecond => Duration::from_secs(1),
                }
            }
        })
        .min()
}
