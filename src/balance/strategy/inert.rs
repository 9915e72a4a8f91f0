//! The responses a strategy passes back without touching its state: most responses are
//! successes, and for most strategies a success changes nothing at all (no breaker counts it,
//! no selector reads it, no retry is wanted). `on_response` checks the precomputed set first
//! and runs the general path only for the others; the set is derived kind by kind from what
//! each breaker's `record` acts on, and the tests hold it to the general path. Beside it, the
//! retry the general path takes at once without a draw (APIM's first fast retry) is taken in
//! line.

use std::time::Duration;

use super::{Attempt, Strategy, Verdict};
use crate::balance::breaker::BreakerConfig;
use crate::balance::breaker::apim::ApimRule;
use crate::balance::composition::Composition;
use crate::balance::selector::Selector;
use crate::balance::status_set::StatusSet;
use crate::balance::types::{BackendId, Observation, Status};
use crate::seed::SimRng;

impl Strategy {
    /// Response headers from `backend` arrived at `now`: feeds the breaker and the selector,
    /// then decides whether the gateway retries. In line: a response the general path would
    /// only pass back (see the module doc) costs one set look-up, not a call.
    #[inline]
    pub fn on_response(
        &mut self,
        now: Duration,
        attempt: &mut Attempt,
        backend: BackendId,
        observation: &Observation,
        rng: &mut SimRng,
    ) -> Verdict {
        if self.passes_back(observation.status) {
            return Verdict::Return;
        }
        self.record_response(now, attempt, backend, observation, rng)
    }

    /// Whether [`Self::on_response`] passes a response with `status` back without reading it:
    /// a caller that builds the observation per response (the simulator) can skip building it.
    #[inline]
    pub fn passes_back(&self, status: Status) -> bool {
        self.inert.contains(status)
    }

    /// Whether a retry the policy wants is taken at once, as [`Self::retry_wait`] would take
    /// it: the first one of an APIM pool (`first-fast-retry`: no wait, no draw) with no
    /// deadline to check. The exhausted pool's 503 retries so; in line, it costs no call.
    #[inline(always)]
    pub(super) fn retries_at_once(&self, attempt: &Attempt) -> bool {
        let retry = &self.composition.retry;
        attempt.retries == 0
            && retry.first_fast_retry
            && !retry.litellm_backoff
            && self.composition.deadline.is_none()
    }
}

/// The statuses on which the general path changes nothing and returns the response: a success
/// (the failure-logging rule and the in-flight count only act on failures) that the breaker
/// does not heed, the retry policy does not retry, with a selector that hears no responses and
/// no `require_remaining` (whose refresh may move breaker timers).
pub(super) fn inert_statuses(composition: &Composition, selector: &Selector) -> StatusSet {
    if selector.hears_responses() || composition.retry.require_remaining {
        return StatusSet::EMPTY;
    }
    StatusSet::range(100, 399)
        .minus(heeded(&composition.breaker))
        .minus(composition.retry.on)
}

/// The statuses whose `record` may change a breaker of this kind (or draw from its RNG).
fn heeded(breaker: &BreakerConfig) -> StatusSet {
    let every = StatusSet::range(100, 599).with_transport_errors();
    match breaker {
        BreakerConfig::None => StatusSet::EMPTY,
        BreakerConfig::Apim(rule) => apim_heeded(std::iter::once(rule), every),
        BreakerConfig::ApimPerBackend { rules } => apim_heeded(rules.iter().flatten(), every),
        // Throttle flag: `record` returns at once for a status outside its set.
        BreakerConfig::ThrottleFlag(rule) => rule.statuses,
        // Every response moves these: Envoy sweeps (and may draw) and counts calls and
        // resets the consecutive count, resilience4j and Hystrix add every call to their
        // window, LiteLLM counts requests per minute, Kong may reset `fails` on a success.
        BreakerConfig::Envoy(_)
        | BreakerConfig::Resilience4j(_)
        | BreakerConfig::Hystrix(_)
        | BreakerConfig::Litellm(_)
        | BreakerConfig::Kong(_) => every,
    }
}

