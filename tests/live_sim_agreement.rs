//! The simulator and a live run agree: on two shipped scenarios — the PTU + PAYG pool under
//! overload and a regional brownout — time-compressed to a few seconds of wall time, the live
//! run's success ratio, client-visible 429 ratio and per-backend traffic share are within 5
//! percentage points of the simulator's, and its median end-to-end latency within 10%.

use crate::live_support;

use throttlebox::report::{StrategySummary, Summary};
use throttlebox::sim::run_all;

fn simulate(scenario: &throttlebox::scenario::Scenario) -> Summary {
    run_all(scenario, None, 1, "test", &|_| {})
        .expect("simulation")
        .summary
}

fn assert_agree(sim: &StrategySummary, live: &StrategySummary) {
    let name = &sim.name;
    let close = |what: &str, a: f64, b: f64, tolerance: f64| {
        assert!(
            (a - b).abs() <= tolerance,
            "{name}: {what}: simulator {a:.4} vs live {b:.4} (tolerance {tolerance})"
        );
    };
    assert!(
        live.requests > 300,
        "{name}: {} live requests",
        live.requests
    );
    close("success ratio", sim.success_ratio, live.success_ratio, 0.05);
    close(
        "client 429 ratio",
        sim.client_429_ratio,
        live.client_429_ratio,
        0.05,
    );
    for (s, l) in sim.backends.iter().zip(&live.backends) {
        assert_eq!(s.name, l.name);
        close(
            &format!("attempt share of {}", s.name),
            s.attempt_share,
            l.attempt_share,
            0.05,
        );
    }
    let sim_p50 = sim.e2e.p50_s.expect("sim median");
    let live_p50 = live.e2e.p50_s.expect("live median");
    assert!(
        (live_p50 - sim_p50).abs() <= 0.10 * sim_p50,
        "{name}: median e2e simulator {sim_p50:.3}s vs live {live_p50:.3}s"
    );
}

fn agree(file: &str, sets: &[&str], keep: &[&str], time_scale: f64) {
    // Live runs take turns (with each other and the conformance lab): two at once would share
    // the cores and stretch latencies.
    let _turn = live_support::TIMED_RUNS_ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let scenario = live_support::shipped(file, sets, keep);
    let sim = simulate(&scenario);
    let live = live_support::run(&scenario, time_scale);
    assert_eq!(live.summary.strategies.len(), sim.strategies.len());
    for (sim, live) in sim.strategies.iter().zip(&live.summary.strategies) {
        eprintln!(
            "{}: success {:.3}/{:.3} 429 {:.3}/{:.3} p50 {:?}/{:?} shares {:?}/{:?}",
            sim.name,
            sim.success_ratio,
            live.success_ratio,
            sim.client_429_ratio,
            live.client_429_ratio,
            sim.e2e.p50_s,
            live.e2e.p50_s,
            sim.backends
                .iter()
                .map(|b| b.attempt_share)
                .collect::<Vec<_>>(),
            live.backends
                .iter()
                .map(|b| b.attempt_share)
                .collect::<Vec<_>>(),
        );
        assert_agree(sim, live);
    }
}

#[test]
fn ptu_payg_pool_under_overload() {
    // 2 scenario minutes at 10× = 12 s of wall time per strategy.
    agree(
        "ptu-payg-pool.toml",
        &["workload.duration=2m", "fleet.switches.burst_shape=merged"],
        &["apim-smart-policy"],
        10.0,
    );
}

#[test]
fn regional_brownout() {
    // 3 scenario minutes at 15× = 12 s of wall time per strategy.
    agree("regional-brownout.toml", &[], &["round-robin"], 15.0);
}
