//! The live gateway: an HTTP/1.1 proxy that speaks the AOAI API and balances over the
//! scenario's pool with the same `src/balance` strategy code the simulator runs (K instances
//! per strategy, breakers, gateway retries, exhaustion answers, attempt timeout), relaying
//! responses — SSE streams included — frame by frame, or as the strategy's balancer shows them
//! to its client (renamed retry headers, streams read whole first: `client_view`).
//!
//! Owns: the listener and connection tasks, the per-request driver loop ([`proxy`]), the
//! strategy instances behind short std-mutex locks ([`instances`]), the bounds on what its
//! clients control (head and body timeouts, the largest body, a body budget across all
//! connections: [`aoai_mock::http::limits`]) and the answers it gives without a backend
//! ([`answers`]). Decides nothing about balancing itself: every choice is the strategy's, and a
//! client-side fault never reaches it.

mod answers;
mod client_view;
mod forward;
mod hop_by_hop;
mod instances;
mod proxy;
mod relay;
mod request_info;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aoai_mock::http::limits::{BodyBudget, Limits};
use aoai_mock::http::sockets::{self, ConnectionCounters, Listening};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::Uri;
use hyper::service::service_fn;
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
    /// Largest request body the gateway reads; above it, 413 from the gateway itself. By
    /// default the fleet's own limit, so no body a backend would refuse is sent to one.
    pub max_body_bytes: u64,
    /// Head and body timeouts and the body budget.
    pub limits: Limits,
}

/// Check that `url` is a base URL the gateway can send to: `http://HOST:PORT`, no path.
fn check_base(name: &str, url: &str) -> Result<(), LiveError> {
    let fail = |why: &str| {
        Err(LiveError::invalid(
            "backends",
            format!("{name}={url}: {why} (expected http://HOST:PORT)"),
        ))
    };
    let Ok(uri) = url.parse::<Uri>() else {
        return fail("not a URL");
    };
    if uri.scheme_str() != Some("http") {
        return fail("only http:// is supported");
    }
    if uri.authority().is_none() {
        return fail("no host");
    }
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return fail("a base URL has no path or query");
    }
    Ok(())
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
        let upstreams = scenario
            .pool
            .iter()
            .zip(urls)
            .map(|(backend, url)| {
                let base = url.trim_end_matches('/').to_string();
                check_base(&backend.name, &base)?;
                Ok(Upstream {
                    name: backend.name.clone(),
                    base,
                })
            })
            .collect::<Result<_, LiveError>>()?;
        Ok(GatewaySettings {
            strategy,
            upstreams,
            attempt_timeout: scenario.file.gateway.attempt_timeout,
            seed: scenario.file.seed,
            listen,
            // Each client connection may hold one backend connection too.
            max_connections: sockets::connection_budget(2),
            max_body_bytes: scenario.fleet().max_body_bytes,
            limits: Limits::default(),
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
    /// Largest request body read.
    pub max_body_bytes: u64,
    /// Head and body timeouts, body budget.
    pub limits: Limits,
    /// Request body bytes held across all connections.
    pub budget: Arc<BodyBudget>,
    /// Connections closed on arrival because `max_connections` were open; tasks that panicked.
    pub counters: Arc<ConnectionCounters>,
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
        let socket = TcpListener::bind(settings.listen).await.map_err(|error| {
            LiveError::io(
                format!("gateway: cannot listen on {}", settings.listen),
                error,
            )
        })?;
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
            max_body_bytes: settings.max_body_bytes,
            limits: settings.limits,
            budget: BodyBudget::new(settings.limits.body_budget),
            counters: Arc::new(ConnectionCounters::default()),
        });
        let (shutdown, watcher) = watch::channel(false);
        let listening = Listening {
            max_connections: settings.max_connections.unwrap_or(usize::MAX),
            counters: shared.counters.clone(),
            shutdown: watcher,
            header_timeout: settings.limits.header_timeout,
        };
        let serving = shared.clone();
        let service = service_fn(move |request| proxy::handle(serving.clone(), request));
        let accept_loop = listening.spawn(socket, service);
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
        self.shared.counters.refused.load(Ordering::Relaxed)
    }

    /// Connection tasks that ended in a panic so far (each lost its own connection only).
    pub fn panicked_connections(&self) -> u64 {
        self.shared.counters.panicked.load(Ordering::Relaxed)
    }

    /// Request body bytes held now (what the body budget counts).
    pub fn body_bytes_in_flight(&self) -> u64 {
        self.shared.budget.in_use()
    }

    /// The body budget itself, to wait on a change of what it holds ([`BodyBudget::until`]).
    pub fn body_budget(&self) -> &BodyBudget {
        &self.shared.budget
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
