//! The deterministic breaker traces of balancing.md §10 item 5 that are not APIM or throttle
//! flags (those are in balance_apim.rs and balance_flag_presets.rs): LiteLLM cooldown, Kong
//! fail-fail-success-fail, resilience4j 50/100 → OPEN for 60 s with 10 half-open calls, Envoy
//! k-th ejection min(k × 30 s, 300 s) with the 10% cap "but at least one", and Envoy's
//! success-rate detector (mean − 1.9σ over ≥ 5 hosts of ≥ 100 requests per 10 s interval).

use crate::balance_support;

use std::time::Duration;

use balance_support::*;
use throttlebox::balance::{BackendState, Observation, Phase, Preset, Reason, Status};

fn not_open(state: BackendState) -> bool {
    !matches!(state, BackendState::Open { .. })
}

/// The legacy model of the LiteLLM presets (before the conformance lab; 1.108.7's behaviour is
/// in balance_litellm.rs).
fn legacy(preset: &str, backends: usize) -> throttlebox::balance::Strategy {
    from_toml(
        &format!("name = \"l\"\npreset = \"{preset}\"\nlitellm = {{ version = \"legacy\" }}"),
        &plain(backends),
    )
}

#[test]
fn litellm_cools_for_5_s_and_429_only_with_two_deployments() {
    let mut rng = rng();
    // Two deployments: one 429 (no header) cools it for the default 5 s, no probe.
    let mut pair = legacy("litellm-shuffle", 2);
    let mut failed = None;
    run(&mut pair, secs(0.0), &mut rng, |b, _| {
        if failed.is_none() {
            failed = Some(b);
            Observation::http(429)
        } else {
            Observation::http(200)
        }
    });
    let cooled = failed.unwrap();
    assert_eq!(
        pair.backend_state(secs(0.0), cooled),
        BackendState::Open {
            until: Some(secs(5.0))
        }
    );
    assert!(not_open(pair.backend_state(secs(5.0), cooled)));
    // Retry-After is used when no explicit cooldown is set.
    let mut with_header = legacy("litellm-shuffle", 2);
    run(&mut with_header, secs(0.0), &mut rng, |_, _| {
        Observation::http(429).with_retry_after_secs(9)
    });
    assert!(
        with_header
            .backend_states(secs(0.0))
            .contains(&BackendState::Open {
                until: Some(secs(9.0))
            })
    );
    // One deployment: a 429 never cools it (rule 1 needs a group > 1) ...
    let mut single = legacy("litellm-shuffle", 1);
    for i in 0..4 {
        run(&mut single, secs(f64::from(i)), &mut rng, |_, _| {
            Observation::http(429)
        });
    }
    assert!(not_open(single.backend_state(secs(4.0), 0)));
    // ... but a non-retryable 401 does.
    run(&mut single, secs(5.0), &mut rng, |_, _| {
        Observation::http(401)
    });
    assert_eq!(
        single.backend_state(secs(5.0), 0),
        BackendState::Open {
            until: Some(secs(10.0))
        }
    );
    // Connection errors are ignored; re-cooling keeps the first deadline.
    let mut keep = legacy("litellm-shuffle", 2);
    run(&mut keep, secs(0.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::new(Status::ConnectError)
        } else {
            Observation::http(200)
        }
    });
    assert!(not_open(keep.backend_state(secs(0.0), 0)));
    // All cooled: "No deployments available", retry-after 60.
    let mut both = legacy("litellm-shuffle", 2);
    run(&mut both, secs(0.0), &mut rng, |_, _| {
        Observation::http(429)
    });
    let answer = run(&mut both, secs(1.0), &mut rng, ok).exhausted().unwrap();
    assert_eq!(
        (answer.status, answer.retry_after),
        (429, Some(Duration::from_secs(60)))
    );
    assert!(answer.body_message.starts_with("No deployments available"));
    let mut newer = from_toml(
        "name = \"n\"\npreset = \"litellm-shuffle\"\nexhausted_min_cooldown = true\nlitellm = { version = \"legacy\" }",
        &plain(2),
    );
    run(&mut newer, secs(0.0), &mut rng, |_, _| {
        Observation::http(429)
    });
    assert_eq!(
        run(&mut newer, secs(1.0), &mut rng, ok)
            .exhausted()
            .unwrap()
            .retry_after,
        Some(secs(4.0))
    );
}

