//! APIM backend pool preset and import: the documented behaviour walked step by step in
//! virtual time, the §10 breaker traces, and the seed pool of seed-examples.md §2.

use crate::balance_support;

use std::time::Duration;

use balance_support::*;
use throttlebox::balance::{
    BackendSpec, BackendState, BalanceError, Observation, Phase, Preset, Reason, Strategy,
    StrategyConfig, import_member_rule, import_pool,
};

const SEED_POOL: &str = include_str!("fixtures/apim-pool-seed.json");

fn fleet() -> Vec<BackendSpec> {
    ["openai-1", "openai-2", "openai-3", "unused"]
        .iter()
        .map(|name| BackendSpec::named(*name).with_limits(Some(100_000), Some(600)))
        .collect()
}

fn seed_strategy(extra: &str) -> (Strategy, Vec<BackendSpec>) {
    let pool = import_pool(SEED_POOL, "apim-pool-seed.json").expect("seed pool imports");
    let mut cfg: StrategyConfig = toml::from_str(&format!(
        "name = \"seed\"\napim_pool_json = \"apim-pool-seed.json\"\n{extra}"
    ))
    .expect("config parses");
    let specs = pool
        .backend_specs(&fleet())
        .expect("members are in the fleet");
    cfg.attach_pool(pool);
    (Strategy::new(&cfg, &specs).expect("strategy builds"), specs)
}

#[test]
fn seed_pool_imports_as_written() {
    let pool = import_pool(SEED_POOL, "apim-pool-seed.json").unwrap();
    let names: Vec<_> = pool
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.priority, m.weight))
        .collect();
    assert_eq!(
        names,
        vec![("openai-3", 1, 1), ("openai-1", 2, 1), ("openai-2", 2, 1)]
    );
    assert_eq!(
        pool.rule_name.as_deref(),
        Some("breakThrottling "),
        "trailing space kept"
    );
    let rule = pool.breaker.expect("rule on the pool");
    assert_eq!(rule.count, Some(1));
    assert_eq!(rule.percentage, None);
    assert_eq!(rule.interval, Duration::from_secs(60));
    assert_eq!(rule.trip_duration, Duration::from_secs(60));
    assert!(rule.accept_retry_after);
    assert_eq!(rule.failure_statuses.ranges(), vec![(429, 429)]);
    assert!(
        !rule
            .failure_statuses
            .contains(throttlebox::balance::Status::Timeout)
    );
    let specs = pool_specs();
    assert_eq!(specs[0].name, "openai-3");
    assert_eq!(
        specs[0].tpm_limit,
        Some(100_000),
        "limits come from the fleet"
    );
}

fn pool_specs() -> Vec<BackendSpec> {
    import_pool(SEED_POOL, "s.json")
        .unwrap()
        .backend_specs(&fleet())
        .unwrap()
}

