//! The gateway keeps descriptors for its backends: at its client-connection cap it closes a
//! new connection as soon as it accepts it (counted), instead of leaving it in the accept
//! queue — where, once the process runs out of descriptors, a client's request would wait
//! for its own timeout — while the connections it holds keep being served.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use http_body_util::Full;
use hyper::Request;
use hyper_util::rt::TokioIo;
use throttlebox::live::fleet::LiveFleet;
use throttlebox::live::gateway::{GatewaySettings, RunningGateway};
use throttlebox::scenario::Scenario;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BODY: &str = r#"{"messages":[{"role":"user","content":"hi"}]}"#;
const PATH: &str = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

fn chat(host: &str) -> Request<Full<bytes::Bytes>> {
    Request::post(PATH)
        .header("host", host)
        .header("content-type", "application/json")
        .header("api-key", "k")
        .header("x-mock-completion-tokens", 3)
        .body(Full::new(bytes::Bytes::from_static(BODY.as_bytes())))
        .expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_its_cap_the_gateway_closes_new_connections_and_serves_the_open_one() {
    // One fast PAYG backend with a quota never reached (the live benchmark's scenario).
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/live-throughput.toml");
    let scenario = Scenario::load(&path, &[]).expect("scenario");
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut settings =
        GatewaySettings::from_scenario(&scenario, 0, &fleet.pool_urls, listen).expect("settings");
    assert!(
        settings.max_connections.is_some_and(|cap| cap >= 1),
        "the default cap comes from the open-file limit"
    );
    settings.max_connections = Some(1);
    let gateway = RunningGateway::start(settings, fleet.clock())
        .await
        .expect("gateway");
    let host = gateway.addr().to_string();

    // The one connection the cap allows: answered, and kept open.
    let held = TcpStream::connect(gateway.addr()).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(held))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let first = sender.send_request(chat(&host)).await.expect("answer");
    assert_eq!(first.status(), 200);

    // A second connection is closed on arrival: its request gets no answer, at once.
    let mut refused = TcpStream::connect(gateway.addr()).await.expect("connect");
    let request = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\napi-key: k\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    // The write may already fail if the close arrived first; either way no answer comes.
    let _ = refused.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), refused.read_to_end(&mut answer))
        .await
        .expect("closed, not left waiting");
    assert!(
        answer.is_empty(),
        "no HTTP answer on a refused connection: {read:?} {:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(gateway.refused_connections(), 1);

    // The held connection is still served.
    let second = sender.send_request(chat(&host)).await.expect("answer");
    assert_eq!(second.status(), 200);
    gateway.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}
