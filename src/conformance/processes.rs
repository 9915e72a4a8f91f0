//! The lab's child processes: starting one with its output in a log file, stopping it, the
//! tail of its log for an error message, and the LiteLLM proxy's start (a free port, then its
//! health endpoint polled until it answers, abandoned as soon as the process exits).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::error::LabError;
use super::options::LabOptions;
use super::python::litellm_command;

/// The last lines of a child's log, named.
pub(super) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(15);
    format!(
        "{} (last lines):\n{}",
        path.display(),
        lines[start..].join("\n")
    )
}

/// Starts `command` with its stderr (and its stdout, unless `pipe_stdout`) in `log`, killed
/// when dropped.
pub(super) fn spawn(
    command: &mut Command,
    log: &Path,
    what: &str,
    pipe_stdout: bool,
) -> Result<Child, LabError> {
    let file = std::fs::File::create(log).map_err(|error| LabError::io(log, error))?;
    let err = file.try_clone().map_err(|error| LabError::io(log, error))?;
    let out = if pipe_stdout {
        Stdio::piped()
    } else {
        Stdio::from(file)
    };
    command
        .stdout(out)
        .stderr(Stdio::from(err))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .spawn()
        .map_err(|error| LabError::Child {
            what: what.to_string(),
            detail: format!("cannot start: {error}"),
        })
}

/// Kills `child` (SIGKILL) and waits for it, bounded.
pub(super) async fn stop(mut child: Child) {
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
}

/// A free TCP port on 127.0.0.1 (bound and released; the proxy binds it right after).
pub(super) fn free_port() -> Result<u16, LabError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|error| LabError::Setup(format!("no free port: {error}")))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|error| LabError::Setup(format!("no free port: {error}")))
}

/// Whether `GET path` on 127.0.0.1:`port` answers 200.
async fn healthy(port: u16, path: &str) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 16];
    matches!(stream.read(&mut head).await, Ok(n) if head[..n].starts_with(b"HTTP/1.1 200"))
}

/// Starts the LiteLLM proxy on `config`; returns it once its health endpoint answers.
pub(super) async fn start_proxy(
    options: &LabOptions,
    config: &Path,
    port: u16,
) -> Result<Child, LabError> {
    let log = options.work_dir.join("litellm-proxy.log");
    let mut command = Command::new(litellm_command(&options.python));
    command.args(["--config"]).arg(config).args([
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]);
    let mut child = spawn(&mut command, &log, "the LiteLLM proxy", false)?;
    let ready = async {
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(LabError::Child {
                    what: "the LiteLLM proxy".into(),
                    detail: format!(
                        "exited before it was healthy ({status}); {}",
                        log_tail(&log)
                    ),
                });
            }
            if healthy(port, "/health/liveliness").await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    match tokio::time::timeout(options.startup_timeout, ready).await {
        Ok(Ok(())) => Ok(child),
        Ok(Err(error)) => Err(error),
        Err(_) => {
            stop(child).await;
            Err(LabError::Child {
                what: "the LiteLLM proxy".into(),
                detail: format!(
                    "not healthy within {:?}; {}",
                    options.startup_timeout,
                    log_tail(&log)
                ),
            })
        }
    }
}
