//! Shared helpers for the balance tests: backend lists, a seeded RNG, and a tiny driver that
//! runs one request through a strategy's loop against a scripted backend.
#![allow(dead_code)]

use std::time::Duration;

use throttlebox::balance::{
    BackendId, BackendSpec, Completion, Exhausted, Observation, Preset, RequestInfo, Step,
    Strategy, StrategyConfig, Verdict,
};
use throttlebox::seed::{self, SimRng};

/// Seconds as a Duration.
pub fn secs(value: f64) -> Duration {
    Duration::from_secs_f64(value)
}

/// A fixed test RNG.
pub fn rng() -> SimRng {
    seed::stream(42, "balance-test")
}

/// Backends named b0.. with these priorities, weight 1.
pub fn with_priorities(priorities: &[u32]) -> Vec<BackendSpec> {
    priorities
        .iter()
        .enumerate()
        .map(|(i, p)| BackendSpec::named(format!("b{i}")).with_priority(*p))
        .collect()
}

/// `n` plain backends.
pub fn plain(n: usize) -> Vec<BackendSpec> {
    with_priorities(&vec![1; n])
}

/// A strategy of `preset` over `backends`.
pub fn preset(preset: Preset, backends: &[BackendSpec]) -> Strategy {
    Strategy::new(&StrategyConfig::preset(preset.name(), preset), backends).expect("preset builds")
}

/// A strategy from a TOML `[[strategies]]` body.
pub fn from_toml(text: &str, backends: &[BackendSpec]) -> Strategy {
    let cfg: StrategyConfig = toml::from_str(text).expect("config parses");
    Strategy::new(&cfg, backends).expect("strategy builds")
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// A backend response was returned to the client.
    Returned { backend: BackendId, status: u16 },
    /// The gateway answered by itself.
    Exhausted(Exhausted),
}

/// One request's path.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Backends in the order they were tried.
    pub tried: Vec<BackendId>,
    /// How it ended.
    pub end: End,
    /// When it ended.
    pub ended_at: Duration,
}

impl Run {
    /// The backend that answered, if one did.
    pub fn backend(&self) -> Option<BackendId> {
        match self.end {
            End::Returned { backend, .. } => Some(backend),
            End::Exhausted(_) => None,
        }
    }

    /// The gateway's own answer, if it gave one.
    pub fn exhausted(&self) -> Option<Exhausted> {
        match self.end {
            End::Exhausted(answer) => Some(answer),
            End::Returned { .. } => None,
        }
    }
}

/// Runs one request at `now`; `respond(backend, now)` scripts each backend's answer, which
/// arrives instantly. Waits (`WaitUntil`) advance time.
pub fn run_with(
    strategy: &mut Strategy,
    now: Duration,
    rng: &mut SimRng,
    info: RequestInfo,
    mut respond: impl FnMut(BackendId, Duration) -> Observation,
) -> Run {
    let mut now = now;
    let mut attempt = strategy.begin(now, &info);
    let mut tried = Vec::new();
    for _ in 0..1000 {
        match strategy.next(now, &mut attempt, rng) {
            Step::Send(backend) => {
                tried.push(backend);
                let observation = respond(backend, now);
                match strategy.on_response(now, &mut attempt, backend, &observation, rng) {
                    Verdict::Retry => continue,
                    Verdict::Return => {
                        let completion = Completion::without_body(Duration::from_millis(100));
                        strategy.on_complete(now, backend, &completion);
                        let status = observation.status.code().unwrap_or(0);
                        return Run {
                            tried,
                            end: End::Returned { backend, status },
                            ended_at: now,
                        };
                    }
                }
            }
            Step::WaitUntil(t) => {
                assert!(t > now, "WaitUntil must move time forward");
                now = t;
            }
            Step::Respond(answer) => {
                return Run {
                    tried,
                    end: End::Exhausted(answer),
                    ended_at: now,
                };
            }
        }
    }
    panic!("driver loop did not end within 1000 steps");
}

/// Runs one plain request (no tokens, no session).
pub fn run(
    strategy: &mut Strategy,
    now: Duration,
    rng: &mut SimRng,
    respond: impl FnMut(BackendId, Duration) -> Observation,
) -> Run {
    run_with(strategy, now, rng, RequestInfo::default(), respond)
}

/// Every backend answers 200.
pub fn ok(_: BackendId, _: Duration) -> Observation {
    Observation::http(200)
}
