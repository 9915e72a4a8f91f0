//! `GET /openai/v1/models`: the resource's deployments in the list AOAI's v1 surface answers
//! (clients such as GuideLLM and the OpenAI SDK's `models.list()` call it at start-up). On the v1
//! surface a request's `model` is the deployment name, so each deployment is listed under its
//! name, with its model and capabilities in the fields of AOAI's Models - List (2024-10-21)
//! plus OpenAI's `created`/`owned_by`. Pure: the fleet file in, a JSON body out.

use crate::config::ResourceConfig;
use crate::model::ModelProfile;
use serde_json::json;

/// The mock has no creation dates: every entry says this one (2024-05-13, gpt-4o's release).
const CREATED: u64 = 1_715_558_400;

/// The body listing `resource`'s deployments, in configuration order.
pub fn body(resource: &ResourceConfig) -> String {
    let data: Vec<_> = resource
        .deployments
        .iter()
        .map(|deployment| {
            let profile = ModelProfile::resolve(&deployment.model, &deployment.model_overrides);
            let generates = !profile.embeddings;
            json!({
                "id": deployment.name,
                "object": "model",
                "created": CREATED,
                "created_at": CREATED,
                "owned_by": "system",
                "model": profile.model_version,
                "status": "succeeded",
                "lifecycle_status": "generally-available",
                "capabilities": {
                    "fine_tune": false,
                    "inference": true,
                    "completion": generates,
                    "chat_completion": generates,
                    "embeddings": profile.embeddings,
                },
            })
        })
        .collect();
    json!({ "object": "list", "data": data }).to_string()
}
