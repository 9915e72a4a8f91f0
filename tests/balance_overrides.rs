//! Override tables of a `[[strategies]]` entry (`selector`, `breaker`, `retry`): each part owns
//! its settings, the table is written onto the part's own and parsed again. Writing a part's
//! own settings back changes nothing, `kind` starts from that kind's defaults, a setting the
//! part lacks is refused with the settings it has, and what a scenario cannot write (the LiteLLM
//! version's switches, an imported config's per-deployment cooldowns) survives an override.

use std::path::Path;
use std::time::Duration;

use throttlebox::balance::breaker::BreakerConfig;
use throttlebox::balance::breaker::apim::ApimRule;
use throttlebox::balance::breaker::litellm::CooldownSource;
use throttlebox::balance::selector::SelectorConfig;
use throttlebox::balance::selector::least_outstanding::PowerOfDConfig;
use throttlebox::balance::selector::weighted::WeightSource;
use throttlebox::balance::{
    BalanceError, Composition, LitellmMode, LitellmOptions, LitellmVersion, Preset, Status,
    StrategyConfig,
};
use throttlebox::scenario::{Override, Scenario};
use toml::{Table, Value};

/// A part's settings as a scenario writes them: its serialized table without `kind`.
fn own_settings(part: &impl serde::Serialize) -> Table {
    let Ok(Value::Table(mut table)) = Value::try_from(part) else {
        panic!("a part serializes to a table");
    };
    table.remove("kind");
    table
}

/// The selector's settings: the weight-driven pair has `weighted` (their enum variant does
/// not serialize to TOML), the LiteLLM shuffles none.
fn selector_settings(selector: &SelectorConfig) -> Table {
    match selector {
        SelectorConfig::WeightedRandom(WeightSource::Weight) => {
            toml::from_str("weighted = \"random\"").expect("TOML")
        }
        SelectorConfig::WeightedRandom(_) => Table::new(),
        other => own_settings(other),
    }
}

fn entry(text: &str) -> StrategyConfig {
    toml::from_str(&format!("name = \"x\"\n{text}")).expect("entry parses")
}

fn resolve(text: &str) -> Composition {
    entry(text).resolve(3).expect("entry resolves")
}

fn refusal(text: &str) -> BalanceError {
    entry(text).resolve(3).expect_err("refused")
}

#[test]
fn every_presets_parts_take_their_own_settings_back_unchanged() {
    let mut checked = 0;
    for preset in Preset::ALL {
        let options: Vec<Option<LitellmOptions>> = if preset.is_litellm() {
            [LitellmVersion::V1_108_7, LitellmVersion::Legacy]
                .into_iter()
                .flat_map(|version| {
                    [LitellmMode::Proxy, LitellmMode::Library]
                        .map(|mode| Some(LitellmOptions { version, mode }))
                })
                .collect()
        } else {
            vec![None]
        };
        for litellm in options {
            let mut plain = StrategyConfig::preset("x", preset);
            plain.litellm = litellm;
            let before = plain.resolve(3).expect("every preset resolves");
            let mut written = plain.clone();
            written.selector = Some(selector_settings(&before.selector));
            written.breaker = Some(own_settings(&before.breaker));
            written.retry = Some(own_settings(&before.retry));
            let after = written.resolve(3).expect("its own settings are accepted");
            // What writing a setting implies, the same as before parts owned their settings:
            let mut expected = before.clone();
            match &mut expected.breaker {
                // `status_codes` or `error_reasons` count the transport errors the reasons name
                // (as an imported APIM rule does); the built-in AOAI rule's "Server errors"
                // does not count connection errors until then.
                BreakerConfig::Apim(rule) => {
                    rule.failure_statuses = rule
                        .failure_statuses
                        .union(ApimRule::transport_errors_for(&rule.error_reasons));
                }
                // A written `cooldown` is an explicit router `cooldown_time`.
                BreakerConfig::Litellm(rule) => rule.cooldown_explicit = true,
                _ => {}
            }
            assert_eq!(after, expected, "{} {litellm:?}", preset.name());
            checked += 1;
        }
    }
    assert!(
        checked > Preset::ALL.len(),
        "LiteLLM versions and modes too"
    );
}

#[test]
fn a_kind_starts_from_that_kinds_defaults() {
    let swapped = resolve("preset = \"round-robin\"\nbreaker = { kind = \"apim\" }");
    assert_eq!(
        swapped.breaker,
        BreakerConfig::Apim(ApimRule::aoai_default())
    );
    let sampled = resolve("preset = \"random\"\nselector = { kind = \"power-of-d\", d = 3 }");
    assert_eq!(
        sampled.selector,
        SelectorConfig::PowerOfD(PowerOfDConfig {
            d: 3,
            distinct: true
        })
    );
    let weighted = resolve("preset = \"apim-pool\"\nselector = { weighted = \"random\" }");
    assert_eq!(
        weighted.selector,
        SelectorConfig::WeightedRandom(WeightSource::Weight)
    );
}

