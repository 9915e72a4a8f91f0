//! Listeners: bind one port per resource, serve HTTP/1.1 connections with hyper, shut down
//! gracefully (stop accepting, let in-flight responses finish).

use super::clock::Clock;
use super::handler;
use super::sockets;
use super::state::Shared;
use super::tokens;
use crate::config::FleetConfig;
use crate::model::FleetMetrics;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A listener as bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundListener {
    /// Resource name.
    pub resource: String,
    /// Display region.
    pub region: String,
    /// Bound address (the real port when the config said 0).
    pub addr: SocketAddr,
}

impl BoundListener {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A running fleet.
pub struct RunningFleet {
    /// One per resource, in configuration order.
    pub listeners: Vec<BoundListener>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    accept_loops: Vec<JoinHandle<()>>,
    refused: Arc<AtomicU64>,
}

impl RunningFleet {
    /// Build the tokenizers the fleet's models use, bind every listener and start serving.
    /// Returns once all are bound.
    pub async fn start(config: &FleetConfig) -> std::io::Result<RunningFleet> {
        RunningFleet::start_scaled(config, 1.0).await
    }

    /// [`RunningFleet::start`] with a clock `time_scale` times faster than the wall clock:
    /// quotas, latencies and fault windows all play out in compressed scenario time.
    pub async fn start_scaled(
        config: &FleetConfig,
        time_scale: f64,
    ) -> std::io::Result<RunningFleet> {
        let mut shared = Shared::new(config, Clock::scaled(time_scale));
        let encodings = shared.encodings_in_use(config);
        tokio::task::spawn_blocking(move || tokens::warm_up(&encodings))
            .await
            .map_err(std::io::Error::other)?;
        // Time zero is once the fleet can answer: a live run's schedule shares this clock, and
        // a zero taken before the tokenizers were built made its first sends late by the build
        // (0.2 s on a quiet machine, seconds on a starved one).
        shared.clock = Clock::scaled(time_scale);
        let shared = Arc::new(shared);
        let (shutdown, watcher) = watch::channel(false);
        // The listeners share the process's descriptors.
        let max_connections =
            sockets::connection_budget(config.resources.len().max(1) as u64).unwrap_or(usize::MAX);
        let refused = Arc::new(AtomicU64::new(0));
        let mut listeners = Vec::with_capacity(config.resources.len());
        let mut accept_loops = Vec::with_capacity(config.resources.len());
        for (index, resource) in config.resources.iter().enumerate() {
            let socket = TcpListener::bind((config.bind, resource.port)).await?;
            listeners.push(BoundListener {
                resource: resource.name.clone(),
                region: resource.region.clone(),
                addr: socket.local_addr()?,
            });
            let shared = shared.clone();
            let stop = watcher.clone();
            accept_loops.push(tokio::spawn(sockets::accept_connections(
                socket,
                max_connections,
                refused.clone(),
                watcher.clone(),
                move |stream| serve_connection(stream, shared.clone(), index, stop.clone()),
            )));
        }
        Ok(RunningFleet {
            listeners,
            shared,
            shutdown,
            accept_loops,
            refused,
        })
    }

    /// The listener of `resource`.
    pub fn listener(&self, resource: &str) -> Option<&BoundListener> {
        self.listeners.iter().find(|l| l.resource == resource)
    }

    /// The fleet's clock (its zero and time scale), for shells that share its epoch.
    pub fn clock(&self) -> Clock {
        self.shared.clock
    }

    /// Current model metrics.
    pub fn metrics(&self) -> FleetMetrics {
        let now = self.shared.clock.now();
        self.shared.core().fleet.metrics(now)
    }

    /// Client connections closed on arrival so far: the listeners were at their share of
    /// the open-file limit.
    pub fn refused_connections(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Stop accepting, ask open connections to finish their current response, and wait.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for accept_loop in self.accept_loops {
            let _ = accept_loop.await;
        }
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<Shared>,
    index: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    // Boxed per request: hyper keeps a box the size of the service's future for the whole life
    // of the connection, and `handle`'s future is ~4 KB. Boxed here, the connection keeps a
    // pointer and the 4 KB are freed when the response head is ready (a held stream no longer
    // pays for them; see BENCHMARKS.md, memory with 10,000 open streams).
    let service =
        service_fn(move |request| Box::pin(handler::handle(shared.clone(), index, request)));
    let connection = super::sockets::http1_server().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}
