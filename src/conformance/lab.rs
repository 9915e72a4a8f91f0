//! The lab's shell: the mock fleet in-process (each resource on its own loopback address and all
//! on one port, because the priority balancer replaces only a URL's host), the system under test
//! as child processes (the LiteLLM proxy; the Python driver that replays the schedule through
//! the SDK, the Router library or the priority balancer), and the per-backend attempt counts
//! read from the fleet's model counters — exact, whatever gateway stood in between. A system
//! that died or stopped answering during the run gives a verdict (`liveness`), not figures.
//!
//! Every wait is bounded: the proxy must answer its health endpoint within `startup_timeout`
//! (polled, and abandoned as soon as the process exits), the driver must finish within the
//! schedule's span plus `drain` plus `startup_timeout`; children are killed on every exit path.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use aoai_mock::config::FleetConfig;
use aoai_mock::http::RunningFleet;
use serde_json::json;

use super::driver_run::run_driver;
use super::error::LabError;
use super::figures::RealRecord;
use super::litellm_yaml::{API_VERSION, MASTER_KEY, lab_config};
use super::liveness::{RunFacts, Stopped, verdict};
use super::options::{LabOptions, WARMUP_SETTLE};
use super::processes::{free_port, log_tail, start_proxy, stop};
use super::python::require;
use super::schedule::write_schedule;
use super::system::System;
use crate::scenario::Scenario;

/// What a real run produced.
#[derive(Debug, Clone)]
pub struct RealRun {
    /// One record per request of the schedule that was sent.
    pub records: Vec<RealRecord>,
    /// Requests each pool backend received (scenario order), from the mock's counters.
    pub attempts: Vec<(String, u64)>,
    /// Set when the system died or stopped answering: the figures are then about that, not
    /// about the balancer.
    pub stopped: Option<Stopped>,
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
    if options.kill_system_after.is_some() && system != System::LitellmProxy {
        return Err(LabError::Setup(format!(
            "killing the system mid-run needs one with a process of its own (litellm-proxy), not {}",
            system.name()
        )));
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
    let intended: Vec<f64> = workload
        .requests()
        .map(|request| request.map(|request| request.at.as_secs_f64()))
        .collect::<Result<_, _>>()
        .map_err(|error| LabError::Setup(error.to_string()))?;
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
    let mut driver_config = match system {
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
    driver_config["warmup"] = json!({
        "rounds": options.warmup_rounds,
        "requests": 2 * scenario.pool.len(),
        "settle_s": WARMUP_SETTLE.as_secs_f64(),
    });
    let config_path = options
        .work_dir
        .join(format!("{}-driver.json", system.name()));
    write_file(&config_path, &driver_config.to_string())?;
    let counts = || -> Vec<u64> {
        let metrics = fleet.metrics();
        scenario
            .pool
            .iter()
            .map(|backend| {
                metrics
                    .get(&backend.name, &model)
                    .map_or(0, |deployment| deployment.counters.requests)
            })
            .collect()
    };
    let mut warm = vec![0; scenario.pool.len()];
    let mut on_warmed = || warm = counts();
    let driven = run_driver(
        options,
        system,
        &schedule,
        &config_path,
        span + WARMUP_SETTLE,
        proxy.as_mut(),
        &mut on_warmed,
    )
    .await;
    if let Some(child) = proxy {
        stop(child).await;
    }
    let attempts = scenario
        .pool
        .iter()
        .zip(counts().into_iter().zip(&warm))
        .map(|(backend, (end, warm))| (backend.name.clone(), end.saturating_sub(*warm)))
        .collect();
    fleet.shutdown().await;
    let driven = driven?;
    let out = options
        .work_dir
        .join(format!("{}-records.jsonl", system.name()));
    write_records(&out, &driven.records)?;
    let system_log = match system {
        System::LitellmProxy => options.work_dir.join("litellm-proxy.log"),
        _ => driven.log.clone(),
    };
    let facts = RunFacts {
        system: system.name(),
        records: &driven.records,
        schedule: &intended,
        exited: driven.system_exit.as_deref(),
    };
    let stopped = verdict(facts, || log_tail(&system_log));
    Ok(RealRun {
        records: driven.records,
        attempts,
        stopped,
    })
}

/// The driver's records, one JSON line each, in schedule order.
fn write_records(path: &Path, records: &[RealRecord]) -> Result<(), LabError> {
    let mut text = Vec::new();
    for record in records {
        let line = serde_json::to_string(record).map_err(|e| LabError::Setup(e.to_string()))?;
        let _ = writeln!(text, "{line}");
    }
    std::fs::write(path, text).map_err(|error| LabError::io(path, error))
}
