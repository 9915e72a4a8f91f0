//! The single-response throttle-flag presets walked step by step: the smart APIM policy with
//! the eight backends of seed-examples.md §1, PowerProxy, and the client-side priority balancer.

use crate::balance_support;

use std::collections::BTreeSet;
use std::time::Duration;

use balance_support::*;
use throttlebox::balance::{
    BackendSpec, BackendState, Observation, Preset, RequestInfo, RetryAfterHeader,
};

/// Priorities of the eight regional deployments of the seed policy.
const SEED_PRIORITIES: [u32; 8] = [1, 1, 1, 2, 3, 3, 3, 4];

fn smart() -> throttlebox::balance::Strategy {
    preset(Preset::ApimSmartPolicy, &with_priorities(&SEED_PRIORITIES))
}

#[test]
fn smart_policy_spreads_at_random_over_priority_one() {
    let mut strategy = smart();
    let mut rng = rng();
    let used: BTreeSet<_> = (0..200)
        .map(|i| {
            run(&mut strategy, secs(f64::from(i)), &mut rng, ok)
                .backend()
                .unwrap()
        })
        .collect();
    assert_eq!(used, BTreeSet::from([0, 1, 2]));
}

#[test]
fn smart_policy_throttle_wait_follows_its_header_order() {
    let cases = [
        (Observation::http(429), 10.0),
        (Observation::http(429).with_retry_after_secs(5), 5.0),
        (
            Observation::http(503)
                .with_resets(Some(Duration::from_secs(7)), Some(Duration::from_secs(30))),
            7.0,
        ),
        (
            Observation::http(429).with_resets(None, Some(Duration::from_secs(30))),
            30.0,
        ),
        // retry-after-ms is not read by the policy.
        (Observation::http(429).with_retry_after_ms(2500), 10.0),
    ];
    for (observation, wait) in cases {
        let mut strategy = smart();
        let mut rng = rng();
        let mut first = None;
        run(&mut strategy, secs(100.0), &mut rng, |b, _| {
            if first.is_none() {
                first = Some(b);
                observation
            } else {
                Observation::http(200)
            }
        });
        let b = first.unwrap();
        assert_eq!(
            strategy.backend_state(secs(100.0), b),
            BackendState::Open {
                until: Some(secs(100.0 + wait))
            },
            "{observation:?}"
        );
    }
}

