//! K gateway instances of one strategy, each its own [`Strategy`] value and balance RNG behind
//! a std mutex locked only for one pick or one observation (never across an await), the seeded
//! stream that picks an instance per request (as the simulator does), and the breaker timeline
//! of instance 0 (the one the reports show, as in the simulator).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::Rng;

use crate::balance::{Phase, Strategy};
use crate::metrics::BackendIndex;
use crate::scenario::ResolvedStrategy;
use crate::seed::{SimRng, streams};

/// A breaker transition of instance 0, in pool order and scenario time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerEvent {
    /// When.
    pub at: Duration,
    /// Pool index of the backend.
    pub backend: BackendIndex,
    /// It now refuses traffic.
    pub open: bool,
    /// Why (the simulator's labels).
    pub reason: &'static str,
}

struct Instance {
    strategy: Strategy,
    rng: SimRng,
}

/// The instances of one strategy.
pub(crate) struct Instances {
    instances: Vec<Mutex<Instance>>,
    pick: Mutex<SimRng>,
    to_pool: Vec<usize>,
    timeline: Mutex<Vec<BreakerEvent>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Instances {
    /// `resolved.config.gateways` fresh instances, drawing from the streams of
    /// [`crate::seed::streams`] (the simulator's).
    pub fn new(resolved: &ResolvedStrategy, seed: u64) -> Instances {
        let instances = (0..resolved.config.gateways.max(1))
            .map(|index| {
                Mutex::new(Instance {
                    strategy: resolved.build(),
                    rng: streams::balance(seed, index as usize),
                })
            })
            .collect();
        Instances {
            instances,
            pick: Mutex::new(streams::gateway_instance(seed)),
            to_pool: resolved.to_pool.clone(),
            timeline: Mutex::new(Vec::new()),
        }
    }

    /// The instance that takes the next request.
    pub fn pick(&self) -> usize {
        match self.instances.len() {
            1 => 0,
            n => lock(&self.pick).random_range(0..n),
        }
    }

    /// Run `f` on instance `index` under its lock, then log its breaker transitions.
    pub fn with<R>(&self, index: usize, f: impl FnOnce(&mut Strategy, &mut SimRng) -> R) -> R {
        let (result, transitions) = {
            let mut guard = lock(&self.instances[index]);
            let instance = &mut *guard;
            let result = f(&mut instance.strategy, &mut instance.rng);
            (result, instance.strategy.drain_transitions())
        };
        if index == 0 && !transitions.is_empty() {
            let mut timeline = lock(&self.timeline);
            timeline.extend(transitions.iter().map(|transition| BreakerEvent {
                at: transition.at,
                backend: self.to_pool[transition.backend] as BackendIndex,
                open: transition.to != Phase::Closed,
                reason: transition.reason.label(),
            }));
        }
        result
    }

    /// The breaker timeline of instance 0 so far.
    pub fn timeline(&self) -> Vec<BreakerEvent> {
        lock(&self.timeline).clone()
    }
}
