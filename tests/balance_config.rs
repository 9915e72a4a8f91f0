//! Scenario-facing configuration: the `[[strategies]]` entry (presets, overrides, refusals
//! naming the field), every preset building, and the client SDK retry policy.

use crate::balance_support;

use std::time::Duration;

use balance_support::*;
use throttlebox::balance::{
    BalanceError, ClientRetryPolicy, Observation, Preset, Sdk, Status, Strategy, StrategyConfig,
};

#[test]
fn the_documented_example_entry_parses_and_applies() {
    let cfg: StrategyConfig = toml::from_str(
        r#"name = "apim-pool-30s"
preset = "apim-pool"
breaker = { trip_duration = "30s", interval = "1m", count = 1, status_codes = ["429"], accept_retry_after = true }
retry = { count = 2, interval = "0s", first_fast_retry = true, on = [429, 503] }
exhausted_status = 503
gateways = 1"#,
    )
    .unwrap();
    cfg.validate().unwrap();
    let mut strategy = Strategy::new(&cfg, &with_priorities(&[1, 2])).unwrap();
    let mut rng = rng();
    run(&mut strategy, secs(0.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(429)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(
        strategy.backend_state(secs(0.0), 0),
        throttlebox::balance::BackendState::Open {
            until: Some(secs(30.0))
        }
    );
}

#[test]
fn every_preset_builds_and_serves_a_request() {
    for preset_kind in Preset::ALL {
        let backends = with_priorities(&[1, 1, 2, 3]);
        let mut strategy = preset(preset_kind, &backends);
        let mut rng = rng();
        let done = run(&mut strategy, secs(0.0), &mut rng, ok);
        assert!(done.backend().is_some(), "{}", preset_kind.name());
        let name: Preset = serde_json::from_value(serde_json::json!(preset_kind.name())).unwrap();
        assert_eq!(name, preset_kind);
    }
}

#[test]
fn overrides_that_do_not_apply_are_refused_by_name() {
    let cases = [
        (
            "preset = \"powerproxy\"\nbreaker = { percentage = 50 }",
            "strategies[x].breaker.percentage",
        ),
        (
            "preset = \"round-robin\"\nselector = { d = 3 }",
            "strategies[x].selector.d",
        ),
        (
            "preset = \"apim-smart-policy\"\nexhausted_status = 429",
            "strategies[x].exhausted_status",
        ),
        (
            "preset = \"apim-pool\"\nbreaker = { cooldown = \"5s\" }",
            "strategies[x].breaker.cooldown",
        ),
        (
            "preset = \"random\"\nexhausted_min_cooldown = true",
            "strategies[x].exhausted_min_cooldown",
        ),
    ];
    for (body, path) in cases {
        let cfg: StrategyConfig = toml::from_str(&format!("name = \"x\"\n{body}")).unwrap();
        let err = cfg.validate().unwrap_err();
        assert!(matches!(err, BalanceError::NotApplicable { .. }), "{err}");
        assert!(err.to_string().starts_with(path), "{err}");
    }
}

#[test]
fn bad_values_are_refused_with_their_path() {
    let cases = [
        (
            "preset = \"apim-pool\"\nbreaker = { count = 0 }",
            "strategies[x].breaker.count",
        ),
        (
            "preset = \"apim-pool\"\nbreaker = { percentage = 150 }",
            "strategies[x].breaker.percentage",
        ),
        (
            "preset = \"power-of-d\"\nselector = { d = 0 }",
            "strategies[x].selector.d",
        ),
        (
            "preset = \"envoy-least-request\"\noverprovisioning = 0.0",
            "strategies[x].overprovisioning",
        ),
        (
            "preset = \"envoy-least-request\"\nbreaker = { enforcing_success_rate = 150 }",
            "strategies[x].breaker.enforcing_success_rate",
        ),
        (
            "preset = \"envoy-least-request\"\nbreaker = { success_rate_request_volume = 0 }",
            "strategies[x].breaker.success_rate_request_volume",
        ),
        (
            "preset = \"apim-pool\"\ngateways = 0",
            "strategies[x].gateways",
        ),
        (
            "preset = \"apim-pool\"\nexhausted_status = 42",
            "strategies[x].exhausted_status",
        ),
        (
            "preset = \"random\"\napim_pool_json = \"p.json\"",
            "strategies[x].preset",
        ),
        ("gateways = 1", "strategies[x].preset"),
    ];
    for (body, path) in cases {
        let cfg: StrategyConfig = toml::from_str(&format!("name = \"x\"\n{body}")).unwrap();
        let err = cfg.validate().unwrap_err();
        assert!(err.to_string().starts_with(path), "{err}");
    }
    // serde refusals name the field and value.
    let unknown =
        toml::from_str::<StrategyConfig>("name = \"x\"\npreset = \"apim-pool\"\nbreakr = {}")
            .unwrap_err();
    assert!(unknown.to_string().contains("breakr"), "{unknown}");
    // A part's settings are parsed by the part's own schema when the entry is resolved: the
    // refusal names the key path and the value.
    for (body, path, value) in [
        (
            "retry = { on = [\"42x\"] }",
            "strategies[x].retry.on: ",
            "42x",
        ),
        (
            "breaker = { trip_duration = \"soon\" }",
            "strategies[x].breaker.trip_duration: ",
            "\"soon\"",
        ),
        (
            "selector = { kind = \"fastest\" }",
            "strategies[x].selector.kind: ",
            "\"fastest\"",
        ),
    ] {
        let cfg: StrategyConfig =
            toml::from_str(&format!("name = \"x\"\npreset = \"apim-pool\"\n{body}")).unwrap();
        let err = cfg.validate().unwrap_err();
        assert!(matches!(err, BalanceError::InvalidField { .. }), "{err}");
        let text = err.to_string();
        assert!(text.starts_with(path) && text.contains(value), "{text}");
    }
    let preset_name =
        toml::from_str::<StrategyConfig>("name = \"x\"\npreset = \"apim-poool\"").unwrap_err();
    assert!(
        preset_name.to_string().contains("apim-poool"),
        "{preset_name}"
    );
    // An apim_pool_json entry must have its import attached.
    let cfg: StrategyConfig = toml::from_str("name = \"x\"\napim_pool_json = \"p.json\"").unwrap();
    let err = Strategy::new(&cfg, &plain(1)).unwrap_err();
    assert!(err.to_string().contains("apim_pool_json"), "{err}");
    assert!(Strategy::new(&StrategyConfig::preset("x", Preset::Random), &[]).is_err());
}

#[test]
fn kind_overrides_swap_parts() {
    let mut strategy = from_toml(
        "name = \"x\"\npreset = \"round-robin\"\nbreaker = { kind = \"apim\", count = 2, status_codes = [500], trip_duration = \"5s\" }",
        &plain(1),
    );
    let mut rng = rng();
    run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    assert_eq!(
        strategy.backend_state(secs(0.0), 0),
        throttlebox::balance::BackendState::Closed
    );
    run(&mut strategy, secs(1.0), &mut rng, |_, _| {
        Observation::http(500)
    });
    assert_eq!(
        strategy.backend_state(secs(1.0), 0),
        throttlebox::balance::BackendState::Open {
            until: Some(secs(6.0))
        }
    );
    let weighted = from_toml(
        "name = \"x\"\npreset = \"apim-pool\"\nselector = { weighted = \"random\" }",
        &plain(2),
    );
    assert_eq!(
        weighted.composition().selector.kind_name(),
        "weighted-random"
    );
}

#[test]
fn apim_random_retries_on_429_up_to_pool_size_minus_one() {
    let mut strategy = preset(Preset::ApimRandom, &plain(4));
    let mut rng = rng();
    let all_fail = run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::http(429)
    });
    assert_eq!(all_fail.tried.len(), 4);
    assert_eq!(all_fail.backend(), all_fail.tried.last().copied());
    let passthrough = run(&mut strategy, secs(1.0), &mut rng, |_, _| {
        Observation::http(400)
    });
    assert_eq!(passthrough.tried.len(), 1);
}

