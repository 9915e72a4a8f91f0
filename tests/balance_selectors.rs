//! Load-, latency-, usage- and header-aware presets walked step by step: LiteLLM least-busy,
//! latency and usage; P2C Peak-EWMA; token headroom; round-robin; random; power of d; session
//! affinity.

use crate::balance_support;

use std::collections::BTreeMap;
use std::time::Duration;

use balance_support::*;
use throttlebox::balance::{
    BackendSpec, Completion, Observation, Preset, RequestInfo, Step, Strategy, Verdict,
    session_hash,
};
use throttlebox::seed::SimRng;

/// Sends one request and leaves it in flight; returns the backend.
fn start(
    strategy: &mut Strategy,
    now: Duration,
    rng: &mut SimRng,
    info: RequestInfo,
) -> (usize, throttlebox::balance::Attempt) {
    let mut attempt = strategy.begin(now, &info);
    match strategy.next(now, &mut attempt, rng) {
        Step::Send(backend) => (backend, attempt),
        other => panic!("expected a send, got {other:?}"),
    }
}

/// Finishes a request with a 200 and the given completion.
fn finish(
    strategy: &mut Strategy,
    now: Duration,
    rng: &mut SimRng,
    backend: usize,
    attempt: &mut throttlebox::balance::Attempt,
    completion: Completion,
) {
    assert_eq!(
        strategy.on_response(now, attempt, backend, &Observation::http(200), rng),
        Verdict::Return
    );
    strategy.on_complete(now, backend, &completion);
}

fn completion(latency_s: f64, ttft_s: Option<f64>, tokens: u64, stream: bool) -> Completion {
    Completion {
        latency: secs(latency_s),
        ttft: ttft_s.map(secs),
        prompt_tokens: 0,
        completion_tokens: tokens,
        stream,
    }
}

#[test]
fn round_robin_cycles_and_skips_nothing() {
    let mut strategy = preset(Preset::RoundRobin, &plain(3));
    let mut rng = rng();
    let picks: Vec<_> = (0..7)
        .map(|i| {
            run(&mut strategy, secs(f64::from(i)), &mut rng, ok)
                .backend()
                .unwrap()
        })
        .collect();
    assert_eq!(picks, vec![0, 1, 2, 0, 1, 2, 0]);
}

#[test]
fn random_is_roughly_uniform() {
    let mut strategy = preset(Preset::Random, &plain(4));
    let mut rng = rng();
    let mut counts = [0u32; 4];
    for i in 0..8000 {
        counts[run(&mut strategy, secs(f64::from(i)), &mut rng, ok)
            .backend()
            .unwrap()] += 1;
    }
    assert!(
        counts.iter().all(|c| (1800..2200).contains(c)),
        "{counts:?}"
    );
}

#[test]
fn least_busy_takes_the_fewest_in_flight_first_in_order() {
    let mut strategy = preset(Preset::LitellmLeastBusy, &plain(3));
    let mut rng = rng();
    let (a, _ka) = start(&mut strategy, secs(0.0), &mut rng, RequestInfo::default());
    let (b, mut kb) = start(&mut strategy, secs(0.0), &mut rng, RequestInfo::default());
    let (c, _kc) = start(&mut strategy, secs(0.0), &mut rng, RequestInfo::default());
    assert_eq!((a, b, c), (0, 1, 2), "ties go to the first in order");
    finish(
        &mut strategy,
        secs(1.0),
        &mut rng,
        b,
        &mut kb,
        completion(1.0, None, 10, false),
    );
    assert_eq!(
        start(&mut strategy, secs(1.0), &mut rng, RequestInfo::default()).0,
        1
    );
    assert_eq!(strategy.inflight(), &[1, 1, 1]);
}

#[test]
fn power_of_d_prefers_the_less_loaded_of_its_samples() {
    let mut strategy = preset(Preset::PowerOfD, &plain(2));
    let mut rng = rng();
    let (first, _keep) = start(&mut strategy, secs(0.0), &mut rng, RequestInfo::default());
    // With two backends P2C always samples both: the idle one wins every time.
    for _ in 0..20 {
        let (next, mut attempt) = start(&mut strategy, secs(0.0), &mut rng, RequestInfo::default());
        assert_ne!(next, first);
        finish(
            &mut strategy,
            secs(0.0),
            &mut rng,
            next,
            &mut attempt,
            completion(0.1, None, 1, false),
        );
    }
}

