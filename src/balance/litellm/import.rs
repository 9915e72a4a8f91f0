//! Import of a real LiteLLM proxy/router config (the YAML `litellm --config` reads): the
//! deployments of the model group the workload calls, mapped to fleet backends, and the router
//! settings the simulator models. Every key is either applied, known to have no effect on
//! routing (credentials, logging, proxy settings), or refused with its key path and the reason
//! — never silently dropped.
//!
//! Mapping: a deployment belongs to the fleet resource named by the first DNS label of its
//! `api_base` (`https://payg-1.openai.azure.com/` → `payg-1`), else by its Azure deployment name
//! (`model: azure/payg-1`), else by `model_info.id`. Applied: `model_list[].model_name`,
//! `litellm_params.{model, api_base, tpm, rpm, weight, order, cooldown_time}`,
//! `router_settings.{routing_strategy, num_retries, allowed_fails, cooldown_time,
//! retry_policy, fallbacks, disable_cooldowns}` (and `num_retries`, `allowed_fails`,
//! `fallbacks` under `litellm_settings`). `order` and fallback groups become priority groups
//! (a fallback group is used when the primary group has no healthy deployment left — an
//! approximation: LiteLLM falls back only after the primary group's retries are spent).
//! `retry_policy` is applied when its counts agree (the retry loop has one count).

use std::time::Duration;

use serde_json::Value;

use super::yaml::{At, parse};
use super::{LitellmOptions, Routing, composition};
use crate::balance::BalanceError;
use crate::balance::breaker::BreakerConfig;
use crate::balance::composition::Composition;
use crate::balance::types::{BackendSpec, DeclaredWeights};

/// One deployment of the config that the workload's calls can reach.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigDeployment {
    /// Its position in `model_list`.
    pub index: usize,
    /// `model_name` (the model group).
    pub model_name: String,
    /// The fleet resource (pool backend) it maps to.
    pub backend: String,
    /// `weight`, `rpm`, `tpm` as declared.
    pub declared: DeclaredWeights,
    /// `order` (lower first), if set.
    pub order: Option<u32>,
    /// Per-deployment `cooldown_time`, if set.
    pub cooldown: Option<Duration>,
}

/// A LiteLLM config as imported.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedLitellm {
    /// File it came from.
    pub source: String,
    /// The whole document (the lab writes it back with the mock's addresses).
    pub document: Value,
    /// The model group the workload calls, then its fallback groups in order.
    pub groups: Vec<String>,
    /// Deployments of those groups, group by group, config order inside a group.
    pub deployments: Vec<ConfigDeployment>,
    /// `routing_strategy`.
    pub routing: Routing,
    /// `num_retries` (LiteLLM's default 2 when absent).
    pub num_retries: Option<u32>,
    /// `allowed_fails`.
    pub allowed_fails: Option<u32>,
    /// Router `cooldown_time`.
    pub cooldown_time: Option<Duration>,
    /// `disable_cooldowns`.
    pub disable_cooldowns: bool,
}

/// `litellm_params` keys with no effect on routing.
const INERT_PARAMS: &[&str] = &[
    "api_key",
    "api_version",
    "organization",
    "azure_ad_token",
    "tenant_id",
    "client_id",
    "client_secret",
    "azure_username",
    "azure_password",
    "region_name",
    "input_cost_per_token",
    "output_cost_per_token",
    "drop_params",
];
/// `router_settings` keys with no effect on one router's routing.
const INERT_ROUTER: &[&str] = &[
    "redis_host",
    "redis_port",
    "redis_password",
    "redis_url",
    "set_verbose",
    "debug_level",
];
/// `litellm_settings` keys with no effect on routing.
const INERT_LITELLM: &[&str] = &[
    "drop_params",
    "set_verbose",
    "json_logs",
    "success_callback",
    "failure_callback",
    "callbacks",
    "service_callback",
    "telemetry",
    "turn_off_message_logging",
    "redact_user_api_key_info",
    "modify_params",
];
/// Keys that change routing in ways the simulator does not model, with why.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "enable_pre_call_checks",
        "pre-call context-window/rpm filtering is not modelled",
    ),
    (
        "routing_strategy_args",
        "routing strategy arguments are not modelled",
    ),
    ("model_group_alias", "model group aliases are not modelled"),
    (
        "context_window_fallbacks",
        "context-window fallbacks are not modelled",
    ),
    (
        "content_policy_fallbacks",
        "content-policy fallbacks are not modelled",
    ),
    (
        "timeout",
        "per-request timeouts are set in the scenario ([gateway] attempt_timeout)",
    ),
    (
        "stream_timeout",
        "per-request timeouts are set in the scenario ([gateway] attempt_timeout)",
    ),
    (
        "request_timeout",
        "per-request timeouts are set in the scenario ([gateway] attempt_timeout)",
    ),
    ("retry_after", "a minimum retry wait is not modelled"),
    (
        "allowed_fails_policy",
        "per-error allowed fails are not modelled",
    ),
    (
        "model_group_retry_policy",
        "per-group retry policies are not modelled",
    ),
    (
        "default_litellm_params",
        "default deployment parameters are not modelled",
    ),
    (
        "cache_responses",
        "response caching (answers without a backend call) is not modelled",
    ),
    (
        "cache",
        "response caching (answers without a backend call) is not modelled",
    ),
    (
        "max_retries",
        "the provider client's own retries inside LiteLLM are not modelled (LiteLLM sets 0)",
    ),
    (
        "num_retries_per_deployment",
        "per-deployment retry counts are not modelled",
    ),
];

