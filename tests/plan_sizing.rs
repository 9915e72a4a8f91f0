//! PTU sizing: Microsoft's documented worked examples reproduced exactly through the model
//! table and the documented formula, the busiest minute as the peak, the deployment types'
//! minimums, increments and rounding, the break-even arithmetic, and the target syntax.

use std::path::Path;

use aoai_mock::config::ModelOverrides;
use throttlebox::plan::{
    Comparison, LoadProfile, PtuDeploymentType, PtuSizing, UnitEconomics, break_even, calculate,
    estimate, parse_fraction, parse_targets, payg_estimate, profile,
};
use throttlebox::scenario::Scenario;

fn sizing(model: &str, kind: PtuDeploymentType) -> PtuSizing {
    PtuSizing::defaults(model, kind, &ModelOverrides::default())
}

fn two_decimals(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// "Determine PTU sizing for a workload" (ms.date 2026-05-22), worked example: gpt-5.2, Data
/// Zone, peak 1,000 RPM, 200 prompt and 20 response tokens. Input TPM 200,000; output TPM
/// 20,000; normalized 360,000; 105.88 PTU → 110. With 50% cache hits: 260,000; 76.47 → 80.
#[test]
fn microsofts_worked_example_gpt_5_2_data_zone() {
    let data_zone = sizing("gpt-5.2", PtuDeploymentType::DataZone);
    assert_eq!(
        (
            data_zone.input_tpm_per_ptu,
            data_zone.output_weight,
            data_zone.min,
            data_zone.increment
        ),
        (3_400.0, 8.0, 15, 5),
        "the table's gpt-5.2 row"
    );
    let no_cache = calculate(1_000.0, 200.0, 20.0, 0.0, &data_zone);
    assert_eq!(no_cache.input_tpm, 200_000.0);
    assert_eq!(no_cache.output_tpm, 20_000.0);
    assert_eq!(no_cache.normalized_tpm, 360_000.0);
    assert_eq!(two_decimals(no_cache.ptu_raw), 105.88);
    assert_eq!(no_cache.ptu, 110);

    let half_cached = calculate(1_000.0, 200.0, 20.0, 0.5, &data_zone);
    assert_eq!(half_cached.input_tpm * (1.0 - 0.5), 100_000.0);
    assert_eq!(half_cached.normalized_tpm, 260_000.0);
    assert_eq!(two_decimals(half_cached.ptu_raw), 76.47);
    assert_eq!(half_cached.ptu, 80);

    // Regional rounds to gpt-5.2's 50/50: 105.88 → 150, 76.47 → 100.
    let regional = sizing("gpt-5.2", PtuDeploymentType::Regional);
    assert_eq!(calculate(1_000.0, 200.0, 20.0, 0.0, &regional).ptu, 150);
    assert_eq!(calculate(1_000.0, 200.0, 20.0, 0.5, &regional).ptu, 100);
}

/// The page's ratio statement "for gpt-4.1, one output token counts as four input tokens",
/// as the loadgen reference's example: 60 calls/min × (1,000 + 4 × 200) = 108,000 TPM;
/// ÷ 3,000 = 36 PTU → 40 in increments of 5 (global), 50 regional.
#[test]
fn gpt_4_1_example_of_the_reference() {
    let global = sizing("gpt-4.1", PtuDeploymentType::Global);
    let answer = calculate(60.0, 1_000.0, 200.0, 0.0, &global);
    assert_eq!(answer.normalized_tpm, 108_000.0);
    assert_eq!(answer.ptu_raw, 36.0);
    assert_eq!(answer.ptu, 40);
    let regional = sizing("gpt-4.1", PtuDeploymentType::Regional);
    assert_eq!(calculate(60.0, 1_000.0, 200.0, 0.0, &regional).ptu, 50);
    // A raw figure exactly on a step stays on it.
    assert_eq!(calculate(75.0, 1_000.0, 0.0, 0.0, &global).ptu, 25);
}

/// The calculator's figure sizes on the busiest minute, not the mean; the mean-rate figure is
/// beside it. On `payg-steady` (1.25 req/s of 1,000 in / 150 out, gpt-4o): mean 75 calls/min ×
/// 1,600 = 120,000 → 48 → 50 PTU; its busiest minute sizes to 60 PTU.
#[test]
fn the_calculator_sizes_the_busiest_minute_of_the_workload() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/payg-steady.toml");
    let scenario = Scenario::load(&path, &[]).unwrap();
    let workload = scenario.workload().unwrap();
    let length = scenario.duration(&workload).unwrap();
    let load = profile(&workload, length, 640).unwrap();
    assert!(load.peak_calls_per_min as f64 > load.calls_per_min);
    let global = sizing("gpt-4o", PtuDeploymentType::Global);
    let answer = estimate(&load, &global, 0.0, 0.0);
    assert_eq!(
        answer.calculator.calls_per_min,
        load.peak_calls_per_min as f64
    );
    assert_eq!(
        answer.calculator.normalized_tpm,
        load.peak_calls_per_min as f64 * (1_000.0 + 4.0 * 150.0)
    );
    assert_eq!(answer.mean_rate.calls_per_min, load.calls_per_min);
    assert_eq!(answer.mean_rate.ptu, 50);
    assert_eq!(answer.calculator.ptu, 60);
    // A cache hit rate lowers only the prompt part.
    let cached = estimate(&load, &global, 0.5, 0.0);
    assert_eq!(
        cached.calculator.normalized_tpm,
        load.peak_calls_per_min as f64 * (500.0 + 4.0 * 150.0)
    );
    // Headroom multiplies the calls.
    let with_headroom = estimate(&load, &global, 0.0, 0.2);
    assert_eq!(
        with_headroom.calculator_with_headroom.calls_per_min,
        load.peak_calls_per_min as f64 * 1.2
    );
}

