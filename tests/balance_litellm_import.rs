//! Import of a real LiteLLM proxy/router config (`preset = "litellm"`, `config = "…yaml"`):
//! configs shaped like LiteLLM's documented examples map to the fleet's backends by `api_base`
//! or deployment name, their router settings become the strategy's parts, and every key that is
//! unknown or not modelled is refused with its key path — never dropped.

use crate::balance_support;

use std::path::Path;
use std::time::Duration;

use balance_support::*;
use throttlebox::balance::breaker::BreakerConfig;
use throttlebox::balance::litellm::import::import_config;
use throttlebox::balance::selector::SelectorConfig;
use throttlebox::balance::{BackendSpec, BackendState, DeclaredWeights, Observation};
use throttlebox::scenario::{Override, Scenario};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/litellm")
            .join(name),
    )
    .expect("fixture")
}

fn pool() -> Vec<BackendSpec> {
    ["payg-1", "payg-2", "payg-3"]
        .iter()
        .map(|name| BackendSpec::named(*name).with_limits(Some(30_000), Some(180)))
        .collect()
}

fn import_error(text: &str) -> String {
    import_config(text, "c.yaml", "gpt-4o", &pool())
        .expect_err("refused")
        .to_string()
}

#[test]
fn a_documented_proxy_config_becomes_the_strategy_it_describes() {
    let scenario = Scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm/scenario.toml"),
        &[],
    )
    .expect("the scenario with its LiteLLM config loads");
    let resolved = &scenario.strategies[0];
    // Mapped by api_base (payg-1, payg-2) and by deployment name (azure/payg-3, the fallback
    // group); the embeddings group is not what the workload calls.
    let names: Vec<&str> = resolved.specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["payg-1", "payg-2", "payg-3"]);
    let priorities: Vec<u32> = resolved.specs.iter().map(|s| s.priority).collect();
    assert_eq!(
        priorities,
        [1, 1, 1001],
        "the fallback group comes after the primary one"
    );
    // LiteLLM sees the rpm the config declares, not the fleet's quota.
    assert_eq!(resolved.specs[1].rpm_limit, Some(360));
    assert_eq!(resolved.specs[0].tpm_limit, None);
    assert_eq!(
        resolved.specs[1].declared,
        Some(DeclaredWeights {
            rpm: Some(360.0),
            ..DeclaredWeights::default()
        })
    );
    let strategy = resolved.build();
    let composition = strategy.composition();
    assert!(matches!(
        composition.selector,
        SelectorConfig::LeastOutstanding(config) if !config.litellm_quirk
    ));
    assert_eq!(composition.retry.count, 3);
    assert!(composition.priority_groups);
    let BreakerConfig::Litellm(rule) = &composition.breaker else {
        panic!("a LiteLLM cooldown breaker: {:?}", composition.breaker);
    };
    assert_eq!(rule.cooldown, Duration::from_secs(30));
    assert_eq!(rule.allowed_fails, Some(2));
    assert_eq!(
        rule.deployment_cooldowns,
        [Some(Duration::from_secs(2)), None, None]
    );
    // The simulation runs it.
    let run = throttlebox::sim::run_all(&scenario, None, 1, "test", &|_| {}).expect("simulates");
    assert!(run.summary.strategies[0].requests > 200);
}

#[test]
fn a_deployments_own_cooldown_time_beats_the_retry_after_header() {
    // The Router library (every failure logged): payg-1 (id 0) keeps failing with a 429 that
    // says 20 s; allowed_fails 2 cools it at the third failure, for its own cooldown_time, 2 s.
    let library = Override::parse("strategies[my-litellm].litellm.mode=library").expect("set");
    let scenario = Scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm/scenario.toml"),
        &[library],
    )
    .expect("loads");
    let mut strategy = scenario.strategies[0].build();
    let mut rng = rng();
    let done = run(&mut strategy, secs(0.0), &mut rng, |b, _| {
        if b == 0 {
            Observation::http(429).with_retry_after_secs(20)
        } else {
            Observation::http(200)
        }
    });
    assert_eq!(
        done.tried,
        [0, 0, 0, 1],
        "least-busy returns to 0 until it cools"
    );
    assert_eq!(
        strategy.backend_state(secs(0.0), 0),
        BackendState::Open {
            until: Some(secs(2.0))
        }
    );
}

