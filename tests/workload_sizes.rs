//! Token-count distributions: means and medians within tolerance, clamps honoured, output
//! capped by max_tokens, stream share and session keys as configured.

use std::path::Path;

use throttlebox::workload::{CHARS_PER_TOKEN, Request, Workload, WorkloadConfig, prompt_text};

/// 200,000 requests of one app whose prompt_tokens follow `dist`.
fn with_prompt(dist: &str, extra: &str) -> Vec<Request> {
    let text = format!(
        r#"
duration = "2000s"
[[apps]]
name = "a"
deployment = "d"
arrivals = {{ process = "constant", rate = 100.0 }}
prompt_tokens = {dist}
output_tokens = {{ dist = "constant", value = 5 }}
{extra}
"#
    );
    let cfg: WorkloadConfig = toml::from_str(&text).expect("parses");
    Workload::new(&cfg, Path::new("."), 17)
        .expect("valid")
        .requests()
        .map(|r| r.expect("synthetic"))
        .collect()
}

fn prompts(all: &[Request]) -> Vec<f64> {
    all.iter().map(|r| f64::from(r.prompt_tokens)).collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn median(v: &[f64]) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Standard error of the mean of `n` draws with standard deviation `sd`, times 4.
fn tolerance(sd: f64, n: usize) -> f64 {
    4.0 * sd / (n as f64).sqrt()
}

#[test]
fn constant_uniform_and_empirical() {
    let constant = with_prompt(r#"{ dist = "constant", value = 123 }"#, "");
    assert!(constant.iter().all(|r| r.prompt_tokens == 123));
    assert!(
        constant
            .iter()
            .all(|r| r.prompt_chars == 123 * CHARS_PER_TOKEN)
    );

    let uniform = prompts(&with_prompt(
        r#"{ dist = "uniform", min = 100, max = 300 }"#,
        "",
    ));
    assert!(uniform.iter().all(|&p| (100.0..=300.0).contains(&p)));
    assert!(
        uniform.contains(&100.0) && uniform.contains(&300.0),
        "bounds inclusive"
    );
    let sd = 200.0 / 12f64.sqrt();
    assert!((mean(&uniform) - 200.0).abs() < tolerance(sd, uniform.len()));

    let empirical = prompts(&with_prompt(
        r#"{ dist = "empirical", values = [10, 20, 20, 50] }"#,
        "",
    ));
    assert!(empirical.iter().all(|p| [10.0, 20.0, 50.0].contains(p)));
    let twenties = empirical.iter().filter(|&&p| p == 20.0).count() as f64 / empirical.len() as f64;
    assert!((twenties - 0.5).abs() < 4.0 * (0.25 / empirical.len() as f64).sqrt());
}

#[test]
fn normal_is_clamped() {
    let values = prompts(&with_prompt(
        r#"{ dist = "normal", mean = 500, std = 100, min = 400, max = 700 }"#,
        "",
    ));
    assert!(values.iter().all(|&p| (400.0..=700.0).contains(&p)));
    // About 15.9% sit on the lower clamp (P(Z < -1)), 0.13% on the upper (P(Z > 2)).
    let at_min = values.iter().filter(|&&p| p == 400.0).count() as f64 / values.len() as f64;
    assert!((at_min - 0.1587).abs() < 0.01, "share at min: {at_min}");
    assert!((median(&values) - 500.0).abs() <= 2.0);
}

#[test]
fn lognormal_median_and_cap() {
    let values = prompts(&with_prompt(
        r#"{ dist = "lognormal", median = 1000, sigma = 0.8, max = 8000 }"#,
        "",
    ));
    // The median of 200k draws: within about 1%.
    assert!(
        (median(&values) / 1000.0 - 1.0).abs() < 0.01,
        "median {}",
        median(&values)
    );
    assert!(values.iter().all(|&p| p <= 8000.0));
    // P(X > 8000) = P(Z > ln 8 / 0.8) ≈ 0.46%: the cap is hit.
    let capped = values.iter().filter(|&&p| p == 8000.0).count() as f64 / values.len() as f64;
    assert!((capped - 0.0046).abs() < 0.0015, "share at cap {capped}");
}

#[test]
fn exponential_mean() {
    let values = prompts(&with_prompt(r#"{ dist = "exponential", mean = 200 }"#, ""));
    // Rounding to integers and the min clamp of 1 shift the mean by under 0.5.
    assert!((mean(&values) - 200.0).abs() < tolerance(200.0, values.len()) + 0.5);
    assert!(values.iter().all(|&p| p >= 1.0));
}

#[test]
fn output_is_capped_by_max_tokens() {
    let all = with_prompt(r#"{ dist = "constant", value = 10 }"#, "");
    assert!(
        all.iter()
            .all(|r| r.max_tokens.is_none() && r.output_tokens == 5)
    );
    let text = r#"
duration = "200s"
[[apps]]
name = "a"
deployment = "d"
arrivals = { process = "poisson", rate = 100.0 }
prompt_tokens = { dist = "constant", value = 10 }
max_tokens = { dist = "uniform", min = 50, max = 150 }
output_tokens = { dist = "exponential", mean = 200 }
stream_share = 0.25
sessions = 1000
session_pick = { dist = "zipf", s = 1.0 }
"#;
    let cfg: WorkloadConfig = toml::from_str(text).expect("parses");
    let all: Vec<Request> = Workload::new(&cfg, Path::new("."), 3)
        .expect("valid")
        .requests()
        .map(|r| r.expect("synthetic"))
        .collect();
    assert!(all.iter().all(|r| {
        let cap = r.max_tokens.expect("max_tokens configured");
        (50..=150).contains(&cap) && r.output_tokens <= cap
    }));
    assert!(
        all.iter().any(|r| Some(r.output_tokens) == r.max_tokens),
        "the cap binds sometimes"
    );
    assert!(
        all.iter().any(|r| Some(r.output_tokens) < r.max_tokens),
        "and not always"
    );
    let n = all.len() as f64;
    let streamed = all.iter().filter(|r| r.stream).count() as f64 / n;
    assert!(
        (streamed - 0.25).abs() < 4.0 * (0.25 * 0.75 / n).sqrt(),
        "stream share {streamed}"
    );
    // Zipf(s = 1, 1000 ranks): rank 1 carries 1/H(1000) ≈ 13.4% of requests.
    let rank1 = all.iter().filter(|r| r.session == 0).count() as f64 / n;
    assert!((rank1 - 0.1336).abs() < 0.01, "top session share {rank1}");
    assert!(all.iter().all(|r| r.session < 1000));
}

#[test]
fn uniform_sessions_spread_evenly_and_carry_the_app_index() {
    let text = r#"
duration = "100s"
[[apps]]
name = "a"
deployment = "d"
arrivals = { process = "constant", rate = 1.0 }
prompt_tokens = { dist = "constant", value = 1 }
output_tokens = { dist = "constant", value = 1 }
[[apps]]
name = "b"
deployment = "d"
arrivals = { process = "constant", rate = 100.0 }
prompt_tokens = { dist = "constant", value = 1 }
output_tokens = { dist = "constant", value = 1 }
sessions = 4
"#;
    let cfg: WorkloadConfig = toml::from_str(text).expect("parses");
    let all: Vec<Request> = Workload::new(&cfg, Path::new("."), 3)
        .expect("valid")
        .requests()
        .map(|r| r.expect("synthetic"))
        .collect();
    assert!(all.iter().filter(|r| r.app == 0).all(|r| r.session == 0));
    let b: Vec<u64> = all
        .iter()
        .filter(|r| r.app == 1)
        .map(|r| r.session)
        .collect();
    for key in 0..4u64 {
        let share = b.iter().filter(|&&s| s == (1 << 32) | key).count() as f64 / b.len() as f64;
        assert!(
            (share - 0.25).abs() < 4.0 * (0.1875 / b.len() as f64).sqrt(),
            "session {key}: {share}"
        );
    }
}

#[test]
fn prompt_text_has_four_chars_per_token() {
    assert_eq!(prompt_text(0), "");
    assert_eq!(prompt_text(3), " the the the");
    assert_eq!(prompt_text(1000).len(), 4000);
}

#[test]
fn prompt_text_encodes_to_the_requested_token_count() {
    for tokens in [1u32, 10, 1000, 8000] {
        let text = prompt_text(tokens);
        for (name, bpe) in [
            ("cl100k", tiktoken_rs::cl100k_base_singleton()),
            ("o200k", tiktoken_rs::o200k_base_singleton()),
        ] {
            let counted = bpe.encode_ordinary(&text).len();
            assert!(
                counted == tokens as usize,
                "{name}: {tokens} requested, {counted} counted"
            );
        }
    }
}
