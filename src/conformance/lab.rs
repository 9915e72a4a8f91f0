//! The lab's shell: the mock fleet in-process (each resource on its own loopback address and all
//! on one port, because the priority balancer replaces only a URL's host), the system under test
//! as child processes (the LiteLLM proxy; the Python driver that replays the schedule through
//! the SDK, the Router library or the priority balancer), and the per-backend attempt counts
//! read from the fleet's model counters — exact, whatever gateway stood in between.
//!
//! Every wait is bounded: the proxy must answer its health endpoint within `startup_timeout`
//! (polled, and abandoned as soon as the process exits), the driver must finish within the
//! schedule's span plus `drain` plus `startup_timeout`; children are killed on every exit path.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use aoai_mock::config::FleetConfig;
use aoai_mock::http::RunningFleet;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::error::LabError;
use super::figures::RealRecord;
use super::litellm_yaml::{API_VERSION, MASTER_KEY, lab_config};
use super::python::{litellm_command, require};
use super::schedule::write_schedule;
use super::system::System;
use crate::scenario::Scenario;

/// Where and how long.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The lab's Python (see [`super::python::lab_python`]).
    pub python: PathBuf,
    /// Folder for the schedule, configs, logs and the driver's output.
    pub work_dir: PathBuf,
    /// Longest wait for the proxy to become healthy or the driver to import its packages.
    pub startup_timeout: Duration,
    /// How long requests may stay open after the last intended send.
    pub drain: Duration,
}

/// What a real run produced.
#[derive(Debug, Clone)]
pub struct RealRun {
    /// One record per request of the schedule that was sent.
    pub records: Vec<RealRecord>,
    /// Requests each pool backend received (scenario order), from the mock's counters.
    pub attempts: Vec<(String, u64)>,
}

/// The fleet with resource `i` on `127.0.0.(i + 1)`, all on one port (resources on their own
/// address with port 0 share one), and the base URL of each resource.
async fn start_fleet(fleet: &FleetConfig) -> Result<(RunningFleet, Vec<String>), LabError> {
    if fleet.resources.len() > 250 {
        return Err(LabError::Setup(
            "at most 250 resources in a lab fleet".into(),
        ));
    }
    let mut config = fleet.clone();
    for (index, resource) in config.resources.iter_mut().enumerate() {
        resource.bind = Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, index as u8 + 1)));
        resource.port = 0;
    }
    let running = RunningFleet::start(&config)
        .await
        .map_err(|error| LabError::Setup(format!("starting the mock: {error}")))?;
    let urls = running.listeners.iter().map(|l| l.url()).collect();
    Ok((running, urls))
}

fn write_file(path: &Path, text: &str) -> Result<(), LabError> {
    std::fs::write(path, text).map_err(|error| LabError::io(path, error))
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(15);
    format!(
        "{} (last lines):\n{}",
        path.display(),
        lines[start..].join("\n")
    )
}

