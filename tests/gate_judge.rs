//! The gate's judgement in process: a golden file of the JUnit XML for a fixed-seed scenario
//! (rewrite deliberately with `UPDATE_GOLDEN=1 cargo test --test gate_judge` and review the
//! diff), and the live rank test on repeated runs: noise and one slow run do not fail the gate,
//! a real shift beyond the budget does, a significant shift within the budget does not.

use std::fs;
use std::path::Path;

use throttlebox::gate::{
    Baseline, BudgetSet, GateSection, Status, gate_markdown, judge, junit_xml,
};
use throttlebox::report::{Mode, Summary};
use throttlebox::scenario::{Override, Scenario};
use throttlebox::sim::run_all;

fn simulate(sets: &[&str]) -> Summary {
    let mut overrides = vec![Override::parse("workload.duration=2m").unwrap()];
    overrides.extend(sets.iter().map(|text| Override::parse(text).unwrap()));
    let scenario = Scenario::embedded_default(&overrides).unwrap();
    run_all(&scenario, None, 2, "test", &|_| {})
        .unwrap()
        .summary
}

fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|value| value == "1") {
        fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}; UPDATE_GOLDEN=1 creates it", path.display()));
    assert!(
        expected == actual,
        "{} differs (UPDATE_GOLDEN=1 rewrites it):\n--- golden\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn junit_xml_of_a_fixed_seed_regression_matches_the_golden_file() {
    let accepted = simulate(&[]);
    let candidate = simulate(&[
        "strategies[apim-pool (seed JSON)].breaker.trip_duration=5m",
        "strategies[apim-pool (seed JSON)].breaker.accept_retry_after=false",
    ]);
    let baseline = Baseline::from_runs(&[accepted], GateSection::with_default_budgets()).unwrap();
    let budgets = baseline.budgets(Path::new("baseline.json"), &[]).unwrap();
    let verdict = judge(&[candidate], &baseline, &budgets, 0.05).unwrap();
    assert!(!verdict.passed());
    let xml = junit_xml(&verdict).unwrap();
    check_golden("gate_junit.xml", &xml);
    // The same inputs give the same bytes.
    assert_eq!(xml, junit_xml(&verdict).unwrap());
    assert!(gate_markdown(&verdict, "baseline.json").contains("❌ FAIL"));
}

/// `count` live runs whose `apim-pool trip 10s` p99 TTFT is `base × factor` plus a fixed
/// ±4% noise pattern (run-to-run noise of a shared CI runner).
fn live_runs(template: &Summary, count: usize, factor: f64, outlier: Option<f64>) -> Vec<Summary> {
    const NOISE: [f64; 7] = [0.0, 0.03, -0.02, 0.04, -0.04, 0.01, -0.03];
    (0..count)
        .map(|index| {
            let mut run = template.clone();
            run.mode = Mode::Live;
            for strategy in &mut run.strategies {
                let p99 = strategy.ttft.p99_s.unwrap();
                let mut scale = factor * (1.0 + NOISE[index % NOISE.len()]);
                if index == 0 {
                    scale *= outlier.unwrap_or(1.0);
                }
                strategy.ttft.p99_s = Some((p99 * scale * 1000.0).round() / 1000.0);
            }
            run
        })
        .collect()
}

/// The status of every strategy's `budget.p99_ttft` case, and whether the rank test found
/// the shift significant in each.
fn p99_ttft_status(runs: &[Summary], baseline: &Baseline) -> (Vec<Status>, Vec<bool>) {
    let budgets = baseline.budgets(Path::new("live.json"), &[]).unwrap();
    let verdict = judge(runs, baseline, &budgets, 0.05).unwrap();
    verdict
        .cases
        .iter()
        .filter(|case| case.rule == "budget.p99_ttft")
        .map(|case| (case.status, case.message.contains("< alpha")))
        .unzip()
}

#[test]
fn live_runs_use_the_rank_test_with_an_effect_budget() {
    let template = simulate(&[]);
    let accepted = live_runs(&template, 5, 1.0, None);
    let baseline = Baseline::from_runs(&accepted, GateSection::default()).unwrap();
    assert_eq!(baseline.mode, Mode::Live);
    assert_eq!(baseline.strategies[0].runs.len(), 5);
    let strategies = template.strategies.len();

    // Same distribution, other noise draws: pass.
    let mut reordered = live_runs(&template, 5, 1.0, None);
    reordered.rotate_left(2);
    let (status, significant) = p99_ttft_status(&reordered, &baseline);
    assert_eq!(status, vec![Status::Pass; strategies]);
    assert_eq!(significant, vec![false; strategies]);
    // One run twice as slow: a 60% jump in one run is not a shift of the distribution.
    let outlier = live_runs(&template, 5, 1.0, Some(1.6));
    let (status, significant) = p99_ttft_status(&outlier, &baseline);
    assert_eq!(status, vec![Status::Pass; strategies]);
    assert_eq!(significant, vec![false; strategies]);
    // Every run 5% slower: significant, but within the +10% effect budget.
    let small = live_runs(&template, 5, 1.05, None);
    let (status, significant) = p99_ttft_status(&small, &baseline);
    assert_eq!(status, vec![Status::Pass; strategies]);
    assert_eq!(significant, vec![true; strategies]);
    // Every run 30% slower: significant and beyond the budget.
    let shifted = live_runs(&template, 5, 1.3, None);
    let (status, significant) = p99_ttft_status(&shifted, &baseline);
    assert_eq!(status, vec![Status::Fail; strategies]);
    assert_eq!(significant, vec![true; strategies]);
}

#[test]
fn live_gates_refuse_too_few_runs() {
    let template = simulate(&[]);
    let accepted = live_runs(&template, 5, 1.0, None);
    let baseline = Baseline::from_runs(&accepted, GateSection::default()).unwrap();
    let error = judge(
        &live_runs(&template, 2, 1.0, None),
        &baseline,
        &BudgetSet::defaults(),
        0.05,
    )
    .unwrap_err();
    assert!(error.to_string().contains("--runs"), "{error}");
}
