//! What fleets cost and how they are bought: on one workload, hourly PTU prices make
//! pay-as-you-go the cheapest fleet and a 1-year reservation makes PTUs the cheapest, and the
//! plan says so; the search refines the PTU size down to the increment; a run too short for the
//! PTU bucket is lengthened; costs per hour, month and year follow from the prices; the
//! `[costs.ptu]` table parses and is validated, and the old `[costs]` shape still loads.

use std::path::{Path, PathBuf};

use throttlebox::plan::{
    FleetBuilder, FleetShape, PlanConfig, PriceBook, PriceOrigin, PricingMode, PtuDeploymentType,
    PtuSizing, Target, parse_targets, plan, plan_markdown,
};
use throttlebox::scenario::Scenario;
use throttlebox::sim::run_all;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan-hybrid.toml")
}

#[test]
fn hourly_prices_pick_payg_and_a_reservation_picks_ptu_for_the_same_workload() {
    let builder = FleetBuilder::new(&fixture(), &[], &[]).unwrap();
    let prices = PriceBook::resolve(&builder.costs().unwrap(), &builder.model).unwrap();
    assert_eq!(prices.ptu.len(), 2, "hourly and 1-year reservation");
    assert!(prices.ptu.iter().all(|r| r.origin == PriceOrigin::Scenario));
    let targets = parse_targets("success>=99.5%").unwrap();
    let config = PlanConfig {
        targets: targets.clone(),
        growth: 1.0,
        headroom: 0.0,
        sizings: vec![PtuSizing::defaults(
            "gpt-4o",
            PtuDeploymentType::Global,
            &Default::default(),
        )],
        cache_hit_rate: 0.0,
        prices,
        ptu_max: None,
        max_payg: 3,
        payg_tpms: Vec::new(),
        spillover: true,
        duration: None,
        jobs: 2,
        stop: Default::default(),
    };
    let result = plan(&builder, &config).unwrap();

    // The scenario's 2 minutes cannot show an overload of one increment: lengthened.
    assert!(result.run.lengthened, "{:?}", result.run);
    assert_eq!(result.run.scenario_seconds, 120.0);
    assert!(result.run.seconds >= 600.0, "{:?}", result.run);
    assert_eq!(result.run.seconds, result.run.needed_seconds);

    let strategy = &result.strategies[0];
    let mode = |mode: PricingMode| {
        strategy
            .by_mode
            .iter()
            .find(|entry| entry.mode == mode)
            .unwrap_or_else(|| panic!("{mode:?} is priced"))
    };
    let hourly = mode(PricingMode::Hourly);
    let yearly = mode(PricingMode::YearlyReservation);
    assert_eq!(
        hourly.choice.fleet.shape.ptu, 0,
        "hourly PTUs lose to pay-as-you-go: {:?}",
        hourly.choice
    );
    assert!(
        yearly.choice.fleet.shape.ptu > 0,
        "a reservation wins: {:?}",
        yearly.choice
    );
    assert!(yearly.choice.cost.total.per_month < hourly.choice.cost.total.per_month);
    let recommended = strategy.recommendation.as_ref().unwrap();
    assert_eq!(recommended, &yearly.choice);
    assert_eq!(
        recommended.cost.deployment_type,
        Some(PtuDeploymentType::Global)
    );

    // Costs follow from the prices: 100 per PTU-month, PAYG spend × 730 hours.
    let cost = &recommended.cost;
    assert_eq!(
        cost.ptu_per_month,
        f64::from(recommended.fleet.shape.ptu) * 100.0
    );
    assert!((cost.payg_per_month - recommended.fleet.payg_per_hour * 730.0).abs() < 1e-9);
    assert!((cost.total.per_hour * 730.0 - cost.total.per_month).abs() < 1e-6);
    assert!((cost.total.per_year - cost.total.per_month * 12.0).abs() < 1e-6);
    // The PAYG-only fleet pays for its calls: ~1 req/s × 3,600 × 4.5 thousandths an hour.
    let payg_hour = hourly.choice.fleet.payg_per_hour;
    assert!((payg_hour - 16.2).abs() < 16.2 * 0.05, "{payg_hour}");

    // And the plan says so, in its opening sentences.
    let markdown = plan_markdown(&result);
    let opening = markdown.split("## Evidence").next().unwrap();
    assert!(
        opening.contains(
            "Pay-as-you-go is cheapest with hourly PTU prices; PTU is cheapest with 1-year reservation prices."
        ),
        "{opening}"
    );
    assert!(
        opening.contains("**priority-pool**: deploy")
            && opening.contains("Global Provisioned on a 1-year reservation")
            && opening.contains("per month"),
        "{opening}"
    );

    // Refined to the increment: the smallest PTU-only fleet that meets the target was found
    // among sizes tried 5 PTU apart around it (the grid alone steps by 10 here), and the size
    // one increment below was tried and rejected.
    let smallest = strategy
        .fleets
        .iter()
        .map(|fleet| fleet.shape)
        .filter(|shape| shape.ptu > 0 && !shape.has_payg())
        .map(|shape| shape.ptu)
        .min()
        .expect("a PTU-only fleet meets the target");
    assert!(
        result.ptu_sizes_simulated.contains(&(smallest - 5)),
        "{smallest} − 5 not tried: {:?}",
        result.ptu_sizes_simulated
    );
    assert!(
        result
            .ptu_sizes_simulated
            .windows(2)
            .any(|pair| pair[1] - pair[0] == 5),
        "{:?}",
        result.ptu_sizes_simulated
    );
    // It covers the load's sustained demand (mean calls × (1,000 + 4 × 200) ÷ 2,500): a
    // smaller PTU-only fleet passes a run only because its bucket has not filled yet.
    let demand = result.load.calls_per_min * 1_800.0 / 2_500.0;
    assert!(f64::from(smallest) >= demand, "{smallest} < {demand}");
    let duration = format!("{}s", result.run.seconds);
    let smaller = builder
        .build(
            FleetShape::pool(smallest - 5, 0, 100_000),
            1.0,
            None,
            Some(&duration),
        )
        .unwrap();
    let summary = run_all(&smaller, None, 1, "test", &|_| {}).unwrap().summary;
    let below_demand = f64::from(smallest - 5) < demand;
    assert!(
        below_demand || !Target::all_met(&targets, &summary.strategies[0]),
        "{} PTU also meets it: the search stopped above the increment",
        smallest - 5
    );
}

