//! The LiteLLM configuration the lab gives the real proxy and Router. For a preset: one
//! deployment per pool backend, `api_base` = the mock resource that stands for it, and the
//! router settings the strategy resolves to (routing strategy, retries, cooldown). For an
//! imported config (`preset = "litellm"`, `config = …`): the user's own document, each mapped
//! deployment pointed at its mock resource (deployments the workload cannot reach, shared Redis
//! settings and logging callbacks removed), the lab's master key. Written as JSON, which is YAML (LiteLLM reads
//! it with `yaml.safe_load`).

use serde_json::{Value, json};

use super::error::LabError;
use crate::balance::breaker::BreakerConfig;
use crate::balance::{Preset, Strategy};
use crate::scenario::ResolvedStrategy;

/// The master key the lab's proxy requires (LiteLLM refuses to start without one).
pub const MASTER_KEY: &str = "sk-throttlebox-lab";
/// API version the lab's deployments are called with.
pub const API_VERSION: &str = "2024-10-21";

/// LiteLLM's `routing_strategy` for a preset.
pub fn routing_strategy(preset: Option<Preset>) -> Option<&'static str> {
    match preset {
        Some(Preset::LitellmShuffle | Preset::Litellm) => Some("simple-shuffle"),
        Some(Preset::LitellmLeastBusy) => Some("least-busy"),
        Some(Preset::LitellmLatency) => Some("latency-based-routing"),
        Some(Preset::LitellmUsage) => Some("usage-based-routing-v2"),
        _ => None,
    }
}

/// The config for `strategy` whose backends are served at `urls` (by backend name), all
/// serving the model group `model` (the workload's deployment name).
pub fn lab_config(
    strategy: &ResolvedStrategy,
    model: &str,
    urls: &[(String, String)],
) -> Result<Value, LabError> {
    let url_of = |backend: &str| {
        urls.iter()
            .find(|(name, _)| name == backend)
            .map(|(_, url)| url.clone())
            .ok_or_else(|| LabError::Setup(format!("no mock resource for backend {backend:?}")))
    };
    if let Some(imported) = &strategy.config.litellm_config {
        let mut document = imported.document.clone();
        let mut model_list = Vec::new();
        for deployment in &imported.deployments {
            let mut entry = document["model_list"][deployment.index].clone();
            let params = &mut entry["litellm_params"];
            params["api_base"] = json!(url_of(&deployment.backend)?);
            params["model"] = json!(format!("azure/{model}"));
            params["api_key"] = json!("throttlebox-lab");
            params["api_version"] = json!(API_VERSION);
            model_list.push(entry);
        }
        document["model_list"] = Value::Array(model_list);
        if let Some(router) = document
            .get_mut("router_settings")
            .and_then(Value::as_object_mut)
        {
            router.retain(|key, _| !key.starts_with("redis_"));
        }
        // Logging integrations need their own packages and services, and route nothing.
        if let Some(settings) = document
            .get_mut("litellm_settings")
            .and_then(Value::as_object_mut)
        {
            settings.retain(|key, _| !key.ends_with("callback") && key != "callbacks");
        }
        if let Some(top) = document.as_object_mut() {
            top.remove("environment_variables");
        }
        document["general_settings"] = json!({ "master_key": MASTER_KEY });
        return Ok(document);
    }
    let preset = strategy.config.preset;
    let routing = routing_strategy(preset).ok_or_else(|| {
        LabError::Setup(format!(
            "strategy {:?} is not a LiteLLM preset",
            strategy.config.name
        ))
    })?;
    let built: Strategy = strategy.build();
    let composition = built.composition();
    let model_list = strategy
        .specs
        .iter()
        .map(|spec| {
            Ok(json!({
                "model_name": model,
                "litellm_params": {
                    "model": format!("azure/{model}"),
                    "api_base": url_of(&spec.name)?,
                    "api_key": "throttlebox-lab",
                    "api_version": API_VERSION,
                },
                "model_info": { "id": spec.name },
            }))
        })
        .collect::<Result<Vec<Value>, LabError>>()?;
    let mut router = json!({
        "routing_strategy": routing,
        "num_retries": composition.retry.count,
    });
    if let BreakerConfig::Litellm(rule) = &composition.breaker {
        if rule.cooldown_explicit {
            router["cooldown_time"] = json!(rule.cooldown.as_secs_f64());
        }
        if let Some(allowed) = rule.allowed_fails {
            router["allowed_fails"] = json!(allowed);
        }
    }
    Ok(json!({
        "model_list": model_list,
        "router_settings": router,
        "general_settings": { "master_key": MASTER_KEY },
    }))
}
