//! Helpers shared by the live tests: loading scenarios with overrides, keeping only some
//! strategies, and running the live head-to-head on loopback without progress output.
#![allow(dead_code)]

use std::path::Path;

use throttlebox::live::head_to_head::{LiveRun, LiveRunOptions, run_live};
use throttlebox::live::load::LoadOptions;
use throttlebox::scenario::{Override, Scenario};

/// Load a shipped scenario with `--set`-style overrides, keeping only the named strategies.
pub fn shipped(file: &str, sets: &[&str], keep: &[&str]) -> Scenario {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).expect("override"))
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let mut scenario = Scenario::load(&path, &overrides).expect("scenario loads");
    keep_strategies(&mut scenario, keep);
    scenario
}

/// Parse an inline scenario.
pub fn inline(text: &str) -> Scenario {
    Scenario::parse(text, "<test>", None, &[]).expect("scenario parses")
}

/// Keep only the named strategies, in the given order.
pub fn keep_strategies(scenario: &mut Scenario, keep: &[&str]) {
    if keep.is_empty() {
        return;
    }
    let all = std::mem::take(&mut scenario.strategies);
    scenario.strategies = keep
        .iter()
        .map(|name| {
            all.iter()
                .find(|s| s.config.name == *name)
                .cloned()
                .unwrap_or_else(|| panic!("no strategy {name}"))
        })
        .collect();
}

/// Run every strategy of `scenario` live (in-process fleet + gateway), time-compressed.
pub fn run(scenario: &Scenario, time_scale: f64) -> LiveRun {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let options = LiveRunOptions {
        time_scale,
        load: LoadOptions::default(),
        ..LiveRunOptions::default()
    };
    runtime.block_on(async {
        let (_keep_open, stop) = tokio::sync::watch::channel(false);
        run_live(scenario, None, &options, "test", stop)
            .await
            .expect("live run")
    })
}

/// Runs whose latencies are compared with the simulator's take turns: the live agreement runs
/// (time-compressed, so every millisecond of CPU starvation is magnified) and the conformance
/// lab's real balancers (LiteLLM's proxy alone takes a good share of a core) would stretch each
/// other's latencies on a 2-core machine.
pub static TIMED_RUNS_ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