#[test]
fn minimums_increments_and_sizes_per_deployment_type() {
    let regional = |model| {
        let s = sizing(model, PtuDeploymentType::Regional);
        (s.min, s.increment)
    };
    assert_eq!(regional("gpt-4o"), (50, 50));
    assert_eq!(regional("gpt-4o-mini"), (25, 25));
    assert_eq!(regional("gpt-4.1-mini"), (25, 25));
    assert_eq!(regional("o1"), (25, 50));
    assert_eq!(regional("some-new-model"), (50, 50));
    let data_zone = sizing("gpt-4o", PtuDeploymentType::DataZone);
    assert_eq!((data_zone.min, data_zone.increment), (15, 5));
    let gpt_4o = sizing("gpt-4o", PtuDeploymentType::Regional);
    assert_eq!(gpt_4o.deployable(1.0), 50); // never below the minimum
    assert_eq!(gpt_4o.deployable(50.0), 50);
    assert_eq!(gpt_4o.deployable(50.1), 100);
    // o1 regional: minimum 25, then multiples of 50. The calculator rounds "up to the nearest
    // scale increment, or to the minimum, whichever is larger": 10 raw → 50, not 25.
    let o1 = sizing("o1", PtuDeploymentType::Regional);
    assert_eq!((o1.size(0), o1.size(1), o1.size(2)), (25, 50, 100));
    assert_eq!((o1.deployable(10.0), o1.deployable(30.0)), (50, 50));
    assert!(o1.fits(25) && o1.fits(150) && !o1.fits(75) && !o1.fits(20));
    assert_eq!(o1.index_at_most(99), Some(1));
    assert_eq!(o1.index_at_most(24), None);
    let global = sizing("gpt-4o", PtuDeploymentType::Global);
    assert_eq!(
        (global.size(0), global.size(1), global.size(24)),
        (15, 20, 135)
    );
    assert_eq!(global.index_at_most(137), Some(24));
    // A deployment's own model constants are the default (the simulation uses them too).
    let tuned = ModelOverrides {
        input_tpm_per_ptu: Some(1234.0),
        ..ModelOverrides::default()
    };
    assert_eq!(
        PtuSizing::defaults("gpt-4o", PtuDeploymentType::Global, &tuned).input_tpm_per_ptu,
        1234.0
    );
}

