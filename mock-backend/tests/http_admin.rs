//! The admin listener: its own port, never the data path's; keys redacted; a bearer token when
//! one is set; per-resource labels on every metric.

use crate::common;
use aoai_mock::config::FleetConfig;
use aoai_mock::http::{AdminOptions, REDACTED, RunningFleet, ServeOptions};
use common::*;

fn fleet_toml() -> String {
    format!(
        r#"
[[resources]]
name = "east"
region = "East US"
api_keys = ["k", "very-secret"]
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
tpm = 100000
{INSTANT}
"#
    )
}

async fn start_with_token(token: &str) -> RunningFleet {
    let config = FleetConfig::from_toml_str(&fleet_toml(), "admin.toml").expect("fleet");
    let options = ServeOptions {
        admin: Some(AdminOptions {
            token: Some(token.to_string()),
            ..AdminOptions::loopback()
        }),
        ..ServeOptions::default()
    };
    RunningFleet::start_with(&config, &options)
        .await
        .expect("listeners bind")
}

#[tokio::test]
async fn the_config_is_served_off_the_data_path_with_its_keys_redacted() {
    let fleet = start(&fleet_toml()).await;
    assert_ne!(admin(&fleet), addr(&fleet));
    let on_data = send(
        addr(&fleet),
        "GET",
        "/admin/config",
        &[("api-key", "k")],
        "",
    )
    .await;
    assert_eq!(on_data.status, 404, "{}", on_data.body);
    let config = send(admin(&fleet), "GET", "/admin/config", &[], "").await;
    assert_eq!(config.status, 200);
    assert!(!config.body.contains("very-secret"), "{}", config.body);
    assert_eq!(
        config.json()["resources"][0]["api_keys"],
        serde_json::json!([REDACTED, REDACTED]),
        "how many keys there are is still told"
    );
    // A patch answers with the fleet too: redacted as well. Without `resource`, the only
    // resource with that deployment is meant.
    let patched = send(
        admin(&fleet),
        "PATCH",
        "/admin/config",
        &[],
        r#"{"deployment":"chat","rpm":600}"#,
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert!(!patched.body.contains("very-secret"));
    assert_eq!(patched.json()["resources"][0]["deployments"][0]["rpm"], 600);
    let wrong_method = send(admin(&fleet), "POST", "/metrics", &[], "").await;
    assert_eq!(
        (wrong_method.status, wrong_method.header("allow")),
        (405, Some("GET"))
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn with_a_token_the_admin_listener_answers_only_its_bearer() {
    let fleet = start_with_token("s3cret").await;
    let admin = admin(&fleet);
    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", "Bearer s3cre")],
        vec![("api-key", "s3cret")],
    ] {
        for path in ["/metrics", "/admin/config"] {
            let refused = send(admin, "GET", path, &headers, "").await;
            assert_eq!(refused.status, 401, "{path} {headers:?}");
            assert!(refused.json()["error"]["message"].is_string());
        }
    }
    let bearer = [("authorization", "Bearer s3cret")];
    let metrics = send(admin, "GET", "/metrics", &bearer, "").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains(r#"aoai_mock_requests_total{resource="east",deployment="chat"}"#),
        "{}",
        metrics.body
    );
    assert_eq!(
        send(admin, "GET", "/admin/config", &bearer, "")
            .await
            .status,
        200
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn an_admin_listener_beyond_loopback_needs_a_token() {
    let config = FleetConfig::from_toml_str(&fleet_toml(), "admin.toml").expect("fleet");
    let options = ServeOptions {
        admin: Some(AdminOptions {
            listen: "0.0.0.0:0".parse().expect("address"),
            token: None,
        }),
        ..ServeOptions::default()
    };
    let error = RunningFleet::start_with(&config, &options)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("0.0.0.0:0"), "{error}");
}
