//! Properties over random traffic: no selector returns a backend whose breaker is open while
//! another is eligible (except the smart policy's documented "backend 0" fallback and Envoy's
//! panic mode), weighted selection converges to its weights, and the same seed replays the
//! same picks and breaker timeline.

use crate::balance_support;

use std::time::Duration;

use balance_support::*;
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use throttlebox::balance::{
    BackendSpec, BackendState, Observation, Preset, RequestInfo, Step, Strategy, StrategyConfig,
    Transition, Verdict, session_hash,
};
use throttlebox::seed;

/// One scripted request: time step, and per backend the status and Retry-After it answers.
#[derive(Debug, Clone)]
struct Scripted {
    dt_ms: u64,
    statuses: Vec<(u16, Option<u64>)>,
    tokens: u64,
}

fn status_strategy() -> impl proptest::strategy::Strategy<Value = (u16, Option<u64>)> {
    (
        prop_oneof![4 => Just(200u16), 2 => Just(429), 1 => Just(500), 1 => Just(503), 1 => Just(408)],
        prop_oneof![Just(None), (0u64..20).prop_map(Some)],
    )
}

fn script(n: usize) -> impl proptest::strategy::Strategy<Value = Vec<Scripted>> {
    prop::collection::vec(
        (
            0u64..3000,
            prop::collection::vec(status_strategy(), n),
            0u64..5000,
        )
            .prop_map(|(dt_ms, statuses, tokens)| Scripted {
                dt_ms,
                statuses,
                tokens,
            }),
        1..60,
    )
}

fn build(preset: Preset, backends: &[BackendSpec]) -> Strategy {
    let mut cfg = StrategyConfig::preset(preset.name(), preset);
    if preset == Preset::EnvoyLeastRequest {
        cfg.panic_threshold = Some(0);
    }
    Strategy::new(&cfg, backends).unwrap()
}

/// Drives the script; `check` sees every Send with the states at that instant.
fn drive(
    strategy: &mut Strategy,
    requests: &[Scripted],
    seed_value: u64,
    mut check: impl FnMut(usize, &[BackendState]),
) -> (Vec<usize>, Vec<Transition>) {
    let mut rng = seed::stream(seed_value, "strategy");
    let mut now = Duration::ZERO;
    let mut picks = Vec::new();
    let key = "session";
    for (index, request) in requests.iter().enumerate() {
        now += Duration::from_millis(request.dt_ms);
        let info = RequestInfo {
            est_tokens: request.tokens,
            session: (index % 2 == 0).then(|| session_hash(key)),
            stream: index % 3 == 0,
        };
        let mut attempt = strategy.begin(now, &info);
        for _ in 0..200 {
            match strategy.next(now, &mut attempt, &mut rng) {
                Step::Send(backend) => {
                    check(backend, &strategy.backend_states(now));
                    picks.push(backend);
                    let (status, retry_after) = request.statuses[backend];
                    let mut observation =
                        Observation::http(status).with_remaining(Some(100), Some(50_000));
                    if let Some(seconds) = retry_after {
                        observation = observation.with_retry_after_secs(seconds);
                    }
                    if strategy.on_response(now, &mut attempt, backend, &observation, &mut rng)
                        == Verdict::Return
                    {
                        let completion = throttlebox::balance::Completion {
                            latency: Duration::from_millis(200 + request.dt_ms % 700),
                            ttft: Some(Duration::from_millis(50)),
                            prompt_tokens: request.tokens / 2,
                            completion_tokens: request.tokens / 4,
                            stream: info.stream,
                        };
                        strategy.on_complete(now, backend, &completion);
                        break;
                    }
                }
                Step::WaitUntil(t) => now = t,
                Step::Respond(_) => break,
            }
        }
    }
    (picks, strategy.drain_transitions())
}