#[test]
fn a_setting_the_part_lacks_is_refused_with_the_settings_it_has() {
    let lacks = refusal("preset = \"powerproxy\"\nbreaker = { percentage = 50 }").to_string();
    assert!(
        lacks.starts_with(
            "strategies[x].breaker.percentage: does not apply to preset \"powerproxy\""
        ) && lacks.contains(
            "its breaker is throttle-flag, whose settings are status_codes, headers, default_wait"
        ),
        "{lacks}"
    );
    let none = refusal("preset = \"round-robin\"\nselector = { d = 3 }").to_string();
    assert!(
        none.starts_with("strategies[x].selector.d")
            && none.contains("its selector is round-robin, which has no settings"),
        "{none}"
    );
    let weighted = refusal("preset = \"power-of-d\"\nselector = { weighted = \"smooth\" }");
    assert!(
        matches!(&weighted, BalanceError::NotApplicable { path, .. } if path == "strategies[x].selector.weighted"),
        "{weighted}"
    );
    let retry = refusal("preset = \"apim-pool\"\nretry = { cont = 2 }").to_string();
    assert!(
        retry.starts_with("strategies[x].retry.cont") && retry.contains("count, interval"),
        "{retry}"
    );
    let kind = refusal("preset = \"apim-pool\"\nbreaker = { kind = \"istio\" }").to_string();
    assert!(
        kind.starts_with("strategies[x].breaker.kind: \"istio\"") && kind.contains("envoy"),
        "{kind}"
    );
}

#[test]
fn what_a_scenario_cannot_write_survives_an_override() {
    let legacy = "preset = \"litellm-least-busy\"\nlitellm = { version = \"legacy\" }";
    let plain = resolve(legacy);
    let written = resolve(&format!(
        "{legacy}\nselector = {{ tie_break = \"random\" }}\nbreaker = {{ cooldown = \"3s\" }}\nretry = {{ count = 1 }}"
    ));
    let (SelectorConfig::LeastOutstanding(before), SelectorConfig::LeastOutstanding(after)) =
        (&plain.selector, &written.selector)
    else {
        panic!("least-busy is least-outstanding");
    };
    assert!(before.litellm_quirk && after.litellm_quirk);
    let BreakerConfig::Litellm(rule) = &written.breaker else {
        panic!("a LiteLLM breaker");
    };
    assert_eq!(
        rule.source,
        CooldownSource::Resolved,
        "the legacy version's"
    );
    assert!(rule.cooldown_explicit, "writing cooldown makes it explicit");
    assert_eq!(rule.cooldown, Duration::from_secs(3));
    let current = resolve("preset = \"litellm-shuffle\"\nretry = { count = 5 }");
    assert!(current.retry.litellm_backoff && current.retry.count == 5);
    // An imported config's per-deployment cooldown_time under a breaker override.
    let set = Override::parse("strategies[my-litellm].breaker.failure_threshold=0.3").unwrap();
    let scenario = Scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm/scenario.toml"),
        &[set],
    )
    .expect("loads");
    let built = scenario.strategies[0].build();
    let BreakerConfig::Litellm(rule) = &built.composition().breaker else {
        panic!("a LiteLLM breaker");
    };
    assert_eq!(rule.failure_threshold, 0.3);
    assert_eq!(
        rule.deployment_cooldowns,
        [Some(Duration::from_secs(2)), None, None]
    );
    assert!(rule.cooldown_explicit && rule.cooldown == Duration::from_secs(30));
}

#[test]
fn error_reasons_add_the_transport_errors_they_name() {
    let composition = resolve(
        "preset = \"apim-pool\"\nbreaker = { status_codes = [500], error_reasons = [\"Timeout\"] }",
    );
    let BreakerConfig::Apim(rule) = &composition.breaker else {
        panic!("an APIM rule");
    };
    assert!(rule.failure_statuses.contains(Status::Timeout));
    assert!(rule.failure_statuses.contains(Status::Http(500)));
    assert!(!rule.failure_statuses.contains(Status::Http(429)));
}

#[test]
fn a_strategy_relative_set_lands_only_on_strategies_whose_part_has_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/multi-region-burst.toml");
    let trip = Override::parse("breaker.trip_duration=30s").unwrap();
    let scenario = Scenario::load(&path, &[trip]).expect("apim-pool has the setting");
    let plain = Scenario::load(&path, &[]).expect("loads");
    for strategy in &scenario.strategies {
        let unchanged = plain
            .strategies
            .iter()
            .find(|other| other.config.name == strategy.config.name)
            .expect("same strategies");
        match &strategy.build().composition().breaker {
            BreakerConfig::Apim(rule) => assert_eq!(rule.trip_duration, Duration::from_secs(30)),
            other => assert_eq!(other, &unchanged.build().composition().breaker),
        }
    }
    let nowhere = Override::parse("selector.max_fails=3").unwrap();
    let error = Scenario::load(&path, &[nowhere]).unwrap_err().to_string();
    assert!(
        error.contains("selector.max_fails = 3") && error.contains("no strategy accepts"),
        "{error}"
    );
}
