//! The Mann–Whitney U test against scipy 1.17's `mannwhitneyu(x, y, method="asymptotic")`
//! (normal approximation, tie correction, continuity correction), and the normal tail.

use throttlebox::gate::{Alternative, mann_whitney_u, normal_survival};

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "got {actual}, expected {expected}"
    );
}

/// scipy's documentation example (ages of male and female workers): U = 17,
/// two-sided p = 0.11134688653314041 with the asymptotic method.
#[test]
fn scipy_documentation_example() {
    let males = [19.0, 22.0, 16.0, 29.0, 24.0];
    let females = [20.0, 11.0, 17.0, 12.0];
    let two_sided = mann_whitney_u(&males, &females, Alternative::TwoSided).unwrap();
    assert_eq!(two_sided.u_x, 17.0);
    close(two_sided.p_value, 0.11134688653314041);
    close(
        mann_whitney_u(&males, &females, Alternative::Greater)
            .unwrap()
            .p_value,
        0.055673443266570206,
    );
    close(
        mann_whitney_u(&males, &females, Alternative::Less)
            .unwrap()
            .p_value,
        0.9669037101389033,
    );
    close(two_sided.effect, 17.0 / 20.0);
}

/// Tied values get mid-ranks and shrink the variance: scipy gives U = 8.5 and these p-values.
#[test]
fn ties_use_mid_ranks_and_the_tie_correction() {
    let a = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0];
    let b = [2.0, 3.0, 4.0, 4.0, 5.0, 5.0];
    let test = mann_whitney_u(&a, &b, Alternative::TwoSided).unwrap();
    assert_eq!(test.u_x, 8.5);
    close(test.p_value, 0.07826242947714618);
    close(
        mann_whitney_u(&a, &b, Alternative::Greater)
            .unwrap()
            .p_value,
        0.9717782889227976,
    );
    close(
        mann_whitney_u(&a, &b, Alternative::Less).unwrap().p_value,
        0.03913121473857309,
    );
}

#[test]
fn all_tied_is_no_evidence_and_empty_or_nan_is_refused() {
    let test = mann_whitney_u(&[1.0, 1.0, 1.0], &[1.0, 1.0], Alternative::TwoSided).unwrap();
    assert_eq!(test.u_x, 3.0);
    assert_eq!(test.p_value, 1.0);
    assert!(mann_whitney_u(&[], &[1.0], Alternative::TwoSided).is_none());
    assert!(mann_whitney_u(&[f64::NAN], &[1.0], Alternative::TwoSided).is_none());
}

#[test]
fn normal_tail_matches_tables() {
    close(normal_survival(0.0), 0.5);
    // Φ(1.959963984540054) = 0.975.
    assert!((normal_survival(1.959963984540054) - 0.025).abs() < 1e-15);
    assert!((normal_survival(-1.0) - 0.8413447460685429).abs() < 1e-15);
}
