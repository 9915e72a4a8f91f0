//! Golden files of `summary.json` and `report.md` for a small fixed-seed scenario run end to
//! end through the simulator (`run_all`), so any change to the simulated numbers or to the
//! writers shows up as a reviewable diff.
//!
//! Rewrite them deliberately with `UPDATE_GOLDEN=1 cargo test --test report_sim_golden` and
//! review the diff.

use std::fs;
use std::path::{Path, PathBuf};

use throttlebox::report::RunDir;
use throttlebox::scenario::Scenario;
use throttlebox::sim::run_all;

const SCENARIO: &str = "tests/fixtures/report-golden-small.toml";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(name: &str) -> PathBuf {
    let results = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-sim-golden");
    let _ = fs::remove_dir_all(results.join(name));
    let dir = RunDir::create(&results, name).expect("run dir");
    let scenario = Scenario::load(&manifest().join(SCENARIO), &[]).expect("fixture scenario loads");
    run_all(
        &scenario,
        Some(&dir),
        2,
        &format!("throttlebox sim {SCENARIO}"),
        &|_| {},
    )
    .expect("simulation runs");
    dir.path().to_path_buf()
}

fn check_golden(run_dir: &Path, file: &str) {
    let actual = fs::read_to_string(run_dir.join(file)).expect("run output");
    let golden = manifest().join("tests/golden/sim-small").join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|value| value == "1") {
        fs::write(&golden, &actual).expect("write golden file");
        return;
    }
    let expected = fs::read_to_string(&golden).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; run with UPDATE_GOLDEN=1 to create it",
            golden.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the run's {file} from line {} on (UPDATE_GOLDEN=1 rewrites it)\n\
             golden: {:?}\nactual: {:?}",
            golden.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

#[test]
fn summary_json_and_report_md_of_the_fixture_scenario_match_the_golden_files() {
    let dir = run("golden");
    check_golden(&dir, "summary.json");
    check_golden(&dir, "report.md");
}

#[test]
fn the_fixture_scenario_exercises_what_the_report_shows() {
    // Guard against a fixture that drifts into a run where nothing interesting happens
    // (then the golden files would not cover 429s, trips or SLO failures).
    let dir = run("coverage");
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("summary.json")).expect("summary"))
            .expect("json");
    let strategies = summary["strategies"].as_array().expect("strategies");
    assert_eq!(strategies.len(), 3);
    let throttled: u64 = strategies
        .iter()
        .flat_map(|s| s["backends"].as_array().expect("backends"))
        .map(|b| b["throttled"].as_u64().expect("throttled"))
        .sum();
    let trips: u64 = strategies
        .iter()
        .flat_map(|s| s["backends"].as_array().expect("backends"))
        .map(|b| b["breaker_trips"].as_u64().expect("trips"))
        .sum();
    assert!(throttled > 0, "no 429s in the fixture run");
    assert!(trips > 0, "no breaker trips in the fixture run");
    assert!(
        strategies.iter().any(|s| s["slo_pass"] == false),
        "no SLO failure in the fixture run"
    );
}