#[test]
fn peak_ewma_avoids_a_slow_backend_and_forgives_it_over_time() {
    let mut strategy = from_toml(
        "name = \"p\"\npreset = \"p2c-peak-ewma\"\nselector = { sample = \"full\" }",
        &plain(2),
    );
    let mut rng = rng();
    // Teach: backend 0 answered in 5 s, backend 1 in 0.2 s.
    for (backend, latency) in [(0usize, 5.0), (1, 0.2)] {
        let mut attempt = strategy.begin(secs(0.0), &RequestInfo::default());
        strategy.on_response(
            secs(0.0),
            &mut attempt,
            backend,
            &Observation::http(200),
            &mut rng,
        );
        strategy.on_complete(secs(0.0), backend, &completion(latency, None, 1, false));
    }
    for _ in 0..20 {
        let (picked, mut attempt) =
            start(&mut strategy, secs(0.0), &mut rng, RequestInfo::default());
        assert_eq!(picked, 1);
        finish(
            &mut strategy,
            secs(0.0),
            &mut rng,
            picked,
            &mut attempt,
            completion(0.2, None, 1, false),
        );
    }
    // The peak decays toward 0 (τ = 10 s): a minute later backend 1 answers in 0.2 s again
    // while backend 0 has been idle; 5 s × e^-6 ≈ 0.012 s is now below 0.2 s.
    let (one, mut attempt) = start(&mut strategy, secs(60.0), &mut rng, RequestInfo::default());
    assert_eq!(one, 1);
    finish(
        &mut strategy,
        secs(60.0),
        &mut rng,
        one,
        &mut attempt,
        completion(0.2, None, 1, false),
    );
    let (picked, _) = start(&mut strategy, secs(60.0), &mut rng, RequestInfo::default());
    assert_eq!(picked, 0);
}

#[test]
fn lowest_latency_tries_unseen_first_then_the_fastest_and_keeps_its_first_samples() {
    let mut strategy = preset(Preset::LitellmLatency, &plain(2));
    let mut rng = rng();
    // Unseen deployments average 0: both get tried before either is ranked.
    let (first, mut a) = start(&mut strategy, secs(0.0), &mut rng, RequestInfo::default());
    finish(
        &mut strategy,
        secs(1.0),
        &mut rng,
        first,
        &mut a,
        completion(if first == 0 { 1.0 } else { 3.0 }, None, 10, false),
    );
    let (second, mut b) = start(&mut strategy, secs(1.0), &mut rng, RequestInfo::default());
    assert_ne!(first, second);
    finish(
        &mut strategy,
        secs(2.0),
        &mut rng,
        second,
        &mut b,
        completion(if second == 0 { 1.0 } else { 3.0 }, None, 10, false),
    );
    // Backend 0 (0.1 s/token) beats backend 1 (0.3 s/token).
    assert_eq!(
        start(&mut strategy, secs(2.0), &mut rng, RequestInfo::default()).0,
        0
    );
}

#[test]
fn lowest_latency_replace_last_versus_fifo() {
    // Backend 0 first fills its list with fast samples, then turns slow: with replace-last only
    // the last slot moves ([0.1, 0.1, 2.0], avg 0.73 < 0.9), so it still looks fast; with FIFO
    // it is found out ([2, 2, 2]).
    for (update, still_chosen) in [("replace-last", true), ("fifo", false)] {
        let mut strategy = from_toml(
            &format!(
                "name = \"l\"\npreset = \"litellm-latency\"\nselector = {{ list_update = \"{update}\", max_samples = 3 }}"
            ),
            &plain(2),
        );
        let mut rng = rng();
        let mut feed = |strategy: &mut Strategy, backend: usize, latency: f64| {
            let mut attempt = strategy.begin(secs(0.0), &RequestInfo::default());
            strategy.on_response(
                secs(0.0),
                &mut attempt,
                backend,
                &Observation::http(200),
                &mut rng,
            );
            strategy.on_complete(secs(0.0), backend, &completion(latency, None, 1, false));
        };
        for _ in 0..3 {
            feed(&mut strategy, 0, 0.1);
        }
        feed(&mut strategy, 1, 0.9);
        for _ in 0..3 {
            feed(&mut strategy, 0, 2.0);
        }
        let mut rng = balance_support::rng();
        let picked = start(&mut strategy, secs(1.0), &mut rng, RequestInfo::default()).0;
        assert_eq!(picked == 0, still_chosen, "{update}");
    }
}

