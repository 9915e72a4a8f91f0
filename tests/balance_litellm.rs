//! The `litellm-*` presets as LiteLLM 1.108.7 behaves, measured in the conformance lab and read
//! in its source (src/balance/litellm/mod.rs cites each file): one test per behaviour the
//! model before the lab (`litellm = { version = "legacy" }`) got wrong, each showing the
//! difference on the same script.

use crate::balance_support;

use std::time::Duration;

use balance_support::*;
use throttlebox::balance::{
    BackendSpec, BackendState, DeclaredWeights, Observation, RequestInfo, Step, Strategy, Verdict,
};

const LEGACY: &str = "litellm = { version = \"legacy\" }";

fn litellm(preset: &str, extra: &str, n: usize) -> Strategy {
    from_toml(
        &format!("name = \"l\"\npreset = \"{preset}\"\n{extra}"),
        &plain(n),
    )
}

/// One request at 0 s on which every attempt meets a 429 with `retry-after: wait`.
fn all_429(strategy: &mut Strategy, wait: u64, rng: &mut throttlebox::seed::SimRng) -> Run {
    run(strategy, secs(0.0), rng, |_, _| {
        Observation::http(429).with_retry_after_secs(wait)
    })
}

fn cooled(strategy: &Strategy, at: f64) -> Vec<bool> {
    strategy
        .backend_states(secs(at))
        .iter()
        .map(|state| matches!(state, BackendState::Open { .. }))
        .collect()
}

#[test]
fn least_busy_takes_the_least_busy_healthy_deployment_first_on_ties() {
    // Backend 0 cooling, 1 and 2 idle: 1.108.7 takes 1 (first healthy); the legacy argmin over
    // every deployment lands on the cooled 0 and then picks a healthy one at random.
    let mut picks = [0usize; 3];
    let mut legacy_picks = [0usize; 3];
    let mut rng = rng();
    for (extra, counts) in [("", &mut picks), (LEGACY, &mut legacy_picks)] {
        for _ in 0..200 {
            let mut strategy = litellm("litellm-least-busy", extra, 3);
            run(&mut strategy, secs(0.0), &mut rng, |b, _| {
                if b == 0 {
                    Observation::http(429).with_retry_after_secs(30)
                } else {
                    Observation::http(200)
                }
            });
            assert_eq!(cooled(&strategy, 1.0), [true, false, false]);
            let next = run(&mut strategy, secs(1.0), &mut rng, ok)
                .backend()
                .unwrap();
            counts[next] += 1;
        }
    }
    assert_eq!(picks, [0, 200, 0]);
    assert!(legacy_picks[2] > 50, "{legacy_picks:?}");
}

#[test]
fn proxy_mode_cools_only_the_first_failed_attempt_of_a_request() {
    // Every attempt fails with a 429: in the proxy only the first failure of the request runs
    // the cooldown callback, so one deployment cools; the Router library cools each it tried.
    let mut rng = rng();
    let mut proxy = litellm("litellm-least-busy", "", 3);
    let done = all_429(&mut proxy, 20, &mut rng);
    assert_eq!(done.tried.len(), 3, "num_retries 2: three attempts");
    assert_eq!(cooled(&proxy, 0.0), [true, false, false]);
    // The retries' in-flight counts were never lowered (LiteLLM leaks them): least-busy now
    // avoids the deployments that failed unlogged.
    assert_eq!(proxy.inflight(), &[0, 1, 1]);

    let mut library = litellm("litellm-least-busy", "litellm = { mode = \"library\" }", 3);
    let done = all_429(&mut library, 20, &mut rng);
    assert_eq!(done.tried, [0, 1, 2]);
    assert_eq!(cooled(&library, 0.0), [true, true, true]);
    assert_eq!(library.inflight(), &[0, 0, 0]);
}

#[test]
fn a_retry_may_return_to_a_deployment_that_failed_but_is_not_cooling() {
    // Two deployments, proxy mode: the first 429 cools 0; the second (on 1) is not logged, so 1
    // stays healthy and the last retry goes back to it. The legacy model never re-tried a
    // deployment and stopped once none was left.
    let mut rng = rng();
    let mut strategy = litellm("litellm-least-busy", "", 2);
    let done = all_429(&mut strategy, 20, &mut rng);
    assert_eq!(done.tried, [0, 1, 1]);
    let mut legacy = litellm("litellm-least-busy", LEGACY, 2);
    let done = all_429(&mut legacy, 20, &mut rng);
    assert_eq!(done.tried.len(), 2);
}

