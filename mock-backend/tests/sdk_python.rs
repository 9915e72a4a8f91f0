//! The official OpenAI Python SDK (`AzureOpenAI`, version pinned in `.ci/install-python-deps`)
//! pointed at the mock as an Azure endpoint: chat completions plain and streamed with usage,
//! embeddings, and the SDK's own retry honouring the mock's 429 `retry-after-ms`. The client
//! side is asserted by `tests/sdk/openai_azure.py`; the server side (a 429 was answered, the SDK
//! retried with `x-stainless-retry-count`) by the mock's `/metrics` here.
//!
//! Needs `python3` with the `openai` package; fails with a message saying how to install them.

use crate::common;
use common::*;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

/// The Python side bounds itself at 60 s (SIGALRM); this is the outer bound.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(90);

fn fleet_toml() -> String {
    format!(
        r#"
[[resources]]
name = "sdk"
region = "East US"
api_keys = ["sdk-key"]
[[resources.deployments]]
name = "chat"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
completion_tokens = {{ dist = "constant", value = 12 }}
{INSTANT}
[[resources.deployments]]
name = "embed"
model = "text-embedding-3-small"
kind = "standard"
tpm = 1000000
[[resources.deployments]]
name = "tiny"
model = "gpt-4o"
kind = "standard"
tpm = 1000000
rpm = 60
switches = {{ request_window = "1s" }}
{INSTANT}
"#
    )
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/openai_azure.py")
}

fn python(args: &[&str]) -> std::io::Result<Output> {
    Command::new("python3").args(args).output()
}

/// Fail (never skip) when the interpreter or the SDK is missing.
fn require_python_openai() {
    let install = "install them with .ci/install-python-deps";
    match python(&["-c", "import openai; print(openai.__version__)"]) {
        Err(error) => panic!("python3 is not runnable ({error}); {install}"),
        Ok(out) if !out.status.success() => panic!(
            "python3 cannot import the openai package; {install}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Ok(_) => {}
    }
}

#[tokio::test]
async fn openai_python_sdk_chats_streams_embeds_and_retries_on_the_mock_429() {
    require_python_openai();
    let fleet = start(&fleet_toml()).await;
    let url = fleet.listeners[0].url();
    let script = script();
    let run = tokio::task::spawn_blocking(move || {
        python(&[script.to_str().expect("utf-8 path"), url.as_str()])
    });
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .expect("the SDK script finishes within its bound")
        .expect("the script thread")
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("SDK-CHECKS-PASSED"),
        "the openai SDK checks failed ({}):\n{stdout}\n{stderr}",
        output.status
    );

    // Server side: the mock refused exactly one `tiny` request for its request window and saw
    // the SDK's retry (x-stainless-retry-count = 1), which it admitted.
    let text = metrics(&fleet).await;
    let tiny = r#"resource="sdk",deployment="tiny""#;
    let value = |name: &str, extra: &str| metric(&text, &format!("{name}{{{tiny}{extra}}}"));
    assert_eq!(
        value("aoai_mock_throttled_total", r#",reason="requests""#),
        1.0
    );
    assert_eq!(
        value("aoai_mock_client_requests_total", r#",attempt="retry""#),
        1.0
    );
    assert_eq!(value("aoai_mock_admitted_total", ""), 2.0);
    let chat = r#"aoai_mock_completed_total{resource="sdk",deployment="chat"}"#;
    assert_eq!(
        metric(&text, chat),
        2.0,
        "plain and streamed chat completed"
    );
    fleet.shutdown().await;
}