fn spawn(command: &mut Command, log: &Path, what: &str) -> Result<Child, LabError> {
    let file = std::fs::File::create(log).map_err(|error| LabError::io(log, error))?;
    let err = file.try_clone().map_err(|error| LabError::io(log, error))?;
    command
        .stdout(Stdio::from(file))
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

async fn stop(mut child: Child) {
    let _ = child.start_kill();
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
}

/// A free TCP port on 127.0.0.1 (bound and released; the proxy binds it right after).
fn free_port() -> Result<u16, LabError> {
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
async fn start_proxy(options: &LabOptions, config: &Path, port: u16) -> Result<Child, LabError> {
    let log = options.work_dir.join("litellm-proxy.log");
    let mut command = Command::new(litellm_command(&options.python));
    command.args(["--config"]).arg(config).args([
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]);
    let mut child = spawn(&mut command, &log, "the LiteLLM proxy")?;
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

/// Runs the driver; returns its records.
async fn run_driver(
    options: &LabOptions,
    system: System,
    schedule: &Path,
    config: &serde_json::Value,
    span: Duration,
) -> Result<Vec<RealRecord>, LabError> {
    let dir = &options.work_dir;
    let script = dir.join("driver.py");
    write_file(&script, include_str!("driver.py"))?;
    let config_path = dir.join(format!("{}-driver.json", system.name()));
    write_file(&config_path, &config.to_string())?;
    let out = dir.join(format!("{}-records.jsonl", system.name()));
    let log = dir.join(format!("{}-driver.log", system.name()));
    let mut command = Command::new(&options.python);
    command
        .arg(&script)
        .arg(system.driver_mode())
        .arg(schedule)
        .arg(&out)
        .arg(&config_path);
    let mut child = spawn(&mut command, &log, "the lab driver")?;
    let bound = span + options.drain + options.startup_timeout;
    let status = match tokio::time::timeout(bound, child.wait()).await {
        Ok(status) => status.map_err(|error| LabError::Child {
            what: "the lab driver".into(),
            detail: error.to_string(),
        })?,
        Err(_) => {
            stop(child).await;
            return Err(LabError::Child {
                what: "the lab driver".into(),
                detail: format!("did not finish within {bound:?}; {}", log_tail(&log)),
            });
        }
    };
    if !status.success() {
        return Err(LabError::Child {
            what: "the lab driver".into(),
            detail: format!("failed ({status}); {}", log_tail(&log)),
        });
    }
    let text = std::fs::read_to_string(&out).map_err(|error| LabError::io(&out, error))?;
    text.lines()
        .map(|line| {
            serde_json::from_str(line).map_err(|error| LabError::Child {
                what: "the lab driver".into(),
                detail: format!("unreadable record {line:?}: {error}"),
            })
        })
        .collect()
}

/// Runs strategy `strategy` of `scenario` on the real `system`: the mock fleet, the system,
/// the schedule. The scenario's fleet must fix completion lengths (LiteLLM drops
/// `x-mock-completion-tokens`, so the mock would otherwise draw them).
pub async fn run_real(
    scenario: &Scenario,
    strategy: usize,
    system: System,
    options: &LabOptions,
) -> Result<RealRun, LabError> {
    let resolved = scenario
        .strategies
        .get(strategy)
        .ok_or_else(|| LabError::Setup(format!("no strategy number {strategy}")))?;
    if !system.checks(resolved.config.preset) {
        return Err(LabError::Setup(format!(
            "{} cannot stand for strategy {:?}",
            system.name(),
            resolved.config.name
        )));
    }
    if system == System::OpenaiSdk && scenario.pool.len() != 1 {
        return Err(LabError::Setup(
            "the openai-sdk system calls one deployment: give a scenario with one backend".into(),
        ));
    }
    require(&options.python, system.python_modules()).await?;
    std::fs::create_dir_all(&options.work_dir)
        .map_err(|error| LabError::io(&options.work_dir, error))?;
    let workload = scenario
        .workload()
        .map_err(|error| LabError::Setup(error.to_string()))?;
    let model = workload
        .deployments()
        .first()
        .map(|name| name.to_string())
        .ok_or_else(|| LabError::Setup("the workload names no deployment".into()))?;
    let schedule = options.work_dir.join("schedule.jsonl");
    let mut file = std::fs::File::create(&schedule).map_err(|e| LabError::io(&schedule, e))?;
    write_schedule(&workload, &mut file).map_err(|error| LabError::Setup(error.to_string()))?;
    drop(file);
    let span = scenario
        .duration(&workload)
        .map_err(|error| LabError::Setup(error.to_string()))?;

    let (fleet, resource_urls) = start_fleet(scenario.fleet()).await?;
    let urls: Vec<String> = scenario
        .pool
        .iter()
        .map(|backend| resource_urls[backend.resource].clone())
        .collect();
    let client_retries = scenario.file.client.retry.max_retries;
    let mut proxy = None;
    let driver_config = match system {
        System::LitellmProxy | System::LitellmRouter => {
            let named: Vec<(String, String)> = scenario
                .pool
                .iter()
                .zip(&urls)
                .map(|(backend, url)| (backend.name.clone(), url.clone()))
                .collect();
            let config = lab_config(resolved, &model, &named)?;
            let path = options
                .work_dir
                .join(format!("{}-config.yaml", system.name()));
            write_file(
                &path,
                &serde_json::to_string_pretty(&config).unwrap_or_default(),
            )?;
            if system == System::LitellmProxy {
                let port = free_port()?;
                proxy = Some(start_proxy(options, &path, port).await?);
                json!({
                    "endpoint": format!("http://127.0.0.1:{port}"),
                    "api_key": MASTER_KEY,
                    "api_version": API_VERSION,
                    "max_retries": client_retries,
                    "exhausted_marker": "No deployments available",
                    "deadline_s": options.drain.as_secs_f64(),
                })
            } else {
                json!({ "litellm_config": path, "deadline_s": options.drain.as_secs_f64() })
            }
        }
        System::PriorityLb => json!({
            "endpoint": urls[0],
            "api_version": API_VERSION,
            "max_retries": client_retries,
            "backends": scenario.pool.iter().map(|backend| json!({
                "host": fleet.listeners[backend.resource].addr.ip().to_string(),
                "priority": backend.spec.priority,
            })).collect::<Vec<_>>(),
            "deadline_s": options.drain.as_secs_f64(),
        }),
        System::OpenaiSdk => json!({
            "endpoint": urls[0],
            "api_version": API_VERSION,
            "max_retries": client_retries,
            "deadline_s": options.drain.as_secs_f64(),
        }),
    };
    let records = run_driver(options, system, &schedule, &driver_config, span).await;
    if let Some(child) = proxy {
        stop(child).await;
    }
    let metrics = fleet.metrics();
    let attempts = scenario
        .pool
        .iter()
        .map(|backend| {
            let requests = metrics
                .get(&backend.name, &model)
                .map_or(0, |deployment| deployment.counters.requests);
            (backend.name.clone(), requests)
        })
        .collect();
    fleet.shutdown().await;
    Ok(RealRun {
        records: records?,
        attempts,
    })
}
