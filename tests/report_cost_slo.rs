//! Cost arithmetic, `[costs]` / `[slo]` parsing and validation, SLO verdicts at the boundary.

use crate::report_fixture;

use std::time::Duration;

use report_fixture::priority_summary;
use throttlebox::report::{BackendInfo, CostConfig, SloConfig, TokenUsage, cost};

fn backends() -> Vec<BackendInfo> {
    vec![
        BackendInfo {
            name: "ptu".to_string(),
            provisioned_ptus: 50,
        },
        BackendInfo {
            name: "payg".to_string(),
            provisioned_ptus: 0,
        },
    ]
}

#[test]
fn ptu_accrues_unused_and_payg_bills_tokens_with_overrides() {
    let config: CostConfig = toml::from_str(
        r#"
        ptu_per_hour = 1.5
        payg_input_per_1k = 0.002
        payg_output_per_1k = 0.008
        [deployments.payg]
        payg_output_per_1k = 0.01
        "#,
    )
    .expect("valid [costs]");
    config.validate(&backends()).expect("valid prices");
    // Two hours; the PTU deployment served nothing and still costs 50 × 1.5 × 2 = 150.
    let served = [
        TokenUsage::default(),
        TokenUsage {
            input: 10_000,
            output: 2_000,
        },
    ];
    let breakdown = cost(&config, &backends(), &served, Duration::from_secs(7200));
    assert_eq!(breakdown.ptu, 150.0);
    // 10 × 0.002 + 2 × 0.01 (override) = 0.04.
    assert!((breakdown.payg - 0.04).abs() < 1e-12, "{}", breakdown.payg);
    assert_eq!(breakdown.per_backend.len(), 2);
    assert!((breakdown.total - 150.04).abs() < 1e-9);
}

#[test]
fn no_price_is_built_in() {
    let breakdown = cost(
        &CostConfig::default(),
        &backends(),
        &[TokenUsage {
            input: 1_000_000,
            output: 1_000_000,
        }; 2],
        Duration::from_secs(3600),
    );
    assert_eq!(breakdown.total, 0.0);
}

#[test]
fn cost_config_refuses_unknown_fields_deployments_and_negative_prices() {
    let unknown = toml::from_str::<CostConfig>("ptu_hourly = 1.0").unwrap_err();
    assert!(unknown.to_string().contains("ptu_hourly"), "{unknown}");

    let config: CostConfig = toml::from_str("[deployments.nowhere]\nptu_per_hour = 1.0").unwrap();
    let error = config.validate(&backends()).unwrap_err().to_string();
    assert!(error.contains("costs.deployments.nowhere"), "{error}");

    let config: CostConfig =
        toml::from_str("[deployments.payg]\npayg_input_per_1k = -1.0").unwrap();
    let error = config.validate(&backends()).unwrap_err().to_string();
    assert!(
        error.contains("costs.deployments.payg.payg_input_per_1k"),
        "{error}"
    );
}

#[test]
fn slo_config_parses_durations_and_refuses_bad_values() {
    let slo: SloConfig = toml::from_str(
        r#"
        p99_ttft = "1500ms"
        p95_e2e = "PT8S"
        p99_e2e = "15s"
        min_success_ratio = 0.99
        max_client_429_ratio = 0.005
        max_cost = 12.5
        "#,
    )
    .expect("valid [slo]");
    assert_eq!(slo.p99_ttft, Some(Duration::from_millis(1500)));
    assert_eq!(slo.p95_e2e, Some(Duration::from_secs(8)));
    slo.validate().expect("in range");

    let error = toml::from_str::<SloConfig>("p90_e2e = \"1s\"").unwrap_err();
    assert!(error.to_string().contains("p90_e2e"), "{error}");
    let error = toml::from_str::<SloConfig>("p99_e2e = \"soon\"").unwrap_err();
    assert!(error.to_string().contains("soon"), "{error}");
    let slo: SloConfig = toml::from_str("min_success_ratio = 1.5").unwrap();
    let error = slo.validate().unwrap_err().to_string();
    assert!(error.contains("slo.min_success_ratio"), "{error}");
}

#[test]
fn verdicts_flip_exactly_at_the_limit() {
    // The fixture reports e2e p95 = 0.8 s, success ratio 0.8, 429 ratio 0.1, cost 0.5976.
    let summary = priority_summary();
    let at_limit = SloConfig {
        p95_e2e: Some(Duration::from_millis(800)),
        min_success_ratio: Some(0.8),
        max_client_429_ratio: Some(0.1),
        max_cost: Some(0.5976),
        ..SloConfig::default()
    };
    let verdicts = at_limit.evaluate(&summary);
    assert_eq!(verdicts.len(), 4);
    assert!(verdicts.iter().all(|v| v.pass), "{verdicts:?}");

    let just_past = SloConfig {
        p95_e2e: Some(Duration::from_millis(799)),
        min_success_ratio: Some(0.8001),
        max_client_429_ratio: Some(0.0999),
        max_cost: Some(0.5975),
        ..SloConfig::default()
    };
    let verdicts = just_past.evaluate(&summary);
    assert_eq!(verdicts.len(), 4);
    assert!(verdicts.iter().all(|v| !v.pass), "{verdicts:?}");
}

#[test]
fn a_latency_rule_without_samples_fails() {
    let mut summary = priority_summary();
    summary.ttft = Default::default();
    let slo = SloConfig {
        p99_ttft: Some(Duration::from_secs(60)),
        ..SloConfig::default()
    };
    let verdicts = slo.evaluate(&summary);
    assert_eq!(verdicts[0].actual, None);
    assert!(!verdicts[0].pass);
    assert!(SloConfig::default().evaluate(&summary).is_empty());
}

#[test]
fn run_setup_refuses_names_the_outputs_cannot_carry() {
    let good = report_fixture::setup();
    good.validate().expect("the fixture is valid");
    for (mutate, field) in [
        (
            (|s: &mut throttlebox::report::RunSetup| s.backends[1].name = "ptu-east".into())
                as fn(&mut throttlebox::report::RunSetup),
            "backends",
        ),
        (|s| s.backends[2].name = "a;b".into(), "backends.a;b"),
        (|s| s.backends[2].name = "all".into(), "backends.all"),
        (|s| s.strategies[1] = String::new(), "strategies"),
        (
            |s| s.slo.max_client_429_ratio = Some(-0.1),
            "slo.max_client_429_ratio",
        ),
    ] {
        let mut setup = (*good).clone();
        mutate(&mut setup);
        let error = setup.validate().unwrap_err().to_string();
        assert!(error.contains(&format!("invalid {field}:")), "{error}");
    }
}