#[test]
fn seed_pool_behaves_as_written() {
    let (mut strategy, specs) = seed_strategy("");
    let mut rng = rng();
    let (p1, p2a, p2b) = (0, 1, 2);
    assert_eq!(specs[p1].name, "openai-3");
    // Priority 1 takes all traffic while healthy.
    for i in 0..10 {
        assert_eq!(
            run(&mut strategy, secs(f64::from(i)), &mut rng, ok).backend(),
            Some(p1)
        );
    }
    // One 429 (no Retry-After) trips openai-3 for PT1M; the retry goes to priority 2.
    let first = run(&mut strategy, secs(10.0), &mut rng, |b, _| {
        if b == p1 {
            Observation::http(429)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(first.tried[0], p1);
    assert!(matches!(first.tried[1], 1 | 2));
    assert_eq!(
        strategy.backend_state(secs(10.0), p1),
        BackendState::Open {
            until: Some(secs(70.0))
        }
    );
    // Priority 2 backends share evenly (smooth WRR, equal weights: alternate).
    let picks: Vec<_> = (0..6)
        .map(|i| {
            run(&mut strategy, secs(11.0 + f64::from(i)), &mut rng, ok)
                .backend()
                .unwrap()
        })
        .collect();
    assert!(picks.iter().all(|b| *b == p2a || *b == p2b));
    assert!(
        picks.windows(2).all(|w| w[0] != w[1]),
        "equal weights alternate: {picks:?}"
    );
    // Still out just before the trip ends, back with all traffic at once when it ends.
    assert_ne!(
        run(&mut strategy, secs(69.999), &mut rng, ok).backend(),
        Some(p1)
    );
    assert_eq!(
        run(&mut strategy, secs(70.0), &mut rng, ok).backend(),
        Some(p1)
    );
    let timeline = strategy.drain_transitions();
    assert_eq!(timeline.len(), 2);
    assert_eq!(
        (timeline[0].at, timeline[0].backend, timeline[0].to),
        (secs(10.0), p1, Phase::Open)
    );
    assert_eq!(timeline[0].reason, Reason::FailureCount { failures: 1 });
    assert_eq!(
        (timeline[1].at, timeline[1].to, timeline[1].reason),
        (secs(70.0), Phase::Closed, Reason::TimerExpired)
    );
}

#[test]
fn all_tripped_answers_503_and_traffic_returns_when_the_trip_ends() {
    let (mut strategy, _) = seed_strategy("");
    let mut rng = rng();
    let throttled = run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::http(429)
    });
    // count=2 retries: three attempts over the three backends, every one trips.
    assert_eq!(throttled.tried.len(), 3);
    assert!(
        throttled.tried.contains(&0)
            && throttled.tried.contains(&1)
            && throttled.tried.contains(&2)
    );
    let answer = run(&mut strategy, secs(1.0), &mut rng, ok)
        .exhausted()
        .expect("pool exhausted");
    assert_eq!(answer.status, 503);
    assert_eq!(
        run(&mut strategy, secs(60.0), &mut rng, ok).backend(),
        Some(0)
    );
}

#[test]
fn retry_after_replaces_or_extends_the_trip() {
    // §10 item 5: count 1, PT1M, trip PT1M, acceptRetryAfter, 429 Retry-After: 7.
    for (extra, out_for) in [("", 7.0), ("breaker = { retry_after = \"max\" }", 60.0)] {
        let (mut strategy, _) = seed_strategy(extra);
        let mut rng = rng();
        run(&mut strategy, secs(100.0), &mut rng, |b, _| {
            if b == 0 {
                Observation::http(429).with_retry_after_secs(7)
            } else {
                Observation::http(200)
            }
        });
        let back = secs(100.0 + out_for);
        assert_eq!(
            strategy.backend_state(secs(100.0), 0),
            BackendState::Open { until: Some(back) },
            "{extra}"
        );
        assert_ne!(
            run(&mut strategy, back - secs(0.001), &mut rng, ok).backend(),
            Some(0)
        );
        assert_eq!(
            run(&mut strategy, back, &mut rng, ok).backend(),
            Some(0),
            "full traffic at once"
        );
    }
    // acceptRetryAfter false ignores the header.
    let (mut strategy, _) = seed_strategy("breaker = { accept_retry_after = false }");
    let mut rng = rng();
    run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::http(429).with_retry_after_secs(7)
    });
    assert_eq!(
        strategy.backend_state(secs(1.0), 0),
        BackendState::Open {
            until: Some(secs(60.0))
        }
    );
}

