//! One client state machine under both clocks: a scripted sequence of answers — a 429 with
//! `retry-after-ms`, a 503, a dropped connection, a success — is played once to the machine in
//! virtual time (as the simulator drives it: time jumps to each retry it asks for) and once to
//! the live load engine over loopback (a scripted server, the wall clock), and the same
//! decisions come out: which tries are retried, the server's wait honoured, the backoff drawn
//! from the one shared client retry stream, and the status and error class the request ends
//! with.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use throttlebox::balance::Observation;
use throttlebox::client::{Client, ClientAnswer, ClientStep};
use throttlebox::live::LiveClock;
use throttlebox::live::load::run_load;
use throttlebox::metrics::{AttemptRecord, ErrorClass, RequestRecord};
use throttlebox::report::{RecordSink, ReportError};
use throttlebox::scenario::Scenario;
use throttlebox::seed::streams;

/// The scenario seed both clocks draw from. Under it, the backoffs the live engine drew before
/// the streams were shared (from `live:client-retry`) are each over 170 ms shorter than the
/// shared stream's: a live engine drawing from any other stream than the machine's in virtual
/// time would most likely wait less than the machine decided, and fail the check below.
const SEED: u64 = 24;
/// The server's wait in the 429 (scenario milliseconds).
const RETRY_AFTER_MS: u64 = 40;

/// One scripted answer.
#[derive(Debug, Clone, Copy)]
enum Scripted {
    /// 429 with `retry-after-ms`.
    Throttled,
    /// 503 without a wait: the SDK backs off with jitter.
    Unavailable,
    /// The server reads the request and closes the connection: a connection error.
    Dropped,
    /// 200 with a small body.
    Ok,
}

const BODY: &str = r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#;

impl Scripted {
    /// What the client machine is told, in virtual time.
    fn answer(self) -> ClientAnswer {
        match self {
            Scripted::Throttled => {
                ClientAnswer::failure(Observation::http(429).with_retry_after_ms(RETRY_AFTER_MS))
            }
            Scripted::Unavailable => ClientAnswer::failure(Observation::http(503)),
            Scripted::Dropped => {
                ClientAnswer::failure(Observation::new(throttlebox::balance::Status::ConnectError))
            }
            Scripted::Ok => ClientAnswer::Success { status: 200 },
        }
    }

    /// What the scripted server writes (None: it closes the connection instead).
    fn wire(self) -> Option<String> {
        let head = |status: &str, extra: &str, body: &str| {
            format!(
                "HTTP/1.1 {status}\r\n{extra}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        };
        match self {
            Scripted::Throttled => Some(head(
                "429 Too Many Requests",
                &format!("retry-after-ms: {RETRY_AFTER_MS}\r\n"),
                "{}",
            )),
            Scripted::Unavailable => Some(head("503 Service Unavailable", "", "{}")),
            Scripted::Dropped => None,
            Scripted::Ok => Some(head("200 OK", "", BODY)),
        }
    }
}

/// A decision of the client, clock-free: retry after this wait, or end so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Retry { wait: Duration },
    End { status: u16, error: ErrorClass },
}

/// The machine in virtual time, as the simulator drives it: each answer arrives when the try
/// is sent (a try takes no time here) and time jumps to the retry it asks for.
fn virtual_decisions(client: &Client, script: &[Scripted]) -> Vec<Decision> {
    let mut rng = streams::client_retry(SEED);
    let mut now = Duration::from_secs(7);
    let mut life = client.begin(now);
    let mut decisions = Vec::new();
    for answer in script {
        assert_eq!(client.next(now, &life), ClientStep::Send);
        match client.on_answer(now, &mut life, &answer.answer(), &mut rng) {
            ClientStep::WaitUntil(at) => {
                decisions.push(Decision::Retry { wait: at - now });
                now = at;
            }
            ClientStep::GiveUp { status, error } | ClientStep::Done { status, error } => {
                decisions.push(Decision::End { status, error });
                break;
            }
            ClientStep::Send => panic!("an answer never asks for an immediate resend"),
        }
    }
    decisions
}

/// A server on loopback answering its n-th connection with `script[n]`.
async fn scripted_server(script: Vec<Scripted>) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        for answer in script {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            read_request(&mut stream).await;
            if let Some(text) = answer.wire() {
                let _ = stream.write_all(text.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        }
    });
    addr
}

/// Read one HTTP/1.1 request (head and `content-length` body), bounded.
async fn read_request(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while seen.len() < 1 << 20 {
        let Ok(read) = stream.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        seen.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if seen.len() >= head_end + 4 + length {
                return;
            }
        }
    }
}

#[derive(Default)]
struct Kept {
    requests: Vec<RequestRecord>,
    attempts: Vec<AttemptRecord>,
}

/// Keeps the records (shared, so the test reads them after the run).
#[derive(Clone, Default)]
struct Keep(Arc<Mutex<Kept>>);

impl RecordSink for Keep {
    fn request(&mut self, record: &RequestRecord) -> Result<(), ReportError> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.requests.push(*record);
        Ok(())
    }

    fn attempt(&mut self, record: &AttemptRecord) -> Result<(), ReportError> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.attempts.push(*record);
        Ok(())
    }
}

