//! The committed baselines (`results/baselines/*.json`) still hold: every shipped scenario
//! that has one is simulated and gated against it, so `cargo test` catches a change of a
//! strategy's behaviour as the CI gate does. After a deliberate change, re-record with
//! `throttlebox sim scenarios/X.toml --results target/ci-results --run X --force &&
//! throttlebox gate target/ci-results/X --update-baseline results/baselines/X.json`.

use std::path::Path;

use throttlebox::gate::{Baseline, judge};
use throttlebox::scenario::Scenario;
use throttlebox::sim::run_all;

#[test]
fn shipped_scenarios_meet_their_committed_baselines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut entries: Vec<_> = std::fs::read_dir(root.join("results/baselines"))
        .expect("results/baselines/ is committed")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    entries.sort();
    assert!(
        entries
            .iter()
            .any(|path| path.ends_with("ptu-payg-pool.json")),
        "the embedded default needs a baseline"
    );
    for path in entries {
        let baseline = Baseline::load(&path).unwrap();
        let scenario_file = root
            .join("scenarios")
            .join(format!("{}.toml", baseline.scenario));
        let scenario = Scenario::load(&scenario_file, &[]).unwrap();
        let run = run_all(&scenario, None, 2, "test", &|_| {}).unwrap();
        let budgets = baseline.budgets(&path, &[]).unwrap();
        let verdict = judge(&[run.summary], &baseline, &budgets, 0.05).unwrap();
        let failures: Vec<String> = verdict
            .failures()
            .map(|case| format!("{} / {}: {}", case.strategy, case.rule, case.message))
            .collect();
        assert!(
            failures.is_empty(),
            "{} no longer meets {}:\n{}",
            scenario_file.display(),
            path.display(),
            failures.join("\n")
        );
    }
}
