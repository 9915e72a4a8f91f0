//! What to paste: a setting as the exact `--set` line (as tuned, and aimed at the tuned
//! strategy alone), as lines of the scenario file, and in the real system's own configuration —
//! for an APIM breaker the pool JSON's `circuitBreaker.rules[0]` with `tripDuration` and
//! `interval` as ISO-8601 (the shape `apim_pool_json` imports), for LiteLLM presets the
//! `router_settings` keys. The real-system fragments are read off the strategy the simulator
//! ran (its resolved breaker and retry), so they hold every field, tuned or not.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::error::TuneError;
use super::evaluate::{Context, Setting};
use crate::balance::breaker::BreakerConfig;
use crate::balance::breaker::apim::ApimRule;
use crate::scenario::Override;

/// The ways to apply a setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fragments {
    /// `--set 'key=value' …` with the keys as tuned.
    pub set_line: String,
    /// The same aimed at the tuned strategy alone (`strategies[NAME].key`), when the keys
    /// allow it.
    pub strategy_set_line: Option<String>,
    /// `key = value` lines for the scenario file.
    pub scenario_lines: String,
    /// APIM: `circuitBreaker.rules[0]` of the pool JSON.
    pub apim_rule: Option<String>,
    /// APIM: attributes of the `<retry>` policy, when a `retry.*` key was tuned.
    pub apim_retry: Option<String>,
    /// LiteLLM: `router_settings`.
    pub litellm: Option<String>,
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn set_line(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("--set {}", quoted(&format!("{key}={value}"))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `PT1M`, `PT5.3S`, `PT1M30S`, `PT0S`.
pub fn iso8601(duration: Duration) -> String {
    let millis = duration.as_millis();
    let (hours, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let mut out = String::from("PT");
    if hours > 0 {
        out.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}M"));
    }
    if rest > 0 || out == "PT" {
        let text = format!("{}.{:03}", rest / 1000, rest % 1000);
        out.push_str(text.trim_end_matches('0').trim_end_matches('.'));
        out.push('S');
    }
    out
}

/// The fragments of `setting` for the tuned strategy.
pub fn fragments(context: &Context, setting: &Setting) -> Result<Fragments, TuneError> {
    let pairs: Vec<(String, String)> = context
        .params
        .iter()
        .zip(&setting.0)
        .map(|(param, value)| (param.key.clone(), value.clone()))
        .collect();
    let scenario = context.scenario(setting, &[])?;
    let strategy = &scenario.strategies[0];
    let aimed: Vec<(String, String)> = pairs
        .iter()
        .map(|(key, value)| {
            if key.starts_with("strategies") {
                (key.clone(), value.clone())
            } else {
                (
                    format!("strategies[{}].{key}", context.strategy),
                    value.clone(),
                )
            }
        })
        .collect();
    // Aimed keys are only offered when they load and give the same strategy.
    let strategy_set_line =
        aimed_loads(context, &aimed, &strategy.config).then(|| set_line(&aimed));
    let scenario_lines = pairs
        .iter()
        .map(|(key, value)| {
            let literal = Override::new(key, value)
                .map(|o| o.value.to_string())
                .unwrap_or_else(|_| format!("{value:?}"));
            format!("{key} = {literal}")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let built = strategy.build();
    let composition = built.composition();
    let apim = match &composition.breaker {
        BreakerConfig::Apim(rule) => Some(rule.clone()),
        BreakerConfig::ApimPerBackend { rules } => rules.iter().flatten().next().cloned(),
        _ => None,
    };
    let rule_name = strategy
        .config
        .imported
        .as_ref()
        .and_then(|pool| pool.rule_name.clone());
    let retry_tuned = pairs
        .iter()
        .any(|(key, _)| key.starts_with("retry.") || key.contains("].retry."));
    let apim_retry = (apim.is_some() && retry_tuned).then(|| {
        let retry = &composition.retry;
        format!(
            "count=\"{}\" interval=\"{}\" first-fast-retry=\"{}\"",
            retry.count,
            retry.interval.as_secs(),
            retry.first_fast_retry
        )
    });
    let litellm = match &composition.breaker {
        BreakerConfig::Litellm(rule) => {
            let mut yaml = format!(
                "router_settings:\n  cooldown_time: {}\n",
                super::param::number_text(rule.cooldown.as_secs_f64())
            );
            if let Some(allowed) = rule.allowed_fails {
                yaml.push_str(&format!("  allowed_fails: {allowed}\n"));
            }
            yaml.push_str(&format!("  num_retries: {}\n", composition.retry.count));
            Some(yaml)
        }
        _ => None,
    };
    Ok(Fragments {
        set_line: set_line(&pairs),
        strategy_set_line,
        scenario_lines,
        apim_rule: apim.map(|rule| apim_rule_json(&rule, rule_name.as_deref())),
        apim_retry,
        litellm,
    })
}

fn aimed_loads(
    context: &Context,
    aimed: &[(String, String)],
    expected: &crate::balance::StrategyConfig,
) -> bool {
    let overrides: Result<Vec<Override>, _> = context
        .fixed
        .iter()
        .cloned()
        .map(Ok)
        .chain(aimed.iter().map(|(key, value)| Override::new(key, value)))
        .collect();
    overrides
        .ok()
        .and_then(|overrides| crate::sweep::load_scenario(context.path.as_deref(), &overrides).ok())
        .and_then(|scenario| {
            scenario
                .strategies
                .iter()
                .find(|s| s.config.name == context.strategy)
                .map(|s| &s.config == expected)
        })
        .unwrap_or(false)
}

/// `circuitBreaker.rules[0]` as APIM's JSON (keys sorted, two-space indent).
pub fn apim_rule_json(rule: &ApimRule, name: Option<&str>) -> String {
    let mut condition = serde_json::Map::new();
    if let Some(count) = rule.count {
        condition.insert("count".into(), json!(count));
    }
    if let Some(percentage) = rule.percentage {
        condition.insert("percentage".into(), json!(percentage));
    }
    condition.insert("interval".into(), json!(iso8601(rule.interval)));
    let ranges: Vec<serde_json::Value> = rule
        .failure_statuses
        .ranges()
        .into_iter()
        .map(|(min, max)| json!({ "min": min, "max": max }))
        .collect();
    condition.insert("statusCodeRanges".into(), json!(ranges));
    if !rule.error_reasons.is_empty() {
        condition.insert("errorReasons".into(), json!(rule.error_reasons));
    }
    let value = json!({
        "name": name.unwrap_or("tuned"),
        "failureCondition": condition,
        "tripDuration": iso8601(rule.trip_duration),
        "acceptRetryAfter": rule.accept_retry_after,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_apim_writes_them() {
        assert_eq!(iso8601(Duration::from_secs(60)), "PT1M");
        assert_eq!(iso8601(Duration::from_millis(5300)), "PT5.3S");
        assert_eq!(iso8601(Duration::from_secs(90)), "PT1M30S");
        assert_eq!(iso8601(Duration::from_secs(3600)), "PT1H");
        assert_eq!(iso8601(Duration::ZERO), "PT0S");
        for text in ["PT1M", "PT5.3S", "PT1M30S", "PT1H"] {
            let parsed = crate::duration::parse(text).unwrap();
            assert_eq!(iso8601(parsed), text);
        }
    }

    #[test]
    fn the_apim_rule_round_trips_through_the_pool_import() {
        let mut rule = ApimRule::aoai_default();
        rule.trip_duration = Duration::from_millis(5300);
        rule.interval = Duration::from_secs(41);
        rule.accept_retry_after = false;
        let fragment = apim_rule_json(&rule, Some("breakThrottling "));
        let pool = format!(
            "{{\"properties\": {{\"circuitBreaker\": {{\"rules\": [{fragment}]}}, \"pool\": \
             {{\"services\": [{{\"id\": \"/backends/openai-1\", \"priority\": 1}}]}}}}}}"
        );
        let imported = crate::balance::import_pool(&pool, "tune.md").expect("imports");
        let back = imported.breaker.expect("the rule");
        assert_eq!(back.trip_duration, rule.trip_duration);
        assert_eq!(back.interval, rule.interval);
        assert_eq!(back.count, rule.count);
        assert!(!back.accept_retry_after);
        assert_eq!(imported.rule_name.as_deref(), Some("breakThrottling "));
    }
}