#[test]
fn legacy_litellm_shuffle_weights_by_weight_then_rpm() {
    let mut rng = rng();
    let weighted = vec![
        throttlebox::balance::BackendSpec::named("a").with_weight(3),
        throttlebox::balance::BackendSpec::named("b").with_weight(1),
    ];
    let by_rpm = vec![
        throttlebox::balance::BackendSpec::named("a").with_limits(None, Some(100)),
        throttlebox::balance::BackendSpec::named("b").with_limits(None, Some(300)),
    ];
    for (backends, expected_a) in [(weighted, 0.75), (by_rpm, 0.25)] {
        let mut strategy = from_toml(
            "name = \"s\"\npreset = \"litellm-shuffle\"\nlitellm = { version = \"legacy\" }",
            &backends,
        );
        let share = (0..8000)
            .filter(|i| run(&mut strategy, secs(f64::from(*i)), &mut rng, ok).backend() == Some(0))
            .count() as f64
            / 8000.0;
        assert!((share - expected_a).abs() < 0.03, "{share} vs {expected_a}");
    }
}

#[test]
fn deadline_stops_the_retry_loop() {
    let mut strategy = from_toml(
        "name = \"d\"\npreset = \"apim-pool\"\ndeadline = \"5s\"\nretry = { count = 5, interval = \"2s\", first_fast_retry = false }\nbreaker = { trip_duration = \"1s\" }",
        &plain(1),
    );
    let mut rng = rng();
    let done = run(&mut strategy, secs(0.0), &mut rng, |_, _| {
        Observation::http(429)
    });
    // Attempts at 0, 2, 4; the retry at 6 would pass the 5 s deadline, so the 429 is returned.
    assert_eq!(done.tried.len(), 3);
    assert_eq!(done.ended_at, secs(4.0));
    assert_eq!(done.backend(), Some(0));
}

