//! PTU sizing: the reference's worked example, the §8 minimums and increments, rounding, and
//! the target syntax.

use aoai_mock::config::ModelOverrides;
use throttlebox::plan::{
    Comparison, LoadProfile, PtuDeploymentType, PtuSizing, estimate, parse_fraction, parse_targets,
};

fn load(calls_per_min: f64, prompt: f64, output: f64) -> LoadProfile {
    LoadProfile {
        requests: calls_per_min as u64,
        duration_s: 60.0,
        calls_per_min,
        peak_calls_per_min: calls_per_min as u64,
        mean_prompt_tokens: prompt,
        mean_output_tokens: output,
        mean_admission_tokens: prompt + output,
    }
}

/// loadgen reference §8: gpt-4.1 global, 60 calls/min × (1,000 + 4 × 200) = 108,000 TPM;
/// / 3,000 = 36 PTU → 40 PTU in increments of 5.
#[test]
fn worked_example_of_the_reference() {
    let sizing = PtuSizing::defaults(
        "gpt-4.1",
        PtuDeploymentType::Global,
        &ModelOverrides::default(),
    );
    assert_eq!(
        (
            sizing.input_tpm_per_ptu,
            sizing.output_weight,
            sizing.min,
            sizing.increment
        ),
        (3000.0, 4.0, 15, 5)
    );
    let answer = estimate(&load(60.0, 1000.0, 200.0), &sizing, 0.0, None);
    assert_eq!(answer.tpm_equivalent, 108_000.0);
    assert_eq!(answer.ptu_raw, 36.0);
    assert_eq!(answer.ptu, 40);
    // 20% headroom: 43.2 raw → 45.
    assert_eq!(
        estimate(&load(60.0, 1000.0, 200.0), &sizing, 0.2, None).ptu_with_headroom,
        45
    );
}

#[test]
fn minimums_and_increments_per_deployment_type() {
    let none = ModelOverrides::default();
    let regional = |model| {
        let s = PtuSizing::defaults(model, PtuDeploymentType::Regional, &none);
        (s.min, s.increment)
    };
    assert_eq!(regional("gpt-4o"), (50, 50));
    assert_eq!(regional("gpt-4o-mini"), (25, 25));
    assert_eq!(regional("gpt-4.1-mini"), (25, 25));
    assert_eq!(regional("o1"), (25, 50));
    assert_eq!(regional("some-new-model"), (50, 50));
    let sizing = PtuSizing::defaults("gpt-4o", PtuDeploymentType::Regional, &none);
    assert_eq!(sizing.deployable(1.0), 50); // never below the minimum
    assert_eq!(sizing.deployable(50.0), 50);
    assert_eq!(sizing.deployable(50.1), 100);
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

#[test]
fn payg_count_covers_the_admission_estimate_with_headroom() {
    let sizing = PtuSizing::defaults(
        "gpt-4o",
        PtuDeploymentType::Global,
        &ModelOverrides::default(),
    );
    // 75 calls/min × 1,200 tokens = 90,000 TPM; × 1.2 = 108,000 → 3 deployments of 50,000.
    let answer = estimate(&load(75.0, 1000.0, 200.0), &sizing, 0.2, Some(50_000));
    assert_eq!(answer.payg_tpm_needed, 90_000.0);
    assert_eq!(answer.payg_count_with_headroom, Some(3));
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
        assert!(error.contains("--target"), "{bad}: {error}");
    }
    assert_eq!(parse_fraction("--headroom", "20%").unwrap(), 0.2);
    assert!(parse_fraction("--headroom", "-5%").is_err());
}

/// `gpt-4.1-nano` used to prefix-match the `gpt-4.1` entry (regional 50/50) and copy
/// gpt-4.1-mini's throughput; its own row is 59,400 input TPM per PTU, regional 25/25.
#[test]
fn gpt_4_1_nano_is_sized_by_its_own_row() {
    let none = ModelOverrides::default();
    for model in ["gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"] {
        let regional = PtuSizing::defaults(model, PtuDeploymentType::Regional, &none);
        assert_eq!(
            (regional.input_tpm_per_ptu, regional.min, regional.increment),
            (59_400.0, 25, 25),
            "{model}"
        );
    }
    let o4 = PtuSizing::defaults("o4-mini", PtuDeploymentType::Regional, &none);
    assert_eq!(
        (o4.input_tpm_per_ptu, o4.min, o4.increment),
        (5_400.0, 25, 25)
    );
}