#[test]
fn with_every_deployment_cooling_the_failure_is_returned_at_once() {
    // Router library, two deployments, every attempt a 429 (retry-after 20 s): the first cools
    // 0, the retry on 1 cools 1, and with no healthy deployment left LiteLLM 1.108.7 raises the
    // 429 at once (`should_retry_this_error`) instead of waiting out the cooldown for its last
    // retry, which the model did before the lab compared attempts per request.
    let mut rng = rng();
    let library = "litellm = { mode = \"library\" }";
    let mut strategy = litellm("litellm-shuffle", library, 2);
    let done = all_429(&mut strategy, 20, &mut rng);
    assert_eq!(done.tried.len(), 2, "{:?}", done.tried);
    assert_eq!(done.ended_at, secs(0.0));
    assert!(
        done.exhausted().is_none(),
        "the backend's own 429 is returned"
    );
    let waiting =
        format!("{library}\nretry = {{ require_remaining = false, retry_exhaustion = true }}");
    let mut before = litellm("litellm-shuffle", &waiting, 2);
    let done = all_429(&mut before, 20, &mut rng);
    assert!(done.ended_at >= secs(20.0), "{:?}", done.ended_at);
}

#[test]
fn with_no_healthy_deployment_a_retry_waits_for_retry_after_plus_jitter() {
    // One deployment (LiteLLM's base case): each retry sleeps the answer's integer retry-after
    // (3 s) plus up to 0.75 s of jitter before trying again.
    let mut rng = rng();
    let mut strategy = litellm("litellm-shuffle", "", 1);
    let done = all_429(&mut strategy, 3, &mut rng);
    assert_eq!(done.tried.len(), 3);
    let ended = done.ended_at.as_secs_f64();
    assert!(
        (6.0..=7.5).contains(&ended),
        "two waits of 3–3.75 s: {ended}"
    );
}

#[test]
fn the_cooldown_is_the_integer_retry_after_not_retry_after_ms() {
    let mut rng = rng();
    let answer = |_, _| {
        Observation::http(429)
            .with_retry_after_ms(1_500)
            .with_retry_after_secs(2)
    };
    let mut strategy = litellm("litellm-shuffle", "retry = { count = 0 }", 2);
    let first = run(&mut strategy, secs(0.0), &mut rng, answer).tried[0];
    assert_eq!(
        strategy.backend_state(secs(0.0), first),
        BackendState::Open {
            until: Some(secs(2.0))
        }
    );
    let mut legacy = litellm(
        "litellm-shuffle",
        "retry = { count = 0 }\nlitellm = { version = \"legacy\" }",
        2,
    );
    let first = run(&mut legacy, secs(0.0), &mut rng, answer).tried[0];
    assert_eq!(
        legacy.backend_state(secs(0.0), first),
        BackendState::Open {
            until: Some(secs(1.5))
        }
    );
}

#[test]
fn no_deployments_available_says_the_shortest_configured_cooldown_rounded_up() {
    // Both cooled, for 2 s and 7 s: LiteLLM answers 429 with retry-after = ceil(min(2, 7)) = 2,
    // whatever is left of them; the legacy model said 60.
    let mut rng = rng();
    for (extra, expected) in [("", 2), (LEGACY, 60)] {
        let mut strategy = litellm(
            "litellm-least-busy",
            &format!("retry = {{ count = 0 }}\n{extra}"),
            2,
        );
        for wait in [2, 7] {
            run(&mut strategy, secs(0.0), &mut rng, |_, _| {
                Observation::http(429).with_retry_after_secs(wait)
            });
        }
        assert_eq!(cooled(&strategy, 1.5), [true, true]);
        let answer = run(&mut strategy, secs(1.5), &mut rng, ok)
            .exhausted()
            .unwrap();
        assert_eq!(answer.status, 429);
        assert_eq!(answer.retry_after, Some(Duration::from_secs(expected)));
    }
}