#[test]
fn client_retry_follows_the_openai_sdks() {
    let mut rng = rng();
    let policy: ClientRetryPolicy = toml::from_str(
        "max_retries = 2\nhonour_retry_after = true\ncap = \"60s\"\nsdk = \"openai-python\"",
    )
    .unwrap();
    let throttled = Observation::http(429);
    // Backoff min(0.5·2^n, 8)·(1 − 0.25·U): in (0.375, 0.5] then (0.75, 1.0].
    let first = policy.delay(0, &throttled, &mut rng).unwrap();
    assert!(
        first > Duration::from_millis(375) && first <= Duration::from_millis(500),
        "{first:?}"
    );
    let second = policy.delay(1, &throttled, &mut rng).unwrap();
    assert!(
        second > Duration::from_millis(750) && second <= Duration::from_millis(1000),
        "{second:?}"
    );
    assert_eq!(policy.delay(2, &throttled, &mut rng), None, "max_retries 2");
    let long = ClientRetryPolicy {
        max_retries: 10,
        ..policy.clone()
    };
    let capped = long.delay(9, &throttled, &mut rng).unwrap();
    assert!(
        capped > Duration::from_secs(6) && capped <= Duration::from_secs(8),
        "{capped:?}"
    );
    // Server delays: retry-after-ms first, then retry-after; beyond 60 s → backoff.
    let both = Observation::http(429)
        .with_retry_after_secs(7)
        .with_retry_after_ms(2500);
    assert_eq!(
        policy.delay(0, &both, &mut rng),
        Some(Duration::from_millis(2500))
    );
    assert_eq!(
        policy.delay(
            0,
            &Observation::http(503).with_retry_after_secs(7),
            &mut rng
        ),
        Some(Duration::from_secs(7))
    );
    assert!(
        policy
            .delay(
                0,
                &Observation::http(429).with_retry_after_secs(86_400),
                &mut rng
            )
            .unwrap()
            <= Duration::from_millis(500)
    );
    // Retried statuses and transport errors; others are not.
    for status in [
        Status::Http(408),
        Status::Http(409),
        Status::Http(500),
        Status::ConnectError,
        Status::Timeout,
    ] {
        assert!(
            policy
                .delay(0, &Observation::new(status), &mut rng)
                .is_some(),
            "{status:?}"
        );
    }
    for status in [
        Status::Http(400),
        Status::Http(401),
        Status::Http(404),
        Status::Http(200),
    ] {
        assert!(
            policy
                .delay(0, &Observation::new(status), &mut rng)
                .is_none(),
            "{status:?}"
        );
    }
    // v2.52: up to 120 s honoured; more is not retried.
    let newer = ClientRetryPolicy {
        sdk: Sdk::OpenaiPython252,
        ..ClientRetryPolicy::default()
    };
    assert_eq!(
        newer.delay(
            0,
            &Observation::http(429).with_retry_after_secs(90),
            &mut rng
        ),
        Some(Duration::from_secs(90))
    );
    assert_eq!(
        newer.delay(
            0,
            &Observation::http(429).with_retry_after_secs(121),
            &mut rng
        ),
        None
    );
    // Zero is used by node, not by python.
    let node = ClientRetryPolicy {
        sdk: Sdk::OpenaiNode,
        ..ClientRetryPolicy::default()
    };
    let zero = Observation::http(429).with_retry_after_secs(0);
    assert_eq!(node.delay(0, &zero, &mut rng), Some(Duration::ZERO));
    assert!(policy.delay(0, &zero, &mut rng).unwrap() > Duration::ZERO);
    let defaults: ClientRetryPolicy = toml::from_str("").unwrap();
    assert_eq!(defaults, ClientRetryPolicy::default());
}

#[test]
fn gateway_instances_and_report_shapes() {
    let cfg: StrategyConfig =
        toml::from_str("name = \"g\"\npreset = \"apim-pool\"\ngateways = 3").unwrap();
    let mut instances = Strategy::instances(&cfg, &with_priorities(&[1, 2])).unwrap();
    assert_eq!(instances.len(), 3);
    let mut rng = rng();
    run(&mut instances[0], secs(0.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(429).with_retry_after_secs(7)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(
        run(&mut instances[1], secs(1.0), &mut rng, ok).backend(),
        Some(0),
        "instances are independent"
    );
    let timeline = instances[0].drain_transitions();
    let json = serde_json::to_value(&timeline).unwrap();
    assert_eq!(json[0]["at"], "0s");
    assert_eq!(json[0]["from"], "closed");
    assert_eq!(json[0]["to"], "open");
    assert_eq!(json[0]["reason"]["kind"], "failure-count");
    let composition = serde_json::to_value(instances[0].composition()).unwrap();
    assert_eq!(composition["breaker"]["kind"], "apim");
    assert_eq!(composition["breaker"]["trip_duration"], "1m");
}
