//! Listeners: bind one address and port per resource (the data path; resources on their own
//! address with port 0 share one port) and, when asked, the admin listener;
//! serve HTTP/1.1 connections with hyper under the [`Limits`]; shut down gracefully (stop
//! accepting, let in-flight responses finish).

use super::admin_listener::{self, AdminOptions};
use super::clock::Clock;
use super::handler;
use super::limits::{BodyBudget, Limits};
use super::sockets::{self, ConnectionCounters, Listening};
use super::state::Shared;
use super::tokens;
use crate::config::FleetConfig;
use crate::model::FleetMetrics;
use hyper::service::service_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
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

/// How a fleet is served, beyond its file.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeOptions {
    /// The fleet's clock runs this many times faster than the wall clock.
    pub time_scale: f64,
    /// What clients may make the listeners hold, and for how long.
    pub limits: Limits,
    /// The admin listener (`/metrics`, `/admin/config`); None: not served.
    pub admin: Option<AdminOptions>,
}

impl Default for ServeOptions {
    /// Real time, default limits, no admin listener.
    fn default() -> Self {
        ServeOptions {
            time_scale: 1.0,
            limits: Limits::default(),
            admin: None,
        }
    }
}

/// A running fleet.
pub struct RunningFleet {
    /// One per resource, in configuration order.
    pub listeners: Vec<BoundListener>,
    /// The admin listener's address, when one is served.
    pub admin: Option<SocketAddr>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    accept_loops: Vec<JoinHandle<()>>,
    counters: Arc<ConnectionCounters>,
}

/// How many free ports to try for resources that share one (each on its own address).
const SHARED_PORT_TRIES: usize = 8;

/// Bind every resource's listener, in configuration order. Resources on their own address
/// with port 0 share the first one's free port; when that port is taken on a later address,
/// everything bound so far is released and another free port is tried.
async fn bind_resources(config: &FleetConfig) -> std::io::Result<Vec<TcpListener>> {
    let mut last_error = None;
    for _ in 0..SHARED_PORT_TRIES {
        let mut sockets = Vec::with_capacity(config.resources.len());
        let mut shared_port = None;
        let mut port_taken = false;
        for resource in &config.resources {
            let sharing = resource.bind.is_some() && resource.port == 0;
            let port = if sharing {
                shared_port.unwrap_or(0)
            } else {
                resource.port
            };
            let addr = SocketAddr::new(resource.addr(config.bind), port);
            match bind(addr, &format!("resource {}", resource.name)).await {
                Ok(socket) => {
                    if sharing && shared_port.is_none() {
                        shared_port = Some(socket.local_addr()?.port());
                    }
                    sockets.push(socket);
                }
                Err(error)
                    if sharing && port != 0 && error.kind() == std::io::ErrorKind::AddrInUse =>
                {
                    last_error = Some(error);
                    port_taken = true;
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        if !port_taken {
            return Ok(sockets);
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no shared port found")))
}

/// Bind `addr` for `what`; the error names both.
async fn bind(addr: SocketAddr, what: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("{what}: cannot listen on {addr}: {error}"),
        )
    })
}

impl RunningFleet {
    /// Build the tokenizers the fleet's models use, bind every listener and start serving.
    /// Returns once all are bound.
    pub async fn start(config: &FleetConfig) -> std::io::Result<RunningFleet> {
        RunningFleet::start_with(config, &ServeOptions::default()).await
    }

    /// [`RunningFleet::start`] with a clock `time_scale` times faster than the wall clock:
    /// quotas, latencies and fault windows all play out in compressed scenario time.
    pub async fn start_scaled(
        config: &FleetConfig,
        time_scale: f64,
    ) -> std::io::Result<RunningFleet> {
        let options = ServeOptions {
            time_scale,
            ..ServeOptions::default()
        };
        RunningFleet::start_with(config, &options).await
    }

    /// [`RunningFleet::start`] with every serving option.
    pub async fn start_with(
        config: &FleetConfig,
        options: &ServeOptions,
    ) -> std::io::Result<RunningFleet> {
        if let Some(admin) = &options.admin {
            admin.check().map_err(std::io::Error::other)?;
        }
        let limits = options.limits;
        let mut shared = Shared::new(config, Clock::scaled(options.time_scale), limits);
        let encodings = shared.encodings_in_use(config);
        tokio::task::spawn_blocking(move || tokens::warm_up(&encodings))
            .await
            .map_err(std::io::Error::other)?;
        // Time zero is once the fleet can answer: a live run's schedule shares this clock, and
        // a zero taken before the tokenizers were built made its first sends late by the build
        // (0.2 s on a quiet machine, seconds on a starved one).
        shared.clock = Clock::scaled(options.time_scale);
        let shared = Arc::new(shared);
        let (shutdown, watcher) = watch::channel(false);
        // The listeners share the process's descriptors.
        let max_connections =
            sockets::connection_budget(config.resources.len().max(1) as u64).unwrap_or(usize::MAX);
        let counters = Arc::new(ConnectionCounters::default());
        let listening = Listening {
            max_connections,
            counters: counters.clone(),
            shutdown: watcher,
            header_timeout: limits.header_timeout,
        };
        let mut listeners = Vec::with_capacity(config.resources.len());
        let mut accept_loops = Vec::with_capacity(config.resources.len() + 1);
        let sockets = bind_resources(config).await?;
        for (index, (resource, socket)) in config.resources.iter().zip(sockets).enumerate() {
            listeners.push(BoundListener {
                resource: resource.name.clone(),
                region: resource.region.clone(),
                addr: socket.local_addr()?,
            });
            // Each response's future is boxed and its body flushed before a cut, by the
            // sockets' `serve_connection` (`Flushing`).
            let shared = shared.clone();
            let service =
                service_fn(move |request| handler::handle(shared.clone(), index, request));
            accept_loops.push(listening.spawn(socket, service));
        }
        let admin = match &options.admin {
            None => None,
            Some(admin) => {
                let socket = bind(admin.listen, "admin listener").await?;
                let addr = socket.local_addr()?;
                let shared = shared.clone();
                let token: Option<Arc<str>> = admin.token.as_deref().map(Arc::from);
                let service = service_fn(move |request| {
                    admin_listener::handle(shared.clone(), token.clone(), request)
                });
                accept_loops.push(listening.spawn(socket, service));
                Some(addr)
            }
        };
        Ok(RunningFleet {
            listeners,
            admin,
            shared,
            shutdown,
            accept_loops,
            counters,
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
        self.counters.refused.load(Ordering::Relaxed)
    }

    /// Connection tasks that ended in a panic so far (each lost its own connection only).
    pub fn panicked_connections(&self) -> u64 {
        self.counters.panicked.load(Ordering::Relaxed)
    }

    /// Request body bytes the listeners hold now (what the body budget counts).
    pub fn body_bytes_in_flight(&self) -> u64 {
        self.shared.budget.in_use()
    }

    /// The body budget itself, to wait on a change of what it holds ([`BodyBudget::until`]).
    pub fn body_budget(&self) -> &BodyBudget {
        &self.shared.budget
    }

    /// Stop accepting, ask open connections to finish their current response, and wait.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for accept_loop in self.accept_loops {
            let _ = accept_loop.await;
        }
    }
}