#[test]
fn the_primary_group_is_used_first_and_the_fallback_group_when_it_is_cooling() {
    let text = fixture("proxy-config.yaml");
    let imported = import_config(&text, "proxy-config.yaml", "gpt-4o", &pool()).expect("imports");
    assert_eq!(imported.groups, ["gpt-4o", "gpt-4o-backup"]);
    let scenario = Scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm/scenario.toml"),
        &[],
    )
    .expect("loads");
    let mut strategy = scenario.strategies[0].build();
    let mut rng = rng();
    // The primary deployments answer 429 (retry-after 20 s), the fallback 200. A request may
    // reach the fallback only while both primary deployments are cooling (the approximation
    // of LiteLLM's fallbacks this import makes), and once they are, it does.
    let mut reached = 0;
    for at in 0..12 {
        let now = secs(f64::from(at));
        let done = run(&mut strategy, now, &mut rng, |b, _| {
            if b == 2 {
                Observation::http(200)
            } else {
                Observation::http(429).with_retry_after_secs(20)
            }
        });
        if done.tried.contains(&2) {
            reached += 1;
            let states = strategy.backend_states(now);
            assert!(
                states[..2]
                    .iter()
                    .all(|state| matches!(state, BackendState::Open { .. })),
                "at {at} s: {:?} with {states:?}",
                done.tried
            );
        }
    }
    assert!(reached > 0, "the fallback group was never used");
}

#[test]
fn unknown_and_unsupported_keys_are_refused_by_path() {
    let base =
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: azure/payg-1\n";
    let typo = import_error(&format!("{base}router_settings:\n  num_retires: 3\n"));
    assert!(
        typo.contains("c.yaml: router_settings.num_retires"),
        "{typo}"
    );
    assert!(typo.contains("unknown key"), "{typo}");
    let unsupported = import_error(&format!(
        "{base}router_settings:\n  enable_pre_call_checks: true\n"
    ));
    assert!(
        unsupported.contains("router_settings.enable_pre_call_checks")
            && unsupported.contains("not supported"),
        "{unsupported}"
    );
    let param = import_error(&format!("{base}      stream_timeout: 5\n"));
    assert!(
        param.contains("model_list[0].litellm_params.stream_timeout"),
        "{param}"
    );
    let routing = import_error(&format!(
        "{base}router_settings:\n  routing_strategy: cost-based-routing\n"
    ));
    assert!(
        routing.contains("router_settings.routing_strategy") && routing.contains("not modelled"),
        "{routing}"
    );
    let policy = import_error(&format!(
        "{base}router_settings:\n  retry_policy:\n    RateLimitErrorRetries: 3\n    TimeoutErrorRetries: 1\n"
    ));
    assert!(policy.contains("router_settings.retry_policy"), "{policy}");
    let top = import_error(&format!("{base}routing:\n  x: 1\n"));
    assert!(top.contains("c.yaml: routing"), "{top}");
}

#[test]
fn deployments_map_to_backends_or_say_which_names_would() {
    let lost = import_error(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: azure/gpt-4o\n      api_base: https://nowhere.openai.azure.com\n",
    );
    assert!(lost.contains("model_list[0].litellm_params"), "{lost}");
    assert!(
        lost.contains("payg-1"),
        "names the fleet's backends: {lost}"
    );
    let twice = import_error(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {model: azure/payg-1}\n  - model_name: gpt-4o\n    litellm_params: {model: azure/x, api_base: 'https://payg-1.openai.azure.com'}\n",
    );
    assert!(
        twice.contains("model_list[1]") && twice.contains("same fleet backend"),
        "{twice}"
    );
    let equal_policy = import_config(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params: {model: azure/payg-1}\nrouter_settings:\n  retry_policy: {RateLimitErrorRetries: 4, InternalServerErrorRetries: 4}\n",
        "c.yaml",
        "gpt-4o",
        &pool(),
    )
    .expect("agreeing counts import");
    assert_eq!(equal_policy.num_retries, Some(4));
}

#[test]
fn a_config_belongs_to_the_litellm_preset_only() {
    let cfg: throttlebox::balance::StrategyConfig =
        toml::from_str("name = \"x\"\npreset = \"litellm-least-busy\"\nconfig = \"c.yaml\"")
            .expect("parses");
    let error = cfg.validate().expect_err("refused").to_string();
    assert!(error.contains("strategies[x].config"), "{error}");
}
