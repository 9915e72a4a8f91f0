//! An in-process mock fleet for a live run: the scenario's fleet on loopback, every resource on
//! a free port, its clock compressed by the time scale; the pool's URLs in pool order; and a
//! sampler that reads the PTU deployments' utilization once per scenario second (what the
//! simulator samples).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aoai_mock::http::RunningFleet;
use tokio::task::JoinHandle;

use super::clock::LiveClock;
use super::error::LiveError;
use crate::metrics::BackendIndex;
use crate::scenario::Scenario;

/// A utilization reading: (scenario time, pool backend, percent).
pub type UtilizationSample = (Duration, BackendIndex, f64);

/// A running in-process fleet.
pub struct LiveFleet {
    /// The mock servers.
    pub running: Arc<RunningFleet>,
    /// Base URL per pool backend, in pool order.
    pub pool_urls: Vec<String>,
}

impl LiveFleet {
    /// Start `scenario`'s fleet on 127.0.0.1, ports chosen by the OS, `time_scale` times faster
    /// than the wall clock.
    pub async fn start(scenario: &Scenario, time_scale: f64) -> Result<LiveFleet, LiveError> {
        let mut config = scenario.fleet().clone();
        config.bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
        for resource in &mut config.resources {
            resource.bind = None;
            resource.port = 0;
        }
        let running = RunningFleet::start_scaled(&config, time_scale)
            .await
            .map_err(|error| LiveError::io("mock fleet: bind", error))?;
        let pool_urls = scenario
            .pool
            .iter()
            .map(|backend| {
                running
                    .listener(&backend.name)
                    .map(|listener| listener.url())
                    .ok_or_else(|| {
                        LiveError::invalid("backends", format!("{} has no listener", backend.name))
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(LiveFleet {
            running: Arc::new(running),
            pool_urls,
        })
    }

    /// The clock the fleet runs on (share it with the gateway and the load engine).
    pub fn clock(&self) -> LiveClock {
        LiveClock::sharing(self.running.clock())
    }

    /// Sample the utilization of the pool's PTU deployments every scenario second until the
    /// returned handle is stopped; readings collect in the returned vector.
    pub fn sample_utilization(&self, scenario: &Scenario) -> UtilizationSampler {
        let deployment = scenario
            .file
            .workload
            .apps
            .first()
            .map(|app| app.deployment.clone())
            .or_else(|| {
                scenario
                    .file
                    .workload
                    .trace
                    .as_ref()
                    .map(|t| t.deployment.clone())
            });
        let targets: Vec<(BackendIndex, String)> = scenario
            .pool
            .iter()
            .enumerate()
            .filter(|(_, backend)| backend.provisioned_ptus > 0)
            .map(|(index, backend)| (index as BackendIndex, backend.name.clone()))
            .collect();
        let samples = Arc::new(Mutex::new(Vec::new()));
        let task = match deployment.filter(|_| !targets.is_empty()) {
            None => None,
            Some(deployment) => {
                let running = self.running.clone();
                let clock = self.clock();
                let sink = samples.clone();
                Some(tokio::spawn(async move {
                    let mut at = Duration::ZERO;
                    loop {
                        clock.sleep_until(at).await;
                        let metrics = running.metrics();
                        let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
                        for (backend, resource) in &targets {
                            if let Some(utilization) = metrics
                                .get(resource, &deployment)
                                .and_then(|d| d.utilization)
                            {
                                sink.push((at, *backend, utilization * 100.0));
                            }
                        }
                        drop(sink);
                        at += Duration::from_secs(1);
                    }
                }))
            }
        };
        UtilizationSampler { task, samples }
    }

    /// Stop accepting and wait (at most `drain`, wall time) for open responses.
    pub async fn shutdown(self, drain: Duration) {
        if let Ok(running) = Arc::try_unwrap(self.running) {
            let _ = tokio::time::timeout(drain, running.shutdown()).await;
        }
    }
}

/// A running utilization sampler.
pub struct UtilizationSampler {
    task: Option<JoinHandle<()>>,
    samples: Arc<Mutex<Vec<UtilizationSample>>>,
}

impl UtilizationSampler {
    /// Stop sampling; the readings so far.
    pub async fn stop(self) -> Vec<UtilizationSample> {
        if let Some(task) = self.task {
            task.abort();
            let _ = task.await;
        }
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