fn refuse(at: &At<'_>, value: &Value, key: &str) -> BalanceError {
    match UNSUPPORTED.iter().find(|(name, _)| *name == key) {
        Some((_, why)) => at.error(value, format!("not supported: {why}")),
        None => at.error(
            value,
            "unknown key: throttlebox does not know whether it changes routing (remove it from the copy you import, or file an issue)",
        ),
    }
}

fn seconds(at: &At<'_>, value: &Value) -> Result<Duration, BalanceError> {
    Ok(Duration::from_secs_f64(at.number(value)?))
}

/// The fleet resource a deployment maps to.
fn backend_of(
    params: &serde_json::Map<String, Value>,
    info_id: Option<&str>,
    at: &At<'_>,
    pool: &[BackendSpec],
) -> Result<String, BalanceError> {
    let known = |name: &str| pool.iter().any(|spec| spec.name == name);
    let host_label = params
        .get("api_base")
        .and_then(Value::as_str)
        .and_then(|base| base.split("://").nth(1))
        .and_then(|rest| rest.split(['.', ':', '/']).next())
        .filter(|label| known(label));
    let deployment = params
        .get("model")
        .and_then(Value::as_str)
        .and_then(|model| model.rsplit('/').next())
        .filter(|name| known(name));
    host_label
        .or(deployment)
        .or(info_id.filter(|id| known(id)))
        .map(str::to_string)
        .ok_or_else(|| {
            let names: Vec<&str> = pool.iter().map(|spec| spec.name.as_str()).collect();
            at.error(
                &Value::Object(params.clone()),
                format!(
                    "maps to no fleet backend: the first label of api_base, the deployment name of `model` or model_info.id must name one of {names:?}"
                ),
            )
        })
}

/// One `model_list` entry, its keys checked; the backend is mapped by the caller (only
/// entries of the groups the workload reaches need one).
struct Entry<'v> {
    model_name: String,
    params: &'v serde_json::Map<String, Value>,
    info_id: Option<&'v str>,
    declared: DeclaredWeights,
    order: Option<u32>,
    cooldown: Option<Duration>,
}

fn entry<'v>(value: &'v Value, at: &At<'_>) -> Result<Entry<'v>, BalanceError> {
    let fields = at.object(value)?;
    let mut model_name = None;
    let mut params = None;
    let mut info_id = None;
    for (key, value) in fields {
        let here = at.key(key);
        match key.as_str() {
            "model_name" => model_name = Some(here.string(value)?.to_string()),
            "litellm_params" => params = Some(here.object(value)?),
            // Free-form metadata; only the id is read.
            "model_info" => info_id = here.object(value)?.get("id").and_then(Value::as_str),
            _ => return Err(refuse(&here, value, key)),
        }
    }
    let model_name =
        model_name.ok_or_else(|| at.key("model_name").error(&Value::Null, "missing"))?;
    let params_at = at.key("litellm_params");
    let params = params.ok_or_else(|| params_at.error(&Value::Null, "missing"))?;
    let mut read = Entry {
        model_name,
        params,
        info_id,
        declared: DeclaredWeights::default(),
        order: None,
        cooldown: None,
    };
    for (key, value) in params {
        let here = params_at.key(key);
        match key.as_str() {
            "model" | "api_base" => {
                here.string(value)?;
            }
            "tpm" => read.declared.tpm = Some(here.number(value)?),
            "rpm" => read.declared.rpm = Some(here.number(value)?),
            "weight" => read.declared.weight = Some(here.number(value)?),
            "order" => read.order = Some(here.integer(value)?),
            "cooldown_time" => read.cooldown = Some(seconds(&here, value)?),
            inert if INERT_PARAMS.contains(&inert) => {}
            _ => return Err(refuse(&here, value, key)),
        }
    }
    Ok(read)
}

