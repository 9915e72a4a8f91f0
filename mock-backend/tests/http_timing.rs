//! Where a plan's clock starts: at the request's receipt (its body read), so that the mock's own
//! work on a request — parsing, counting the prompt, waiting its turn to count it — is part of
//! the planned latency rather than added to it. A mock that added it would read slower on an
//! idle machine (a cold CPU takes milliseconds over a request) than on a busy one.
#![allow(clippy::disallowed_types)] // measures when the first token really arrived against the plan

use crate::common;
use common::*;
use http_body_util::BodyExt;
use std::time::{Duration, Instant};

/// The planned TTFT of every request here (no jitter, no per-prompt-token part).
const TTFT: Duration = Duration::from_secs(4);

fn fleet_toml() -> String {
    format!(
        r#"
[[resources]]
name = "east"
region = "East US"
api_keys = ["k"]
[[resources.deployments]]
name = "chat"
model = "gpt-4.1"
kind = "standard"
tpm = 1000000000
rpm = 100000
latency = {{ ttft_base = "{}s", ttft_per_prompt_token = "0", ttft_jitter = 0.0, tokens_per_second = 1000000.0, tps_jitter = 0.0 }}
"#,
        TTFT.as_secs()
    )
}

/// A streamed chat body whose prompt (`words` distinct words) is over the mock's large-prompt
/// threshold, so it is counted on the blocking pool, one prompt at a time.
fn large_prompt_body(words: usize, salt: &str) -> String {
    let prompt: String = (0..words).map(|i| format!("{salt}{i} ")).collect();
    format!(
        r#"{{"messages":[{{"role":"user","content":"{prompt}"}}],"max_tokens":2,"stream":true}}"#
    )
}

/// Send `body` and return (when the response head arrived, when the first token arrived).
async fn timed_stream(addr: std::net::SocketAddr, body: String) -> (Instant, Instant) {
    let headers = [("api-key", "k"), ("x-mock-completion-tokens", "2")];
    let response = open(addr, "POST", &chat_path("chat"), &headers, &body)
        .await
        .expect("the response head arrives");
    let head = Instant::now();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut seen = String::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("stream frame");
        if let Some(data) = frame.data_ref() {
            seen.push_str(std::str::from_utf8(data).expect("utf-8"));
            if seen.contains(r#""role":"assistant""#) {
                return (head, Instant::now());
            }
        }
    }
    panic!("the stream ended without a first token: {seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mocks_own_work_on_a_request_is_inside_its_planned_ttft_not_added_to_it() {
    let fleet = start(&fleet_toml()).await;
    let addr = addr(&fleet);
    // Two prompts over the large-prompt threshold, counted one at a time: whichever is counted
    // second waits for the other's count. Each is about 1.5 MB (a model whose context window
    // takes it), so a count lasts long against an upload over loopback: the waiter has been
    // received well before the other's count ends, whichever order they are counted in. A
    // response head goes out once its prompt has been counted (its plan sends the head at
    // once), so the heads tell which was counted first.
    let (a, b) = (
        large_prompt_body(200_000, "a"),
        large_prompt_body(200_000, "b"),
    );
    let sent = Instant::now();
    let ((head_a, token_a), (head_b, token_b)) =
        tokio::join!(timed_stream(addr, a), timed_stream(addr, b));
    let ((first_counted, _), (_, waiter_token)) = if head_a <= head_b {
        ((head_a, token_a), (head_b, token_b))
    } else {
        ((head_b, token_b), (head_a, token_a))
    };
    // No token before its plan…
    for token in [token_a, token_b] {
        assert!(
            token.duration_since(sent) >= TTFT,
            "first token after {:?}, planned {TTFT:?}",
            token.duration_since(sent)
        );
    }
    // …and the waiter's wait for its turn, and its counting, were inside its plan: were they
    // added to it, its token could come no sooner than TTFT after the other prompt had been
    // counted (and its own count on top).
    assert!(
        waiter_token < first_counted + TTFT,
        "the waiting request's first token came {:?} after the other prompt was counted \
         (which took {:?}): the mock's work on it was added to its planned {TTFT:?}",
        waiter_token.duration_since(first_counted),
        first_counted.duration_since(sent)
    );
}