/// `gpt-4.1-nano` used to prefix-match the `gpt-4.1` entry (regional 50/50) and copy
/// gpt-4.1-mini's throughput; its own row is 59,400 input TPM per PTU, regional 25/25.
#[test]
fn gpt_4_1_nano_is_sized_by_its_own_row() {
    for model in ["gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"] {
        let regional = sizing(model, PtuDeploymentType::Regional);
        assert_eq!(
            (regional.input_tpm_per_ptu, regional.min, regional.increment),
            (59_400.0, 25, 25),
            "{model}"
        );
    }
    let o4 = sizing("o4-mini", PtuDeploymentType::Regional);
    assert_eq!(
        (o4.input_tpm_per_ptu, o4.min, o4.increment),
        (5_400.0, 25, 25)
    );
    let o3 = sizing("o3", PtuDeploymentType::Global);
    assert_eq!((o3.input_tpm_per_ptu, o3.output_weight), (3_000.0, 4.0));
}

#[test]
fn payg_count_covers_the_admission_estimate_with_headroom() {
    let load = LoadProfile {
        requests: 75,
        duration_s: 60.0,
        calls_per_min: 75.0,
        peak_calls_per_min: 75,
        mean_prompt_tokens: 1000.0,
        mean_output_tokens: 150.0,
        mean_admission_tokens: 1200.0,
    };
    // 75 calls/min × 1,200 tokens = 90,000 TPM; × 1.2 = 108,000 → 3 deployments of 50,000.
    let answer = payg_estimate(&load, 0.2, 50_000);
    assert_eq!(answer.tpm_needed, 90_000.0);
    assert_eq!(answer.count_with_headroom, 3);
}

/// Break-even by hand: PAYG costs 10 per month per req/s; 1 req/s needs 2 PTU (min 1,
/// increment 1) at 4 per PTU-month. Size s serves up to s/2 req/s for 4s, which PAYG reaches
/// at 0.4s req/s: 1 PTU is cheaper from 0.4 to 0.5 req/s, 2 PTU from 0.8 to 1.0, 3 from 1.2
/// to 1.5, 4 from 1.6 to 2.0, and 5 PTU (20) is already cheaper at 2.0 req/s (PAYG 20): from
/// 1.6 req/s on, PTU never costs more.
#[test]
fn break_even_is_the_last_crossing() {
    let units = UnitEconomics {
        payg_per_rps_month: 10.0,
        ptu_per_rps: 2.0,
        ptu_per_rps_mean: 2.0,
    };
    let sizing = PtuSizing {
        kind: PtuDeploymentType::Global,
        input_tpm_per_ptu: 1.0,
        output_weight: 1.0,
        min: 1,
        increment: 1,
    };
    let at = break_even(&units, &sizing, 4.0).unwrap();
    assert!((at - 1.6).abs() < 1e-9, "{at}");
    // Check it against the costs themselves, on a fine grid above and just below.
    let ptu_cost = |rps: f64| f64::from(units.ptu_needed(rps, &sizing)) * 4.0;
    for step in 1..400 {
        let rps = at + f64::from(step) * 0.01;
        assert!(ptu_cost(rps) <= 10.0 * rps + 1e-9, "{rps}");
    }
    assert!(ptu_cost(at - 0.01) > 10.0 * (at - 0.01));
    // At a price where the PTU slope is steeper than PAYG's, never.
    assert_eq!(break_even(&units, &sizing, 5.0), None);
}

#[test]
fn targets_parse_with_units_and_short_names() {
    let targets = parse_targets("p99_ttft<2s, success>=99.5%,429<=0.5%,p95_e2e<800ms").unwrap();
    assert_eq!(targets.len(), 4);
    assert_eq!(targets[0].metric.name, "p99_ttft");
    assert_eq!(targets[0].comparison, Comparison::Below);
    assert_eq!(targets[0].value, 2.0);
    assert_eq!(targets[1].metric.name, "success_ratio");
    assert_eq!(targets[1].comparison, Comparison::AtLeast);
    assert!((targets[1].value - 0.995).abs() < 1e-12);
    assert_eq!(targets[2].metric.name, "client_429_ratio");
    assert_eq!(targets[3].value, 0.8);
    assert_eq!(targets[1].to_string(), "success_ratio>=99.5%");
    for bad in [
        "",
        "p99_ttft",
        "latency<2s",
        "p99_ttft<fast",
        "success>=150%",
    ] {
        let error = parse_targets(bad).unwrap_err().to_string();
        assert!(error.contains("--slo"), "{bad}: {error}");
    }
    assert_eq!(parse_fraction("--headroom", "20%").unwrap(), 0.2);
    assert!(parse_fraction("--headroom", "-5%").is_err());
}
