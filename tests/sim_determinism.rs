//! Same scenario + same seed = byte-identical outputs; changing only the strategy leaves the
//! arrival sequence identical (common random numbers); another seed changes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use throttlebox::report::RunDir;
use throttlebox::scenario::{Override, Scenario};
use throttlebox::sim::run_all;

fn run_into(name: &str, overrides: &[Override], jobs: usize) -> PathBuf {
    let results = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sim-determinism");
    let _ = std::fs::remove_dir_all(results.join(name));
    let dir = RunDir::create(&results, name).expect("run dir");
    let scenario = Scenario::embedded_default(overrides).expect("default scenario loads");
    run_all(&scenario, Some(&dir), jobs, "throttlebox sim", &|_| {}).expect("simulation runs");
    dir.path().to_path_buf()
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|error| panic!("{file}: {error}"))
}

#[test]
fn same_seed_gives_byte_identical_outputs_whatever_the_thread_count() {
    let first = run_into("a", &[], 2);
    let second = run_into("b", &[], 1);
    for file in [
        "summary.json",
        "requests.csv",
        "attempts.csv",
        "timeseries.csv",
        "report.md",
        "report.html",
        "histograms/apim-pool__seed_JSON.hlog",
        "histograms/round-robin.hlog",
    ] {
        assert!(
            read(&first, file) == read(&second, file),
            "{file} differs between two runs of the same seed"
        );
    }
    assert!(
        read(&first, "requests.csv").len() > 1000,
        "the run produced records"
    );
}

/// (intended start, prompt tokens, stream) per request id, for each strategy.
fn arrivals(dir: &Path) -> BTreeMap<String, BTreeMap<u64, (String, String, String)>> {
    let mut reader = csv::Reader::from_path(dir.join("requests.csv")).expect("requests.csv");
    let headers = reader.headers().expect("header").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (strategy, id, start, prompt, stream) = (
        column("strategy"),
        column("request_id"),
        column("intended_start_s"),
        column("prompt_tokens"),
        column("stream"),
    );
    let mut out: BTreeMap<String, BTreeMap<u64, (String, String, String)>> = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        out.entry(row[strategy].to_string()).or_default().insert(
            row[id].parse().expect("id"),
            (
                row[start].to_string(),
                row[prompt].to_string(),
                row[stream].to_string(),
            ),
        );
    }
    out
}

#[test]
fn changing_only_the_strategy_leaves_the_arrivals_identical() {
    let dir = run_into("crn", &[], 2);
    let per_strategy = arrivals(&dir);
    assert!(
        per_strategy.len() >= 2,
        "the default scenario compares several strategies"
    );
    let mut strategies = per_strategy.values();
    let reference = strategies.next().expect("one strategy");
    assert!(reference.len() > 1000);
    for other in strategies {
        assert_eq!(other, reference);
    }
}

#[test]
fn another_seed_changes_the_arrivals() {
    let seven = run_into("seed7", &[Override::parse("seed=7").expect("override")], 2);
    let default = run_into("seed-default", &[], 2);
    let first = |dir: &Path| arrivals(dir).into_values().next().expect("a strategy");
    assert_ne!(first(&seven), first(&default));
}

/// A run without a folder records summaries only (sweep, tune and plan cells): its summaries
/// must be exactly those of the full recording a run folder gets, for every strategy, and it
/// carries no series or histograms to be mistaken for real ones.
#[test]
fn a_summary_only_run_summarises_exactly_as_a_full_one() {
    let results = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sim-determinism");
    let _ = std::fs::remove_dir_all(results.join("full"));
    let dir = RunDir::create(&results, "full").expect("run dir");
    let scenario = Scenario::embedded_default(&[]).expect("default scenario loads");
    let full = run_all(&scenario, Some(&dir), 2, "test", &|_| {}).expect("full run");
    let lean = run_all(&scenario, None, 2, "test", &|_| {}).expect("summary-only run");
    assert!(
        full.summary.strategies.len() >= 2,
        "several strategies compared"
    );
    assert_eq!(full.summary.strategies, lean.summary.strategies);
    assert!(full.outcomes.iter().all(|o| o.recorded.is_some()));
    assert!(lean.outcomes.iter().all(|o| o.recorded.is_none()));
    for outcome in &lean.outcomes {
        let refused = outcome
            .recorded_in_full()
            .expect_err("nothing to write a folder from");
        assert!(refused.to_string().contains("summary only"), "{refused}");
    }
}