#[test]
fn the_proxy_hides_a_passed_back_429s_retry_after_from_the_client() {
    let mut rng = rng();
    let backend_429 = Observation::http(429)
        .with_retry_after_ms(4_000)
        .with_retry_after_secs(4);
    let proxy = litellm("litellm-shuffle", "", 2);
    let seen = proxy.client_observation(&backend_429);
    assert_eq!(
        (seen.retry_after, seen.retry_after_s, seen.retry_after_ms),
        (None, None, None),
        "renamed llm_provider-retry-after(-ms)"
    );
    // The OpenAI SDK then backs off exponentially (0.5 s × jitter) instead of waiting 4 s.
    let sdk = throttlebox::balance::ClientRetryPolicy::default();
    let wait = sdk.delay(0, &seen, &mut rng).unwrap();
    assert!(wait <= Duration::from_millis(500), "{wait:?}");
    for unchanged in [
        litellm("litellm-shuffle", LEGACY, 2),
        litellm("litellm-shuffle", "litellm = { mode = \"library\" }", 2),
    ] {
        assert_eq!(unchanged.client_observation(&backend_429), backend_429);
    }
}

fn shuffle_share_of_first(backends: &[BackendSpec], extra: &str) -> f64 {
    let mut rng = rng();
    let cfg: throttlebox::balance::StrategyConfig = toml::from_str(&format!(
        "name = \"s\"\npreset = \"litellm-shuffle\"\n{extra}"
    ))
    .unwrap();
    let mut strategy = Strategy::new(&cfg, backends).unwrap();
    (0..6000)
        .filter(|i| run(&mut strategy, secs(f64::from(*i)), &mut rng, ok).backend() == Some(0))
        .count() as f64
        / 6000.0
}

#[test]
fn simple_shuffle_is_uniform_unless_the_config_declares_weights() {
    // The fleet's quotas (1:3) are invisible to LiteLLM: uniform. The legacy model weighed by
    // them.
    let quotas = vec![
        BackendSpec::named("a").with_limits(Some(10_000), None),
        BackendSpec::named("b").with_limits(Some(30_000), None),
    ];
    assert!((shuffle_share_of_first(&quotas, "") - 0.5).abs() < 0.03);
    assert!((shuffle_share_of_first(&quotas, LEGACY) - 0.25).abs() < 0.03);
    // Declared in litellm_params: weight wins over rpm, rpm over tpm.
    let declared = |weight, rpm, tpm| Some(DeclaredWeights { weight, rpm, tpm });
    let mut by_weight = quotas.clone();
    by_weight[0].declared = declared(Some(3.0), Some(1.0), None);
    by_weight[1].declared = declared(Some(1.0), Some(9.0), None);
    assert!((shuffle_share_of_first(&by_weight, "") - 0.75).abs() < 0.03);
    let mut by_tpm = quotas;
    by_tpm[0].declared = declared(None, None, Some(30.0));
    by_tpm[1].declared = declared(None, None, Some(10.0));
    assert!((shuffle_share_of_first(&by_tpm, "") - 0.75).abs() < 0.03);
}

#[test]
fn a_failure_during_a_cooldown_moves_its_deadline() {
    // LiteLLM 1.108.7 overwrites the cooldown entry; the legacy model kept the first deadline.
    let mut rng = rng();
    for (extra, until) in [("", 15.0), (LEGACY, 13.0)] {
        let mut strategy = litellm(
            "litellm-least-busy",
            &format!("retry = {{ count = 0 }}\n{extra}"),
            2,
        );
        // Backend 1 answers 429 (retry-after 10 s) at 3 s and again at 5 s.
        let info = RequestInfo::default();
        let mut first = strategy.begin(secs(0.0), &info);
        let mut second = strategy.begin(secs(0.0), &info);
        assert_eq!(
            strategy.next(secs(0.0), &mut first, &mut rng),
            Step::Send(0)
        );
        let step = strategy.next(secs(0.0), &mut second, &mut rng);
        assert_eq!(step, Step::Send(1));
        let busy = Observation::http(429).with_retry_after_secs(10);
        assert_eq!(
            strategy.on_response(secs(0.0), &mut first, 0, &busy, &mut rng),
            Verdict::Return
        );
        let mut third = strategy.begin(secs(0.0), &info);
        assert_eq!(
            strategy.next(secs(0.0), &mut third, &mut rng),
            Step::Send(1)
        );
        assert_eq!(
            strategy.on_response(secs(3.0), &mut second, 1, &busy, &mut rng),
            Verdict::Return
        );
        assert_eq!(
            strategy.on_response(secs(5.0), &mut third, 1, &busy, &mut rng),
            Verdict::Return
        );
        assert_eq!(
            strategy.backend_state(secs(5.0), 1),
            BackendState::Open {
                until: Some(secs(until))
            }
        );
    }
}