/// The routing strategy LiteLLM names.
fn routing(at: &At<'_>, value: &Value) -> Result<Routing, BalanceError> {
    match at.string(value)? {
        "simple-shuffle" => Ok(Routing::SimpleShuffle),
        "least-busy" => Ok(Routing::LeastBusy),
        "latency-based-routing" => Ok(Routing::LatencyBasedRouting),
        "usage-based-routing-v2" => Ok(Routing::UsageBasedRoutingV2),
        other => Err(at.error(
            value,
            format!(
                "routing strategy {other:?} is not modelled (simple-shuffle, least-busy, latency-based-routing, usage-based-routing-v2 are)"
            ),
        )),
    }
}

/// `fallbacks: [{group: [fallback, …]}, …]`: the fallback groups of `group`.
fn fallbacks_of(at: &At<'_>, value: &Value, group: &str) -> Result<Vec<String>, BalanceError> {
    let Value::Array(entries) = value else {
        return Err(at.error(value, "expected a list of {model_group: [fallback groups]}"));
    };
    let mut out = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let here = at.index(index);
        for (name, targets) in here.object(entry)? {
            let targets_at = here.key(name);
            let Value::Array(targets) = targets else {
                return Err(targets_at.error(targets, "expected a list of model groups"));
            };
            if name == group {
                for target in targets {
                    out.push(targets_at.string(target)?.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// `retry_policy`: one count when its counts agree.
fn retry_policy(at: &At<'_>, value: &Value) -> Result<Option<u32>, BalanceError> {
    let mut counts = Vec::new();
    for (key, count) in at.object(value)? {
        counts.push(at.key(key).integer(count)?);
    }
    counts.dedup();
    match counts.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(at.error(
            value,
            "not supported: retry counts that differ by error type (the retry loop has one count)",
        )),
    }
}

/// Settings read from `router_settings` or `litellm_settings`.
#[derive(Default)]
struct Settings {
    routing: Option<Routing>,
    num_retries: Option<u32>,
    allowed_fails: Option<u32>,
    cooldown_time: Option<Duration>,
    disable_cooldowns: bool,
}

fn settings(
    at: &At<'_>,
    value: &Value,
    inert: &[&str],
    into: &mut Settings,
) -> Result<Vec<(String, Value)>, BalanceError> {
    let mut fallbacks = Vec::new();
    for (key, value) in at.object(value)? {
        let here = at.key(key);
        match key.as_str() {
            "routing_strategy" => into.routing = Some(routing(&here, value)?),
            "num_retries" => into.num_retries = Some(here.integer(value)?),
            "retry_policy" => {
                if let Some(count) = retry_policy(&here, value)? {
                    into.num_retries = Some(count);
                }
            }
            "allowed_fails" => into.allowed_fails = Some(here.integer(value)?),
            "cooldown_time" => into.cooldown_time = Some(seconds(&here, value)?),
            "disable_cooldowns" => {
                into.disable_cooldowns = value
                    .as_bool()
                    .ok_or_else(|| here.error(value, "expected true or false"))?;
            }
            "fallbacks" => fallbacks.push((here.path.clone(), value.clone())),
            key if inert.contains(&key) => {}
            _ => return Err(refuse(&here, value, key)),
        }
    }
    Ok(fallbacks)
}

/// Imports the config `text` (from `source`) for calls to model group `group`, over the
/// scenario's pool `pool`.
pub fn import_config(
    text: &str,
    source: &str,
    group: &str,
    pool: &[BackendSpec],
) -> Result<ImportedLitellm, BalanceError> {
    let document = parse(text, source)?;
    let root = At::root(source);
    let top = root.object(&document)?;
    let mut model_list = None;
    let mut read = Settings::default();
    let mut fallback_values = Vec::new();
    for (key, value) in top {
        let here = root.key(key);
        match key.as_str() {
            "model_list" => model_list = Some(value),
            "router_settings" => {
                fallback_values.extend(settings(&here, value, INERT_ROUTER, &mut read)?)
            }
            "litellm_settings" => {
                fallback_values.extend(settings(&here, value, INERT_LITELLM, &mut read)?)
            }
            // The proxy's own settings (keys, database, UI) and its environment: no routing.
            "general_settings" | "environment_variables" => {}
            _ => return Err(refuse(&here, value, key)),
        }
    }
    let list_at = root.key("model_list");
    let Some(Value::Array(entries)) = model_list else {
        return Err(list_at.error(model_list.unwrap_or(&Value::Null), "missing or not a list"));
    };
    let mut groups = vec![group.to_string()];
    for (path, value) in &fallback_values {
        let at = At {
            source,
            path: path.clone(),
        };
        for fallback in fallbacks_of(&at, value, group)? {
            if !groups.contains(&fallback) {
                groups.push(fallback);
            }
        }
    }
    let read_entries = entries
        .iter()
        .enumerate()
        .map(|(index, value)| entry(value, &list_at.index(index)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut deployments: Vec<ConfigDeployment> = Vec::new();
    for name in &groups {
        for (index, read) in read_entries.iter().enumerate() {
            if read.model_name != *name {
                continue;
            }
            let at = list_at.index(index);
            let backend = backend_of(read.params, read.info_id, &at.key("litellm_params"), pool)?;
            if deployments.iter().any(|d| d.backend == backend) {
                return Err(at.error(
                    &Value::String(backend),
                    "a second deployment on the same fleet backend (one backend per deployment)",
                ));
            }
            deployments.push(ConfigDeployment {
                index,
                model_name: read.model_name.clone(),
                backend,
                declared: read.declared,
                order: read.order,
                cooldown: read.cooldown,
            });
        }
    }
    if deployments.is_empty() {
        return Err(list_at.error(
            &Value::String(group.to_string()),
            "no deployment serves the model group the workload calls",
        ));
    }
    Ok(ImportedLitellm {
        source: source.to_string(),
        document: document.clone(),
        groups,
        deployments,
        routing: read.routing.unwrap_or(Routing::SimpleShuffle),
        num_retries: read.num_retries,
        allowed_fails: read.allowed_fails,
        cooldown_time: read.cooldown_time,
        disable_cooldowns: read.disable_cooldowns,
    })
}

impl ImportedLitellm {
    fn priority(&self, deployment: &ConfigDeployment) -> u32 {
        let group = self
            .groups
            .iter()
            .position(|name| *name == deployment.model_name)
            .unwrap_or(0) as u32;
        group * 1000 + deployment.order.unwrap_or(1)
    }

    /// The strategy's backends, in config order: each pool backend it maps to, with its
    /// priority (fallback group, then `order`), declared weights, and the `tpm`/`rpm` LiteLLM
    /// knows (what the config declares; the fleet's quotas are invisible to LiteLLM).
    pub fn backend_specs(&self, pool: &[BackendSpec]) -> Vec<BackendSpec> {
        self.deployments
            .iter()
            .filter_map(|deployment| {
                let spec = pool.iter().find(|spec| spec.name == deployment.backend)?;
                let declared = deployment.declared;
                Some(BackendSpec {
                    priority: self.priority(deployment),
                    tpm_limit: declared.tpm.map(|tpm| tpm as u64),
                    rpm_limit: declared.rpm.map(|rpm| rpm as u64),
                    declared: (declared != DeclaredWeights::default()).then_some(declared),
                    ..spec.clone()
                })
            })
            .collect()
    }

    /// The composition the config describes, modelled as `options` says.
    pub fn composition(&self, options: LitellmOptions, plain: Composition) -> Composition {
        let mut built = composition(self.routing, options, plain);
        if let Some(count) = self.num_retries {
            built.retry.count = count;
        }
        built.priority_groups = self.groups.len() > 1
            || self
                .deployments
                .iter()
                .any(|deployment| deployment.order.is_some());
        if self.disable_cooldowns {
            built.breaker = BreakerConfig::None;
        } else if let BreakerConfig::Litellm(rule) = &mut built.breaker {
            if let Some(cooldown) = self.cooldown_time {
                rule.cooldown = cooldown;
                rule.cooldown_explicit = true;
            }
            rule.allowed_fails = self.allowed_fails;
            rule.deployment_cooldowns = self
                .deployments
                .iter()
                .map(|deployment| deployment.cooldown)
                .collect();
        }
        built
    }
}
