//! The live gateway: an HTTP/1.1 proxy that speaks the AOAI API and balances over the
//! scenario's pool with the same `src/balance` strategy code the simulator runs (K instances
//! per strategy, breakers, gateway retries, exhaustion answers, attempt timeout), relaying
//! responses — SSE streams included — frame by frame.
//!
//! Owns: the listener and connection tasks, the per-request driver loop ([`proxy`]), the
//! strategy instances behind short std-mutex locks ([`instances`]). Decides nothing itself:
//! every choice is the strategy's.

mod answers;
mod forward;
mod instances;
mod proxy;
mod relay;
mod request_info;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aoai_mock::http::sockets;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use instances::BreakerEvent;
pub use request_info::request_info;

use super::clock::LiveClock;
use super::error::LiveError;
use super::http_client::{HttpClient, http_client};
use crate::scenario::{ResolvedStrategy, Scenario};
use instances::Instances;

/// Body of every gateway response.
pub(crate) type GatewayBody = BoxBody<Bytes, hyper::Error>;

/// One pool backend as the gateway reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Backend name (the fleet resource's).
    pub name: String,
    /// Base URL, `http://host:port` (no trailing slash).
    pub base: String,
}

/// What a gateway runs.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// The strategy (its `gateways` field is the instance count).
    pub strategy: ResolvedStrategy,
    /// The scenario's pool, in pool order.
    pub upstreams: Vec<Upstream>,
    /// How long to wait for a backend's response headers.
    pub attempt_timeout: Duration,
    /// Scenario seed (the instances' RNG streams derive from it).
    pub seed: u64,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// Most client connections open at once; a connection beyond it is closed as soon as it
    /// is accepted (counted), so the gateway keeps descriptors for its backend connections
    /// instead of running out of both. None: no cap.
    pub max_connections: Option<usize>,
}

impl GatewaySettings {
    /// Strategy `index` of `scenario` over the pool at `urls` (pool order).
    pub fn from_scenario(
        scenario: &Scenario,
        index: usize,
        urls: &[String],
        listen: SocketAddr,
    ) -> Result<GatewaySettings, LiveError> {
        let strategy = scenario.strategies.get(index).cloned().ok_or_else(|| {
            LiveError::invalid("--strategy", format!("no strategy number {index}"))
        })?;
        if urls.len() != scenario.pool.len() {
            return Err(LiveError::invalid(
                "backends",
                format!("{} URLs for a pool of {}", urls.len(), scenario.pool.len()),
            ));
        }
        Ok(GatewaySettings {
            strategy,
            upstreams: scenario
                .pool
                .iter()
                .zip(urls)
                .map(|(backend, url)| Upstream {
                    name: backend.name.clone(),
                    base: url.trim_end_matches('/').to_string(),
                })
                .collect(),
            attempt_timeout: scenario.file.gateway.attempt_timeout,
            seed: scenario.file.seed,
            listen,
            // Each client connection may hold one backend connection too.
            max_connections: sockets::connection_budget(2),
        })
    }
}

/// State every connection shares.
pub(crate) struct GatewayShared {
    pub clock: LiveClock,
    pub instances: Instances,
    pub client: HttpClient,
    pub backends: Vec<Upstream>,
    pub to_pool: Vec<usize>,
    pub attempt_timeout: Duration,
    /// Client connections closed on arrival because `max_connections` were open.
    pub refused_connections: Arc<AtomicU64>,
}

/// A gateway serving on a bound port.
pub struct RunningGateway {
    addr: SocketAddr,
    shared: Arc<GatewayShared>,
    shutdown: watch::Sender<bool>,
    accept_loop: JoinHandle<()>,
}

impl RunningGateway {
    /// Bind `settings.listen` and start serving, timed by `clock`.
    pub async fn start(
        settings: GatewaySettings,
        clock: LiveClock,
    ) -> Result<RunningGateway, LiveError> {
        let socket = TcpListener::bind(settings.listen)
            .await
            .map_err(|error| LiveError::io(format!("gateway: bind {}", settings.listen), error))?;
        let addr = socket
            .local_addr()
            .map_err(|error| LiveError::io("gateway: local address", error))?;
        let shared = Arc::new(GatewayShared {
            clock,
            instances: Instances::new(&settings.strategy, settings.seed),
            client: http_client(None),
            backends: settings.upstreams,
            to_pool: settings.strategy.to_pool.clone(),
            attempt_timeout: settings.attempt_timeout,
            refused_connections: Arc::new(AtomicU64::new(0)),
        });
        let (shutdown, watcher) = watch::channel(false);
        let max_connections = settings.max_connections.unwrap_or(usize::MAX);
        let serving = shared.clone();
        let stop = watcher.clone();
        let accept_loop = tokio::spawn(sockets::accept_connections(
            socket,
            max_connections,
            shared.refused_connections.clone(),
            watcher,
            move |stream| serve_connection(stream, serving.clone(), stop.clone()),
        ));
        Ok(RunningGateway {
            addr,
            shared,
            shutdown,
            accept_loop,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Client connections closed on arrival so far because the cap was reached.
    pub fn refused_connections(&self) -> u64 {
        self.shared.refused_connections.load(Ordering::Relaxed)
    }

    /// Breaker transitions of instance 0 so far (pool order, scenario time).
    pub fn breaker_timeline(&self) -> Vec<BreakerEvent> {
        self.shared.instances.timeline()
    }

    /// Stop accepting, let open responses finish, and wait for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.accept_loop.await;
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    shared: Arc<GatewayShared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = service_fn(move |request| proxy::handle(shared.clone(), request));
    let connection = sockets::http1_server().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
}
