//! Running the Python driver (`driver.py`) while watching the system under test: the driver
//! prints each request's record as it ends, the lab reads them as they come, and it watches the
//! system's own process (the LiteLLM proxy) at the same time. If that process exits, the driver
//! is stopped at once (every later request would only fail) and the records so far are kept:
//! `liveness` turns them into the verdict. The lab's self-check (`kill_system_after`) SIGKILLs
//! the real process after that many answered requests, to show that the lab notices.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::error::LabError;
use super::figures::RealRecord;
use super::options::LabOptions;
use super::processes::{log_tail, spawn, stop};
use super::system::System;

/// What a driver run gave.
#[derive(Debug)]
pub(super) struct DriverRun {
    /// Every record the driver printed.
    pub records: Vec<RealRecord>,
    /// How the system's own process exited while the driver ran (None: it did not).
    pub system_exit: Option<String>,
    /// The driver's log.
    pub log: std::path::PathBuf,
}

fn driver_error(detail: String) -> LabError {
    LabError::Child {
        what: "the lab driver".into(),
        detail,
    }
}

/// Waits for `child` to exit; never resolves without one.
async fn exit_of(child: Option<&mut Child>) -> String {
    match child {
        Some(child) => match child.wait().await {
            Ok(status) => status.to_string(),
            Err(error) => format!("unknown exit ({error})"),
        },
        None => std::future::pending().await,
    }
}

/// Runs the driver on `schedule` with `config` (already written at `config_path`), watching
/// `system_process`; `on_warmed` is called when the driver's warm-up is over (before its
/// first scheduled request). Bounded by `span` (warm-up included) + drain + startup timeout.
pub(super) async fn run_driver(
    options: &LabOptions,
    system: System,
    schedule: &Path,
    config_path: &Path,
    span: Duration,
    mut system_process: Option<&mut Child>,
    on_warmed: &mut dyn FnMut(),
) -> Result<DriverRun, LabError> {
    let dir = &options.work_dir;
    let script = dir.join("driver.py");
    std::fs::write(&script, include_str!("driver.py"))
        .map_err(|error| LabError::io(&script, error))?;
    let log = dir.join(format!("{}-driver.log", system.name()));
    let mut command = Command::new(&options.python);
    command
        .arg(&script)
        .arg(system.driver_mode())
        .arg(schedule)
        .arg(config_path);
    let mut child = spawn(&mut command, &log, "the lab driver", true)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| driver_error("no stdout".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let bound = span + options.drain + options.startup_timeout;
    let deadline = tokio::time::sleep(bound);
    tokio::pin!(deadline);
    let mut records: Vec<RealRecord> = Vec::new();
    let mut answered = 0u64;
    let mut system_exit = None;
    let mut kill_sent = false;
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if line.starts_with("WARMED ") {
                        on_warmed();
                        continue;
                    }
                    let Some(json) = line.strip_prefix("RECORD ") else { continue };
                    let record: RealRecord = serde_json::from_str(json).map_err(|error| {
                        driver_error(format!("unreadable record {json:?}: {error}"))
                    })?;
                    answered += u64::from(record.answered());
                    records.push(record);
                    if let (Some(after), Some(process)) =
                        (options.kill_system_after, system_process.as_deref_mut())
                    {
                        if !kill_sent && answered >= after {
                            // The lab's self-check: SIGKILL, as an OOM killer or a crash would.
                            let _ = process.start_kill();
                            kill_sent = true;
                        }
                    }
                }
                Ok(None) => break,
                Err(error) => return Err(driver_error(format!("reading its output: {error}"))),
            },
            status = exit_of(system_process.as_deref_mut()), if system_exit.is_none() && system_process.is_some() => {
                system_exit = Some(status);
                // Every later request would fail; keep what it printed, stop it.
                let _ = child.start_kill();
            }
            () = &mut deadline => {
                stop(child).await;
                return Err(driver_error(format!(
                    "did not finish within {bound:?}; {}",
                    log_tail(&log)
                )));
            }
        }
    }
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .map_err(|_| driver_error("closed its output but did not exit".into()))?
        .map_err(|error| driver_error(error.to_string()))?;
    if system_exit.is_none() {
        // It may have died as the driver finished.
        if let Some(process) = system_process {
            if let Ok(Some(status)) = process.try_wait() {
                system_exit = Some(status.to_string());
            }
        }
    }
    if !status.success() && system_exit.is_none() {
        return Err(driver_error(format!(
            "failed ({status}); {}",
            log_tail(&log)
        )));
    }
    records.sort_by_key(|record| record.id);
    Ok(DriverRun {
        records,
        system_exit,
        log,
    })
}