#[test]
fn lowest_latency_buffer_spreads_over_near_ties_and_timeouts_count_1000_s() {
    let mut strategy = from_toml(
        "name = \"l\"\npreset = \"litellm-latency\"\nselector = { buffer = 0.5 }",
        &plain(3),
    );
    let mut rng = rng();
    for (backend, latency) in [(0, 1.0), (1, 1.4), (2, 2.0)] {
        let mut attempt = strategy.begin(secs(0.0), &RequestInfo::default());
        strategy.on_response(
            secs(0.0),
            &mut attempt,
            backend,
            &Observation::http(200),
            &mut rng,
        );
        strategy.on_complete(secs(0.0), backend, &completion(latency, None, 1, false));
    }
    let picks = |strategy: &mut Strategy, rng: &mut SimRng| {
        let mut seen = BTreeMap::new();
        for _ in 0..200 {
            *seen
                .entry(start(strategy, secs(1.0), rng, RequestInfo::default()).0)
                .or_insert(0) += 1;
        }
        seen
    };
    // lowest 1.0 × 1.5: backends 0 and 1 share, 2 (2.0) is outside the buffer.
    let seen = picks(&mut strategy, &mut rng);
    assert!(
        seen.contains_key(&0) && seen.contains_key(&1) && !seen.contains_key(&2),
        "{seen:?}"
    );
    // A timeout on backend 0 stores 1000 s: it drops out; lowest is now 1.4 × 1.5 = 2.1.
    let mut attempt = strategy.begin(secs(1.0), &RequestInfo::default());
    strategy.on_response(
        secs(1.0),
        &mut attempt,
        0,
        &Observation::new(throttlebox::balance::Status::Timeout),
        &mut rng,
    );
    let seen = picks(&mut strategy, &mut rng);
    assert!(
        !seen.contains_key(&0) && seen.contains_key(&1) && seen.contains_key(&2),
        "{seen:?}"
    );
}

#[test]
fn usage_based_takes_the_lowest_minute_usage_and_skips_full_deployments() {
    let backends = vec![
        BackendSpec::named("a").with_limits(Some(1000), None),
        BackendSpec::named("b").with_limits(Some(1000), None),
    ];
    let mut strategy = preset(Preset::LitellmUsage, &backends);
    let mut rng = rng();
    let info = RequestInfo {
        est_tokens: 300,
        ..Default::default()
    };
    let (first, mut a) = start(&mut strategy, secs(0.0), &mut rng, info);
    finish(
        &mut strategy,
        secs(0.5),
        &mut rng,
        first,
        &mut a,
        Completion {
            prompt_tokens: 200,
            completion_tokens: 400,
            ..completion(0.5, None, 0, false)
        },
    );
    let (second, mut b) = start(&mut strategy, secs(1.0), &mut rng, info);
    assert_ne!(first, second, "lowest tpm used");
    finish(
        &mut strategy,
        secs(1.5),
        &mut rng,
        second,
        &mut b,
        Completion {
            prompt_tokens: 200,
            completion_tokens: 450,
            ..completion(0.5, None, 0, false)
        },
    );
    // first: 600 used, second: 650 → 600 + 300 ≤ 1000 → first.
    assert_eq!(start(&mut strategy, secs(2.0), &mut rng, info).0, first);
    // A 500-token request fits nowhere: "No deployments available", after the retries' backoff,
    // with retry-after = the router's cooldown (5 s) rounded up, as none is cooling (1.108.7).
    let big = RequestInfo {
        est_tokens: 500,
        ..Default::default()
    };
    let none = run_with(&mut strategy, secs(3.0), &mut rng, big, ok)
        .exhausted()
        .unwrap();
    assert_eq!(
        (none.status, none.retry_after),
        (429, Some(Duration::from_secs(5)))
    );
    // The fixed minute resets at 60 s.
    assert!(
        run_with(&mut strategy, secs(60.0), &mut rng, big, ok)
            .backend()
            .is_some()
    );
}

