//! Connection caps on both ends of a socket.
//!
//! The gateway keeps descriptors for its backends: at its client-connection cap it closes a
//! new connection as soon as it accepts it (counted), instead of leaving it in the accept
//! queue — where, once the process runs out of descriptors, a client's request would wait
//! for its own timeout — while the connections it holds keep being served.
//!
//! The load engine's `--max-connections`: requests beyond the cap wait for one of its
//! connections (and the wait shows in their latency) instead of dialling more.

use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroUsize;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use throttlebox::live::fleet::LiveFleet;
use throttlebox::live::gateway::{GatewaySettings, RunningGateway};
use throttlebox::live::head_to_head::{LiveRunOptions, run_live};
use throttlebox::live::load::LoadOptions;
use throttlebox::scenario::{Override, Scenario};
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

/// One fast PAYG backend with a quota never reached (the live benchmark's scenario), with
/// `--set`-style overrides.
fn one_backend(sets: &[&str]) -> Scenario {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/live-throughput.toml");
    let overrides: Vec<Override> = sets
        .iter()
        .map(|set| Override::parse(set).expect("override"))
        .collect();
    Scenario::load(&path, &overrides).expect("scenario")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_its_cap_the_gateway_closes_new_connections_and_serves_the_open_one() {
    let scenario = one_backend(&[]);
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
    // Read to its end, so the connection is free for the next request.
    first.into_body().collect().await.expect("the first body");

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
    sender
        .ready()
        .await
        .expect("the held connection is still open");
    let second = sender.send_request(chat(&host)).await.expect("answer");
    assert_eq!(second.status(), 200);
    gateway.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_capped_at_the_gateways_cap_waits_for_a_connection_instead_of_being_refused() {
    // 20 requests 20 ms apart, each answered 150 ms after it arrives: about eight want a
    // connection at once, and the gateway serves two.
    let scenario = one_backend(&[
        "workload.duration=400ms",
        "workload.apps[ping].arrivals.rate=50",
        "fleet.resources[only].deployments[gpt-4o].latency.ttft_base=150ms",
    ]);
    let fleet = LiveFleet::start(&scenario, 1.0).await.expect("fleet");
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut settings =
        GatewaySettings::from_scenario(&scenario, 0, &fleet.pool_urls, listen).expect("settings");
    settings.max_connections = Some(2);
    let gateway = RunningGateway::start(settings, fleet.clock())
        .await
        .expect("gateway");
    let drive = |max_connections: Option<usize>| {
        let options = LiveRunOptions {
            target: Some(format!("http://{}", gateway.addr())),
            load: LoadOptions {
                max_connections: max_connections.and_then(NonZeroUsize::new),
                ..LoadOptions::default()
            },
            ..LiveRunOptions::default()
        };
        let scenario = &scenario;
        async move {
            let (_keep_open, stop) = tokio::sync::watch::channel(false);
            run_live(scenario, None, &options, "test", stop)
                .await
                .expect("live run")
        }
    };

    // Capped at two: every request is served, none refused, and the queueing shows in the
    // latency (measured from the intended send): the last requests waited for three rounds.
    let capped = drive(Some(2)).await;
    let summary = &capped.summary.strategies[0];
    assert_eq!(summary.requests, 20);
    assert_eq!(summary.success_ratio, 1.0, "{:?}", summary.outcomes);
    assert_eq!(gateway.refused_connections(), 0);
    assert_eq!(capped.outcomes[0].engine.max_connections, Some(2));
    let rows: Vec<&str> = summary.backends.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        rows,
        ["only"],
        "the gateway names its backend: no empty `target` row"
    );
    let slowest = summary.e2e.max_s.expect("latencies");
    assert!(
        slowest >= 0.45,
        "the longest wait holds several 150 ms rounds: {slowest} s"
    );

    // The control: uncapped, the same schedule dials past the gateway's cap and is refused.
    let uncapped = drive(None).await;
    assert!(gateway.refused_connections() > 0);
    assert!(
        uncapped.summary.strategies[0].success_ratio < 1.0,
        "refused connections fail requests"
    );
    gateway.shutdown().await;
    fleet.shutdown(Duration::from_secs(5)).await;
}

#[test]
fn the_connection_cap_flag_refuses_what_it_cannot_mean() {
    let refused = |flags: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_throttlebox"))
            .args(["load", "--target", "http://127.0.0.1:9", "--quiet"])
            .args(flags)
            .output()
            .expect("run throttlebox");
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let zero = refused(&["--max-connections", "0"]);
    assert!(zero.contains("'0' for '--max-connections"), "{zero}");
    let goose = refused(&["--engine", "goose", "--max-connections", "4"]);
    assert!(
        goose.contains("--max-connections applies to the open-loop engine"),
        "{goose}"
    );
}
