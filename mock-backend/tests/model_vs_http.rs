//! The server and the simulator run the same model: the first request's plan (drawn from the
//! deployment's named streams) is the same whether the pure `Fleet` or the HTTP shell made it.

use crate::common;
use aoai_mock::config::FleetConfig;
use aoai_mock::model::{Fleet, RequestShape, ceil_millis};
use common::*;
use std::time::Duration;

const FLEET: &str = r#"
seed = 99
[[resources]]
name = "east"
region = "East US"
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
latency = { ttft_base = "30ms", ttft_per_prompt_token = "1ms", ttft_jitter = 0.5, tokens_per_second = 400.0, tps_jitter = 0.5 }
completion_tokens = { dist = "uniform", min = 5, max = 40 }
"#;

#[tokio::test]
async fn the_http_shell_acts_out_the_plan_the_pure_model_makes() {
    let config = FleetConfig::from_toml_str(FLEET, "fleet").unwrap();
    let mut fleet = Fleet::new(&config);
    let east = fleet.resource_index("east").unwrap();
    // What the shell computes for {"messages":[{"role":"user","content":"hello world"}],"max_tokens":100}.
    let shape = RequestShape {
        prompt_tokens: 9,
        prompt_chars: 11,
        max_tokens: Some(100),
        ..RequestShape::default()
    };
    let planned = *fleet
        .admit(Duration::ZERO, east, "chat", &shape)
        .plan()
        .unwrap();

    let server = start(FLEET).await;
    let reply = send(
        addr(&server),
        "POST",
        &chat_path("chat"),
        &[("api-key", "any")],
        &chat_body(100, false),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["usage"]["completion_tokens"].as_u64(),
        Some(u64::from(planned.completion_tokens))
    );
    assert_eq!(
        reply.header_u64("ms-azureml-model-time"),
        ceil_millis(planned.total)
    );
    server.shutdown().await;
}
