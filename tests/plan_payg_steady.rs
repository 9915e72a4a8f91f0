//! A plan whose answer can be worked out by hand: `scenarios/payg-steady.toml` sends a steady
//! Poisson load of identical requests to identical pay-as-you-go deployments. A standard
//! deployment admits a request against `prompt + max_tokens`, so the smallest fleet is the
//! smallest count whose total TPM covers `rate × 60 × (prompt + max_tokens) × (1 + headroom)`.
//! The expected count is computed here from the scenario's own numbers.

use std::path::Path;

use throttlebox::plan::{
    FleetBuilder, FleetShape, PlanConfig, PriceBook, PtuDeploymentType, PtuSizing, Target,
    parse_targets, plan,
};
use throttlebox::scenario::Scenario;
use throttlebox::sim::run_all;
use throttlebox::workload::{ArrivalsConfig, SizeDist};

const HEADROOM: f64 = 0.2;

fn scenario_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/payg-steady.toml")
}

/// `ceil(rate × 60 × (prompt + max_tokens) × (1 + headroom) / tpm)` from the scenario file.
fn expected_count() -> (u32, u64) {
    let scenario = Scenario::load(&scenario_path(), &[]).unwrap();
    let app = &scenario.file.workload.apps[0];
    let ArrivalsConfig::Poisson { rate } = app.arrivals else {
        panic!("a Poisson load")
    };
    let (SizeDist::Constant { value: prompt }, Some(SizeDist::Constant { value: max_tokens })) =
        (&app.prompt_tokens, &app.max_tokens)
    else {
        panic!("constant sizes")
    };
    let tpm = match scenario.fleet().resources[0].deployments[0].quota() {
        aoai_mock::config::Quota::Standard { tpm, .. } => tpm,
        other => panic!("a standard deployment, not {other:?}"),
    };
    let needed = rate * 60.0 * f64::from(prompt + max_tokens) * (1.0 + HEADROOM);
    ((needed / tpm as f64).ceil() as u32, tpm)
}

#[test]
fn plan_finds_the_hand_computed_payg_count() {
    let (expected, tpm) = expected_count();
    assert_eq!(
        expected, 3,
        "the scenario's numbers were chosen for a clear answer"
    );
    let builder = FleetBuilder::new(&scenario_path(), &[], &[]).unwrap();
    assert!(builder.has_payg() && !builder.has_ptu());
    let targets = parse_targets("success>=99.5%").unwrap();
    let config = PlanConfig {
        targets: targets.clone(),
        growth: 1.0,
        headroom: HEADROOM,
        sizings: vec![PtuSizing::defaults(
            "gpt-4o",
            PtuDeploymentType::Global,
            &Default::default(),
        )],
        cache_hit_rate: 0.0,
        prices: PriceBook::resolve(&builder.costs().unwrap(), &builder.model).unwrap(),
        ptu_max: None,
        max_payg: 6,
        payg_tpms: Vec::new(),
        spillover: true,
        duration: None,
        jobs: 2,
        stop: Default::default(),
    };
    let result = plan(&builder, &config).unwrap();
    assert_eq!(
        result.payg_estimate.map(|p| p.count_with_headroom),
        Some(expected)
    );
    // Pay-as-you-go windows settle within the scenario's 10 minutes: not lengthened.
    assert!(!result.run.lengthened && result.run.warnings.is_empty());
    assert_eq!(result.strategies.len(), 2);
    for strategy in &result.strategies {
        let best = strategy
            .recommendation
            .as_ref()
            .expect("a fleet meets the targets");
        assert_eq!(
            best.fleet.shape,
            FleetShape::pool(0, expected, tpm),
            "{}",
            strategy.strategy
        );
        assert_eq!(best.cost.deployment_type, None, "no PTU to buy");
        // The knee lies above the tested load and the curve shows the targets failing past it.
        let knee = strategy.knee_factor.unwrap();
        assert!(knee >= 1.0 + HEADROOM, "{}: knee {knee}", strategy.strategy);
        assert!(strategy.curve.iter().any(|point| !point.meets_targets));
    }

    // One deployment fewer really misses the targets at the load with headroom.
    let smaller = builder
        .build(
            FleetShape::pool(0, expected - 1, tpm),
            1.0 + HEADROOM,
            None,
            None,
        )
        .unwrap();
    let summary = run_all(&smaller, None, 2, "test", &|_| {}).unwrap().summary;
    for strategy in &summary.strategies {
        assert!(
            !Target::all_met(&targets, strategy),
            "{} meets the targets with {} deployments",
            strategy.name,
            expected - 1
        );
    }
}

#[test]
fn growth_scales_the_planned_rate() {
    let builder = FleetBuilder::new(&scenario_path(), &[], &["round-robin".to_string()]).unwrap();
    let shape = FleetShape::pool(0, 1, 50_000);
    let base = builder.build(shape, 1.0, None, None).unwrap();
    let grown = builder.build(shape, 1.5, None, None).unwrap();
    let rate = |scenario: &Scenario| match scenario.file.workload.apps[0].arrivals {
        ArrivalsConfig::Poisson { rate } => rate,
        _ => unreachable!(),
    };
    assert_eq!(rate(&grown), rate(&base) * 1.5);
    assert_eq!(grown.strategies.len(), 1);
    assert_eq!(grown.file.fleet.resources.len(), 1);
}