#[test]
fn usage_based_pre_call_rpm_check_raises_a_local_429() {
    let backends = vec![BackendSpec::named("a").with_limits(None, Some(1))];
    let mut strategy = preset(Preset::LitellmUsage, &backends);
    let mut rng = rng();
    assert!(
        run(&mut strategy, secs(0.0), &mut rng, ok)
            .backend()
            .is_some()
    );
    let second = run(&mut strategy, secs(1.0), &mut rng, ok);
    assert!(second.tried.is_empty(), "rejected before any send");
    assert_eq!(second.exhausted().unwrap().status, 429);
}

#[test]
fn token_headroom_reads_remaining_headers_and_refills() {
    let backends = vec![
        BackendSpec::named("a").with_limits(Some(60_000), Some(600)),
        BackendSpec::named("b").with_limits(Some(60_000), Some(600)),
    ];
    let mut strategy = from_toml(
        "name = \"h\"\npreset = \"token-headroom\"\nselector = { debit_on_send = false }",
        &backends,
    );
    let mut rng = rng();
    let info = RequestInfo {
        est_tokens: 5_000,
        ..Default::default()
    };
    // a reports 10 000 tokens left, b 50 000: b has more headroom.
    for (backend, remaining) in [(0usize, 10_000u64), (1, 50_000)] {
        let mut attempt = strategy.begin(secs(0.0), &info);
        let observation = Observation::http(200).with_remaining(Some(100), Some(remaining));
        strategy.on_response(secs(0.0), &mut attempt, backend, &observation, &mut rng);
    }
    assert_eq!(start(&mut strategy, secs(0.0), &mut rng, info).0, 1);
    // b drops to 2 000 (< est): excluded; a is the only one with room.
    let mut attempt = strategy.begin(secs(0.0), &info);
    strategy.on_response(
        secs(0.0),
        &mut attempt,
        1,
        &Observation::http(200).with_remaining(Some(100), Some(2_000)),
        &mut rng,
    );
    assert_eq!(start(&mut strategy, secs(0.0), &mut rng, info).0, 0);
    // a drops to 1 000: nothing has room for 5 000 tokens → 429 with the earliest reopen + 1.
    let mut attempt = strategy.begin(secs(0.0), &info);
    strategy.on_response(
        secs(0.0),
        &mut attempt,
        0,
        &Observation::http(200).with_remaining(Some(100), Some(1_000)),
        &mut rng,
    );
    assert_eq!(
        run_with(&mut strategy, secs(0.0), &mut rng, info, ok)
            .exhausted()
            .unwrap()
            .status,
        429
    );
    // Refill at 1 000 tokens/s toward 60 000: at 3.5 s a has 4 500, b 5 500 → b.
    assert_eq!(start(&mut strategy, secs(3.5), &mut rng, info).0, 1);
}

#[test]
fn session_affinity_keeps_a_key_on_its_backend_and_moves_it_when_out() {
    let mut strategy = from_toml(
        "name = \"s\"\npreset = \"session-affinity\"\nbreaker = { kind = \"throttle-flag\" }",
        &plain(4),
    );
    let mut rng = rng();
    let info = RequestInfo {
        session: Some(session_hash("thread-42")),
        ..Default::default()
    };
    let home = run_with(&mut strategy, secs(0.0), &mut rng, info, ok)
        .backend()
        .unwrap();
    for i in 1..20 {
        assert_eq!(
            run_with(&mut strategy, secs(f64::from(i)), &mut rng, info, ok).backend(),
            Some(home)
        );
    }
    // Keys spread over backends.
    let spread: std::collections::BTreeSet<_> = (0..100)
        .map(|k| {
            let key = format!("k{k}");
            run_with(
                &mut strategy,
                secs(30.0),
                &mut rng,
                RequestInfo {
                    session: Some(session_hash(&key)),
                    ..Default::default()
                },
                ok,
            )
            .backend()
            .unwrap()
        })
        .collect();
    assert_eq!(spread.len(), 4);
    // Home throttled: re-pinned elsewhere, back home when it recovers.
    run_with(&mut strategy, secs(40.0), &mut rng, info, |_, _| {
        Observation::http(429).with_retry_after_secs(5)
    });
    let moved = run_with(&mut strategy, secs(41.0), &mut rng, info, ok)
        .backend()
        .unwrap();
    assert_ne!(moved, home);
    assert_eq!(
        run_with(&mut strategy, secs(45.0), &mut rng, info, ok).backend(),
        Some(home)
    );
}