fn backends(priorities: &[u32]) -> Vec<BackendSpec> {
    priorities
        .iter()
        .enumerate()
        .map(|(i, p)| {
            BackendSpec::named(format!("b{i}"))
                .with_priority(*p)
                .with_weight(1 + i as u32 % 3)
                .with_limits(Some(60_000), Some(600))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_open_backend_is_picked_while_another_is_eligible(
        priorities in prop::collection::vec(1u32..4, 1..8),
        seed_value in any::<u64>(),
        preset_index in 0usize..Preset::ALL.len(),
        requests in script(8),
    ) {
        let preset = Preset::ALL[preset_index];
        let specs = backends(&priorities);
        let requests: Vec<Scripted> = requests
            .into_iter()
            .map(|mut r| { r.statuses.truncate(specs.len()); r })
            .collect();
        let mut strategy = build(preset, &specs);
        let mut violation = None;
        drive(&mut strategy, &requests, seed_value, |backend, states| {
            let open = |s: &BackendState| matches!(s, BackendState::Open { .. });
            if !open(&states[backend]) {
                return;
            }
            let all_open = states.iter().all(open);
            let documented = preset == Preset::ApimSmartPolicy && all_open && backend == 0;
            if !documented && violation.is_none() {
                violation = Some((backend, states.to_vec()));
            }
        });
        prop_assert!(violation.is_none(), "{}: {:?}", preset.name(), violation);
    }

    #[test]
    fn same_seed_same_picks_and_timeline(
        priorities in prop::collection::vec(1u32..3, 1..6),
        seed_value in any::<u64>(),
        preset_index in 0usize..Preset::ALL.len(),
        requests in script(6),
    ) {
        let preset = Preset::ALL[preset_index];
        let specs = backends(&priorities);
        let requests: Vec<Scripted> = requests
            .into_iter()
            .map(|mut r| { r.statuses.truncate(specs.len()); r })
            .collect();
        let first = drive(&mut build(preset, &specs), &requests, seed_value, |_, _| {});
        let second = drive(&mut build(preset, &specs), &requests, seed_value, |_, _| {});
        prop_assert_eq!(first, second);
    }

    #[test]
    fn smooth_weighted_round_robin_hits_its_weights_exactly(weights in prop::collection::vec(1u32..10, 1..7), rounds in 1u32..5) {
        let specs: Vec<BackendSpec> = weights.iter().enumerate().map(|(i, w)| BackendSpec::named(format!("b{i}")).with_weight(*w)).collect();
        let mut strategy = from_toml("name = \"w\"\npreset = \"round-robin\"\nselector = { kind = \"smooth-weighted\" }", &specs);
        let mut rng = rng();
        let total: u32 = weights.iter().sum::<u32>() * rounds;
        let mut counts = vec![0u32; weights.len()];
        for i in 0..total {
            counts[run(&mut strategy, secs(f64::from(i)), &mut rng, ok).backend().unwrap()] += 1;
        }
        let expected: Vec<u32> = weights.iter().map(|w| w * rounds).collect();
        prop_assert_eq!(counts, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn weighted_random_converges_to_its_weights(weights in prop::collection::vec(1u32..10, 2..6), seed_value in any::<u64>()) {
        let specs: Vec<BackendSpec> = weights.iter().enumerate().map(|(i, w)| BackendSpec::named(format!("b{i}")).with_weight(*w)).collect();
        let mut strategy = from_toml("name = \"w\"\npreset = \"apim-pool\"\nselector = { weighted = \"random\" }", &specs);
        let mut rng = seed::stream(seed_value, "weights");
        let draws = 20_000u32;
        let mut counts = vec![0u32; weights.len()];
        for i in 0..draws {
            counts[run(&mut strategy, secs(f64::from(i)), &mut rng, ok).backend().unwrap()] += 1;
        }
        let total: u32 = weights.iter().sum();
        for (count, weight) in counts.iter().zip(&weights) {
            let share = f64::from(*count) / f64::from(draws);
            let expected = f64::from(*weight) / f64::from(total);
            prop_assert!((share - expected).abs() < 0.02, "{share} vs {expected} ({counts:?}, {weights:?})");
        }
    }
}