#[test]
fn the_old_costs_shape_loads_and_plans_with_dated_example_prices() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/ptu-payg-pool.toml");
    let scenario = Scenario::load(&path, &[]).unwrap();
    assert_eq!(scenario.file.costs.ptu_per_hour, 1.0);
    assert!(scenario.file.costs.ptu.is_empty());
    let book = PriceBook::resolve(&scenario.file.costs, "gpt-4o").unwrap();
    assert!(!book.ptu.is_empty());
    for rate in &book.ptu {
        let PriceOrigin::Example { as_of, source } = &rate.origin else {
            panic!("{rate:?} should be an example price");
        };
        assert_eq!(as_of, "2026-03");
        assert!(source.contains("unconfirmed"), "{source}");
    }
    assert!(
        book.notes
            .iter()
            .any(|note| note.contains("not quotes") && note.contains("costs.ptu_per_hour")),
        "{:?}",
        book.notes
    );
    // The scenario's own PAYG prices are kept.
    assert_eq!(book.payg_origin, PriceOrigin::Scenario);
    assert_eq!(
        (book.payg_input_per_1k, book.payg_output_per_1k),
        (0.0025, 0.01)
    );
}

fn parse(costs: &str) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let head = text.split("[costs]").next().unwrap();
    Scenario::parse(
        &format!("{head}{costs}"),
        "plan-hybrid.toml",
        Some(fixture().parent().unwrap().to_path_buf()),
        &[],
    )
    .map_err(|error| error.to_string())
}

#[test]
fn the_ptu_price_table_parses_and_is_validated() {
    let scenario = parse(
        "[costs]\n[costs.ptu.regional]\nmonthly_reservation = 260.0\n[costs.ptu.data_zone]\nhourly = 1.1\n",
    )
    .unwrap();
    let book = PriceBook::resolve(&scenario.file.costs, "gpt-4o").unwrap();
    let priced: Vec<(PtuDeploymentType, PricingMode)> = book
        .ptu
        .iter()
        .map(|rate| (rate.deployment_type, rate.mode))
        .collect();
    assert_eq!(
        priced,
        [
            (PtuDeploymentType::DataZone, PricingMode::Hourly),
            (PtuDeploymentType::Regional, PricingMode::MonthlyReservation),
        ],
        "exactly the prices given; no example mixed in"
    );
    assert_eq!(
        book.rate(PtuDeploymentType::DataZone, PricingMode::Hourly)
            .unwrap()
            .per_ptu_month,
        1.1 * 730.0
    );
    // No PAYG price in the scenario: the example for gpt-4o, marked.
    assert!(matches!(book.payg_origin, PriceOrigin::Example { .. }));

    let negative = parse("[costs]\n[costs.ptu.global]\nhourly = -1.0\n").unwrap_err();
    assert!(negative.contains("costs.ptu.global.hourly"), "{negative}");
    let unknown = parse("[costs]\n[costs.ptu.global]\nweekly = 1.0\n").unwrap_err();
    assert!(unknown.contains("weekly"), "{unknown}");
    let bad_type = parse("[costs]\n[costs.ptu.local]\nhourly = 1.0\n").unwrap_err();
    assert!(bad_type.contains("local"), "{bad_type}");
}