#[test]
fn count_and_interval_sliding_versus_fixed() {
    let backends = with_priorities(&[1, 2]);
    let config = |window: &str| {
        format!(
            "name = \"c3\"\npreset = \"apim-pool\"\nretry = {{ count = 0 }}\n\
             breaker = {{ count = 3, interval = \"10s\", status_codes = [\"500-599\"], trip_duration = \"30s\", window = \"{window}\" }}"
        )
    };
    let fail = |b: usize, _| {
        if b == 0 {
            Observation::http(500)
        } else {
            Observation::http(200)
        }
    };
    // Failures at 8 s, 9 s, 12 s: a sliding 10 s window holds all three; fixed windows
    // [0,10) and [10,20) split them 2 + 1.
    for (window, trips) in [("sliding", true), ("fixed", false)] {
        let mut strategy = from_toml(&config(window), &backends);
        let mut rng = rng();
        for t in [8.0, 9.0, 12.0] {
            run(&mut strategy, secs(t), &mut rng, fail);
        }
        let open = matches!(
            strategy.backend_state(secs(12.0), 0),
            BackendState::Open { .. }
        );
        assert_eq!(open, trips, "{window}");
    }
    // Failures older than the interval do not count.
    let mut strategy = from_toml(&config("sliding"), &backends);
    let mut rng = rng();
    for t in [0.0, 5.0, 15.5] {
        run(&mut strategy, secs(t), &mut rng, fail);
    }
    assert_eq!(strategy.backend_state(secs(15.5), 0), BackendState::Closed);
}

