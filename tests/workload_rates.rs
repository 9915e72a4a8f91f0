//! Arrival processes produce the intended counts over long windows. Tolerances: a Poisson count
//! with mean m has standard deviation sqrt(m); we allow 4 standard deviations (a false failure
//! about once in 15,000 runs, and the seeds are fixed anyway). A Gamma renewal process with gap
//! CV c has count variance ≈ m·c².

use std::path::Path;

use throttlebox::workload::{Workload, WorkloadConfig};

fn arrival_times(arrivals: &str, duration: &str, seed: u64) -> Vec<f64> {
    let text = format!(
        r#"
duration = "{duration}"
[[apps]]
name = "a"
deployment = "d"
arrivals = {arrivals}
prompt_tokens = {{ dist = "constant", value = 10 }}
output_tokens = {{ dist = "constant", value = 10 }}
"#
    );
    let cfg: WorkloadConfig = toml::from_str(&text).expect("config parses");
    let workload = Workload::new(&cfg, Path::new("."), seed).expect("valid workload");
    workload
        .requests()
        .map(|r| r.expect("synthetic requests cannot fail").at.as_secs_f64())
        .collect()
}

fn count_in(times: &[f64], from: f64, until: f64) -> usize {
    times.iter().filter(|&&t| t >= from && t < until).count()
}

fn assert_poisson_count(observed: usize, expected: f64, what: &str) {
    let sd = expected.sqrt();
    let z = (observed as f64 - expected) / sd.max(1e-9);
    assert!(
        z.abs() <= 4.0,
        "{what}: observed {observed}, expected {expected:.1} (z = {z:.2})"
    );
}

fn gap_cv(times: &[f64]) -> f64 {
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
    var.sqrt() / mean
}

#[test]
fn poisson_count_and_exponential_gaps() {
    let times = arrival_times(r#"{ process = "poisson", rate = 50.0 }"#, "2000s", 1);
    assert_poisson_count(times.len(), 100_000.0, "poisson 50/s over 2000 s");
    let cv = gap_cv(&times);
    assert!(
        (cv - 1.0).abs() < 0.02,
        "exponential gaps have CV 1, got {cv}"
    );
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "times are ordered");
    assert!(times.iter().all(|&t| (0.0..2000.0).contains(&t)));
}