/// APIM: `record` stops before any change unless the status is a failure of the backend's
/// rule, or the rule has a `percentage` (which counts every call).
fn apim_heeded<'a>(rules: impl Iterator<Item = &'a ApimRule>, every: StatusSet) -> StatusSet {
    rules.fold(StatusSet::EMPTY, |heeded, rule| match rule.percentage {
        Some(_) => every,
        None => heeded.union(rule.failure_statuses),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::types::{BackendSpec, Completion, RequestInfo, Status};
    use crate::balance::{Preset, Step, StrategyConfig};
    use rand::Rng;

    const STATUSES: [Status; 10] = [
        Status::Http(200),
        Status::Http(201),
        Status::Http(302),
        Status::Http(399),
        Status::Http(429),
        Status::Http(500),
        Status::Http(503),
        Status::Http(404),
        Status::ConnectError,
        Status::Timeout,
    ];

    fn backends() -> Vec<BackendSpec> {
        (0..4)
            .map(|id| BackendSpec::named(format!("b{id}")).with_priority(1 + id as u32 / 2))
            .collect()
    }

    /// Every preset, and the APIM pool with each breaker kind (and APIM rules that count a
    /// success or every call).
    fn strategies() -> Vec<Strategy> {
        let specs = backends();
        let mut out: Vec<Strategy> = Preset::ALL
            .iter()
            .map(|preset| {
                Strategy::new(&StrategyConfig::preset(preset.name(), *preset), &specs)
                    .expect("preset builds")
            })
            .collect();
        let counting_success = ApimRule {
            failure_statuses: StatusSet::codes(&[200, 429]),
            ..ApimRule::default()
        };
        let by_share = ApimRule {
            percentage: Some(50),
            ..ApimRule::default()
        };
        let per_backend = BreakerConfig::ApimPerBackend {
            rules: vec![None, Some(counting_success.clone()), None, None],
        };
        let extra = [
            BreakerConfig::Apim(counting_success),
            BreakerConfig::Apim(by_share),
            per_backend,
        ];
        for breaker in BreakerConfig::kinds().into_iter().chain(extra) {
            let mut composition = Preset::ApimPool.composition(specs.len());
            composition.breaker = breaker;
            out.push(Strategy::from_composition("kind", composition, &specs).expect("builds"));
        }
        out
    }

    /// Drives mixed traffic through each strategy; before every response in the inert set,
    /// the general path on a copy must return it and leave strategy, attempt and RNG as they
    /// were.
    #[test]
    fn an_inert_response_changes_nothing_on_the_general_path() {
        let mut inert_seen = 0;
        for (index, mut strategy) in strategies().into_iter().enumerate() {
            let mut rng = crate::seed::stream(7, "inert");
            let mut now = Duration::from_secs(1);
            for request in 0..300u64 {
                let info = RequestInfo {
                    est_tokens: 100,
                    session: Some(request % 7),
                    stream: request % 2 == 0,
                };
                let mut attempt = strategy.begin(now, &info);
                for _ in 0..50 {
                    match strategy.next(now, &mut attempt, &mut rng) {
                        Step::Send(backend) => {
                            let status = STATUSES[rng.random_range(0..STATUSES.len())];
                            let status = if rng.random::<f64>() < 0.6 {
                                Status::Http(200)
                            } else {
                                status
                            };
                            let observation = Observation::new(status).with_retry_after_secs(2);
                            now += Duration::from_millis(rng.random_range(1..400));
                            if strategy.inert.contains(status) {
                                inert_seen += 1;
                                let (mut copy, mut copy_attempt) =
                                    (strategy.clone(), attempt.clone());
                                let mut copy_rng = rng.clone();
                                let verdict = copy.record_response(
                                    now,
                                    &mut copy_attempt,
                                    backend,
                                    &observation,
                                    &mut copy_rng,
                                );
                                assert_eq!(verdict, Verdict::Return, "strategy {index}");
                                assert_eq!(format!("{copy:?}"), format!("{strategy:?}"));
                                assert_eq!(format!("{copy_attempt:?}"), format!("{attempt:?}"));
                                assert_eq!(format!("{copy_rng:?}"), format!("{rng:?}"));
                            }
                            let verdict = strategy.on_response(
                                now,
                                &mut attempt,
                                backend,
                                &observation,
                                &mut rng,
                            );
                            if verdict == Verdict::Return {
                                let completion =
                                    Completion::without_body(Duration::from_millis(100));
                                strategy.on_complete(now, backend, &completion);
                                break;
                            }
                        }
                        Step::WaitUntil(at) => now = at,
                        Step::Respond(_) => break,
                    }
                }
            }
        }
        assert!(inert_seen > 1_000, "the fast path ran {inert_seen} times");
    }

    /// Wherever the retry is taken in line, the general wait agrees: no wait, one retry more,
    /// no draw.
    #[test]
    fn a_retry_at_once_is_the_general_paths_retry() {
        let mut at_once = 0;
        let mut strategies = strategies();
        let mut with_deadline = Preset::ApimPool.composition(4);
        with_deadline.deadline = Some(Duration::from_secs(5));
        strategies.push(Strategy::from_composition("d", with_deadline, &backends()).expect("ok"));
        for mut strategy in strategies {
            let rng = crate::seed::stream(9, "at-once");
            for retries in 0..3 {
                for started in [0, 4, 5, 9] {
                    let info = RequestInfo {
                        est_tokens: 1,
                        session: None,
                        stream: false,
                    };
                    let mut attempt = strategy.begin(Duration::from_secs(started), &info);
                    attempt.retries = retries;
                    if !strategy.retries_at_once(&attempt) {
                        continue;
                    }
                    at_once += 1;
                    let (mut general, mut general_rng) = (attempt.clone(), rng.clone());
                    let now = Duration::from_secs(7);
                    let wait = strategy.retry_wait(now, &mut general, None, &mut general_rng);
                    assert_eq!(wait, Some(Duration::ZERO), "{}", strategy.name());
                    assert_eq!(general.retries, retries + 1);
                    assert_eq!(format!("{general_rng:?}"), format!("{rng:?}"));
                }
            }
        }
        assert!(at_once >= 4, "the fast path ran {at_once} times");
    }

    #[test]
    fn the_sets_follow_each_kind() {
        let specs = backends();
        let apim_pool = Strategy::new(
            &StrategyConfig::preset("apim-pool", Preset::ApimPool),
            &specs,
        )
        .expect("preset builds");
        assert!(apim_pool.inert.contains(Status::Http(200)));
        assert!(!apim_pool.inert.contains(Status::Http(429)));
        for strategy in strategies() {
            // Never a failure, whatever the kind.
            assert!(!strategy.inert.contains(Status::Http(400)));
            assert!(!strategy.inert.contains(Status::Timeout));
            let kind = strategy.composition.breaker.kind_name();
            if matches!(
                kind,
                "envoy" | "resilience4j" | "hystrix" | "litellm" | "kong"
            ) {
                assert!(strategy.inert.is_empty(), "{kind}");
            }
        }
    }
}