/// One request a run (at 1 s), `max_retries` client retries, and the client it configures.
fn one_request(max_retries: u32) -> (Scenario, Client) {
    let scenario = crate::live_support::steady_with(
        1,
        1,
        &[
            &format!("seed={SEED}"),
            &format!("client.retry.max_retries={max_retries}"),
            "client.timeout=60s",
        ],
    );
    let client = Client::new(
        scenario.file.client.retry.clone(),
        scenario.file.client.timeout,
    );
    (scenario, client)
}

/// The live load engine against the scripted server: its decisions, read off its records (a
/// retry's wait is the gap between one try's end and the next try's start, in scenario time),
/// and the attempts' classes.
async fn live_decisions(
    scenario: &Scenario,
    script: &[Scripted],
) -> (Vec<Decision>, Vec<ErrorClass>, RequestRecord) {
    let workload = scenario.workload().expect("workload");
    // Scenario time four times faster than the wall: the backoffs take under a second.
    let clock = LiveClock::start(4.0);
    let server = scripted_server(script.to_vec()).await;
    let keep = Keep::default();
    let plan = crate::live_support::opaque_plan(scenario, server, clock, Duration::from_secs(1));
    let (_keep_open, stop) = tokio::sync::watch::channel(false);
    run_load(scenario, &workload, plan, keep.clone(), stop)
        .await
        .expect("load run");
    let kept = keep.0.lock().unwrap_or_else(PoisonError::into_inner);
    assert_eq!(kept.requests.len(), 1, "one request scheduled");
    let request = kept.requests[0];
    let mut attempts = kept.attempts.clone();
    attempts.sort_by_key(|a| a.attempt);
    let mut decisions: Vec<Decision> = attempts
        .windows(2)
        .map(|pair| Decision::Retry {
            wait: pair[1].start - pair[0].end,
        })
        .collect();
    decisions.push(Decision::End {
        status: request.status,
        error: request.error,
    });
    let classes = attempts.iter().map(|a| a.error).collect();
    (decisions, classes, request)
}

/// The live decisions match the virtual ones: the same retries and end; each live wait at
/// least the decided one (a live sleep never ends early; how much later it ends is the
/// machine's load, not a decision).
fn assert_same_decisions(virtual_run: &[Decision], live: &[Decision]) {
    assert_eq!(virtual_run.len(), live.len(), "{virtual_run:?} vs {live:?}");
    for (decided, lived) in virtual_run.iter().zip(live) {
        match (decided, lived) {
            (Decision::Retry { wait }, Decision::Retry { wait: gap }) => {
                assert!(gap >= wait, "live waited {gap:?}, the machine {wait:?}");
            }
            _ => assert_eq!(decided, lived),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_retries_and_end_under_the_virtual_and_the_wall_clock() {
    let script = [
        Scripted::Throttled,
        Scripted::Unavailable,
        Scripted::Dropped,
        Scripted::Ok,
    ];
    let (scenario, client) = one_request(3);
    let decided = virtual_decisions(&client, &script);
    // The machine's own answers: the server's wait honoured to the millisecond, then the SDK's
    // backoff `min(0.5·2ⁿ, 8)·(1 − 0.25·U)` for n = 1 and 2, then the success.
    assert_eq!(
        decided[0],
        Decision::Retry {
            wait: Duration::from_millis(RETRY_AFTER_MS)
        }
    );
    let Decision::Retry { wait: second } = decided[1] else {
        panic!("{decided:?}")
    };
    let Decision::Retry { wait: third } = decided[2] else {
        panic!("{decided:?}")
    };
    assert!(second > Duration::from_millis(750) && second <= Duration::from_secs(1));
    assert!(third > Duration::from_millis(1_500) && third <= Duration::from_secs(2));
    assert_eq!(
        decided[3],
        Decision::End {
            status: 200,
            error: ErrorClass::None
        }
    );

    let (lived, classes, request) = live_decisions(&scenario, &script).await;
    assert_same_decisions(&decided, &lived);
    assert_eq!(
        classes,
        [
            ErrorClass::Throttled,
            ErrorClass::ServerError,
            ErrorClass::ConnectError,
            ErrorClass::None
        ]
    );
    assert_eq!(request.client_retries, 3);
    assert_eq!(request.completion_tokens, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_retries_both_clocks_give_up_with_the_last_answer() {
    let script = [
        Scripted::Throttled,
        Scripted::Unavailable,
        Scripted::Dropped,
    ];
    let (scenario, client) = one_request(2);
    let decided = virtual_decisions(&client, &script);
    assert_eq!(
        decided.last(),
        Some(&Decision::End {
            status: 0,
            error: ErrorClass::ConnectError
        })
    );
    let (lived, _, request) = live_decisions(&scenario, &script).await;
    assert_same_decisions(&decided, &lived);
    assert_eq!(request.client_retries, 2);
    assert_eq!(request.attempts, 3);
}
