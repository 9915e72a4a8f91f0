//! Budget parsing and arithmetic: relative, percentage-point and absolute budgets, the sign
//! rule, and errors that name the flag and the metric.

use throttlebox::gate::{Allowance, Budget, BudgetSet};

#[test]
fn relative_points_and_absolute_budgets_parse() {
    let ttft = Budget::parse("p99_ttft=+10%", "--budget").unwrap();
    assert_eq!(ttft.metric.name, "p99_ttft");
    assert_eq!(ttft.allowance, Allowance::Relative(0.10));
    let success = Budget::parse("success_ratio=-0.5pt", "--budget").unwrap();
    assert!(matches!(success.allowance, Allowance::Points(p) if (p - 0.005).abs() < 1e-15));
    let e2e = Budget::parse("p99_e2e=+250ms", "--budget").unwrap();
    assert_eq!(e2e.allowance, Allowance::Absolute(0.25));
    let cost = Budget::parse("cost=0.5", "--budget").unwrap();
    assert_eq!(cost.allowance, Allowance::Absolute(0.5));
    // An unsigned budget takes the metric's bad direction.
    assert_eq!(
        Budget::parse("p99_ttft=10%", "--budget").unwrap().allowance,
        Allowance::Relative(0.10)
    );
    assert_eq!(ttft.to_string(), "+10%");
    assert_eq!(success.to_string(), "-0.5pt");
}

#[test]
fn relative_budget_judges_the_bad_direction_only() {
    let ttft = Budget::parse("p99_ttft=+10%", "--budget").unwrap();
    assert!(ttft.holds(1.0, 1.1)); // exactly at the limit
    assert!(!ttft.holds(1.0, 1.101));
    assert!(ttft.holds(1.0, 0.2)); // better is always fine
    assert!(!ttft.holds(0.0, 0.001)); // any rise from zero is infinitely relative
}

#[test]
fn point_budget_on_a_ratio() {
    let success = Budget::parse("success_ratio=-0.5pt", "--budget").unwrap();
    assert!(success.holds(0.999, 0.994));
    assert!(!success.holds(0.999, 0.9939));
    assert!(success.holds(0.9, 1.0));
    let throttled = Budget::parse("client_429_ratio=+0.5pt", "--budget").unwrap();
    assert!(throttled.holds(0.001, 0.006));
    assert!(!throttled.holds(0.001, 0.0061));
}

#[test]
fn bad_budgets_are_refused_with_the_flag_and_metric_named() {
    for (text, needle) in [
        ("p99_ttft", "METRIC=CHANGE"),
        ("p99_latency=+10%", "unknown metric"),
        ("p99_ttft=-10%", "write the budget as +"),
        ("success_ratio=+0.5pt", "write the budget as -"),
        ("p99_ttft=+1pt", "percentage points apply to ratios only"),
        ("cost=+ten%", "not a number"),
        ("cost=-5%", "write the budget as +"),
    ] {
        let error = Budget::parse(text, "--budget").unwrap_err().to_string();
        assert!(error.contains("--budget"), "{text}: {error}");
        assert!(error.contains(needle), "{text}: {error}");
    }
}

#[test]
fn defaults_are_the_issue_budgets() {
    let names: Vec<String> = BudgetSet::defaults()
        .iter()
        .map(|budget| format!("{}={budget}", budget.metric.name))
        .collect();
    assert_eq!(
        names,
        [
            "p99_ttft=+10%",
            "p99_e2e=+10%",
            "success_ratio=-0.5pt",
            "client_429_ratio=+0.5pt",
            "cost=+5%"
        ]
    );
}
