//! Cost of one request through a strategy's driver loop (pick + response + completion) over
//! eight backends, one bench per preset. Every 64th response is a 429 with Retry-After 1 s so
//! breakers and retry loops do real work. Run: `cargo bench -p throttlebox --bench balance`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::Rng;
use throttlebox::balance::{
    BackendSpec, Completion, Observation, Preset, RequestInfo, Step, Strategy, StrategyConfig,
    Verdict, session_hash,
};
use throttlebox::seed;

fn backends() -> Vec<BackendSpec> {
    [1, 1, 1, 2, 3, 3, 3, 4]
        .iter()
        .enumerate()
        .map(|(i, priority)| {
            BackendSpec::named(format!("b{i}"))
                .with_priority(*priority)
                .with_weight(1 + i as u32 % 3)
                .with_limits(Some(10_000_000), Some(1_000_000))
        })
        .collect()
}

fn one_request(strategy: &mut Strategy, now: Duration, counter: u64, rng: &mut seed::SimRng) {
    let info = RequestInfo {
        est_tokens: 500,
        session: Some(session_hash(if counter % 2 == 0 {
            "session-a"
        } else {
            "session-b"
        })),
        stream: counter % 2 == 0,
    };
    let mut attempt = strategy.begin(now, &info);
    let mut now = now;
    for _ in 0..16 {
        match strategy.next(now, &mut attempt, rng) {
            Step::Send(backend) => {
                let observation = if counter % 64 == 0 {
                    Observation::http(429).with_retry_after_secs(1)
                } else {
                    Observation::http(200).with_remaining(Some(900), Some(9_000_000))
                };
                if strategy.on_response(now, &mut attempt, backend, &observation, rng)
                    == Verdict::Return
                {
                    let completion = Completion {
                        latency: Duration::from_millis(800 + counter % 400),
                        ttft: Some(Duration::from_millis(200 + counter % 100)),
                        prompt_tokens: 300,
                        completion_tokens: 200,
                        stream: info.stream,
                    };
                    strategy.on_complete(now, backend, &completion);
                    return;
                }
            }
            Step::WaitUntil(t) => now = t,
            Step::Respond(answer) => {
                black_box(answer);
                return;
            }
        }
    }
}

fn bench_presets(c: &mut Criterion) {
    let specs = backends();
    let mut group = c.benchmark_group("balance");
    // Same-run reference: the cost of one RNG draw and a modulo on this machine, so figures
    // from noisy runs can be compared as ratios.
    let mut reference_rng = seed::stream(2, "reference");
    group.bench_function("reference: one PCG draw", |b| {
        b.iter(|| black_box(reference_rng.random::<u64>() % 8))
    });
    for preset in Preset::ALL {
        let cfg = StrategyConfig::preset(preset.name(), preset);
        let mut strategy = Strategy::new(&cfg, &specs).expect("preset builds");
        let mut rng = seed::stream(1, "bench");
        let mut counter = 0u64;
        group.bench_function(preset.name(), |b| {
            b.iter(|| {
                counter += 1;
                let now = Duration::from_micros(counter * 1000);
                one_request(&mut strategy, now, counter, &mut rng);
                if counter % 4096 == 0 {
                    black_box(strategy.drain_transitions());
                }
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(30);
    targets = bench_presets
}
criterion_main!(benches);