#[test]
fn constant_rate_is_evenly_spaced_without_drift() {
    let times = arrival_times(r#"{ process = "constant", rate = 20 }"#, "100s", 1);
    assert_eq!(times.len(), 2000);
    for (k, t) in times.iter().enumerate() {
        assert!((t - k as f64 / 20.0).abs() < 1e-9, "request {k} at {t}");
    }
}

#[test]
fn gamma_count_and_burstiness() {
    for (burstiness, seed) in [(0.25, 3), (1.0, 4), (4.0, 5)] {
        let arrivals =
            format!(r#"{{ process = "gamma", rate = 10.0, burstiness = {burstiness} }}"#);
        let times = arrival_times(&arrivals, "20000s", seed);
        let expected = 200_000.0;
        let target_cv = 1.0 / f64::sqrt(burstiness);
        // Renewal-process count variance ≈ m · CV².
        let sd = (expected * target_cv * target_cv).sqrt();
        let z = (times.len() as f64 - expected) / sd;
        assert!(
            z.abs() <= 4.0,
            "gamma b={burstiness}: {} requests (z = {z:.2})",
            times.len()
        );
        let cv = gap_cv(&times);
        assert!(
            (cv / target_cv - 1.0).abs() < 0.05,
            "gamma b={burstiness}: gap CV {cv:.3}, expected {target_cv:.3}"
        );
    }
}

#[test]
fn ramp_follows_the_rate_not_the_previous_arrival() {
    // 0 → 100 req/s over 1000 s: 12,500 expected in the first half, 37,500 in the second.
    // A "rate at the previous arrival" generator would never leave t = 0 at rate 0.
    let times = arrival_times(r#"{ process = "ramp", from = 0, to = 100.0 }"#, "1000s", 7);
    assert_poisson_count(count_in(&times, 0.0, 500.0), 12_500.0, "ramp first half");
    assert_poisson_count(
        count_in(&times, 500.0, 1000.0),
        37_500.0,
        "ramp second half",
    );
    assert_poisson_count(count_in(&times, 0.0, 100.0), 500.0, "ramp first tenth");
    // With `over` shorter than the run, the rate holds at `to` afterwards.
    let held = arrival_times(
        r#"{ process = "ramp", from = 10.0, to = 30.0, over = "100s" }"#,
        "300s",
        8,
    );
    assert_poisson_count(count_in(&held, 0.0, 100.0), 2_000.0, "ramp part");
    assert_poisson_count(count_in(&held, 100.0, 300.0), 6_000.0, "held part");
}

#[test]
fn steps_switch_rates_at_their_times() {
    let times = arrival_times(
        r#"{ process = "steps", steps = [{ at = "10s", rate = 10.0 }, { at = "110s", rate = 50.0 }, { at = "210s", rate = 0 }, { at = "310s", rate = 20.0 }] }"#,
        "410s",
        9,
    );
    assert_eq!(
        count_in(&times, 0.0, 10.0),
        0,
        "rate is 0 before the first step"
    );
    assert_poisson_count(count_in(&times, 10.0, 110.0), 1_000.0, "step 1");
    assert_poisson_count(count_in(&times, 110.0, 210.0), 5_000.0, "step 2");
    assert_eq!(
        count_in(&times, 210.0, 310.0),
        0,
        "a zero step sends nothing"
    );
    assert_poisson_count(count_in(&times, 310.0, 410.0), 2_000.0, "step 4");
}

#[test]
fn spikes_raise_the_rate_inside_their_windows_only() {
    let times = arrival_times(
        r#"{ process = "spikes", base = 5.0, spikes = [{ at = "100s", for = "10s", rate = 200.0 }, { at = "300s", for = "20s", rate = 50.0 }] }"#,
        "400s",
        10,
    );
    assert_poisson_count(count_in(&times, 0.0, 100.0), 500.0, "base before");
    assert_poisson_count(count_in(&times, 100.0, 110.0), 2_000.0, "first spike");
    assert_poisson_count(count_in(&times, 110.0, 300.0), 950.0, "base between");
    assert_poisson_count(count_in(&times, 300.0, 320.0), 1_000.0, "second spike");
    assert_poisson_count(count_in(&times, 320.0, 400.0), 400.0, "base after");
}

#[test]
fn diurnal_rate_follows_the_sinusoid() {
    // mean 20, amplitude 15, period 100 s over 10 periods: 20,000 in total; the rising half of
    // each period (sin > 0) expects 20·50 + 15·100/π = 1,477.5 per period.
    let times = arrival_times(
        r#"{ process = "diurnal", mean = 20.0, amplitude = 15.0, period = "100s" }"#,
        "1000s",
        11,
    );
    assert_poisson_count(times.len(), 20_000.0, "diurnal total");
    let high: usize = (0..10)
        .map(|p| count_in(&times, p as f64 * 100.0, p as f64 * 100.0 + 50.0))
        .sum();
    let expected_high = 10.0 * (1000.0 + 1500.0 / std::f64::consts::PI);
    assert_poisson_count(high, expected_high, "diurnal high halves");
    // Within ±5 s of the peak (t ≡ 25 s) and the trough (t ≡ 75 s): 20·10 ± 15·(100/π)·sin(π/10)
    // per period.
    let near = |centre: f64| -> usize {
        (0..10)
            .map(|p| {
                let c = p as f64 * 100.0 + centre;
                count_in(&times, c - 5.0, c + 5.0)
            })
            .sum()
    };
    let swing = 15.0 * 100.0 / std::f64::consts::PI * (std::f64::consts::PI / 10.0).sin();
    assert_poisson_count(near(25.0), 10.0 * (200.0 + swing), "around the peaks");
    assert_poisson_count(near(75.0), 10.0 * (200.0 - swing), "around the troughs");
}

#[test]
fn summary_reports_the_rate_integral() {
    let cfg: WorkloadConfig = toml::from_str(
        r#"
duration = "1000s"
[[apps]]
name = "ramp"
deployment = "d"
arrivals = { process = "ramp", from = 0, to = 100.0 }
prompt_tokens = { dist = "constant", value = 1 }
output_tokens = { dist = "constant", value = 1 }
[[apps]]
name = "flat"
deployment = "d"
arrivals = { process = "poisson", rate = 3.0 }
prompt_tokens = { dist = "constant", value = 1 }
output_tokens = { dist = "constant", value = 1 }
"#,
    )
    .expect("parses");
    let summary = Workload::new(&cfg, Path::new("."), 0)
        .expect("valid")
        .summary();
    assert_eq!(summary.duration, Some(std::time::Duration::from_secs(1000)));
    let expected = summary.expected_requests.expect("known for synthetic apps");
    assert!((expected - 53_000.0).abs() < 1e-6, "{expected}");
    assert!((summary.expected_rate().expect("known") - 53.0).abs() < 1e-9);
    assert_eq!(summary.sources[0].name, "ramp");
}