#[test]
fn smart_policy_falls_through_priorities_and_to_backend_zero() {
    let mut strategy = smart();
    let mut rng = rng();
    // Throttle the three priority-1 backends: the retry goes on immediately to the next best.
    let walk = run(&mut strategy, secs(0.0), &mut rng, |b, _| {
        if b < 3 {
            Observation::http(429).with_retry_after_secs(60)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(walk.tried.len(), 4);
    assert_eq!(walk.tried[3], 3, "priority 2 after all of priority 1");
    assert_eq!(walk.ended_at, secs(0.0), "interval 0: immediate retries");
    assert_eq!(
        run(&mut strategy, secs(1.0), &mut rng, ok).backend(),
        Some(3)
    );
    // Every backend failing: each is tried once, then no backend remains and the last response
    // goes back to the client.
    let mut strategy = smart();
    let all = run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    assert_eq!(all.tried.iter().collect::<BTreeSet<_>>().len(), 8);
    assert_eq!(all.tried.len(), 8);
    assert_eq!(
        all.end,
        End::Returned {
            backend: *all.tried.last().unwrap(),
            status: 500
        }
    );
    // With all throttling, a new request goes to the first backend.
    let next = run(&mut strategy, secs(1.0), &mut rng, ok);
    assert_eq!(next.tried, vec![0]);
    // 401 does not throttle in the seed policy; it does in the openai-apim-lb variant.
    let mut strategy = smart();
    let unauthorized = run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::http(401)
    });
    assert_eq!(unauthorized.tried.len(), 1);
    assert!(
        strategy
            .backend_states(secs(0.0))
            .iter()
            .all(|s| *s == BackendState::Closed)
    );
    let mut variant = from_toml(
        "name = \"v\"\npreset = \"apim-smart-policy\"\nbreaker = { status_codes = [401, 429, \"500-599\"] }\nretry = { on = [401, 429, \"5xx\"] }",
        &with_priorities(&SEED_PRIORITIES),
    );
    let retried = run(&mut variant, secs(0.0), &mut rng, |b, _| {
        if b < 3 {
            Observation::http(401)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(retried.tried.len(), 4);
}

#[test]
fn smart_policy_transport_errors_are_not_retried() {
    let mut strategy = smart();
    let mut rng = rng();
    let failed = run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::new(throttlebox::balance::Status::Timeout)
    });
    assert_eq!(
        failed.tried.len(),
        1,
        "the retry condition needs a response"
    );
}

#[test]
fn powerproxy_is_ordered_failover_with_10000_ms_blocks() {
    let backends = plain(3);
    let mut strategy = preset(Preset::Powerproxy, &backends);
    let mut rng = rng();
    assert_eq!(run(&mut strategy, secs(0.0), &mut rng, ok).tried, vec![0]);
    // 429 without retry-after-ms blocks 10 000 ms; Retry-After (seconds) is not read.
    let failover = run(&mut strategy, secs(1.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(429).with_retry_after_secs(3)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(failover.tried, vec![0, 1]);
    assert_eq!(
        strategy.backend_state(secs(1.0), 0),
        BackendState::Open {
            until: Some(secs(11.0))
        }
    );
    assert_eq!(
        run(&mut strategy, secs(10.999), &mut rng, ok).tried,
        vec![1]
    );
    assert_eq!(run(&mut strategy, secs(11.0), &mut rng, ok).tried, vec![0]);
    // retry-after-ms sets the block.
    run(&mut strategy, secs(20.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(408).with_retry_after_ms(2500)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(
        strategy.backend_state(secs(20.0), 0),
        BackendState::Open {
            until: Some(secs(22.5))
        }
    );
    // 503 is returned as is: no failover.
    let passthrough = run(&mut strategy, secs(30.0), &mut rng, |_, _| {
        Observation::http(503)
    });
    assert_eq!(passthrough.tried, vec![0]);
    assert_eq!(
        passthrough.end,
        End::Returned {
            backend: 0,
            status: 503
        }
    );
    // All targets failing: the last response is returned.
    let last = run(&mut strategy, secs(40.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    assert_eq!(last.tried, vec![0, 1, 2]);
    assert_eq!(
        last.end,
        End::Returned {
            backend: 2,
            status: 500
        }
    );
    // Nothing attempted: 429 with retry-after-ms 10000.
    let none = run(&mut strategy, secs(41.0), &mut rng, ok)
        .exhausted()
        .unwrap();
    assert_eq!(
        (none.status, none.retry_after, none.retry_after_header),
        (
            429,
            Some(Duration::from_millis(10_000)),
            RetryAfterHeader::Millis
        )
    );
    assert!(none.body_message.starts_with("Could not find any endpoint"));
}

#[test]
fn powerproxy_non_streaming_fraction_keeps_a_backend_for_streams() {
    // The first target takes a quarter of the non-streaming requests and every stream.
    let backends = vec![
        BackendSpec::named("ptu").with_non_streaming_fraction(Some(0.25)),
        BackendSpec::named("payg"),
    ];
    let mut strategy = preset(Preset::Powerproxy, &backends);
    let mut rng = rng();
    let request = |stream| RequestInfo {
        stream,
        ..RequestInfo::default()
    };
    let at_ptu = (0..4_000)
        .filter(|i| {
            let run = run_with(&mut strategy, secs(*i as f64), &mut rng, request(false), ok);
            run.backend() == Some(0)
        })
        .count();
    let share = at_ptu as f64 / 4_000.0;
    assert!((share - 0.25).abs() < 0.03, "non-streaming share {share}");
    for i in 0..200 {
        let run = run_with(
            &mut strategy,
            secs(5_000.0 + f64::from(i)),
            &mut rng,
            request(true),
            ok,
        );
        assert_eq!(run.tried, vec![0], "streams always pass");
    }
    // One draw per request, as PowerProxy's single pass over its targets: a request the first
    // target declined and the second throttled goes on to the third; it does not draw again
    // for the first.
    let three = vec![
        BackendSpec::named("ptu").with_non_streaming_fraction(Some(0.5)),
        BackendSpec::named("payg-1"),
        BackendSpec::named("payg-2"),
    ];
    let mut strategy = preset(Preset::Powerproxy, &three);
    let mut fails_over = 0;
    for i in 0..200 {
        let run = run_with(
            &mut strategy,
            secs(f64::from(i)),
            &mut rng,
            request(false),
            |b, _| match b {
                1 => Observation::http(429).with_retry_after_ms(1),
                _ => Observation::http(200),
            },
        );
        if run.tried[0] == 1 {
            fails_over += 1;
            assert_eq!(run.tried, vec![1, 2], "request {i}");
        } else {
            assert_eq!(run.tried, vec![0], "request {i}");
        }
    }
    assert!(
        fails_over > 50,
        "{fails_over} of 200 declined by the first target"
    );

    // Fraction 0 everywhere: a non-streaming request is attempted nowhere and gets
    // PowerProxy's own 429; a stream still goes through.
    let closed = vec![
        BackendSpec::named("a").with_non_streaming_fraction(Some(0.0)),
        BackendSpec::named("b").with_non_streaming_fraction(Some(0.0)),
    ];
    let mut strategy = preset(Preset::Powerproxy, &closed);
    let none = run_with(&mut strategy, secs(0.0), &mut rng, request(false), ok);
    assert!(none.tried.is_empty());
    assert_eq!(none.exhausted().map(|answer| answer.status), Some(429));
    let stream = run_with(&mut strategy, secs(1.0), &mut rng, request(true), ok);
    assert_eq!(stream.tried, vec![0]);
}

#[test]
fn client_priority_balancer_answers_429_with_min_plus_one() {
    let backends = with_priorities(&[1, 1, 2]);
    let mut strategy = preset(Preset::ClientPriority, &backends);
    let mut rng = rng();
    // Reset-tokens is never read: no Retry-After and no reset-requests → 10 s.
    run(&mut strategy, secs(0.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(429).with_resets(None, Some(Duration::from_secs(40)))
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(
        strategy.backend_state(secs(0.0), 0),
        BackendState::Open {
            until: Some(secs(10.0))
        }
    );
    // Throttle everything: 1 for 4.5 s, 2 for 20 s (backend 0 still until 10).
    let all = run(&mut strategy, secs(0.5), &mut rng, |b, _| {
        Observation::http(429).with_retry_after_secs(if b == 1 { 4 } else { 20 })
    });
    let answer = all.exhausted().expect("no backend left");
    // min open-until = 4.5 s; int(4.5 − 0.5) + 1 = 5.
    assert_eq!(
        (answer.status, answer.retry_after),
        (429, Some(Duration::from_secs(5)))
    );
    assert_eq!(all.tried, vec![1, 2]);
    // Priority 1 first again once backend 1 is back.
    assert_eq!(
        run(&mut strategy, secs(4.5), &mut rng, ok).backend(),
        Some(1)
    );
}
