//! State shared by every connection of every listener: the fleet and the id stream behind one
//! short-held mutex (never held across an await), the clock, and per-listener facts.

use super::clock::Clock;
use super::limits::{BodyBudget, Limits};
use crate::config::FleetConfig;
use crate::model::{Completion, Encoding, Fleet, ResourceId, Ticket};
use crate::seed::SimRng;
use hyper::header::HeaderValue;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What is mutated per request.
pub struct Core {
    /// The model.
    pub fleet: Fleet,
    /// `http:ids` stream: request ids, completion ids, generated words.
    pub ids: SimRng,
}

/// Shell-level refusals (before the model sees the request), per listener.
#[derive(Default)]
pub struct ShellCounters {
    /// 401s.
    pub unauthorized: AtomicU64,
    /// 400s for bodies (malformed, missing or invalid properties).
    pub bad_bodies: AtomicU64,
    /// 404s for unknown paths or a missing api-version.
    pub unknown_paths: AtomicU64,
    /// 405s.
    pub wrong_methods: AtomicU64,
    /// 413s.
    pub too_large: AtomicU64,
    /// 408s: a body not all there within the body timeout.
    pub timed_out: AtomicU64,
    /// 503s: no room in the body budget.
    pub over_budget: AtomicU64,
}

impl ShellCounters {
    /// Add one.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// One listener (resource).
pub struct Listener {
    /// Model index of the resource.
    pub resource: ResourceId,
    /// Resource name.
    pub name: String,
    /// `x-ms-region`.
    pub region: HeaderValue,
    /// Accepted keys (empty = any).
    pub api_keys: Vec<String>,
    /// `azureml-model-session`.
    pub model_session: HeaderValue,
    /// Refusals before the model.
    pub counters: ShellCounters,
}

/// Everything the handlers share.
pub struct Shared {
    core: Mutex<Core>,
    /// Time since start.
    pub clock: Clock,
    /// Per resource, in configuration order.
    pub listeners: Vec<Listener>,
    /// 413 above this.
    pub max_body_bytes: u64,
    /// Head and body timeouts, body budget.
    pub limits: Limits,
    /// Request body bytes held by every connection of every listener.
    pub budget: std::sync::Arc<BodyBudget>,
    /// One permit: large prompts are tokenized one at a time.
    pub tokenizing: tokio::sync::Semaphore,
    /// Fleet-wide `client_request_id_fallback` is `not_set` (for answers no deployment decided).
    pub client_id_not_set: bool,
}

impl Shared {
    /// Shared state for `config` (listeners in configuration order), timed by `clock`, bounded
    /// by `limits`.
    pub fn new(config: &FleetConfig, clock: Clock, limits: Limits) -> Shared {
        let fleet = Fleet::new(config);
        let listeners = config
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| Listener {
                resource: ResourceId(i),
                name: r.name.clone(),
                region: HeaderValue::from_str(&r.region)
                    .unwrap_or(HeaderValue::from_static("Unknown")),
                api_keys: r.api_keys.clone(),
                model_session: HeaderValue::from_str(&format!(
                    "v20250319-1-{:09}",
                    super::ids::stable_tag(&r.name) % 1_000_000_000
                ))
                .unwrap_or(HeaderValue::from_static("v20250319-1-000000000")),
                counters: ShellCounters::default(),
            })
            .collect();
        Shared {
            core: Mutex::new(Core {
                fleet,
                ids: crate::seed::stream(config.seed, "http:ids"),
            }),
            clock,
            listeners,
            max_body_bytes: config.max_body_bytes,
            limits,
            budget: BodyBudget::new(limits.body_budget),
            tokenizing: tokio::sync::Semaphore::new(1),
            client_id_not_set: config.switches.client_request_id_fallback
                == crate::config::ClientRequestIdFallback::NotSet,
        }
    }

    /// The tokenizer encodings of every deployment in `config` (the fleet built from it), each
    /// once, in first-use order.
    pub fn encodings_in_use(&self, config: &FleetConfig) -> Vec<Encoding> {
        let core = self.core();
        let mut encodings = Vec::new();
        for (index, resource) in config.resources.iter().enumerate() {
            for deployment in &resource.deployments {
                let Some(id) = core
                    .fleet
                    .deployment_index(ResourceId(index), &deployment.name)
                else {
                    continue;
                };
                let encoding = core.fleet.deployment(id).encoding;
                if !encodings.contains(&encoding) {
                    encodings.push(encoding);
                }
            }
        }
        encodings
    }

    /// Lock the core (a poisoned lock is taken over: the model keeps no invariant across a panic
    /// that a later request could break further).
    pub fn core(&self) -> MutexGuard<'_, Core> {
        self.core
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Settles a ticket exactly once: explicitly when the response ends, or as aborted when dropped
/// early (client gone, connection cut, server shutting down).
pub struct Settlement {
    shared: std::sync::Arc<Shared>,
    ticket: Ticket,
    /// Completion tokens sent so far.
    pub tokens_sent: u32,
    settled: bool,
}

impl Settlement {
    /// Track `ticket`.
    pub fn new(shared: std::sync::Arc<Shared>, ticket: Ticket) -> Settlement {
        Settlement {
            shared,
            ticket,
            tokens_sent: 0,
            settled: false,
        }
    }

    /// The response ended normally.
    pub fn completed(mut self, completion_tokens: u32) {
        self.settle(Completion::Completed { completion_tokens });
    }

    fn settle(&mut self, completion: Completion) {
        if !self.settled {
            self.settled = true;
            let now = self.shared.clock.now();
            self.shared
                .core()
                .fleet
                .complete(now, &self.ticket, completion);
        }
    }
}

impl Drop for Settlement {
    fn drop(&mut self) {
        let tokens_sent = self.tokens_sent;
        self.settle(Completion::Aborted { tokens_sent });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(toml: &str) -> (Shared, FleetConfig) {
        let config = FleetConfig::from_toml_str(toml, "test.toml").unwrap();
        (
            Shared::new(&config, Clock::start(), Limits::default()),
            config,
        )
    }

    #[test]
    fn only_the_encodings_of_configured_models_are_in_use() {
        let (state, config) = shared(
            r#"
            [[resources]]
            name = "a"
            region = "East US"
            [[resources.deployments]]
            name = "x"
            model = "gpt-4o"
            kind = "standard"
            tpm = 1000
            [[resources.deployments]]
            name = "y"
            model = "gpt-4o-mini"
            kind = "standard"
            tpm = 1000
            "#,
        );
        assert_eq!(state.encodings_in_use(&config), vec![Encoding::O200kBase]);
        let (state, config) = shared(
            r#"
            [[resources]]
            name = "a"
            region = "East US"
            [[resources.deployments]]
            name = "old"
            model = "gpt-35-turbo"
            kind = "standard"
            tpm = 1000
            [[resources]]
            name = "b"
            region = "West US"
            [[resources.deployments]]
            name = "new"
            model = "gpt-4o"
            kind = "standard"
            tpm = 1000
            "#,
        );
        assert_eq!(
            state.encodings_in_use(&config),
            vec![Encoding::Cl100kBase, Encoding::O200kBase]
        );
    }
}
