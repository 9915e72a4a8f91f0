//! The data path's surface beyond inference (issue #13 items 4 and 5): resources on their own
//! loopback address sharing one port, `GET /openai/v1/models`, and strict argument checking.

use crate::common;
use aoai_mock::config::FleetConfig;
use common::*;

fn two_resources(bind_a: &str, bind_b: &str) -> String {
    let resource = |name: &str, bind: &str| {
        format!(
            r#"
[[resources]]
name = "{name}"
region = "East US"
bind = "{bind}"
api_keys = ["k"]
[[resources.deployments]]
name = "chat-{name}"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
{INSTANT}
[[resources.deployments]]
name = "embed-{name}"
model = "text-embedding-3-small"
kind = "standard"
tpm = 1000000
{INSTANT}
"#
        )
    };
    format!("{}{}", resource("a", bind_a), resource("b", bind_b))
}

#[tokio::test]
async fn resources_on_their_own_address_share_one_port_and_answer_only_for_themselves() {
    let fleet = start(&two_resources("127.0.0.2", "127.0.0.3")).await;
    let (a, b) = (fleet.listeners[0].addr, fleet.listeners[1].addr);
    assert_eq!(a.ip().to_string(), "127.0.0.2");
    assert_eq!(b.ip().to_string(), "127.0.0.3");
    assert_eq!(a.port(), b.port(), "one port, told apart by host");
    assert_eq!(
        chat(a, "chat-a", &chat_body(5, false), &[]).await.status,
        200
    );
    assert_eq!(
        chat(b, "chat-b", &chat_body(5, false), &[]).await.status,
        200
    );
    // Each address is its own resource: b's deployment is unknown on a.
    assert_eq!(
        chat(a, "chat-b", &chat_body(5, false), &[]).await.status,
        404
    );
    let text = metrics(&fleet).await;
    for resource in ["a", "b"] {
        let labels = format!(r#"{{resource="{resource}",deployment="chat-{resource}"}}"#);
        assert_eq!(
            metric(&text, &format!("aoai_mock_requests_total{labels}")),
            1.0
        );
    }
}

#[test]
fn two_resources_cannot_share_an_address_without_ports() {
    let error = FleetConfig::from_toml_str(&two_resources("127.0.0.2", "127.0.0.2"), "f.toml")
        .unwrap_err()
        .to_string();
    assert!(error.contains("resources[1].bind"), "{error}");
    assert!(error.contains("127.0.0.2"), "{error}");
}

#[tokio::test]
async fn the_v1_model_list_names_each_deployment_of_the_resource() {
    let fleet = start(&two_resources("127.0.0.1", "127.0.0.4")).await;
    let a = fleet.listeners[0].addr;
    let listed = send(a, "GET", "/openai/v1/models", &[("api-key", "k")], "").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let json = listed.json();
    assert_eq!(json["object"], "list");
    let ids: Vec<&str> = json["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|model| model["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["chat-a", "embed-a"]);
    assert_eq!(json["data"][0]["object"], "model");
    assert_eq!(json["data"][0]["capabilities"]["chat_completion"], true);
    assert_eq!(json["data"][1]["capabilities"]["embeddings"], true);
    assert_eq!(json["data"][1]["capabilities"]["chat_completion"], false);
    let no_key = send(a, "GET", "/openai/v1/models", &[], "").await;
    assert_eq!(no_key.status, 401);
    let posted = send(a, "POST", "/openai/v1/models", &[("api-key", "k")], "").await;
    assert_eq!(posted.status, 405);
    assert_eq!(posted.header("allow"), Some("GET"));
}

fn strict_fleet(strict: bool) -> String {
    east_chat(&format!("[switches]\nstrict_arguments = {strict}"))
}

async fn chat_at(addr: std::net::SocketAddr, version: &str, body: &str) -> Reply {
    let path = format!("/openai/deployments/chat/chat/completions?api-version={version}");
    let headers = [("api-key", "k"), ("content-type", "application/json")];
    send(addr, "POST", &path, &headers, body).await
}

#[tokio::test]
async fn strict_arguments_refuse_what_the_api_version_does_not_accept() {
    let body =
        r#"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":5,"topP":1}"#;
    let lenient = start(&strict_fleet(false)).await;
    assert_eq!(
        chat_at(addr(&lenient), "2023-05-15", body).await.status,
        200
    );

    let strict = start(&strict_fleet(true)).await;
    let old = chat_at(addr(&strict), "2023-05-15", body).await;
    assert_eq!(old.status, 400);
    assert_eq!(
        old.json()["error"]["message"],
        "Unrecognized request arguments supplied: max_completion_tokens, topP"
    );
    assert_eq!(old.json()["error"]["type"], "invalid_request_error");
    let newer = chat_at(addr(&strict), "2024-10-21", body).await;
    assert_eq!(
        newer.json()["error"]["message"],
        "Unrecognized request argument supplied: topP"
    );
    let accepted =
        r#"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":5,"top_p":1}"#;
    assert_eq!(
        chat_at(addr(&strict), "2024-10-21", accepted).await.status,
        200
    );
}