#[test]
fn percentage_needs_its_minimum_volume() {
    let backends = with_priorities(&[1, 2]);
    let mut strategy = from_toml(
        "name = \"pct\"\npreset = \"apim-pool\"\nretry = { count = 0 }\n\
         breaker = { count = 1000, percentage = 50, min_volume = 4, interval = \"1m\", status_codes = [500], trip_duration = \"10s\" }",
        &backends,
    );
    let mut rng = rng();
    let statuses = [500, 200, 500];
    for (i, status) in statuses.iter().enumerate() {
        run(&mut strategy, secs(i as f64), &mut rng, |_, _| {
            Observation::http(*status)
        });
        assert_eq!(
            strategy.backend_state(secs(i as f64), 0),
            BackendState::Closed,
            "below volume"
        );
    }
    run(&mut strategy, secs(3.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    let timeline = strategy.drain_transitions();
    assert_eq!(
        timeline[0].reason,
        Reason::FailurePercentage {
            failures: 3,
            calls: 4
        }
    );
}

#[test]
fn weights_inside_a_priority_group() {
    let backends = vec![
        BackendSpec::named("ptu").with_priority(1),
        BackendSpec::named("a").with_priority(2).with_weight(3),
        BackendSpec::named("b").with_priority(2).with_weight(1),
    ];
    let mut strategy = preset(Preset::ApimPool, &backends);
    let mut rng = rng();
    run(&mut strategy, secs(0.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(429)
        } else {
            Observation::http(200)
        }
    });
    let picks: Vec<_> = (1..=8)
        .map(|i| {
            run(&mut strategy, secs(f64::from(i)), &mut rng, ok)
                .backend()
                .unwrap()
        })
        .collect();
    assert_eq!(picks.iter().filter(|b| **b == 1).count(), 6);
    assert_eq!(picks.iter().filter(|b| **b == 2).count(), 2);
    // Smooth WRR spreads the light backend: never two in a row.
    assert!(
        picks.windows(2).all(|w| !(w[0] == 2 && w[1] == 2)),
        "{picks:?}"
    );
}

#[test]
fn exhaustion_status_can_be_mapped_to_429_and_retries_with_an_interval_find_a_recovered_backend() {
    let backends = with_priorities(&[1]);
    let mut mapped = from_toml(
        "name = \"m\"\npreset = \"apim-pool\"\nexhausted_status = 429",
        &backends,
    );
    let mut rng = rng();
    run(&mut mapped, secs(0.0), &mut rng, |_, _| {
        Observation::http(429).with_retry_after_secs(5)
    });
    assert_eq!(
        run(&mut mapped, secs(1.0), &mut rng, ok)
            .exhausted()
            .unwrap()
            .status,
        429
    );

    // retry interval 3 s, first-fast-retry off. The 429 (Retry-After 5) at t=0 trips the only
    // backend; the retry at 3 s meets the pool's 503, which is itself retried at 6 s, when the
    // backend is back.
    let mut waiting = from_toml(
        "name = \"w\"\npreset = \"apim-pool\"\nretry = { count = 2, interval = \"3s\", first_fast_retry = false }",
        &backends,
    );
    let mut answered = 0;
    let recovered = run(&mut waiting, secs(0.0), &mut rng, |_, _| {
        answered += 1;
        if answered == 1 {
            Observation::http(429).with_retry_after_secs(5)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(recovered.tried, vec![0, 0]);
    assert_eq!(recovered.backend(), Some(0));
    assert_eq!(recovered.ended_at, secs(6.0));
}

#[test]
fn arm_shape_with_strings_and_member_rules() {
    let pool = r#"{"properties": {"type": "Pool", "pool": {"services": [
        {"id": "/subscriptions/x/backends/backend-1", "priority": "1", "weight": "3"},
        {"id": "/subscriptions/x/backends/backend-2", "priority": "2", "weight": null}]}}}"#;
    let member = r#"{"properties": {"url": "https://x", "circuitBreaker": {"rules": [{"name": "r",
        "failureCondition": {"count": "3", "errorReasons": ["Server errors"], "interval": "PT1H",
        "statusCodeRanges": [{"min": "500", "max": "599"}]}, "tripDuration": "PT1H", "acceptRetryAfter": true}]}}}"#;
    let rule = import_member_rule(member, "backend-1.json")
        .unwrap()
        .unwrap();
    assert_eq!(rule.count, Some(3));
    assert_eq!(rule.interval, Duration::from_secs(3600));
    assert!(
        rule.failure_statuses
            .contains(throttlebox::balance::Status::ConnectError),
        "'Server errors' matches connection errors"
    );
    let imported = import_pool(pool, "pool.json")
        .unwrap()
        .with_member_rules(&[
            ("backend-1".into(), Some(rule.clone())),
            ("backend-2".into(), Some(rule.clone())),
        ])
        .unwrap();
    assert_eq!(imported.members[0].weight, 3);
    assert_eq!(imported.members[1].weight, 1);
    assert_eq!(
        imported.breaker_config(),
        throttlebox::balance::breaker::BreakerConfig::Apim(rule.clone())
    );
    // Different rules per member: backend-1 trips at 3 failures, backend-2 has no breaker.
    let mut quick = rule.clone();
    quick.count = Some(3);
    quick.trip_duration = Duration::from_secs(30);
    let pool_with_rules = import_pool(pool, "pool.json")
        .unwrap()
        .with_member_rules(&[
            ("backend-1".into(), Some(quick)),
            ("backend-2".into(), None),
        ])
        .unwrap();
    let fleet = vec![
        BackendSpec::named("backend-2"),
        BackendSpec::named("backend-1"),
    ];
    let specs = pool_with_rules.backend_specs(&fleet).unwrap();
    assert_eq!(specs[0].name, "backend-1");
    let mut cfg: StrategyConfig =
        toml::from_str("name = \"m\"\napim_pool_json = \"pool.json\"\nretry = { count = 0 }")
            .unwrap();
    cfg.attach_pool(pool_with_rules.clone());
    let mut strategy = Strategy::new(&cfg, &specs).unwrap();
    let mut rng = rng();
    for t in 0..3 {
        run(&mut strategy, secs(f64::from(t)), &mut rng, |_, _| {
            Observation::http(500)
        });
    }
    assert_eq!(
        strategy.backend_state(secs(2.0), 0),
        BackendState::Open {
            until: Some(secs(32.0))
        }
    );
    for t in 3..10 {
        run(&mut strategy, secs(f64::from(t)), &mut rng, |_, _| {
            Observation::http(500)
        });
    }
    assert_eq!(
        strategy.backend_state(secs(9.0), 1),
        BackendState::Closed,
        "no rule, never trips"
    );
    // Overrides reach every member's rule.
    let mut cfg: StrategyConfig = toml::from_str(
        "name = \"m\"\napim_pool_json = \"pool.json\"\nbreaker = { trip_duration = \"5s\" }",
    )
    .unwrap();
    cfg.attach_pool(pool_with_rules.clone());
    match cfg.resolve(2).unwrap().breaker {
        throttlebox::balance::breaker::BreakerConfig::ApimPerBackend { rules } => {
            assert_eq!(
                rules[0].as_ref().unwrap().trip_duration,
                Duration::from_secs(5)
            );
            assert!(rules[1].is_none());
        }
        other => panic!("expected per-backend rules, got {other:?}"),
    }
    // The backend list must be the pool's.
    assert!(Strategy::new(&cfg, &plain(3)).is_err());
    let err = import_pool(pool, "pool.json")
        .unwrap()
        .with_member_rules(&[("nope".into(), None)])
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn bad_pool_input_names_field_and_value() {
    let cases = [
        (
            r#"{"properties": {"pool": {"services": [{"id": "/x/backends/a", "priority": "high"}]}}}"#,
            "properties.pool.services[0].priority",
            "\"high\"",
        ),
        (
            r#"{"properties": {"pool": {"services": []}}}"#,
            "properties.pool.services",
            "[]",
        ),
        (
            r#"{"properties": {"url": "https://x", "pool": {"services": [{"id": "/x/backends/a"}]}}}"#,
            "properties.url",
            "https://x",
        ),
        (
            r#"{"properties": {"pool": {"services": [{"id": "/x/backends/a"}]}, "circuitBreaker": {"rules": [{"failureCondition": {"count": 1, "interval": "1 minute", "statusCodeRanges": [{"min": 429, "max": 429}]}, "tripDuration": "PT1M"}]}}}"#,
            "properties.circuitBreaker.rules[0].failureCondition.interval",
            "1 minute",
        ),
        (
            r#"{"properties": {"pool": {"services": [{"id": "/x/backends/a"}]}, "circuitBreaker": {"rules": [{"failureCondition": {"count": 1, "interval": "PT1M", "statusCodeRanges": [{"min": 500, "max": 429}]}, "tripDuration": "PT1M"}]}}}"#,
            "statusCodeRanges[0]",
            "500",
        ),
        (
            r#"{"properties": {"pool": {"services": [{"id": "/x/backends/"}]}}}"#,
            "services[0].id",
            "/x/backends/",
        ),
        (r#"{"nope": 1}"#, "properties", "missing"),
    ];
    for (text, path, value) in cases {
        let err = import_pool(text, "bad.json").unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("bad.json") && message.contains(path) && message.contains(value),
            "{message}"
        );
    }
    assert!(matches!(
        import_pool("{", "broken.json"),
        Err(BalanceError::Json { .. })
    ));
    let err = import_pool(SEED_POOL, "s.json")
        .unwrap()
        .backend_specs(&[BackendSpec::named("openai-3")])
        .unwrap_err();
    assert!(err.to_string().contains("openai-1"), "{err}");
}

#[test]
fn body_as_terraform_string_and_bare_properties_both_load() {
    let inner: serde_json::Value = serde_json::from_str(SEED_POOL).unwrap();
    let bare = serde_json::to_string(&inner["body"]).unwrap();
    let as_string =
        serde_json::json!({ "body": serde_json::to_string(&inner["body"]).unwrap() }).to_string();
    let reference = import_pool(SEED_POOL, "a").unwrap();
    for text in [bare, as_string] {
        let pool = import_pool(&text, "a").unwrap();
        assert_eq!(pool.members, reference.members);
        assert_eq!(pool.breaker, reference.breaker);
    }
}

#[test]
fn apim_instances_do_not_share_state() {
    let backends = with_priorities(&[1, 2]);
    let mut first = preset(Preset::ApimPool, &backends);
    let mut second = first.clone();
    let mut rng = rng();
    run(&mut first, secs(0.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(429)
        } else {
            Observation::http(200)
        }
    });
    assert!(matches!(
        first.backend_state(secs(1.0), 0),
        BackendState::Open { .. }
    ));
    assert_eq!(second.backend_state(secs(1.0), 0), BackendState::Closed);
    assert_eq!(run(&mut second, secs(1.0), &mut rng, ok).backend(), Some(0));
}