#[test]
fn litellm_legacy_allowed_fails() {
    let mut rng = rng();
    let mut strategy = from_toml(
        "name = \"l\"\npreset = \"litellm-shuffle\"\nretry = { count = 0 }\nbreaker = { allowed_fails = 3, cooldown = \"30s\" }",
        &plain(1),
    );
    for i in 0..3 {
        run(&mut strategy, secs(f64::from(i)), &mut rng, |_, _| {
            Observation::http(500)
        });
        assert!(
            not_open(strategy.backend_state(secs(f64::from(i)), 0)),
            "fail {}",
            i + 1
        );
    }
    run(&mut strategy, secs(3.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    assert_eq!(
        strategy.backend_state(secs(3.0), 0),
        BackendState::Open {
            until: Some(secs(33.0))
        }
    );
}

#[test]
fn kong_fail_fail_success_fail_is_unhealthy_at_the_third_failure() {
    let mut rng = rng();
    let mut strategy = from_toml(
        "name = \"k\"\npreset = \"kong-round-robin\"\nretry = { count = 0 }\nbreaker = { max_fails = 3, fail_timeout = \"10000ms\", status_codes = [500] }",
        &plain(1),
    );
    let script = [500, 500, 200, 500];
    for (i, status) in script.iter().enumerate() {
        run(&mut strategy, secs(i as f64), &mut rng, |_, _| {
            Observation::http(*status)
        });
        let open = !not_open(strategy.backend_state(secs(i as f64), 0));
        assert_eq!(open, i == 3, "after response {}", i + 1);
    }
    // All unhealthy: 500.
    assert_eq!(
        run(&mut strategy, secs(4.0), &mut rng, ok)
            .exhausted()
            .unwrap()
            .status,
        500
    );
    // After fail_timeout one request is let through; a failure keeps it out ...
    assert_eq!(
        strategy.backend_state(secs(13.0), 0),
        BackendState::HalfOpen
    );
    run(&mut strategy, secs(13.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    assert_eq!(
        strategy.backend_state(secs(13.0), 0),
        BackendState::Open {
            until: Some(secs(23.0))
        }
    );
    // ... one success heals it.
    run(&mut strategy, secs(23.0), &mut rng, ok);
    assert_eq!(strategy.backend_state(secs(23.0), 0), BackendState::Closed);
    // A success after fail_timeout since the last failure resets the counter.
    let mut fresh = from_toml(
        "name = \"k\"\npreset = \"kong-round-robin\"\nretry = { count = 0 }\nbreaker = { max_fails = 3, fail_timeout = \"10s\", status_codes = [500] }",
        &plain(1),
    );
    for (t, status) in [
        (0.0, 500),
        (1.0, 500),
        (11.5, 200),
        (12.0, 500),
        (13.0, 500),
    ] {
        run(&mut fresh, secs(t), &mut rng, |_, _| {
            Observation::http(status)
        });
    }
    assert!(not_open(fresh.backend_state(secs(13.0), 0)));
}

#[test]
fn resilience4j_defaults_open_at_50_of_100_for_60_s_with_10_half_open_calls() {
    let mut rng = rng();
    let mut strategy = from_toml(
        "name = \"r\"\npreset = \"round-robin\"\nbreaker = { kind = \"resilience4j\" }",
        &plain(1),
    );
    // 49 failures then 50 successes: 99 calls, below the minimum.
    for i in 0..99 {
        let status = if i < 49 { 500 } else { 200 };
        run(
            &mut strategy,
            secs(f64::from(i) * 0.01),
            &mut rng,
            |_, _| Observation::http(status),
        );
    }
    assert_eq!(strategy.backend_state(secs(1.0), 0), BackendState::Closed);
    // The 100th call fails: 50/100 = 50% ≥ 50% → OPEN.
    run(&mut strategy, secs(1.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    assert_eq!(
        strategy.backend_state(secs(1.0), 0),
        BackendState::Open {
            until: Some(secs(61.0))
        }
    );
    assert!(
        run(&mut strategy, secs(60.9), &mut rng, ok)
            .exhausted()
            .is_some()
    );
    // After the wait the next call moves it to HALF_OPEN; ten calls are admitted.
    let mut admitted = 0;
    let mut attempts = Vec::new();
    for _ in 0..11 {
        let mut attempt = strategy.begin(secs(61.0), &Default::default());
        match strategy.next(secs(61.0), &mut attempt, &mut rng) {
            throttlebox::balance::Step::Send(_) => {
                admitted += 1;
                attempts.push(attempt);
            }
            _ => break,
        }
    }
    assert_eq!(admitted, 10);
    assert_eq!(
        strategy.backend_state(secs(61.0), 0),
        BackendState::HalfOpen
    );
    // 4 failures of 10 (< 50%) close it.
    for (i, mut attempt) in attempts.into_iter().enumerate() {
        let status = if i < 4 { 500 } else { 200 };
        strategy.on_response(
            secs(62.0),
            &mut attempt,
            0,
            &Observation::http(status),
            &mut rng,
        );
    }
    assert_eq!(strategy.backend_state(secs(62.0), 0), BackendState::Closed);
    let phases: Vec<_> = strategy
        .drain_transitions()
        .iter()
        .map(|t| (t.from, t.to))
        .collect();
    assert_eq!(
        phases,
        vec![
            (Phase::Closed, Phase::Open),
            (Phase::Open, Phase::HalfOpen),
            (Phase::HalfOpen, Phase::Closed)
        ]
    );
}

#[test]
fn envoy_kth_ejection_and_the_ejection_cap() {
    let mut rng = rng();
    // Exact ejection times (no sweep alignment): k-th ejection lasts min(k × 30 s, 300 s).
    let mut strategy = from_toml(
        "name = \"e\"\npreset = \"envoy-least-request\"\npanic_threshold = 0\nbreaker = { uneject_at_sweep = false }",
        &plain(1),
    );
    let mut now = 0.0;
    for k in 1..=12u32 {
        for _ in 0..5 {
            run(&mut strategy, secs(now), &mut rng, |_, _| {
                Observation::http(503)
            });
        }
        let expected = f64::from((k * 30).min(300));
        assert_eq!(
            strategy.backend_state(secs(now), 0),
            BackendState::Open {
                until: Some(secs(now + expected))
            },
            "ejection {k}"
        );
        now += expected;
    }
    let last = strategy
        .drain_transitions()
        .into_iter()
        .rfind(|t| t.to == Phase::Open)
        .unwrap();
    assert_eq!(
        last.reason,
        Reason::ConsecutiveFailures {
            count: 5,
            ejection: 12
        }
    );
    // Sweep alignment: ejected at 3 s for 30 s → back at the 40 s sweep.
    let mut swept = preset(Preset::EnvoyLeastRequest, &plain(1));
    for _ in 0..5 {
        run(&mut swept, secs(3.0), &mut rng, |_, _| {
            Observation::http(500)
        });
    }
    assert_eq!(
        swept.backend_state(secs(3.0), 0),
        BackendState::Open {
            until: Some(secs(40.0))
        }
    );
    // 10% cap of 8 hosts, but at least one: the second host is not ejected.
    let mut capped = from_toml(
        "name = \"c\"\npreset = \"round-robin\"\nbreaker = { kind = \"envoy\" }",
        &plain(8),
    );
    for _ in 0..40 {
        run(&mut capped, secs(1.0), &mut rng, |b, _| {
            if b < 2 {
                Observation::http(500)
            } else {
                Observation::http(200)
            }
        });
    }
    let open = capped
        .backend_states(secs(1.0))
        .iter()
        .filter(|s| !not_open(**s))
        .count();
    assert_eq!(open, 1);
    // 429 is not a 5xx: never ejected.
    let mut throttled = preset(Preset::EnvoyLeastRequest, &plain(2));
    for _ in 0..10 {
        run(&mut throttled, secs(1.0), &mut rng, |_, _| {
            Observation::http(429)
        });
    }
    assert!(
        throttled
            .backend_states(secs(1.0))
            .iter()
            .all(|s| not_open(*s))
    );
}

/// `hosts` hosts behind round-robin with an Envoy breaker (`overrides` added to it), the last
/// failing every 4th of its calls (75% success, never 5 in a row) and the others never, over
/// `requests` requests in the first 10 s interval; the hosts ejected at the 10 s sweep (with
/// their state), and the ejections' reasons.
fn ejected_at_the_first_sweep(
    overrides: &str,
    hosts: usize,
    requests: u32,
) -> (Vec<(usize, BackendState)>, Vec<Reason>) {
    let mut rng = rng();
    let mut strategy = from_toml(
        &format!(
            "name = \"s\"\npreset = \"round-robin\"\nbreaker = {{ kind = \"envoy\"{overrides} }}"
        ),
        &plain(hosts),
    );
    let outlier = hosts - 1;
    let mut outlier_calls = 0;
    let mut respond = |b: usize, _| {
        if b == outlier {
            outlier_calls += 1;
            if outlier_calls % 4 == 0 {
                return Observation::http(503);
            }
        }
        Observation::http(200)
    };
    for i in 0..requests {
        run(
            &mut strategy,
            secs(f64::from(i) * 0.005),
            &mut rng,
            &mut respond,
        );
    }
    assert!(
        strategy
            .backend_states(secs(9.999))
            .iter()
            .all(|s| not_open(*s)),
        "nothing is ejected before the sweep"
    );
    run(&mut strategy, secs(10.0), &mut rng, ok);
    let ejected = (0..hosts)
        .map(|b| (b, strategy.backend_state(secs(10.0), b)))
        .filter(|(_, state)| !not_open(*state))
        .collect();
    let reasons = strategy
        .drain_transitions()
        .into_iter()
        .filter(|t| t.to == Phase::Open)
        .map(|t| t.reason)
        .collect();
    (ejected, reasons)
}

#[test]
fn envoy_success_rate_ejects_the_outlier_at_the_sweep() {
    // Six hosts of ≥ 100 requests: mean 95.8%, stdev 9.3 points, threshold 78.1% — the host at
    // 75% is ejected at the 10 s sweep, for 30 s (back at the 40 s sweep).
    let (ejected, reasons) = ejected_at_the_first_sweep("", 6, 1_200);
    let until_the_40_s_sweep = BackendState::Open {
        until: Some(secs(40.0)),
    };
    assert_eq!(ejected, vec![(5, until_the_40_s_sweep)]);
    match reasons.as_slice() {
        [
            Reason::SuccessRate {
                per_mille,
                threshold_per_mille,
                ejection: 1,
            },
        ] => {
            assert!((740..=760).contains(per_mille), "{per_mille}");
            assert!(
                (770..=790).contains(threshold_per_mille),
                "{threshold_per_mille}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Fewer than `success_rate_minimum_hosts` (5) hosts with volume: no verdict.
    assert_eq!(ejected_at_the_first_sweep("", 4, 1_200).0, vec![]);
    // Under `success_rate_request_volume` (100) requests per host: no verdict.
    assert_eq!(ejected_at_the_first_sweep("", 6, 300).0, vec![]);
    // ... unless the volume asked for is lower.
    let low_volume = ejected_at_the_first_sweep(", success_rate_request_volume = 40", 6, 300);
    assert_eq!(low_volume.0, vec![(5, until_the_40_s_sweep)]);
    // Not enforced: no ejection. A looser factor (3σ): the 75% host is within it.
    let off = ejected_at_the_first_sweep(", enforcing_success_rate = 0", 6, 1_200);
    assert_eq!(off.0, vec![]);
    let loose = ejected_at_the_first_sweep(", success_rate_stdev_factor = 3000", 6, 1_200);
    assert_eq!(loose.0, vec![]);
}

/// Share of 20,000 requests the first of two ten-host priority levels takes under
/// `envoy-least-request` once `ejected` of its hosts are ejected.
fn envoy_p0_share(ejected: usize) -> f64 {
    let mut rng = rng();
    let mut strategy = from_toml(
        "name = \"e\"\npreset = \"envoy-least-request\"\nbreaker = { max_ejection_percent = 100 }",
        &with_priorities(&[[1; 10], [2; 10]].concat()),
    );
    for _ in 0..10_000 {
        if (0..ejected).all(|b| !not_open(strategy.backend_state(secs(0.0), b))) {
            break;
        }
        run(&mut strategy, secs(0.0), &mut rng, |b, _| {
            if b < ejected {
                Observation::http(503)
            } else {
                Observation::http(200)
            }
        });
    }
    let open = strategy.backend_states(secs(1.0));
    assert_eq!(open.iter().filter(|s| !not_open(**s)).count(), ejected);
    let p0 = (0..20_000)
        .filter(|_| {
            run(&mut strategy, secs(1.0), &mut rng, ok)
                .backend()
                .is_some_and(|b| b < 10)
        })
        .count();
    p0 as f64 / 20_000.0
}

#[test]
fn envoy_priority_load_follows_the_overprovisioning_factor() {
    // Envoy arithmetic (balancing.md §10.4): a level keeps all traffic until fewer than
    // 71.4 % of its hosts are healthy; health = healthy share × 1.4; the rest spills over.
    assert_eq!(envoy_p0_share(0), 1.0);
    assert_eq!(envoy_p0_share(2), 1.0, "80 % healthy × 1.4 ≥ 100 %");
    let share = envoy_p0_share(3);
    assert!((share - 0.98).abs() < 0.005, "70 % healthy → 98 %: {share}");
    let share = envoy_p0_share(5);
    assert!((share - 0.70).abs() < 0.015, "50 % healthy → 70 %: {share}");
    assert_eq!(
        envoy_p0_share(10),
        0.0,
        "a level with no healthy host takes nothing"
    );
}

#[test]
fn envoy_panic_mode_uses_every_host() {
    let mut rng = rng();
    let mut strategy = preset(Preset::EnvoyLeastRequest, &plain(2));
    for _ in 0..30 {
        run(&mut strategy, secs(0.0), &mut rng, |b, _| {
            if b == 0 {
                Observation::http(500)
            } else {
                Observation::http(200)
            }
        });
    }
    assert!(!not_open(strategy.backend_state(secs(0.0), 0)));
    // One of two ejected = 50% healthy, not below the 50% threshold: host 1 only.
    assert!((0..20).all(|_| run(&mut strategy, secs(1.0), &mut rng, ok).backend() == Some(1)));
    // Three hosts, two ejected (cap allows one at a time, so force it with 100%): panic.
    let mut panicking = from_toml(
        "name = \"p\"\npreset = \"envoy-least-request\"\nbreaker = { max_ejection_percent = 100 }",
        &plain(3),
    );
    for _ in 0..60 {
        run(&mut panicking, secs(0.0), &mut rng, |b, _| {
            if b < 2 {
                Observation::http(500)
            } else {
                Observation::http(200)
            }
        });
    }
    let ejected = panicking
        .backend_states(secs(0.0))
        .iter()
        .filter(|s| !not_open(**s))
        .count();
    assert_eq!(ejected, 2);
    let used: std::collections::BTreeSet<_> = (0..50)
        .map(|_| {
            run(&mut panicking, secs(1.0), &mut rng, ok)
                .backend()
                .unwrap()
        })
        .collect();
    assert_eq!(used.len(), 3, "panic: ejected hosts take traffic again");
}

#[test]
fn hystrix_19_failures_do_not_trip_20_at_half_do_and_one_probe_decides() {
    let mut rng = rng();
    let config = "name = \"h\"\npreset = \"round-robin\"\nbreaker = { kind = \"hystrix\" }";
    // 19 failures within 10 s: below the request volume threshold.
    let mut strategy = from_toml(config, &plain(1));
    for i in 0..19 {
        run(&mut strategy, secs(f64::from(i) * 0.1), &mut rng, |_, _| {
            Observation::http(500)
        });
    }
    assert_eq!(strategy.backend_state(secs(2.0), 0), BackendState::Closed);
    // 10 successes and 10 failures in the window: 20 calls at 50% → open for 5 s.
    let mut strategy = from_toml(config, &plain(1));
    for i in 0..20 {
        let status = if i < 10 { 200 } else { 500 };
        run(&mut strategy, secs(f64::from(i) * 0.1), &mut rng, |_, _| {
            Observation::http(status)
        });
    }
    assert_eq!(
        strategy.backend_state(secs(1.9), 0),
        BackendState::Open {
            until: Some(secs(6.9))
        }
    );
    // Failures older than the 10 s rolling window no longer count.
    let mut old = from_toml(config, &plain(1));
    for i in 0..10 {
        run(&mut old, secs(f64::from(i) * 0.1), &mut rng, |_, _| {
            Observation::http(500)
        });
    }
    for i in 0..10 {
        run(
            &mut old,
            secs(12.0 + f64::from(i) * 0.1),
            &mut rng,
            |_, _| Observation::http(500),
        );
    }
    assert_eq!(old.backend_state(secs(13.0), 0), BackendState::Closed);
    // After the sleep window one probe at a time: the second concurrent request is refused.
    let mut probe = strategy.begin(secs(6.9), &Default::default());
    assert_eq!(
        strategy.next(secs(6.9), &mut probe, &mut rng),
        throttlebox::balance::Step::Send(0)
    );
    assert!(
        run(&mut strategy, secs(6.9), &mut rng, ok)
            .exhausted()
            .is_some()
    );
    strategy.on_response(secs(7.0), &mut probe, 0, &Observation::http(200), &mut rng);
    assert_eq!(strategy.backend_state(secs(7.0), 0), BackendState::Closed);
}
